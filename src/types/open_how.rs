//! [`OpenHow`]: the `openat2(2)` parameter block.

use rustix::io_uring::{Mode, OFlags, ResolveFlags};

use crate::sys::RawOpenHow;

/// How OPENAT2 opens a file (`struct open_how`, `openat2(2)`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct OpenHow(pub(crate) RawOpenHow);

impl OpenHow {
    /// No flags, mode 0, no resolve restrictions.
    #[inline]
    pub const fn new() -> Self {
        OpenHow(RawOpenHow { flags: 0, mode: 0, resolve: 0 })
    }

    /// `O_*` flags.
    #[inline]
    pub const fn flags(mut self, flags: OFlags) -> Self {
        self.0.flags = flags.bits() as u64;
        self
    }

    /// Permission bits for a created file.
    #[inline]
    pub const fn mode(mut self, mode: Mode) -> Self {
        self.0.mode = mode.bits() as u64;
        self
    }

    /// `RESOLVE_*` restrictions on path lookup.
    #[inline]
    pub const fn resolve(mut self, resolve: ResolveFlags) -> Self {
        self.0.resolve = resolve.bits();
        self
    }
}
