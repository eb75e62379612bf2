//! The completion queue: where the kernel posts results ([`Entry`]).

use core::fmt;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU32, Ordering};

use rustix::io::Errno;
use rustix::io_uring::{io_uring_user_data, IoringSetupFlags};

use crate::sys::{self, Cqe, Params};

/// A 16-byte completion queue entry.
#[repr(C)]
#[derive(Clone)]
pub struct Entry(pub(crate) Cqe);

/// A 32-byte completion queue entry, for rings set up with
/// `IORING_SETUP_CQE32` (`IoUring<_, Entry32>`): 16 more bytes of
/// operation-specific data in [`big_cqe`](Entry32::big_cqe).
#[repr(C)]
#[derive(Clone)]
pub struct Entry32(pub(crate) Entry, pub(crate) [u64; 2]);

mod mixed;
pub use mixed::EntryMixed;

/// How each entry type sits in the CQ ring: the only per-type knowledge
/// the reader needs, kept out of the public trait (it is sealed).
mod private {
    use super::{Entry, Entry32};
    use crate::sys::CQE_F_SKIP;

    pub trait Sealed: Sized {
        /// Bytes one CQ ring index takes in the CQE array (16 or 32).
        const SLOT_BYTES: usize;

        /// Takes the next completion at or after `*head`, moving `*head`
        /// past it and past any `IORING_CQE_F_SKIP` filler before it;
        /// `None` (with `*head` past any fillers) when `head..tail` holds
        /// no more completions.
        ///
        /// # Safety
        /// `cqes` is the CQE array of a live ring set up for `Self` (R1,
        /// R2) and the slots `*head..tail` were published by the kernel,
        /// as seen through an `Acquire` load of its tail (R4, R5).
        unsafe fn take(cqes: *const Self, head: &mut u32, tail: u32, mask: u32) -> Option<Self>;

        /// How many completions [`take`](Self::take) would yield from
        /// `head..tail`, counting no further than `limit`.
        ///
        /// # Safety
        /// As for [`take`](Self::take).
        unsafe fn count(cqes: *const Self, head: u32, tail: u32, mask: u32, limit: u32) -> u32;

        /// Folds `f` over what [`take`](Self::take) would yield from
        /// `*head..tail`, moving `*head` past each completion before `f`
        /// sees it (so a panic in `f` leaves the ones it saw consumed, as
        /// with `next`).
        ///
        /// # Safety
        /// As for [`take`](Self::take).
        #[inline(always)]
        unsafe fn fold<B, F: FnMut(B, Self) -> B>(
            cqes: *const Self,
            head: &mut u32,
            tail: u32,
            mask: u32,
            init: B,
            mut f: F,
        ) -> B {
            let mut acc = init;
            // SAFETY: (R2, R4, R5) forwarded from the caller, as `take` needs.
            while let Some(entry) = unsafe { Self::take(cqes, head, tail, mask) } {
                acc = f(acc, entry);
            }
            acc
        }
    }

    /// The snapshot `head..tail` as at most two contiguous runs of the
    /// CQE array: the first run's start slot and length, then the second
    /// run's length (from slot 0). A tail more than a ring ahead of the
    /// head (which no kernel writes, but the word is shared memory) is
    /// taken as one ring's worth, so that both runs stay inside the array
    /// whatever the word says.
    #[inline(always)]
    fn runs(head: u32, tail: u32, mask: u32) -> (usize, usize, usize) {
        let n = (tail.wrapping_sub(head) as usize).min(mask as usize + 1);
        let start = (head & mask) as usize;
        let first = n.min(mask as usize + 1 - start);
        (start, first, n - first)
    }

    /// Walks the snapshot `*head..tail` of the CQE array at `cqes` by
    /// pointer over its (at most two) contiguous runs, handing each slot
    /// to `each` (see [`walk`]).
    ///
    /// # Safety
    /// As for [`Sealed::take`]: `cqes` is the ring's CQE array of
    /// `mask + 1` slots (R2), and `*head..tail` was published (R4, R5).
    #[inline(always)]
    unsafe fn walk_runs<E, B>(
        cqes: *const E,
        head: &mut u32,
        tail: u32,
        mask: u32,
        init: B,
        each: &mut impl FnMut(B, E) -> B,
    ) -> B {
        let (start, first, second) = runs(*head, tail, mask);
        // SAFETY: (R2, R4, R5) `start + first <= ring_entries` and `second <= start`
        // (`runs` counts at most `ring_entries`): both runs lie in the
        // array (R2), inside the published `head..tail` (the caller's
        // promise, R4, R5).
        unsafe {
            let acc = walk(cqes.add(start), first, head, init, each);
            walk(cqes, second, head, acc, each)
        }
    }

    /// Walks `len` slots from `p` by pointer, moving `*head` past each
    /// before handing it to `each`.
    ///
    /// # Safety
    /// The `len` slots from `p` lie in the CQE array (R2) and were
    /// published (R4, R5).
    #[inline(always)]
    unsafe fn walk<E, B>(
        mut p: *const E,
        len: usize,
        head: &mut u32,
        mut acc: B,
        each: &mut impl FnMut(B, E) -> B,
    ) -> B {
        // SAFETY: (R2) the caller's promise: the `len` slots lie in the
        // CQE array, so `end` is at most one past its last slot.
        let end = unsafe { p.add(len) };
        while p != end {
            // SAFETY: (R2, R4, R5) `p` is one of the `len` slots; entries
            // are POD.
            let entry = unsafe { p.read() };
            // SAFETY: (R2) at most `end`, as above.
            p = unsafe { p.add(1) };
            *head = head.wrapping_add(1);
            acc = each(acc, entry);
        }
        acc
    }

    /// The 16-byte ring: the kernel posts a filler only where a 32-byte
    /// completion would wrap, and a ring without `CQE32` or `CQE_MIXED`
    /// never gets a 32-byte completion (`IORING_NOP_CQE32` and the commands
    /// that post big completions fail with `EINVAL` there), so no slot of
    /// it is ever a filler: no check, no per-entry cost.
    impl Sealed for Entry {
        const SLOT_BYTES: usize = 16;

        #[inline(always)]
        unsafe fn take(cqes: *const Self, head: &mut u32, tail: u32, mask: u32) -> Option<Self> {
            if *head == tail {
                return None;
            }
            // SAFETY: (R2, R4, R5) head != tail, so the kernel published this slot and
            // the caller's Acquire made it visible (R4, R5); the index is
            // masked, inside the CQE array (R2). Entries are POD.
            let entry = unsafe { cqes.add((*head & mask) as usize).read() };
            *head = head.wrapping_add(1);
            Some(entry)
        }

        #[inline(always)]
        unsafe fn count(_: *const Self, head: u32, tail: u32, _: u32, limit: u32) -> u32 {
            tail.wrapping_sub(head).min(limit)
        }

        /// By pointer over the (at most two) contiguous runs: no index
        /// arithmetic per completion.
        #[inline(always)]
        unsafe fn fold<B, F: FnMut(B, Self) -> B>(
            cqes: *const Self,
            head: &mut u32,
            tail: u32,
            mask: u32,
            init: B,
            mut f: F,
        ) -> B {
            // SAFETY: forwarded from the caller (R2, R4, R5).
            unsafe { walk_runs(cqes, head, tail, mask, init, &mut f) }
        }
    }

    /// The 32-byte ring: kernels up to 7.2 could post an `F_SKIP` filler
    /// in the last slot of a plain `CQE32` ring (fixed in the 7.3 cycle),
    /// so every entry's flags are checked (one test and a branch that is
    /// not taken). A filler only ever fills the slot before the wrap, so
    /// the count reads that one slot, when it lies in `head..tail`.
    impl Sealed for Entry32 {
        const SLOT_BYTES: usize = 32;

        #[inline(always)]
        unsafe fn take(cqes: *const Self, head: &mut u32, tail: u32, mask: u32) -> Option<Self> {
            while *head != tail {
                // SAFETY: as for `Entry::take` (R2, R4, R5).
                let entry = unsafe { cqes.add((*head & mask) as usize).read() };
                *head = head.wrapping_add(1);
                if entry.0 .0.flags & CQE_F_SKIP == 0 {
                    return Some(entry);
                }
            }
            None
        }

        #[inline]
        unsafe fn count(cqes: *const Self, head: u32, tail: u32, mask: u32, limit: u32) -> u32 {
            let n = tail.wrapping_sub(head);
            // Positions from `head` up to the last slot: the range covers
            // the last slot when it holds more than that many.
            let before_last = mask - (head & mask);
            // SAFETY: the last slot lies in head..tail (R4, R5) and in the
            // array (R2).
            let filler = n > before_last && unsafe { (*cqes.add(mask as usize)).0 .0.flags } & CQE_F_SKIP != 0;
            (n - u32::from(filler)).min(limit)
        }

        /// By pointer over the contiguous runs, fillers skipped.
        #[inline(always)]
        unsafe fn fold<B, F: FnMut(B, Self) -> B>(
            cqes: *const Self,
            head: &mut u32,
            tail: u32,
            mask: u32,
            init: B,
            mut f: F,
        ) -> B {
            let mut each = |acc, entry: Self| if entry.0 .0.flags & CQE_F_SKIP == 0 { f(acc, entry) } else { acc };
            // SAFETY: forwarded from the caller (R2, R4, R5).
            unsafe { walk_runs(cqes, head, tail, mask, init, &mut each) }
        }
    }
}

/// The completion entry types: [`Entry`] and [`Entry32`]. Sealed.
pub trait EntryMarker: Clone + fmt::Debug + Into<Entry> + private::Sealed {
    /// The setup flags a ring of this entry type needs.
    const BUILD_FLAGS: IoringSetupFlags;

    /// The `user_data` of the request this entry completes.
    fn user_data(&self) -> io_uring_user_data;

    /// Overwrites the `user_data` (useful when forwarding entries).
    fn set_user_data(&mut self, user_data: io_uring_user_data);
}

bitflags::bitflags! {
    /// `IORING_CQE_F_*`: flags of one completion. Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Flags: u32 {
        /// `IORING_CQE_F_BUFFER` (5.7): a provided buffer was used; its id
        /// is in the upper 16 bits ([`buffer_select`]).
        const BUFFER = sys::CQE_F_BUFFER;
        /// `IORING_CQE_F_MORE` (5.13): a multishot request goes on; more
        /// completions will follow.
        const MORE = sys::CQE_F_MORE;
        /// `IORING_CQE_F_SOCK_NONEMPTY` (5.19): the socket has more data queued.
        const SOCK_NONEMPTY = sys::CQE_F_SOCK_NONEMPTY;
        /// `IORING_CQE_F_NOTIF` (6.0): a zero-copy send's notification.
        const NOTIF = sys::CQE_F_NOTIF;
        /// `IORING_CQE_F_BUF_MORE` (6.12): the incrementally consumed
        /// provided buffer will receive more data.
        const BUF_MORE = sys::CQE_F_BUF_MORE;
        /// `IORING_CQE_F_SKIP` (6.18): a filler entry in a mixed-size CQ.
        const SKIP = sys::CQE_F_SKIP;
        /// `IORING_CQE_F_32` (6.18): a 32-byte entry in a mixed-size CQ.
        const F_32 = sys::CQE_F_32;
    }
}

impl Entry {
    /// The result: the operation's return value, or the error it failed with.
    ///
    /// A negative `res` outside the errno range (`-4095..=-1`), which Linux
    /// never posts, is reported as `EINVAL`; [`raw_result`](Self::raw_result)
    /// still has it.
    #[inline]
    pub fn result(&self) -> Result<u32, Errno> {
        match self.0.res {
            res if res >= 0 => Ok(res as u32),
            res @ -4095..=-1 => Err(Errno::from_raw_os_error(-res)),
            _ => Err(Errno::INVAL),
        }
    }

    /// The raw `res` field: non-negative results, or a negated errno.
    #[inline]
    pub fn raw_result(&self) -> i32 {
        self.0.res
    }

    /// The `user_data` of the request this entry completes.
    #[inline]
    pub fn user_data(&self) -> io_uring_user_data {
        io_uring_user_data::from_u64(self.0.user_data)
    }

    /// The `user_data` as a `u64`.
    #[inline]
    pub fn user_data_u64(&self) -> u64 {
        self.0.user_data
    }

    /// The `user_data` as a pointer (as stored with `user_data(ptr)`).
    #[inline]
    pub fn user_data_ptr(&self) -> *mut core::ffi::c_void {
        self.user_data().ptr()
    }

    /// The completion's flags.
    #[inline]
    pub fn flags(&self) -> Flags {
        Flags::from_bits_retain(self.0.flags)
    }

    /// Overwrites the `user_data`.
    #[inline]
    pub fn set_user_data(&mut self, user_data: impl Into<io_uring_user_data>) {
        self.0.user_data = user_data.into().u64_();
    }
}

impl Entry32 {
    /// The result: the operation's return value, or the error it failed with.
    #[inline]
    pub fn result(&self) -> Result<u32, Errno> {
        self.0.result()
    }

    /// The raw `res` field.
    #[inline]
    pub fn raw_result(&self) -> i32 {
        self.0.raw_result()
    }

    /// The `user_data` of the request this entry completes.
    #[inline]
    pub fn user_data(&self) -> io_uring_user_data {
        self.0.user_data()
    }

    /// The `user_data` as a `u64`, as [`Entry::user_data_u64`] gives it.
    #[inline]
    pub fn user_data_u64(&self) -> u64 {
        self.0.user_data_u64()
    }

    /// The `user_data` as a pointer, as [`Entry::user_data_ptr`] gives it.
    #[inline]
    pub fn user_data_ptr(&self) -> *mut core::ffi::c_void {
        self.0.user_data_ptr()
    }

    /// The completion's flags.
    #[inline]
    pub fn flags(&self) -> Flags {
        self.0.flags()
    }

    /// The 16 extra bytes of a 32-byte completion.
    #[inline]
    pub fn big_cqe(&self) -> &[u64; 2] {
        &self.1
    }

    /// Overwrites the `user_data`.
    #[inline]
    pub fn set_user_data(&mut self, user_data: impl Into<io_uring_user_data>) {
        self.0.set_user_data(user_data);
    }
}

impl From<Entry32> for Entry {
    #[inline]
    fn from(entry: Entry32) -> Entry {
        entry.0
    }
}

impl EntryMarker for Entry {
    const BUILD_FLAGS: IoringSetupFlags = IoringSetupFlags::empty();

    #[inline]
    fn user_data(&self) -> io_uring_user_data {
        Entry::user_data(self)
    }

    #[inline]
    fn set_user_data(&mut self, user_data: io_uring_user_data) {
        Entry::set_user_data(self, user_data);
    }
}

impl EntryMarker for Entry32 {
    const BUILD_FLAGS: IoringSetupFlags = IoringSetupFlags::CQE32;

    #[inline]
    fn user_data(&self) -> io_uring_user_data {
        self.0.user_data()
    }

    #[inline]
    fn set_user_data(&mut self, user_data: io_uring_user_data) {
        self.0.set_user_data(user_data);
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("result", &self.0.res)
            .field("user_data", &self.0.user_data)
            .field("flags", &self.flags())
            .finish()
    }
}

impl fmt::Debug for Entry32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry32")
            .field("result", &self.0 .0.res)
            .field("user_data", &self.0 .0.user_data)
            .field("flags", &self.flags())
            .field("big_cqe", &self.1)
            .finish()
    }
}

/// The id of the provided buffer a completion used, if it used one.
#[inline]
pub fn buffer_select(flags: Flags) -> Option<u16> {
    if flags.contains(Flags::BUFFER) {
        Some((flags.bits() >> sys::CQE_BUFFER_SHIFT) as u16)
    } else {
        None
    }
}

/// Whether a multishot request will post more completions (`F_MORE`).
#[inline]
pub fn more(flags: Flags) -> bool {
    flags.contains(Flags::MORE)
}

/// Whether the socket still had data after this receive (`F_SOCK_NONEMPTY`).
#[inline]
pub fn sock_nonempty(flags: Flags) -> bool {
    flags.contains(Flags::SOCK_NONEMPTY)
}

/// Whether this is a zero-copy send's notification (`F_NOTIF`).
#[inline]
pub fn notif(flags: Flags) -> bool {
    flags.contains(Flags::NOTIF)
}

/// Whether an incrementally consumed provided buffer will receive more
/// data, so it must not be recycled yet (`F_BUF_MORE`, 6.12).
#[inline]
pub fn buffer_more(flags: Flags) -> bool {
    flags.contains(Flags::BUF_MORE)
}

/// Bytes one CQ ring index of a ring of `C` takes in the CQE array: 16,
/// or 32 for [`Entry32`] (a mixed ring's slots are 16 bytes).
#[inline]
pub(crate) const fn slot_bytes<C: EntryMarker>() -> usize {
    <C as private::Sealed>::SLOT_BYTES
}

/// Pointers into the CQ ring; see the ring invariants in `ring/mod.rs`.
pub(crate) struct Inner<E> {
    head: *const AtomicU32,
    tail: *const AtomicU32,
    flags: *const AtomicU32,
    overflow: *const AtomicU32,
    ring_mask: u32,
    ring_entries: u32,
    cqes: *const E,
}

impl<E> Inner<E> {
    /// # Safety
    /// `cq_ring` must point to live CQ-ring memory laid out as `p`
    /// (kernel-filled) says, with `p.cq_entries` slots of `E`.
    pub(crate) unsafe fn new(cq_ring: *mut u8, p: &Params) -> Self {
        let o = &p.cq_off;
        let at = |off: u32| cq_ring.wrapping_add(off as usize);
        // SAFETY: kernel-written u32 words inside the CQ ring (R2), read
        // once before any sharing starts.
        let (ring_mask, ring_entries) = unsafe { (*at(o.ring_mask).cast::<u32>(), *at(o.ring_entries).cast::<u32>()) };
        Inner {
            head: at(o.head).cast(),
            tail: at(o.tail).cast(),
            flags: at(o.flags).cast(),
            overflow: at(o.overflow).cast(),
            ring_mask,
            ring_entries,
            cqes: at(o.cqes).cast(),
        }
    }
}

/// The completion queue of a ring, as a snapshot iterator: it yields the
/// completions that were there when it was created (or last
/// [`sync`](Self::sync)ed), and hands their slots back to the kernel on
/// `sync` or when it drops.
pub struct CompletionQueue<'a, E: EntryMarker = Entry> {
    head: u32,
    tail: u32,
    /// Copies of the ring's fixed geometry and head word, so that the
    /// loop over completions keeps them in registers instead of reloading
    /// them from the ring after every atomic access.
    ring_mask: u32,
    cqes: *const E,
    head_word: *const AtomicU32,
    queue: &'a Inner<E>,
}

// SAFETY: a CompletionQueue is the ring's only CQ consumer (R6); moving it
// to another thread moves that role with it. It touches only CQ memory, which
// no Submitter or SubmissionQueue reads or writes, and the shared words
// atomically (R3).
unsafe impl<E: EntryMarker + Send> Send for CompletionQueue<'_, E> {}

impl<'a, E: EntryMarker> CompletionQueue<'a, E> {
    /// # Safety
    /// No other `CompletionQueue` of this ring may be alive (R6).
    #[inline]
    pub(crate) unsafe fn new(queue: &'a Inner<E>) -> Self {
        // SAFETY: live shared words (R1-R3). The head is ours (R6); Acquire
        // on the kernel's tail makes the entries before it visible (R4).
        let (head, tail) = unsafe { ((*queue.head).load(Ordering::Relaxed), (*queue.tail).load(Ordering::Acquire)) };
        CompletionQueue { head, tail, ring_mask: queue.ring_mask, cqes: queue.cqes, head_word: queue.head, queue }
    }
}

impl<E: EntryMarker> CompletionQueue<'_, E> {
    /// Hands consumed slots back to the kernel and loads new completions.
    #[inline]
    pub fn sync(&mut self) {
        // SAFETY: live shared words (R1-R3). Release orders our reads of
        // the consumed slots before the kernel may reuse them (R4).
        unsafe {
            (*self.head_word).store(self.head, Ordering::Release);
            self.tail = (*self.queue.tail).load(Ordering::Acquire);
        }
    }

    /// How many completions the kernel had to drop because the CQ was
    /// full and it could not keep them (never grows with FEAT_NODROP unless
    /// the kernel ran out of memory).
    #[inline]
    pub fn overflow(&self) -> u32 {
        // SAFETY: live shared word (R1-R3).
        unsafe { (*self.queue.overflow).load(Ordering::Acquire) }
    }

    /// Whether eventfd notifications are switched off (`IORING_CQ_EVENTFD_DISABLED`).
    #[inline]
    pub fn eventfd_disabled(&self) -> bool {
        // SAFETY: live shared word (R1-R3).
        unsafe { (*self.queue.flags).load(Ordering::Acquire) & sys::CQ_EVENTFD_DISABLED != 0 }
    }

    /// Switches eventfd notifications for this ring off or on (5.8).
    #[inline]
    pub fn set_eventfd_disabled(&mut self, disabled: bool) {
        // SAFETY: live shared word (R1-R3) that only the application writes.
        let flags = unsafe { &*self.queue.flags };
        if disabled {
            flags.fetch_or(sys::CQ_EVENTFD_DISABLED, Ordering::Release);
        } else {
            flags.fetch_and(!sys::CQ_EVENTFD_DISABLED, Ordering::Release);
        }
    }

    /// The number of CQ slots.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.queue.ring_entries as usize
    }

    /// Whether the snapshot holds no more completions (`IORING_CQE_F_SKIP`
    /// fillers do not count).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.remaining(1) == 0
    }

    /// Whether the snapshot fills the whole CQ (every slot, fillers and
    /// both halves of 32-byte completions of a mixed ring included).
    #[inline]
    pub fn is_full(&self) -> bool {
        self.tail.wrapping_sub(self.head) == self.queue.ring_entries
    }

    /// Moves as many completions as fit into `entries` and returns them.
    #[inline]
    pub fn fill<'a>(&mut self, entries: &'a mut [MaybeUninit<E>]) -> &'a mut [E] {
        let mut n = 0;
        for slot in entries.iter_mut() {
            match self.next() {
                Some(entry) => slot.write(entry),
                None => break,
            };
            n += 1;
        }
        // SAFETY: (S4) the first `n` elements were initialised just above, and
        // `MaybeUninit<E>` has the layout of `E`.
        unsafe { &mut *(core::ptr::from_mut(&mut entries[..n]) as *mut [E]) }
    }

    /// How many completions the snapshot still holds, counting no
    /// further than `limit`.
    #[inline]
    fn remaining(&self, limit: u32) -> u32 {
        // SAFETY: the CQE array of this ring (R1, R2); head..tail was
        // published, the tail loaded with Acquire (R4, R5).
        unsafe { E::count(self.cqes, self.head, self.tail, self.ring_mask, limit) }
    }

    /// A borrow-free check of whether completions are waiting, for polling
    /// from code that cannot hold this queue.
    ///
    /// # Safety
    /// The returned value must not be used after the ring is dropped.
    #[inline]
    pub unsafe fn status(&self) -> CompletionStatus {
        CompletionStatus { head: self.queue.head, tail: self.queue.tail }
    }
}

/// Yields the completions of the snapshot, skipping `IORING_CQE_F_SKIP`
/// fillers on the rings where the kernel can post them (see
/// [`ExactSizeIterator`] below for what each entry type costs).
impl<E: EntryMarker> Iterator for CompletionQueue<'_, E> {
    type Item = E;

    #[inline]
    fn next(&mut self) -> Option<E> {
        // SAFETY: the CQE array of this ring (R1, R2); head..tail was
        // published, the tail loaded with Acquire (R4, R5). Entries are
        // POD, any bytes are valid.
        unsafe { E::take(self.cqes, &mut self.head, self.tail, self.ring_mask) }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining(u32::MAX) as usize;
        (n, Some(n))
    }

    /// The snapshot's completions, walked by pointer over its (at most
    /// two) contiguous runs of the CQE array, with no index arithmetic
    /// per completion: the cheapest way to drain the queue (`for_each`,
    /// `count`, `sum` and the like come here too). The slots go back to
    /// the kernel when the queue drops, as after `next`.
    #[inline]
    fn fold<B, F: FnMut(B, E) -> B>(mut self, init: B, f: F) -> B {
        // SAFETY: the CQE array of this ring (R1, R2); head..tail was
        // published, the tail loaded with Acquire (R4, R5).
        unsafe { E::fold(self.cqes, &mut self.head, self.tail, self.ring_mask, init, f) }
    }
}

/// `len()` is exactly the number of completions `next` will still yield,
/// fillers not counted:
/// - [`Entry`]: `tail - head`; a 16-byte ring never holds a filler.
/// - [`Entry32`]: `tail - head`, less one when the last slot lies in the
///   snapshot and is a filler (the only place the kernel puts one): one
///   read of that slot.
/// - [`EntryMixed`]: a walk over the snapshot's flags words, since a
///   32-byte completion takes two slots: O(completions). Iterate with
///   `next` instead where the count is not needed.
impl<E: EntryMarker> ExactSizeIterator for CompletionQueue<'_, E> {}

impl<E: EntryMarker> Drop for CompletionQueue<'_, E> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: live shared word (R1-R3); Release as in `sync` (R4).
        unsafe { (*self.head_word).store(self.head, Ordering::Release) };
    }
}

impl<E: EntryMarker> fmt::Debug for CompletionQueue<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletionQueue")
            .field("head", &self.head)
            .field("tail", &self.tail)
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// A detached view of the CQ's head and tail, to test for waiting
/// completions without holding a [`CompletionQueue`]. Stale as soon as it
/// is read. Created by [`CompletionQueue::status`].
#[derive(Debug)]
pub struct CompletionStatus {
    head: *const AtomicU32,
    tail: *const AtomicU32,
}

impl CompletionStatus {
    /// Whether the CQ holds no completion the application has not consumed.
    #[inline]
    pub fn is_empty(&self) -> bool {
        // SAFETY: `status`'s caller promised the ring is alive (R1-R3).
        unsafe { (*self.head).load(Ordering::Relaxed) == (*self.tail).load(Ordering::Acquire) }
    }
}

// SAFETY: a CompletionStatus only performs atomic loads of two shared words
// (R3), valid as long as the ring lives, which `status`'s caller promised.
unsafe impl Send for CompletionStatus {}
// SAFETY: as above; `&CompletionStatus` allows nothing more.
unsafe impl Sync for CompletionStatus {}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    fn cqe(res: i32, flags: u32) -> Entry {
        Entry(Cqe { user_data: 77, res, flags })
    }

    #[test]
    fn result_maps_negative_res_to_errno() {
        assert_eq!(cqe(5, 0).result(), Ok(5));
        assert_eq!(cqe(-9, 0).result(), Err(Errno::BADF));
        assert_eq!(cqe(i32::MIN, 0).raw_result(), i32::MIN);
        assert_eq!(cqe(i32::MIN, 0).result(), Err(Errno::INVAL), "not an errno: no panic");
        assert_eq!(cqe(-4096, 0).result(), Err(Errno::INVAL));
        assert_eq!(cqe(-4095, 0).result(), Err(Errno::from_raw_os_error(4095)));
    }

    #[test]
    fn flag_helpers_read_their_bits_and_keep_unknown_ones() {
        let f = cqe(0, (7 << 16) | 0x1f).flags();
        assert_eq!(buffer_select(f), Some(7));
        assert!(more(f) && sock_nonempty(f) && notif(f) && buffer_more(f));
        assert_eq!(buffer_select(cqe(0, 7 << 16).flags()), None, "BUFFER bit clear");
        assert_eq!(cqe(0, 0x8000_0000).flags().bits(), 0x8000_0000);
    }

    #[test]
    fn entry32_keeps_the_big_cqe_and_converts_down() {
        let e = Entry32(cqe(1, 2), [3, 4]);
        assert_eq!(e.big_cqe(), &[3, 4]);
        let small: Entry = e.into();
        assert_eq!((small.user_data_u64(), small.raw_result(), small.flags().bits()), (77, 1, 2));
    }

    /// A hand-made CQ ring of `slots` CQ indices of `slot_bytes` each:
    /// the ring words at the offsets below, the CQE array at 64.
    struct FakeCq {
        mem: [u64; 1024],
        p: Params,
    }

    impl FakeCq {
        fn new(slots: u32) -> FakeCq {
            let mut p = Params { cq_entries: slots, ..Params::default() };
            let o = &mut p.cq_off;
            (o.head, o.tail, o.ring_mask, o.ring_entries, o.overflow, o.flags, o.cqes) = (0, 4, 8, 12, 16, 20, 64);
            let mut cq = FakeCq { mem: [0; 1024], p };
            cq.word(8, slots - 1);
            cq.word(12, slots);
            cq
        }

        fn word(&mut self, off: usize, v: u32) {
            assert!(off.is_multiple_of(4) && off < 64);
            // SAFETY: (R2) an aligned u32 inside `mem`'s first 64 bytes.
            unsafe { self.mem.as_mut_ptr().cast::<u8>().add(off).cast::<u32>().write(v) }
        }

        fn read_word(&self, off: usize) -> u32 {
            assert!(off.is_multiple_of(4) && off < 64);
            // SAFETY: (R2) as in `word`.
            unsafe { self.mem.as_ptr().cast::<u8>().add(off).cast::<u32>().read() }
        }

        /// Writes a CQE into 16-byte slot `slot` (of the array seen as
        /// 16-byte slots).
        fn cqe(&mut self, slot: usize, user_data: u64, res: i32, flags: u32) {
            assert!(8 + 2 * slot + 1 < self.mem.len());
            // SAFETY: (R2) 16 bytes inside `mem`, 8-aligned as a Cqe needs.
            unsafe { self.mem.as_mut_ptr().add(8 + 2 * slot).cast::<Cqe>().write(Cqe { user_data, res, flags }) }
        }

        fn words(&mut self, slot: usize, a: u64, b: u64) {
            self.mem[8 + 2 * slot] = a;
            self.mem[8 + 2 * slot + 1] = b;
        }

        fn inner<E: EntryMarker>(&mut self) -> Inner<E> {
            // SAFETY: (R1, R2) the words and the array lie inside `mem` (64 + at
            // most 2 * 8 * 60 bytes), laid out as `p` says.
            unsafe { Inner::new(self.mem.as_mut_ptr().cast(), &self.p) }
        }
    }

    #[test]
    fn plain_ring_yields_every_slot_and_counts_exactly() {
        let mut cq = FakeCq::new(4);
        for i in 0..4 {
            cq.cqe(i, 10 + i as u64, i as i32, 0);
        }
        cq.word(0, 2);
        cq.word(4, 6); // positions 2..6: slots 2, 3, 0, 1
        let inner = cq.inner::<Entry>();
        // SAFETY: (R6) the only queue view of this fake ring.
        let mut q = unsafe { CompletionQueue::new(&inner) };
        assert_eq!(q.len(), 4);
        let got: std::vec::Vec<u64> = q.by_ref().map(|e| e.user_data_u64()).collect();
        assert_eq!(got, [12, 13, 10, 11]);
        assert!(q.is_empty());
        drop(q);
        assert_eq!(cq.read_word(0), 6, "the head went back to the ring");
    }

    #[test]
    fn cqe32_ring_skips_a_filler_in_its_last_slot_and_len_says_so() {
        // 4 slots of 32 bytes = 8 slots of 16 bytes in FakeCq's units.
        let mut cq = FakeCq::new(4);
        for i in 0..4 {
            cq.cqe(2 * i, 20 + i as u64, 0, 0);
            cq.words(2 * i + 1, 100 + i as u64, 200 + i as u64);
        }
        cq.cqe(6, 0, 0, sys::CQE_F_SKIP); // slot 3 is a filler
        cq.word(0, 1);
        cq.word(4, 5); // positions 1..5: slots 1, 2, 3 (filler), 0
        let inner = cq.inner::<Entry32>();
        // SAFETY: (R6) the only queue view of this fake ring.
        let mut q = unsafe { CompletionQueue::new(&inner) };
        assert_eq!(q.len(), 3, "the filler is not counted");
        let a = q.next().unwrap();
        assert_eq!((a.user_data_u64(), a.big_cqe()), (21, &[101, 201]));
        assert_eq!(q.len(), 2);
        assert_eq!(q.next().unwrap().user_data_u64(), 22);
        assert_eq!(q.len(), 1);
        let b = q.next().unwrap();
        assert_eq!((b.user_data_u64(), b.big_cqe()), (20, &[100, 200]), "past the filler");
        assert_eq!((q.len(), q.next().is_none(), q.is_empty()), (0, true, true));
        drop(q);
        assert_eq!(cq.read_word(0), 5);
    }

    #[test]
    fn fold_walks_both_runs_and_hands_the_slots_back() {
        let mut cq = FakeCq::new(4);
        for i in 0..4 {
            cq.cqe(i, 10 + i as u64, i as i32, 0);
        }
        cq.word(0, 3);
        cq.word(4, 6); // positions 3..6: slots 3, then 0, 1
        let inner = cq.inner::<Entry>();
        // SAFETY: (R6) the only queue view of this fake ring.
        let q = unsafe { CompletionQueue::new(&inner) };
        let got = q.fold(std::vec::Vec::new(), |mut v, e| {
            v.push(e.user_data_u64());
            v
        });
        assert_eq!(got, [13, 10, 11]);
        assert_eq!(cq.read_word(0), 6, "the head went back to the ring");
        // An empty snapshot folds to the initial value.
        let inner = cq.inner::<Entry>();
        // SAFETY: (R6) as above.
        let q = unsafe { CompletionQueue::new(&inner) };
        assert_eq!(q.fold(7, |n, _| n + 1), 7);
        // A snapshot of the whole ring that starts at slot 0: one run.
        cq.word(0, 8);
        cq.word(4, 12); // positions 8..12: slots 0 to 3
        let inner = cq.inner::<Entry>();
        // SAFETY: (R6) as above.
        let mut q = unsafe { CompletionQueue::new(&inner) };
        assert_eq!(q.next().map(|e| e.user_data_u64()), Some(10));
        assert_eq!(q.map(|e| e.user_data_u64()).sum::<u64>(), 11 + 12 + 13);
        assert_eq!(cq.read_word(0), 12);
    }

    #[test]
    fn fold_reads_no_more_than_a_ring_whatever_the_tail_says() {
        let mut cq = FakeCq::new(4);
        for i in 0..4 {
            cq.cqe(i, 30 + i as u64, 0, 0);
        }
        // A tail 1000 ahead of the head (positions 2..1002): a ring's
        // worth is read, slots 2, 3, 0, 1, and nothing outside the array
        // (Miri would see it).
        cq.word(0, 2);
        cq.word(4, 1002);
        let inner = cq.inner::<Entry>();
        // SAFETY: (R6) the only queue view of this fake ring.
        let q = unsafe { CompletionQueue::new(&inner) };
        let got = q.fold(std::vec::Vec::new(), |mut v, e| {
            v.push(e.user_data_u64());
            v
        });
        assert_eq!(got, [32, 33, 30, 31]);
    }

    #[test]
    fn fold_skips_a_cqe32_filler_and_stops_at_a_panic() {
        let mut cq = FakeCq::new(4);
        for i in 0..4 {
            cq.cqe(2 * i, 20 + i as u64, 0, 0);
            cq.words(2 * i + 1, 100 + i as u64, 200 + i as u64);
        }
        cq.cqe(6, 0, 0, sys::CQE_F_SKIP); // slot 3 is a filler
        cq.word(0, 2);
        cq.word(4, 6); // positions 2..6: slots 2, 3 (filler), 0, 1
        let inner = cq.inner::<Entry32>();
        // SAFETY: (R6) the only queue view of this fake ring.
        let q = unsafe { CompletionQueue::new(&inner) };
        let got = q.fold(std::vec::Vec::new(), |mut v, e| {
            v.push((e.user_data_u64(), e.big_cqe()[0]));
            v
        });
        assert_eq!(got, [(22, 102), (20, 100), (21, 101)]);
        assert_eq!(cq.read_word(0), 6);
        // A panic in the closure: what it saw is consumed, the rest stays.
        cq.word(4, 10); // positions 6..10: slots 2, 3 (filler), 0, 1
        let inner = cq.inner::<Entry32>();
        let seen = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: (R6) as above.
            let q = unsafe { CompletionQueue::new(&inner) };
            q.fold(0, |n, e| if e.user_data_u64() == 20 { panic!("stop") } else { n + 1 })
        }));
        assert!(seen.is_err());
        assert_eq!(cq.read_word(0), 9, "slots 2, 3 (filler) and 0 consumed, slot 1 left");
    }

    #[test]
    fn fold_on_a_mixed_ring_matches_next() {
        let mut cq = FakeCq::new(8);
        cq.cqe(6, 1, 0, 0);
        cq.cqe(7, 0, 0, sys::CQE_F_SKIP);
        cq.cqe(0, 2, 0, sys::CQE_F_32);
        cq.words(1, 5, 6);
        cq.cqe(2, 3, 0, 0);
        cq.word(0, 6);
        cq.word(4, 11); // 6..11: slots 6, 7 (filler), 0-1, 2
        let inner = cq.inner::<EntryMixed>();
        // SAFETY: (R6) the only queue view of this fake ring.
        let q = unsafe { CompletionQueue::new(&inner) };
        let ids = q.fold(std::vec::Vec::new(), |mut v, e| {
            v.push((e.user_data_u64(), e.big_cqe().copied()));
            v
        });
        assert_eq!(ids, [(1, None), (2, Some([5, 6])), (3, None)]);
        assert_eq!(cq.read_word(0), 11);
    }

    #[test]
    fn cqe32_ring_with_only_a_filler_left_is_empty() {
        let mut cq = FakeCq::new(2);
        cq.cqe(2, 0, 0, sys::CQE_F_SKIP);
        cq.word(0, 1);
        cq.word(4, 2);
        let inner = cq.inner::<Entry32>();
        // SAFETY: (R6) the only queue view of this fake ring.
        let mut q = unsafe { CompletionQueue::new(&inner) };
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
        assert!(q.next().is_none());
        drop(q);
        assert_eq!(cq.read_word(0), 2, "the filler's slot is handed back");
    }

    #[test]
    fn mixed_ring_yields_both_sizes_and_skips_the_wrap_filler() {
        let mut cq = FakeCq::new(8);
        // positions 5..14: small at 5, big at 6-7 (ends at the last slot
        // exactly), small at 8 (slot 0)... laid out by slot:
        cq.cqe(5, 1, 0, 0);
        cq.cqe(6, 2, 7, sys::CQE_F_32);
        cq.words(7, 0xaaaa, 0xbbbb);
        cq.cqe(0, 3, -11, 0);
        cq.cqe(1, 4, 0, sys::CQE_F_32);
        cq.words(2, 0xcccc, 0xdddd);
        cq.cqe(3, 5, 0, 0);
        cq.cqe(4, 6, 0, 0);
        cq.word(0, 5);
        cq.word(4, 13); // 5..13: slots 5, 6-7, 0, 1-2, 3, 4
        let inner = cq.inner::<EntryMixed>();
        // SAFETY: (R6) the only queue view of this fake ring.
        let mut q = unsafe { CompletionQueue::new(&inner) };
        assert_eq!(q.len(), 6);
        let all: std::vec::Vec<EntryMixed> = q.by_ref().collect();
        let ids: std::vec::Vec<(u64, bool)> = all.iter().map(|e| (e.user_data_u64(), e.is_big())).collect();
        assert_eq!(ids, [(1, false), (2, true), (3, false), (4, true), (5, false), (6, false)]);
        assert_eq!(all[1].big_cqe(), Some(&[0xaaaa, 0xbbbb]));
        assert_eq!(all[1].result(), Ok(7));
        assert_eq!(all[2].result(), Err(Errno::AGAIN));
        assert_eq!(all[3].big_cqe(), Some(&[0xcccc, 0xdddd]));
        assert!(all[3].flags().contains(Flags::F_32));
        drop(q);
        assert_eq!(cq.read_word(0), 13);

        // Now a big completion meets the wrap: filler in slot 7, the big
        // one in slots 0-1, then a small one.
        cq.cqe(5, 7, 0, 0);
        cq.cqe(6, 8, 0, 0);
        cq.cqe(7, 0, 0, sys::CQE_F_SKIP);
        cq.cqe(0, 9, 0, sys::CQE_F_32);
        cq.words(1, 1, 2);
        cq.cqe(2, 10, 0, 0);
        cq.word(4, 19); // 13..19: slots 5, 6, 7 (filler), 0-1, 2
        let inner = cq.inner::<EntryMixed>();
        // SAFETY: (R6) the only queue view of this fake ring.
        let mut q = unsafe { CompletionQueue::new(&inner) };
        assert_eq!(q.len(), 4, "the filler is not counted, the big one once");
        let mut out = [const { MaybeUninit::uninit() }; 8];
        let got = q.fill(&mut out);
        let ids: std::vec::Vec<(u64, Option<[u64; 2]>)> =
            got.iter().map(|e| (e.user_data_u64(), e.big_cqe().copied())).collect();
        assert_eq!(ids, [(7, None), (8, None), (9, Some([1, 2])), (10, None)]);
        assert!(q.is_empty());
    }

    #[test]
    fn mixed_ring_waits_for_both_halves_of_a_big_completion() {
        let mut cq = FakeCq::new(4);
        cq.cqe(0, 1, 0, 0);
        cq.cqe(1, 2, 0, sys::CQE_F_32);
        cq.word(4, 2); // the big one's second half is not published
        let inner = cq.inner::<EntryMixed>();
        // SAFETY: (R6) the only queue view of this fake ring.
        let mut q = unsafe { CompletionQueue::new(&inner) };
        assert_eq!(q.len(), 1);
        assert_eq!(q.next().map(|e| e.user_data_u64()), Some(1));
        assert!(q.next().is_none() && q.is_empty());
        assert_eq!(q.len(), 0);
        drop(q);
        assert_eq!(cq.read_word(0), 1, "the half-published entry stays in the ring");
        // A first half in the last slot (the kernel never does this) is
        // read with its second half from slot 0, still inside the array.
        cq.word(0, 3);
        cq.cqe(3, 3, 0, sys::CQE_F_32);
        cq.word(4, 5);
        let inner = cq.inner::<EntryMixed>();
        // SAFETY: (R6) the only queue view of this fake ring.
        let mut q = unsafe { CompletionQueue::new(&inner) };
        assert_eq!(q.len(), 1);
        assert_eq!(q.next().map(|e| e.user_data_u64()), Some(3));
        assert!(q.next().is_none());
    }

    #[test]
    fn slot_bytes_per_entry_type() {
        assert_eq!((slot_bytes::<Entry>(), slot_bytes::<Entry32>(), slot_bytes::<EntryMixed>()), (16, 32, 16));
        assert_eq!(EntryMixed::BUILD_FLAGS.bits(), 1 << 18);
    }

    #[test]
    fn entry32_gives_its_user_data_as_u64_and_pointer() {
        let mut e = Entry32(cqe(0, 0), [0, 0]);
        assert_eq!(e.user_data_u64(), 77);
        e.set_user_data(u64::MAX - 1);
        assert_eq!(e.user_data_u64(), u64::MAX - 1);
        let mut x = 0u32;
        let p: *mut core::ffi::c_void = (&mut x as *mut u32).cast();
        e.set_user_data(p);
        assert_eq!(e.user_data_ptr(), p);
        assert_eq!(e.user_data_u64(), p as u64);
    }
}
