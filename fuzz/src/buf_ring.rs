//! A `BufRing` driven by a stand-in for the kernel. The input picks the
//! ring's size and mode, then a sequence of steps: the "kernel" receives
//! (single buffers or bundles, incremental or not, failing or not) by
//! reading the ring entries the `BufRing` published, writes bytes into the
//! buffers it took and posts completions; the application takes them (in
//! any order where that is allowed, sometimes after hostile variants that
//! must be refused), reads, recycles or drops the `Picked`s, publishes,
//! adds, unregisters and registers again.
//!
//! After every step the module-doc invariants are checked from outside:
//! - B1/B2: every live `Picked` still reads exactly the bytes the kernel
//!   wrote for it, and none of its buffers is in the kernel's part of the
//!   ring (in incremental mode: only the head buffer, only below where
//!   the kernel writes next);
//! - B3: positions head..local tail hold different buffers, at most
//!   `entries` of them, and published entries are never rewritten while
//!   the kernel may read them;
//! - B4: another ring's `Picked` reads nothing and is refused;
//! - B5: bundle completions the kernel made from consecutive entries are
//!   accepted and read in order;
//! - B6: each entry's id carries its buffer's index in its low bits; a
//!   completion, however late, gets the buffer the kernel took for it; one
//!   passed again (or with its top bit flipped) is refused;
//! - a failed completion is an error, with or without a buffer, never
//!   `Ok(None)`;
//! - no buffer is lost: each one is in the ring, in a pending completion,
//!   read by a `Picked`, or lost for a reason the docs give.

use std::collections::BTreeSet;

use rustix::io::Errno;
use urix::buf_ring::{BufRing, BufSlot, Picked};
use urix::cqueue;
use urix::fuzz_hooks;
use urix::types::BufRingEntry;

use crate::Input;

const F_BUFFER: u32 = 1;
const F_BUF_MORE: u32 = 1 << 4;
const MAX_ENTRIES: usize = 16;

#[repr(C, align(4096))]
struct Page([BufRingEntry; MAX_ENTRIES]);

/// One buffer's part of a completion: buffer index, offset, bytes.
type Piece = (u16, u32, Vec<u8>);

/// What `take*` must make of a completion.
#[derive(Clone, Debug)]
enum Expect {
    /// `Ok(None)`.
    Nothing,
    /// The completion's error.
    Fails(Errno),
    /// A `Picked` over these pieces, `more` as the flag says.
    Picked { pieces: Vec<Piece>, more: bool },
}

/// A completion the kernel posted and the application has not taken yet.
struct Pending {
    cqe: cqueue::Entry,
    bundle: bool,
    expect: Expect,
}

/// A live `Picked` and the pieces it must read.
struct Live<'a> {
    picked: Picked<'a>,
    pieces: Vec<Piece>,
}

/// A completion taken before, kept to pass it again.
struct Taken {
    cqe: cqueue::Entry,
    bundle: bool,
    /// The local tail when it was taken.
    tail: u16,
    adds_then: u64,
}

/// The kernel's side of the ring.
struct Kernel {
    head: u16,
    /// Incremental mode: how much of the head buffer is used.
    off: u32,
    /// Published entries as seen at the last check, by position.
    seen: Vec<(u16, BufRingEntry)>,
}

struct World<'m> {
    ring: BufRing<'m>,
    entries: u16,
    buf_len: u32,
    bufs_addr: u64,
    inc: bool,
    registered: bool,
    kernel: Kernel,
    pending: Vec<Pending>,
    live: Vec<Live<'m>>,
    taken: Vec<Taken>,
    /// Buffers a failed completion consumed: lost until the next register.
    lost_until_register: BTreeSet<u16>,
    /// Buffers of dropped `Picked`s: lost for good.
    lost: BTreeSet<u16>,
    /// Positions added so far (local tail advances, across registrations).
    adds: u64,
    last_tail: u16,
    /// The buffers in the ring (head to local tail) at the last check.
    ring_bids: BTreeSet<u16>,
    /// The next byte the kernel writes (a running counter, so stale bytes
    /// are unlikely to look right).
    next_byte: u8,
}

/// Runs one input; see the module docs.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let config = input.u8();
    let entries = 1u16 << (config % 5);
    let buf_len = 1 + u32::from(input.u8() % 24);
    let inc = config & 0x80 != 0;

    let mut page = Box::new(Page([BufRingEntry::default(); MAX_ENTRIES]));
    let mut bufs = vec![0u8; usize::from(entries) * buf_len as usize];
    let bufs_addr = bufs.as_ptr() as u64;
    let mut slots = vec![BufSlot::default(); usize::from(entries)];
    let ring = BufRing::new(&mut page.0[..usize::from(entries)], &mut bufs, buf_len, &mut slots).expect("valid sizes");

    // Another ring, for B4.
    let mut other_page = Box::new(Page([BufRingEntry::default(); MAX_ENTRIES]));
    let mut other_bufs = vec![0u8; 4];
    let mut other_slots = vec![BufSlot::default(); 1];
    let mut other = BufRing::new(&mut other_page.0[..1], &mut other_bufs, 4, &mut other_slots).expect("valid");
    assert!(other.fuzz_register(9, false));

    let mut w = World {
        ring,
        entries,
        buf_len,
        bufs_addr,
        inc,
        registered: false,
        kernel: Kernel { head: 0, off: 0, seen: Vec::new() },
        pending: Vec::new(),
        live: Vec::new(),
        taken: Vec::new(),
        lost_until_register: BTreeSet::new(),
        lost: BTreeSet::new(),
        adds: 0,
        last_tail: 0,
        ring_bids: BTreeSet::new(),
        next_byte: 1,
    };
    w.register(inc);
    w.check();

    while !input.is_empty() {
        let op = input.u8();
        let arg = input.u8();
        match op % 10 {
            0 | 1 => w.receive(arg, op & 0x10 != 0),
            2 => w.fail(arg & 1 != 0),
            3 | 4 => w.deliver(arg, op >> 4),
            5 => w.recycle(arg),
            6 => w.ring_advance(),
            7 => w.add(u16::from(arg)),
            8 => w.foreign(arg, &mut other),
            _ => match arg % 8 {
                0 => w.drop_picked(arg >> 3),
                1 => w.unregister(),
                2 => w.register(arg & 0x80 != 0),
                _ => w.replay(arg >> 3),
            },
        }
        w.check();
    }
    w.drain();
}

impl<'m> World<'m> {
    /// Registers (on paper) and resets the kernel's side.
    fn register(&mut self, inc: bool) {
        if self.registered {
            assert!(!self.ring.fuzz_register(1, inc), "a second register is refused");
            return;
        }
        // Register's promise: every operation of the last registration has
        // completed. Completions nobody took are dropped with it.
        self.pending.clear();
        self.taken.clear();
        self.lost_until_register.clear();
        assert!(self.ring.fuzz_register(1, inc));
        self.registered = true;
        self.inc = inc;
        self.kernel = Kernel { head: 0, off: 0, seen: Vec::new() };
        self.last_tail = 0;
        self.track_adds();
    }

    fn unregister(&mut self) {
        if self.registered {
            self.ring.fuzz_unregister();
            self.registered = false;
            self.kernel.seen.clear();
        }
    }

    /// Counts positions added since the last look at the local tail.
    fn track_adds(&mut self) {
        if let Some((_, local)) = self.ring.fuzz_tails() {
            self.adds += u64::from(local.wrapping_sub(self.last_tail));
            self.last_tail = local;
        }
    }

    /// The published tail as the kernel reads it.
    fn published(&self) -> u16 {
        self.ring.fuzz_tails().map_or(self.kernel.head, |(published, _)| published)
    }

    /// The entry at the kernel's head, if one is published.
    fn head_entry(&self) -> Option<(u16, BufRingEntry)> {
        if !self.registered || self.published() == self.kernel.head {
            return None;
        }
        let pos = self.kernel.head;
        Some((pos, self.ring.fuzz_kernel_entry(pos).expect("registered")))
    }

    fn bid_of(&self, entry: &BufRingEntry) -> u16 {
        let off = (entry.addr() as u64).checked_sub(self.bufs_addr).expect("entry inside the buffers");
        assert_eq!(off % u64::from(self.buf_len), 0, "entry at a buffer start");
        u16::try_from(off / u64::from(self.buf_len)).expect("buffer index")
    }

    /// The kernel writes `n` fresh bytes into buffer `bid` at `off`.
    fn write(&mut self, entry: &BufRingEntry, off: u32, n: u32) -> Vec<u8> {
        let bytes: Vec<u8> = (0..n)
            .map(|_| {
                let b = self.next_byte;
                self.next_byte = self.next_byte.wrapping_add(1).max(1);
                b
            })
            .collect();
        self.ring.fuzz_kernel_write(entry.addr() as u64 + u64::from(off), &bytes);
        bytes
    }

    /// A receive of up to `want` bytes (scaled to the ring's size), as one
    /// buffer or as a bundle, posted as a pending completion.
    fn receive(&mut self, want: u8, bundle: bool) {
        if self.inc && self.pending.iter().any(|p| p.bundle != bundle) {
            // One operation at a time in incremental mode.
            return;
        }
        let total = u32::from(self.entries) * self.buf_len + 2;
        let mut left = u32::from(want) % total;
        let Some((pos, first)) = self.head_entry() else {
            // The group ran dry: an error without a buffer, which `take`
            // must report as the error, not as the end of the stream.
            let cqe = fuzz_hooks::cqe(0, -Errno::NOBUFS.raw_os_error(), 0);
            self.pending.push(Pending { cqe, bundle, expect: Expect::Fails(Errno::NOBUFS) });
            return;
        };
        if left == 0 && (bundle || self.inc) {
            // Zero bytes: a bundle reports no buffer; an incremental
            // buffer is kept (BUF_MORE) and nothing is consumed.
            let flags = if bundle { 0 } else { F_BUFFER | F_BUF_MORE | u32::from(first.bid()) << 16 };
            let cqe = fuzz_hooks::cqe(1, 0, flags);
            self.pending.push(Pending { cqe, bundle, expect: Expect::Nothing });
            return;
        }
        let mut pieces = Vec::new();
        let mut more = false;
        let mut res = 0u32;
        while let Some((_, entry)) = self.head_entry() {
            assert_eq!(entry.len(), self.buf_len, "the BufRing writes whole buffers");
            let off = if self.inc { self.kernel.off } else { 0 };
            let n = left.min(entry.len() - off);
            let bytes = self.write(&entry, off, n);
            pieces.push((self.bid_of(&entry), off, bytes));
            res += n;
            left -= n;
            if self.inc && off + n < entry.len() {
                self.kernel.off = off + n;
                more = true;
            } else {
                self.kernel.head = self.kernel.head.wrapping_add(1);
                self.kernel.off = 0;
            }
            if !bundle || left == 0 || more {
                break;
            }
        }
        // The kernel copies the id of the first entry it took.
        let flags = F_BUFFER | u32::from(first.bid()) << 16 | if more { F_BUF_MORE } else { 0 };
        let cqe = fuzz_hooks::cqe(2, res as i32, flags);
        assert_eq!(first.bid() & (self.entries - 1), self.bid_of(&first), "the id at {pos} names its buffer");
        self.pending.push(Pending { cqe, bundle, expect: Expect::Picked { pieces, more } });
    }

    /// A failed operation: one that consumed the head buffer first (a
    /// file read through io-wq; plain mode only, see the module docs) or
    /// one that names no buffer.
    fn fail(&mut self, consume: bool) {
        let err = Errno::IO;
        if consume && !self.inc {
            if let Some((_, entry)) = self.head_entry() {
                self.kernel.head = self.kernel.head.wrapping_add(1);
                let bid = self.bid_of(&entry);
                self.lost_until_register.insert(bid);
                let cqe = fuzz_hooks::cqe(3, -err.raw_os_error(), F_BUFFER | u32::from(entry.bid()) << 16);
                self.pending.push(Pending { cqe, bundle: false, expect: Expect::Fails(err) });
                return;
            }
        }
        let cqe = fuzz_hooks::cqe(3, -err.raw_os_error(), 0);
        // No buffer, but an error all the same.
        self.pending.push(Pending { cqe, bundle: false, expect: Expect::Fails(err) });
    }

    fn take(&mut self, cqe: &cqueue::Entry, bundle: bool) -> Result<Option<Picked<'m>>, Errno> {
        if bundle {
            self.ring.take_bundle(cqe)
        } else {
            self.ring.take(cqe)
        }
    }

    /// Passes a pending completion to `take`/`take_bundle`, after hostile
    /// variants of it chosen by `hostile`, which must be refused with
    /// nothing changed.
    fn deliver(&mut self, which: u8, hostile: u8) {
        if self.pending.is_empty() {
            return;
        }
        // Incremental mode: completions reach take in the kernel's order.
        let index = if self.inc { 0 } else { usize::from(which) % self.pending.len() };
        let p = self.pending.remove(index);
        let flags = p.cqe.flags().bits();
        let res = p.cqe.raw_result();
        if let Expect::Picked { .. } = p.expect {
            let tails = self.ring.fuzz_tails();
            let big = (i32::from(self.entries) + 1) * self.buf_len as i32;
            if hostile & 1 != 0 {
                // More bytes than the ring could ever hold.
                let bad = fuzz_hooks::cqe(4, big, flags);
                assert_eq!(self.take(&bad, p.bundle).err(), Some(Errno::INVAL), "{res} -> {big} bytes");
            }
            if hostile & 2 != 0 && !self.inc {
                let bad = fuzz_hooks::cqe(4, res, flags | F_BUF_MORE);
                assert_eq!(self.take(&bad, p.bundle).err(), Some(Errno::INVAL), "BUF_MORE in plain mode");
            }
            if hostile & 4 != 0 {
                // The same buffer under another generation (entries are
                // at most 16 here, so the top bit is a generation bit).
                let bad = fuzz_hooks::cqe(4, res, flags ^ 0x8000_0000);
                assert_eq!(self.take(&bad, p.bundle).err(), Some(Errno::ALREADY), "generation off by 32768 / entries");
            }
            if hostile & 8 != 0 {
                if let Expect::Picked { pieces, .. } = &p.expect {
                    if pieces.len() > 1 {
                        // A bundle's completion given to `take`.
                        assert_eq!(self.take(&p.cqe, false).err(), Some(Errno::INVAL), "bundle to take");
                    }
                }
            }
            assert_eq!(self.ring.fuzz_tails(), tails, "a refused completion changes nothing");
        }
        let got = self.take(&p.cqe, p.bundle);
        match (&p.expect, got) {
            (Expect::Nothing, Ok(None)) => {}
            (Expect::Fails(e), Err(got)) if *e == got => {}
            (Expect::Picked { pieces, more }, Ok(Some(picked))) => {
                let first = &pieces[0];
                assert_eq!(picked.bid(), first.0, "first buffer");
                assert_eq!(picked.len(), pieces.iter().map(|p| p.2.len()).sum::<usize>());
                assert_eq!(picked.is_empty(), pieces.iter().all(|p| p.2.is_empty()));
                assert_eq!(usize::from(picked.buffers()), pieces.len());
                assert_eq!(picked.more(), *more);
                let live = Live { picked, pieces: pieces.clone() };
                self.check_reads(&live, usize::from(hostile));
                self.live.push(live);
                if !*more {
                    let tail = self.ring.fuzz_tails().map_or(0, |t| t.1);
                    self.taken.push(Taken { cqe: p.cqe, bundle: p.bundle, tail, adds_then: self.adds });
                }
            }
            (expect, got) => panic!("{:?} (bundle {}): expected {expect:?}, got {got:?}", p.cqe, p.bundle),
        }
    }

    /// A completion taken before, passed again: refused (B6), as long as
    /// its buffer cannot have been added `65536 / entries` times since
    /// (fewer adds than that in all).
    fn replay(&mut self, which: u8) {
        if self.taken.is_empty() {
            return;
        }
        let t = self.taken.swap_remove(usize::from(which) % self.taken.len());
        self.track_adds();
        if self.adds - t.adds_then >= (1 << 16) / u64::from(self.entries) {
            return;
        }
        let tails = self.ring.fuzz_tails();
        let got = self.take(&t.cqe, t.bundle);
        assert!(matches!(got, Err(Errno::ALREADY)), "{:?} taken again (tail then {}): {got:?}", t.cqe, t.tail);
        assert_eq!(self.ring.fuzz_tails(), tails);
    }

    /// Reads `live` every way there is and compares with its pieces.
    fn check_reads(&self, live: &Live<'m>, out_len: usize) {
        let chunks: Vec<&[u8]> = self.ring.chunks(&live.picked).collect();
        let expected: Vec<&[u8]> = live.pieces.iter().map(|p| p.2.as_slice()).filter(|b| !b.is_empty()).collect();
        assert_eq!(chunks, expected, "chunks of {:?}", live.picked);
        let first = live.pieces[0].2.as_slice();
        assert_eq!(self.ring.bytes(&live.picked), first);
        let all: Vec<u8> = live.pieces.iter().flat_map(|p| p.2.iter().copied()).collect();
        let mut out = vec![0u8; out_len % (all.len() + 2)];
        let n = self.ring.copy_to(&live.picked, &mut out);
        assert_eq!(n, out.len().min(all.len()));
        assert_eq!(&out[..n], &all[..n]);
    }

    fn recycle(&mut self, which: u8) {
        if self.live.is_empty() {
            return;
        }
        let live = self.live.swap_remove(usize::from(which) % self.live.len());
        self.ring.recycle(live.picked).expect("our own Picked");
    }

    fn drop_picked(&mut self, which: u8) {
        if self.live.is_empty() {
            return;
        }
        let live = self.live.swap_remove(usize::from(which) % self.live.len());
        self.lost.extend(live.pieces.iter().map(|p| p.0));
        drop(live.picked);
    }

    fn ring_advance(&mut self) {
        self.ring.advance();
    }

    /// `add` by hand: while registered every buffer is in the ring, read,
    /// or lost in a way `add` must refuse (`EBUSY`); out of range or
    /// unregistered is `EINVAL`.
    fn add(&mut self, bid: u16) {
        let bid = bid % (self.entries + 2);
        let got = self.ring.add(bid);
        let want = if !self.registered || bid >= self.entries { Errno::INVAL } else { Errno::BUSY };
        assert_eq!(got, Err(want), "add({bid})");
    }

    /// B4: another ring reads nothing of our `Picked`s, and refuses to
    /// recycle one (which is then lost).
    fn foreign(&mut self, which: u8, other: &mut BufRing<'m>) {
        if self.live.is_empty() {
            return;
        }
        let i = usize::from(which) % self.live.len();
        {
            let picked = &self.live[i].picked;
            assert_eq!(other.chunks(picked).count(), 0);
            assert!(other.bytes(picked).is_empty());
            assert_eq!(other.copy_to(picked, &mut [0u8; 8]), 0);
        }
        if which & 0x80 != 0 {
            let live = self.live.swap_remove(i);
            assert_eq!(other.recycle(live.picked), Err(Errno::INVAL));
            self.lost.extend(live.pieces.iter().map(|p| p.0));
        }
    }

    /// The invariants of the module docs, from outside.
    fn check(&mut self) {
        for live in &self.live {
            self.check_reads(live, usize::MAX);
        }
        self.track_adds();
        if !self.registered {
            assert_eq!(self.ring.fuzz_tails(), None);
            return;
        }
        let (published, local) = self.ring.fuzz_tails().expect("registered");
        let head = self.kernel.head;
        let in_kernel = published.wrapping_sub(head);
        let in_ring = local.wrapping_sub(head);
        assert!(in_kernel <= in_ring && in_ring <= self.entries, "head {head}, published {published}, local {local}");

        // Published entries the kernel may read were not rewritten (B3).
        for (pos, entry) in &self.kernel.seen {
            if pos.wrapping_sub(head) < in_kernel {
                assert_eq!(self.ring.fuzz_kernel_entry(*pos).as_ref(), Some(entry), "entry at {pos} rewritten");
            }
        }
        // Each position holds a different whole buffer, under an id whose
        // low bits are its index (B3, B6).
        let mut ring_bids = BTreeSet::new();
        let mut seen = Vec::new();
        for k in 0..in_ring {
            let pos = head.wrapping_add(k);
            let entry = self.ring.fuzz_kernel_entry(pos).expect("registered");
            let bid = self.bid_of(&entry);
            assert_eq!((entry.len(), entry.bid() & (self.entries - 1)), (self.buf_len, bid), "entry at {pos}");
            assert!(bid < self.entries);
            assert!(ring_bids.insert(bid), "buffer {bid} twice in the ring");
            if k < in_kernel {
                seen.push((pos, entry));
            }
            // B1/B2: nobody reads what the kernel may write.
            for live in &self.live {
                for (b, off, bytes) in &live.pieces {
                    if *b == bid {
                        let ok = self.inc && k == 0 && *off + bytes.len() as u32 <= self.kernel.off;
                        assert!(ok, "buffer {bid} at {pos} is read by {:?}", live.picked);
                    }
                }
            }
            assert!(!self.lost_until_register.contains(&bid), "a consumed buffer {bid} is back in the ring");
        }
        self.kernel.seen = seen;
        self.ring_bids = ring_bids.clone();

        // No buffer goes missing.
        for bid in 0..self.entries {
            let accounted = ring_bids.contains(&bid)
                || self.live.iter().any(|l| l.pieces.iter().any(|p| p.0 == bid))
                || self.pending.iter().any(|p| match &p.expect {
                    Expect::Picked { pieces, .. } => pieces.iter().any(|p| p.0 == bid),
                    _ => false,
                })
                || self.lost_until_register.contains(&bid)
                || self.lost.contains(&bid);
            assert!(accounted, "buffer {bid} is lost (head {head}, published {published}, local {local})");
        }
    }

    /// The end of the input: take every completion, recycle every
    /// `Picked`, register if need be and publish; then every buffer not
    /// lost for good is in the ring.
    fn drain(&mut self) {
        while !self.pending.is_empty() {
            self.deliver(0, 0);
        }
        while !self.live.is_empty() {
            self.recycle(0);
        }
        if !self.registered {
            self.register(self.inc);
        }
        self.ring.advance();
        self.check();
        let (published, local) = self.ring.fuzz_tails().expect("registered");
        assert_eq!(published, local, "everything published");
        // A lost buffer may still be in the ring: the kernel's partly
        // used one in incremental mode, whose reader was dropped.
        let lost: BTreeSet<u16> = self.lost.union(&self.lost_until_register).copied().collect();
        let accounted: BTreeSet<u16> = self.ring_bids.union(&lost).copied().collect();
        assert_eq!(accounted.len(), usize::from(self.entries), "in the ring: {:?}, lost: {lost:?}", self.ring_bids);
    }
}
