//! The per-buffer bookkeeping ([`BufSlot`]) and what a completion hands
//! out ([`Picked`], read through [`Chunks`]).

use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::slice;

/// Where a buffer is (module docs, "Buffer states").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum State {
    /// Neither in the ring nor finished by the kernel: nobody writes it.
    #[default]
    Free,
    /// Published (or about to be) at ring position `pos`: the kernel may
    /// write it at and after `off`.
    InRing,
    /// The kernel is done with it; only [`Picked`]s read it.
    Held,
}

/// The bookkeeping of one buffer of a [`BufRing`](super::BufRing): one per
/// buffer id, in memory the caller provides (`vec![BufSlot::default(); n]`,
/// a static array, ...). Its contents are private; a `BufRing` resets them
/// when it is made.
#[derive(Clone, Copy, Default, Debug)]
pub struct BufSlot {
    pub(super) state: State,
    /// `next` holds the id added right after this one (B5).
    pub(super) linked: bool,
    /// The ring position (local tail) this buffer was last added at.
    pub(super) pos: u16,
    /// The id added right after this one, when `linked`.
    pub(super) next: u16,
    /// Live `Picked`s that read part of this buffer.
    pub(super) readers: u32,
    /// Incremental mode: bytes before this offset were reported; the
    /// kernel writes only at or after it.
    pub(super) off: u32,
    /// A second role, indexed by ring slot rather than by buffer: the
    /// buffer last written into ring slot `i` is `slots[i].at` (B6).
    pub(super) at: u16,
}

/// The buffers one completion filled, readable until
/// [`recycle`](super::BufRing::recycle)d: made by
/// [`take`](super::BufRing::take) and [`take_bundle`](super::BufRing::take_bundle),
/// read through [`chunks`](super::BufRing::chunks),
/// [`bytes`](super::BufRing::bytes) and [`copy_to`](super::BufRing::copy_to).
///
/// Not `Clone`: each `Picked` is one reader of its buffers, and they go
/// back to the kernel only when their last reader is recycled. Dropping a
/// `Picked` instead of recycling it keeps its buffers out of the ring for
/// good (safe, but the ring shrinks).
#[must_use = "its buffers stay out of the ring until it is recycled"]
#[derive(Debug)]
pub struct Picked<'a> {
    /// The identity of the BufRing that made it: the address of its slots.
    pub(super) ring: usize,
    pub(super) bid: u16,
    pub(super) nbufs: u16,
    /// Where the bytes start in the first buffer (incremental mode).
    pub(super) off: u32,
    pub(super) len: u32,
    pub(super) more: bool,
    /// Ties the Picked to the borrow of the slot memory (B4).
    pub(super) _slots: PhantomData<&'a [BufSlot]>,
}

impl Picked<'_> {
    /// The (first) buffer: its index in `bufs` (`bufs[bid * buf_len..]`).
    /// Not the id in the completion's flags, which is a ring position
    /// (see the module docs, B6).
    #[inline]
    pub fn bid(&self) -> u16 {
        self.bid
    }

    /// The number of bytes received: the completion's result.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether no byte was received (a read at end of file still uses up
    /// a buffer in non-incremental mode).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many buffers the bytes span: 1, or more for a bundle.
    #[inline]
    pub fn buffers(&self) -> u16 {
        self.nbufs
    }

    /// `IORING_CQE_F_BUF_MORE` (incremental mode): the kernel keeps the
    /// last buffer and will put more bytes in it, after these.
    #[inline]
    pub fn more(&self) -> bool {
        self.more
    }
}

/// The bytes of a [`Picked`], one slice per buffer; made by
/// [`BufRing::chunks`](super::BufRing::chunks).
#[derive(Debug, Clone)]
pub struct Chunks<'s> {
    pub(super) slots: &'s [BufSlot],
    pub(super) bufs: NonNull<u8>,
    pub(super) buf_len: u32,
    pub(super) bid: u16,
    /// Offset in the current buffer (non-zero for the first one only).
    pub(super) off: u32,
    /// Bytes still to yield.
    pub(super) left: u32,
    /// Buffers still to visit.
    pub(super) bufs_left: u16,
    pub(super) _bytes: PhantomData<&'s [u8]>,
}

// SAFETY: a Chunks is an iterator of shared slices (B2) plus a shared
// borrow of the slots; both may be used from any thread.
unsafe impl Send for Chunks<'_> {}
// SAFETY: as above; `&Chunks` allows nothing but cloning it.
unsafe impl Sync for Chunks<'_> {}

impl<'s> Iterator for Chunks<'s> {
    type Item = &'s [u8];

    fn next(&mut self) -> Option<&'s [u8]> {
        if self.bufs_left == 0 || self.left == 0 {
            return None;
        }
        let n = self.buf_len.checked_sub(self.off)?.min(self.left);
        let start = usize::from(self.bid) * self.buf_len as usize + self.off as usize;
        // SAFETY: (B5, B1, B2) `bid` is below `entries` (it came from a validated
        // completion or a link written by `push`, B5) and `off + n <=
        // buf_len`, so the range lies inside buffer `bid` within the
        // caller's `bufs` (checked `entries * buf_len <= bufs.len()` in
        // `new`). These bytes belong to a live Picked: the kernel is done
        // with them (B1, B2), and nothing mutates them while `'s` lasts,
        // since recycling or re-adding needs `&mut BufRing` or the Picked.
        let chunk = unsafe { slice::from_raw_parts(self.bufs.as_ptr().add(start), n as usize) };
        self.left -= n;
        self.bufs_left -= 1;
        self.off = 0;
        if self.bufs_left > 0 {
            match self.slots.get(usize::from(self.bid)) {
                Some(slot) if slot.linked => self.bid = slot.next,
                _ => self.bufs_left = 0,
            }
        }
        Some(chunk)
    }
}

impl FusedIterator for Chunks<'_> {}
