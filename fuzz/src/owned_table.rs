//! The owned layer's table driven by a stand-in kernel
//! (`urix::owned::fuzz_hooks`). The input is a sequence of steps: the
//! application pushes operations (single-shot, zero-copy-send-like with a
//! notification, multishot), polls them, reads multishot results, abandons
//! them; the "kernel" writes into the memory of the operations it holds
//! (also late, after an abandon), posts their completions in any order,
//! posts duplicates, foreign user data (random, or a live one with a bit
//! flipped), the table's own cancels' completions, more multishot results
//! than the table keeps, and, at the end, may never answer some operations
//! at all (a completion lost to overflow on a kernel without NODROP).
//! Each step applies its completions either as `Driver::reap` does or in
//! one step (`Driver::reap_outputs`) for one of the three kinds.
//!
//! After every step, from outside the table:
//! - an operation the kernel still holds has never been dropped (its
//!   memory is not released while the kernel may write it), and the
//!   kernel's writes land in that operation's own memory;
//! - no operation is dropped twice, or used after its drop;
//! - the slots in use are exactly the operations not yet released;
//! - a completion that is a duplicate, foreign, stale or a cancel's
//!   releases nothing; `F_MORE` for a single-shot operation is foreign;
//! - an output is ready exactly after the last completion, with the
//!   result and bytes the kernel gave, and wakes the waker left by a poll;
//!   in one step, it is handed out with that completion exactly when the
//!   operation is of the kind taken, claimed and not multishot, and the
//!   slot is free then;
//! - multishot results come out in order, at most `QUEUE` unread, the
//!   rest counted as lost.
//!
//! At teardown every operation is released exactly once, except those the
//! kernel never answered: leaked, never dropped, and counted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Poll, Wake, Waker};

use rustix::io::Errno;
use urix::owned::fuzz_hooks::{Done, Harness, Ledger, Posted, Probe, MANY, NOTIF, ONE, OPS, SLOTS};
use urix::owned::QUEUE;

use crate::Input;

static LEDGER: Ledger = Ledger::new();
const RING: u16 = 0x55;
const F_MORE: u32 = 1 << 1;
const F_NOTIF: u32 = 1 << 3;

/// Counts its wake-ups.
struct Count(AtomicUsize);
impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// What the harness knows of one operation.
struct Op {
    id: u16,
    kind: u8,
    ud: u64,
    /// It got a slot (not refused or taken back).
    slotted: bool,
    /// The kernel holds it (no last completion posted).
    in_kernel: bool,
    /// The application holds its ticket (not abandoned, output not taken).
    claimed: bool,
    /// Byte the kernel last wrote over its memory.
    written: Option<u8>,
    /// Its last completion's result.
    last: Option<i32>,
    /// NOTIF: the first result the table accepted.
    first: Option<i32>,
    /// MANY: results the table keeps, in order, and the last one unread.
    queue: VecDeque<i32>,
    last_unread: bool,
    /// Multishot results posted so far (the next one's value).
    seq: i32,
    /// The waker of its last pending poll, and its count then.
    waker: Option<(Arc<Count>, usize)>,
}

impl Op {
    /// An operation as pushed: `slotted` when it got a slot (then the
    /// kernel and the application both hold it), with nothing posted yet.
    fn new(id: u16, kind: u8, ud: u64, slotted: bool) -> Self {
        Op {
            id,
            kind,
            ud,
            slotted,
            in_kernel: slotted,
            claimed: slotted,
            written: None,
            last: None,
            first: None,
            queue: VecDeque::new(),
            last_unread: false,
            seq: 0,
            waker: None,
        }
    }
}

/// A completion result: any `i32`, below -4095 (and `i32::MIN`) included,
/// which no kernel posts but the layer must take without a panic.
fn result(input: &mut Input<'_>) -> i32 {
    input.u32() as i32
}

/// What the layer must report for `res`: as `cqueue::Entry::result`
/// (below -4095 is no errno: `EINVAL`).
fn expect_result(res: i32) -> Result<u32, Errno> {
    if res >= 0 {
        Ok(res as u32)
    } else if res >= -4095 {
        Err(Errno::from_raw_os_error(-res))
    } else {
        Err(Errno::INVAL)
    }
}

struct Run {
    h: Harness,
    ops: Vec<Op>,
    /// Completions posted, for duplicates.
    posted: Vec<(u64, i32, u32)>,
    lost: u64,
    /// How this step's completions are applied: 0 as `reap` does, 1..=3
    /// in one step (`Driver::reap_outputs`) for `Probe<mode - 1>`.
    mode: u8,
}

impl Run {
    fn drops(&self) -> Vec<u32> {
        self.ops.iter().map(|o| LEDGER.drops(o.id)).collect()
    }

    /// The invariants that hold after every step.
    fn check(&self) {
        let mut used = 0;
        for o in &self.ops {
            let drops = LEDGER.drops(o.id);
            assert!(drops <= 1, "operation {} dropped {drops} times", o.id);
            assert_eq!(self.h.in_kernel(o.ud), o.in_kernel && o.slotted, "kernel's view of {}", o.id);
            if o.in_kernel && o.slotted {
                assert_eq!(drops, 0, "operation {} released while the kernel holds it", o.id);
            }
            used += u32::from(o.slotted && drops == 0);
        }
        assert_eq!(self.h.used(), used, "slots in use");
        assert_eq!(self.h.stats().lost, self.lost, "multishot results lost");
    }

    fn push(&mut self, kind: u8) {
        if self.ops.len() == OPS {
            return;
        }
        let id = self.ops.len() as u16;
        let pushed = match kind {
            ONE => self.h.push(Probe::<ONE>::new(id, &LEDGER)).map_err(|r| r.errno()),
            NOTIF => self.h.push(Probe::<NOTIF>::new(id, &LEDGER)).map_err(|r| r.errno()),
            _ => self.h.push(Probe::<MANY>::new(id, &LEDGER)).map_err(|r| r.errno()),
        };
        let slotted = match pushed {
            Ok(_) => true,
            Err(e) => {
                assert_eq!(e, Errno::BUSY, "refused for another reason than a full table");
                assert_eq!(self.h.used(), SLOTS as u32, "refused with a free slot");
                assert_eq!(LEDGER.drops(id), 1, "a refused operation comes back whole, once");
                false
            }
        };
        self.ops.push(Op::new(id, kind, pushed.unwrap_or(0), slotted));
    }

    fn take_back(&mut self) {
        if self.ops.len() == OPS {
            return;
        }
        let id = self.ops.len() as u16;
        match self.h.push_and_take_back(Probe::<ONE>::new(id, &LEDGER)) {
            Ok(Some(op)) => {
                assert_eq!(op.id(), id);
                assert_eq!(LEDGER.drops(id), 0);
                drop(op);
            }
            Ok(None) => panic!("a reserved operation could not be taken back"),
            Err(r) => assert_eq!((r.errno(), self.h.used()), (Errno::BUSY, SLOTS as u32)),
        }
        assert_eq!(LEDGER.drops(id), 1);
        self.ops.push(Op::new(id, ONE, 0, false));
    }

    /// Posts a completion that must release nothing and change no
    /// operation.
    fn post_inert(&mut self, ud: u64, res: i32, flags: u32, want: &[Posted]) {
        let before = self.drops();
        let woken: Vec<usize> =
            self.ops.iter().map(|o| o.waker.as_ref().map_or(0, |w| w.0 .0.load(Ordering::Relaxed))).collect();
        let (got, out) = self.post_raw(ud, res, flags);
        assert!(want.contains(&got), "{ud:#x} taken as {got:?}, not {want:?}");
        assert!(out.is_none(), "{ud:#x} ({got:?}) gave an output");
        assert_eq!(self.drops(), before, "{ud:#x} ({got:?}) released something");
        let now: Vec<usize> =
            self.ops.iter().map(|o| o.waker.as_ref().map_or(0, |w| w.0 .0.load(Ordering::Relaxed))).collect();
        assert_eq!(now, woken, "{ud:#x} ({got:?}) woke a waker");
    }

    /// Posts a completion through the path `mode` picks.
    fn post_raw(&mut self, ud: u64, res: i32, flags: u32) -> (Posted, Option<(u64, Done)>) {
        match self.mode {
            0 => (self.h.post(ud, res, flags), None),
            1 => self.h.post_take::<ONE>(ud, res, flags),
            2 => self.h.post_take::<NOTIF>(ud, res, flags),
            _ => self.h.post_take::<MANY>(ud, res, flags),
        }
    }

    /// The kernel posts a completion of operation `k`, which it holds.
    fn post(&mut self, k: usize, res: i32, more: bool) {
        let o = &mut self.ops[k];
        let (ud, kind) = (o.ud, o.kind);
        let flags = match (more, kind) {
            (true, _) => F_MORE,
            (false, NOTIF) if o.first.is_some() => F_NOTIF,
            (false, _) => 0,
        };
        if more && kind == ONE {
            // Single-shot operations get no F_MORE: foreign.
            return self.post_inert(ud, res, flags, &[Posted::Foreign]);
        }
        if more && kind == NOTIF && o.claimed && o.first.is_some() {
            // A second first result: foreign.
            return self.post_inert(ud, res, flags, &[Posted::Foreign]);
        }
        let res = if more && kind == MANY {
            o.seq += 1;
            o.seq
        } else {
            res
        };
        let woken = o.waker.as_ref().map(|(w, n)| (w.clone(), *n));
        // In one step, the output of a claimed operation of the type taken
        // (not multishot) comes with its last completion.
        let (id, claimed) = (o.id, o.claimed);
        let one_step = !more && claimed && kind != MANY && self.mode == kind + 1;
        let (got, out) = self.post_raw(ud, res, flags);
        assert_eq!(got, Posted::Op, "completion of operation {id} in flight");
        self.posted.push((ud, res, flags));
        let o = &mut self.ops[k];
        match out {
            Some((out_ud, done)) => {
                assert!(one_step, "operation {}'s output given in one step (mode {})", o.id, self.mode);
                assert_eq!(out_ud, ud, "output with another user data");
                assert_eq!(done.id, o.id, "another operation's output");
                assert_eq!(done.mem, [o.written.unwrap_or(0); 16], "operation {}'s bytes", o.id);
                assert_eq!(done.result, expect_result(res));
                if kind == NOTIF {
                    assert_eq!(done.first, o.first.map(expect_result));
                }
                assert_eq!(LEDGER.drops(o.id), 1, "operation {} not released with its output", o.id);
                o.in_kernel = false;
                o.last = Some(res);
                o.claimed = false;
                // Its waker may be woken (general path) or dropped.
                o.waker = None;
                return;
            }
            None => assert!(!one_step, "operation {}'s output not given in one step", o.id),
        }
        if !more {
            o.in_kernel = false;
            o.last = Some(res);
            if kind == MANY && o.claimed {
                o.last_unread = true;
            }
            if !o.claimed {
                assert_eq!(LEDGER.drops(o.id), 1, "abandoned operation {} not freed at its last completion", o.id);
            }
        } else if o.claimed {
            match kind {
                NOTIF => o.first = Some(res),
                _ if o.queue.len() == QUEUE => self.lost += 1,
                _ => o.queue.push_back(res),
            }
        }
        if let (Some((w, n)), true) = (woken, o.claimed) {
            assert!(w.0.load(Ordering::Relaxed) > n, "operation {}'s waker not woken", o.id);
            o.waker = None;
        }
    }

    fn poll(&mut self, k: usize) {
        let o = &self.ops[k];
        if !o.claimed {
            return;
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let (ud, id) = (o.ud, o.id);
        let got: Poll<Done> = match o.kind {
            ONE => self.h.poll::<ONE>(ud, Some(&waker)),
            NOTIF => self.h.poll::<NOTIF>(ud, Some(&waker)),
            _ => self.h.poll::<MANY>(ud, Some(&waker)),
        };
        let o = &mut self.ops[k];
        match got {
            Poll::Pending => {
                assert!(o.in_kernel, "operation {id} over but its output is not ready");
                assert_eq!(LEDGER.drops(id), 0);
                o.waker = Some((count, 0));
            }
            Poll::Ready(done) => {
                assert!(!o.in_kernel, "operation {id} ready before its last completion");
                assert_eq!(done.id, id, "another operation's output");
                assert_eq!(done.mem, [o.written.unwrap_or(0); 16], "operation {id}'s bytes");
                let last = o.last.expect("last completion posted");
                if o.kind != MANY {
                    assert_eq!(done.result, expect_result(last));
                }
                if o.kind == NOTIF {
                    assert_eq!(done.first, o.first.map(expect_result));
                }
                assert_eq!(LEDGER.drops(id), 1, "operation {id} not released with its output");
                o.claimed = false;
                o.waker = None;
            }
        }
    }

    fn poll_next(&mut self, k: usize) {
        let o = &self.ops[k];
        if !o.claimed || o.kind != MANY {
            return;
        }
        let got = self.h.poll_next(o.ud, None);
        let o = &mut self.ops[k];
        let want = match o.queue.pop_front() {
            Some(r) => Poll::Ready(Some(expect_result(r))),
            None if o.last_unread => {
                o.last_unread = false;
                Poll::Ready(Some(expect_result(o.last.expect("last posted"))))
            }
            None if o.in_kernel => Poll::Pending,
            None => Poll::Ready(None),
        };
        assert_eq!(got, want, "multishot operation {}'s next result", o.id);
    }

    fn abandon(&mut self, k: usize) {
        let o = &mut self.ops[k];
        if !o.claimed {
            return;
        }
        let cancel = self.h.abandon(o.ud);
        assert_eq!(cancel, o.in_kernel.then_some(o.ud), "cancel wanted for {}", o.id);
        o.claimed = false;
        o.waker = None;
        o.queue.clear();
        let drops = LEDGER.drops(o.id);
        assert_eq!(drops, u32::from(!o.in_kernel), "abandoned operation {}: released when the kernel is done", o.id);
    }
}

/// Runs the table through the steps `data` describes.
pub fn run(data: &[u8]) {
    LEDGER.reset();
    let Some(h) = Harness::new(RING) else { panic!("every store leaked") };
    let mut run = Run { h, ops: Vec::new(), posted: Vec::new(), lost: 0, mode: 0 };
    let mut input = Input::new(data);
    let mut steps = 0;
    while !input.is_empty() && steps < 512 {
        steps += 1;
        let step = input.u8();
        run.mode = (step / 13) % 4;
        let k = if run.ops.is_empty() { None } else { Some(usize::from(input.u8()) % run.ops.len()) };
        match (step % 13, k) {
            (0, _) => run.push(input.u8() % 3),
            (1, _) => run.take_back(),
            (2, Some(k)) => {
                let byte = input.u8();
                let o = &mut run.ops[k];
                if o.in_kernel && o.slotted {
                    assert_eq!(LEDGER.drops(o.id), 0, "the kernel would write into released operation {}", o.id);
                    assert!(run.h.kernel_write(o.ud, byte));
                    o.written = Some(byte);
                } else {
                    assert!(!run.h.kernel_write(o.ud, byte) || o.ud == 0);
                }
            }
            (3, Some(k)) if run.ops[k].in_kernel => {
                let res = result(&mut input);
                run.post(k, res, false);
            }
            (4, Some(k)) if run.ops[k].in_kernel => {
                let res = result(&mut input);
                for _ in 0..=(input.u8() % 12) {
                    if !run.ops[k].in_kernel {
                        break;
                    }
                    run.post(k, res, true);
                }
            }
            (5, _) if !run.posted.is_empty() => {
                // A completion posted again, after the kernel was done.
                let (ud, res, flags) = run.posted[usize::from(input.u8()) % run.posted.len()];
                if !run.h.in_kernel(ud) {
                    run.post_inert(ud, res, flags, &[Posted::Foreign]);
                }
            }
            (6, k) => {
                // Foreign user data: random, or a live one with a bit flipped.
                let (bit, res, flags) = (input.u8() % 64, result(&mut input), input.u32());
                let ud = match k {
                    Some(k) if bit & 1 == 0 => run.ops[k].ud ^ (1 << bit),
                    _ => input.u64(),
                };
                if !run.ops.iter().any(|o| o.in_kernel && o.ud == ud) {
                    run.post_inert(ud, res, flags, &[Posted::Foreign, Posted::Cancel]);
                }
            }
            (7, Some(k)) => run.poll(k),
            (8, Some(k)) => run.poll_next(k),
            (9, Some(k)) => run.abandon(k),
            (10, Some(k)) if run.ops[k].slotted => {
                // The completion of the table's cancel aimed at `k`.
                let ud = run.h.cancel_ud(run.ops[k].ud);
                run.post_inert(ud, result(&mut input), 0, &[Posted::Cancel]);
            }
            (11, _) => {
                let room = usize::from(input.u8() % 4);
                let mut targets = Vec::new();
                run.h.flush_cancels(|ud| {
                    targets.len() < room && {
                        targets.push(ud);
                        true
                    }
                });
                for ud in targets {
                    assert!(run.h.in_kernel(ud), "a cancel for {ud:#x}, which the kernel no longer holds");
                }
            }
            (12, Some(k)) if run.ops[k].slotted => run.h.defer_cancel(run.ops[k].ud),
            _ => {}
        }
        run.check();
    }

    // Teardown: the kernel answers what it still holds (ECANCELED), unless
    // the input says it never will and a store can be spared for the leak.
    let answer = input.u8() & 1 == 0 || Harness::spare_stores() < 2;
    for k in 0..run.ops.len() {
        if answer && run.ops[k].in_kernel {
            run.post(k, -Errno::CANCELED.raw_os_error(), false);
        }
    }
    run.check();
    let Run { h, ops, .. } = run;
    let (clean, stats) = h.finish();
    let held = ops.iter().filter(|o| o.in_kernel && o.slotted).count();
    assert_eq!(clean, held == 0, "teardown clean exactly when the kernel holds nothing");
    assert_eq!(stats.leaked as usize, held, "leaked slots");
    for o in &ops {
        let want = u32::from(!(o.in_kernel && o.slotted));
        assert_eq!(LEDGER.drops(o.id), want, "operation {} released {} times at teardown", o.id, LEDGER.drops(o.id));
    }
}
