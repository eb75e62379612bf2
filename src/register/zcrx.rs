//! Zero-copy receive queues (`IORING_REGISTER_ZCRX_IFQ`, 6.15) and their
//! control (`IORING_REGISTER_ZCRX_CTRL`, 6.19), plus the BPF filter op
//! (`IORING_REGISTER_BPF_FILTER`, 7.0) whose argument layout is not settled
//! in the headers we build against, so it is passed through raw.

use core::ffi::c_void;
use core::ptr;

use rustix::io::Result;

use crate::sys;
use crate::types::{io_uring_zcrx_ifq_reg, ZcrxCtrl};
use crate::Submitter;

impl Submitter<'_> {
    /// Registers a zero-copy receive interface queue
    /// (`IORING_REGISTER_ZCRX_IFQ`, 6.15; no man page; kernel:
    /// `io_uring/zcrx.c`). The ring must be set up with
    /// `DEFER_TASKRUN` and 32-byte CQEs; the NIC needs header split and
    /// flow steering, and the caller `CAP_NET_ADMIN`. The kernel writes back
    /// `offsets` and `zcrx_id`, hence `&mut`.
    ///
    /// # Safety
    /// `reg.area_ptr` and `reg.region_ptr` must point to a valid
    /// `io_uring_zcrx_area_reg` and `io_uring_region_desc`; the area's
    /// memory (and caller-provided refill-queue memory) is written by the
    /// device and kernel for as long as the ring lives, so it must stay
    /// valid and must not be used otherwise except through the zcrx protocol.
    /// (io-uring 0.7.14 has this as a safe fn; it hands memory to DMA.)
    pub unsafe fn register_ifq(&self, reg: &mut io_uring_zcrx_ifq_reg) -> Result<()> {
        // SAFETY: (S1, S2) `reg` is a valid, writable ifq_reg; what it points to is
        // the caller's promise.
        unsafe { self.register_raw(sys::REGISTER_ZCRX_IFQ, ptr::from_mut(reg).cast_const().cast(), 1) }?;
        Ok(())
    }

    /// Runs a zcrx control op (`IORING_REGISTER_ZCRX_CTRL`, 6.19; `EINVAL`
    /// before; no man page; kernel: `io_uring/zcrx.c`): flush the refill
    /// queue, or export the instance as an fd (written back into `ctrl`).
    pub fn register_zcrx_ctrl(&self, ctrl: &mut ZcrxCtrl) -> Result<u32> {
        // SAFETY: (S1) `ctrl` is a valid, writable zcrx_ctrl and names no
        // memory; nr_args is 0 as the kernel wants.
        unsafe { self.register_raw(sys::REGISTER_ZCRX_CTRL, ptr::from_mut(ctrl).cast_const().cast(), 0) }
    }

    /// Attaches BPF filters to this ring (`IORING_REGISTER_BPF_FILTER`, 7.0;
    /// `EINVAL` before; no man page; kernel: `include/uapi/linux/io_uring.h`).
    /// The descriptor is passed as is.
    ///
    /// # Safety
    /// `filter` must point to what the running kernel's
    /// `IORING_REGISTER_BPF_FILTER` reads, `nr` entries of it.
    pub unsafe fn register_bpf_filter(&self, filter: *const c_void, nr: u32) -> Result<u32> {
        // SAFETY: (S1, S2) forwarded from the caller.
        unsafe { self.register_raw(sys::REGISTER_BPF_FILTER, filter, nr) }
    }
}

/// Attaches BPF filters to every ring of the calling task
/// (`IORING_REGISTER_BPF_FILTER` on fd -1, 7.0; `EINVAL` before; no man
/// page; kernel: `include/uapi/linux/io_uring.h`).
///
/// # Safety
/// As for [`Submitter::register_bpf_filter`].
pub unsafe fn register_task_bpf_filter(filter: *const c_void, nr: u32) -> Result<u32> {
    // SAFETY: (S1, S2) forwarded from the caller; fd -1 is the task-wide form.
    unsafe { sys::syscall::register(-1, sys::REGISTER_BPF_FILTER, filter, nr) }
}
