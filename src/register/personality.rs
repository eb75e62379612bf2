//! Personalities: saved credentials that single operations run under
//! (`IORING_REGISTER_PERSONALITY`, 5.6; `io_uring_register(2)`).

use core::ptr;

use rustix::io::Result;

use crate::submit::RingHandle;
use crate::sys;
use crate::Submitter;

impl<H: RingHandle> Submitter<'_, H> {
    /// Saves the calling thread's current credentials and returns their id,
    /// for [`Entry::personality`](crate::squeue::Entry::personality)
    /// (`IORING_REGISTER_PERSONALITY`, 5.6; `io_uring_register(2)`).
    ///
    /// Returns the id (rustix-uring 0.6 discarded it, which made the call
    /// useless).
    pub fn register_personality(&self) -> Result<u16> {
        // SAFETY: (S1) no argument.
        let id = unsafe { self.register_raw(sys::REGISTER_PERSONALITY, ptr::null(), 0) }?;
        // The kernel allocates ids below 2^16 (they travel in a u16 field).
        u16::try_from(id).map_err(|_| rustix::io::Errno::OVERFLOW)
    }

    /// Forgets personality `personality` (`IORING_UNREGISTER_PERSONALITY`,
    /// 5.6; `io_uring_register(2)`).
    pub fn unregister_personality(&self, personality: u16) -> Result<()> {
        // SAFETY: (S1) no argument; the id travels in nr_args.
        unsafe { self.register_raw(sys::UNREGISTER_PERSONALITY, ptr::null(), u32::from(personality)) }?;
        Ok(())
    }
}
