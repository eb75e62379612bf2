//! [`Fd`] and [`Fixed`]: the two ways an operation names a file.

use rustix::fd::RawFd;

/// A plain file descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Fd(pub RawFd);

/// An index into the ring's registered-file table (`IOSQE_FIXED_FILE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Fixed(pub u32);

pub(crate) mod sealed {
    use super::{Fd, Fixed};

    /// Where an operation's file comes from, as encoded in the SQE.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Target {
        /// `sqe.fd` is a file descriptor.
        Fd(i32),
        /// `sqe.fd` is a registered-file index; `IOSQE_FIXED_FILE` is set.
        Fixed(u32),
    }

    /// Accepted where an operation takes a plain fd or a registered file
    /// ([`Fd`] or [`Fixed`]).
    pub trait UseFixed: Sized {
        /// The SQE encoding of this file.
        fn into_target(self) -> Target;
    }

    /// Accepted where an operation takes only a plain fd ([`Fd`]), such as
    /// the directory of a path lookup.
    pub trait UseFd: Sized {
        /// The raw fd.
        fn into_raw(self) -> i32;
    }

    impl UseFd for Fd {
        #[inline]
        fn into_raw(self) -> i32 {
            self.0
        }
    }

    impl UseFixed for Fd {
        #[inline]
        fn into_target(self) -> Target {
            Target::Fd(self.0)
        }
    }

    impl UseFixed for Fixed {
        #[inline]
        fn into_target(self) -> Target {
            Target::Fixed(self.0)
        }
    }
}
