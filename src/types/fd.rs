//! [`Fd`] and [`Fixed`]: the two ways an operation names a file.

use rustix::fd::RawFd;

#[cfg(doc)]
use sealed::{UseFd, UseFixed};

/// A plain file descriptor.
///
/// Accepted wherever a builder takes [`impl UseFixed`](UseFixed) or
/// [`impl UseFd`](UseFd).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Fd(pub RawFd);

/// An index into the ring's registered-file table (`IOSQE_FIXED_FILE`).
///
/// Accepted wherever a builder takes [`impl UseFixed`](UseFixed).
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

    /// Accepted where an operation takes a plain fd or a registered file.
    ///
    /// Implemented by [`Fd`] (a file descriptor), [`Fixed`] (an index
    /// into the ring's registered files, sent with `IOSQE_FIXED_FILE`) and
    /// the owned layer's [`Resolved`](crate::owned::Resolved) (one of the
    /// two, checked against its driver). The trait is sealed: other crates cannot
    /// implement it (its method returns a type only this crate can name),
    /// so the SQE encoding stays this crate's.
    pub trait UseFixed: Sized {
        /// The SQE encoding of this file (internal: `Target` cannot be
        /// named outside the crate, which is what seals the trait).
        #[doc(hidden)]
        fn into_target(self) -> Target;
    }

    /// Accepted where an operation takes only a plain fd, such as the
    /// directory of a path lookup.
    ///
    /// Implemented by [`Fd`] alone; sealed like [`UseFixed`].
    pub trait UseFd: Sized {
        /// The raw fd (internal).
        #[doc(hidden)]
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
