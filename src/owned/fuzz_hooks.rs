//! A stand-in kernel for the owned layer's table, so that `fuzz/` can feed
//! it hostile completions (out of order, duplicated, foreign, late after an
//! abandon, never) and watch what it does with the memory it holds. Only
//! built with the `fuzz-hooks` feature; not part of the API.
//!
//! The stand-in kernel holds the operations it was given, and may write
//! their memory until it posts their last completion (one without
//! `F_MORE`), as the real one does. Each test operation ([`Probe`]) counts
//! its drops in a [`Ledger`], so a harness can check that each is released
//! exactly once, and never while the kernel may still write it.

use core::ptr;
use core::sync::atomic::{AtomicU32, Ordering};
use core::task::{Poll, Waker};

use super::table::{Completion, Multishot, Operation, Prep, Reaped, Refused, Shots, SlotStore, Stats, Table};
use crate::squeue::Entry;
use rustix::io::Errno;

/// Operations one run may create (their ids are `0..OPS`).
pub const OPS: usize = 256;
/// Slots of a harness's table.
pub const SLOTS: usize = 8;
/// Bytes of operation storage per slot.
const BYTES: usize = 64;
/// Tables whose slots a run may leak (then never reused, O1): a harness
/// can be made while one of these is left.
const STORES: usize = 64;
static STORE: [SlotStore<SLOTS, BYTES>; STORES] = [const { SlotStore::new() }; STORES];
const PREP: Prep<'static> = Prep { uid: 0, files: 0, bgid: None, fixed: &[], ring: None };
const MAGIC: u32 = 0x0f0f_beef;

/// Drop counts of the operations of one run, by id.
pub struct Ledger {
    drops: [AtomicU32; OPS],
}

impl Ledger {
    /// All zero.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Ledger { drops: [const { AtomicU32::new(0) }; OPS] }
    }
    /// Back to zero, for the next run.
    pub fn reset(&self) {
        self.drops.iter().for_each(|d| d.store(0, Ordering::Relaxed));
    }
    /// How often operation `id` was dropped.
    pub fn drops(&self, id: u16) -> u32 {
        self.drops.get(usize::from(id)).map_or(0, |d| d.load(Ordering::Relaxed))
    }
}

/// How many completions a [`Probe`] takes: as a plain read.
pub const ONE: u8 = 0;
/// As a zero-copy send: a result with `F_MORE`, then the notification.
pub const NOTIF: u8 = 1;
/// As a multishot operation.
pub const MANY: u8 = 2;

/// A test operation: 16 bytes the stand-in kernel writes into (inside
/// the slot), an id, and the ledger that counts its drops. `K` is
/// [`ONE`], [`NOTIF`] or [`MANY`].
pub struct Probe<const K: u8> {
    id: u16,
    magic: u32,
    mem: [u8; 16],
    ledger: &'static Ledger,
}

impl<const K: u8> Probe<K> {
    /// Operation `id` (below [`OPS`]), counted in `ledger`.
    pub fn new(id: u16, ledger: &'static Ledger) -> Self {
        Probe { id, magic: MAGIC, mem: [0; 16], ledger }
    }
    /// Its id.
    pub fn id(&self) -> u16 {
        self.id
    }
    fn check(&self) {
        assert_eq!(self.magic, MAGIC, "operation {} used after it was dropped", self.id);
    }
}

impl<const K: u8> Drop for Probe<K> {
    fn drop(&mut self) {
        self.check();
        self.magic = 0;
        if let Some(d) = self.ledger.drops.get(usize::from(self.id)) {
            d.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// What a [`Probe`] gives back.
#[derive(Debug, PartialEq, Eq)]
pub struct Done {
    /// The operation's id.
    pub id: u16,
    /// Its last completion's result.
    pub result: Result<u32, Errno>,
    /// For [`NOTIF`]: the first completion's result.
    pub first: Option<Result<u32, Errno>>,
    /// Its 16 bytes, as the kernel left them.
    pub mem: [u8; 16],
}

// SAFETY: O2: the SQE names `self.mem`, a field, which stays in the slot
// until the last completion; no file (fd -1 is never looked up: the
// stand-in kernel does not run SQEs).
unsafe impl<const K: u8> Operation for Probe<K> {
    type Output = Done;
    const SHOTS: Shots = match K {
        ONE => Shots::One,
        NOTIF => Shots::Notif,
        _ => Shots::Many,
    };
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        self.check();
        Ok(crate::opcode::Read::new(crate::types::Fd(-1), self.mem.as_mut_ptr(), 16).build())
    }
    fn complete(self, done: Completion) -> Done {
        self.check();
        Done { id: self.id, result: done.result(), first: done.first_result(), mem: self.mem }
    }
}

impl<const K: u8> Multishot for Probe<K> {
    type Item = Result<u32, Errno>;
    fn item(&mut self, c: Completion) -> Self::Item {
        self.check();
        c.result()
    }
}

/// How the table took a posted completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// Applied to the operation it names.
    Op,
    /// The completion of one of the table's own cancels: nothing freed.
    Cancel,
    /// Not awaited by any slot: nothing touched.
    Foreign,
}

/// A table and a stand-in kernel holding the operations pushed into it.
pub struct Harness {
    table: Table<SLOTS, BYTES>,
    /// What the kernel holds: user data and the address of the memory it
    /// may write, until it posts the last completion.
    kernel: [Option<(u64, *mut u8)>; SLOTS],
}

impl Harness {
    /// A harness over a store no earlier run leaked; `None` when all
    /// [`STORES`] were.
    pub fn new(ring_id: u16) -> Option<Self> {
        let slots = STORE.iter().find_map(SlotStore::take)?;
        Some(Harness { table: Table::new(slots, ring_id), kernel: [None; SLOTS] })
    }

    /// How many more harnesses can be made after this one, if this one
    /// leaks its slots.
    pub fn spare_stores() -> usize {
        // Taking a free store and dropping its `Slots` gives it back.
        STORE.iter().filter(|s| s.take().is_some()).count()
    }

    /// Pushes `op` (its SQE goes to the stand-in kernel) and returns its
    /// user data; refused when the table is full.
    pub fn push<const K: u8>(&mut self, op: Probe<K>) -> Result<u64, Refused<Probe<K>>> {
        let (ud, sqe) = self.table.prepare(op, &PREP)?;
        self.table.commit(ud);
        // The builder cast the pointer to an integer, which exposed it.
        let addr = ptr::with_exposed_provenance_mut::<u8>(sqe.0.addr as usize);
        let free = self.kernel.iter_mut().find(|k| k.is_none());
        *free.expect("the table gave out a slot the kernel still holds") = Some((ud, addr));
        Ok(ud)
    }

    /// Prepares `op` in a slot and takes it back before its SQE is pushed
    /// (what the driver does when the SQ is full).
    pub fn push_and_take_back<const K: u8>(&mut self, op: Probe<K>) -> Result<Option<Probe<K>>, Refused<Probe<K>>> {
        let (ud, _) = self.table.prepare(op, &PREP)?;
        Ok(self.table.unprepare::<Probe<K>>(ud))
    }

    /// Whether the stand-in kernel still holds `ud` (has not posted its
    /// last completion).
    pub fn in_kernel(&self, ud: u64) -> bool {
        self.kernel.iter().flatten().any(|k| k.0 == ud)
    }

    /// The stand-in kernel writes `byte` over the 16 bytes of operation
    /// `ud`, if it still holds it (late writes after an abandon included).
    /// Returns whether it wrote.
    pub fn kernel_write(&mut self, ud: u64, byte: u8) -> bool {
        let Some(&(_, addr)) = self.kernel.iter().flatten().find(|k| k.0 == ud) else { return false };
        // SAFETY: O1, O2: `addr` is the `mem` field of the `Probe` that
        // `push` moved into its slot; the table keeps it there, unmoved,
        // until it applies the last completion of `ud`, which this kernel
        // has not posted yet (`post` forgets `ud` when it does).
        unsafe { ptr::write_bytes(addr, byte, 16) };
        true
    }

    /// The stand-in kernel posts a completion with any user data, result
    /// and flags. One of an operation it holds without `F_MORE` is that
    /// operation's last: the kernel forgets it first.
    pub fn post(&mut self, ud: u64, res: i32, flags: u32) -> Posted {
        if flags & crate::cqueue::Flags::MORE.bits() == 0 {
            for k in self.kernel.iter_mut().filter(|k| k.is_some_and(|k| k.0 == ud)) {
                *k = None;
            }
        }
        match self.table.complete(&crate::fuzz_hooks::cqe(ud, res, flags), &mut None) {
            Reaped::Op => Posted::Op,
            Reaped::Cancel => Posted::Cancel,
            Reaped::Foreign => Posted::Foreign,
        }
    }

    /// As [`post`](Self::post), through the one-step path of
    /// `Driver::reap_outputs::<Probe<K>>`: the output of a `Probe<K>`
    /// (not multishot) whose last completion this is, and which is still
    /// claimed, comes back at once with its user data (the slot is then
    /// free). A completion with `F_SKIP` that no slot took is `Foreign`.
    pub fn post_take<const K: u8>(&mut self, ud: u64, res: i32, flags: u32) -> (Posted, Option<(u64, Done)>) {
        if flags & crate::cqueue::Flags::MORE.bits() == 0 {
            for k in self.kernel.iter_mut().filter(|k| k.is_some_and(|k| k.0 == ud)) {
                *k = None;
            }
        }
        let mut got = None;
        let mut outs = 0;
        let posted =
            self.table.complete_take::<Probe<K>>(&crate::fuzz_hooks::cqe(ud, res, flags), &mut None, &mut |u, d| {
                outs += 1;
                got = Some((u, d));
            });
        assert!(outs <= 1, "one completion gave {outs} outputs");
        let posted = match posted {
            Some(Reaped::Op) => Posted::Op,
            Some(Reaped::Cancel) => Posted::Cancel,
            Some(Reaped::Foreign) | None => Posted::Foreign,
        };
        (posted, got)
    }

    /// The output of `ud` if its last completion came (the slot is then
    /// free); otherwise keeps `waker`.
    pub fn poll<const K: u8>(&mut self, ud: u64, waker: Option<&Waker>) -> Poll<Done> {
        self.table.poll_slot::<Probe<K>>(ud, waker, &mut None)
    }

    /// The next result of multishot `ud`.
    pub fn poll_next(&mut self, ud: u64, waker: Option<&Waker>) -> Poll<Option<Result<u32, Errno>>> {
        self.table.poll_next::<Probe<MANY>>(ud, waker)
    }

    /// Drops interest in `ud`; the user data to cancel if it still runs.
    pub fn abandon(&mut self, ud: u64) -> Option<u64> {
        self.table.abandon_slot(ud, &mut None)
    }

    /// The user data of the table's cancel aimed at `ud`.
    pub fn cancel_ud(&self, ud: u64) -> u64 {
        self.table.cancel_ud(ud)
    }

    /// Marks `ud`'s cancel as still to be pushed.
    pub fn defer_cancel(&mut self, ud: u64) {
        self.table.defer_cancel(ud)
    }

    /// Hands each cancel still to be pushed to `push` until it says no.
    pub fn flush_cancels(&mut self, push: impl FnMut(u64) -> bool) {
        self.table.flush_cancels(push)
    }

    /// Slots not free.
    pub fn used(&self) -> u32 {
        self.table.used()
    }

    /// The table's counters.
    pub fn stats(&self) -> Stats {
        self.table.stats
    }

    /// Teardown: completed slots are freed, the ones the kernel still
    /// holds are leaked (never touched again, their store never reused).
    /// The stand-in kernel goes away. Returns whether nothing leaked.
    pub fn finish(mut self) -> (bool, Stats) {
        let clean = self.table.teardown(&mut None);
        (clean, self.table.stats)
    }
}
