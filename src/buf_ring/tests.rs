//! Bookkeeping tests without a kernel: the ring is registered on paper
//! (`begin`), the test plays the kernel by writing buffer bytes and
//! making completions.

use super::*;
use crate::sys::Cqe;

const ENTRIES: usize = 8;
const LEN: u32 = 16;

#[repr(C, align(4096))]
struct Page([BufRingEntry; ENTRIES]);

struct Mem {
    page: Page,
    bufs: [u8; ENTRIES * LEN as usize],
    slots: [BufSlot; ENTRIES],
}

impl Mem {
    fn new() -> Mem {
        Mem {
            page: Page([BufRingEntry::default(); ENTRIES]),
            bufs: [0; ENTRIES * LEN as usize],
            slots: [BufSlot::default(); ENTRIES],
        }
    }

    /// A ring registered on paper (no kernel), in plain or incremental mode.
    fn ring(&mut self, inc: bool) -> BufRing<'_> {
        let mut r = BufRing::new(&mut self.page.0, &mut self.bufs, LEN, &mut self.slots).expect("valid sizes");
        r.begin(5, -1, inc);
        r
    }
}

/// A completion with result `res` that names ring position `pos`.
fn cqe(res: i32, pos: u16, extra: u32) -> cqueue::Entry {
    cqueue::Entry(Cqe { user_data: 0, res, flags: sys::CQE_F_BUFFER | u32::from(pos) << 16 | extra })
}

const BUF_MORE: u32 = sys::CQE_F_BUF_MORE;

/// Plays the kernel: writes `data` into buffer `bid` at `off`.
fn fill(r: &BufRing<'_>, bid: u16, off: u32, data: &[u8]) {
    let start = usize::from(bid) * LEN as usize + off as usize;
    assert!(start + data.len() <= ENTRIES * LEN as usize);
    // SAFETY: (B1, B2) inside `bufs`, and no Picked reads these bytes (the test
    // writes only where the kernel would).
    unsafe { ptr::copy_nonoverlapping(data.as_ptr(), r.bufs.as_ptr().add(start), data.len()) };
}

/// The ring entry at slot `index`, as the kernel would read it.
fn entry(r: &BufRing<'_>, index: usize) -> RawBuf {
    assert!(index < ENTRIES);
    // SAFETY: (B3) inside the ring memory; no kernel writes it.
    unsafe { r.ring_base().expect("registered").as_ptr().add(index).read().0 }
}

/// The tail word in ring memory.
fn tail(r: &BufRing<'_>) -> u16 {
    // SAFETY: (B3) entry 0 of the live ring.
    unsafe { tail_word(r.ring_base().expect("registered")) }.load(Ordering::Acquire)
}

fn bytes(r: &BufRing<'_>, p: &Picked<'_>) -> ([u8; 128], usize) {
    let mut out = [0u8; 128];
    let n = r.copy_to(p, &mut out);
    (out, n)
}

#[test]
fn new_checks_sizes_and_alignment() {
    let mut m = Mem::new();
    assert!(BufRing::new(&mut m.page.0[1..], &mut m.bufs, LEN, &mut m.slots[1..]).is_err(), "unaligned, 7");
    assert_eq!(BufRing::new(&mut m.page.0[..6], &mut m.bufs, LEN, &mut m.slots[..6]).err(), Some(Errno::INVAL));
    assert_eq!(BufRing::new(&mut m.page.0, &mut m.bufs, LEN, &mut m.slots[..7]).err(), Some(Errno::INVAL));
    assert_eq!(BufRing::new(&mut m.page.0, &mut m.bufs, LEN + 1, &mut m.slots).err(), Some(Errno::INVAL));
    assert_eq!(BufRing::new(&mut m.page.0, &mut m.bufs, 0, &mut m.slots).err(), Some(Errno::INVAL));
    assert_eq!(BufRing::new(&mut m.page.0[..0], &mut m.bufs, LEN, &mut m.slots[..0]).err(), Some(Errno::INVAL));
    assert_eq!(BufRing::new_mapped(3, &mut m.bufs, LEN, &mut m.slots[..3]).err(), Some(Errno::INVAL));
    assert_eq!(BufRing::new_mapped(1 << 15, &mut m.bufs, LEN, &mut m.slots).err(), Some(Errno::INVAL));
    let r = BufRing::new(&mut m.page.0, &mut m.bufs, LEN, &mut m.slots).expect("valid");
    assert_eq!((r.entries(), r.buf_len()), (8, LEN));
}

#[test]
fn begin_publishes_every_buffer_under_its_position() {
    let mut m = Mem::new();
    let base = m.bufs.as_ptr() as u64;
    let r = m.ring(false);
    assert_eq!((r.tail, r.published, tail(&r)), (8, 8, 8));
    for i in 0..ENTRIES {
        let e = entry(&r, i);
        assert_eq!((e.addr, e.len, e.bid), (base + i as u64 * u64::from(LEN), LEN, i as u16));
    }
}

#[test]
fn take_reads_and_recycle_puts_back_at_the_tail() {
    let mut m = Mem::new();
    let mut r = m.ring(false);
    fill(&r, 0, 0, b"hello");
    let p = r.take(&cqe(5, 0, 0)).expect("valid").expect("a buffer");
    assert_eq!((p.bid(), p.len(), p.buffers(), p.more()), (0, 5, 1, false));
    assert_eq!(r.bytes(&p), b"hello");
    assert_eq!(r.add(0), Err(Errno::BUSY), "read through a Picked");
    r.recycle(p).expect("mine");
    assert_eq!((r.tail, r.published, tail(&r)), (9, 8, 8), "added, not yet published");
    let e = entry(&r, 0);
    assert_eq!((e.bid, e.len), (8, LEN), "slot 0 holds position 8");
    r.advance();
    assert_eq!((r.published, tail(&r)), (9, 9));
}

#[test]
fn a_completion_taken_twice_is_refused_even_after_recycling() {
    let mut m = Mem::new();
    let mut r = m.ring(false);
    let c = cqe(3, 2, 0);
    let p = r.take(&c).expect("valid").expect("a buffer");
    assert_eq!(p.bid(), 2);
    assert_eq!(r.take(&c.clone()).err(), Some(Errno::ALREADY), "held");
    r.recycle(p).expect("mine");
    r.advance();
    assert_eq!(r.slots[2].state, State::InRing, "buffer 2 is back, at position 8");
    assert_eq!(r.take(&c).err(), Some(Errno::ALREADY), "position 2 is gone");
    let p = r.take(&cqe(3, 8, 0)).expect("valid").expect("a buffer");
    assert_eq!(p.bid(), 2);
    r.recycle(p).expect("mine");
}

#[test]
fn completions_without_a_buffer_or_failed_give_none_or_the_error() {
    let mut m = Mem::new();
    let mut r = m.ring(false);
    let none = cqueue::Entry(Cqe { user_data: 1, res: 7, flags: sys::CQE_F_MORE });
    assert!(r.take(&none).expect("fine").is_none());
    assert!(r.take_bundle(&none).expect("fine").is_none());
    assert_eq!(r.take(&cqe(-libc_eisdir(), 0, 0)).err(), Some(Errno::ISDIR));
    assert_eq!(r.slots[0].state, State::InRing, "a failed completion leaves the buffer in");
    assert_eq!(r.take(&cqe(17, 0, 0)).err(), Some(Errno::INVAL), "more than a buffer");
    assert_eq!(r.take(&cqe(3, 0, BUF_MORE)).err(), Some(Errno::INVAL), "BUF_MORE, not incremental");
    assert_eq!(r.take(&cqe(3, 100, 0)).err(), Some(Errno::ALREADY), "a position never used");
    assert_eq!(r.take(&cqe(3, 8, 0)).err(), Some(Errno::ALREADY), "a position not reached yet");
    // A read at end of file still uses a buffer up.
    let p = r.take(&cqe(0, 0, 0)).expect("valid").expect("a buffer");
    assert!(p.is_empty() && r.bytes(&p).is_empty() && r.chunks(&p).next().is_none());
    r.recycle(p).expect("mine");
}

fn libc_eisdir() -> i32 {
    Errno::ISDIR.raw_os_error()
}

#[test]
fn add_refuses_what_is_in_the_ring_or_out_of_range() {
    let mut m = Mem::new();
    let mut r = m.ring(false);
    assert_eq!(r.add(3), Err(Errno::BUSY));
    assert_eq!(r.add(8), Err(Errno::INVAL));
    let p = r.take(&cqe(1, 3, 0)).expect("valid").expect("a buffer");
    assert_eq!(r.add(3), Err(Errno::BUSY));
    r.recycle(p).expect("mine");
    assert_eq!(r.add(3), Err(Errno::BUSY), "recycle put it back");
}

#[test]
fn tail_and_positions_wrap_past_65536() {
    let mut m = Mem::new();
    let mut r = m.ring(false);
    let mut pos: u16 = 0;
    // 70000 buffers through 8 entries: the u16 tail wraps once.
    for i in 0..70_000u32 {
        let c = cqe(LEN as i32, pos, 0);
        let bid = (i % ENTRIES as u32) as u16;
        fill(&r, bid, 0, &i.to_le_bytes());
        let p = r.take(&c).unwrap_or_else(|e| panic!("take {i}: {e}")).expect("a buffer");
        assert_eq!(p.bid(), bid, "buffer {i}");
        assert_eq!(r.bytes(&p)[..4], i.to_le_bytes());
        r.recycle(p).expect("mine");
        r.advance();
        pos = pos.wrapping_add(1);
        let index = usize::from(r.tail.wrapping_sub(1) & 7);
        assert_eq!(entry(&r, index).bid, r.tail.wrapping_sub(1), "the entry carries its position");
    }
    assert_eq!(r.tail, (70_008u32 % 65536) as u16);
    assert_eq!(tail(&r), r.tail);
    assert!(r.slots.iter().all(|s| s.state == State::InRing && s.readers == 0));
}

#[test]
fn bundles_follow_the_links_across_the_wrap() {
    let mut m = Mem::new();
    let mut r = m.ring(false);
    // Take buffers one by one until the ring positions are near 65535.
    for pos in 0..65_530u16 {
        let p = r.take(&cqe(1, pos, 0)).expect("valid").expect("a buffer");
        r.recycle(p).expect("mine");
    }
    r.advance();
    // Positions 65530..65537 hold buffers 2, 3, ..., 7, 0, 1.
    let first = 65_530u16;
    for k in 0..5u16 {
        fill(&r, (2 + k) % 8, 0, &[b'a' + k as u8; 16]);
    }
    // 70 bytes: five buffers, the last one 6 bytes, across the wrap.
    let p = r.take_bundle(&cqe(70, first, 0)).expect("valid").expect("buffers");
    assert_eq!((p.bid(), p.buffers(), p.len()), (2, 5, 70));
    let chunks: heapless_chunks::Lens = r.chunks(&p).map(<[u8]>::len).collect();
    assert_eq!(chunks.as_slice(), &[16, 16, 16, 16, 6]);
    let firsts: heapless_chunks::Bytes = r.chunks(&p).map(|c| c[0]).collect();
    assert_eq!(firsts.as_slice(), b"abcde");
    let (out, n) = bytes(&r, &p);
    assert_eq!(n, 70);
    assert_eq!(&out[64..70], b"eeeeee");
    for bid in [2, 3, 4, 5, 6] {
        assert_eq!(r.slots[bid].state, State::Held);
    }
    // The next bundle starts right after: position 65535 = buffer 7.
    assert_eq!(r.take_bundle(&cqe(20, first, 0)).err(), Some(Errno::ALREADY), "taken");
    let q = r.take_bundle(&cqe(20, first.wrapping_add(5), 0)).expect("valid").expect("buffers");
    assert_eq!((q.bid(), q.buffers()), (7, 2), "65535 then 0: buffer 7 then buffer 0");
    // Too many bytes for what follows in the ring: refused, nothing changed.
    assert_eq!(r.take_bundle(&cqe(16 * 2, 1, 0)).err(), Some(Errno::INVAL));
    assert_eq!(r.slots[1].state, State::InRing);
    // Recycling re-adds in order, so the links of a new bundle hold.
    r.recycle(p).expect("mine");
    r.recycle(q).expect("mine");
    r.advance();
    assert!(r.slots.iter().all(|s| s.state == State::InRing));
    // A bundle of 0 bytes uses no buffer.
    assert!(r.take_bundle(&cqe(0, 1, 0)).expect("valid").is_none());
    assert_eq!(r.slots[1].state, State::InRing);
}

#[test]
fn incremental_pieces_share_a_buffer_until_the_kernel_and_the_readers_are_done() {
    let mut m = Mem::new();
    let mut r = m.ring(true);
    fill(&r, 0, 0, b"abc");
    let a = r.take(&cqe(3, 0, BUF_MORE)).expect("valid").expect("a piece");
    assert_eq!((r.bytes(&a), a.more()), (&b"abc"[..], true));
    assert_eq!(r.slots[0].state, State::InRing, "the kernel keeps the rest");
    // A 0 result consumes nothing, with or without BUF_MORE.
    assert!(r.take(&cqe(0, 0, BUF_MORE)).expect("valid").is_none());
    assert!(r.take(&cqe(0, 0, 0)).expect("valid").is_none());
    assert_eq!(r.slots[0].state, State::InRing);
    fill(&r, 0, 3, b"defg");
    let b = r.take(&cqe(4, 0, BUF_MORE)).expect("valid").expect("a piece");
    assert_eq!(r.bytes(&b), b"defg");
    assert_eq!(r.take(&cqe(10, 0, BUF_MORE)).err(), Some(Errno::INVAL), "no room for 10 more");
    assert_eq!(r.take(&cqe(9, 0, BUF_MORE)).err(), Some(Errno::INVAL), "a full buffer is not kept");
    fill(&r, 0, 7, b"hijklmnop");
    let c = r.take(&cqe(9, 0, 0)).expect("valid").expect("the last piece");
    assert_eq!(r.bytes(&c), b"hijklmnop");
    assert_eq!((r.slots[0].state, r.slots[0].readers), (State::Held, 3));
    assert_eq!(r.take(&cqe(1, 0, 0)).err(), Some(Errno::ALREADY), "finished");
    r.recycle(b).expect("mine");
    r.recycle(c).expect("mine");
    assert_eq!(r.slots[0].state, State::Held, "piece `a` is still read");
    assert_eq!(r.tail, 8);
    assert_eq!(r.bytes(&a), b"abc", "untouched");
    r.recycle(a).expect("mine");
    assert_eq!((r.slots[0].state, r.slots[0].off, r.tail), (State::InRing, 0, 9));
}

#[test]
fn incremental_bundles_start_at_the_offset_and_may_keep_the_last() {
    let mut m = Mem::new();
    let mut r = m.ring(true);
    let a = r.take(&cqe(10, 0, BUF_MORE)).expect("valid").expect("a piece");
    fill(&r, 0, 10, b"012345");
    fill(&r, 1, 0, b"0123456789abcdef");
    fill(&r, 2, 0, b"xy");
    // 6 bytes finish buffer 0, 16 fill buffer 1, 2 go into buffer 2.
    let p = r.take_bundle(&cqe(24, 0, BUF_MORE)).expect("valid").expect("buffers");
    assert_eq!((p.bid(), p.buffers(), p.more()), (0, 3, true));
    let (out, n) = bytes(&r, &p);
    assert_eq!(&out[..n], b"0123450123456789abcdefxy");
    assert_eq!((r.slots[1].state, r.slots[2].state, r.slots[2].off), (State::Held, State::InRing, 2));
    assert_eq!(r.slots[0].state, State::Held);
    // A bundle can end on a full buffer without BUF_MORE.
    let q = r.take_bundle(&cqe(14 + 16, 2, 0)).expect("valid").expect("buffers");
    assert_eq!((q.bid(), q.buffers()), (2, 2));
    assert_eq!((r.slots[2].state, r.slots[3].state), (State::Held, State::Held));
    for x in [a, p, q] {
        r.recycle(x).expect("mine");
    }
    assert!(r.slots.iter().all(|s| s.state == State::InRing && s.readers == 0));
}

#[test]
fn a_picked_of_another_ring_reads_nothing_and_is_refused() {
    let (mut m1, mut m2) = (Mem::new(), Mem::new());
    let mut r1 = m1.ring(false);
    let mut r2 = m2.ring(false);
    fill(&r1, 0, 0, b"one");
    let p = r1.take(&cqe(3, 0, 0)).expect("valid").expect("a buffer");
    assert!(r2.bytes(&p).is_empty());
    assert!(r2.chunks(&p).next().is_none());
    assert_eq!(bytes(&r2, &p).1, 0);
    assert_eq!(r2.recycle(p), Err(Errno::INVAL));
    assert_eq!(r1.slots[0].readers, 1, "ring 1 keeps the buffer out");
    assert_eq!(r2.tail, 8, "ring 2 added nothing");
}

#[test]
fn unregistered_rings_free_recycled_buffers_and_register_puts_them_back() {
    let mut m = Mem::new();
    let mut r = m.ring(true);
    let a = r.take(&cqe(4, 1, BUF_MORE)).expect("valid").expect("a piece");
    let b = r.take(&cqe(16, 2, 0)).expect("valid").expect("a buffer");
    // Unregistered on paper (the syscall part needs a kernel).
    r.registered = None;
    assert_eq!(r.add(0), Err(Errno::INVAL));
    r.recycle(b).expect("mine");
    assert_eq!(r.slots[2].state, State::Free);
    // Late completions can still be taken.
    let c = r.take(&cqe(3, 1, BUF_MORE)).expect("valid").expect("a piece");
    r.begin(6, -1, false);
    assert_eq!(r.bgid(), 6);
    // Buffer 1 is read by two Pickeds: it stays out, the others went in.
    assert_eq!(r.tail, 7);
    assert_eq!((r.slots[1].state, r.slots[1].readers), (State::Free, 2));
    r.recycle(a).expect("mine");
    r.recycle(c).expect("mine");
    assert_eq!((r.slots[1].state, r.tail), (State::InRing, 8));
}

/// Fixed-capacity collections for the tests (the crate has no alloc).
mod heapless_chunks {
    pub struct Arr<T: Copy + Default, const N: usize> {
        items: [T; N],
        len: usize,
    }

    impl<T: Copy + Default, const N: usize> Arr<T, N> {
        pub fn as_slice(&self) -> &[T] {
            &self.items[..self.len]
        }
    }

    impl<T: Copy + Default, const N: usize> FromIterator<T> for Arr<T, N> {
        fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
            let mut a = Arr { items: [T::default(); N], len: 0 };
            for x in iter {
                a.items[a.len] = x;
                a.len += 1;
            }
            a
        }
    }

    pub type Lens = Arr<usize, 16>;
    pub type Bytes = Arr<u8, 16>;
}

#[test]
fn a_completion_after_its_slot_was_refilled_is_still_taken() {
    // Found by fuzz/ (target buf_ring): an operation that picked its
    // buffer first may complete last (an io-wq read). Meanwhile a later
    // completion's buffer was recycled into the same ring slot.
    let mut m = Mem::new();
    let mut r = m.ring(false);
    fill(&r, 0, 0, b"first");
    fill(&r, 1, 0, b"second");
    let second = r.take(&cqe(6, 1, 0)).expect("valid").expect("a buffer");
    r.recycle(second).expect("mine");
    for pos in 2..8 {
        let p = r.take(&cqe(1, pos, 0)).expect("valid").expect("a buffer");
        r.recycle(p).expect("mine");
    }
    r.advance();
    assert_eq!(r.slots[0].at, 1, "slot 0 now holds buffer 1, at position 8");
    let first = r.take(&cqe(5, 0, 0)).expect("position 0 is still buffer 0's").expect("a buffer");
    assert_eq!((first.bid(), r.bytes(&first)), (0, &b"first"[..]));
    assert_eq!(r.take(&cqe(5, 0, 0)).err(), Some(Errno::ALREADY), "and only once");
    r.recycle(first).expect("mine");
    assert_eq!(r.slots[0].pos, 15, "back in at the tail");
}
