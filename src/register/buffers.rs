//! Registered buffers ("fixed buffers"): memory the kernel pins once and
//! operations name by index (`io_uring_register_buffers(3)`).

use core::mem::size_of;
use core::ptr;

use rustix::io::Result;
use rustix::io_uring::iovec;

use crate::sys::{self, RsrcRegister};
use crate::Submitter;

impl Submitter<'_> {
    /// Registers `bufs` as the buffer table (`IORING_REGISTER_BUFFERS`, 5.1).
    ///
    /// # Safety
    /// Each buffer must stay valid (not freed, not unmapped) until it is
    /// unregistered or the ring is dropped: fixed reads and writes access it
    /// through the kernel's pinned pages.
    pub unsafe fn register_buffers(&self, bufs: &[iovec]) -> Result<()> {
        let nr = u32::try_from(bufs.len()).map_err(|_| rustix::io::Errno::INVAL)?;
        // SAFETY: the kernel reads `nr` iovecs; their memory is the caller's
        // promise.
        unsafe { self.register_raw(sys::REGISTER_BUFFERS, bufs.as_ptr().cast(), nr) }?;
        Ok(())
    }

    /// Registers a table of `nr` empty buffer slots
    /// (`IORING_REGISTER_BUFFERS2` with `IORING_RSRC_REGISTER_SPARSE`, 5.19).
    pub fn register_buffers_sparse(&self, nr: u32) -> Result<()> {
        let reg = RsrcRegister { nr, flags: sys::RSRC_REGISTER_SPARSE, ..Default::default() };
        // SAFETY: `reg` is a valid io_uring_rsrc_register; nr_args is its size.
        unsafe {
            self.register_raw(sys::REGISTER_BUFFERS2, ptr::from_ref(&reg).cast(), size_of::<RsrcRegister>() as u32)
        }?;
        Ok(())
    }

    /// Drops the buffer table (`IORING_UNREGISTER_BUFFERS`, 5.1).
    pub fn unregister_buffers(&self) -> Result<()> {
        // SAFETY: no argument.
        unsafe { self.register_raw(sys::UNREGISTER_BUFFERS, ptr::null(), 0) }?;
        Ok(())
    }
}
