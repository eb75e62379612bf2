//! The submission queue: where requests ([`Entry`]) are pushed for the
//! kernel to pick up.

use core::fmt;
use core::mem::{align_of, size_of};
use core::ptr;
use core::sync::atomic::{self, AtomicU32, Ordering};

use rustix::io_uring::{io_uring_user_data, IoringSetupFlags};

use crate::sys::mmap::Mmap;
use crate::sys::{self, Params, Sqe};

/// A 64-byte submission queue entry, as built by the [`opcode`](crate::opcode) builders.
#[repr(C)]
#[derive(Clone)]
pub struct Entry(pub(crate) Sqe);

/// A 128-byte submission queue entry, for rings set up with
/// `IORING_SETUP_SQE128` (`IoUring<Entry128, _>`); the second half carries
/// the large command of `UringCmd80`.
#[repr(C)]
#[derive(Clone)]
pub struct Entry128(pub(crate) Entry, pub(crate) [u8; 64]);

mod mixed;
pub use mixed::{EntryMixed, PushMixedError};

mod private {
    pub trait Sealed {
        /// How many SQ slots this entry, read from a slot, takes: 1, or 2
        /// for a 128-byte entry in a mixed-size SQ (the second slot is its
        /// second half, not an entry).
        #[inline(always)]
        fn slots(&self) -> u32 {
            1
        }

        /// Formats the entry as one of `slots` slots.
        fn fmt_slots(&self, f: &mut super::fmt::Formatter<'_>) -> super::fmt::Result;
    }
    impl Sealed for super::Entry {
        fn fmt_slots(&self, f: &mut super::fmt::Formatter<'_>) -> super::fmt::Result {
            super::fmt::Debug::fmt(self, f)
        }
    }
    impl Sealed for super::Entry128 {
        fn fmt_slots(&self, f: &mut super::fmt::Formatter<'_>) -> super::fmt::Result {
            super::fmt::Debug::fmt(self, f)
        }
    }
}

/// The submission entry types: [`Entry`] and [`Entry128`]. Sealed.
pub trait EntryMarker: Clone + fmt::Debug + From<Entry> + private::Sealed {
    /// The setup flags a ring of this entry type needs.
    const BUILD_FLAGS: IoringSetupFlags;

    /// Sets the `user_data` echoed into this entry's completion.
    fn set_user_data(&mut self, user_data: io_uring_user_data);

    /// The `user_data` of this entry.
    fn get_user_data(&self) -> io_uring_user_data;
}

bitflags::bitflags! {
    /// `IOSQE_*`: flags of one submission entry.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    pub struct Flags: u8 {
        /// `IOSQE_FIXED_FILE`: the fd is a registered-file index. Set by the
        /// builders when given [`types::Fixed`](crate::types::Fixed).
        #[doc(hidden)]
        const FIXED_FILE = 1 << 0;
        /// `IOSQE_IO_DRAIN` (5.2): start only after every earlier entry completed.
        const IO_DRAIN = 1 << 1;
        /// `IOSQE_IO_LINK` (5.3): the next entry starts after this one
        /// succeeds; a failure cancels the rest of the chain.
        const IO_LINK = 1 << 2;
        /// `IOSQE_IO_HARDLINK` (5.5): like `IO_LINK`, but the chain goes on
        /// after a failure.
        const IO_HARDLINK = 1 << 3;
        /// `IOSQE_ASYNC` (5.6): go straight to an async worker.
        const ASYNC = 1 << 4;
        /// `IOSQE_BUFFER_SELECT` (5.7): pick a buffer from the entry's buffer
        /// group. Set by the builders that take a buffer group.
        const BUFFER_SELECT = 1 << 5;
        /// `IOSQE_CQE_SKIP_SUCCESS` (5.17): post no completion on success.
        const SKIP_SUCCESS = 1 << 6;
    }
}

impl Entry {
    /// ORs `flags` into the entry's flags (it never clears a flag the
    /// builder set; see [`clear_flags`](Self::clear_flags)).
    #[inline]
    pub fn flags(mut self, flags: Flags) -> Entry {
        self.0.flags |= flags.bits();
        self
    }

    /// Clears every flag, including `FIXED_FILE` and `BUFFER_SELECT` set
    /// by the builder.
    #[inline]
    pub fn clear_flags(mut self) -> Entry {
        self.0.flags = 0;
        self
    }

    /// Sets the `user_data` echoed into the completion: a `u64` or a pointer
    /// (an [`io_uring_user_data`]).
    #[inline]
    pub fn user_data(mut self, user_data: impl Into<io_uring_user_data>) -> Entry {
        self.0.user_data = user_data.into().u64_();
        self
    }

    /// Sets the `user_data` in place.
    #[inline]
    pub fn set_user_data(&mut self, user_data: impl Into<io_uring_user_data>) {
        self.0.user_data = user_data.into().u64_();
    }

    /// The `user_data` of this entry.
    #[inline]
    pub fn get_user_data(&self) -> io_uring_user_data {
        io_uring_user_data::from_u64(self.0.user_data)
    }

    /// Runs the request with the credentials of a registered personality.
    #[inline]
    pub fn personality(mut self, personality: u16) -> Entry {
        self.0.personality = personality;
        self
    }

    /// The raw opcode number.
    #[inline]
    pub fn get_opcode(&self) -> u32 {
        self.0.opcode.into()
    }
}

impl Entry128 {
    /// ORs `flags` into the entry's flags.
    #[inline]
    pub fn flags(mut self, flags: Flags) -> Entry128 {
        self.0 = self.0.flags(flags);
        self
    }

    /// Clears every flag, including those set by the builder.
    #[inline]
    pub fn clear_flags(mut self) -> Entry128 {
        self.0 = self.0.clear_flags();
        self
    }

    /// Sets the `user_data` echoed into the completion.
    #[inline]
    pub fn user_data(mut self, user_data: impl Into<io_uring_user_data>) -> Entry128 {
        self.0.set_user_data(user_data);
        self
    }

    /// Sets the `user_data` in place.
    #[inline]
    pub fn set_user_data(&mut self, user_data: impl Into<io_uring_user_data>) {
        self.0.set_user_data(user_data);
    }

    /// The `user_data` of this entry.
    #[inline]
    pub fn get_user_data(&self) -> io_uring_user_data {
        self.0.get_user_data()
    }

    /// Runs the request with the credentials of a registered personality.
    #[inline]
    pub fn personality(mut self, personality: u16) -> Entry128 {
        self.0 = self.0.personality(personality);
        self
    }

    /// The raw opcode number.
    #[inline]
    pub fn get_opcode(&self) -> u32 {
        self.0.get_opcode()
    }
}

impl From<Entry> for Entry128 {
    #[inline]
    fn from(entry: Entry) -> Entry128 {
        Entry128(entry, [0; 64])
    }
}

impl EntryMarker for Entry {
    const BUILD_FLAGS: IoringSetupFlags = IoringSetupFlags::empty();

    #[inline]
    fn set_user_data(&mut self, user_data: io_uring_user_data) {
        self.0.user_data = user_data.u64_();
    }

    #[inline]
    fn get_user_data(&self) -> io_uring_user_data {
        Entry::get_user_data(self)
    }
}

impl EntryMarker for Entry128 {
    const BUILD_FLAGS: IoringSetupFlags = IoringSetupFlags::SQE128;

    #[inline]
    fn set_user_data(&mut self, user_data: io_uring_user_data) {
        self.0 .0.user_data = user_data.u64_();
    }

    #[inline]
    fn get_user_data(&self) -> io_uring_user_data {
        self.0.get_user_data()
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("op_code", &self.0.opcode)
            .field("flags", &Flags::from_bits_retain(self.0.flags))
            .field("user_data", &self.0.user_data)
            .finish()
    }
}

impl fmt::Debug for Entry128 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry128")
            .field("op_code", &self.0 .0.opcode)
            .field("flags", &Flags::from_bits_retain(self.0 .0.flags))
            .field("user_data", &self.0 .0.user_data)
            .finish()
    }
}

/// The queue was full: nothing was pushed. Submit (or, under SQPOLL, wait
/// for the kernel thread to consume entries), [`sync`](SubmissionQueue::sync)
/// the queue view (or take a new one), then try again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushError;

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("submission queue is full")
    }
}

impl core::error::Error for PushError {}

/// The three SQ words a [`Submitter`](crate::Submitter) reads, kept
/// apart from the entry type so that it can borrow them without being
/// generic, and what an `IORING_SETUP_SQ_REWIND` ring submits from.
pub(crate) struct SqWords {
    pub(crate) head: *const AtomicU32,
    /// The kernel's SQ tail word. Never written on an SQ_REWIND ring
    /// (R7): the kernel's UAPI header says head and tail stay 0 there.
    pub(crate) tail: *const AtomicU32,
    pub(crate) flags: *const AtomicU32,
}

/// Pointers into the SQ ring and the SQE array; see the ring invariants in
/// `ring/mod.rs`.
pub(crate) struct Inner<E> {
    pub(crate) words: SqWords,
    /// Where the kernel's `dropped` word is, in bytes from the head word
    /// (an offset rather than a pointer, to leave room for `ring_entries`
    /// without growing the ring).
    dropped_from_head: i32,
    /// `ring_mask + 1`, kept so that a view need not compute it.
    ring_entries: u32,
    pub(crate) batch: Batch,
    /// SQ_REWIND rings: the page that holds the batch length
    /// (`Batch::tail`), unmapped with the `Inner`.
    _rewind_page: Option<Mmap>,
    marker: core::marker::PhantomData<*mut E>,
}

/// The SQE array and its mask, which an SQ_REWIND ring's submit moves
/// entries in, and the word a view keeps its tail in: that ring's batch
/// length (R7). (The ring stays small enough that moving it needs no
/// `memcpy` call, which a `no_std` program need not have.)
pub(crate) struct Batch {
    /// The SQE array (of `E`).
    pub(crate) sqes: *mut u8,
    ring_mask: u32,
    /// The word a view loads its tail from and publishes it to, chosen
    /// at setup so that a view tests no mode to find it. On a plain ring
    /// the kernel's SQ tail word. On an SQ_REWIND ring (R7), whose
    /// kernel tail word must stay 0, how many entries are published at
    /// slots `0..` and not yet submitted (the `to_submit` of the next
    /// enter): a word of ours, the kernel never sees it, at a fixed
    /// address in a page mapped for it (`rewind_page`), as long-lived as
    /// the ring memory (R1).
    tail: *const AtomicU32,
    /// Whether the ring was set up with SQ_REWIND (R7): views publish
    /// through [`publish_rewind`] instead of storing the tail, submits
    /// through `submit_rewind`.
    pub(crate) rewind: bool,
}

impl Batch {
    /// An SQ_REWIND ring's batch length (R7); on a plain ring, the
    /// kernel's SQ tail word.
    #[inline(always)]
    pub(crate) fn len(&self) -> &AtomicU32 {
        // SAFETY: (R1, R2) a live word: the kernel's tail inside the SQ
        // ring, or the word of `Inner::rewind_page`, which lives as long
        // as the `Inner` this `Batch` is part of.
        unsafe { &*self.tail }
    }
}

impl<E> Inner<E> {
    /// The SQE array.
    #[inline(always)]
    fn sqes(&self) -> *mut E {
        self.batch.sqes.cast()
    }

    /// Fails only when an SQ_REWIND ring's page for its batch length
    /// cannot be mapped.
    ///
    /// # Safety
    /// `sq_ring` and `sqes` must point to live SQ-ring and SQE memory laid
    /// out as `p` (kernel-filled) says, large enough for `p.sq_entries`.
    pub(crate) unsafe fn new(sq_ring: *mut u8, sqes: *mut u8, p: &Params) -> rustix::io::Result<Self> {
        let o = &p.sq_off;
        let at = |off: u32| sq_ring.wrapping_add(off as usize);
        // SAFETY: (R2) ring_mask and ring_entries are kernel-written u32 words
        // inside the SQ ring (R2), read once before any sharing starts.
        let (ring_mask, ring_entries) = unsafe { (*at(o.ring_mask).cast::<u32>(), *at(o.ring_entries).cast::<u32>()) };
        if p.flags & sys::SETUP_NO_SQARRAY == 0 {
            let array = at(o.array).cast::<u32>();
            for i in 0..ring_entries {
                // SAFETY: the index array has `ring_entries` u32 slots (R2);
                // the kernel reads it only after we publish a tail.
                unsafe { array.add(i as usize).write(i) };
            }
        }
        let rewind = p.flags & sys::SETUP_SQ_REWIND != 0;
        // SQ_REWIND: the batch length in a page of its own, zeroed (an
        // empty batch, whatever the kernel's tail word says), so that
        // the word stays put when the ring moves. Asked for as the word's
        // size: the kernel maps (and `munmap` frees) the whole page, and
        // the page size need not be looked up (rustix's look-up of the
        // aux vector would pull `memset` into a `no_std` binary).
        let rewind_page = if rewind { Some(Mmap::anonymous(size_of::<AtomicU32>())?) } else { None };
        let tail = match &rewind_page {
            Some(page) => page.as_ptr().cast(),
            None => at(o.tail).cast(),
        };
        Ok(Inner {
            words: SqWords { head: at(o.head).cast(), tail: at(o.tail).cast(), flags: at(o.flags).cast() },
            // Both offsets are u32 inside one mapping of at most a few MiB.
            dropped_from_head: o.dropped.wrapping_sub(o.head) as i32,
            ring_entries,
            batch: Batch { sqes, ring_mask, tail, rewind },
            _rewind_page: rewind_page,
            marker: core::marker::PhantomData,
        })
    }

    /// The kernel-written SQ flags word.
    #[inline]
    pub(crate) fn flags(&self) -> u32 {
        // SAFETY: `flags` is a live shared word (R1, R2, R3).
        unsafe { (*self.words.flags).load(Ordering::Relaxed) }
    }
}

/// The submission queue of a ring, as a snapshot: `push` writes entries
/// and advances a local tail; the kernel sees them after
/// [`sync`](Self::sync) or when this value drops.
pub struct SubmissionQueue<'a, E: EntryMarker = Entry> {
    /// The kernel's head as of the last load.
    head: u32,
    tail: u32,
    /// Copies of the ring's fixed geometry, so that the hot path reads them
    /// from this (unaliased) value instead of reloading them after every
    /// SQE store, which the compiler must otherwise assume could alias.
    ring_mask: u32,
    ring_entries: u32,
    sqes: *mut E,
    /// The shared head and tail words, copied for the same reason. On an
    /// SQ_REWIND ring (R7) the kernel's head (which stays 0) and the
    /// batch length (`Batch::tail`): publishing then moves the pushed
    /// entries down to where the batch now ends and adds them to its
    /// length.
    head_word: *const AtomicU32,
    tail_word: *const AtomicU32,
    /// SQ_REWIND: the slot where this view's unpublished entries start
    /// (the batch's length when it last looked).
    published: u32,
    queue: &'a Inner<E>,
}

// SAFETY: a SubmissionQueue is the ring's only SQ producer (R6); moving it
// to another thread moves that role with it. It touches only SQ memory, which
// no Submitter or CompletionQueue writes, and the shared words atomically (R3).
unsafe impl<E: EntryMarker + Send> Send for SubmissionQueue<'_, E> {}

impl<'a, E: EntryMarker> SubmissionQueue<'a, E> {
    /// # Safety
    /// No other `SubmissionQueue` of this ring may be alive (R6).
    #[inline]
    pub(crate) unsafe fn new(queue: &'a Inner<E>) -> Self {
        // The tail is the kernel's SQ tail word, or on an SQ_REWIND ring
        // the batch's length (R7), chosen at setup.
        let head_word = queue.words.head;
        let tail_word = queue.batch.tail;
        // SAFETY: live words (R1-R3); Acquire on the kernel's head (R4).
        // The tail is ours: R6 makes this the only writer; a submit
        // shortens SQ_REWIND's batch after moving entries, hence Acquire
        // (R7).
        let (head, tail) = unsafe { ((*head_word).load(Ordering::Acquire), (*tail_word).load(Ordering::Acquire)) };
        SubmissionQueue {
            head,
            tail,
            published: tail,
            ring_mask: queue.batch.ring_mask,
            ring_entries: queue.ring_entries,
            sqes: queue.sqes(),
            head_word,
            tail_word,
            queue,
        }
    }
}

impl<E: EntryMarker> SubmissionQueue<'_, E> {
    /// Publishes the pushed entries to the kernel and reloads how far the
    /// kernel has consumed.
    #[inline]
    pub fn sync(&mut self) {
        if self.queue.batch.rewind {
            // SAFETY: (R7) this view's unpublished entries are at slots
            // `published..tail` of this ring's SQE array; `tail_word` is
            // the batch's length.
            let end = unsafe { publish_rewind(self.tail_word, self.sqes, self.published, self.tail) };
            self.published = end;
            self.tail = end;
        } else {
            // SAFETY: live shared word (R1-R3). Release orders the SQE
            // writes before the tail (R4).
            unsafe { (*self.tail_word).store(self.tail, Ordering::Release) };
        }
        // SAFETY: live shared word (R1-R3); Acquire pairs with the kernel's
        // head store (R4). (SQ_REWIND: the kernel keeps it at 0, R7.)
        self.head = unsafe { (*self.head_word).load(Ordering::Acquire) };
    }

    /// Whether the SQPOLL thread sleeps and needs `IORING_ENTER_SQ_WAKEUP`.
    ///
    /// Issues a `SeqCst` fence first, so that a tail published before this
    /// call and the flag read here cannot be reordered (otherwise the kernel
    /// thread could go to sleep without seeing the new tail, and without us
    /// seeing its NEED_WAKEUP).
    #[inline]
    pub fn need_wakeup(&self) -> bool {
        atomic::fence(Ordering::SeqCst);
        self.queue.flags() & sys::SQ_NEED_WAKEUP != 0
    }

    /// [`need_wakeup`](Self::need_wakeup) without the fence, for callers
    /// that issued a `SeqCst` fence themselves since publishing the tail.
    #[inline]
    pub fn need_wakeup_after_intermittent_seqcst(&self) -> bool {
        self.queue.flags() & sys::SQ_NEED_WAKEUP != 0
    }

    /// The number of invalid entries the kernel dropped.
    #[inline]
    pub fn dropped(&self) -> u32 {
        // SAFETY: live shared word (R1-R3).
        unsafe {
            let dropped = self.queue.words.head.byte_offset(self.queue.dropped_from_head as isize);
            (*dropped).load(Ordering::Acquire)
        }
    }

    /// Whether the CQ overflowed: completions wait in the kernel until a
    /// `submit`/`submit_and_wait` (which then enters with GETEVENTS)
    /// flushes them into the CQ.
    #[inline]
    pub fn cq_overflow(&self) -> bool {
        self.queue.flags() & sys::SQ_CQ_OVERFLOW != 0
    }

    /// Whether task work is pending (`IORING_SETUP_TASKRUN_FLAG`): enter
    /// the kernel to have completions posted.
    #[inline]
    pub fn taskrun(&self) -> bool {
        self.queue.flags() & sys::SQ_TASKRUN != 0
    }

    /// The number of SQ slots.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.ring_entries as usize
    }

    /// Entries pushed and not yet consumed by the kernel (as of the last sync).
    #[inline]
    pub fn len(&self) -> usize {
        self.tail.wrapping_sub(self.head()) as usize
    }

    /// Whether no entry is waiting (as of the last sync).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every slot is taken (as of the last sync).
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// Free slots; when the snapshot says fewer than `want`, reload the
    /// kernel's head once (it may have consumed more since).
    #[inline]
    fn room_for(&mut self, want: usize) -> bool {
        let room = |q: &Self| q.ring_entries.wrapping_sub(q.tail.wrapping_sub(q.head)) as usize;
        if room(self) >= want {
            return true;
        }
        self.reload_head();
        room(self) >= want
    }

    /// The kernel's head as of the last load.
    #[inline]
    fn head(&self) -> u32 {
        self.head
    }

    /// Reloads the kernel's head.
    #[inline]
    fn reload_head(&mut self) {
        // SAFETY: live shared word (R1-R3); Acquire pairs with the kernel (R4).
        self.head = unsafe { (*self.head_word).load(Ordering::Acquire) };
    }

    /// Copies `entry` into the next free slot. Fails with [`PushError`]
    /// when the queue is full as of the last [`sync`](Self::sync) (or the
    /// creation of this view): call `sync`, or submit, and push again.
    /// ([`push_multiple`](Self::push_multiple) and
    /// [`push_with`](Self::push_with) reload the kernel's head once before
    /// failing.)
    ///
    /// # Safety
    /// Every buffer, fd and pointer the entry names must stay valid until
    /// the operation is over: until its last completion is reaped (for a
    /// multishot operation, the one without `IORING_CQE_F_MORE`; with
    /// `IOSQE_CQE_SKIP_SUCCESS`, which posts nothing on success, until a
    /// later completion shows it is over, such as that of the next member
    /// of its link chain). Until then the program must not write memory
    /// the kernel reads, nor read or write memory it writes: the kernel
    /// acts on them without Rust's knowledge.
    ///
    /// Dropping the ring does not end that duty early: after the ring fd
    /// closes, the kernel cancels what is still in flight in the background,
    /// and an operation already running in a kernel worker thread (a
    /// blocking file read, say) can still write its buffer then. Memory of
    /// operations whose completions were never reaped must be leaked, or
    /// kept until the operations are known to be over (an
    /// [`AsyncCancel`](crate::opcode::AsyncCancel) and the completions it
    /// leads to, or [`Submitter::register_sync_cancel`](crate::Submitter::register_sync_cancel)).
    ///
    /// A registered buffer counts as memory the entry names: the range a
    /// `ReadFixed` or `WriteFixed` uses must stay valid until its
    /// completion, even if the buffer is unregistered meanwhile (the kernel
    /// keeps the pages pinned, and writes into them). A registered file
    /// slot may be replaced at any time: the kernel holds its own reference
    /// to the file it looked up (an entry that has not started yet, such as
    /// a later member of a link chain, uses what the slot holds then).
    #[inline]
    pub unsafe fn push(&mut self, entry: &E) -> Result<(), PushError> {
        // Full as of the snapshot (as in io-uring and rustix-uring): no
        // reload here, so that in a loop of pushes the check is one
        // compare against a register; `sync` reloads the head.
        if self.tail == self.head.wrapping_add(self.ring_entries) {
            return Err(PushError);
        }
        // SAFETY: (R5) room_for(1) found a free slot.
        unsafe { self.write_next(entry) };
        Ok(())
    }

    /// Pushes all of `entries`, or none of them when they do not all fit.
    ///
    /// One room check for the whole slice; the entries are then copied
    /// into the free slots as at most two contiguous runs (up to the end
    /// of the SQE array, then from its start), with no per-entry index
    /// arithmetic.
    ///
    /// # Safety
    /// As for [`push`](Self::push), for every entry.
    #[inline]
    pub unsafe fn push_multiple(&mut self, entries: &[E]) -> Result<(), PushError> {
        if entries.len() > self.capacity() || !self.room_for(entries.len()) {
            return Err(PushError);
        }
        let start = (self.tail & self.ring_mask) as usize;
        // Slots from `start` to the end of the array, then from slot 0.
        let first = entries.len().min(self.ring_entries as usize - start);
        let (run1, run2) = entries.split_at(first);
        // SAFETY: room_for covered all of `entries` (R5), and the runs
        // stay inside the SQE array (R2): `start + first <= ring_entries`,
        // and `run2.len() < start` since the whole slice fits.
        unsafe {
            copy_run(run1, self.sqes.add(start));
            copy_run(run2, self.sqes);
        }
        self.tail = self.tail.wrapping_add(entries.len() as u32);
        Ok(())
    }

    /// Pushes `n` entries, the `i`-th made by `make(i)` and written
    /// straight into its slot, after one room check for all `n`; pushes
    /// none when they do not all fit.
    ///
    /// This is the batch form of [`push`](Self::push): the builder's
    /// entry is constructed in the slot (no copy through the stack), and
    /// the room check, the ring geometry and the tail are dealt with once
    /// per batch rather than per entry. Nothing is published before
    /// [`sync`](Self::sync) (or the drop of this queue), so if `make`
    /// panics, the entries already written are simply never submitted.
    ///
    /// ```
    /// # use urix::{opcode, IoUring};
    /// # fn main() -> urix::Result<()> {
    /// let mut ring = IoUring::new(64)?;
    /// // SAFETY: (P1) NOPs name no memory.
    /// unsafe { ring.submission().push_with(32, |i| opcode::Nop::new().build().user_data(i as u64)) }
    ///     .expect("a fresh ring of 64 has room for 32");
    /// ring.submit_and_wait(32)?;
    /// assert_eq!(ring.completion().count(), 32);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Safety
    /// As for [`push`](Self::push), for every entry `make` returns.
    #[inline]
    pub unsafe fn push_with<F: FnMut(usize) -> E>(&mut self, n: usize, mut make: F) -> Result<(), PushError> {
        if n > self.capacity() || !self.room_for(n) {
            return Err(PushError);
        }
        let tail = self.tail;
        let start = (tail & self.ring_mask) as usize;
        // Two contiguous runs: up to the end of the SQE array, then from
        // slot 0, walked by pointer (the geometry in locals, so that the
        // entry stores cannot make the compiler reload it).
        let first = n.min(self.ring_entries as usize - start);
        let sqes = self.sqes;
        // SAFETY: room_for(n) found `n` free slots from the tail on (R5);
        // the runs stay inside the SQE array (R2): `start + first <=
        // ring_entries`, and the rest (`n - first`) is fewer than `start`.
        unsafe {
            let mut slot = sqes.add(start);
            for i in 0..first {
                slot.write(make(i));
                slot = slot.add(1);
            }
            let mut slot = sqes;
            for i in first..n {
                slot.write(make(i));
                slot = slot.add(1);
            }
        }
        self.tail = tail.wrapping_add(n as u32);
        Ok(())
    }

    /// Copies `entry` into the slot at the local tail and advances it.
    ///
    /// # Safety
    /// The slot must be free: `tail - head < ring_entries`.
    #[inline(always)]
    unsafe fn write_next(&mut self, entry: &E) {
        let slot = (self.tail & self.ring_mask) as usize;
        // SAFETY: `slot` is inside the SQE array (R2, R5: masked index) and
        // free (the caller's promise), so no kernel read of it is pending.
        unsafe { copy_entry(entry, self.sqes.add(slot)) };
        self.tail = self.tail.wrapping_add(1);
    }
}

/// Publishing on an SQ_REWIND ring (R7), out of line, cold (so that a
/// plain ring's view keeps its registers) and given values (so that the
/// view need not live in memory): the view wrote its entries at
/// slots `at..tail`; a submit since may have shortened the batch, so they
/// move down to where it now ends, and the batch's length grows by their
/// number in one compare-and-swap (a submit that shortens it in between
/// makes this move again). Returns the batch's new length.
///
/// # Safety
/// `word` (`Batch::tail`, R7) and `sqes` are an SQ_REWIND ring's;
/// slots `at..tail` hold the caller's unpublished entries, and `at` was the
/// batch's length when the caller last looked (R7).
#[cold]
#[inline(never)]
unsafe fn publish_rewind<E>(word: *const AtomicU32, sqes: *mut E, mut at: u32, tail: u32) -> u32 {
    // SAFETY: (R1, R7) the ring's live batch length, the caller's promise.
    let word = unsafe { &*word };
    let count = tail.wrapping_sub(at);
    let mut len = word.load(Ordering::Acquire);
    loop {
        // Only submits shorten the batch, and only this view (R6)
        // lengthens it: `len <= at`. Checked anyway; a longer batch would
        // mean a broken invariant, and then nothing is published.
        if len > at {
            return len;
        }
        if len != at {
            // SAFETY: (R7, R2) slots `at..at + count` hold this view's
            // unpublished entries, `len..at` slots the batch no longer
            // covers (submitted, or moved down by the submitter before it
            // shortened the batch): neither the kernel nor the submitter
            // touches slots from `len` on. `copy` allows the overlap;
            // `at + count <= ring_entries`.
            unsafe {
                move_down(sqes.add(at as usize).cast(), sqes.add(len as usize).cast(), count as usize * size_of::<E>())
            };
            at = len;
        }
        match word.compare_exchange_weak(len, len + count, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return at + count,
            Err(now) => len = now,
        }
    }
}

/// Copies `bytes` bytes (a multiple of 8) from `src` down to `dst`, front
/// to back, so that overlapping ranges with `dst <= src` come out right.
/// SQ_REWIND's moves (R7), rare: volatile word accesses, so that the
/// compiler cannot turn the loop into a call to `memmove`, which a
/// `no_std` program need not have.
///
/// # Safety
/// Both ranges lie inside one SQE array, 8-byte aligned, `dst <= src`, and
/// nothing else accesses them meanwhile.
pub(crate) unsafe fn move_down(src: *const u8, dst: *mut u8, bytes: usize) {
    let (src, dst) = (src.cast::<u64>(), dst.cast::<u64>());
    let mut i = 0;
    while i < bytes / 8 {
        // SAFETY: (R2, R7) word `i` is inside both ranges; front to back,
        // a word is read before any write to a lower address reaches it.
        unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
        i += 1;
    }
}

/// Copies an entry into an SQE slot as 8-byte words.
///
/// A plain struct copy leaves the compiler a byte range of the caller's
/// freshly built entry that it keeps on the stack, zeroes and copies on
/// every push (the fields no builder touched); word-sized copies let it
/// store the known values straight into the slot.
///
/// # Safety
/// `dst` must be valid for writing one `E`.
#[inline(always)]
unsafe fn copy_entry<E: EntryMarker>(src: &E, dst: *mut E) {
    const { assert!(size_of::<E>().is_multiple_of(64) && align_of::<E>() >= 8) };
    let (src, dst) = (ptr::from_ref(src).cast::<u64>(), dst.cast::<u64>());
    let mut base = 0;
    while base < size_of::<E>() / 8 {
        // SAFETY: (R2, R5) words `base..base + 8` are inside both entries (the size
        // is a multiple of 64 bytes, the alignment at least 8: checked
        // above); `dst` is the caller's promise.
        unsafe {
            let w = src.add(base);
            // The first word as two halves: opcode, flags and ioprio, then
            // the fd. Halves the compiler knows both of still merge into
            // one store; a variable fd (a read's) is stored on its own
            // rather than shifted into the word.
            let (h0, h1) = (w.cast::<u32>().read(), w.cast::<u32>().add(1).read());
            let (w1, w2, w3) = (w.add(1).read(), w.add(2).read(), w.add(3).read());
            let (w4, w5, w6, w7) = (w.add(4).read(), w.add(5).read(), w.add(6).read(), w.add(7).read());
            let d = dst.add(base);
            d.cast::<u32>().write(h0);
            d.cast::<u32>().add(1).write(h1);
            d.add(1).write(w1);
            d.add(2).write(w2);
            d.add(3).write(w3);
            d.add(4).write(w4);
            d.add(5).write(w5);
            d.add(6).write(w6);
            d.add(7).write(w7);
        }
        base += 8;
    }
}

/// Copies `src` into consecutive slots from `dst` on.
///
/// # Safety
/// `dst` must be valid for writing `src.len()` entries.
#[inline(always)]
unsafe fn copy_run<E: EntryMarker>(src: &[E], dst: *mut E) {
    let mut d = dst;
    for entry in src {
        // SAFETY: (R5) `d` is one of the `src.len()` slots from `dst` on (the
        // caller's promise: slots the kernel is done with).
        unsafe {
            copy_entry(entry, d);
            d = d.add(1);
        }
    }
}

impl<E: EntryMarker> Drop for SubmissionQueue<'_, E> {
    // Always inlined and small: an out-of-line drop on some (error) path
    // would make the compiler keep the whole view in memory on every path.
    #[inline(always)]
    fn drop(&mut self) {
        if self.queue.batch.rewind {
            // SAFETY: (R7) as in `sync`.
            unsafe { publish_rewind(self.tail_word, self.sqes, self.published, self.tail) };
        } else {
            // SAFETY: live shared word (R1-R3); Release publishes the
            // entries (R4).
            unsafe { (*self.tail_word).store(self.tail, Ordering::Release) };
        }
    }
}

impl<E: EntryMarker> fmt::Debug for SubmissionQueue<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        // SQ_REWIND: only this view's own entries; the submitter may be
        // moving the published ones (R7).
        let mut pos = if self.queue.batch.rewind { self.published } else { self.head() };
        while pos != self.tail {
            let slot = (pos & self.ring_mask) as usize;
            // SAFETY: (R2, R5) slots in head..tail hold entries we pushed; the kernel
            // only reads SQEs, so a shared read is sound (R2, R5).
            let entry = unsafe { &*self.sqes.add(slot) };
            list.entry(&Slots(entry));
            // A 128-byte entry of a mixed SQ: its second slot is no entry
            // (never past the tail, whatever the slot says).
            let left = self.tail.wrapping_sub(pos);
            pos = pos.wrapping_add(entry.slots().min(left));
        }
        list.finish()
    }
}

/// An entry as read from its slot(s), for [`SubmissionQueue`]'s `Debug`.
struct Slots<'a, E>(&'a E);

impl<E: EntryMarker> fmt::Debug for Slots<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_slots(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opcode::Nop;

    #[test]
    fn flags_or_and_clear() {
        let e = Nop::new().build().flags(Flags::IO_LINK).flags(Flags::ASYNC);
        assert_eq!(e.0.flags, Flags::IO_LINK.bits() | Flags::ASYNC.bits());
        assert_eq!(e.clear_flags().0.flags, 0);
        assert_eq!(Flags::all().bits(), 0x7f);
    }

    #[test]
    fn user_data_and_personality_round_trip() {
        let mut e = Nop::new().build().user_data(5).personality(3);
        assert_eq!(e.get_user_data().u64_(), 5);
        assert_eq!(e.0.personality, 3);
        e.set_user_data(9);
        assert_eq!(EntryMarker::get_user_data(&e).u64_(), 9);
        let big: Entry128 = e.into();
        assert_eq!((big.get_user_data().u64_(), big.get_opcode(), big.1), (9, 0, [0; 64]));
    }

    #[test]
    fn entries_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Entry>();
        check::<Entry128>();
        check::<crate::cqueue::Entry>();
        check::<crate::cqueue::Entry32>();
        check::<crate::Parameters>();
        check::<crate::types::SubmitArgs<'static, 'static>>();
        check::<crate::types::Timespec>();
        check::<crate::IoUring>();
        check::<crate::Builder>();
    }
}
