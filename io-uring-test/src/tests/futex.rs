//! Tests of `src/opcode/futex.rs` on the kernel: futex waits armed in the
//! ring, woken from the ring and from another thread.

use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::ensure;
use rustix::io_uring::{FutexWaitFlags, FutexWaitvFlags};
use urix::types::FutexWaitV;
use urix::{cqueue, opcode, squeue, Errno, IoUring};

use crate::harness::{Ctx, Req, Test};
use crate::test;
use crate::util::{one, push_all, reap};

const WAIT: Req = Req::Op(opcode::FutexWait::CODE, "FUTEX_WAIT");
const WAKE: Req = Req::Op(opcode::FutexWake::CODE, "FUTEX_WAKE");
const WAITV: Req = Req::Op(opcode::FutexWaitV::CODE, "FUTEX_WAITV");
const NOP: Req = Req::Op(opcode::Nop::CODE, "NOP");

/// A private 32-bit futex, as `futex(2)`'s `FUTEX_PRIVATE_FLAG` ones.
const U32_PRIVATE: FutexWaitFlags = FutexWaitFlags::SIZE_U32.union(FutexWaitFlags::PRIVATE);
/// `FUTEX_BITSET_MATCH_ANY` for 32-bit futexes.
const ANY: u64 = u32::MAX as u64;

pub fn tests() -> Vec<Test> {
    vec![
        test!(futex_wait_woken_by_ring_wake, requires = [WAIT, WAKE, NOP]),
        test!(futex_wait_woken_by_thread, requires = [WAIT, NOP]),
        test!(futex_waitv_returns_woken_index, requires = [WAITV, WAKE, NOP]),
    ]
}

fn addr(word: &AtomicU32) -> *const u32 {
    word.as_ptr().cast_const()
}

fn wait(word: &AtomicU32, val: u64, mask: u64, ud: u64) -> squeue::Entry {
    opcode::FutexWait::new(addr(word), val, mask, U32_PRIVATE).build().user_data(ud)
}

fn wake(word: &AtomicU32, n: u64, mask: u64, ud: u64) -> squeue::Entry {
    opcode::FutexWake::new(addr(word), n, mask, U32_PRIVATE).build().user_data(ud)
}

/// Makes sure the process has had a second thread.
///
/// Linux 6.16+ gives a process its own futex hash table when it creates
/// its first thread. A private waiter queued before that (only io_uring
/// can queue one while the single thread runs on) stays in the global
/// table, and every wake from then on misses it, from the ring or from a
/// thread (seen on 6.18). So no wait may be pending when the first thread
/// is created; creating one up front avoids that.
fn ensure_threaded() -> anyhow::Result<()> {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let mut res = Ok(());
    ONCE.call_once(|| {
        res = std::thread::spawn(|| ()).join().map_err(|_| anyhow::anyhow!("no-op thread panicked"));
    });
    res
}

/// Submits `waits`, then a NOP, and checks that the NOP is the only
/// completion: every wait was issued (the kernel issues in order, the SQ
/// thread too) and is now sleeping.
fn arm<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    waits: &[squeue::Entry],
) -> anyhow::Result<()> {
    const BARRIER: u64 = 0xba44;
    let mut all: Vec<S> = waits.iter().cloned().map(S::from).collect();
    all.push(S::from(opcode::Nop::new().build().user_data(BARRIER)));
    push_all(ring, &all)?;
    let got = reap(ring, 1)?;
    ensure!(got[0].user_data_u64() == BARRIER, "a wait completed before it was woken: {:?}", got[0]);
    ensure!(ring.completion().is_empty(), "a wait completed before it was woken");
    Ok(())
}

/// Reaps `n` completions, sorted by user_data.
fn reap_sorted<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    n: usize,
) -> anyhow::Result<Vec<cqueue::Entry>> {
    let mut got = reap(ring, n)?;
    got.sort_by_key(|c| c.user_data_u64());
    Ok(got)
}

fn futex_wait_woken_by_ring_wake<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    ensure_threaded()?;
    let mut ring = ctx.ring::<S, C>(16)?;
    let word = AtomicU32::new(0);

    // The futex no longer holds the expected value: EAGAIN at once.
    let c = one(&mut ring, wait(&word, 1, ANY, 1))?;
    ensure!(c.result() == Err(Errno::AGAIN), "wait for 1 on a 0 futex: {:?}", c.result());
    // Nobody waits: a wake wakes 0.
    let c = one(&mut ring, wake(&word, 1, ANY, 2))?;
    ensure!(c.result() == Ok(0), "wake without waiters: {:?}", c.result());

    // One waiter, one wake.
    arm(&mut ring, &[wait(&word, 0, ANY, 10)])?;
    push_all(&mut ring, &[S::from(wake(&word, 1, ANY, 11))])?;
    let got = reap_sorted(&mut ring, 2)?;
    ensure!(got[0].user_data_u64() == 10 && got[0].result() == Ok(0), "woken wait: {:?}", got[0]);
    ensure!(got[1].user_data_u64() == 11 && got[1].result() == Ok(1), "wake: {:?}", got[1]);

    // The mask selects waiters: a wake with a disjoint bitset wakes none.
    arm(&mut ring, &[wait(&word, 0, 0b01, 20)])?;
    let c = one(&mut ring, wake(&word, 1, 0b10, 21))?;
    ensure!(c.user_data_u64() == 21 && c.result() == Ok(0), "wake with a disjoint mask: {c:?}");
    push_all(&mut ring, &[S::from(wake(&word, 1, 0b11, 22))])?;
    let got = reap_sorted(&mut ring, 2)?;
    ensure!(got[0].user_data_u64() == 20 && got[0].result() == Ok(0), "masked wait: {:?}", got[0]);
    ensure!(got[1].user_data_u64() == 22 && got[1].result() == Ok(1), "matching wake: {:?}", got[1]);

    // `val` of a wake caps how many wake up.
    arm(&mut ring, &[wait(&word, 0, ANY, 30), wait(&word, 0, ANY, 31), wait(&word, 0, ANY, 32)])?;
    push_all(&mut ring, &[S::from(wake(&word, 2, ANY, 40))])?;
    let got = reap_sorted(&mut ring, 3)?;
    let woken = got.iter().filter(|c| (30..=32).contains(&c.user_data_u64()) && c.result() == Ok(0)).count();
    let w = got.iter().find(|c| c.user_data_u64() == 40);
    ensure!(woken == 2 && w.is_some_and(|c| c.result() == Ok(2)), "wake 2 of 3: {got:?}");
    ensure!(ring.completion().is_empty(), "the third waiter woke too");
    push_all(&mut ring, &[S::from(wake(&word, 10, ANY, 41))])?;
    let got = reap_sorted(&mut ring, 2)?;
    ensure!((30..=32).contains(&got[0].user_data_u64()) && got[0].result() == Ok(0), "last waiter: {:?}", got[0]);
    ensure!(got[1].user_data_u64() == 41 && got[1].result() == Ok(1), "wake the last one: {:?}", got[1]);

    // futex_flags in the SQE must be 0.
    let e = opcode::FutexWake::new(addr(&word), 1, ANY, U32_PRIVATE)
        .flags(FutexWaitvFlags::from_bits_retain(1))
        .build()
        .user_data(50);
    let c = one(&mut ring, e)?;
    ensure!(c.result() == Err(Errno::INVAL), "wake with futex_flags 1: {:?}", c.result());
    // A zero mask is refused.
    let c = one(&mut ring, wait(&word, 0, 0, 51))?;
    ensure!(c.result() == Err(Errno::INVAL), "wait with mask 0: {:?}", c.result());
    Ok(())
}

fn futex_wait_woken_by_thread<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    ensure_threaded()?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let word = AtomicU32::new(0);
    arm(&mut ring, &[wait(&word, 0, ANY, 1)])?;
    let woken = std::thread::scope(|s| {
        s.spawn(|| {
            word.store(1, Ordering::SeqCst);
            // SAFETY: FUTEX_WAKE on a live, aligned u32; no other argument is read.
            unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, 1) }
        })
        .join()
    })
    .map_err(|_| anyhow::anyhow!("waker thread panicked"))?;
    ensure!(woken == 1, "futex(FUTEX_WAKE) from a thread woke {woken}");
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].user_data_u64() == 1 && got[0].result() == Ok(0), "woken wait: {:?}", got[0]);
    // The futex now holds 1: a wait for 0 fails at once.
    let c = one(&mut ring, wait(&word, 0, ANY, 2))?;
    ensure!(c.result() == Err(Errno::AGAIN), "wait for 0 on a 1 futex: {:?}", c.result());
    Ok(())
}

fn futex_waitv_returns_woken_index<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    ensure_threaded()?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let words = [AtomicU32::new(0), AtomicU32::new(0)];
    let entry = |i: usize, val: u64| FutexWaitV::new().val(val).uaddr(words[i].as_ptr().cast()).flags(U32_PRIVATE);
    let v = [entry(0, 0), entry(1, 0)];
    let waitv = |ud: u64| opcode::FutexWaitV::new(v.as_ptr(), 2).build().user_data(ud);

    for woken in [1usize, 0] {
        let ud = 10 + woken as u64;
        arm(&mut ring, &[waitv(ud)])?;
        push_all(&mut ring, &[S::from(wake(&words[woken], 1, ANY, 20))])?;
        let got = reap_sorted(&mut ring, 2)?;
        ensure!(got[0].user_data_u64() == ud, "unexpected CQE {:?}", got[0]);
        ensure!(got[0].result() == Ok(woken as u32), "waitv woken via futex {woken}: {:?}", got[0].result());
        ensure!(got[1].result() == Ok(1), "wake of futex {woken}: {:?}", got[1]);
    }

    // One entry no longer holds its value: EAGAIN at once.
    let stale = [entry(0, 0), entry(1, 5)];
    let c = one(&mut ring, opcode::FutexWaitV::new(stale.as_ptr(), 2).build().user_data(30))?;
    ensure!(c.result() == Err(Errno::AGAIN), "waitv with a stale value: {:?}", c.result());
    // An empty vector and futex_flags are refused.
    let c = one(&mut ring, opcode::FutexWaitV::new(v.as_ptr(), 0).build().user_data(31))?;
    ensure!(c.result() == Err(Errno::INVAL), "waitv of 0 futexes: {:?}", c.result());
    let e = opcode::FutexWaitV::new(v.as_ptr(), 2).flags(FutexWaitvFlags::from_bits_retain(1)).build();
    let c = one(&mut ring, e.user_data(32))?;
    ensure!(c.result() == Err(Errno::INVAL), "waitv with futex_flags 1: {:?}", c.result());
    Ok(())
}
