//! From completions to [`Picked`]s and back: `take`, `take_bundle`,
//! reading, `recycle`.

use core::marker::PhantomData;

use rustix::io::{Errno, Result};

use super::slot::{BufSlot, Chunks, Picked, State};
use super::BufRing;
use crate::cqueue;

/// What a completion used, worked out before any bookkeeping changes.
struct Plan {
    bid: u16,
    nbufs: u16,
    off: u32,
    len: u32,
    more: bool,
    /// Where the bytes end in the last buffer.
    last_end: u32,
}

impl<'a> BufRing<'a> {
    /// The buffer a (non-bundle) completion used, now readable.
    ///
    /// `Ok(Some(_))` when it used a buffer; `Ok(None)` only for a
    /// completion that succeeded without using one: no `F_BUFFER` (for a
    /// receive, a result of 0, the end of the stream), or, in incremental
    /// mode, a result of 0 (the kernel consumed nothing).
    ///
    /// Errors, with the bookkeeping unchanged:
    /// - the completion's own error whenever it failed, with or without a
    ///   buffer: `ENOBUFS` (the group ran dry), `ECONNRESET`, `ECANCELED`
    ///   and the like come out here, never as `Ok(None)`. A failed
    ///   completion that names a buffer leaves it counted as in the ring
    ///   (see the [module docs](super) on failed completions);
    /// - `EALREADY` when the buffer the completion names is not in the
    ///   ring under the id it gives (B6): it was taken before (a clone), or
    ///   the completion is not this ring's;
    /// - `EINVAL` when the completion cannot be this ring's: more bytes
    ///   than the buffer has room for, `F_BUF_MORE` without incremental
    ///   mode.
    ///
    /// So an `Err` may be the operation's own error or this ring refusing
    /// the completion; compare with [`cqueue::Entry::result`] to tell them
    /// apart.
    pub fn take(&mut self, cqe: &cqueue::Entry) -> Result<Option<Picked<'a>>> {
        self.pick(cqe, false)
    }

    /// The buffers of a bundle completion (`IORING_RECVSEND_BUNDLE`): the
    /// one the completion names and the ones added right after it, as many
    /// as the result needs. `Ok(None)` when the completion succeeded
    /// without using a buffer (no `F_BUFFER`, or a result of 0); errors,
    /// the completion's own among them, as for [`take`](Self::take), and
    /// `EINVAL` when the buffers that follow are not in the ring in that
    /// order.
    pub fn take_bundle(&mut self, cqe: &cqueue::Entry) -> Result<Option<Picked<'a>>> {
        self.pick(cqe, true)
    }

    fn pick(&mut self, cqe: &cqueue::Entry, bundle: bool) -> Result<Option<Picked<'a>>> {
        // A failure is reported whether or not a buffer came with it: a
        // receive that ends with ENOBUFS or ECONNRESET names none, and
        // must not look like the end of the stream.
        let res = cqe.result()?;
        let flags = cqe.flags();
        let Some(wire) = cqueue::buffer_select(flags) else {
            return Ok(None);
        };
        let Some(plan) = self.plan(wire, res, cqueue::buffer_more(flags), bundle)? else {
            return Ok(None);
        };
        self.commit(&plan);
        Ok(Some(Picked {
            ring: self.id(),
            bid: plan.bid,
            nbufs: plan.nbufs,
            off: plan.off,
            len: plan.len,
            more: plan.more,
            _slots: PhantomData,
        }))
    }

    /// Checks a completion against the bookkeeping (B1): which buffers it
    /// used and where its bytes lie. `None` when it used none.
    fn plan(&self, wire: u16, res: u32, more: bool, bundle: bool) -> Result<Option<Plan>> {
        if more && !self.inc {
            return Err(Errno::INVAL);
        }
        let bid = self.find(wire)?;
        let first = self.slot(bid)?;
        if res == 0 && (bundle || self.inc) {
            // A bundle counts no segment for 0 bytes; an incremental buffer
            // is consumed only by the bytes put in it.
            return Ok(None);
        }
        let off = if self.inc { first.off } else { 0 };
        let room = self.buf_len.checked_sub(off).filter(|&r| r > 0).ok_or(Errno::INVAL)?;
        let (nbufs, last_end) = if res <= room {
            (1, off + res)
        } else if bundle {
            let rest = res - room;
            (1 + rest.div_ceil(self.buf_len), (rest - 1) % self.buf_len + 1)
        } else {
            return Err(Errno::INVAL);
        };
        if nbufs > u32::from(self.entries()) {
            return Err(Errno::INVAL);
        }
        if more && last_end == self.buf_len {
            // The kernel keeps a buffer only while room is left in it.
            return Err(Errno::INVAL);
        }
        // The followers: added one after the other right behind `bid`,
        // still in the ring, untouched (B5).
        let mut prev = first;
        for _ in 1..nbufs {
            let next = if prev.linked { self.slot(prev.next)? } else { return Err(Errno::INVAL) };
            if next.state != State::InRing || next.pos != prev.pos.wrapping_add(1) || next.off != 0 {
                return Err(Errno::INVAL);
            }
            if next.readers == u32::MAX {
                return Err(Errno::INVAL);
            }
            prev = next;
        }
        if first.readers == u32::MAX {
            return Err(Errno::INVAL);
        }
        Ok(Some(Plan { bid, nbufs: nbufs as u16, off, len: res, more, last_end }))
    }

    /// The buffer a completion's id names (B6): the index in its low bits,
    /// accepted only when that buffer is InRing under exactly this id.
    /// `EALREADY` otherwise (taken before, or an id this ring never gave).
    fn find(&self, wire: u16) -> Result<u16> {
        let bid = wire & self.mask;
        let slot = self.slot(bid)?;
        if slot.state == State::InRing && slot.wire == wire {
            Ok(bid)
        } else {
            Err(Errno::ALREADY)
        }
    }

    /// Applies a checked plan: every buffer gets a reader; the last stays
    /// in the ring with its offset moved on when the kernel keeps it
    /// (`F_BUF_MORE`), all others are Held.
    fn commit(&mut self, plan: &Plan) {
        let mut bid = plan.bid;
        for i in 0..plan.nbufs {
            let last = i + 1 == plan.nbufs;
            let Some(slot) = self.slots.get_mut(usize::from(bid)) else { return };
            slot.readers += 1;
            if last && plan.more {
                slot.off = plan.last_end;
            } else {
                slot.state = State::Held;
                if self.last == Some(bid) {
                    self.last = None;
                }
            }
            bid = slot.next;
        }
    }

    /// The slot of `bid`, or `EINVAL`.
    fn slot(&self, bid: u16) -> Result<BufSlot> {
        self.slots.get(usize::from(bid)).copied().ok_or(Errno::INVAL)
    }

    /// This ring's identity, as carried by its Pickeds (B4).
    fn id(&self) -> usize {
        self.slots.as_ptr() as usize
    }

    /// The bytes of `picked`, one slice per buffer. Empty when `picked`
    /// comes from another `BufRing`.
    pub fn chunks<'s>(&'s self, picked: &'s Picked<'a>) -> Chunks<'s> {
        let mine = picked.ring == self.id();
        Chunks {
            slots: self.slots,
            bufs: self.bufs,
            buf_len: self.buf_len,
            bid: picked.bid,
            off: picked.off,
            left: if mine { picked.len } else { 0 },
            bufs_left: if mine { picked.nbufs } else { 0 },
            _bytes: PhantomData,
        }
    }

    /// The first chunk of `picked`: for a non-bundle completion, all of
    /// it. Empty when `picked` comes from another `BufRing`.
    pub fn bytes<'s>(&'s self, picked: &'s Picked<'a>) -> &'s [u8] {
        self.chunks(picked).next().unwrap_or(&[])
    }

    /// Copies the bytes of `picked` into `out`, as many as fit; returns how
    /// many. 0 when `picked` comes from another `BufRing`.
    pub fn copy_to(&self, picked: &Picked<'a>, out: &mut [u8]) -> usize {
        let mut done = 0;
        for chunk in self.chunks(picked) {
            let Some(dst) = out.get_mut(done..) else { break };
            let n = chunk.len().min(dst.len());
            dst[..n].copy_from_slice(&chunk[..n]);
            done += n;
        }
        done
    }

    /// Ends the reading through `picked`. Each of its buffers that the
    /// kernel is done with and no other `Picked` reads goes back into the
    /// ring, at the local tail (publish it with
    /// [`advance`](Self::advance) or [`cq_advance`](Self::cq_advance)), or,
    /// while unregistered, becomes free for the next
    /// [`register`](Self::register).
    ///
    /// Fails with `EINVAL` when `picked` comes from another `BufRing` (that
    /// ring keeps its buffers out until it is registered anew).
    pub fn recycle(&mut self, picked: Picked<'a>) -> Result<()> {
        if picked.ring != self.id() {
            return Err(Errno::INVAL);
        }
        let base = self.ring_base();
        let mut bid = picked.bid;
        for i in 0..picked.nbufs {
            let Some(slot) = self.slots.get_mut(usize::from(bid)) else { break };
            // Read before `push` rewrites them (B5 kept them for us).
            let (next, linked) = (slot.next, slot.linked);
            slot.readers = slot.readers.saturating_sub(1);
            if slot.readers == 0 && slot.state != State::InRing {
                match base {
                    Some(base) => self.push(base, bid),
                    None => slot.state = State::Free,
                }
            }
            if i + 1 < picked.nbufs {
                if !linked {
                    break;
                }
                bid = next;
            }
        }
        Ok(())
    }
}
