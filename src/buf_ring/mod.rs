//! [`BufRing`]: a provided-buffer ring (`IORING_REGISTER_PBUF_RING`) with
//! the bookkeeping that makes reading its buffers safe.
//!
//! Operations that set `IOSQE_BUFFER_SELECT` and a buffer group (a
//! multishot [`RecvMulti`](crate::opcode::RecvMulti), a bundle, a read)
//! let the kernel pick a buffer when data arrives. A `BufRing` owns such a
//! group: [`register`](BufRing::register) hands all its buffers to the
//! kernel; [`take`](BufRing::take) turns a completion into a [`Picked`],
//! which reads the received bytes; [`recycle`](BufRing::recycle) gives the
//! buffers back and [`advance`](BufRing::advance) publishes them. All
//! memory comes from the caller (or, for the ring with
//! [`new_mapped`](BufRing::new_mapped), from the kernel): no allocation.
//!
//! ```
//! use rustix::fd::AsRawFd;
//! use urix::buf_ring::{BufRing, BufSlot};
//! use urix::{opcode, squeue, types::Fd, IoUring};
//!
//! # fn main() -> urix::Result<()> {
//! let mut bufs = [0u8; 4 * 64];
//! let mut slots = [BufSlot::default(); 4];
//! let mut group = BufRing::new_mapped(4, &mut bufs, 64, &mut slots)?;
//! let mut ring = IoUring::new(8)?;
//! // SAFETY: (P3) the group is unregistered below, before its memory goes, and
//! // gets only completions of the read from group 7.
//! unsafe { group.register(&ring.submitter(), 7)? };
//!
//! let (rx, tx) = rustix::pipe::pipe()?;
//! rustix::io::write(&tx, b"hello")?;
//! let read = opcode::Read::new(Fd(rx.as_raw_fd()), core::ptr::null_mut(), 64)
//!     .buf_group(7)
//!     .offset(u64::MAX)
//!     .build()
//!     .flags(squeue::Flags::BUFFER_SELECT);
//! // SAFETY: (P1, P3) the read names no memory of ours; the buffer comes from the group.
//! unsafe { ring.submission().push(&read).expect("room") };
//! ring.submit_and_wait(1)?;
//! let cqe = ring.completion().next().expect("one completion");
//! let picked = group.take(&cqe)?.expect("the read used a buffer");
//! assert_eq!(group.bytes(&picked), b"hello");
//! group.recycle(picked)?; // back into the ring ...
//! group.advance(); // ... and visible to the kernel
//! group.unregister(&ring.submitter())?;
//! # Ok(())
//! # }
//! ```
//!
//! # How reading stays sound
//!
//! The kernel writes into a buffer after it takes the buffer's ring entry
//! (between its head and our published tail) and before it posts the
//! completion that reports the buffer. A byte may be read as `&[u8]` only
//! when the kernel cannot write it any more, and until the buffer is
//! handed back. Each buffer (bid `i`: bytes `i * buf_len..(i + 1) *
//! buf_len` of `bufs`) has a [`BufSlot`] for that.
//!
//! ## Buffer states
//!
//! - **Free**: not in the ring (before [`register`](BufRing::register),
//!   after [`unregister`](BufRing::unregister)).
//! - **InRing**: added at ring position `pos`. The kernel may take it and
//!   write it at any time. In incremental mode bytes before `off` have been
//!   reported and are the application's; the kernel writes only at or
//!   after `off`.
//! - **Held**: a completion said the kernel is done with it.
//!
//! plus `readers`, the number of live [`Picked`]s reading part of it.
//! `take` moves InRing to Held (or, in incremental mode with `BUF_MORE`,
//! moves `off` forward) and adds a reader; `recycle` drops the reader and
//! re-adds the buffer when it is Held (or Free) and unread.
//!
//! ## Invariants
//!
//! Every `unsafe` block of this module names the one it relies on.
//!
//! - **B1 (kernel writes)**: the kernel writes a buffer only while it is
//!   InRing, and in incremental mode only at or after `off`. This rests on
//!   the kernel's rules below, which `take` applies to completions that,
//!   by the promise of [`register`](BufRing::register), come from this
//!   group and registration.
//! - **B2 (readers)**: a [`Picked`] covers bytes of Held buffers, or bytes
//!   before `off` of an InRing one; every buffer it covers counts it in
//!   `readers`. A buffer goes back into the ring only when `readers` is 0.
//!   `Picked` is not `Clone`, and `recycle` takes it by value.
//! - **B3 (ring slots)**: every position from the kernel's head to our
//!   local tail holds a different buffer, one that is InRing (a buffer
//!   leaves InRing only on a completion saying the kernel is past it). So
//!   when a buffer that is not InRing is added, fewer than `entries`
//!   positions are in use, and the slot at our local tail is one the
//!   kernel neither reads nor writes (it writes entries in incremental
//!   mode, and cuts the length of a bundle's first one). We write ring
//!   entries only there, field by field through raw pointers, never as
//!   `&mut`; the tail (bytes 14..16 of entry 0) only as an `AtomicU16`,
//!   and only while the ring memory is live (registered; a mapped ring is
//!   mapped exactly then).
//! - **B4 (identity)**: a `Picked` carries the address of the slots of the
//!   `BufRing` that made it and borrows them for `'a`, so no other
//!   `BufRing` over the same slots can exist while it lives, and a
//!   `Picked` of another ring is refused (error, or no bytes).
//! - **B5 (links)**: adding a bid writes it as the `next` of the bid added
//!   just before, which is still InRing; a bid that leaves InRing stops
//!   being "the one added last". The links along a live `Picked`'s buffers
//!   therefore stay as they were when it was made: a bundle's followers are
//!   found through them, never by reading ring slots (which the ring may
//!   have wrapped over and refilled).
//! - **B6 (wire ids)**: the id we write into a ring entry, which the
//!   kernel copies into the completion, names the buffer itself: its index
//!   in the low `log2(entries)` bits, and in the high bits a count of how
//!   often that buffer was added (its generation, wrapping). A buffer is
//!   added only when it is not InRing (B3), and it leaves InRing only when
//!   a completion reports it, so at any time each buffer index is in the
//!   kernel's hands at most once, and a completion nobody has taken yet
//!   still finds its buffer InRing, under the id it was added with,
//!   however late it is taken and however often the ring has wrapped:
//!   `take` reads the index from the low bits and accepts the completion
//!   only when that buffer is InRing under exactly that id
//!   (`slots[bid].wire`). No ring position is involved, so no other buffer
//!   can ever answer for it. The generation only catches mistakes: a
//!   completion passed a second time names a generation its buffer has
//!   left and is refused, even after the buffer was recycled into the ring
//!   again, unless the buffer has since been added a multiple of
//!   `65536 / entries` times (every second time at 32768 entries); and in
//!   incremental mode a completion with `F_BUF_MORE` leaves its buffer
//!   InRing under the same id, so passing it again would be taken as the
//!   next piece. That is why passing each completion once is part of
//!   `register`'s promise rather than left to this check (breaking it
//!   could hand out bytes the kernel will still write).
//!
//! ## What the kernel does (6.18, seen by `io-uring-test`)
//!
//! - A completion that used a buffer has `F_BUFFER` and the id of the
//!   ring entry in its flags (B6: here, the buffer and its generation). Without incremental
//!   mode each buffer taken from the ring is reported by exactly one
//!   completion; a result of 0 (a read at end of
//!   file) still uses a buffer up. A receive at end of stream reports no
//!   buffer.
//! - Incremental mode (`IOU_PBUF_RING_INC`, 6.12): a completion's bytes
//!   start where the previous piece of that buffer ended. With
//!   `F_BUF_MORE` the kernel keeps the buffer (its rest is still the
//!   kernel's); without it the kernel moved past it. A result of 0 comes
//!   with `F_BUF_MORE` and consumes nothing; `take` treats a 0 result in
//!   this mode as consuming nothing, whatever the flag says.
//! - Bundles (`RECVSEND_BUNDLE`): the kernel takes consecutive ring entries
//!   from its head; the completion names the first. The count is
//!   `ceil(res / buf_len)` (incremental mode: the first buffer from its
//!   offset, the others from 0, `F_BUF_MORE` for the last). A result of 0
//!   uses no buffer (and 6.18 reports none).
//! - Failed completions that name a buffer (6.18: regular files and io-wq,
//!   whose paths consume the buffer up front; sockets and pipes put it back
//!   and name none) cannot be told from ones that left it in the ring, so
//!   `take` returns the error and keeps the buffer InRing: it is lost until
//!   the next [`register`](BufRing::register).
//! - Paths that consume up front (io-wq, files that cannot be polled) may
//!   consume more than they report: the requested length in incremental
//!   mode, every peeked buffer of a bundle. The `BufRing` then lags behind
//!   the kernel, which is safe (it never reads what the kernel may still
//!   write) but loses those buffers, and in incremental mode later pieces
//!   of the buffer are attributed to the wrong offset. Use incremental mode
//!   with sockets and pipes.

#[cfg(feature = "fuzz-hooks")]
mod fuzz_hooks;
mod slot;
mod take;
#[cfg(test)]
mod tests;

pub use slot::{BufSlot, Chunks, Picked};

use core::fmt;
use core::marker::PhantomData;
use core::mem::size_of;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicU16, Ordering};

use rustix::fd::{AsFd, AsRawFd, RawFd};
use rustix::io::{Errno, Result};

use crate::cqueue::{self, CompletionQueue};
use crate::sys::mmap::Mmap;
use crate::sys::{self, RawBuf};
use crate::types::BufRingEntry;
use crate::Submitter;
use slot::State;

/// The largest ring the kernel accepts.
const MAX_ENTRIES: usize = 1 << 15;

/// A provided-buffer ring and its buffers: see the [module docs](self).
///
/// `'a` is the borrow of the caller's memory: the ring entries (for
/// [`new`](Self::new)), the buffers and the [`BufSlot`]s.
pub struct BufRing<'a> {
    slots: &'a mut [BufSlot],
    bufs: NonNull<u8>,
    memory: RingMemory,
    buf_len: u32,
    /// `entries - 1`; positions wrap as `u16` and `entries` divides 65536.
    mask: u16,
    /// Our local tail: where the next buffer is added.
    tail: u16,
    /// The tail the kernel can see.
    published: u16,
    /// The bid at position `tail - 1`, while it is InRing (B5).
    last: Option<u16>,
    bgid: u16,
    /// Incremental mode of the current (or last) registration.
    inc: bool,
    /// Incremental mode for the next registration.
    inc_next: bool,
    /// The fd of the ring we are registered with, while we are.
    registered: Option<RawFd>,
    _memory: PhantomData<(&'a mut [u8], &'a mut [BufRingEntry])>,
}

/// Where the ring entries live.
enum RingMemory {
    /// The caller's memory, borrowed for `'a`.
    Caller(NonNull<BufRingEntry>),
    /// The kernel's (`IOU_PBUF_RING_MMAP`), mapped while registered.
    Mapped(Option<Mmap>),
}

// SAFETY: a BufRing is pointers to memory it borrows for `'a` (or a mapping
// it owns) plus plain bookkeeping; nothing in it is tied to a thread, and
// the kernel's accesses do not depend on which thread registered it.
unsafe impl Send for BufRing<'_> {}
// SAFETY: `&BufRing` methods only read the bookkeeping (no interior
// mutability), read bytes that a live Picked covers (B1, B2), or make
// status syscalls; all of that is fine from several threads at once.
unsafe impl Sync for BufRing<'_> {}

static_assertions::assert_impl_all!(BufRing<'static>: Send, Sync);
static_assertions::assert_impl_all!(Picked<'static>: Send, Sync);
static_assertions::assert_not_impl_any!(Picked<'static>: Clone);
static_assertions::assert_impl_all!(Chunks<'static>: Send, Sync, Iterator);

/// `entries` as the kernel wants it: a power of two up to 32768.
fn check_entries(entries: usize) -> Result<u16> {
    if entries.is_power_of_two() && entries <= MAX_ENTRIES {
        Ok(entries as u16)
    } else {
        Err(Errno::INVAL)
    }
}

/// The wire id of buffer `bid` for its next add, after one written as
/// `prev` (B6): the generation in the bits above `mask` goes up by one
/// (wrapping), the buffer index fills the bits of `mask`.
fn next_wire(prev: u16, bid: u16, mask: u16) -> u16 {
    (prev | mask).wrapping_add(1) | (bid & mask)
}

/// The ring's tail word.
///
/// # Safety
/// `base` must point to entry 0 of live ring memory.
unsafe fn tail_word<'r>(base: NonNull<BufRingEntry>) -> &'r AtomicU16 {
    // SAFETY: (B3) the tail is the `u16` at byte 14 of entry 0 (which the caller
    // promises), 2-aligned since entries are 8-aligned; `AtomicU16` has the
    // layout of `u16`. We touch those bytes only atomically (B3).
    unsafe { &*BufRingEntry::tail(base.as_ptr()).cast::<AtomicU16>() }
}

impl<'a> BufRing<'a> {
    /// A ring in caller memory: `ring.len()` entries, a power of two in
    /// `1..=32768`, starting on a page boundary (the kernel requires it);
    /// `bufs` is cut into `ring.len()` buffers of `buf_len` bytes (bid `i`
    /// at offset `i * buf_len`), and `slots` has one [`BufSlot`] per buffer.
    ///
    /// Fails with `EINVAL` when a size or the alignment is off. The kernel
    /// pins whole pages: the ones the ring starts and ends in.
    pub fn new(
        ring: &'a mut [BufRingEntry],
        bufs: &'a mut [u8],
        buf_len: u32,
        slots: &'a mut [BufSlot],
    ) -> Result<Self> {
        let entries = check_entries(ring.len())?;
        if ring.as_ptr() as usize & (rustix::param::page_size() - 1) != 0 {
            return Err(Errno::INVAL);
        }
        let base = NonNull::from(ring).cast::<BufRingEntry>();
        Self::with_memory(RingMemory::Caller(base), entries, bufs, buf_len, slots)
    }

    /// A ring the kernel allocates (`IOU_PBUF_RING_MMAP`, 6.4) with
    /// `entries` entries (a power of two in `1..=32768`); we map it at
    /// [`register`](Self::register) and unmap it at
    /// [`unregister`](Self::unregister) or drop. Buffers and slots as for
    /// [`new`](Self::new).
    pub fn new_mapped(entries: u16, bufs: &'a mut [u8], buf_len: u32, slots: &'a mut [BufSlot]) -> Result<Self> {
        let entries = check_entries(usize::from(entries))?;
        Self::with_memory(RingMemory::Mapped(None), entries, bufs, buf_len, slots)
    }

    fn with_memory(
        memory: RingMemory,
        entries: u16,
        bufs: &'a mut [u8],
        buf_len: u32,
        slots: &'a mut [BufSlot],
    ) -> Result<Self> {
        let need = usize::from(entries).checked_mul(buf_len as usize).ok_or(Errno::INVAL)?;
        if buf_len == 0 || bufs.len() < need || slots.len() != usize::from(entries) {
            return Err(Errno::INVAL);
        }
        slots.fill(BufSlot::default());
        Ok(BufRing {
            slots,
            bufs: NonNull::from(bufs).cast(),
            memory,
            buf_len,
            mask: entries - 1,
            tail: 0,
            published: 0,
            last: None,
            bgid: 0,
            inc: false,
            inc_next: false,
            registered: None,
            _memory: PhantomData,
        })
    }

    /// Consume buffers incrementally (`IOU_PBUF_RING_INC`, 6.12): a
    /// completion uses only as much of a buffer as it needs, and the next
    /// one continues in the same buffer. Takes effect at the next
    /// [`register`](Self::register).
    ///
    /// `take` works out where a piece starts from the pieces before it, so
    /// completions must reach it in the order the kernel posted them (see
    /// the `# Safety` of [`register`](Self::register)).
    #[must_use]
    pub fn incremental(mut self, on: bool) -> Self {
        self.inc_next = on;
        self
    }

    /// Registers the ring as buffer group `bgid` of the ring `submitter`
    /// belongs to, and hands every buffer not read through a [`Picked`] to
    /// the kernel (added and published) (`IORING_REGISTER_PBUF_RING`, 5.19;
    /// a [`new_mapped`](Self::new_mapped) ring needs 6.4, and
    /// [`incremental`](Self::incremental) mode 6.12;
    /// `io_uring_register_buf_ring(3)`).
    ///
    /// Fails with `EBUSY` when already registered; the kernel refuses a
    /// group id in use (`EEXIST`) and unknown flags (`EINVAL`, incremental
    /// mode before 6.12).
    ///
    /// # Safety
    /// - **Memory**: the memory this `BufRing` was made from (ring
    ///   entries, buffers) must stay valid and be used for nothing else
    ///   until the registration has ended through
    ///   [`unregister`](Self::unregister) and, as for
    ///   [`SubmissionQueue::push`](crate::SubmissionQueue::push), every
    ///   operation that selected from the group has had its last
    ///   completion reaped. Dropping the `IoUring` does not end the
    ///   registration at once: the kernel tears the ring down in the
    ///   background (and keeps a ring whose fd was registered with
    ///   `register_ring_fd` until the registering thread exits), so the
    ///   memory of a group still registered when its ring is dropped must
    ///   be leaked. Operations that picked a buffer from an earlier
    ///   registration of this `BufRing` must have completed before this
    ///   call.
    /// - **Completions**: [`take`](Self::take) and
    ///   [`take_bundle`](Self::take_bundle) get only completions of
    ///   operations that selected from this registration of `bgid` on this
    ///   ring, bundle completions (`RECVSEND_BUNDLE`) to `take_bundle` and
    ///   the others to `take`, each completion once. A completion carries
    ///   no group id; this promise is what lets `take` trust its buffer id
    ///   and result. (A completion passed again is usually refused, but
    ///   not after its buffer was added `65536 / entries` more times, nor
    ///   in incremental mode with `F_BUF_MORE`: see B6 in the
    ///   [module docs](self).) Completions may be taken in any order and
    ///   any time later (outside incremental mode): the id names the
    ///   buffer, not a ring position.
    /// - **Incremental mode**: at most one operation that selects from the
    ///   group is in flight at a time (e.g. one multishot receive, re-armed
    ///   when it ends), and its completions reach `take*` in the order the
    ///   kernel posted them.
    pub unsafe fn register(&mut self, submitter: &Submitter<'_>, bgid: u16) -> Result<()> {
        if self.registered.is_some() {
            return Err(Errno::BUSY);
        }
        let entries = self.entries();
        let inc = if self.inc_next { sys::IOU_PBUF_RING_INC } else { 0 };
        match &mut self.memory {
            RingMemory::Caller(base) => {
                // SAFETY: (B3) `base` is entry 0 of the caller's ring, borrowed
                // for `'a`; the kernel does not use it while we are not
                // registered (B3).
                unsafe { tail_word(*base) }.store(0, Ordering::Relaxed);
                // SAFETY: (B3) the ring memory is ours for `'a`; its lifetime and
                // that of the buffers are the caller's promise, and we write
                // entries only as B3 says.
                unsafe { submitter.register_buf_ring_with_flags(base.as_ptr().cast(), entries, bgid, inc) }?;
            }
            RingMemory::Mapped(map) => {
                let flags = inc | sys::IOU_PBUF_RING_MMAP;
                // SAFETY: (S2) the kernel allocates the ring; the buffers are the
                // caller's promise.
                unsafe { submitter.register_buf_ring_with_flags(ptr::null_mut(), entries, bgid, flags) }?;
                let len = (usize::from(entries) * size_of::<RawBuf>()).next_multiple_of(rustix::param::page_size());
                let offset = sys::OFF_PBUF_RING | u64::from(bgid) << sys::OFF_PBUF_SHIFT;
                match Mmap::new(submitter.handle.fd.as_fd(), offset, len) {
                    Ok(m) => *map = Some(m),
                    Err(e) => {
                        // Nothing was published; the group is removed again.
                        let _ = submitter.unregister_buf_ring(bgid);
                        return Err(e);
                    }
                }
            }
        }
        self.begin(bgid, submitter.handle.fd.as_raw_fd(), self.inc_next);
        Ok(())
    }

    /// The bookkeeping side of `register`: a fresh registration starts at
    /// position 0, and every buffer nobody reads goes in.
    fn begin(&mut self, bgid: u16, fd: RawFd, inc: bool) {
        self.registered = Some(fd);
        self.bgid = bgid;
        self.inc = inc;
        self.tail = 0;
        self.published = 0;
        self.last = None;
        for slot in self.slots.iter_mut() {
            // What the last registration had in the ring is free now: its
            // operations are over (register's promise).
            if slot.state == State::InRing {
                slot.state = State::Free;
            }
        }
        for bid in 0..self.entries() {
            let _ = self.add(bid);
        }
        self.advance();
    }

    /// Unregisters the group (`IORING_UNREGISTER_PBUF_RING`, 5.19;
    /// `io_uring_unregister_buf_ring(3)`) through a [`Submitter`] of the
    /// ring it was registered with, and unmaps a kernel-allocated ring.
    ///
    /// Buffers stay as they are: completions that arrive later (from
    /// operations still in flight) can still be taken, and `Picked`s
    /// recycled; a later [`register`](Self::register) puts every buffer
    /// back. Fails with `EINVAL` when not registered or when `submitter`
    /// belongs to another ring.
    ///
    /// Dropping the `IoUring` also ends the registration, but this
    /// `BufRing` cannot see that and still counts itself registered; to
    /// use the memory with another ring, make a new `BufRing` over it.
    pub fn unregister(&mut self, submitter: &Submitter<'_>) -> Result<()> {
        self.check_ring(submitter)?;
        submitter.unregister_buf_ring(self.bgid)?;
        self.end();
        Ok(())
    }

    /// The bookkeeping side of `unregister`: the ring memory is no longer
    /// ours to write (a mapped ring goes away).
    fn end(&mut self) {
        self.registered = None;
        self.last = None;
        if let RingMemory::Mapped(map) = &mut self.memory {
            *map = None;
        }
    }

    /// `EINVAL` unless registered with the ring of `submitter`.
    fn check_ring(&self, submitter: &Submitter<'_>) -> Result<()> {
        match self.registered {
            Some(fd) if fd == submitter.handle.fd.as_raw_fd() => Ok(()),
            _ => Err(Errno::INVAL),
        }
    }

    /// The buffer group id of the current (or last) registration.
    #[inline]
    pub fn bgid(&self) -> u16 {
        self.bgid
    }

    /// The number of ring entries, which is also the number of buffers.
    #[inline]
    pub fn entries(&self) -> u16 {
        self.mask.wrapping_add(1)
    }

    /// The length of each buffer.
    #[inline]
    pub fn buf_len(&self) -> u32 {
        self.buf_len
    }

    /// Entry 0 of the ring memory, while registered.
    fn ring_base(&self) -> Option<NonNull<BufRingEntry>> {
        self.registered?;
        match &self.memory {
            RingMemory::Caller(base) => Some(*base),
            RingMemory::Mapped(map) => NonNull::new(map.as_ref()?.as_ptr().cast()),
        }
    }

    /// Adds buffer `bid` at the local tail; the kernel sees it after
    /// [`advance`](Self::advance).
    ///
    /// Fails with `EINVAL` when not registered or `bid` is out of range,
    /// and `EBUSY` when the buffer is in the ring already or a [`Picked`]
    /// still reads it (`recycle` adds buffers by itself; this is for
    /// buffers taken out otherwise, e.g. after a `Picked` was recycled
    /// while unregistered).
    pub fn add(&mut self, bid: u16) -> Result<()> {
        let base = self.ring_base().ok_or(Errno::INVAL)?;
        let slot = self.slots.get(usize::from(bid)).ok_or(Errno::INVAL)?;
        if slot.state == State::InRing || slot.readers > 0 {
            return Err(Errno::BUSY);
        }
        self.push(base, bid);
        Ok(())
    }

    /// Writes buffer `bid` into the ring slot at the local tail, under its
    /// next generation as its wire id (B6), and records it. The caller
    /// checked that `bid` is in range, not InRing and unread, so fewer than
    /// `entries` buffers are InRing (B3).
    fn push(&mut self, base: NonNull<BufRingEntry>, bid: u16) {
        let pos = self.tail;
        let index = usize::from(pos & self.mask);
        let prev = self.slots.get(usize::from(bid)).map_or(0, |s| s.wire);
        let wire = next_wire(prev, bid, self.mask);
        // In bounds: bid < entries and entries * buf_len <= bufs.len().
        let addr = self.bufs.as_ptr().wrapping_add(usize::from(bid) * self.buf_len as usize);
        // SAFETY: (B3) `index < entries` lies inside the ring memory, live while
        // registered. The kernel neither reads nor writes this slot now:
        // it is outside head..tail (B3). Field-wise raw writes create no
        // reference and leave entry 0's tail bytes alone.
        unsafe {
            let entry = base.as_ptr().add(index);
            ptr::addr_of_mut!((*entry).0.addr).write(addr as u64);
            ptr::addr_of_mut!((*entry).0.len).write(self.buf_len);
            ptr::addr_of_mut!((*entry).0.bid).write(wire);
        }
        if let Some(prev) = self.last.and_then(|p| self.slots.get_mut(usize::from(p))) {
            prev.next = bid;
            prev.linked = true;
        }
        if let Some(slot) = self.slots.get_mut(usize::from(bid)) {
            slot.state = State::InRing;
            slot.linked = false;
            slot.pos = pos;
            slot.off = 0;
            slot.wire = wire;
        }
        self.last = Some(bid);
        self.tail = pos.wrapping_add(1);
    }

    /// Publishes the local tail: the buffers added since become visible to
    /// the kernel (a `Release` store of the ring's tail). Does nothing when
    /// not registered.
    pub fn advance(&mut self) {
        if let Some(base) = self.ring_base() {
            // SAFETY: registered, so `base` is live ring memory (B3).
            // Release orders the entries written by `push` before the tail.
            unsafe { tail_word(base) }.store(self.tail, Ordering::Release);
            self.published = self.tail;
        }
    }

    /// Publishes the tail, then hands the consumed completion slots back
    /// ([`CompletionQueue::sync`]): the end of a loop that took completions
    /// from `cq` and recycled their buffers.
    pub fn cq_advance<E: cqueue::EntryMarker>(&mut self, cq: &mut CompletionQueue<'_, E>) {
        self.advance();
        cq.sync();
    }

    /// The kernel's head (`IORING_REGISTER_PBUF_STATUS`, 6.8; no man page;
    /// kernel: `io_uring/kbuf.c`): the ring position it takes a buffer from
    /// next. Fails with `EINVAL` when not registered with the ring of
    /// `submitter`.
    pub fn kernel_head(&self, submitter: &Submitter<'_>) -> Result<u16> {
        self.check_ring(submitter)?;
        submitter.register_buf_status(self.bgid)
    }

    /// How many buffers the kernel can take right now: published tail
    /// minus [`kernel_head`](Self::kernel_head), so it needs
    /// `IORING_REGISTER_PBUF_STATUS` (6.8; no man page; kernel:
    /// `io_uring/kbuf.c`). In incremental mode a partly used buffer counts.
    pub fn available(&self, submitter: &Submitter<'_>) -> Result<u16> {
        Ok(self.published.wrapping_sub(self.kernel_head(submitter)?))
    }
}

impl fmt::Debug for BufRing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufRing")
            .field("bgid", &self.bgid)
            .field("entries", &self.entries())
            .field("buf_len", &self.buf_len)
            .field("registered", &self.registered.is_some())
            .field("incremental", &self.inc)
            .field("tail", &self.tail)
            .field("published", &self.published)
            .finish_non_exhaustive()
    }
}
