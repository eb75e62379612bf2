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

/// A completion with result `res` that carries buffer id `wire`, as the
/// kernel copies it from the ring entry it took.
fn cqe(res: i32, wire: u16, extra: u32) -> cqueue::Entry {
    cqueue::Entry(Cqe { user_data: 0, res, flags: sys::CQE_F_BUFFER | u32::from(wire) << 16 | extra })
}

/// A completion with result `res` and no buffer.
fn plain(res: i32, flags: u32) -> cqueue::Entry {
    cqueue::Entry(Cqe { user_data: 1, res, flags })
}

/// The buffer index of a ring entry, from its address, as the kernel's
/// copy would land.
fn bid_at(r: &BufRing<'_>, e: &RawBuf) -> u16 {
    let off = e.addr - r.bufs.as_ptr() as u64;
    assert_eq!(off % u64::from(LEN), 0);
    (off / u64::from(LEN)) as u16
}

/// The id under which buffer `bid` was last written into the ring, read
/// from the ring memory the way the kernel reads it (the most recent of
/// the entries that hold its address).
fn wire_of(r: &BufRing<'_>, bid: u16) -> u16 {
    (1..=ENTRIES as u16)
        .map(|k| entry(r, usize::from(r.tail.wrapping_sub(k)) % ENTRIES))
        .find(|e| bid_at(r, e) == bid)
        .expect("the buffer was written into the ring")
        .bid
}

/// The kernel's side: takes ring entries from its head, in order.
struct Kernel {
    head: u16,
}

impl Kernel {
    /// Takes the entry at the head: the buffer it names and its id.
    fn take(&mut self, r: &BufRing<'_>) -> (u16, u16) {
        assert_ne!(self.head, tail(r), "the kernel takes only published entries");
        let e = entry(r, usize::from(self.head) % ENTRIES);
        self.head = self.head.wrapping_add(1);
        (bid_at(r, &e), e.bid)
    }
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
fn begin_publishes_every_buffer_under_its_index() {
    let mut m = Mem::new();
    let base = m.bufs.as_ptr() as u64;
    let r = m.ring(false);
    assert_eq!((r.tail, r.published, tail(&r)), (8, 8, 8));
    for i in 0..ENTRIES {
        let e = entry(&r, i);
        assert_eq!((e.addr, e.len), (base + i as u64 * u64::from(LEN), LEN));
        assert_eq!(e.bid, 8 | i as u16, "buffer {i} in the low bits, generation 1 above");
    }
}

#[test]
fn take_reads_and_recycle_puts_back_at_the_tail() {
    let mut m = Mem::new();
    let mut r = m.ring(false);
    let mut k = Kernel { head: 0 };
    let (bid, wire) = k.take(&r);
    assert_eq!(bid, 0);
    fill(&r, 0, 0, b"hello");
    let p = r.take(&cqe(5, wire, 0)).expect("valid").expect("a buffer");
    assert_eq!((p.bid(), p.len(), p.buffers(), p.more()), (0, 5, 1, false));
    assert_eq!(r.bytes(&p), b"hello");
    assert_eq!(r.add(0), Err(Errno::BUSY), "read through a Picked");
    r.recycle(p).expect("mine");
    assert_eq!((r.tail, r.published, tail(&r)), (9, 8, 8), "added, not yet published");
    let e = entry(&r, 0);
    assert_eq!((e.bid, e.len), (wire + 8, LEN), "slot 0 holds buffer 0 again, one generation on");
    r.advance();
    assert_eq!((r.published, tail(&r)), (9, 9));
}

#[test]
fn a_completion_taken_twice_is_refused_even_after_recycling() {
    let mut m = Mem::new();
    let mut r = m.ring(false);
    let c = cqe(3, wire_of(&r, 2), 0);
    let p = r.take(&c).expect("valid").expect("a buffer");
    assert_eq!(p.bid(), 2);
    assert_eq!(r.take(&c.clone()).err(), Some(Errno::ALREADY), "held");
    r.recycle(p).expect("mine");
    r.advance();
    assert_eq!(r.slots[2].state, State::InRing, "buffer 2 is back, at position 8");
    assert_eq!(r.take(&c).err(), Some(Errno::ALREADY), "its old generation is gone");
    let p = r.take(&cqe(3, wire_of(&r, 2), 0)).expect("valid").expect("a buffer");
    assert_eq!(p.bid(), 2);
    r.recycle(p).expect("mine");
}

#[test]
fn completions_without_a_buffer_or_failed_give_none_or_the_error() {
    let mut m = Mem::new();
    let mut r = m.ring(false);
    let none = plain(7, sys::CQE_F_MORE);
    assert!(r.take(&none).expect("fine").is_none());
    assert!(r.take_bundle(&none).expect("fine").is_none());
    let w0 = wire_of(&r, 0);
    assert_eq!(r.take(&cqe(-libc_eisdir(), w0, 0)).err(), Some(Errno::ISDIR));
    assert_eq!(r.slots[0].state, State::InRing, "a failed completion leaves the buffer in");
    assert_eq!(r.take(&cqe(17, w0, 0)).err(), Some(Errno::INVAL), "more than a buffer");
    assert_eq!(r.take(&cqe(3, w0, BUF_MORE)).err(), Some(Errno::INVAL), "BUF_MORE, not incremental");
    assert_eq!(r.take(&cqe(3, 100, 0)).err(), Some(Errno::ALREADY), "an id never given (buffer 4, generation 12)");
    assert_eq!(r.take(&cqe(3, w0 + 8, 0)).err(), Some(Errno::ALREADY), "a generation not reached yet");
    assert_eq!(r.take(&cqe(3, w0 ^ 0x8000, 0)).err(), Some(Errno::ALREADY), "the top bit off");
    // A read at end of file still uses a buffer up.
    let p = r.take(&cqe(0, w0, 0)).expect("valid").expect("a buffer");
    assert!(p.is_empty() && r.bytes(&p).is_empty() && r.chunks(&p).next().is_none());
    r.recycle(p).expect("mine");
}

#[test]
fn a_failed_completion_without_a_buffer_is_an_error_not_the_end() {
    // Issue 14: a multishot receive that ends with ENOBUFS or ECONNRESET
    // names no buffer; `Ok(None)` would read as the end of the stream.
    let mut m = Mem::new();
    let mut r = m.ring(false);
    for (errno, inc) in [(Errno::NOBUFS, false), (Errno::CONNRESET, false), (Errno::CANCELED, true)] {
        r.inc = inc;
        let c = plain(-errno.raw_os_error(), 0);
        assert_eq!(r.take(&c).err(), Some(errno), "take");
        assert_eq!(r.take_bundle(&c).err(), Some(errno), "take_bundle");
    }
    r.inc = false;
    assert!(r.slots.iter().all(|s| s.state == State::InRing && s.readers == 0), "nothing changed");
    // The end of a stream is a success without a buffer.
    assert!(r.take(&plain(0, 0)).expect("the end").is_none());
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
    let p = r.take(&cqe(1, wire_of(&r, 3), 0)).expect("valid").expect("a buffer");
    assert_eq!(r.add(3), Err(Errno::BUSY));
    r.recycle(p).expect("mine");
    assert_eq!(r.add(3), Err(Errno::BUSY), "recycle put it back");
}

#[test]
fn tail_and_generations_wrap_past_65536() {
    let mut m = Mem::new();
    let mut r = m.ring(false);
    let mut k = Kernel { head: 0 };
    // 70000 buffers through 8 entries: the u16 tail wraps once, and each
    // buffer's generation (13 bits here) wraps too.
    for i in 0..70_000u32 {
        let (bid, wire) = k.take(&r);
        assert_eq!(bid, (i % ENTRIES as u32) as u16, "buffer {i}");
        assert_eq!(wire & 7, bid, "the id carries the buffer");
        fill(&r, bid, 0, &i.to_le_bytes());
        let p = r.take(&cqe(LEN as i32, wire, 0)).unwrap_or_else(|e| panic!("take {i}: {e}")).expect("a buffer");
        assert_eq!(p.bid(), bid, "buffer {i}");
        assert_eq!(r.bytes(&p)[..4], i.to_le_bytes());
        r.recycle(p).expect("mine");
        r.advance();
    }
    assert_eq!(r.tail, (70_008u32 % 65536) as u16);
    assert_eq!(tail(&r), r.tail);
    assert!(r.slots.iter().all(|s| s.state == State::InRing && s.readers == 0));
}

#[test]
fn regression_a_late_completion_after_the_positions_wrap_gets_its_own_buffer() {
    // Issue 15, item 1: the kernel takes buffer 0 at position 0, and its
    // completion is taken only after 65536 more adds, when another buffer
    // sits at position 65536 (the same 16 bits) in the kernel's ring. Ids
    // that were positions handed out that other buffer, which the kernel
    // then wrote into, and lost buffer 0 for good.
    let mut m = Mem::new();
    let mut r = m.ring(false);
    let mut k = Kernel { head: 0 };
    let (late_bid, late_wire) = k.take(&r);
    assert_eq!(late_bid, 0);
    fill(&r, 0, 0, b"late");
    // The other seven buffers go round until position 65536 is in the
    // kernel's part of the ring (head 65533, tail 65540).
    let mut i = 0u32;
    while k.head != 65533 {
        let (bid, wire) = k.take(&r);
        assert_ne!(bid, 0, "buffer 0 is the kernel's");
        fill(&r, bid, 0, &i.to_le_bytes());
        let p = r.take(&cqe(4, wire, 0)).expect("valid").expect("a buffer");
        assert_eq!((p.bid(), r.bytes(&p)), (bid, &i.to_le_bytes()[..]));
        r.recycle(p).expect("mine");
        r.advance();
        i += 1;
    }
    let at_wrap = entry(&r, 0);
    assert_ne!(bid_at(&r, &at_wrap), 0, "position 65536 holds another buffer, still in the ring");
    let p = r.take(&cqe(4, late_wire, 0)).expect("the late completion").expect("a buffer");
    assert_eq!(p.bid(), 0, "the buffer the kernel took for it");
    assert_eq!(r.bytes(&p), b"late");
    assert_eq!(r.slots[usize::from(bid_at(&r, &at_wrap))].state, State::InRing, "the other one stays the kernel's");
    // The kernel goes on: the buffer at position 65536 is reported under
    // its own id, and is found (the head wraps to 0 on the way).
    while k.head != 0 {
        let (bid, wire) = k.take(&r);
        let q = r.take(&cqe(1, wire, 0)).expect("valid").expect("a buffer");
        assert_eq!(q.bid(), bid);
        r.recycle(q).expect("mine");
    }
    let (bid, wire) = k.take(&r);
    assert_eq!(bid, bid_at(&r, &at_wrap));
    let q = r.take(&cqe(1, wire, 0)).expect("valid").expect("a buffer");
    assert_eq!(q.bid(), bid);
    r.recycle(q).expect("mine");
    r.recycle(p).expect("mine");
    r.advance();
    assert!(r.slots.iter().all(|s| s.state == State::InRing && s.readers == 0), "no buffer lost");
}

#[test]
fn bundles_follow_the_links_across_the_wrap() {
    let mut m = Mem::new();
    let mut r = m.ring(false);
    let mut k = Kernel { head: 0 };
    // Take buffers one by one until the ring positions are near 65535.
    while k.head != 65_530 {
        let (_, wire) = k.take(&r);
        let p = r.take(&cqe(1, wire, 0)).expect("valid").expect("a buffer");
        r.recycle(p).expect("mine");
        r.advance();
    }
    // Positions 65530..65537 hold buffers 2, 3, ..., 7, 0, 1.
    for j in 0..5u16 {
        fill(&r, (2 + j) % 8, 0, &[b'a' + j as u8; 16]);
    }
    // 70 bytes: five buffers, the last one 6 bytes, across the wrap.
    let first = wire_of(&r, 2);
    k.head = k.head.wrapping_add(5);
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
    let (bid, wire) = k.take(&r);
    assert_eq!(bid, 7);
    let q = r.take_bundle(&cqe(20, wire, 0)).expect("valid").expect("buffers");
    assert_eq!((q.bid(), q.buffers()), (7, 2), "65535 then 0: buffer 7 then buffer 0");
    // Too many bytes for what follows in the ring: refused, nothing changed.
    let w1 = wire_of(&r, 1);
    assert_eq!(r.take_bundle(&cqe(16 * 2, w1, 0)).err(), Some(Errno::INVAL));
    assert_eq!(r.slots[1].state, State::InRing);
    // Recycling re-adds in order, so the links of a new bundle hold.
    r.recycle(p).expect("mine");
    r.recycle(q).expect("mine");
    r.advance();
    assert!(r.slots.iter().all(|s| s.state == State::InRing));
    // A bundle of 0 bytes uses no buffer.
    assert!(r.take_bundle(&cqe(0, w1, 0)).expect("valid").is_none());
    assert_eq!(r.slots[1].state, State::InRing);
}

#[test]
fn incremental_pieces_share_a_buffer_until_the_kernel_and_the_readers_are_done() {
    let mut m = Mem::new();
    let mut r = m.ring(true);
    let w0 = wire_of(&r, 0);
    fill(&r, 0, 0, b"abc");
    let a = r.take(&cqe(3, w0, BUF_MORE)).expect("valid").expect("a piece");
    assert_eq!((r.bytes(&a), a.more()), (&b"abc"[..], true));
    assert_eq!(r.slots[0].state, State::InRing, "the kernel keeps the rest");
    // A 0 result consumes nothing, with or without BUF_MORE.
    assert!(r.take(&cqe(0, w0, BUF_MORE)).expect("valid").is_none());
    assert!(r.take(&cqe(0, w0, 0)).expect("valid").is_none());
    assert_eq!(r.slots[0].state, State::InRing);
    fill(&r, 0, 3, b"defg");
    let b = r.take(&cqe(4, w0, BUF_MORE)).expect("valid").expect("a piece");
    assert_eq!(r.bytes(&b), b"defg");
    assert_eq!(r.take(&cqe(10, w0, BUF_MORE)).err(), Some(Errno::INVAL), "no room for 10 more");
    assert_eq!(r.take(&cqe(9, w0, BUF_MORE)).err(), Some(Errno::INVAL), "a full buffer is not kept");
    fill(&r, 0, 7, b"hijklmnop");
    let c = r.take(&cqe(9, w0, 0)).expect("valid").expect("the last piece");
    assert_eq!(r.bytes(&c), b"hijklmnop");
    assert_eq!((r.slots[0].state, r.slots[0].readers), (State::Held, 3));
    assert_eq!(r.take(&cqe(1, w0, 0)).err(), Some(Errno::ALREADY), "finished");
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
    let (w0, w2) = (wire_of(&r, 0), wire_of(&r, 2));
    let a = r.take(&cqe(10, w0, BUF_MORE)).expect("valid").expect("a piece");
    fill(&r, 0, 10, b"012345");
    fill(&r, 1, 0, b"0123456789abcdef");
    fill(&r, 2, 0, b"xy");
    // 6 bytes finish buffer 0, 16 fill buffer 1, 2 go into buffer 2.
    let p = r.take_bundle(&cqe(24, w0, BUF_MORE)).expect("valid").expect("buffers");
    assert_eq!((p.bid(), p.buffers(), p.more()), (0, 3, true));
    let (out, n) = bytes(&r, &p);
    assert_eq!(&out[..n], b"0123450123456789abcdefxy");
    assert_eq!((r.slots[1].state, r.slots[2].state, r.slots[2].off), (State::Held, State::InRing, 2));
    assert_eq!(r.slots[0].state, State::Held);
    // A bundle can end on a full buffer without BUF_MORE.
    let q = r.take_bundle(&cqe(14 + 16, w2, 0)).expect("valid").expect("buffers");
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
    let p = r1.take(&cqe(3, wire_of(&r1, 0), 0)).expect("valid").expect("a buffer");
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
    let (w1, w2) = (wire_of(&r, 1), wire_of(&r, 2));
    let a = r.take(&cqe(4, w1, BUF_MORE)).expect("valid").expect("a piece");
    let b = r.take(&cqe(16, w2, 0)).expect("valid").expect("a buffer");
    // Unregistered on paper (the syscall part needs a kernel).
    r.registered = None;
    assert_eq!(r.add(0), Err(Errno::INVAL));
    r.recycle(b).expect("mine");
    assert_eq!(r.slots[2].state, State::Free);
    // Late completions can still be taken.
    let c = r.take(&cqe(3, w1, BUF_MORE)).expect("valid").expect("a piece");
    r.begin(6, -1, false);
    assert_eq!(r.bgid(), 6);
    // Buffer 1 is read by two Pickeds: it stays out, the others went in.
    assert_eq!(r.tail, 7);
    assert_eq!((r.slots[1].state, r.slots[1].readers), (State::Free, 2));
    assert_eq!(r.take(&cqe(16, w2, 0)).err(), Some(Errno::ALREADY), "a completion of the last registration");
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
    let mut k = Kernel { head: 0 };
    let (_, first_wire) = k.take(&r);
    fill(&r, 0, 0, b"first");
    let (_, wire) = k.take(&r);
    fill(&r, 1, 0, b"second");
    let second = r.take(&cqe(6, wire, 0)).expect("valid").expect("a buffer");
    r.recycle(second).expect("mine");
    for _ in 2..8 {
        let (_, wire) = k.take(&r);
        let p = r.take(&cqe(1, wire, 0)).expect("valid").expect("a buffer");
        r.recycle(p).expect("mine");
    }
    r.advance();
    assert_eq!(bid_at(&r, &entry(&r, 0)), 1, "slot 0 now holds buffer 1, at position 8");
    let first = r.take(&cqe(5, first_wire, 0)).expect("buffer 0 is still the kernel's").expect("a buffer");
    assert_eq!((first.bid(), r.bytes(&first)), (0, &b"first"[..]));
    assert_eq!(r.take(&cqe(5, first_wire, 0)).err(), Some(Errno::ALREADY), "and only once");
    r.recycle(first).expect("mine");
    assert_eq!(r.slots[0].pos, 15, "back in at the tail");
}
