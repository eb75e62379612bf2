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
