//! [`Builder`]: every `IORING_SETUP_*` flag the kernel has through 6.19
//! (`SQ_REWIND`, 7.0, aside).

use core::marker::PhantomData;
use core::mem::size_of;
use core::sync::atomic::{AtomicBool, Ordering};
use rustix::fd::{FromRawFd, OwnedFd, RawFd};
use rustix::io::{Errno, Result};

use super::{IoUring, RingMemory};
use crate::sys::{self, Params};
use crate::{cqueue, squeue};

/// Configures and creates an [`IoUring`]. Obtain one with
/// [`IoUring::builder`] (or `Builder::default()`), call the setters, then
/// [`build`](Builder::build).
///
/// Each setter names the `IORING_SETUP_*` flag it sets and the kernel that
/// introduced it; the kernel rejects flags it does not know, and invalid
/// combinations, with `EINVAL` from `build`. See `io_uring_setup(2)`.
pub struct Builder<S = squeue::Entry, C = cqueue::Entry>
where
    S: squeue::EntryMarker,
    C: cqueue::EntryMarker,
{
    dontfork: bool,
    pub(super) params: Params,
    pub(super) caller_memory: Option<CallerMemory>,
    /// Whether `caller_memory` went to a ring already (or belongs to the
    /// builder this one was cloned from): one memory, one kernel ring.
    pub(super) memory_used: AtomicBool,
    marker: PhantomData<fn() -> (S, C)>,
}

/// Ring memory provided by the caller for `IORING_SETUP_NO_MMAP`, kept as
/// addresses so that the builder stays `Send + Sync`.
#[derive(Clone, Copy, Debug)]
pub(super) struct CallerMemory {
    pub(super) rings: usize,
    pub(super) rings_len: usize,
    pub(super) sqes: usize,
    pub(super) sqes_len: usize,
}

/// A clone has the same settings, but caller memory given with
/// [`setup_no_mmap`](Builder::setup_no_mmap) stays with the original: the
/// clone's `build` refuses it with `EBUSY` until it gets memory of its own.
impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> Clone for Builder<S, C> {
    fn clone(&self) -> Self {
        Builder {
            dontfork: self.dontfork,
            params: self.params,
            caller_memory: self.caller_memory,
            memory_used: AtomicBool::new(self.caller_memory.is_some()),
            marker: PhantomData,
        }
    }
}

impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> Default for Builder<S, C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> core::fmt::Debug for Builder<S, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Builder")
            .field("flags", &format_args!("{:#x}", self.params.flags))
            .field("dontfork", &self.dontfork)
            .field("caller_memory", &self.caller_memory)
            .finish_non_exhaustive()
    }
}

impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> Builder<S, C> {
    pub(super) fn new() -> Self {
        let params = Params { flags: S::BUILD_FLAGS.bits() | C::BUILD_FLAGS.bits(), ..Params::default() };
        Builder {
            dontfork: false,
            params,
            caller_memory: None,
            memory_used: AtomicBool::new(false),
            marker: PhantomData,
        }
    }

    fn flag(&mut self, flag: u32) -> &mut Self {
        self.params.flags |= flag;
        self
    }

    /// After building, `madvise(MADV_DONTFORK)` the ring mappings so that a
    /// forked child does not share them.
    pub fn dontfork(&mut self) -> &mut Self {
        self.dontfork = true;
        self
    }

    /// `IORING_SETUP_IOPOLL` (5.1): busy-poll for completions instead of
    /// interrupts; for `O_DIRECT` files on polling-capable devices.
    pub fn setup_iopoll(&mut self) -> &mut Self {
        self.flag(sys::SETUP_IOPOLL)
    }

    /// `IORING_SETUP_HYBRID_IOPOLL` (6.13): sleep before polling; needs
    /// [`setup_iopoll`](Self::setup_iopoll).
    pub fn setup_hybrid_iopoll(&mut self) -> &mut Self {
        self.flag(sys::SETUP_HYBRID_IOPOLL)
    }

    /// `IORING_SETUP_SQPOLL` (5.1): a kernel thread polls the SQ; it goes to
    /// sleep after `idle` milliseconds without work.
    ///
    /// On a 32-bit kernel a fresh ring's thread may not sleep before its
    /// first work: its idle timer starts at 0 and is compared with `jiffies`
    /// as a signed number, which a 32-bit kernel starts 300 s below zero.
    /// For the first 300 s after boot the thread spins on an empty SQ until
    /// something is submitted (seen on armhf 7.2 under QEMU; 64-bit kernels
    /// start `jiffies` positive). Kernel: `io_sq_thread`
    /// in `io_uring/sqpoll.c`.
    pub fn setup_sqpoll(&mut self, idle: u32) -> &mut Self {
        self.params.sq_thread_idle = idle;
        self.flag(sys::SETUP_SQPOLL)
    }

    /// `IORING_SETUP_SQ_AFF` (5.1): pin the SQPOLL thread to `cpu`.
    pub fn setup_sqpoll_cpu(&mut self, cpu: u32) -> &mut Self {
        self.params.sq_thread_cpu = cpu;
        self.flag(sys::SETUP_SQ_AFF)
    }

    /// `IORING_SETUP_CQSIZE` (5.5): `entries` CQ slots instead of twice the
    /// SQ size; must not be smaller than the SQ.
    pub fn setup_cqsize(&mut self, entries: u32) -> &mut Self {
        self.params.cq_entries = entries;
        self.flag(sys::SETUP_CQSIZE)
    }

    /// `IORING_SETUP_CLAMP` (5.6): clamp oversized entry counts to the
    /// kernel's maximum instead of failing.
    pub fn setup_clamp(&mut self) -> &mut Self {
        self.flag(sys::SETUP_CLAMP)
    }

    /// `IORING_SETUP_ATTACH_WQ` (5.6): share the async worker pool of the
    /// ring `fd`.
    ///
    /// # Safety
    /// `fd` must be an open file descriptor when `build` is called.
    pub unsafe fn setup_attach_wq(&mut self, fd: RawFd) -> &mut Self {
        self.params.wq_fd = fd as u32;
        self.flag(sys::SETUP_ATTACH_WQ)
    }

    /// `IORING_SETUP_R_DISABLED` (5.10): start disabled, so restrictions can
    /// be registered before `register_enable_rings`.
    pub fn setup_r_disabled(&mut self) -> &mut Self {
        self.flag(sys::SETUP_R_DISABLED)
    }

    /// `IORING_SETUP_SUBMIT_ALL` (5.18): keep submitting a batch after an
    /// SQE fails.
    pub fn setup_submit_all(&mut self) -> &mut Self {
        self.flag(sys::SETUP_SUBMIT_ALL)
    }

    /// `IORING_SETUP_COOP_TASKRUN` (5.19): no interrupting IPIs for task
    /// work; it runs on the next kernel entry.
    pub fn setup_coop_taskrun(&mut self) -> &mut Self {
        self.flag(sys::SETUP_COOP_TASKRUN)
    }

    /// `IORING_SETUP_TASKRUN_FLAG` (5.19): set `IORING_SQ_TASKRUN` when task
    /// work is pending; needs COOP_TASKRUN or DEFER_TASKRUN.
    pub fn setup_taskrun_flag(&mut self) -> &mut Self {
        self.flag(sys::SETUP_TASKRUN_FLAG)
    }

    /// `IORING_SETUP_SINGLE_ISSUER` (6.0): only one task submits.
    pub fn setup_single_issuer(&mut self) -> &mut Self {
        self.flag(sys::SETUP_SINGLE_ISSUER)
    }

    /// `IORING_SETUP_DEFER_TASKRUN` (6.1): run completion work only when the
    /// application waits; needs SINGLE_ISSUER.
    pub fn setup_defer_taskrun(&mut self) -> &mut Self {
        self.flag(sys::SETUP_DEFER_TASKRUN)
    }

    /// `IORING_SETUP_NO_SQARRAY` (6.6): no SQ index array; SQEs are consumed
    /// in ring order. This crate always uses ring order, so it costs nothing.
    pub fn setup_no_sqarray(&mut self) -> &mut Self {
        self.flag(sys::SETUP_NO_SQARRAY)
    }

    /// `IORING_SETUP_CQE_MIXED` (6.18): one CQ holds both 16- and 32-byte
    /// completions; a request gets 32 bytes only when it asks (a NOP's
    /// [`cqe32_payload`](crate::opcode::Nop::cqe32_payload), commands that
    /// fill `big_cqe`). The ring's completions are then
    /// [`cqueue::EntryMixed`], which tells the two sizes apart, so this
    /// setter changes the builder's completion type (it replaces
    /// `CQE32`, which the kernel does not take together with it).
    ///
    /// ```
    /// use urix::cqueue::{self, EntryMixed};
    /// use urix::{opcode, squeue, Errno, IoUring};
    /// # fn main() -> urix::Result<()> {
    /// let b = IoUring::<squeue::Entry, cqueue::Entry>::builder().setup_cqe_mixed();
    /// let mut ring = match b.build(8) {
    ///     Err(Errno::INVAL) => return Ok(()), // before 6.18
    ///     r => r?,
    /// };
    /// let small = opcode::Nop::new().build().user_data(1);
    /// let big = opcode::Nop::new().cqe32_payload(7, 8).build().user_data(2);
    /// // SAFETY: (P1) NOPs name no memory.
    /// unsafe { ring.submission().push_multiple(&[small, big]) }.expect("room");
    /// ring.submit_and_wait(2)?;
    /// for cqe in ring.completion() {
    ///     match cqe {
    ///         EntryMixed::Small(e) => assert_eq!(e.user_data_u64(), 1),
    ///         EntryMixed::Big(e) => assert_eq!((e.user_data_u64(), e.big_cqe()), (2, &[7, 8])),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn setup_cqe_mixed(self) -> Builder<S, cqueue::EntryMixed> {
        self.retype()
    }

    /// `IORING_SETUP_SQE_MIXED` (6.19): one SQ holds both 64- and 128-byte
    /// entries; 128-byte ones (`Nop128`, `UringCmd128`) take two slots,
    /// pushed with [`SubmissionQueue::push_128`](crate::SubmissionQueue::push_128),
    /// which pads the wrap. The ring's slots are then
    /// [`squeue::EntryMixed`], so this setter changes the builder's
    /// submission type (it replaces `SQE128`, which the kernel does not
    /// take together with it).
    pub fn setup_sqe_mixed(self) -> Builder<squeue::EntryMixed, C> {
        self.retype()
    }

    /// This builder's settings for a ring of other entry types: the entry
    /// size flags are replaced by those of `S2` and `C2`.
    fn retype<S2: squeue::EntryMarker, C2: cqueue::EntryMarker>(self) -> Builder<S2, C2> {
        let old = S::BUILD_FLAGS.bits() | C::BUILD_FLAGS.bits();
        let new = S2::BUILD_FLAGS.bits() | C2::BUILD_FLAGS.bits();
        let params = Params { flags: self.params.flags & !old | new, ..self.params };
        Builder {
            dontfork: self.dontfork,
            params,
            caller_memory: self.caller_memory,
            // The memory's one ring is still to come (or has been made).
            memory_used: AtomicBool::new(self.memory_used.into_inner()),
            marker: PhantomData,
        }
    }

    /// `IORING_SETUP_SQ_REWIND` (7.0): a non-circular SQ. Every
    /// submission is a batch written from slot 0: the kernel ignores the
    /// SQ head and tail (they stay 0) and reads the `to_submit` entries of
    /// each enter from the start of the SQE array, which stays in cache for
    /// small, frequent batches. Pushing and submitting work as on any ring
    /// ([`SubmissionQueue::push`](crate::SubmissionQueue::push), then a
    /// `submit*`, which passes the batch's length); what the kernel did not
    /// consume moves down to slot 0 for the next submit.
    ///
    /// The kernel needs [`setup_no_sqarray`](Self::setup_no_sqarray) and
    /// refuses it with SQPOLL (`EINVAL` from `build`, as from kernels before
    /// 7.0, which do not know the flag). urix also needs
    /// [`setup_single_issuer`](Self::setup_single_issuer) with it, and
    /// `build` answers `EINVAL` without: the kernel keeps no position in
    /// this mode, so two threads submitting at once would both submit the
    /// same batch; with SINGLE_ISSUER the kernel refuses every other
    /// thread's submission (`EEXIST`). The raw `Submitter::enter*` calls
    /// must pass `to_submit = 0` on such a ring (see there). The batch's
    /// length lives in a page urix maps for the ring (one more page-sized
    /// mapping, also with [`setup_no_mmap`](Self::setup_no_mmap)), so
    /// that finding it costs a queue view nothing. Kernel:
    /// `io_submit_sqes` in `io_uring/io_uring.c`; the flag's comment in
    /// `include/uapi/linux/io_uring.h`.
    pub fn setup_sq_rewind(&mut self) -> &mut Self {
        self.flag(sys::SETUP_SQ_REWIND)
    }

    /// `IORING_SETUP_NO_MMAP` (6.5): the rings live in memory the caller
    /// provides instead of kernel memory mapped from the ring fd.
    ///
    /// `rings` holds both the SQ and CQ rings and `sqes` the SQE array; use
    /// [`no_mmap_sizes`](Self::no_mmap_sizes) for the sizes they need. Both
    /// must be page-aligned. `build` refuses too-small regions with `EINVAL`
    /// before the kernel sees them.
    ///
    /// The memory serves one ring: once a `build` has set a ring up in it,
    /// further `build`s of this builder, and every `build` of a clone of
    /// it, fail with `EBUSY` (two kernel rings over the same memory would
    /// overwrite each other's entries). Calling `setup_no_mmap` again
    /// gives the builder memory for one more ring.
    ///
    /// # Safety
    /// Both regions must be valid for reads and writes, not used for
    /// anything else, and outlive the ring in the kernel: the [`IoUring`]
    /// built from this builder and, if its fd was registered with
    /// [`register_ring_fd`](crate::Submitter::register_ring_fd) and not
    /// unregistered, the registering thread (the kernel keeps a registered
    /// ring alive until that thread exits).
    pub unsafe fn setup_no_mmap(
        &mut self,
        rings: *mut u8,
        rings_len: usize,
        sqes: *mut u8,
        sqes_len: usize,
    ) -> &mut Self {
        self.caller_memory = Some(CallerMemory { rings: rings as usize, rings_len, sqes: sqes as usize, sqes_len });
        *self.memory_used.get_mut() = false;
        self.flag(sys::SETUP_NO_MMAP)
    }

    /// Upper bounds of the (rings, SQE array) byte sizes that
    /// [`setup_no_mmap`](Self::setup_no_mmap) needs for `entries` with the
    /// flags set so far, rounded up to the page size.
    pub fn no_mmap_sizes(&self, entries: u32) -> (usize, usize) {
        // The kernel's layout (`super::rings_layout`), before the kernel has
        // said where its CQEs start: the header is one cache line (the
        // ring words take 48 bytes) and no architecture Linux runs on has
        // lines longer than 256 bytes, so 256 for both is an upper bound.
        const LINE_MAX: u32 = 256;
        let p = &self.params;
        let sq = clamp_pow2(entries, 32768);
        let cq = if p.flags & sys::SETUP_CQSIZE != 0 { clamp_pow2(p.cq_entries, 65536) } else { 2 * sq };
        let cqe32 = cqueue::slot_bytes::<C>() > size_of::<sys::Cqe>();
        let no_sqarray = p.flags & sys::SETUP_NO_SQARRAY != 0;
        // At most 256 + 65536 * 16 bytes, doubled, plus 32768 words: no overflow.
        let rings = super::rings_layout(LINE_MAX, LINE_MAX, sq as u32, cq as u32, cqe32, no_sqarray)
            .map_or(usize::MAX, |(_, end)| end as usize);
        let page = rustix::param::page_size();
        let up = |n: usize| n.checked_next_multiple_of(page).unwrap_or(usize::MAX);
        (up(rings), up(sq * size_of::<S>()))
    }

    /// Sets up the ring with (at least) `entries` SQ slots and maps it.
    ///
    /// With [`setup_no_mmap`](Self::setup_no_mmap) memory, `EBUSY` when a
    /// ring was set up in that memory already (see there).
    #[inline]
    pub fn build(&self, entries: u32) -> Result<IoUring<S, C>> {
        let mut p = self.params;
        // R7: one submitting thread, which the kernel enforces only with
        // SINGLE_ISSUER.
        if p.flags & (sys::SETUP_SQ_REWIND | sys::SETUP_SINGLE_ISSUER) == sys::SETUP_SQ_REWIND {
            return Err(Errno::INVAL);
        }
        if let Some(mem) = self.caller_memory {
            let (rings_len, sqes_len) = self.no_mmap_sizes(entries);
            if mem.rings_len < rings_len || mem.sqes_len < sqes_len {
                return Err(Errno::INVAL);
            }
            // Claimed before the kernel sees the memory, so that two
            // threads building at once cannot both get it.
            if self.memory_used.swap(true, Ordering::AcqRel) {
                return Err(Errno::BUSY);
            }
            p.cq_off.user_addr = mem.rings as u64;
            p.sq_off.user_addr = mem.sqes as u64;
        }
        // SAFETY: (S1, S2) `p` is a valid params struct; ATTACH_WQ's fd was promised
        // open by `setup_attach_wq`'s caller, and NO_MMAP memory was checked
        // above to be as large as the kernel will use, promised valid by
        // `setup_no_mmap`'s caller, and claimed for this one ring.
        let raw = match unsafe { sys::syscall::setup(entries, &mut p) } {
            Ok(raw) => raw,
            Err(e) => {
                // No ring was made: the memory may serve another attempt.
                if self.caller_memory.is_some() {
                    self.memory_used.store(false, Ordering::Release);
                }
                return Err(e);
            }
        };
        // SAFETY: (S3) on success io_uring_setup returns a new fd that we own
        // (REGISTERED_FD_ONLY, which returns an index, has no setter).
        let fd = unsafe { OwnedFd::from_raw_fd(raw as RawFd) };
        let mut ring = match self.caller_memory {
            None => IoUring::with_fd(fd, p)?,
            Some(mem) => {
                let (sq_len, cq_len, sqes_len) = super::ring_sizes::<S, C>(&p);
                if sq_len.max(cq_len) > mem.rings_len || sqes_len > mem.sqes_len {
                    return Err(Errno::INVAL);
                }
                let rings = mem.rings as *mut u8;
                // SAFETY: (R1, R2) the caller's regions are at least as large as the
                // kernel's layout needs (checked just above) and outlive the
                // ring (setup_no_mmap's contract), so R1 and R2 hold.
                let (sq, cq) = unsafe { IoUring::<S, C>::views(&p, rings, rings, mem.sqes as *mut u8) }?;
                IoUring {
                    sq,
                    cq,
                    params: super::Parameters(p),
                    ring_index: crate::submit::EnterTarget::new(&fd, p.flags),
                    memory: RingMemory::Caller,
                    dontfork: false,
                    fd,
                }
            }
        };
        if self.dontfork {
            ring.dontfork = true;
            ring.memory.dontfork()?;
        }
        Ok(ring)
    }
}

/// `n` rounded up to a power of two, at least 1 and at most `max`.
fn clamp_pow2(n: u32, max: u32) -> usize {
    n.clamp(1, max).next_power_of_two() as usize
}
