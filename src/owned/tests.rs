//! The table under a stand-in kernel: no ring, completions made by hand.
//! Runs under Miri (`cargo +nightly miri test -p urix --lib owned`).
//!
//! T1 (test wakers): a counting waker's data pointer is always the
//! `&'static AtomicUsize` it was made from; its vtable only reads it.

use core::sync::atomic::{AtomicUsize, Ordering};
use core::task::{Context, Poll, Waker};

use super::table::{
    encode, next_gen, slot_next_gen, Completion, Multishot, Operation, Prep, Reaped, Release, Shots, SlotStore, Table,
    GEN_SHIFT, RING_SHIFT, TAG_SHIFT,
};
use crate::buf_ring::BufRing;
use crate::cqueue::{self, Flags};
use crate::squeue::Entry;
use crate::sys::Cqe;
use rustix::io::Errno;

fn cqe(ud: u64, res: i32, flags: Flags) -> cqueue::Entry {
    cqueue::Entry(Cqe { user_data: ud, res, flags: flags.bits() })
}

/// An operation with memory the "kernel" writes, and a drop counter.
struct Probe {
    mem: [u8; 16],
    drops: &'static AtomicUsize,
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: test operation: names `self.mem`, a field.
unsafe impl Operation for Probe {
    type Output = (Result<u32, Errno>, [u8; 16]);
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(crate::opcode::Read::new(crate::types::Fd(0), self.mem.as_mut_ptr(), 16).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        (done.result(), self.mem)
    }
}

/// A multishot test operation.
struct Stream(&'static AtomicUsize);

impl Drop for Stream {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: names no memory.
unsafe impl Operation for Stream {
    type Output = ();
    const SHOTS: Shots = Shots::Many;
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(crate::opcode::Nop::new().build())
    }
    fn complete(self, _: Completion) {}
}

impl Multishot for Stream {
    type Item = Result<u32, Errno>;
    fn item(&mut self, c: Completion) -> Self::Item {
        c.result()
    }
}

/// A two-completion test operation (as SEND_ZC).
struct Zc(&'static AtomicUsize);

impl Drop for Zc {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: names no memory.
unsafe impl Operation for Zc {
    type Output = Option<Result<u32, Errno>>;
    const SHOTS: Shots = Shots::Notif;
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(crate::opcode::Nop::new().build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        done.first_result()
    }
}

/// An operation whose build fails.
struct Refuses(u8);

// SAFETY: names no memory.
unsafe impl Operation for Refuses {
    type Output = ();
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        Err(Errno::INVAL)
    }
    fn complete(self, _: Completion) {}
}

const PREP: Prep<'static> = Prep { uid: 1, files: 0, bgid: None, fixed: &[], ring: None };
const RING: u16 = 77;

macro_rules! table {
    ($n:literal) => {{
        static S: SlotStore<$n, 64> = SlotStore::new();
        Table::new(S.take().expect("fresh store"), RING)
    }};
}

fn push<T: Operation>(t: &mut Table<4, 64>, op: T) -> u64 {
    let Ok((ud, _)) = t.prepare(op, &PREP) else { panic!("refused") };
    t.commit(ud);
    ud
}

/// The stand-in kernel writing into an operation's memory, as the real
/// one does through the SQE's address.
fn kernel_write(sqe_addr: u64, bytes: &[u8]) {
    let p = sqe_addr as *mut u8;
    // SAFETY: (O1) test only: `sqe_addr` is the address of a live Probe's
    // `mem` in its slot (O1), 16 bytes.
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len().min(16)) };
}

fn sqe_addr(sqe: &Entry) -> u64 {
    sqe.0.addr
}

#[test]
fn complete_then_poll_returns_the_memory_the_kernel_wrote() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let (ud, sqe) = t.prepare(Probe { mem: [0; 16], drops: &DROPS }, &PREP).map_err(|r| r.errno).unwrap();
    t.commit(ud);
    kernel_write(sqe_addr(&sqe), b"hello");
    assert_eq!(t.poll_slot::<Probe>(ud, None, &mut None), Poll::Pending);
    assert_eq!(t.complete(&cqe(ud, 5, Flags::empty()), &mut None), Reaped::Op);
    let Poll::Ready((res, mem)) = t.poll_slot::<Probe>(ud, None, &mut None) else { panic!("not ready") };
    assert_eq!(res, Ok(5));
    assert_eq!(&mem[..5], b"hello");
    assert_eq!(t.used(), 0);
    // Moved out of the slot once and dropped once, by `complete`.
    assert_eq!(DROPS.load(Ordering::Relaxed), 1, "dropped exactly once");
    // The ticket is stale now.
    assert_eq!(t.poll_slot::<Probe>(ud, None, &mut None), Poll::Pending);
}

#[test]
fn foreign_stale_duplicate_and_reserved_values_touch_nothing() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let ud = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    let other_gen = ud ^ (1 << GEN_SHIFT);
    let other_ring = ud ^ (1 << RING_SHIFT);
    let bad_index = (ud & !0xffff) | 9;
    let (tag3, tag0) = (ud | (3 << TAG_SHIFT), ud & !(3 << TAG_SHIFT));
    for f in [0, u64::MAX, other_gen, other_ring, bad_index, 0x1234, tag3, tag0] {
        assert_eq!(t.complete(&cqe(f, 1, Flags::empty()), &mut None), Reaped::Foreign, "{f:#x}");
    }
    // F_MORE on a single-shot operation is foreign too.
    assert_eq!(t.complete(&cqe(ud, 1, Flags::MORE), &mut None), Reaped::Foreign);
    assert_eq!(t.stats.foreign, 9);
    assert_eq!(t.used(), 1);
    assert_eq!(t.complete(&cqe(ud, 3, Flags::empty()), &mut None), Reaped::Op);
    // A duplicate of the last completion: the slot is Completed, not waiting.
    assert_eq!(t.complete(&cqe(ud, 3, Flags::empty()), &mut None), Reaped::Foreign);
    assert!(matches!(t.poll_slot::<Probe>(ud, None, &mut None), Poll::Ready((Ok(3), _))));
    // Late duplicate after the slot was freed and reused.
    let ud2 = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    assert_eq!(ud2 & 0xffff, ud & 0xffff, "same slot reused");
    assert_ne!(ud2, ud, "new generation");
    assert_eq!(t.complete(&cqe(ud, 3, Flags::empty()), &mut None), Reaped::Foreign);
    assert_eq!(t.poll_slot::<Probe>(ud2, None, &mut None), Poll::Pending);
    // The cancel tag frees nothing.
    let c = t.cancel_ud(ud2);
    assert_eq!(t.complete(&cqe(c, 0, Flags::empty()), &mut None), Reaped::Cancel);
    assert_eq!(t.used(), 1);
    assert!(t.abandon_slot(ud2, &mut None).is_some());
    assert_eq!(t.complete(&cqe(ud2, -125, Flags::empty()), &mut None), Reaped::Op);
    assert_eq!(t.used(), 0);
    assert_eq!(DROPS.load(Ordering::Relaxed), 2, "each op dropped once");
}

#[test]
fn abandoned_memory_stays_until_the_last_completion() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let (ud, sqe) = t.prepare(Probe { mem: [0; 16], drops: &DROPS }, &PREP).map_err(|r| r.errno).unwrap();
    t.commit(ud);
    assert_eq!(t.abandon_slot(ud, &mut None), Some(ud), "in flight: a cancel is wanted");
    assert_eq!(DROPS.load(Ordering::Relaxed), 0, "kept while the kernel may write");
    // The kernel writes late, after the abandon: still our slot's memory.
    kernel_write(sqe_addr(&sqe), b"late");
    // The cancel's own completion frees nothing.
    assert_eq!(t.complete(&cqe(t.cancel_ud(ud), 0, Flags::empty()), &mut None), Reaped::Cancel);
    assert_eq!(DROPS.load(Ordering::Relaxed), 0);
    assert_eq!(t.complete(&cqe(ud, -125, Flags::empty()), &mut None), Reaped::Op);
    assert_eq!(DROPS.load(Ordering::Relaxed), 1, "freed at the last completion, once");
    assert_eq!(t.used(), 0);
    // Abandoning again, or after the fact, does nothing.
    assert_eq!(t.abandon_slot(ud, &mut None), None);
    assert_eq!(DROPS.load(Ordering::Relaxed), 1);
}

#[test]
fn abandon_after_completion_releases_at_once() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let ud = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    t.complete(&cqe(ud, 0, Flags::empty()), &mut None);
    assert_eq!(t.abandon_slot(ud, &mut None), None, "nothing to cancel");
    assert_eq!(DROPS.load(Ordering::Relaxed), 1);
    assert_eq!(t.used(), 0);
}

#[test]
fn full_table_refuses_and_gives_the_op_back() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let uds: [u64; 4] = core::array::from_fn(|_| push(&mut t, Probe { mem: [0; 16], drops: &DROPS }));
    let r = t.prepare(Probe { mem: [7; 16], drops: &DROPS }, &PREP).map(|_| ()).unwrap_err();
    assert_eq!(r.errno, Errno::BUSY);
    assert_eq!(r.op.mem, [7; 16]);
    drop(r);
    assert_eq!(DROPS.load(Ordering::Relaxed), 1, "only the refused one, by its owner");
    // A build error gives it back too, and the slot stays free.
    t.complete(&cqe(uds[2], 0, Flags::empty()), &mut None);
    let _ = t.poll_slot::<Probe>(uds[2], None, &mut None);
    let r = t.prepare(Refuses(9), &PREP).map(|_| ()).unwrap_err();
    assert_eq!((r.errno, r.op.0), (Errno::INVAL, 9));
    assert_eq!(t.used(), 3);
    assert!(t.has_free());
}

#[test]
fn prepare2_is_all_or_nothing() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let Err((a, b, e)) = t.prepare2(Probe { mem: [1; 16], drops: &DROPS }, Refuses(3), &PREP) else {
        panic!("must refuse")
    };
    assert_eq!((a.mem[0], b.0, e), (1, 3, Errno::INVAL));
    drop(a);
    assert_eq!(t.used(), 0);
    let Ok((ua, _, ub, _)) = t.prepare2(Probe { mem: [1; 16], drops: &DROPS }, Zc(&DROPS), &PREP) else {
        panic!("room for two")
    };
    assert_ne!(ua & 0xffff, ub & 0xffff);
    assert_eq!(t.used(), 2);
    let _ = push(&mut t, Zc(&DROPS));
    let _ = push(&mut t, Zc(&DROPS));
    let Err((_, _, e)) = t.prepare2(Zc(&DROPS), Zc(&DROPS), &PREP) else { panic!("full") };
    assert_eq!(e, Errno::BUSY);
}

#[test]
fn poll_with_the_wrong_type_or_a_foreign_ticket_is_pending() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let ud = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    t.complete(&cqe(ud, 0, Flags::empty()), &mut None);
    assert_eq!(t.poll_slot::<Zc>(ud, None, &mut None), Poll::Pending, "a T is read only from a T's slot");
    assert_eq!(t.poll_next::<Stream>(ud, None), Poll::Ready(None));
    assert_eq!(t.poll_slot::<Probe>(encode(1, RING + 1, 0, 0), None, &mut None), Poll::Pending);
    assert!(t.poll_slot::<Probe>(ud, None, &mut None).is_ready());
}

#[test]
fn multishot_stream_queue_overflow_and_end() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let ud = push(&mut t, Stream(&DROPS));
    assert_eq!(t.poll_next::<Stream>(ud, None), Poll::Pending);
    for i in 0..super::QUEUE as i32 + 2 {
        assert_eq!(t.complete(&cqe(ud, i, Flags::MORE), &mut None), Reaped::Op);
    }
    assert_eq!(t.stats.lost, 2, "beyond the queue: released and counted");
    assert_eq!(t.pending_cancels(), 1, "and the stream is to be cancelled");
    let mut cancels = 0;
    t.flush_cancels(|target| {
        assert_eq!(target, ud);
        cancels += 1;
        true
    });
    assert_eq!((cancels, t.pending_cancels()), (1, 0));
    for i in 0..super::QUEUE as u32 {
        assert_eq!(t.poll_next::<Stream>(ud, None), Poll::Ready(Some(Ok(i))));
    }
    assert_eq!(t.poll_next::<Stream>(ud, None), Poll::Pending);
    assert_eq!(t.complete(&cqe(ud, -125, Flags::empty()), &mut None), Reaped::Op);
    assert_eq!(t.complete(&cqe(ud, 1, Flags::MORE), &mut None), Reaped::Foreign, "after the end");
    assert_eq!(t.poll_next::<Stream>(ud, None), Poll::Ready(Some(Err(Errno::CANCELED))));
    assert_eq!(t.poll_next::<Stream>(ud, None), Poll::Ready(None));
    assert_eq!(DROPS.load(Ordering::Relaxed), 0);
    assert_eq!(t.poll_slot::<Stream>(ud, None, &mut None), Poll::Ready(()));
    assert_eq!(DROPS.load(Ordering::Relaxed), 1);
    assert_eq!(t.used(), 0);
}

#[test]
fn multishot_abandoned_mid_stream() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let ud = push(&mut t, Stream(&DROPS));
    t.complete(&cqe(ud, 1, Flags::MORE), &mut None);
    assert_eq!(t.abandon_slot(ud, &mut None), Some(ud));
    t.complete(&cqe(ud, 2, Flags::MORE), &mut None);
    assert_eq!(DROPS.load(Ordering::Relaxed), 0, "F_MORE: not the last");
    t.complete(&cqe(ud, 0, Flags::empty()), &mut None);
    assert_eq!(DROPS.load(Ordering::Relaxed), 1);
    assert_eq!(t.used(), 0);
}

#[test]
fn zero_copy_send_is_held_until_the_notification() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let ud = push(&mut t, Zc(&DROPS));
    t.complete(&cqe(ud, 100, Flags::MORE), &mut None);
    assert_eq!(t.poll_slot::<Zc>(ud, None, &mut None), Poll::Pending, "result in, notification not yet");
    // A second F_MORE is not allowed for a Notif operation.
    assert_eq!(t.complete(&cqe(ud, 5, Flags::MORE), &mut None), Reaped::Foreign);
    t.complete(&cqe(ud, 0, Flags::NOTIF), &mut None);
    assert_eq!(t.poll_slot::<Zc>(ud, None, &mut None), Poll::Ready(Some(Ok(100))));
    // Error result with F_MORE, then the notification, abandoned between.
    assert_eq!(DROPS.load(Ordering::Relaxed), 1);
    let ud = push(&mut t, Zc(&DROPS));
    t.complete(&cqe(ud, -32, Flags::MORE), &mut None);
    t.abandon_slot(ud, &mut None);
    assert_eq!(DROPS.load(Ordering::Relaxed), 1, "held until the notification");
    t.complete(&cqe(ud, 0, Flags::NOTIF), &mut None);
    assert_eq!(DROPS.load(Ordering::Relaxed), 2);
    // Failed before it started: one completion, no F_MORE.
    let ud = push(&mut t, Zc(&DROPS));
    t.complete(&cqe(ud, -9, Flags::empty()), &mut None);
    assert_eq!(t.poll_slot::<Zc>(ud, None, &mut None), Poll::Ready(None));
    assert_eq!(t.used(), 0);
}

#[test]
fn wakers_are_woken_by_the_completion() {
    use alloc_free_waker::counting_waker;
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static WAKES: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let ud = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    let w = counting_waker(&WAKES);
    let mut cx = Context::from_waker(&w);
    assert!(t.poll_slot::<Probe>(ud, Some(cx.waker()), &mut None).is_pending());
    assert!(t.poll_slot::<Probe>(ud, Some(cx.waker()), &mut None).is_pending());
    assert_eq!(WAKES.load(Ordering::Relaxed), 0);
    t.complete(&cqe(ud, 0, Flags::empty()), &mut None);
    assert_eq!(WAKES.load(Ordering::Relaxed), 1);
    assert!(t.poll_slot::<Probe>(ud, Some(cx.waker()), &mut None).is_ready());
    let _ = &mut cx;
}

#[test]
fn teardown_leaks_what_is_in_flight_and_frees_the_rest() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static S: SlotStore<4, 64> = SlotStore::new();
    let mut t = Table::new(S.take().unwrap(), RING);
    let a = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    let b = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    let c = push(&mut t, Stream(&DROPS));
    t.complete(&cqe(b, 0, Flags::empty()), &mut None);
    t.abandon_slot(c, &mut None);
    let mut live = 0;
    t.for_each_live(|_| live += 1);
    assert_eq!(live, 2);
    let mut bufs: Option<BufRing<'static>> = None;
    assert!(!t.teardown(&mut bufs), "two still in flight");
    assert_eq!(t.stats.leaked, 2);
    assert_eq!(DROPS.load(Ordering::Relaxed), 1, "only the completed one dropped");
    // A late completion for a leaked slot touches nothing.
    assert_eq!(t.complete(&cqe(a, 0, Flags::empty()), &mut None), Reaped::Foreign);
    assert_eq!(DROPS.load(Ordering::Relaxed), 1);
    drop(t);
    assert!(S.take().is_none(), "leaked storage is never handed out again");
}

#[test]
fn clean_teardown_gives_the_storage_back() {
    static S: SlotStore<2, 64> = SlotStore::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t = Table::new(S.take().unwrap(), RING);
    assert!(S.take().is_none(), "one owner at a time");
    let Ok((ud, _)) = t.prepare(Zc(&DROPS), &PREP) else { panic!() };
    t.commit(ud);
    t.complete(&cqe(ud, 0, Flags::empty()), &mut None);
    assert!(t.teardown(&mut None));
    drop(t);
    let t2 = Table::new(S.take().expect("given back"), RING);
    assert_eq!(t2.used(), 0);
}

#[test]
fn generation_wraps_without_reaching_zero_tag() {
    // Tags 0 and 3 are never produced, whatever the fields.
    for (ring, gen, index) in [(0, 0, 0), (u16::MAX, u32::MAX, u16::MAX)] {
        let ud = encode(1, ring, gen, index);
        assert_ne!(ud, 0);
        assert_ne!(ud, u64::MAX);
        assert_eq!((ud >> TAG_SHIFT) & 3, 1);
    }
}

#[test]
fn the_next_generation_wraps_in_its_field() {
    const GEN_MASK_TEST: u32 = (1 << 30) - 1;
    // The generation is the top of the word: adding one wraps it to 0
    // and leaves tag, ring id and index as they were.
    let top = encode(1, 77, u32::MAX, 5);
    assert_eq!(next_gen(top), encode(1, 77, 0, 5));
    assert_eq!(next_gen(encode(1, 77, 3, 5)), encode(1, 77, 4, 5));
    // A slot does it on the high half of its user data: the same words.
    for ud in [top, encode(1, 77, 3, 5), encode(1, u16::MAX, GEN_MASK_TEST, u16::MAX), encode(2, 0, 0, 0)] {
        assert_eq!(slot_next_gen(ud), next_gen(ud), "{ud:#x}");
    }
    // A slot reused: a new generation each time, never the old user data.
    let mut t: Table<4, 64> = table!(4);
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let first = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    let mut ud = first;
    for _ in 0..5 {
        assert_eq!(t.complete(&cqe(ud, 0, Flags::empty()), &mut None), Reaped::Op);
        assert!(t.poll_slot::<Probe>(ud, None, &mut None).is_ready());
        let again = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
        assert_eq!(again & 0xffff, ud & 0xffff, "same slot");
        assert_eq!(again, next_gen(ud));
        ud = again;
    }
    assert_eq!(t.complete(&cqe(first, 0, Flags::empty()), &mut None), Reaped::Foreign);
}

#[test]
fn a_cancel_waiting_for_the_sq_is_settled_by_the_completion() {
    // The plain fast path must not take a completion whose slot still
    // has a cancel to push: the general path clears it.
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let ud = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    t.defer_cancel(ud);
    assert_eq!(t.pending_cancels(), 1);
    assert_eq!(t.complete(&cqe(ud, -125, Flags::empty()), &mut None), Reaped::Op);
    assert_eq!(t.pending_cancels(), 0, "nothing left to cancel");
    let mut flushed = 0;
    t.flush_cancels(|_| {
        flushed += 1;
        true
    });
    assert_eq!(flushed, 0);
    assert!(matches!(t.poll_slot::<Probe>(ud, None, &mut None), Poll::Ready((Err(Errno::CANCELED), _))));
    // The slot comes back clean: the next operation in it completes on
    // the fast path and leaves no cancel behind.
    let ud2 = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    assert_eq!(t.complete(&cqe(ud2, 7, Flags::empty()), &mut None), Reaped::Op);
    assert_eq!(t.pending_cancels(), 0);
    assert!(matches!(t.poll_slot::<Probe>(ud2, None, &mut None), Poll::Ready((Ok(7), _))));
    assert_eq!((t.used(), DROPS.load(Ordering::Relaxed)), (0, 2));
}

#[test]
fn driver_is_send() {
    fn send<T: core::marker::Send>() {}
    send::<super::Driver<4>>();
    send::<super::Ticket<Probe>>();
}

mod alloc_free_waker {
    use core::sync::atomic::{AtomicUsize, Ordering};
    use core::task::{RawWaker, RawWakerVTable, Waker};

    fn clone(p: *const ()) -> RawWaker {
        RawWaker::new(p, &VTABLE)
    }
    fn wake(p: *const ()) {
        // SAFETY: (T1) test only: `p` is the `&'static AtomicUsize` given to
        // `counting_waker`.
        unsafe { &*p.cast::<AtomicUsize>() }.fetch_add(1, Ordering::Relaxed);
    }
    fn drop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);

    pub fn counting_waker(count: &'static AtomicUsize) -> Waker {
        let raw = RawWaker::new(core::ptr::from_ref(count).cast(), &VTABLE);
        // SAFETY: (T1) test only: the vtable's functions keep the RawWaker
        // contract for a `'static` counter.
        unsafe { Waker::from_raw(raw) }
    }
}

#[allow(dead_code)]
fn unused(_: Waker) {}

/// Issue 16: a provided-buffer ring may hold no more buffers than a
/// slot's queue, so results that carry a buffer (RecvMulti) never find a
/// full queue: `Q` buffers out, and the kernel ends the receive.
#[test]
fn buffer_ring_never_exceeds_the_queue() {
    assert_eq!(Table::<4, 64>::check_buffers(super::QUEUE), Ok(()));
    assert_eq!(Table::<4, 64>::check_buffers(super::QUEUE + 1), Err(Errno::INVAL));
    assert_eq!(Table::<4, 64>::check_buffers(0), Err(Errno::INVAL));
    assert_eq!(Table::<4, 64, 16>::check_buffers(16), Ok(()));
    assert_eq!(Table::<4, 64, 16>::check_buffers(17), Err(Errno::INVAL));
}

/// A queue of `Q` = 16 keeps 16 unread results (a reader that fell behind
/// by a whole 16-buffer ring) and loses none of them, in order.
#[test]
fn a_queue_of_q_keeps_q_unread_results() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static S: SlotStore<2, 64, 16> = SlotStore::new();
    let mut t: Table<2, 64, 16> = Table::new(S.take().expect("fresh store"), RING);
    let Ok((ud, _)) = t.prepare(Stream(&DROPS), &PREP) else { panic!("refused") };
    t.commit(ud);
    for i in 0..16 {
        assert_eq!(t.complete(&cqe(ud, i, Flags::MORE), &mut None), Reaped::Op);
    }
    assert_eq!((t.stats.lost, t.pending_cancels()), (0, 0), "16 fit a queue of 16");
    assert_eq!(t.complete(&cqe(ud, -105, Flags::empty()), &mut None), Reaped::Op);
    for i in 0..16 {
        assert_eq!(t.poll_next::<Stream>(ud, None), Poll::Ready(Some(Ok(i))));
    }
    assert_eq!(t.poll_next::<Stream>(ud, None), Poll::Ready(Some(Err(Errno::NOBUFS))));
    assert_eq!(t.poll_next::<Stream>(ud, None), Poll::Ready(None));
    assert_eq!(t.poll_slot::<Stream>(ud, None, &mut None), Poll::Ready(()));
    assert_eq!(t.used(), 0);
}

/// An operation whose output is what `take_fd` says (no fd is ever made:
/// the results below are all negative).
struct FdProbe;

// SAFETY: names no memory; FD_RESULT only changes what a non-negative
// result means, and this test posts none.
unsafe impl Operation for FdProbe {
    type Output = (Result<u32, Errno>, Result<(), Errno>);
    const FD_RESULT: bool = true;
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(crate::opcode::Nop::new().build())
    }
    fn complete(self, mut done: Completion) -> Self::Output {
        (done.result(), done.take_fd().map(drop))
    }
}

/// Issue 16: a result below -4095 (no errno) reads as `EINVAL`, as
/// `cqueue::Entry::result` has it, from `result`, `take_fd` and
/// `first_result`; it used to panic (rustix's `Errno` assertion).
#[test]
fn results_below_the_errno_range_are_einval_not_a_panic() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    for res in [-4096, -70000, i32::MIN] {
        let mut t: Table<4, 64> = table!(4);
        let ud = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
        assert_eq!(t.complete(&cqe(ud, res, Flags::empty()), &mut None), Reaped::Op);
        let Poll::Ready((r, _)) = t.poll_slot::<Probe>(ud, None, &mut None) else { panic!("complete") };
        assert_eq!(r, Err(Errno::INVAL), "{res}");
        let ud = push(&mut t, FdProbe);
        t.complete(&cqe(ud, res, Flags::empty()), &mut None);
        assert_eq!(t.poll_slot::<FdProbe>(ud, None, &mut None), Poll::Ready((Err(Errno::INVAL), Err(Errno::INVAL))));
        let ud = push(&mut t, Zc(&DROPS));
        t.complete(&cqe(ud, res, Flags::MORE), &mut None);
        t.complete(&cqe(ud, 0, Flags::NOTIF), &mut None);
        assert_eq!(t.poll_slot::<Zc>(ud, None, &mut None), Poll::Ready(Some(Err(Errno::INVAL))));
    }
    // The edges of the errno range are still errnos.
    let mut t: Table<4, 64> = table!(4);
    let ud = push(&mut t, FdProbe);
    t.complete(&cqe(ud, -4095, Flags::empty()), &mut None);
    assert_eq!(
        t.poll_slot::<FdProbe>(ud, None, &mut None),
        Poll::Ready((Err(Errno::from_raw_os_error(4095)), Err(Errno::from_raw_os_error(4095))))
    );
}

/// `push_chain`'s table part: all or nothing. An operation that refuses
/// to build gives the whole tuple back, and the slots taken before it are
/// free again.
#[test]
fn a_chain_is_all_or_nothing() {
    use super::table::Chain;
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let ops = (Probe { mem: [1; 16], drops: &DROPS }, Probe { mem: [2; 16], drops: &DROPS }, Refuses(3), Zc(&DROPS));
    let Err(((a, b, c, _d), e)) = ops.prepare(&mut t, &PREP) else { panic!("Refuses refuses") };
    assert_eq!((a.mem[0], b.mem[0], c.0, e), (1, 2, 3, Errno::INVAL));
    assert_eq!((t.used(), DROPS.load(Ordering::Relaxed)), (0, 0), "nothing kept, nothing dropped");
    // All four on the free list again, and no more.
    assert!(t.has_free_slots(4) && !t.has_free_slots(5));
    drop((a, b));
    let ops = (Probe { mem: [0; 16], drops: &DROPS }, Zc(&DROPS), Stream(&DROPS));
    let Ok((uds, sqes)) = ops.prepare(&mut t, &PREP) else { panic!("room for three") };
    assert_eq!(t.used(), 3);
    assert!(uds[..3].iter().zip(&sqes[..3]).all(|(u, s)| s.get_user_data().u64_() == *u));
    let back = <(Probe, Zc, Stream)>::unprepare(&mut t, &uds).expect("all three reserved");
    assert_eq!(t.used(), 0);
    drop(back);
}

/// `complete_take` (the one step of `Driver::reap_outputs`), collecting
/// what it hands out.
/// At most one output per completion.
#[allow(clippy::type_complexity)]
fn take<T: Operation>(
    t: &mut Table<4, 64>,
    ud: u64,
    res: i32,
    flags: Flags,
) -> (Option<Reaped>, Option<(u64, T::Output)>) {
    let mut out = None;
    let r = t.complete_take::<T>(&cqe(ud, res, flags), &mut None, &mut |u, o| {
        assert!(out.is_none(), "two outputs for one completion");
        out = Some((u, o));
    });
    (r, out)
}

#[test]
fn one_step_hands_each_output_over_and_frees_its_slot() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let mut uds = [0u64; 3];
    for (i, ud) in uds.iter_mut().enumerate() {
        let (u, sqe) = t.prepare(Probe { mem: [0; 16], drops: &DROPS }, &PREP).map_err(|r| r.errno).unwrap();
        t.commit(u);
        kernel_write(sqe_addr(&sqe), &[i as u8 + 1; 16]);
        *ud = u;
    }
    // Out of order, as the kernel may post them.
    for (i, res) in [(2usize, 30), (0, 10), (1, -5)] {
        let (r, out) = take::<Probe>(&mut t, uds[i], res, Flags::empty());
        assert_eq!(r, Some(Reaped::Op));
        let want = if res < 0 { Err(Errno::IO) } else { Ok(res as u32) };
        let Some((ud, got)) = out else { panic!("no output for its last completion") };
        assert_eq!(ud, uds[i], "with its own user data");
        assert_eq!(got, (want, [i as u8 + 1; 16]), "its own result and the bytes the kernel wrote");
    }
    assert_eq!(t.used(), 0, "every slot free at once");
    assert_eq!(DROPS.load(Ordering::Relaxed), 3, "each operation moved out once, dropped once");
    // Spent tickets: pending for ever, and the slots are reused under a
    // new generation.
    for ud in uds {
        assert_eq!(t.poll_slot::<Probe>(ud, None, &mut None), Poll::Pending);
        assert_eq!(t.abandon_slot(ud, &mut None), None);
    }
    let ud = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    assert!(!uds.contains(&ud));
    assert!(take::<Probe>(&mut t, ud, 0, Flags::empty()).1.is_some());
    assert_eq!(t.stats.foreign, 0);
}

#[test]
fn one_step_takes_nothing_foreign_late_duplicate_or_abandoned() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let a = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    let (b, sqe_b) = t.prepare(Probe { mem: [0; 16], drops: &DROPS }, &PREP).map_err(|r| r.errno).unwrap();
    t.commit(b);
    let c = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    // Foreign user data of every kind: nothing handed out, nothing freed.
    let other_gen = a ^ (1 << GEN_SHIFT);
    let other_ring = a ^ (1 << RING_SHIFT);
    let bad_index = (a & !0xffff) | 9;
    for f in [0, u64::MAX, other_gen, other_ring, bad_index, a | (3 << TAG_SHIFT), a & !(3 << TAG_SHIFT)] {
        assert_eq!(take::<Probe>(&mut t, f, 1, Flags::empty()), (Some(Reaped::Foreign), None), "{f:#x}");
    }
    // F_MORE for a single-shot operation: foreign.
    assert_eq!(take::<Probe>(&mut t, a, 1, Flags::MORE), (Some(Reaped::Foreign), None));
    // A cancel's completion frees nothing.
    let cancel = t.cancel_ud(a);
    assert_eq!(take::<Probe>(&mut t, cancel, 0, Flags::empty()), (Some(Reaped::Cancel), None));
    assert_eq!((t.used(), DROPS.load(Ordering::Relaxed)), (3, 0));
    // `b` is abandoned among the completed: released at its completion
    // (after a late write), never handed out.
    assert_eq!(t.abandon_slot(b, &mut None), Some(b));
    kernel_write(sqe_addr(&sqe_b), b"late");
    assert_eq!(take::<Probe>(&mut t, b, -125, Flags::empty()), (Some(Reaped::Op), None));
    assert_eq!(DROPS.load(Ordering::Relaxed), 1, "the abandoned one released at its completion");
    let (r, out) = take::<Probe>(&mut t, a, 4, Flags::empty());
    assert_eq!((r, out.map(|o| o.0)), (Some(Reaped::Op), Some(a)));
    // A duplicate of `a`'s completion, and then a late one after its slot
    // went to `d`: foreign, `d` untouched.
    assert_eq!(take::<Probe>(&mut t, a, 4, Flags::empty()), (Some(Reaped::Foreign), None));
    let d = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    assert_eq!(d & 0xffff, a & 0xffff, "same slot reused");
    assert_eq!(take::<Probe>(&mut t, a, 4, Flags::empty()), (Some(Reaped::Foreign), None));
    assert!(t.is_pending(d));
    // An F_SKIP completion that no slot takes is ignored, as `reap` does.
    assert_eq!(take::<Probe>(&mut t, 0x42, 0, Flags::SKIP).0, None);
    assert_eq!(t.stats.foreign, 10);
    // `c` and `d` finish in one step.
    assert!(take::<Probe>(&mut t, c, 0, Flags::empty()).1.is_some());
    assert!(take::<Probe>(&mut t, d, 0, Flags::empty()).1.is_some());
    assert_eq!((t.used(), DROPS.load(Ordering::Relaxed)), (0, 4));
}

#[test]
fn one_step_leaves_other_types_and_multishot_results_for_their_tickets() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static ZC: AtomicUsize = AtomicUsize::new(0);
    static STREAM: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    let p = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    let z = push(&mut t, Zc(&ZC));
    let s = push(&mut t, Stream(&STREAM));
    // Reaping in one step for `Zc`: the Probe's completion stays in its
    // slot for its ticket.
    assert_eq!(take::<Zc>(&mut t, p, 8, Flags::empty()), (Some(Reaped::Op), None));
    assert!(matches!(t.poll_slot::<Probe>(p, None, &mut None), Poll::Ready((Ok(8), _))));
    // A Zc (not plain) in one step: the general path, then the output.
    assert_eq!(take::<Zc>(&mut t, z, 100, Flags::MORE), (Some(Reaped::Op), None));
    assert_eq!(take::<Zc>(&mut t, z, 0, Flags::NOTIF), (Some(Reaped::Op), Some((z, Some(Ok(100))))));
    assert_eq!(ZC.load(Ordering::Relaxed), 1);
    // A multishot's results, and its end, stay for `poll_next` / `poll`.
    assert_eq!(take::<Stream>(&mut t, s, 1, Flags::MORE), (Some(Reaped::Op), None));
    assert_eq!(take::<Stream>(&mut t, s, 0, Flags::empty()), (Some(Reaped::Op), None));
    assert_eq!(t.poll_next::<Stream>(s, None), Poll::Ready(Some(Ok(1))));
    assert_eq!(t.poll_next::<Stream>(s, None), Poll::Ready(Some(Ok(0))));
    assert_eq!(t.poll_next::<Stream>(s, None), Poll::Ready(None));
    assert_eq!(t.poll_slot::<Stream>(s, None, &mut None), Poll::Ready(()));
    assert_eq!((t.used(), DROPS.load(Ordering::Relaxed), STREAM.load(Ordering::Relaxed)), (0, 1, 1));
}

#[test]
fn one_step_with_a_waker_or_a_cancel_to_push() {
    use alloc_free_waker::counting_waker;
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static WAKES: AtomicUsize = AtomicUsize::new(0);
    let mut t: Table<4, 64> = table!(4);
    // A poll left a waker: the output goes to the one-step caller, the
    // waker is dropped (not woken: the output is not the poller's).
    let a = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    let w = counting_waker(&WAKES);
    assert!(t.poll_slot::<Probe>(a, Some(&w), &mut None).is_pending());
    assert!(take::<Probe>(&mut t, a, 1, Flags::empty()).1.is_some());
    assert_eq!(WAKES.load(Ordering::Relaxed), 0);
    // A cancel still to push: the general path settles it, and the
    // output still comes in one step.
    let b = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    t.defer_cancel(b);
    let (r, out) = take::<Probe>(&mut t, b, -125, Flags::empty());
    assert_eq!(r, Some(Reaped::Op));
    assert!(matches!(out, Some((u, (Err(Errno::CANCELED), _))) if u == b));
    assert_eq!((t.pending_cancels(), t.used(), DROPS.load(Ordering::Relaxed)), (0, 0, 2));
    // A teardown after one-step reaping: nothing left, nothing leaked.
    let c = push(&mut t, Probe { mem: [0; 16], drops: &DROPS });
    assert!(take::<Probe>(&mut t, c, 0, Flags::empty()).1.is_some());
    assert!(t.teardown(&mut None));
    assert_eq!((t.stats.leaked, DROPS.load(Ordering::Relaxed)), (0, 3));
}

/// `Driver::reap_outputs` on a real ring: the NOPs it takes come out with
/// their user data, an abandoned NOP among them is released and not
/// handed out, and a timeout (another type) keeps its output for its
/// ticket.
#[test]
#[cfg_attr(miri, ignore = "a real ring: system calls")]
fn reap_outputs_on_a_ring_takes_its_own_type_only() {
    use super::{Driver, Nop, Timeout};
    static SLOTS: SlotStore<8> = SlotStore::new();
    let ring = crate::IoUring::new(16).expect("io_uring");
    let mut d = Driver::with_slots(ring, SLOTS.take().expect("fresh store"));
    let a = d.push(Nop::new()).map_err(|r| r.errno).unwrap();
    let b = d.push(Nop::new()).map_err(|r| r.errno).unwrap();
    let t = d.push(Timeout::new(crate::types::Timespec::new().nsec(1_000_000))).map_err(|r| r.errno).unwrap();
    let c = d.push(Nop::new()).map_err(|r| r.errno).unwrap();
    let (ua, uc) = (a.user_data(), c.user_data());
    // Abandoned before it completes (no cancel: it runs to its end).
    d.abandon_quietly(b);
    // All four completions, the timer's too (it fires after 1 ms).
    let (mut seen, mut handed) = (0, [false; 2]);
    while seen < 4 {
        d.submit_and_wait(1).unwrap();
        let mut got = [(0u64, Ok(1)); 4];
        let mut n = 0;
        seen += d.reap_outputs::<Nop>(|ud, res| {
            got[n] = (ud, res);
            n += 1;
        });
        for &(ud, res) in &got[..n] {
            assert!(ud == ua || ud == uc, "only the claimed NOPs are handed out");
            assert_eq!(res, Ok(0));
            let k = usize::from(ud == uc);
            assert!(!handed[k], "handed out twice");
            handed[k] = true;
        }
    }
    assert_eq!(handed, [true; 2], "both claimed NOPs handed out");
    assert_eq!(d.in_use(), 1, "the timeout's output waits for its ticket");
    assert_eq!(d.try_take(&a), Poll::Pending, "a spent ticket");
    assert_eq!(d.wait(t), Ok(Err(Errno::TIME)));
    assert_eq!((d.in_use(), d.stats().foreign), (0, 0));
}

/// The look-up masks the index only when `N` is a power of two: an index
/// out of range, or one that masks onto a live slot, is foreign either
/// way, in both forms of completion.
#[test]
fn indexes_out_of_range_are_foreign_for_any_n() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static FIVE: SlotStore<5, 64> = SlotStore::new();
    let mut t: Table<5, 64> = Table::new(FIVE.take().expect("fresh store"), RING);
    let mut four: Table<4, 64> = table!(4);
    let Ok((ud5, _)) = t.prepare(Probe { mem: [0; 16], drops: &DROPS }, &PREP) else { panic!("refused") };
    t.commit(ud5);
    let ud4 = push(&mut four, Probe { mem: [0; 16], drops: &DROPS });
    for index in [4u64, 5, 8, 9, 0x7fff, 0xffff] {
        let f5 = (ud5 & !0xffff) | index;
        assert_eq!(t.complete(&cqe(f5, 1, Flags::empty()), &mut None), Reaped::Foreign, "{f5:#x}");
        assert_eq!(t.poll_slot::<Probe>(f5, None, &mut None), Poll::Pending);
        // 4, 8 and 0x7fff... mask onto slot 0 of the 4-slot table, which
        // is live: still foreign (its user data names index 0).
        let f4 = (ud4 & !0xffff) | index;
        let mut out = None;
        let r = four.complete_take::<Probe>(&cqe(f4, 1, Flags::empty()), &mut None, &mut |u, o| out = Some((u, o)));
        assert_eq!((r, out.is_none()), (Some(Reaped::Foreign), true), "{f4:#x}");
        assert_eq!(four.poll_slot::<Probe>(f4, None, &mut None), Poll::Pending);
    }
    assert_eq!((t.used(), four.used(), DROPS.load(Ordering::Relaxed)), (1, 1, 0));
    assert_eq!(t.complete(&cqe(ud5, 2, Flags::empty()), &mut None), Reaped::Op);
    assert!(matches!(t.poll_slot::<Probe>(ud5, None, &mut None), Poll::Ready((Ok(2), _))));
    assert_eq!(four.complete(&cqe(ud4, 3, Flags::empty()), &mut None), Reaped::Op);
    assert!(matches!(four.poll_slot::<Probe>(ud4, None, &mut None), Poll::Ready((Ok(3), _))));
    assert_eq!((t.used(), four.used(), DROPS.load(Ordering::Relaxed)), (0, 0, 2));
}

/// The `WAKER` mark in a slot's hot word follows its waker: a waker that
/// went (abandon, one-step take, completion) leaves no mark on the slot's
/// next operation, and a waker stored is always woken by the plain path.
#[test]
fn the_waker_mark_follows_the_waker() {
    use alloc_free_waker::counting_waker;
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static WAKES: AtomicUsize = AtomicUsize::new(0);
    let wakes = || WAKES.load(Ordering::Relaxed);
    let mut t: Table<4, 64> = table!(4);
    let w = counting_waker(&WAKES);
    let probe = || Probe { mem: [0; 16], drops: &DROPS };
    // Polled, then abandoned: its completion frees it, wakes nobody.
    let a = push(&mut t, probe());
    assert!(t.poll_slot::<Probe>(a, Some(&w), &mut None).is_pending());
    assert_eq!(t.abandon_slot(a, &mut None), Some(a));
    assert_eq!(t.complete(&cqe(a, 0, Flags::empty()), &mut None), Reaped::Op);
    // The freed slot is the free list's head: the next push reuses it.
    let b = push(&mut t, probe());
    assert_eq!(b & 0xffff, a & 0xffff, "same slot");
    assert_eq!(t.complete(&cqe(b, 0, Flags::empty()), &mut None), Reaped::Op);
    assert_eq!(wakes(), 0, "no waker left from the abandoned one");
    assert!(t.poll_slot::<Probe>(b, None, &mut None).is_ready());
    // Polled twice (the same waker kept once), then taken in one step:
    // the waker is dropped, not woken.
    let c = push(&mut t, probe());
    assert!(t.poll_slot::<Probe>(c, Some(&w), &mut None).is_pending());
    assert!(t.poll_slot::<Probe>(c, Some(&w), &mut None).is_pending());
    assert!(take::<Probe>(&mut t, c, 0, Flags::empty()).1.is_some());
    assert_eq!(wakes(), 0);
    // Polled, then completed: woken once; its slot's next operation,
    // never polled, completes without a wake, in both forms.
    let d = push(&mut t, probe());
    assert!(t.poll_slot::<Probe>(d, Some(&w), &mut None).is_pending());
    assert_eq!(t.complete(&cqe(d, 0, Flags::empty()), &mut None), Reaped::Op);
    assert_eq!(wakes(), 1);
    assert!(t.poll_slot::<Probe>(d, None, &mut None).is_ready());
    let e = push(&mut t, probe());
    assert_eq!(t.complete(&cqe(e, 0, Flags::empty()), &mut None), Reaped::Op);
    assert!(t.poll_slot::<Probe>(e, None, &mut None).is_ready());
    let f = push(&mut t, probe());
    assert!(take::<Probe>(&mut t, f, 0, Flags::empty()).1.is_some());
    assert_eq!(wakes(), 1);
    // Polled after a one-step take freed the slot (a stale ticket):
    // nothing stored, and the next operation is not woken for it.
    assert!(t.poll_slot::<Probe>(f, Some(&w), &mut None).is_pending());
    let g = push(&mut t, probe());
    assert_eq!(t.complete(&cqe(g, 0, Flags::empty()), &mut None), Reaped::Op);
    assert_eq!(wakes(), 1);
    assert!(t.poll_slot::<Probe>(g, None, &mut None).is_ready());
    assert_eq!((t.used(), DROPS.load(Ordering::Relaxed)), (0, 7));
}

/// A one-completion operation with `FD_RESULT`: its new descriptor waits
/// in the slot and goes to whoever takes the output (a poll, or the
/// one-step path through the general one), which owns it from then on.
#[test]
#[cfg_attr(miri, ignore = "real descriptors: system calls")]
fn a_new_descriptor_goes_with_the_output() {
    use rustix::fd::IntoRawFd;
    let mut t: Table<4, 64> = table!(4);
    for one_step in [false, true] {
        let (r, w) = rustix::pipe::pipe().expect("pipe");
        drop(w);
        let raw = r.into_raw_fd();
        let ud = push(&mut t, FdProbe);
        let want = (Ok(raw as u32), Ok(()));
        if one_step {
            assert_eq!(take::<FdProbe>(&mut t, ud, raw, Flags::empty()), (Some(Reaped::Op), Some((ud, want))));
        } else {
            assert_eq!(t.complete(&cqe(ud, raw, Flags::empty()), &mut None), Reaped::Op);
            assert_eq!(t.poll_slot::<FdProbe>(ud, None, &mut None), Poll::Ready(want));
        }
        assert_eq!(t.used(), 0);
    }
}

/// A one-completion operation whose result is a registered-file slot the
/// kernel filled (as `AcceptFixed`).
struct SlotOne;

// SAFETY: names no memory; a non-negative result stands for a slot the
// stand-in kernel filled for it (FIXED_FILE_RESULT).
unsafe impl Operation for SlotOne {
    type Output = Result<u32, Errno>;
    const FIXED_FILE_RESULT: bool = true;
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(crate::opcode::Nop::new().build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        done.result()
    }
}

/// A multishot operation whose items are filled slots (as
/// `AcceptMultiFixed`).
struct SlotStream;

// SAFETY: as for SlotOne.
unsafe impl Operation for SlotStream {
    type Output = ();
    const FIXED_FILE_RESULT: bool = true;
    const SHOTS: Shots = Shots::Many;
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(crate::opcode::Nop::new().build())
    }
    fn complete(self, _: Completion) {}
}

impl Multishot for SlotStream {
    type Item = Result<u32, Errno>;
    fn item(&mut self, c: Completion) -> Self::Item {
        c.result()
    }
}

/// The stand-in for the driver's file table: records the slots the table
/// asks to empty, in order.
#[derive(Default)]
struct Emptied {
    bufs: Option<BufRing<'static>>,
    slots: [u32; 32],
    n: usize,
}

impl Emptied {
    fn take(&mut self) -> &[u32] {
        let n = core::mem::take(&mut self.n);
        &self.slots[..n]
    }
}

impl Release for Emptied {
    fn bufs(&mut self) -> &mut Option<BufRing<'static>> {
        &mut self.bufs
    }
    fn empty_file(&mut self, index: u32) {
        self.slots[self.n] = index;
        self.n += 1;
    }
}

/// Guarantee 3 for slot results: a filled slot nobody will claim is
/// emptied when the table releases it (abandoned before or after the
/// completion, or torn down completed), once; a claimed one, an error or
/// one taken in one step is not.
#[test]
fn an_unclaimed_fixed_file_slot_is_emptied_once() {
    let mut t: Table<4, 64> = table!(4);
    let mut e = Emptied::default();
    // Abandoned in flight, then the kernel fills slot 3.
    let ud = push(&mut t, SlotOne);
    assert_eq!(t.abandon_slot(ud, &mut e), Some(ud));
    assert_eq!(e.take(), [] as [u32; 0], "nothing to empty before the completion");
    assert_eq!(t.complete(&cqe(ud, 3, Flags::empty()), &mut e), Reaped::Op);
    assert_eq!(e.take(), [3]);
    assert_eq!(t.complete(&cqe(ud, 3, Flags::empty()), &mut e), Reaped::Foreign, "a duplicate");
    assert_eq!(e.take(), [] as [u32; 0], "emptied once");
    // Abandoned, then an error (ENFILE): no slot.
    let ud = push(&mut t, SlotOne);
    t.abandon_slot(ud, &mut e);
    t.complete(&cqe(ud, -23, Flags::empty()), &mut e);
    assert_eq!(e.take(), [] as [u32; 0]);
    // Completed, then abandoned: released at once.
    let ud = push(&mut t, SlotOne);
    t.complete(&cqe(ud, 5, Flags::empty()), &mut e);
    assert_eq!(e.take(), [] as [u32; 0], "completed: the ticket may still claim it");
    assert_eq!(t.abandon_slot(ud, &mut e), None);
    assert_eq!(e.take(), [5]);
    // Claimed by a poll, or in one step: the caller's.
    let ud = push(&mut t, SlotOne);
    t.complete(&cqe(ud, 6, Flags::empty()), &mut e);
    assert_eq!(t.poll_slot::<SlotOne>(ud, None, &mut e), Poll::Ready(Ok(6)));
    let ud = push(&mut t, SlotOne);
    assert_eq!(take::<SlotOne>(&mut t, ud, 8, Flags::empty()), (Some(Reaped::Op), Some((ud, Ok(8)))));
    assert_eq!(e.take(), [] as [u32; 0]);
    // Completed and never taken: emptied at teardown.
    let ud = push(&mut t, SlotOne);
    t.complete(&cqe(ud, 7, Flags::empty()), &mut e);
    assert!(t.teardown(&mut e));
    assert_eq!(e.take(), [7]);
    assert_eq!(t.used(), 0);
}

/// A multishot's items released unread are emptied: the one a full queue
/// drops, the queued ones an abandon drops, the ones arriving after it,
/// and those left (the last included) when the output is taken; items
/// read are not.
#[test]
fn unread_fixed_file_items_are_emptied() {
    const Q: i32 = super::QUEUE as i32;
    let mut t: Table<4, 64> = table!(4);
    let mut e = Emptied::default();
    let ud = push(&mut t, SlotStream);
    for i in 0..=Q {
        assert_eq!(t.complete(&cqe(ud, 10 + i, Flags::MORE), &mut e), Reaped::Op);
    }
    assert_eq!(t.stats.lost, 1);
    assert_eq!(e.take(), [10 + Q as u32], "the one the full queue dropped");
    assert_eq!(t.poll_next::<SlotStream>(ud, None), Poll::Ready(Some(Ok(10))));
    assert_eq!(t.abandon_slot(ud, &mut e), Some(ud));
    let queued: [u32; 7] = core::array::from_fn(|i| 11 + i as u32);
    assert_eq!(e.take(), &queued[..Q as usize - 1], "the queued ones, read one kept");
    t.complete(&cqe(ud, 40, Flags::MORE), &mut e);
    t.complete(&cqe(ud, -125, Flags::empty()), &mut e);
    assert_eq!(e.take(), [40]);
    assert_eq!(t.used(), 0);
    // Taken with two items and a successful last one unread.
    let ud = push(&mut t, SlotStream);
    t.complete(&cqe(ud, 20, Flags::MORE), &mut e);
    t.complete(&cqe(ud, 21, Flags::MORE), &mut e);
    t.complete(&cqe(ud, 22, Flags::empty()), &mut e);
    assert_eq!(e.take(), [] as [u32; 0]);
    assert_eq!(t.poll_slot::<SlotStream>(ud, None, &mut e), Poll::Ready(()));
    assert_eq!(e.take(), [20, 21, 22]);
    assert_eq!(t.used(), 0);
}

/// O12: once the driver's files changed, the slot indexes of operations
/// pushed before may name another table's slots: none is emptied. An
/// operation pushed after is not concerned.
#[test]
fn results_from_before_a_files_change_are_left_alone() {
    let mut t: Table<4, 64> = table!(4);
    let mut e = Emptied::default();
    let one = push(&mut t, SlotOne);
    let done = push(&mut t, SlotOne);
    let many = push(&mut t, SlotStream);
    t.complete(&cqe(done, 1, Flags::empty()), &mut e);
    t.complete(&cqe(many, 2, Flags::MORE), &mut e);
    t.files_changed();
    let after = push(&mut t, SlotOne);
    for ud in [one, done, many, after] {
        t.abandon_slot(ud, &mut e);
    }
    t.complete(&cqe(one, 3, Flags::empty()), &mut e);
    t.complete(&cqe(many, 4, Flags::MORE), &mut e);
    t.complete(&cqe(many, -125, Flags::empty()), &mut e);
    assert_eq!(e.take(), [] as [u32; 0], "none of the old table's");
    t.complete(&cqe(after, 5, Flags::empty()), &mut e);
    assert_eq!(e.take(), [5]);
    // The mark goes with the slot: its next operation is emptied again.
    let again = push(&mut t, SlotOne);
    t.abandon_slot(again, &mut e);
    t.complete(&cqe(again, 6, Flags::empty()), &mut e);
    assert_eq!(e.take(), [6]);
    assert_eq!(t.used(), 0);
}
