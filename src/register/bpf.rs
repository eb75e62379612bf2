//! BPF filters on submissions (`IORING_REGISTER_BPF_FILTER`, 7.0): per ring,
//! or for every ring of the calling task and its future children (fd -1).
//! Filters can only be added, never removed: a task-wide one is for good.

use core::ptr;

use rustix::io::Result;

use crate::submit::RingHandle;
use crate::sys;
use crate::types::BpfFilter;
use crate::Submitter;

impl<H: RingHandle> Submitter<'_, H> {
    /// Adds `filter` to this ring (`IORING_REGISTER_BPF_FILTER`, 7.0;
    /// `EINVAL` before; no man page; kernel: `io_uring/bpf_filter.c`): every
    /// later submission of the filter's opcode runs its program, and one it
    /// returns 0 for completes with `-EACCES`. The kernel copies the
    /// program. With [`SZ_STRICT`](crate::types::BpfFilterFlags::SZ_STRICT)
    /// a wrong `pdu_size` gives `EMSGSIZE` and the kernel's size is written
    /// back ([`BpfFilter::kernel_pdu_size`]).
    pub fn register_bpf(&self, filter: &mut BpfFilter<'_>) -> Result<()> {
        // SAFETY: (S1) `filter` is a valid, writable io_uring_bpf whose program
        // pointer and length come from a borrowed slice that outlives it.
        unsafe { self.register_raw(sys::REGISTER_BPF_FILTER, ptr::from_mut(filter).cast_const().cast(), 1) }?;
        Ok(())
    }
}

/// Adds `filter` to the calling task (`IORING_REGISTER_BPF_FILTER` with fd
/// -1, 7.0; `EINVAL` before; no man page; kernel: `io_uring/bpf_filter.c`):
/// it applies to the rings the task creates from now on, and is inherited
/// by children it forks. It cannot be removed.
pub fn register_task_bpf(filter: &mut BpfFilter<'_>) -> Result<()> {
    // SAFETY: (S1) as for `Submitter::register_bpf`; fd -1 is the task-wide form.
    unsafe { sys::syscall::register(-1, sys::REGISTER_BPF_FILTER, ptr::from_mut(filter).cast_const().cast(), 1) }?;
    Ok(())
}
