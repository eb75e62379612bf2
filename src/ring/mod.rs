//! The ring itself: [`IoUring`], its [`Builder`] and its [`Parameters`].
//!
//! # Ring-memory invariants
//!
//! Every `unsafe` block in this crate that touches ring memory relies on
//! these, and names the one it needs (as `R1`..`R7`):
//!
//! - **R1 (lifetime)**: the SQ ring, CQ ring and SQE array (and an SQ_REWIND
//!   ring's page for its batch length) stay mapped (or,
//!   with `NO_MMAP`, stay valid caller memory) and the ring fd stays open for
//!   as long as the [`IoUring`] lives. Every view (`SubmissionQueue`,
//!   `CompletionQueue`, `Submitter`, `CompletionStatus` aside, which is
//!   `unsafe` to create) borrows the `IoUring`, so no view outlives them.
//!   `Drop` unmaps first and closes the fd last.
//! - **R2 (pointers)**: every pointer in `squeue::Inner` and `cqueue::Inner`
//!   was computed from a kernel-filled `io_uring_params` and points inside
//!   the mapping it belongs to, suitably aligned for its type (the kernel
//!   lays the rings out with natural alignment; mmap returns page-aligned
//!   memory).
//! - **R3 (shared words)**: the head, tail, flags, dropped and overflow words
//!   are written concurrently by the kernel, so they are only ever accessed
//!   through `AtomicU32`. We own the SQ tail and the CQ head (and CQ flags);
//!   the kernel owns the SQ head, the CQ tail and SQ flags.
//! - **R4 (ordering)**: loads of a kernel-owned index are `Acquire` (the
//!   entries it covers are then visible); stores of our own index are
//!   `Release` (the entries we wrote, or finished reading, are ordered
//!   before it). SQPOLL's NEED_WAKEUP check is preceded by a `SeqCst` fence
//!   after publishing the tail, as in `io_uring_enter(2)`.
//! - **R5 (slots)**: an SQE slot `i & mask` may be written only while
//!   `tail - head < entries` (the kernel is done with it); a CQE slot may be
//!   read only while `head != tail` as loaded with `Acquire`. Indices wrap as
//!   `u32`; `ring_mask + 1 == ring_entries` is a power of two.
//! - **R6 (one producer, one consumer)**: at most one `SubmissionQueue` and
//!   one `CompletionQueue` exist per ring at a time; the safe constructors
//!   take `&mut IoUring`, the `_shared` ones are `unsafe` and make the caller
//!   promise it. "Per ring" means per kernel ring: one `IoUring` drives it
//!   (one from `build`, which made the ring; `from_fd`, which is `unsafe`,
//!   makes the caller promise that nothing else uses its queues, through
//!   any fd of it).
//! - **R7 (SQ_REWIND)**: on a ring set up with `IORING_SETUP_SQ_REWIND`
//!   the kernel ignores the SQ head and tail, which the user must leave at
//!   0 (the UAPI header calls any other value undefined behaviour: urix
//!   never writes them), and reads the `to_submit` entries of each enter
//!   from slot 0. The batch is the entries at slots `0..len`, `len` being
//!   a word of ours (`Batch::tail`, in a page urix maps for it, which
//!   lives as long as the ring memory). A `SubmissionQueue` writes only slots from `len` on and makes
//!   them part of the batch by raising `len` (compare-and-swap, Release);
//!   only a submit lowers it: it passes `len` as `to_submit`, and once the
//!   kernel has consumed `n` entries it moves the rest of the batch down by
//!   `n` slots and then lowers `len` by `n` (compare-and-swap). Two submits
//!   never overlap: urix sets up SQ_REWIND only with
//!   `IORING_SETUP_SINGLE_ISSUER`, under which the kernel refuses an enter
//!   with `to_submit > 0` from any other task (`EEXIST`), so every consuming
//!   enter runs on one thread, one at a time.
//!
//! Entry types are plain old data (`#[repr(C)]` integers), so copying any
//! bytes the kernel wrote into an `Entry` is always a valid value.

mod builder;
mod params;
mod registered_only;
mod resize;
mod unavailable;

pub use crate::submit::{ByFd, ByIndex, RingHandle};
pub use builder::Builder;
pub use params::Parameters;
pub use registered_only::{RegisteredRing, RegisteredSubmitter};
pub use unavailable::Unavailable;

use core::mem::size_of;
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use rustix::io::{Errno, Result};

use crate::submit::EnterTarget;

use crate::sys::mmap::Mmap;
use crate::sys::{self, Params};
use crate::{cqueue, squeue, CompletionQueue, SubmissionQueue, Submitter};

/// An io_uring instance: the ring fd, its mapped queues and the parameters
/// the kernel chose.
///
/// `S` is the submission entry type ([`squeue::Entry`] or
/// [`squeue::Entry128`]) and `C` the completion entry type
/// ([`cqueue::Entry`] or [`cqueue::Entry32`]); they decide the
/// `IORING_SETUP_SQE128` / `IORING_SETUP_CQE32` flags.
///
/// See `io_uring_setup(2)`.
pub struct IoUring<S = squeue::Entry, C = cqueue::Entry>
where
    S: squeue::EntryMarker,
    C: cqueue::EntryMarker,
{
    sq: squeue::Inner<S>,
    cq: cqueue::Inner<C>,
    params: Parameters,
    /// How enters reach the kernel: the ring's mode, decided here at setup,
    /// and the fd or registered index (see `Submitter::register_ring_fd`).
    ring_index: EnterTarget,
    /// Whether the mappings are `MADV_DONTFORK` (kept for `resize_rings`).
    dontfork: bool,
    // Field order is drop order: memory is unmapped before the fd is closed.
    memory: RingMemory,
    fd: OwnedFd,
}

/// Who owns the ring memory.
#[derive(Debug)]
enum RingMemory {
    /// We mapped it from the ring fd. `cq` is `None` with FEAT_SINGLE_MMAP.
    Mapped { rings: Mmap, cq: Option<Mmap>, sqes: Mmap },
    /// The caller provided it (`IORING_SETUP_NO_MMAP`); nothing to unmap.
    Caller,
}

impl RingMemory {
    /// `madvise(MADV_DONTFORK)` on every mapping we own.
    fn dontfork(&self) -> Result<()> {
        if let RingMemory::Mapped { rings, cq, sqes } = self {
            rings.dontfork()?;
            if let Some(cq) = cq {
                cq.dontfork()?;
            }
            sqes.dontfork()?;
        }
        Ok(())
    }
}

// SAFETY: the ring is a set of memory mappings plus an fd. The views that
// mutate it need `&mut IoUring` or an `unsafe` promise (R6); the shared-word
// accesses are atomic (R3). Nothing is tied to the creating thread.
unsafe impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> Send for IoUring<S, C> {}
// SAFETY: `&IoUring` only gives `Submitter`s (atomic reads of SQ words plus
// syscalls the kernel serialises) and the `unsafe` shared views (R6).
unsafe impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> Sync for IoUring<S, C> {}

impl IoUring<squeue::Entry, cqueue::Entry> {
    /// Creates a ring with `entries` submission slots, 64-byte SQEs and
    /// 16-byte CQEs, and default settings. Equal to `IoUring::builder().build(entries)`.
    ///
    /// When io_uring cannot be used at all here, the error says why:
    /// [`Unavailable::from_errno`] classifies it.
    #[inline]
    pub fn new(entries: u32) -> Result<Self> {
        Self::builder().build(entries)
    }

    /// The fast preset: the ring an executor that keeps each ring on one
    /// thread should start from. One call sets up `entries` SQ slots with
    ///
    /// - `IORING_SETUP_SINGLE_ISSUER` (6.0) and `IORING_SETUP_DEFER_TASKRUN`
    ///   (6.1): completion work runs when this thread waits, not in
    ///   interrupts or at random points of its syscalls;
    /// - `IORING_SETUP_NO_SQARRAY` (6.6): no SQ index array to fill or for
    ///   the kernel to read;
    /// - the ring fd registered (`IORING_REGISTER_RING_FDS`, 5.18, as
    ///   [`Submitter::register_ring_fd`]): every enter passes an index,
    ///   skipping the kernel's fd lookup.
    ///
    /// - `IORING_SETUP_SQ_REWIND` (7.0, [`Builder::setup_sq_rewind`]):
    ///   every submission is a batch written from SQ slot 0, so the kernel
    ///   reads no head or tail and the same few SQE slots stay in cache.
    ///
    /// On an older kernel the preset degrades instead of failing: without
    /// `SQ_REWIND` when the kernel refuses it (before 7.0), then without
    /// `NO_SQARRAY`, then without `SINGLE_ISSUER`/`DEFER_TASKRUN`, and
    /// without the registered fd if registering fails;
    /// [`params`](Self::params) and [`Submitter::registered_ring_index`]
    /// say what was granted. The user-space work per operation is about
    /// that of a default ring (`io-uring-bench/RESULTS.md` counts it); the
    /// kernel's is less: on a shared 2-CPU VM with 6.18, nop-single took
    /// about 0.9 of the default ring's wall time (medians of interleaved
    /// rounds, fat LTO; `io-uring-bench/RESULTS.md`, which also shows how
    /// noisy that machine's wall clock is), and what SQ_REWIND adds on 7.3
    /// is measured in `io-uring-bench/REWIND.md`.
    ///
    /// What it asks of the program: only the thread that called `fast`
    /// may submit or wait (the kernel answers `EEXIST` elsewhere);
    /// completions are posted only while this thread waits
    /// ([`Submitter::submit_and_wait`] with `want > 0`, or `submit` when
    /// the kernel flags task work); and the registered fd keeps the ring
    /// alive until the thread exits, so call
    /// [`Submitter::unregister_ring_fd`] on this thread before dropping
    /// the ring if the thread lives on. `io_uring_setup(2)`,
    /// `io_uring_register_ring_fd(3)`.
    ///
    /// For 128-byte SQEs or 32-byte CQEs, set the same flags on
    /// `IoUring::<S, C>::builder()` and call `register_ring_fd`.
    pub fn fast(entries: u32) -> Result<Self> {
        let build = |rewind: bool, no_sqarray: bool, single: bool| {
            let mut b = Self::builder();
            if single {
                b.setup_single_issuer().setup_defer_taskrun();
            }
            if no_sqarray {
                b.setup_no_sqarray();
            }
            if rewind {
                b.setup_sq_rewind();
            }
            b.build(entries)
        };
        // Each step drops what the kernel refused (EINVAL: an unknown flag).
        let ring = match build(true, true, true) {
            Err(Errno::INVAL) => match build(false, true, true) {
                Err(Errno::INVAL) => match build(false, false, true) {
                    Err(Errno::INVAL) => build(false, false, false)?,
                    r => r?,
                },
                r => r?,
            },
            r => r?,
        };
        // Without a registered index the ring still works, through its fd.
        let _ = ring.submitter().register_ring_fd();
        Ok(ring)
    }

    /// Takes over an existing ring fd and maps its queues.
    ///
    /// The returned `IoUring` is the ring's only producer of submissions
    /// and only consumer of completions (R6): its views write SQ entries
    /// and the SQ tail, and read CQ entries and move the CQ head, assuming
    /// nobody else does. That is a property of the kernel ring, not of the
    /// fd: a `dup` of the fd, the same fd in another process (after `fork`
    /// or `SCM_RIGHTS`), or another `IoUring` made from either, all reach
    /// the same queues, and two producers overwrite each other's entries
    /// (an entry published by one never runs). Nothing in the kernel tells
    /// how many users a ring has, so this cannot be checked here.
    ///
    /// # Safety
    /// - `fd` must be an open io_uring fd that nothing else owns (it is
    ///   closed when the `IoUring` drops).
    /// - For as long as the returned `IoUring` lives, nothing else may use
    ///   the queues of the kernel ring behind `fd`: no other `IoUring`
    ///   (made by `from_fd` from this fd, a duplicate of it, or the same
    ///   ring in another process), no other mapping of its rings, and no
    ///   other code pushing entries or reaping completions through any fd
    ///   of that ring. Whoever used it before must have stopped for good
    ///   (dropped its views and unmapped its rings, or no longer touch
    ///   them); `io_uring_register` calls from elsewhere that do not touch
    ///   the queues (registering files, buffers, ...) are allowed.
    /// - `params` must be the parameters the kernel returned when that ring
    ///   was set up (or last resized).
    ///
    /// Rings set up with `SQE128`, `CQE32`, `SQE_MIXED` or `CQE_MIXED` are refused with `EINVAL`,
    /// since this type uses the 64/16-byte entries; so is one set up with
    /// `NO_MMAP`, and one with `SQ_REWIND` but without `SINGLE_ISSUER` (see
    /// [`Builder::setup_sq_rewind`]).
    pub unsafe fn from_fd(fd: RawFd, params: Parameters) -> Result<Self> {
        // SAFETY: (S3) the caller gives us ownership of an open fd.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Self::with_fd(fd, params.0)
    }
}

impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> IoUring<S, C> {
    /// A [`Builder`] pre-loaded with the flags `S` and `C` need.
    #[must_use]
    #[inline]
    pub fn builder() -> Builder<S, C> {
        Builder::new()
    }

    /// Maps the rings of a freshly set-up `fd` (ring memory owned by us).
    fn with_fd(fd: OwnedFd, p: Params) -> Result<Self> {
        let entry_flags = S::BUILD_FLAGS.bits() | C::BUILD_FLAGS.bits();
        let size_flags = sys::SETUP_SQE128 | sys::SETUP_CQE32 | sys::SETUP_SQE_MIXED | sys::SETUP_CQE_MIXED;
        // SQ_REWIND without SINGLE_ISSUER (a ring from elsewhere, through
        // `from_fd`): R7 needs the kernel to refuse other threads' submits.
        let rewind_alone = p.flags & (sys::SETUP_SQ_REWIND | sys::SETUP_SINGLE_ISSUER) == sys::SETUP_SQ_REWIND;
        if p.flags & size_flags != entry_flags || p.flags & sys::SETUP_NO_MMAP != 0 || rewind_alone {
            return Err(Errno::INVAL);
        }
        let (sq, cqi, memory) = Self::map(fd.as_fd(), &p)?;
        let ring_index = EnterTarget::new(&fd, p.flags);
        Ok(IoUring { sq, cq: cqi, params: Parameters(p), ring_index, dontfork: false, memory, fd })
    }

    /// Maps the SQ ring, the CQ ring (unless FEAT_SINGLE_MMAP puts both in
    /// one mapping) and the SQE array of `fd` as the kernel-filled `p`
    /// lays them out, and builds the queue views over them.
    fn map(fd: BorrowedFd<'_>, p: &Params) -> Result<(squeue::Inner<S>, cqueue::Inner<C>, RingMemory)> {
        let (sq_len, cq_len, sqes_len) = ring_sizes::<S, C>(p);
        let single = p.features & sys::FEAT_SINGLE_MMAP != 0;
        let rings = Mmap::new(fd, sys::OFF_SQ_RING, if single { sq_len.max(cq_len) } else { sq_len })?;
        let cq = if single { None } else { Some(Mmap::new(fd, sys::OFF_CQ_RING, cq_len)?) };
        let sqes = Mmap::new(fd, sys::OFF_SQES, sqes_len)?;
        let cq_base = cq.as_ref().map_or(rings.as_ptr(), Mmap::as_ptr);
        // SAFETY: (R1, R2) the three mappings have the sizes the kernel's offsets
        // call for (`ring_sizes`) and are returned in the `RingMemory` that
        // the caller keeps as long as the views (R1, R2).
        let (sq, cqi) = unsafe { Self::views(p, rings.as_ptr(), cq_base, sqes.as_ptr()) }?;
        Ok((sq, cqi, RingMemory::Mapped { rings, cq, sqes }))
    }

    /// Builds the queue views over ring memory and, unless the ring has no
    /// SQ index array, fills that array with the identity map so that ring
    /// slot `i` always means SQE `i`. Fails only when an SQ_REWIND ring's
    /// page for its batch length cannot be mapped.
    ///
    /// # Safety
    /// `sq_ring`, `cq_ring` and `sqes` must point to live ring memory of the
    /// sizes `ring_sizes` gives for `p`, laid out by the kernel as `p` says.
    unsafe fn views(
        p: &Params,
        sq_ring: *mut u8,
        cq_ring: *mut u8,
        sqes: *mut u8,
    ) -> Result<(squeue::Inner<S>, cqueue::Inner<C>)> {
        // SAFETY: forwarded from the caller (R2).
        let sq = unsafe { squeue::Inner::new(sq_ring, sqes, p) }?;
        // SAFETY: forwarded from the caller (R2).
        let cq = unsafe { cqueue::Inner::new(cq_ring, p) };
        Ok((sq, cq))
    }

    /// A [`Submitter`] for this ring: enter, submit, wait, register.
    #[inline]
    pub fn submitter(&self) -> Submitter<'_> {
        Submitter::new(&self.fd, &self.ring_index, &self.sq)
    }

    /// The parameters the kernel returned at setup.
    #[inline]
    pub fn params(&self) -> &Parameters {
        &self.params
    }

    /// Submits what has been pushed and synced; see [`Submitter::submit`].
    #[inline]
    pub fn submit(&self) -> Result<usize> {
        self.submitter().submit()
    }

    /// Submits and waits for `want` completions; see
    /// [`Submitter::submit_and_wait`].
    #[inline]
    pub fn submit_and_wait(&self, want: usize) -> Result<usize> {
        self.submitter().submit_and_wait(want)
    }

    /// The submitter, the submission queue and the completion queue at once,
    /// so that they can be used from different places (or threads, for the
    /// two queues once wrapped) at the same time.
    ///
    /// The queues are snapshots: call `sq.sync()` before submitting what was
    /// pushed, and `cq.sync()` to see completions that arrived later.
    #[inline]
    pub fn split(&mut self) -> (Submitter<'_>, SubmissionQueue<'_, S>, CompletionQueue<'_, C>) {
        let submit = Submitter::new(&self.fd, &self.ring_index, &self.sq);
        // SAFETY: `&mut self` guarantees no other queue view exists (R6).
        let sq = unsafe { SubmissionQueue::new(&self.sq) };
        // SAFETY: (R6) as above.
        let cq = unsafe { CompletionQueue::new(&self.cq) };
        (submit, sq, cq)
    }

    /// The submission queue, as a snapshot; pushes become visible to the
    /// kernel on [`SubmissionQueue::sync`] or when it drops.
    #[inline]
    pub fn submission(&mut self) -> SubmissionQueue<'_, S> {
        // SAFETY: `&mut self` guarantees no other SubmissionQueue exists (R6).
        unsafe { SubmissionQueue::new(&self.sq) }
    }

    /// The submission queue from a shared reference.
    ///
    /// # Safety
    /// No other [`SubmissionQueue`] of this ring may be alive at the same time.
    #[inline]
    pub unsafe fn submission_shared(&self) -> SubmissionQueue<'_, S> {
        // SAFETY: the caller promises R6 for the SQ.
        unsafe { SubmissionQueue::new(&self.sq) }
    }

    /// The completion queue, as a snapshot iterator; consumed slots go back
    /// to the kernel on [`CompletionQueue::sync`] or when it drops.
    #[inline]
    pub fn completion(&mut self) -> CompletionQueue<'_, C> {
        // SAFETY: `&mut self` guarantees no other CompletionQueue exists (R6).
        unsafe { CompletionQueue::new(&self.cq) }
    }

    /// The completion queue, with the ring still at hand for what needs
    /// only `&self` (a register call through [`submitter`](Self::submitter)
    /// while reaping: the owned driver empties a registered-file slot
    /// nobody claims as it reaps the completion that filled it).
    #[inline]
    pub(crate) fn completion_and_ring(&mut self) -> (CompletionQueue<'_, C>, &Self) {
        // SAFETY: (R6) `&mut self` guarantees no other CompletionQueue exists,
        // and the `&Self` handed back makes none: `completion`
        // needs `&mut self`, `completion_shared` its caller's promise.
        let cq = unsafe { CompletionQueue::new(&self.cq) };
        (cq, self)
    }

    /// The completion queue from a shared reference.
    ///
    /// # Safety
    /// No other [`CompletionQueue`] of this ring may be alive at the same time.
    #[inline]
    pub unsafe fn completion_shared(&self) -> CompletionQueue<'_, C> {
        // SAFETY: the caller promises R6 for the CQ.
        unsafe { CompletionQueue::new(&self.cq) }
    }
}

/// Byte sizes of the SQ ring, the CQ ring and the SQE array for `p`: each
/// ring's size reaches past the last word or array the kernel's offsets
/// place in it, whatever their order (R2 rests on this; the kernel's
/// offsets are used as given, never assumed to be in a known order).
fn ring_sizes<S, C: cqueue::EntryMarker>(p: &Params) -> (usize, usize, usize) {
    // The end of the last u32 word at any of `offs`. A plain loop: the
    // array-and-iterator form made LLVM call memcpy and memset, which the no_std
    // binary must not need.
    fn words_end(offs: &[u32]) -> usize {
        let mut end = 0;
        for &off in offs {
            end = end.max(off as usize + size_of::<u32>());
        }
        end
    }
    let o = &p.sq_off;
    let mut sq_len = words_end(&[o.head, o.tail, o.ring_mask, o.ring_entries, o.flags, o.dropped]);
    if p.flags & sys::SETUP_NO_SQARRAY == 0 {
        sq_len = sq_len.max(o.array as usize + p.sq_entries as usize * size_of::<u32>());
    }
    let o = &p.cq_off;
    let cq_words = words_end(&[o.head, o.tail, o.ring_mask, o.ring_entries, o.overflow, o.flags]);
    let cq_len = cq_words.max(o.cqes as usize + p.cq_entries as usize * cqueue::slot_bytes::<C>());
    let sqes_len = p.sq_entries as usize * size_of::<S>();
    (sq_len, cq_len, sqes_len)
}

/// The kernel's layout of the block that holds the ring words, the CQEs
/// and the SQ index array (`rings_size` in `io_uring/io_uring.c`, 5.19 to
/// 6.18): the header (the kernel's `cq_off.cqes`) and `cq` CQEs of 16
/// bytes, all of it twice over for CQE32 rings (`cqe32`: the kernel
/// doubles the whole block, header included, not just the entries), then
/// rounded up to a cache line of `line` bytes; the SQ index array of `sq`
/// `u32`s starts there unless `no_sqarray`. Returns the offset of the SQ
/// index array and the block's size; `None` if they overflow a `u32`.
fn rings_layout(header: u32, line: u32, sq: u32, cq: u32, cqe32: bool, no_sqarray: bool) -> Option<(u32, u32)> {
    let mut cqes_end = u64::from(header) + u64::from(cq) * 16;
    if cqe32 {
        cqes_end *= 2;
    }
    let array = cqes_end.checked_next_multiple_of(u64::from(line))?;
    let end = if no_sqarray { array } else { array + u64::from(sq) * size_of::<u32>() as u64 };
    Some((u32::try_from(array).ok()?, u32::try_from(end).ok()?))
}

impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> AsRawFd for IoUring<S, C> {
    #[inline]
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> AsFd for IoUring<S, C> {
    #[inline]
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> core::fmt::Debug for IoUring<S, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IoUring")
            .field("fd", &self.fd.as_raw_fd())
            .field("params", &self.params)
            .field("caller_memory", &matches!(self.memory, RingMemory::Caller))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_sizes_follow_the_offsets() {
        let mut p = Params { sq_entries: 8, cq_entries: 16, ..Params::default() };
        p.sq_off.array = 320;
        p.sq_off.dropped = 32;
        p.cq_off.cqes = 64;
        assert_eq!(ring_sizes::<squeue::Entry, cqueue::Entry>(&p), (320 + 32, 64 + 256, 512));
        assert_eq!(ring_sizes::<squeue::Entry128, cqueue::Entry32>(&p), (320 + 32, 64 + 512, 1024));
        p.flags = sys::SETUP_NO_SQARRAY;
        p.sq_off.array = 0;
        assert_eq!(ring_sizes::<squeue::Entry, cqueue::Entry>(&p).0, 36, "no index array to map");
        // The kernel puts the SQ flags after `dropped` (6.18: 36 and 32),
        // so the last word, not `dropped`, decides the length.
        p.sq_off.flags = 36;
        assert_eq!(ring_sizes::<squeue::Entry, cqueue::Entry>(&p).0, 40, "the flags word after dropped");
        // A CQ word past the CQE array still lies inside the mapping.
        p.cq_off.flags = 400;
        assert_eq!(ring_sizes::<squeue::Entry, cqueue::Entry>(&p).1, 404);
    }

    #[test]
    fn regression_cqe32_doubles_the_header_too() {
        // Issue 15, item 5: on x86-64 (64-byte header and cache line) the
        // kernel put the SQ index array of a CQE32 ring at 192 for 2 CQEs
        // and at 640 for 16, not at 128 and 576.
        assert_eq!(rings_layout(64, 64, 1, 2, true, false), Some((192, 196)));
        assert_eq!(rings_layout(64, 64, 8, 16, true, false), Some((640, 672)));
        assert_eq!(rings_layout(64, 64, 8, 16, false, false), Some((320, 352)));
        assert_eq!(rings_layout(64, 64, 8, 16, true, true), Some((640, 640)), "no index array");
        assert_eq!(rings_layout(64, 64, 1, 1, false, false), Some((128, 132)), "rounded up to the line");
        assert_eq!(rings_layout(64, 64, 1, u32::MAX, true, false), None, "past a u32");
    }

    #[test]
    fn no_mmap_sizes_cover_the_kernel_layout() {
        let page = rustix::param::page_size();
        let b = IoUring::<squeue::Entry, cqueue::Entry>::builder();
        let (rings, sqes) = b.no_mmap_sizes(8);
        assert!(rings >= 64 + 16 * 16 + 8 * 4 && rings % page == 0);
        assert!(sqes >= 8 * 64 && sqes % page == 0);
        let (rings, _) = b.no_mmap_sizes(u32::MAX);
        assert!(rings >= 64 + 65536 * 16 + 32768 * 4, "clamped sizes");
        // CQE32: the doubled header counts too.
        let b = IoUring::<squeue::Entry, cqueue::Entry32>::builder();
        let (rings, _) = b.no_mmap_sizes(16384);
        assert!(rings >= 2 * (64 + 32768 * 16) + 16384 * 4, "{rings}");
    }
}
