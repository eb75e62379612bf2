//! [`Timespec`]: the kernel's `__kernel_timespec`.

use crate::sys::KernelTimespec;
use core::time::Duration;

/// A duration or point in time as the kernel reads it (`__kernel_timespec`),
/// for timeouts and waits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct Timespec(pub(crate) KernelTimespec);

impl Timespec {
    /// Zero.
    #[inline]
    pub const fn new() -> Self {
        Timespec(KernelTimespec { tv_sec: 0, tv_nsec: 0 })
    }

    /// Sets the seconds (saturating at `i64::MAX`).
    #[inline]
    pub const fn sec(mut self, sec: u64) -> Self {
        self.0.tv_sec = if sec > i64::MAX as u64 { i64::MAX } else { sec as i64 };
        self
    }

    /// Sets the nanoseconds (timeouts take a second or more as it is:
    /// 1.5e9 ns counts as 1.5 s).
    #[inline]
    pub const fn nsec(mut self, nsec: u32) -> Self {
        self.0.tv_nsec = nsec as i64;
        self
    }
}

impl From<Duration> for Timespec {
    #[inline]
    fn from(value: Duration) -> Self {
        Timespec::new().sec(value.as_secs()).nsec(value.subsec_nanos())
    }
}
