//! [`FutexWaitV`]: one futex of a FUTEX_WAITV operation.

use core::ffi::c_void;

use rustix::io_uring::FutexWaitFlags;

use crate::sys::RawFutexWaitv;

/// One entry of the futex vector that
/// [`FutexWaitV`](crate::opcode::FutexWaitV) waits on (`struct futex_waitv`,
/// `futex_waitv(2)`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct FutexWaitV(pub(crate) RawFutexWaitv);

impl FutexWaitV {
    /// All zero.
    #[inline]
    pub const fn new() -> Self {
        FutexWaitV(RawFutexWaitv { val: 0, uaddr: 0, flags: 0, reserved: 0 })
    }

    /// The value the futex must still hold for the wait to sleep.
    #[inline]
    pub const fn val(mut self, val: u64) -> Self {
        self.0.val = val;
        self
    }

    /// The futex's address.
    #[inline]
    pub fn uaddr(mut self, uaddr: *mut c_void) -> Self {
        self.0.uaddr = uaddr as u64;
        self
    }

    /// `FUTEX2_*` size and flags (e.g. `SIZE_U32 | PRIVATE`).
    #[inline]
    pub const fn flags(mut self, flags: FutexWaitFlags) -> Self {
        self.0.flags = flags.bits();
        self
    }
}
