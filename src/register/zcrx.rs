//! Zero-copy receive queues (`IORING_REGISTER_ZCRX_IFQ`, 6.15), their
//! control (`IORING_REGISTER_ZCRX_CTRL`, 6.19: flush, export, events,
//! more areas) and the refill queue through which buffers go back
//! ([`ZcrxRefillQueue`]), plus the raw BPF filter op
//! (`IORING_REGISTER_BPF_FILTER`, 7.0).
//!
//! The protocol: register a queue with an *area* (memory the kernel
//! receives into) and a *refill region* (a ring of
//! [`io_uring_zcrx_rqe`]s), then submit
//! [`RecvZc`](crate::opcode::RecvZc) on a TCP socket. Each completion
//! (32 bytes) says where in which area its bytes are
//! ([`io_uring_zcrx_cqe`]); when done with them, push that offset and
//! length to the refill queue so the kernel may reuse the buffer. A queue
//! registered with `ZCRX_REG_NODEV` (7.1) has no device: data is copied
//! into the area, and the kernel takes buffers back only when asked
//! ([`Submitter::register_zcrx_flush_rq`]).
//!
//! # Refill-queue invariants
//!
//! The `unsafe` blocks of [`ZcrxRefillQueue`] name these:
//!
//! - **Z1 (the region)**: the memory given to [`ZcrxRefillQueue::new`] is
//!   the refill region registered for the queue, mapped readable and
//!   writable for as long as the value lives (its `# Safety`). `new` checked
//!   that the head and tail words, all `rq_entries` entries and any stats
//!   read later lie inside the given length and are aligned for their
//!   types, so every pointer the value derives is in bounds and aligned.
//! - **Z2 (shared words)**: the head and tail are `u32`s the kernel reads
//!   and writes concurrently; this side touches them only as `AtomicU32`.
//!   The kernel publishes `head` with a release store after reading the
//!   entries before it; this side loads it with acquire before reusing
//!   those slots, and publishes `tail` with a release store after writing
//!   the entries before it.
//! - **Z3 (one producer)**: the value is the only writer of the tail and of
//!   the entries between the kernel's head and `head + rq_entries` (its
//!   `# Safety`), so a slot it writes is not being read by anyone: the
//!   kernel reads only slots before the published tail.
//! - **Z4 (stats)**: the kernel updates [`ZcrxStats`] with single word
//!   stores; a volatile read gives some `u64` (any bits are a valid value,
//!   S4), at worst a torn, stale count on a 32-bit target.

use core::ffi::c_void;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicU32, Ordering};

use rustix::fd::{BorrowedFd, FromRawFd, OwnedFd};
use rustix::io::{Errno, Result};

use crate::submit::RingHandle;
use crate::sys;
use crate::types::{io_uring_zcrx_area_reg, io_uring_zcrx_ifq_reg, io_uring_zcrx_rqe, ZcrxCtrl, ZcrxEvent, ZcrxStats};
use crate::Submitter;

impl<H: RingHandle> Submitter<'_, H> {
    /// Registers a zero-copy receive interface queue
    /// (`IORING_REGISTER_ZCRX_IFQ`, 6.15; no man page; kernel:
    /// `io_uring/zcrx.c`). The ring must be set up with `DEFER_TASKRUN`
    /// and 32-byte CQEs (`CQE32`, or `CQE_MIXED` on 7.0 and later), the
    /// caller needs `CAP_NET_ADMIN`. A queue on a NIC
    /// ([`io_uring_zcrx_ifq_reg::netdev`]) needs header split and flow
    /// steering; one with `ZCRX_REG_NODEV` (7.1,
    /// [`io_uring_zcrx_ifq_reg::nodev`]) needs nothing and copies. With
    /// `ZCRX_REG_IMPORT` use the safe
    /// [`register_zcrx_import`](Self::register_zcrx_import) instead.
    ///
    /// The kernel writes back `offsets`, `zcrx_id`, the rounded-up
    /// `rq_entries` and `rx_buf_len`, hence `&mut`; it also writes the
    /// area's `rq_area_token` and the region descriptor through their
    /// pointers.
    ///
    /// # Safety
    /// `reg.area_ptr`, `reg.region_ptr` and a non-zero `reg.event_desc`
    /// must point to a valid, writable `io_uring_zcrx_area_reg`,
    /// `io_uring_region_desc` and [`ZcrxEventDesc`](crate::types::ZcrxEventDesc).
    /// The area's memory and caller-provided refill-region memory are
    /// written by the device and kernel for as long as the queue lives:
    /// this ring, and every ring that imports an export of it, until the
    /// last one and every exported fd are gone. Until then that memory must
    /// stay mapped and must not be used otherwise except through the zcrx
    /// protocol (reading data the completions name, writing refill entries).
    /// (io-uring 0.7.14 has this as a safe fn; it hands memory to DMA.)
    pub unsafe fn register_ifq(&self, reg: &mut io_uring_zcrx_ifq_reg) -> Result<()> {
        // SAFETY: (S1, S2) `reg` is a valid, writable ifq_reg; what it points to is
        // the caller's promise.
        unsafe { self.register_raw(sys::REGISTER_ZCRX_IFQ, ptr::from_mut(reg).cast_const().cast(), 1) }?;
        Ok(())
    }

    /// Shares a queue another ring exported
    /// ([`register_zcrx_export`](Self::register_zcrx_export)) with this one
    /// (`IORING_REGISTER_ZCRX_IFQ` with `ZCRX_REG_IMPORT`, 6.19; `EINVAL`
    /// before; no man page; kernel: `io_uring/zcrx.c`). Returns the
    /// registration as the kernel wrote it back: `zcrx_id` names the queue
    /// on this ring (for [`RecvZc::ifq`](crate::opcode::RecvZc::ifq) and the
    /// control calls), `offsets` the refill queue's layout, which is the
    /// exporter's refill region. The ring needs the same setup flags as for
    /// [`register_ifq`](Self::register_ifq). Safe: no memory changes hands;
    /// the exporter's promise covers its area and region.
    pub fn register_zcrx_import(&self, zcrx_fd: BorrowedFd<'_>) -> Result<io_uring_zcrx_ifq_reg> {
        let mut reg = io_uring_zcrx_ifq_reg::import(zcrx_fd);
        // SAFETY: (S1) an import names no memory: the kernel reads the
        // fd from `if_idx`, refuses any area, region or event pointer, and
        // writes back only into `reg`.
        unsafe { self.register_raw(sys::REGISTER_ZCRX_IFQ, ptr::from_mut(&mut reg).cast_const().cast(), 1) }?;
        Ok(reg)
    }

    /// Runs a zcrx control op (`IORING_REGISTER_ZCRX_CTRL`, 6.19; `EINVAL`
    /// before; no man page; kernel: `io_uring/zcrx.c`): flush the refill
    /// queue, export the instance as an fd (written back into `ctrl`), or
    /// re-arm an event (7.2). An unknown `zcrx_id` gives `ENXIO`.
    pub fn register_zcrx_ctrl(&self, ctrl: &mut ZcrxCtrl) -> Result<u32> {
        // SAFETY: (S1) `ctrl` is a valid, writable zcrx_ctrl; the ops a
        // `ZcrxCtrl` can be built for in safe code name no memory; nr_args
        // is 0 as the kernel wants.
        unsafe { self.register_raw(sys::REGISTER_ZCRX_CTRL, ptr::from_mut(ctrl).cast_const().cast(), 0) }
    }

    /// Makes the kernel take back every buffer in the refill queue
    /// (`IORING_REGISTER_ZCRX_CTRL` with `ZCRX_CTRL_FLUSH_RQ`, 6.19; no man
    /// page; kernel: `io_uring/zcrx.c`). A `NODEV` queue reuses returned
    /// buffers only after this; entries it cannot parse are skipped.
    pub fn register_zcrx_flush_rq(&self, zcrx_id: u32) -> Result<()> {
        self.register_zcrx_ctrl(&mut ZcrxCtrl::flush_rq(zcrx_id)).map(drop)
    }

    /// Exports queue `zcrx_id` as a new fd, which another ring (in this or
    /// another process) passes to
    /// [`register_zcrx_import`](Self::register_zcrx_import)
    /// (`IORING_REGISTER_ZCRX_CTRL` with `ZCRX_CTRL_EXPORT`, 6.19; no man
    /// page; kernel: `io_uring/zcrx.c`). The fd keeps the queue alive after
    /// this ring is gone.
    pub fn register_zcrx_export(&self, zcrx_id: u32) -> Result<OwnedFd> {
        let mut ctrl = ZcrxCtrl::export(zcrx_id);
        self.register_zcrx_ctrl(&mut ctrl)?;
        let fd = ctrl.zcrx_fd() as i32;
        if fd < 0 {
            return Err(Errno::BADF);
        }
        // SAFETY: (S3) on success the kernel installed a new fd and wrote
        // its number into `ctrl`; nobody else owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Lets `event` be posted again the next time it happens
    /// (`IORING_REGISTER_ZCRX_CTRL` with `ZCRX_CTRL_ARM_EVENT`, 7.2;
    /// `EOPNOTSUPP` before; no man page; kernel: `io_uring/zcrx.c`). The
    /// kernel posts each event once; arming one that has not been posted
    /// since it was last armed is `EINVAL`.
    pub fn register_zcrx_arm_event(&self, zcrx_id: u32, event: ZcrxEvent) -> Result<()> {
        self.register_zcrx_ctrl(&mut ZcrxCtrl::arm_event(zcrx_id, event)).map(drop)
    }

    /// Adds another area to queue `zcrx_id` (`IORING_REGISTER_ZCRX_CTRL`
    /// with `ZCRX_CTRL_ADD_AREA`, 7.3; `EOPNOTSUPP` before; no man page;
    /// kernel: `io_uring/zcrx.c`). The kernel writes the new area's
    /// `rq_area_token` into `area`; completions for data in it carry its
    /// index ([`io_uring_zcrx_area_reg::area_index`]). Areas stay until the
    /// queue is gone.
    ///
    /// # Safety
    /// As for the area of [`register_ifq`](Self::register_ifq): the memory
    /// `area` describes is the kernel's to write for as long as the queue
    /// lives, and must stay mapped and otherwise unused until then.
    pub unsafe fn register_zcrx_add_area(&self, zcrx_id: u32, area: &mut io_uring_zcrx_area_reg) -> Result<()> {
        let mut ctrl = ZcrxCtrl::add_area(zcrx_id, ptr::from_mut(area) as u64);
        // SAFETY: (S1, S2) `ctrl` is a valid zcrx_ctrl whose area pointer is
        // the live, writable `area`; the memory it describes is the
        // caller's promise.
        unsafe { self.register_raw(sys::REGISTER_ZCRX_CTRL, ptr::from_mut(&mut ctrl).cast_const().cast(), 0) }.map(drop)
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

/// The producer side of a zcrx refill queue: hands buffers the application
/// has read back to the kernel.
///
/// [`push`](Self::push) writes entries, [`sync`](Self::sync) publishes
/// them; a `NODEV` queue then needs
/// [`Submitter::register_zcrx_flush_rq`] before it reuses them. The
/// layout comes from the registration the kernel wrote back
/// (`offsets`, `rq_entries`). Invariants Z1-Z4 in this module's docs.
#[derive(Debug)]
pub struct ZcrxRefillQueue {
    base: NonNull<u8>,
    len: usize,
    head: NonNull<AtomicU32>,
    tail: NonNull<AtomicU32>,
    rqes: NonNull<io_uring_zcrx_rqe>,
    entries: u32,
    local_tail: u32,
}

// SAFETY: (Z3) the value is the one producer of its queue; moving it to
// another thread moves that role. It is not Sync: `&self` methods only
// load, but two threads holding `&mut` through one would not be ruled out
// by anything else.
unsafe impl Send for ZcrxRefillQueue {}

impl ZcrxRefillQueue {
    /// A view of the refill region at `region`, `len` bytes, laid out as
    /// `reg` (what [`Submitter::register_ifq`] or
    /// [`Submitter::register_zcrx_import`] wrote back) says. `EINVAL` if
    /// the layout does not fit in `len` bytes, is misaligned, or
    /// `rq_entries` is not a power of two.
    ///
    /// # Safety
    /// `region..region + len` must be the refill region registered for the
    /// queue `reg` describes (the caller's memory, or the ring fd mapped at
    /// the region's `mmap_offset`), mapped readable and writable for as
    /// long as the value lives; and no one else may write the queue's tail
    /// or entries meanwhile (one `ZcrxRefillQueue` per queue, also across
    /// rings that share it by import).
    pub unsafe fn new(region: *mut u8, len: usize, reg: &io_uring_zcrx_ifq_reg) -> Result<Self> {
        let base = NonNull::new(region).ok_or(Errno::INVAL)?;
        let entries = reg.rq_entries;
        if entries == 0 || !entries.is_power_of_two() {
            return Err(Errno::INVAL);
        }
        let word = |off: u32| -> Result<usize> {
            let off = off as usize;
            let end = off.checked_add(4).ok_or(Errno::INVAL)?;
            if end > len || !(region as usize).wrapping_add(off).is_multiple_of(core::mem::align_of::<AtomicU32>()) {
                return Err(Errno::INVAL);
            }
            Ok(off)
        };
        let head = word(reg.offsets.head)?;
        let tail = word(reg.offsets.tail)?;
        let rqes = reg.offsets.rqes as usize;
        let rqes_end = (entries as usize)
            .checked_mul(core::mem::size_of::<io_uring_zcrx_rqe>())
            .and_then(|n| n.checked_add(rqes))
            .ok_or(Errno::INVAL)?;
        if rqes_end > len
            || !(region as usize).wrapping_add(rqes).is_multiple_of(core::mem::align_of::<io_uring_zcrx_rqe>())
        {
            return Err(Errno::INVAL);
        }
        // SAFETY: (Z1) each offset was checked above to lie, with its
        // type's size, inside the `len` bytes at `region`, and to be
        // aligned; `region` is not null, so neither are the sums.
        let (head, tail, rqes) = unsafe {
            (
                NonNull::new_unchecked(region.add(head).cast::<AtomicU32>()),
                NonNull::new_unchecked(region.add(tail).cast::<AtomicU32>()),
                NonNull::new_unchecked(region.add(rqes).cast::<io_uring_zcrx_rqe>()),
            )
        };
        // SAFETY: (Z1, Z2) an aligned u32 inside the mapped region, read atomically;
        // (Z3) nobody else writes it, so a relaxed load sees our own last store.
        let local_tail = unsafe { tail.as_ref() }.load(Ordering::Relaxed);
        Ok(ZcrxRefillQueue { base, len, head, tail, rqes, entries, local_tail })
    }

    /// How many entries the queue holds.
    #[inline]
    pub fn capacity(&self) -> u32 {
        self.entries
    }

    /// The kernel's head: how many entries it has taken, in all.
    #[inline]
    pub fn head(&self) -> u32 {
        // SAFETY: (Z1, Z2) an aligned u32 inside the mapped region, read
        // atomically with acquire (pairs with the kernel's release store).
        unsafe { self.head.as_ref() }.load(Ordering::Acquire)
    }

    /// Our tail, including entries pushed but not yet published.
    #[inline]
    pub fn tail(&self) -> u32 {
        self.local_tail
    }

    /// Entries pushed that the kernel has not taken yet.
    #[inline]
    pub fn len(&self) -> u32 {
        self.local_tail.wrapping_sub(self.head())
    }

    /// Whether the kernel has taken every entry pushed.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes one entry (visible to the kernel after [`sync`](Self::sync)).
    /// Gives it back when the queue is full.
    #[inline]
    pub fn push(&mut self, rqe: io_uring_zcrx_rqe) -> core::result::Result<(), io_uring_zcrx_rqe> {
        if self.len() >= self.entries {
            return Err(rqe);
        }
        let slot = (self.local_tail & (self.entries - 1)) as usize;
        // SAFETY: (Z1) `slot < entries`, so the entry lies inside the region;
        // (Z2, Z3) the acquire load of head in `len` shows the kernel is done
        // with this slot, and only we write it.
        unsafe { ptr::write_volatile(self.rqes.as_ptr().add(slot), rqe) };
        self.local_tail = self.local_tail.wrapping_add(1);
        Ok(())
    }

    /// Publishes the entries pushed so far.
    #[inline]
    pub fn sync(&mut self) {
        // SAFETY: (Z1, Z2) an aligned u32 inside the mapped region; the
        // release store orders the entry writes before it.
        unsafe { self.tail.as_ref() }.store(self.local_tail, Ordering::Release);
    }

    /// The [`ZcrxStats`] the kernel keeps at byte `offset` of the region
    /// (where [`ZcrxEventDesc::stats_at`](crate::types::ZcrxEventDesc::stats_at)
    /// put them), or `None` if that is outside the region or misaligned.
    pub fn stats(&self, offset: u64) -> Option<ZcrxStats> {
        let off = usize::try_from(offset).ok()?;
        let end = off.checked_add(core::mem::size_of::<ZcrxStats>())?;
        let addr = (self.base.as_ptr() as usize).wrapping_add(off);
        if end > self.len || !addr.is_multiple_of(core::mem::align_of::<ZcrxStats>()) {
            return None;
        }
        // SAFETY: (Z1) checked just above: inside the region and aligned;
        // (Z4) the kernel's single-word stores leave a valid u64 whatever
        // we read.
        let stats = unsafe {
            let p = self.base.as_ptr().add(off).cast::<ZcrxStats>();
            ZcrxStats {
                copy_count: ptr::read_volatile(ptr::addr_of!((*p).copy_count)),
                copy_bytes: ptr::read_volatile(ptr::addr_of!((*p).copy_bytes)),
            }
        };
        Some(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::io_uring_zcrx_offsets;

    #[repr(C, align(64))]
    struct Region([u8; 256]);

    fn reg(entries: u32) -> io_uring_zcrx_ifq_reg {
        io_uring_zcrx_ifq_reg {
            rq_entries: entries,
            offsets: io_uring_zcrx_offsets { head: 0, tail: 4, rqes: 64, ..Default::default() },
            ..Default::default()
        }
    }

    #[test]
    fn refill_queue_checks_the_layout() {
        let mut r = Region([0; 256]);
        let p = r.0.as_mut_ptr();
        // SAFETY: (Z1) `r` outlives every queue made here, none of which is kept.
        unsafe {
            assert!(ZcrxRefillQueue::new(p, 256, &reg(4)).is_ok());
            // 64 + 16 * 16 > 256.
            assert_eq!(ZcrxRefillQueue::new(p, 256, &reg(16)).err(), Some(Errno::INVAL));
            assert_eq!(ZcrxRefillQueue::new(p, 256, &reg(3)).err(), Some(Errno::INVAL));
            assert_eq!(ZcrxRefillQueue::new(p, 256, &reg(0)).err(), Some(Errno::INVAL));
            let mut bad = reg(4);
            bad.offsets.tail = 2;
            assert_eq!(ZcrxRefillQueue::new(p, 256, &bad).err(), Some(Errno::INVAL));
            bad.offsets.tail = 254;
            assert_eq!(ZcrxRefillQueue::new(p, 256, &bad).err(), Some(Errno::INVAL));
            assert_eq!(ZcrxRefillQueue::new(ptr::null_mut(), 256, &reg(4)).err(), Some(Errno::INVAL));
        }
    }

    #[test]
    fn refill_queue_fills_publishes_and_wraps() {
        let mut r = Region([0; 256]);
        let p = r.0.as_mut_ptr();
        // SAFETY: (Z1) `r` outlives `q`; this test plays the kernel through `p`.
        let mut q = unsafe { ZcrxRefillQueue::new(p, 256, &reg(4)) }.unwrap();
        for i in 0..4u64 {
            q.push(io_uring_zcrx_rqe { off: i * 4096, len: 7, __pad: 0 }).unwrap();
        }
        assert_eq!(q.push(io_uring_zcrx_rqe::default()), Err(io_uring_zcrx_rqe::default()));
        // SAFETY: (Z1) reading the tail word the queue wrote, in bounds.
        let tail = || unsafe { ptr::read_volatile(p.add(4).cast::<u32>()) };
        assert_eq!(tail(), 0, "nothing published before sync");
        q.sync();
        assert_eq!((tail(), q.len()), (4, 4));
        // The kernel takes two; their slots are free again.
        // SAFETY: (Z1) writing the head word, in bounds, as the kernel would.
        unsafe { ptr::write_volatile(p.cast::<u32>(), 2) };
        q.push(io_uring_zcrx_rqe { off: 99, len: 1, __pad: 0 }).unwrap();
        q.sync();
        // SAFETY: (Z1) slot 0 at offset 64, in bounds.
        let slot0 = unsafe { ptr::read_volatile(p.add(64).cast::<io_uring_zcrx_rqe>()) };
        assert_eq!((slot0.off, slot0.len, q.len(), q.tail()), (99, 1, 3, 5));
        // Stats past the entries: in bounds and aligned, or None.
        // SAFETY: (Z1) offset 128 is in bounds.
        unsafe { ptr::write_volatile(p.add(136).cast::<u64>(), 12345) };
        assert_eq!(q.stats(128), Some(ZcrxStats { copy_count: 0, copy_bytes: 12345 }));
        assert_eq!(q.stats(250), None);
        assert_eq!(q.stats(132), None);
        assert_eq!(q.stats(u64::MAX), None);
    }
}
