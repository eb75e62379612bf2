//! Provided-buffer rings: a ring of buffer descriptors that the
//! application refills and the kernel picks from for `BUFFER_SELECT`
//! operations (`io_uring_register_buf_ring(3)`).

use core::ffi::c_void;
use core::ptr;

use rustix::io::Result;

use crate::submit::RingHandle;
use crate::sys::{self, BufReg, BufStatus};
use crate::Submitter;

impl<H: RingHandle> Submitter<'_, H> {
    /// Registers the buffer ring at `ring_addr` (`ring_entries` entries, a
    /// power of two up to 32768, page-aligned) as buffer group `bgid`
    /// (`IORING_REGISTER_PBUF_RING`, 5.19; `io_uring_register_buf_ring(3)`).
    ///
    /// # Safety
    /// `ring_addr` must point to `ring_entries` [`BufRingEntry`]s
    /// (`ring_entries * 16` bytes) that stay valid and are not otherwise
    /// mutated except through the tail protocol, until the group is
    /// unregistered (dropping the ring ends the registration only when the
    /// kernel tears the ring down, in the background) and every operation
    /// that selected a buffer from it has completed; every buffer published
    /// in it must stay valid while the kernel may write to it.
    ///
    /// [`BufRingEntry`]: crate::types::BufRingEntry
    pub unsafe fn register_buf_ring(&self, ring_addr: *mut c_void, ring_entries: u16, bgid: u16) -> Result<()> {
        // SAFETY: (S1, S2) forwarded.
        unsafe { self.register_buf_ring_with_flags(ring_addr, ring_entries, bgid, 0) }
    }

    /// As [`register_buf_ring`](Self::register_buf_ring)
    /// (`IORING_REGISTER_PBUF_RING`, 5.19; `io_uring_register_buf_ring(3)`),
    /// with `io_uring_buf_reg` flags: `IOU_PBUF_RING_MMAP` (1, 6.4: the kernel
    /// allocates the ring, `ring_addr` must be null, map it at
    /// `IORING_OFF_PBUF_RING | bgid << 16`) and `IOU_PBUF_RING_INC` (2,
    /// 6.12: buffers are consumed incrementally, see `cqueue::buffer_more`).
    ///
    /// # Safety
    /// As for [`register_buf_ring`](Self::register_buf_ring) (nothing for
    /// the ring memory itself with `IOU_PBUF_RING_MMAP`).
    pub unsafe fn register_buf_ring_with_flags(
        &self,
        ring_addr: *mut c_void,
        ring_entries: u16,
        bgid: u16,
        flags: u16,
    ) -> Result<()> {
        // SAFETY: (S1, S2) forwarded.
        unsafe { self.register_buf_ring_min_left(ring_addr, ring_entries, bgid, flags, 0) }
    }

    /// As [`register_buf_ring_with_flags`](Self::register_buf_ring_with_flags)
    /// (`IORING_REGISTER_PBUF_RING`, 5.19; `io_uring_register_buf_ring(3)`),
    /// with `io_uring_buf_reg.min_left` (7.1, incremental rings only;
    /// kernel: `io_uring/kbuf.c`): a buffer whose unused remainder falls
    /// below `min_left` bytes is retired as if used up (its completion has
    /// no `F_BUF_MORE`) instead of being offered again. Kernels before 7.1
    /// refuse a non-zero `min_left` with `EINVAL`, as reserved space.
    ///
    /// # Safety
    /// As for [`register_buf_ring_with_flags`](Self::register_buf_ring_with_flags).
    pub unsafe fn register_buf_ring_min_left(
        &self,
        ring_addr: *mut c_void,
        ring_entries: u16,
        bgid: u16,
        flags: u16,
        min_left: u32,
    ) -> Result<()> {
        let reg = BufReg {
            ring_addr: ring_addr as u64,
            ring_entries: u32::from(ring_entries),
            bgid,
            flags,
            min_left,
            resv: [0; 5],
        };
        // SAFETY: (S1, S2) `reg` is a valid io_uring_buf_reg; the ring memory is the
        // caller's promise.
        unsafe { self.register_raw(sys::REGISTER_PBUF_RING, ptr::from_ref(&reg).cast(), 1) }?;
        Ok(())
    }

    /// Unregisters buffer group `bgid` (`IORING_UNREGISTER_PBUF_RING`, 5.19;
    /// `io_uring_unregister_buf_ring(3)`).
    pub fn unregister_buf_ring(&self, bgid: u16) -> Result<()> {
        let reg = BufReg { bgid, ..BufReg::default() };
        // SAFETY: (S1) `reg` names only the group.
        unsafe { self.register_raw(sys::UNREGISTER_PBUF_RING, ptr::from_ref(&reg).cast(), 1) }?;
        Ok(())
    }

    /// The kernel's head of buffer ring `bgid`: the index of the next
    /// entry it will consume (`IORING_REGISTER_PBUF_STATUS`, 6.8; no man
    /// page; kernel: `io_uring/kbuf.c`). Entries from there to the
    /// application's tail are still available.
    pub fn register_buf_status(&self, bgid: u16) -> Result<u16> {
        let mut status = BufStatus { buf_group: u32::from(bgid), ..BufStatus::default() };
        // SAFETY: (S1) the kernel reads buf_group and writes head in `status`.
        unsafe { self.register_raw(sys::REGISTER_PBUF_STATUS, ptr::from_mut(&mut status).cast_const().cast(), 1) }?;
        Ok(status.head as u16)
    }
}
