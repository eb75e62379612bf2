//! Growing or shrinking a live ring (`IORING_REGISTER_RESIZE_RINGS`, 6.13).
//!
//! The kernel allocates new rings, copies the unconsumed SQEs and CQEs over
//! (keeping head and tail values) and answers with new offsets. The old
//! mappings stay valid until unmapped, so the new ones are mapped first and
//! the old ones dropped only once the views point at the new memory.

use rustix::fd::AsFd;
use rustix::io::{Errno, Result};

use super::{IoUring, RingMemory};
use crate::sys::{self, Params};
use crate::{cqueue, squeue};

impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> IoUring<S, C> {
    /// Resizes the queues to `sq_entries` submission slots and `cq_entries`
    /// completion slots (0: twice the SQ, as at setup), keeping every
    /// submitted-but-unconsumed entry and every unreaped completion
    /// (`IORING_REGISTER_RESIZE_RINGS`, 6.13; no man page; kernel:
    /// `io_uring/register.c`).
    ///
    /// `&mut self` guarantees no queue view is alive; in-flight operations
    /// are unaffected. The kernel resizes only rings set up with
    /// `DEFER_TASKRUN` (else `EINVAL`), refuses rings with caller memory
    /// (`NO_MMAP`, here `EINVAL` before any syscall) and answers `EOVERFLOW`
    /// when the unreaped completions do not fit the new CQ. Mixed-size rings
    /// (`CQE_MIXED`, `SQE_MIXED`) are refused with `EOPNOTSUPP`: kernels
    /// before 7.1 resized them wrongly. When the kernel
    /// refuses, the ring is unchanged; should mapping the new rings fail
    /// after it agreed (`ENOMEM`), the error is returned and the ring, whose
    /// views still show the old rings, must be dropped. On an SQ_REWIND
    /// ring with a published batch not yet submitted, `EBUSY` before any
    /// syscall (the kernel would not keep it: submit first).
    pub fn resize_rings(&mut self, sq_entries: u32, cq_entries: u32) -> Result<()> {
        if matches!(self.memory, RingMemory::Caller) {
            return Err(Errno::INVAL);
        }
        // Kernels before 7.1 resized mixed-size rings wrongly (fixed in
        // 7.1-rc1), and the release cannot be told from here.
        if self.params.0.flags & (sys::SETUP_CQE_MIXED | sys::SETUP_SQE_MIXED) != 0 {
            return Err(Errno::OPNOTSUPP);
        }
        // SQ_REWIND (R7): the kernel copies the SQEs between head and tail,
        // which stay 0, so a batch not yet submitted would be lost.
        if self.sq.batch.rewind && self.sq.batch.len().load(core::sync::atomic::Ordering::Acquire) != 0 {
            return Err(Errno::BUSY);
        }
        let has_array = self.params.0.flags & sys::SETUP_NO_SQARRAY == 0;
        // The kernel does not report where the new SQ index array is (it
        // answers 0); we compute it as the kernel lays it out, and only if
        // that rule reproduces the offset it reported at setup.
        if has_array && sq_array_offset::<C>(&self.params.0) != Some(self.params.0.sq_off.array) {
            return Err(Errno::OPNOTSUPP);
        }
        let mut p = Params { sq_entries, ..Params::default() };
        if cq_entries != 0 {
            p.flags = sys::SETUP_CQSIZE;
            p.cq_entries = cq_entries;
        }
        // SAFETY: (S1, R1) `p` is a valid io_uring_params the kernel reads and fills
        // (nr_args 1). Until we remap below, the old mappings keep the
        // old rings alive (R1) and our views keep pointing at them; no view
        // exists now (`&mut self`), so nothing reads them in between.
        unsafe { self.submitter().register_raw(sys::REGISTER_RESIZE_RINGS, core::ptr::from_mut(&mut p).cast(), 1) }?;
        // The kernel answers with the new sizes and offsets; everything
        // else about the ring is as set up.
        let mut new = self.params.0;
        new.sq_entries = p.sq_entries;
        new.cq_entries = p.cq_entries;
        new.sq_off = p.sq_off;
        new.cq_off = p.cq_off;
        if has_array {
            // Checked above to be the kernel's rule on this kernel.
            new.sq_off.array = sq_array_offset::<C>(&new).ok_or(Errno::OVERFLOW)?;
        }
        // Should a mapping fail after the kernel resized, the old views
        // still point at the old rings, which the old mappings keep alive:
        // no memory error, but the ring is unusable; the caller gets the
        // error (ENOMEM and the like) and should drop it. Building the views
        // refills the SQ index array, which the kernel allocated zeroed; it
        // copied SQEs slot by slot, so the identity map is right for the
        // entries it kept.
        let (sq, cqi, memory) = Self::map(self.fd.as_fd(), &new)?;
        self.sq = sq;
        self.cq = cqi;
        self.params.0 = new;
        // Dropping the old mappings last: the views now point at the new ones.
        self.memory = memory;
        if self.dontfork {
            // The ring is consistent already; a failure here only means a
            // child would inherit the new mappings.
            self.memory.dontfork()?;
        }
        Ok(())
    }
}

/// Where the kernel puts the SQ index array of a ring laid out as `p`
/// says (`super::rings_layout`): after the header and the CQEs, the whole
/// block doubled for CQE32, rounded up to a cache line (64 bytes on the
/// architectures this crate is tested on). The header is the kernel's own
/// `cq_off.cqes`; `resize_rings` checks the rule against the offset setup
/// reported before relying on it.
fn sq_array_offset<C: cqueue::EntryMarker>(p: &Params) -> Option<u32> {
    let cqe32 = cqueue::slot_bytes::<C>() > core::mem::size_of::<sys::Cqe>();
    super::rings_layout(p.cq_off.cqes, 64, p.sq_entries, p.cq_entries, cqe32, false).map(|(array, _)| array)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sq_array_follows_the_cqes_on_a_cache_line() {
        let mut p = Params { cq_entries: 16, ..Params::default() };
        p.cq_off.cqes = 64;
        assert_eq!(sq_array_offset::<cqueue::Entry>(&p), Some(320));
        assert_eq!(sq_array_offset::<cqueue::Entry32>(&p), Some(640), "header doubled too");
        p.cq_entries = 1;
        assert_eq!(sq_array_offset::<cqueue::Entry>(&p), Some(128), "rounded up to 64");
        p.cq_entries = u32::MAX;
        assert_eq!(sq_array_offset::<cqueue::Entry32>(&p), None, "no u32 offset");
    }
}
