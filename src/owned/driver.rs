//! [`Driver`]: a ring plus a table of owned operations.

use core::fmt;
use core::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use core::task::{Context, Poll};
use core::time::Duration;

use rustix::fd::{AsRawFd, BorrowedFd};
use rustix::io::{Errno, Result};

use super::table::{
    Chain, Multishot, Operation, Prep, Refused, Release, Resolved, Slots, Stats, Table, Target, Ticket, QUEUE,
};
use super::LinkTimeout;
use crate::buf_ring::{BufRing, BufSlot, Picked};
use crate::types::{sealed, SubmitArgs, Timespec};
use crate::{cqueue, opcode, squeue, IoUring, Submitter};
#[cfg(feature = "alloc")]
use alloc::boxed::Box;

/// Ring ids for user data and registered-file handles (O4); 0 is never
/// handed out.
static NEXT_ID: AtomicU16 = AtomicU16::new(1);

/// Ids for handles (FixedFile, FixedBuf): wider than the ring id, so a
/// handle of a dropped driver never matches a later one.
static NEXT_UID: AtomicUsize = AtomicUsize::new(1);

/// How many buffers [`Driver::register_buffers`] takes.
pub const MAX_FIXED_BUFS: usize = 16;

/// What `build` may consult, borrowing only the fields it names. `fixed`
/// is the whole table: a [`FixedBuf`] exists only for a registered index
/// (entries past `nfixed` are empty), so no slicing, and no check, per
/// push.
macro_rules! prep {
    ($d:expr) => {
        Prep {
            uid: $d.uid,
            files: $d.files,
            bgid: $d.bufs.as_ref().map(BufRing::bgid),
            fixed: &$d.fixed,
            ring: $d.bufs.as_ref().map(|b| (b, $d.table.bufs_uid)),
        }
    };
}

/// The driver's [`Release`]: a provided buffer goes back to its ring;
/// a registered-file slot the kernel filled for a result nobody claims
/// is emptied at once through `empty` (O12), a closure over the ring's
/// submitter that calls [`empty_file_slot`].
struct Sink<'a> {
    bufs: &'a mut Option<BufRing<'static>>,
    empty: &'a dyn Fn(u32),
}

impl Release for Sink<'_> {
    #[inline(always)]
    fn bufs(&mut self) -> &mut Option<BufRing<'static>> {
        self.bufs
    }

    #[inline(always)]
    fn empty_file(&mut self, index: u32) {
        (self.empty)(index);
    }
}

/// Empties registered-file slot `index` (`IORING_REGISTER_FILES_UPDATE`
/// with -1, 5.5; `io_uring_register(2)`): the kernel drops the file the
/// slot held, and the connection closes with its last reference. An
/// error (no table any more) leaves nothing to empty.
#[cold]
#[inline(never)]
fn empty_file_slot(sub: &Submitter<'_>, index: u32) {
    let _ = sub.register_files_update(index, &[-1]);
}

fn next_id() -> u16 {
    loop {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        if id != 0 {
            return id;
        }
    }
}

/// An [`IoUring`] and `N` slots of owned operations (see the
/// [module docs](super)).
///
/// `B` is the bytes of storage per slot for an operation (default 256; an
/// operation that does not fit is a compile-time error). `S` and `C` are
/// the ring's entry types.
///
/// The driver alone reaps the ring's completion queue; a completion it
/// does not recognise goes to [`reap_with`](Self::reap_with)'s callback.
pub struct Driver<const N: usize, const B: usize = 320, S = squeue::Entry, C = cqueue::Entry, const Q: usize = QUEUE>
where
    S: squeue::EntryMarker + From<squeue::Entry>,
    C: cqueue::EntryMarker,
    cqueue::Entry: From<C>,
{
    table: Table<N, B, Q>,
    bufs: Option<BufRing<'static>>,
    /// With `alloc`: the heap memory of `bufs` (buffers, slots), freed
    /// only after a clean teardown unregistered the ring (O1).
    #[cfg(feature = "alloc")]
    heap_bufs: Option<HeapBufs>,
    files: u32,
    uid: usize,
    fixed: [(usize, u32); MAX_FIXED_BUFS],
    nfixed: usize,
    teardown_ms: u32,
    // Dropped last: `Drop` for Driver tears down with the ring still open.
    ring: IoUring<S, C>,
}

/// The heap memory of a buffer ring made by `provide_buffers_boxed`.
#[cfg(feature = "alloc")]
struct HeapBufs(core::ptr::NonNull<[u8]>, core::ptr::NonNull<[BufSlot]>);

// SAFETY: O1: plain memory the driver owns (through its BufRing), freed
// only by the driver; no thread affinity.
#[cfg(feature = "alloc")]
unsafe impl Send for HeapBufs {}

/// A registered file of one [`Driver`]: usable only with that driver, and
/// only while that index is registered (checked when an operation is
/// pushed; `EBADF` otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedFile {
    pub(crate) uid: usize,
    pub(crate) index: u32,
}

/// A registered buffer of one [`Driver`] ([`Driver::register_buffers`]):
/// not `Clone`, so whoever holds it (the caller, or the one operation it
/// was moved into) is the only user of its memory (O10).
#[derive(Debug)]
pub struct FixedBuf {
    pub(crate) uid: usize,
    pub(crate) index: u16,
}

impl FixedBuf {
    /// The index in the registered-buffer table.
    pub fn index(&self) -> u16 {
        self.index
    }
}

impl FixedFile {
    /// The index in the registered-file table.
    pub fn index(&self) -> u32 {
        self.index
    }
}

impl Target for FixedFile {
    fn resolve(&self, prep: &Prep<'_>) -> core::result::Result<Resolved, Errno> {
        if self.uid != prep.uid || self.index >= prep.files {
            return Err(Errno::BADF);
        }
        Ok(Resolved(sealed::Target::Fixed(self.index)))
    }
}

/// Bytes a multishot receive got in a buffer of the driver's ring: read
/// them with [`Driver::bytes`], send them on from where they are with
/// [`SendReceived`](super::SendReceived), give the buffer back with
/// [`Driver::recycle`] (dropping it instead keeps the buffer out of the
/// ring for good).
#[derive(Debug)]
#[must_use = "recycle it, or its buffer stays out of the ring"]
pub struct Received {
    pub(crate) picked: Picked<'static>,
    /// The id of the ring it came from (`Driver::ring_uid`): a `Picked`
    /// names its ring by the address of its slots, which a later heap
    /// ring may reuse once this one is freed.
    pub(crate) ring: usize,
}

impl Received {
    /// How many bytes.
    pub fn len(&self) -> usize {
        self.picked.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.picked.is_empty()
    }
}

#[cfg(feature = "alloc")]
impl<const N: usize, const B: usize, const Q: usize> Driver<N, B, squeue::Entry, cqueue::Entry, Q> {
    /// A driver over `ring` with heap slots (`Slots::boxed`).
    pub fn new(ring: IoUring) -> Self {
        Driver::with_slots(ring, Slots::boxed())
    }
}

impl<const N: usize, const B: usize, S, C, const Q: usize> Driver<N, B, S, C, Q>
where
    S: squeue::EntryMarker + From<squeue::Entry>,
    C: cqueue::EntryMarker,
    cqueue::Entry: From<C>,
{
    /// A driver over `ring`, with its slots in `slots`. The driver is the
    /// only reaper of the ring's completion queue from now on.
    pub fn with_slots(ring: IoUring<S, C>, slots: Slots<N, B, Q>) -> Self {
        let uid = NEXT_UID.fetch_add(1, Ordering::Relaxed);
        let fixed = [(0, 0); MAX_FIXED_BUFS];
        Driver {
            table: Table::new(slots, next_id()),
            bufs: None,
            #[cfg(feature = "alloc")]
            heap_bufs: None,
            files: 0,
            uid,
            fixed,
            nfixed: 0,
            teardown_ms: 1000,
            ring,
        }
    }

    /// The ring, for what the layer does not wrap (registering, probing).
    /// Reaping its completion queue behind the driver's back makes the
    /// operations those completions end wait for ever (their slots are
    /// then leaked at teardown): safe, but wrong. So is changing the
    /// registered files through it rather than through the driver: the
    /// driver would still empty the slots its operations' unclaimed
    /// results name, in the new table (O12).
    pub fn ring(&self) -> &IoUring<S, C> {
        &self.ring
    }

    /// The ring's submitter.
    pub fn submitter(&self) -> Submitter<'_> {
        self.ring.submitter()
    }

    /// The id this driver puts in its user data and handles.
    pub fn id(&self) -> u16 {
        self.table.ring_id()
    }

    /// How many slots are in use: in flight, abandoned but not yet
    /// completed, completed but not yet polled, or leaked. 0 means the
    /// driver holds no resource.
    ///
    /// Counted when asked, in O(`N`): the driver keeps no count, so that
    /// a push and a completion do not pay to update one.
    pub fn in_use(&self) -> u32 {
        self.table.used()
    }

    /// Whether an operation can be pushed now (a free slot and room in the
    /// SQ).
    pub fn has_room(&mut self) -> bool {
        self.table.has_free() && !self.ring.submission().is_full()
    }

    /// Counters: foreign completions, cancel completions, lost results,
    /// leaked slots.
    pub fn stats(&self) -> Stats {
        self.table.stats
    }

    /// How long dropping the driver waits for operations to end after
    /// cancelling them (default 1000 ms); what is still running then is
    /// leaked.
    pub fn set_teardown_timeout(&mut self, ms: u32) {
        self.teardown_ms = ms;
    }

    /// Moves `op` into a free slot and its SQE into the submission queue
    /// (not yet submitted: see [`submit`](Self::submit)). Refused, with
    /// the operation given back, when no slot is free or the SQ is full
    /// (`EBUSY`), or when the operation refuses to build.
    ///
    /// Cancels that had to wait for room in the SQ go in at the next
    /// [`submit`](Self::submit), not here: a push is only the slot and
    /// the SQE.
    // Always: with plain `#[inline]` LLVM left a read's push out of line
    // once the raw push changed shape (owned read-4k 168 -> 201 user
    // instr/op, fat LTO), paying a call and the SQ view in memory.
    #[inline(always)]
    pub fn push<T: Operation>(&mut self, op: T) -> core::result::Result<Ticket<T>, Refused<T>> {
        let prep = prep!(self);
        let mut sq = self.ring.submission();
        // No room check before the slot: `push` checks the SQ once, and
        // a full SQ (rare) costs a slot placed and freed again, not a
        // second check on every push.
        let sqe = self.table.prepare_in_flight(op, &prep)?;
        let ud = sqe.get_user_data().u64_();
        // SAFETY: O2: the SQE names only memory the operation owns, which
        // sits in its slot (O1, O3) until the slot's last completion.
        let pushed = unsafe { sq.push(&S::from(sqe)) };
        if pushed.is_err() {
            // The SQ is full: give the operation back (its SQE was never
            // pushed, so the kernel never saw its memory).
            // SAFETY: O3, O5: `ud` was made by `prepare_in_flight::<T>`
            // just above, with no call on the table since.
            let op = unsafe { self.table.take_prepared::<T>(ud) };
            return Err(Refused { op, errno: Errno::BUSY });
        }
        Ok(Ticket::new(ud))
    }

    /// Pushes `a` linked to `b` (`IOSQE_IO_LINK`): `b` starts when `a`
    /// succeeded, and ends with `ECANCELED` otherwise. Both or neither.
    #[allow(clippy::type_complexity)]
    pub fn push_linked<A: Operation, X: Operation>(
        &mut self,
        a: A,
        b: X,
    ) -> core::result::Result<(Ticket<A>, Ticket<X>), (A, X, Errno)> {
        self.flush_cancels();
        let prep = prep!(self);
        let mut sq = self.ring.submission();
        if sq.capacity() - sq.len() < 2 {
            return Err((a, b, Errno::BUSY));
        }
        let (ua, sa, ub, sb) = self.table.prepare2(a, b, &prep)?;
        let entries = [S::from(sa.flags(squeue::Flags::IO_LINK)), S::from(sb)];
        // SAFETY: O2 for both SQEs, as in `push`; both go in or neither.
        let pushed = unsafe { sq.push_multiple(&entries) };
        if pushed.is_err() {
            if let (Some(a), Some(b)) = (self.table.unprepare::<A>(ua), self.table.unprepare::<X>(ub)) {
                return Err((a, b, Errno::BUSY));
            }
        }
        self.table.commit(ua);
        self.table.commit(ub);
        Ok((Ticket::new(ua), Ticket::new(ub)))
    }

    /// Pushes a chain of 2 to 6 operations, each linked to the next
    /// (`IOSQE_IO_LINK`): a tuple in, a tuple of tickets out. An
    /// operation starts when the one before it succeeded; once one fails,
    /// the rest end with `ECANCELED` (a short read or write counts as a
    /// failure here). All or nothing: refused (`EBUSY`:
    /// too few free slots or too little room in the SQ; or an operation's
    /// own error), the whole tuple comes back.
    ///
    /// ```
    /// use urix::owned::{Driver, Nop, SlotStore};
    /// static SLOTS: SlotStore<8> = SlotStore::new();
    /// # fn main() -> urix::Result<()> {
    /// let mut d = Driver::with_slots(urix::IoUring::new(8)?, SLOTS.take().expect("free"));
    /// let (a, b, c) = d.push_chain((Nop::new(), Nop::new(), Nop::new())).map_err(|(_, e)| e)?;
    /// assert_eq!((d.wait(a)?, d.wait(b)?, d.wait(c)?), (Ok(0), Ok(0), Ok(0)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn push_chain<L: Chain>(&mut self, ops: L) -> core::result::Result<L::Tickets, (L, Errno)> {
        self.flush_cancels();
        let prep = prep!(self);
        let mut sq = self.ring.submission();
        if sq.capacity() - sq.len() < L::LEN || !self.table.has_free_slots(L::LEN) {
            return Err((ops, Errno::BUSY));
        }
        let (uds, mut sqes) = ops.prepare(&mut self.table, &prep)?;
        for e in &mut sqes[..L::LEN - 1] {
            *e = e.clone().flags(squeue::Flags::IO_LINK);
        }
        let entries: [S; 6] = core::array::from_fn(|i| S::from(sqes[i].clone()));
        // SAFETY: O2 for every SQE, as in `push`; all go in or none.
        let pushed = unsafe { sq.push_multiple(&entries[..L::LEN]) };
        if pushed.is_err() {
            // Not reached: the SQ had room. Give the operations back.
            if let Some(ops) = L::unprepare(&mut self.table, &uds) {
                return Err((ops, Errno::BUSY));
            }
        }
        for &ud in &uds[..L::LEN] {
            self.table.commit(ud);
        }
        Ok(L::tickets(&uds))
    }

    /// Pushes `op` with a linked timeout ([`LinkTimeout`]): if `op` is
    /// still running after `after`, it is cancelled (`ECANCELED`) and the
    /// timeout's result is `ETIME`'s absence (`Ok`); otherwise the timeout
    /// ends with `ECANCELED`.
    #[allow(clippy::type_complexity)]
    pub fn push_with_timeout<T: Operation>(
        &mut self,
        op: T,
        after: Duration,
    ) -> core::result::Result<(Ticket<T>, Ticket<LinkTimeout>), (T, Errno)> {
        self.push_linked(op, LinkTimeout::new(Timespec::from(after))).map_err(|(op, _, e)| (op, e))
    }

    /// Pushes the cancels that had to wait for room in the SQ.
    #[inline]
    fn flush_cancels(&mut self) {
        if self.table.pending_cancels() != 0 {
            self.flush_cancels_slow();
        }
    }

    #[cold]
    fn flush_cancels_slow(&mut self) {
        let mut sq = self.ring.submission();
        let mut cancels = [(0u64, 0u64); 16];
        let mut n = 0;
        // Collect first (the table is borrowed by the closure), then push.
        self.table.flush_cancels(|target| {
            if n == cancels.len() || sq.len() + n >= sq.capacity() {
                return false;
            }
            cancels[n] = (target, 0);
            n += 1;
            true
        });
        for c in &mut cancels[..n] {
            c.1 = self.table.cancel_ud(c.0);
        }
        for &(target, ud) in &cancels[..n] {
            let sqe = opcode::AsyncCancel::new(target.into()).build().user_data(ud);
            // SAFETY: O2: a cancel names no memory, only a user data.
            if unsafe { sq.push(&S::from(sqe)) }.is_err() {
                self.table.defer_cancel(target);
            }
        }
    }

    /// Pushes a cancel of `target` (a cancel's own completion frees
    /// nothing, O4); deferred if the SQ is full.
    fn push_cancel(&mut self, target: u64) {
        let ud = self.table.cancel_ud(target);
        let sqe = opcode::AsyncCancel::new(target.into()).build().user_data(ud);
        // SAFETY: O2: a cancel names no memory, only a user data.
        let pushed = unsafe { self.ring.submission().push(&S::from(sqe)) };
        if pushed.is_err() {
            self.table.defer_cancel(target);
        }
    }

    /// Submits what was pushed (and deferred cancels). An error from the
    /// kernel leaves every operation in flight: nothing is freed.
    #[inline(always)]
    pub fn submit(&mut self) -> Result<usize> {
        if self.table.pending_cancels() != 0 {
            return self.submit_with_cancels();
        }
        self.ring.submit()
    }

    #[cold]
    fn submit_with_cancels(&mut self) -> Result<usize> {
        self.flush_cancels();
        let n = self.ring.submit()?;
        // Cancels that waited for room in the SQ: there is room now.
        if self.table.pending_cancels() > 0 {
            self.flush_cancels();
            return Ok(n + self.ring.submit()?);
        }
        Ok(n)
    }

    /// Submits and waits for at least `want` completions (then
    /// [`reap`](Self::reap) them).
    #[inline(always)]
    pub fn submit_and_wait(&mut self, want: usize) -> Result<usize> {
        if self.table.pending_cancels() != 0 {
            return self.submit_and_wait_with_cancels(want);
        }
        self.ring.submit_and_wait(want)
    }

    #[cold]
    fn submit_and_wait_with_cancels(&mut self, want: usize) -> Result<usize> {
        self.flush_cancels();
        if self.table.pending_cancels() > 0 {
            self.ring.submit()?;
            self.flush_cancels();
        }
        self.ring.submit_and_wait(want)
    }

    /// Applies every completion in the CQ to its slot (waking its waker).
    /// Returns how many belonged to operations; foreign ones are counted
    /// in [`Stats::foreign`] and dropped. With `DEFER_TASKRUN` the kernel
    /// posts completions only when the ring is entered to wait: call
    /// [`submit_and_wait`](Self::submit_and_wait) first.
    ///
    /// The last completion of an abandoned operation releases what it
    /// holds (see [`abandon`](Self::abandon)); a registered-file slot the
    /// kernel filled for it is emptied then, with one register call
    /// (`IORING_REGISTER_FILES_UPDATE`, 5.5; `io_uring_register(2)`).
    #[inline(always)]
    pub fn reap(&mut self) -> usize {
        self.reap_with(|_| {})
    }

    /// As [`reap`](Self::reap), handing each foreign completion (not an
    /// awaited one of this driver) to `foreign`; an unclaimed
    /// registered-file slot is emptied as `reap` empties it
    /// (`IORING_REGISTER_FILES_UPDATE`, 5.5; `io_uring_register(2)`).
    #[inline(always)]
    pub fn reap_with(&mut self, mut foreign: impl FnMut(cqueue::Entry)) -> usize {
        // One pass over what the CQ holds now (from a completion for the
        // general path on, at most a ring's worth more: `reap_rest`); what
        // the kernel posts meanwhile waits for the next reap (and makes
        // `submit_and_wait` return at once).
        let mut n = 0;
        // The slot array in a local: a field would be read again after
        // every store to a slot.
        let base = self.table.base();
        let mut general = None;
        for c in &mut self.ring.completion() {
            let e = cqueue::Entry::from(c);
            let flags = e.flags();
            if self.table.complete_plain_in(base, e.user_data_u64(), e.raw_result(), flags.bits()) {
                n += 1;
                continue;
            }
            if flags.contains(cqueue::Flags::SKIP) {
                continue;
            }
            general = Some(e);
            break;
        }
        let Some(e) = general else { return n };
        // The general path, and the rest of the pass, out of line, the
        // view gone: what a release may need (the ring, for a register
        // call) is then at hand, and the plain path keeps nothing more
        // alive.
        self.reap_rest(n, e, &mut foreign)
    }

    /// [`reap_with`](Self::reap_with) from its first completion for the
    /// general path, `e`, on: applies it (a release emptying a
    /// registered-file slot calls [`empty_file_slot`]), then goes on in
    /// new views, for at most a CQ ring's worth of completions more (so
    /// that a stream the kernel keeps posting cannot hold the reap).
    #[cold]
    #[inline(never)]
    fn reap_rest(&mut self, mut n: usize, mut e: cqueue::Entry, foreign: &mut impl FnMut(cqueue::Entry)) -> usize {
        let base = self.table.base();
        let mut left = self.ring.params().cq_entries();
        loop {
            let ring = &self.ring;
            let sink = &mut Sink { bufs: &mut self.bufs, empty: &|i| empty_file_slot(&ring.submitter(), i) };
            match self.table.complete_slow(e.clone(), sink) {
                super::table::Reaped::Foreign => foreign(e),
                super::table::Reaped::Op => n += 1,
                super::table::Reaped::Cancel => {}
            }
            let mut cq = self.ring.completion();
            let mut general = None;
            while left > 0 {
                let Some(c) = cq.next() else { break };
                left -= 1;
                let c = cqueue::Entry::from(c);
                let flags = c.flags();
                if self.table.complete_plain_in(base, c.user_data_u64(), c.raw_result(), flags.bits()) {
                    n += 1;
                    continue;
                }
                if flags.contains(cqueue::Flags::SKIP) {
                    continue;
                }
                general = Some(c);
                break;
            }
            drop(cq);
            match general {
                Some(c) => e = c,
                None => return n,
            }
        }
    }

    /// Reaping and taking in one step, for operations of type `T`: as
    /// [`reap`](Self::reap), but each operation of type `T` whose last
    /// completion this call applies, and whose ticket still claims it
    /// (not abandoned), is handed at once to `out`, with its ticket's
    /// [`user_data`](Ticket::user_data), and its slot is free when `out`
    /// runs. That ticket is then spent, as one that gave its output:
    /// [`try_take`](Self::try_take) and [`poll`](Self::poll) stay
    /// `Pending`, [`wait`](Self::wait) says `EINVAL`; drop it. (A waker a
    /// poll left for it is dropped, not woken.) A plain operation (one
    /// completion, no new fd, no provided buffer: [`Nop`](super::Nop),
    /// [`Read`](super::Read), [`Write`](super::Write), ...) skips its
    /// slot's result fields altogether: see "Cost" in the
    /// [module docs](super).
    ///
    /// Everything else is applied as [`reap`](Self::reap) applies it:
    /// operations of other types (and multishot ones of type `T`, whose
    /// results are read with [`poll_next`](Self::poll_next)) keep their
    /// output for their tickets; abandoned ones are released; foreign and
    /// late completions touch no slot and are counted in
    /// [`Stats::foreign`]; an unclaimed registered-file slot is emptied
    /// (`IORING_REGISTER_FILES_UPDATE`, 5.5; `io_uring_register(2)`). Returns how many
    /// completions belonged to operations, as `reap` does.
    ///
    /// ```
    /// use urix::owned::{Driver, Nop, SlotStore};
    /// static SLOTS: SlotStore<8> = SlotStore::new();
    /// # fn main() -> urix::Result<()> {
    /// let mut d = Driver::with_slots(urix::IoUring::new(8)?, SLOTS.take().expect("free"));
    /// let a = d.push(Nop::new()).map_err(|r| r.errno())?.user_data();
    /// let b = d.push(Nop::new()).map_err(|r| r.errno())?.user_data();
    /// d.submit_and_wait(2)?;
    /// let mut got = Vec::new();
    /// assert_eq!(d.reap_outputs::<Nop>(|ud, res| got.push((ud, res))), 2);
    /// got.sort_by_key(|&(ud, _)| ud);
    /// assert_eq!(got, [(a.min(b), Ok(0)), (a.max(b), Ok(0))]);
    /// assert_eq!(d.in_use(), 0);
    /// # Ok(())
    /// # }
    /// ```
    #[inline(always)]
    pub fn reap_outputs<T: Operation>(&mut self, out: impl FnMut(u64, T::Output)) -> usize {
        self.reap_outputs_with::<T>(out, |_| {})
    }

    /// As [`reap_outputs`](Self::reap_outputs), handing each foreign
    /// completion to `foreign` (as [`reap_with`](Self::reap_with));
    /// unclaimed registered-file slots are emptied
    /// (`IORING_REGISTER_FILES_UPDATE`, 5.5; `io_uring_register(2)`).
    #[inline(always)]
    pub fn reap_outputs_with<T: Operation>(
        &mut self,
        mut out: impl FnMut(u64, T::Output),
        mut foreign: impl FnMut(cqueue::Entry),
    ) -> usize {
        let mut n = 0;
        // The slot array in a local, as in `reap_with`.
        let base = self.table.base();
        // The ring at hand beside the CQ view, for what a release on the
        // general path may need (a register call). Unlike `reap_with`'s
        // (one view per run of plain completions), this loop measured
        // cheapest with one view and the sink built off the plain path.
        let (mut cq, ring) = self.ring.completion_and_ring();
        for c in &mut cq {
            let e = cqueue::Entry::from(c);
            if self.table.complete_take_plain::<T>(base, &e, &mut out) {
                n += 1;
                continue;
            }
            let sink = &mut Sink { bufs: &mut self.bufs, empty: &move |i| empty_file_slot(&ring.submitter(), i) };
            match self.table.complete_take_rest::<T>(&e, sink, &mut out) {
                Some(super::table::Reaped::Op) => n += 1,
                Some(super::table::Reaped::Foreign) => foreign(e),
                Some(super::table::Reaped::Cancel) | None => {}
            }
        }
        n
    }

    /// The output of `ticket`'s operation once its last completion was
    /// reaped (the slot is then free); otherwise `Pending`, and `cx`'s
    /// waker is woken by the [`reap`](Self::reap) that completes it. A
    /// ticket that already gave `Ready` stays `Pending`.
    ///
    /// A multishot operation's results left unread when its output is
    /// taken are released: a registered-file slot among them is emptied
    /// (`IORING_REGISTER_FILES_UPDATE`, 5.5; `io_uring_register(2)`).
    #[inline]
    pub fn poll<T: Operation>(&mut self, ticket: &Ticket<T>, cx: &mut Context<'_>) -> Poll<T::Output> {
        self.poll_output::<T>(ticket.ud, Some(cx.waker()))
    }

    /// As [`poll`](Self::poll) without a waker (emptying the unclaimed
    /// registered-file slots of unread multishot results as `poll` does:
    /// `IORING_REGISTER_FILES_UPDATE`, 5.5; `io_uring_register(2)`).
    #[inline]
    pub fn try_take<T: Operation>(&mut self, ticket: &Ticket<T>) -> Poll<T::Output> {
        self.poll_output::<T>(ticket.ud, None)
    }

    /// [`poll`](Self::poll) and [`try_take`](Self::try_take).
    #[inline(always)]
    fn poll_output<T: Operation>(&mut self, ud: u64, waker: Option<&core::task::Waker>) -> Poll<T::Output> {
        if matches!(T::SHOTS, super::Shots::One) {
            // A one-shot operation's output takes all its slot holds:
            // nothing to release, so no sink to build (the plain path).
            return self.table.poll_slot::<T>(ud, waker, &mut self.bufs);
        }
        let sink = &mut Sink { bufs: &mut self.bufs, empty: &|i| empty_file_slot(&self.ring.submitter(), i) };
        self.table.poll_slot::<T>(ud, waker, sink)
    }

    /// The next result of a multishot operation; `Ready(None)` once its
    /// last result was read (then [`poll`](Self::poll) or
    /// [`wait`](Self::wait) gives its output back).
    pub fn poll_next<T: Multishot>(&mut self, ticket: &Ticket<T>, cx: &mut Context<'_>) -> Poll<Option<T::Item>> {
        self.table.poll_next::<T>(ticket.ud, Some(cx.waker()))
    }

    /// Blocks until `ticket`'s operation is over, and returns its output.
    /// `EINVAL` for a ticket that already gave its output; errors of
    /// `io_uring_enter` other than `EINTR` are returned (the operation
    /// stays in flight; the ticket is lost, as if abandoned without cancel).
    /// Reaps as [`reap`](Self::reap) and takes as [`poll`](Self::poll):
    /// either may empty a registered-file slot nobody claims
    /// (`IORING_REGISTER_FILES_UPDATE`, 5.5; `io_uring_register(2)`).
    pub fn wait<T: Operation>(&mut self, ticket: Ticket<T>) -> Result<T::Output> {
        loop {
            self.reap();
            if let Poll::Ready(out) = self.poll_output::<T>(ticket.ud, None) {
                return Ok(out);
            }
            if !self.table.is_pending(ticket.ud) {
                return Err(Errno::INVAL);
            }
            match self.submit_and_wait(1) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => {
                    self.abandon_quietly(ticket);
                    return Err(e);
                }
            }
        }
    }

    /// Blocks until the next result of a multishot operation, or `None`
    /// once its last was read. Reaps as [`reap`](Self::reap) does (which
    /// may empty a registered-file slot nobody claims:
    /// `IORING_REGISTER_FILES_UPDATE`, 5.5; `io_uring_register(2)`).
    pub fn wait_next<T: Multishot>(&mut self, ticket: &Ticket<T>) -> Result<Option<T::Item>> {
        loop {
            self.reap();
            if let Poll::Ready(item) = self.table.poll_next::<T>(ticket.ud, None) {
                return Ok(item);
            }
            match self.submit_and_wait(1) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Drops interest in an operation and pushes a cancel for it (deferred
    /// if the SQ is full). Its resources stay in the slot until its last
    /// completion, and are then released: buffers dropped, a new fd
    /// closed, a provided buffer recycled, a registered-file slot the
    /// kernel filled for it ([`AcceptFixed`](super::AcceptFixed),
    /// [`AcceptMultiFixed`](super::AcceptMultiFixed)) emptied
    /// (`IORING_REGISTER_FILES_UPDATE`, 5.5; `io_uring_register(2)`). A completed,
    /// unclaimed result is released at once.
    pub fn abandon<T>(&mut self, ticket: Ticket<T>) {
        if let Some(target) = self.table.abandon_slot(
            ticket.ud,
            &mut Sink { bufs: &mut self.bufs, empty: &|i| empty_file_slot(&self.ring.submitter(), i) },
        ) {
            self.push_cancel(target);
        }
    }

    /// As [`abandon`](Self::abandon), without a cancel: the operation runs
    /// to its end (what it gets then is released as `abandon` says,
    /// emptying an unclaimed registered-file slot
    /// (`IORING_REGISTER_FILES_UPDATE`, 5.5; `io_uring_register(2)`)).
    pub fn abandon_quietly<T>(&mut self, ticket: Ticket<T>) {
        let _ = self.table.abandon_slot(
            ticket.ud,
            &mut Sink { bufs: &mut self.bufs, empty: &|i| empty_file_slot(&self.ring.submitter(), i) },
        );
    }

    /// Asks the kernel to cancel `ticket`'s operation, keeping the
    /// interest: its result (often `ECANCELED`) comes back as usual.
    pub fn cancel<T>(&mut self, ticket: &Ticket<T>) {
        if self.table.is_pending(ticket.ud) {
            self.push_cancel(ticket.ud);
        }
    }

    /// Gives the driver a ring of provided buffers: `slots.len()` buffers
    /// of `buf_len` bytes from `bufs` (a power of two, at most 32768),
    /// for [`RecvMulti`](super::RecvMulti). The memory is `'static`: the
    /// kernel may use it until the ring is gone, so it is never handed
    /// back. `EBUSY` if the driver has a ring already; `EINVAL` for more
    /// buffers than the driver's queue `Q` (default [`QUEUE`], 8): each
    /// result a [`RecvMulti`](super::RecvMulti) gets holds one buffer until
    /// it is recycled, so with at most `Q` buffers no slot's queue can fill
    /// up and no received byte is ever dropped (the kernel ends the receive
    /// with `ENOBUFS` instead, after the buffers already filled).
    /// (`IORING_REGISTER_PBUF_RING` with `IOU_PBUF_RING_MMAP`, 6.4;
    /// `io_uring_register_buf_ring(3)`.)
    pub fn provide_buffers(
        &mut self,
        bufs: &'static mut [u8],
        buf_len: u32,
        slots: &'static mut [BufSlot],
    ) -> Result<u16> {
        if self.bufs.is_some() {
            return Err(Errno::BUSY);
        }
        Table::<N, B, Q>::check_buffers(slots.len())?;
        let entries = u16::try_from(slots.len()).map_err(|_| Errno::INVAL)?;
        let mut ring = BufRing::new_mapped(entries, bufs, buf_len, slots)?;
        let mut last = Errno::EXIST;
        // Below 2048: the mmap offset of a mapped ring holds the group id in
        // bits 16..27 (IORING_OFF_PBUF_SHIFT, under IORING_OFF_MMAP_MASK).
        for bgid in 0x7f0u16..0x800 {
            // SAFETY: O1/O9: the memory is `'static` and never reused; the
            // driver hands the ring only completions of its own BUF_SELECT
            // operations, which select this group, each once and in CQ
            // order (O4), and never unregisters it while one is live.
            match unsafe { ring.register(&self.ring.submitter(), bgid) } {
                Ok(()) => {
                    self.bufs = Some(ring);
                    // A new id: what a ring given before handed out is not
                    // this one's, whatever its addresses.
                    self.table.bufs_uid = NEXT_UID.fetch_add(1, Ordering::Relaxed);
                    return Ok(bgid);
                }
                Err(Errno::EXIST) => last = Errno::EXIST,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// With `alloc`: [`provide_buffers`](Self::provide_buffers) over heap
    /// memory. It is freed when the driver drops with every operation over
    /// and the ring unregistered, and leaked otherwise (the kernel may use
    /// it until the ring is gone). (`IORING_REGISTER_PBUF_RING`, 6.4;
    /// `io_uring_register_buf_ring(3)`.)
    #[cfg(feature = "alloc")]
    pub fn provide_buffers_boxed(&mut self, count: u16, buf_len: u32) -> Result<u16> {
        use alloc::vec;
        if self.bufs.is_some() {
            return Err(Errno::BUSY);
        }
        Table::<N, B, Q>::check_buffers(usize::from(count))?;
        let total = usize::from(count).checked_mul(buf_len as usize).ok_or(Errno::INVAL)?;
        let bufs = Box::leak(vec![0u8; total].into_boxed_slice());
        let slots = Box::leak(vec![BufSlot::default(); usize::from(count)].into_boxed_slice());
        let heap = HeapBufs(core::ptr::NonNull::from(&mut *bufs), core::ptr::NonNull::from(&mut *slots));
        match self.provide_buffers(bufs, buf_len, slots) {
            Ok(bgid) => {
                self.heap_bufs = Some(heap);
                Ok(bgid)
            }
            Err(e) => {
                // SAFETY: O1: the BufRing made over this memory was dropped
                // by `provide_buffers` without being registered: nothing
                // else refers to it, and the kernel never saw it.
                let _freed = unsafe { (Box::from_raw(heap.0.as_ptr()), Box::from_raw(heap.1.as_ptr())) };
                Err(e)
            }
        }
    }

    /// The bytes of a [`Received`].
    pub fn bytes<'s>(&'s self, r: &'s Received) -> &'s [u8] {
        match &self.bufs {
            Some(b) if r.ring == self.table.bufs_uid => b.bytes(&r.picked),
            _ => &[],
        }
    }

    /// Gives a [`Received`]'s buffer back to the ring (one of a ring this
    /// driver no longer has, or of another driver, is dropped).
    pub fn recycle(&mut self, r: Received) {
        if let Some(b) = self.bufs.as_mut().filter(|_| r.ring == self.table.bufs_uid) {
            if b.recycle(r.picked).is_ok() {
                b.advance();
            }
        }
    }

    /// Registers `fds` (at most 64) as the ring's fixed files
    /// (`IORING_REGISTER_FILES`, 5.1; `io_uring_register_files(3)`) and
    /// returns a handle for each, typed to this driver.
    pub fn register_files<'f>(&mut self, fds: &[BorrowedFd<'f>]) -> Result<FixedFiles> {
        let mut raw = [0i32; 64];
        if fds.len() > raw.len() {
            return Err(Errno::INVAL);
        }
        for (r, f) in raw.iter_mut().zip(fds) {
            *r = f.as_raw_fd();
        }
        // O12: results of operations already pushed are no slots of this
        // new table.
        self.table.files_changed();
        self.ring.submitter().register_files(&raw[..fds.len()])?;
        self.files = fds.len() as u32;
        Ok(FixedFiles { uid: self.uid, n: self.files })
    }

    /// Registers a table of `n` empty file slots
    /// (`IORING_REGISTER_FILES2` with `IORING_RSRC_REGISTER_SPARSE`, 5.19;
    /// `io_uring_register_files_sparse(3)`), for operations that install
    /// their new file there ([`AcceptFixed`](super::AcceptFixed)). Handles
    /// of an empty slot are refused by the kernel (`EBADF`). A slot the
    /// kernel fills for a result nobody claims is emptied by the driver;
    /// operations pushed before this call are left out of that (their
    /// slots may be another table's).
    pub fn register_files_sparse(&mut self, n: u32) -> Result<FixedFiles> {
        // O12: as in `register_files`.
        self.table.files_changed();
        self.ring.submitter().register_files_sparse(n)?;
        self.files = n;
        Ok(FixedFiles { uid: self.uid, n })
    }

    /// Registers `bufs` as the ring's fixed buffers (`IORING_REGISTER_BUFFERS`,
    /// 5.1) and returns one handle each, for [`ReadFixed`](super::ReadFixed)
    /// and [`WriteFixed`](super::WriteFixed). The memory is the driver's
    /// from now on (it may be pinned by the kernel until the ring is gone):
    /// read and write it through [`fixed_bytes`](Self::fixed_bytes) and
    /// [`fixed_bytes_mut`](Self::fixed_bytes_mut). At most
    /// [`MAX_FIXED_BUFS`]; `EBUSY` if buffers are registered already.
    /// (`IORING_REGISTER_BUFFERS`, 5.1; `io_uring_register_buffers(3)`.)
    pub fn register_buffers<const K: usize>(&mut self, bufs: [&'static mut [u8]; K]) -> Result<[FixedBuf; K]> {
        if K > MAX_FIXED_BUFS || K == 0 {
            return Err(Errno::INVAL);
        }
        if self.nfixed != 0 {
            return Err(Errno::BUSY);
        }
        let mut iov = [crate::types::iovec { iov_base: core::ptr::null_mut(), iov_len: 0 }; K];
        let mut fixed = [(0usize, 0u32); MAX_FIXED_BUFS];
        for ((v, f), b) in iov.iter_mut().zip(fixed.iter_mut()).zip(bufs) {
            let len = u32::try_from(b.len()).map_err(|_| Errno::INVAL)?;
            let ptr = b.as_mut_ptr();
            *v = crate::types::iovec { iov_base: ptr.cast(), iov_len: b.len() };
            *f = (ptr as usize, len);
        }
        // SAFETY: O10: the buffers are `'static` memory the driver owns
        // from now on (the `&'static mut` were consumed); they are never
        // given back or freed, so they outlive the registration.
        unsafe { self.ring.submitter().register_buffers(&iov) }?;
        self.fixed = fixed;
        self.nfixed = K;
        let uid = self.uid;
        Ok(core::array::from_fn(|i| FixedBuf { uid, index: i as u16 }))
    }

    /// The bytes of registered buffer `b` (empty if `b` is not this
    /// driver's).
    pub fn fixed_bytes(&self, b: &FixedBuf) -> &[u8] {
        match self.fixed[..self.nfixed].get(usize::from(b.index)) {
            Some(&(ptr, len)) if b.uid == self.uid => {
                // SAFETY: O10: the memory is the driver's `'static` buffer
                // `b.index`; the caller holds its only handle, so no
                // operation uses it now.
                unsafe { core::slice::from_raw_parts(ptr as *const u8, len as usize) }
            }
            _ => &[],
        }
    }

    /// The bytes of registered buffer `b`, to fill before a write.
    pub fn fixed_bytes_mut(&mut self, b: &mut FixedBuf) -> &mut [u8] {
        match self.fixed[..self.nfixed].get(usize::from(b.index)) {
            Some(&(ptr, len)) if b.uid == self.uid => {
                // SAFETY: O10: as in `fixed_bytes`; `&mut FixedBuf` makes
                // this the only view of that memory.
                unsafe { core::slice::from_raw_parts_mut(ptr as *mut u8, len as usize) }
            }
            _ => &mut [],
        }
    }

    /// Unregisters the fixed files (`IORING_UNREGISTER_FILES`, 5.1;
    /// `io_uring_unregister_files(3)`); their handles are refused from now
    /// on, and the slot results of operations pushed before are never
    /// emptied by the driver (they name slots of the table gone).
    pub fn unregister_files(&mut self) -> Result<()> {
        // O12: the slots the table's operations got go with it.
        self.table.files_changed();
        self.files = 0;
        self.ring.submitter().unregister_files()
    }

    /// Teardown (also run by `Drop`): pushes a cancel for every operation
    /// in flight, then reaps until all slots are free or the teardown
    /// timeout passed; the ones still running are leaked (O1). Returns the
    /// number leaked. With every slot free, the buffer ring is unregistered
    /// (`IORING_UNREGISTER_PBUF_RING`, 5.19; `io_uring_unregister_buf_ring(3)`).
    /// Results nobody took are released, registered-file slots among them
    /// emptied (`IORING_REGISTER_FILES_UPDATE`, 5.5; `io_uring_register(2)`).
    pub fn shutdown(&mut self) -> u32 {
        let _ = self.ring.submit();
        // A cancel for each slot still awaiting a completion (by index:
        // no copy of the table on the stack, whatever N is).
        for i in 0..N {
            if let Some(ud) = self.table.live_at(i) {
                self.push_cancel(ud);
                if self.ring.submission().is_full() {
                    let _ = self.ring.submit();
                }
            }
        }
        self.flush_cancels();
        let _ = self.ring.submit();
        let step = Timespec::from(Duration::from_millis(10));
        let mut waited = 0u32;
        loop {
            self.reap();
            if !self.table.any_live() || waited >= self.teardown_ms {
                break;
            }
            self.flush_cancels();
            let args = SubmitArgs::new().timespec(&step);
            match self.ring.submitter().submit_with_args(1, &args) {
                Ok(_) | Err(Errno::TIME) | Err(Errno::INTR) | Err(Errno::BUSY) => {}
                Err(_) => break,
            }
            waited = waited.saturating_add(10);
        }
        let leaked_before = self.table.stats.leaked;
        let clean = self
            .table
            .teardown(&mut Sink { bufs: &mut self.bufs, empty: &|i| empty_file_slot(&self.ring.submitter(), i) });
        if clean {
            if let Some(mut b) = self.bufs.take() {
                if b.unregister(&self.ring.submitter()).is_ok() {
                    let _ring = b;
                    #[cfg(feature = "alloc")]
                    if let Some(HeapBufs(bufs, slots)) = self.heap_bufs.take() {
                        // SAFETY: O1: the memory came from `Box::leak` in
                        // `provide_buffers_boxed`; every slot is free (no
                        // operation can still pick a buffer), the group is
                        // unregistered, and its BufRing was dropped above.
                        let _freed = unsafe { (Box::from_raw(bufs.as_ptr()), Box::from_raw(slots.as_ptr())) };
                    }
                } else {
                    core::mem::forget(b);
                }
            }
        } else {
            // O1: the ring's buffers and slots may still be written; the
            // BufRing (its memory is `'static`) is forgotten with them.
            if let Some(b) = self.bufs.take() {
                core::mem::forget(b);
            }
        }
        self.table.stats.leaked - leaked_before
    }
}

/// The handles of a [`Driver::register_files`] call.
#[derive(Debug, Clone, Copy)]
pub struct FixedFiles {
    uid: usize,
    n: u32,
}

impl FixedFiles {
    /// The handle of registered file `index`, if it was registered.
    pub fn get(&self, index: u32) -> Option<FixedFile> {
        (index < self.n).then_some(FixedFile { uid: self.uid, index })
    }
    /// How many.
    pub fn len(&self) -> u32 {
        self.n
    }
    /// Whether none.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

impl<const N: usize, const B: usize, S, C, const Q: usize> Drop for Driver<N, B, S, C, Q>
where
    S: squeue::EntryMarker + From<squeue::Entry>,
    C: cqueue::EntryMarker,
    cqueue::Entry: From<C>,
{
    fn drop(&mut self) {
        let _ = self.shutdown();
        // Then the table drops (before the ring): its storage goes back
        // only with every slot free (O1).
    }
}

impl<const N: usize, const B: usize, S, C, const Q: usize> fmt::Debug for Driver<N, B, S, C, Q>
where
    S: squeue::EntryMarker + From<squeue::Entry>,
    C: cqueue::EntryMarker,
    cqueue::Entry: From<C>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("id", &self.table.ring_id())
            .field("slots", &N)
            .field("in_use", &self.table.used())
            .field("stats", &self.table.stats)
            .finish_non_exhaustive()
    }
}
