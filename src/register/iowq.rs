//! The io-wq worker pool behind blocking operations: CPU affinity and
//! worker limits (`io_uring_register_iowq_aff(3)`,
//! `io_uring_register_iowq_max_workers(3)`).

use core::mem::size_of;
use core::ptr;

use rustix::io::Result;
use rustix::thread::CpuSet;

use crate::submit::RingHandle;
use crate::sys;
use crate::Submitter;

impl<H: RingHandle> Submitter<'_, H> {
    /// Pins the ring's io-wq workers to `cpu_set`
    /// (`IORING_REGISTER_IOWQ_AFF`, 5.14; `io_uring_register_iowq_aff(3)`).
    pub fn register_iowq_aff(&self, cpu_set: &CpuSet) -> Result<()> {
        // SAFETY: (S1) the kernel reads nr_args bytes of CPU mask from `cpu_set`.
        unsafe {
            self.register_raw(sys::REGISTER_IOWQ_AFF, ptr::from_ref(cpu_set).cast(), size_of::<CpuSet>() as u32)
        }?;
        Ok(())
    }

    /// Lets io-wq workers run on any CPU again (`IORING_UNREGISTER_IOWQ_AFF`,
    /// 5.14; `io_uring_unregister_iowq_aff(3)`).
    pub fn unregister_iowq_aff(&self) -> Result<()> {
        // SAFETY: (S1) no argument.
        unsafe { self.register_raw(sys::UNREGISTER_IOWQ_AFF, ptr::null(), 0) }?;
        Ok(())
    }

    /// Sets the most io-wq workers `[bounded, unbounded]` (0 keeps a
    /// limit) and writes the previous limits back into `max`
    /// (`IORING_REGISTER_IOWQ_MAX_WORKERS`, 5.15;
    /// `io_uring_register_iowq_max_workers(3)`).
    pub fn register_iowq_max_workers(&self, max: &mut [u32; 2]) -> Result<()> {
        // SAFETY: (S1) the kernel reads and writes two u32s at `max`.
        unsafe { self.register_raw(sys::REGISTER_IOWQ_MAX_WORKERS, max.as_mut_ptr().cast_const().cast(), 2) }?;
        Ok(())
    }
}
