//! Completion notification through an eventfd (`io_uring_register_eventfd(3)`).

use core::ptr;

use rustix::fd::RawFd;
use rustix::io::Result;

use crate::submit::RingHandle;
use crate::sys;
use crate::Submitter;

impl<H: RingHandle> Submitter<'_, H> {
    /// Makes the kernel signal `eventfd` whenever it posts a completion
    /// (`IORING_REGISTER_EVENTFD`, 5.2; `io_uring_register_eventfd(3)`). Pause it with
    /// [`CompletionQueue::set_eventfd_disabled`](crate::CompletionQueue::set_eventfd_disabled).
    pub fn register_eventfd(&self, eventfd: RawFd) -> Result<()> {
        self.register_eventfd_op(sys::REGISTER_EVENTFD, eventfd)
    }

    /// Like [`register_eventfd`](Self::register_eventfd), but signals only
    /// for completions that did not finish inline at submission
    /// (`IORING_REGISTER_EVENTFD_ASYNC`, 5.6; `io_uring_register_eventfd_async(3)`).
    pub fn register_eventfd_async(&self, eventfd: RawFd) -> Result<()> {
        self.register_eventfd_op(sys::REGISTER_EVENTFD_ASYNC, eventfd)
    }

    /// Stops signalling the registered eventfd (`IORING_UNREGISTER_EVENTFD`, 5.2;
    /// `io_uring_unregister_eventfd(3)`).
    pub fn unregister_eventfd(&self) -> Result<()> {
        // SAFETY: (S1) no argument.
        unsafe { self.register_raw(sys::UNREGISTER_EVENTFD, ptr::null(), 0) }?;
        Ok(())
    }

    fn register_eventfd_op(&self, opcode: u32, eventfd: RawFd) -> Result<()> {
        // SAFETY: (S1) the kernel reads one i32 from `arg`.
        unsafe { self.register_raw(opcode, ptr::from_ref(&eventfd).cast(), 1) }?;
        Ok(())
    }
}
