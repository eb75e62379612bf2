//! Synchronous cancellation: cancel in-flight operations and wait until
//! they are gone (`io_uring_register_sync_cancel(3)`).

use core::ptr;

use rustix::io::Result;

use crate::submit::RingHandle;
use crate::sys::{self, KernelTimespec, SyncCancelReg};
use crate::types::{CancelBuilder, Timespec};
use crate::Submitter;

impl<H: RingHandle> Submitter<'_, H> {
    /// Cancels what `builder` selects and waits for the cancellations to
    /// finish, at most `timeout` (`None` waits as long as it takes)
    /// (`IORING_REGISTER_SYNC_CANCEL`, 6.0; `io_uring_register_sync_cancel(3)`).
    /// Cancelling by opcode ([`CancelBuilder::opcode`]) needs 6.6.
    ///
    /// `ENOENT` when nothing matched, `ETIME` when the timeout expired.
    /// The cancelled operations still post their own completions.
    pub fn register_sync_cancel(&self, timeout: Option<Timespec>, builder: CancelBuilder) -> Result<()> {
        let timeout = match timeout {
            Some(t) => t.0,
            None => KernelTimespec { tv_sec: -1, tv_nsec: -1 },
        };
        let reg = SyncCancelReg {
            addr: builder.user_data,
            fd: builder.raw_fd(),
            flags: builder.flags,
            timeout,
            opcode: builder.opcode,
            ..SyncCancelReg::default()
        };
        // SAFETY: (S1) `reg` is a valid io_uring_sync_cancel_reg; nr_args is 1.
        unsafe { self.register_raw(sys::REGISTER_SYNC_CANCEL, ptr::from_ref(&reg).cast(), 1) }?;
        Ok(())
    }
}
