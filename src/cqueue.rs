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

mod private {
    pub trait Sealed {}
    impl Sealed for super::Entry {}
    impl Sealed for super::Entry32 {}
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

    /// Whether the snapshot holds no more completions.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    /// Whether the snapshot fills the whole CQ.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.tail.wrapping_sub(self.head) == self.queue.ring_entries
    }

    /// Moves as many completions as fit into `entries` and returns them.
    #[inline]
    pub fn fill<'a>(&mut self, entries: &'a mut [MaybeUninit<E>]) -> &'a mut [E] {
        let n = entries.len().min(self.len());
        for slot in &mut entries[..n] {
            slot.write(self.pop());
        }
        // SAFETY: (S4) the first `n` elements were initialised just above, and
        // `MaybeUninit<E>` has the layout of `E`.
        unsafe { &mut *(core::ptr::from_mut(&mut entries[..n]) as *mut [E]) }
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

    /// Takes the entry at the local head. Only called when `head != tail`.
    #[inline]
    fn pop(&mut self) -> E {
        let slot = (self.head & self.ring_mask) as usize;
        // SAFETY: head != tail (caller), so the kernel published this slot
        // and Acquire on the tail made it visible (R4, R5); the pointer is
        // inside the CQE array (R2). Entries are POD, any bytes are valid.
        let entry = unsafe { self.cqes.add(slot).read() };
        self.head = self.head.wrapping_add(1);
        entry
    }
}

impl<E: EntryMarker> Iterator for CompletionQueue<'_, E> {
    type Item = E;

    #[inline]
    fn next(&mut self) -> Option<E> {
        if self.head == self.tail {
            None
        } else {
            Some(self.pop())
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.tail.wrapping_sub(self.head) as usize;
        (n, Some(n))
    }
}

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
