//! The clock that waits with a timeout count on
//! (`IORING_REGISTER_CLOCK`, 6.12).

use core::ptr;

use rustix::io::Result;
use rustix::io_uring::ClockId;

use crate::submit::RingHandle;
use crate::sys::{self, ClockRegister};
use crate::Submitter;

impl<H: RingHandle> Submitter<'_, H> {
    /// Makes timeouts of [`submit_with_args`](Self::submit_with_args) (and
    /// absolute ones, `EnterFlags::ABS_TIMER`) count on `clock`:
    /// `Monotonic` (the default) or `Boottime`; other clocks give `EINVAL`
    /// (`IORING_REGISTER_CLOCK`, 6.12; no man page; kernel: `io_uring/register.c`).
    pub fn register_clock(&self, clock: ClockId) -> Result<()> {
        let reg = ClockRegister { clockid: clock as i32 as u32, resv: [0; 3] };
        // SAFETY: (S1) `reg` is a valid io_uring_clock_register; the kernel wants
        // nr_args 0 (KERNEL-ABI.md table (b)).
        unsafe { self.register_raw(sys::REGISTER_CLOCK, ptr::from_ref(&reg).cast(), 0) }?;
        Ok(())
    }
}
