//! [`Unavailable`]: why io_uring cannot be used here, when it cannot.

use rustix::io::Errno;

/// Why `io_uring_setup` refused to create any ring, in the cases where an
/// executor should fall back to another I/O model rather than retry.
///
/// ```
/// use urix::{IoUring, ring::Unavailable};
///
/// match IoUring::new(8) {
///     Ok(_ring) => { /* use io_uring */ }
///     Err(e) => match Unavailable::from_errno(e) {
///         Some(why) => eprintln!("falling back to blocking I/O: {why}"),
///         None => panic!("bad ring parameters: {e}"),
///     },
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unavailable {
    /// `ENOSYS`: the kernel was built without io_uring (`CONFIG_IO_URING=n`),
    /// is older than 5.1, or a seccomp filter answers ENOSYS for it.
    NotSupported,
    /// `EPERM`: io_uring is switched off by the `kernel.io_uring_disabled`
    /// sysctl (2 = for everyone, 1 = outside `kernel.io_uring_group`), or a
    /// seccomp or LSM policy forbids it (container runtimes often do).
    Disabled,
    /// `ENOMEM`: the kernel could not allocate or account the ring memory;
    /// a memory cgroup or (before 5.12) `RLIMIT_MEMLOCK` is too small.
    OutOfMemory,
}

impl Unavailable {
    /// Classifies an error from ring setup; `None` means the error is about
    /// the parameters (for example `EINVAL`), not about io_uring being
    /// unusable here.
    pub fn from_errno(err: Errno) -> Option<Unavailable> {
        match err {
            Errno::NOSYS => Some(Unavailable::NotSupported),
            Errno::PERM | Errno::ACCESS => Some(Unavailable::Disabled),
            Errno::NOMEM => Some(Unavailable::OutOfMemory),
            _ => None,
        }
    }
}

impl core::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Unavailable::NotSupported => "io_uring is not supported by this kernel (ENOSYS)",
            Unavailable::Disabled => "io_uring is disabled by sysctl or security policy (EPERM)",
            Unavailable::OutOfMemory => "io_uring ring memory could not be allocated (ENOMEM)",
        })
    }
}

impl core::error::Error for Unavailable {}
