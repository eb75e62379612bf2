//! Tests of `src/opcode/timeout.rs` on the kernel: `Timeout` (time, count,
//! ETIME_SUCCESS, multishot), `TimeoutRemove`, `TimeoutUpdate` (also of a
//! linked timeout), `LinkTimeout`, and how links react to failures.

use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use urix::types::{Fd, TimeoutFlags, Timespec};
use urix::{cqueue, opcode, squeue, Errno};

use super::poll::{expect_nothing, find, one, pipe, reap_at_least, reap_within, sq_drained};
use crate::harness::{Ctx, Req, Test};
use crate::test;
use crate::util::PATIENCE;
use crate::util::{needs_kernel, push_all};

const TIMEOUT: Req = Req::Op(opcode::Timeout::CODE, "TIMEOUT");
const TIMEOUT_REMOVE: Req = Req::Op(opcode::TimeoutRemove::CODE, "TIMEOUT_REMOVE");
const LINK_TIMEOUT: Req = Req::Op(opcode::LinkTimeout::CODE, "LINK_TIMEOUT");
const NOP: Req = Req::Op(opcode::Nop::CODE, "NOP");
const READ: Req = Req::Op(opcode::Read::CODE, "READ");

pub fn tests() -> Vec<Test> {
    vec![
        test!(timeout_expires_with_etime, requires = [TIMEOUT]),
        test!(timeout_completes_after_count, requires = [TIMEOUT, NOP]),
        test!(timeout_multishot_fires_count_times, requires = [TIMEOUT, TIMEOUT_REMOVE]),
        test!(timeout_remove_cancels_a_pending_timeout, requires = [TIMEOUT, TIMEOUT_REMOVE]),
        test!(timeout_update_moves_the_deadline, requires = [TIMEOUT, TIMEOUT_REMOVE]),
        test!(link_timeout_cancels_a_slow_read, requires = [READ, LINK_TIMEOUT]),
        test!(link_timeout_update, requires = [READ, LINK_TIMEOUT, TIMEOUT_REMOVE]),
        test!(link_failure_cancels_the_rest_unless_hardlinked, requires = [TIMEOUT, NOP]),
        test!(immediate_timeouts_carry_their_nanoseconds, requires = [TIMEOUT, READ, LINK_TIMEOUT]),
    ]
}

fn ms(n: u64) -> Timespec {
    Timespec::from(Duration::from_millis(n))
}

fn timeout_expires_with_etime<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let ts = ms(15);
    let start = Instant::now();
    push_all(&mut ring, &[S::from(opcode::Timeout::new(&ts).build().user_data(1))])?;
    let c = one(&mut ring)?;
    let took = start.elapsed();
    ensure!(c.user_data_u64() == 1 && c.result() == Err(Errno::TIME), "timeout: {:?}", c.result());
    ensure!(took >= Duration::from_millis(15), "fired after {took:?}, before 15 ms");
    ensure!(took < PATIENCE, "fired only after {took:?}");

    // ETIME_SUCCESS keeps the result (-ETIME on 6.18); it only stops the
    // expiry from failing a link (see the link test below).
    let ts = ms(5);
    let start = Instant::now();
    let t = opcode::Timeout::new(&ts).flags(TimeoutFlags::ETIME_SUCCESS).build().user_data(2);
    push_all(&mut ring, &[S::from(t)])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Err(Errno::TIME), "ETIME_SUCCESS: {:?}", c.result());
    ensure!(start.elapsed() >= Duration::from_millis(5), "fired early");

    // An unreadable timespec fails in the CQE.
    push_all(&mut ring, &[S::from(opcode::Timeout::new(std::ptr::null()).build().user_data(3))])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Err(Errno::FAULT), "null timespec: {:?}", c.result());
    Ok(())
}

fn timeout_completes_after_count<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    // A long deadline, so that only the count can complete it here.
    let ts = Timespec::new().sec(60);
    let start = Instant::now();
    push_all(&mut ring, &[S::from(opcode::Timeout::new(&ts).count(2).build().user_data(100))])?;
    // One completion is not enough.
    push_all(&mut ring, &[crate::util::nop(1)])?;
    let c = one(&mut ring)?;
    ensure!(c.user_data_u64() == 1, "expected the NOP first, got {}", c.user_data_u64());
    expect_nothing(&mut ring, Duration::from_millis(5))?;
    // The second one completes the timeout with 0, long before 60 s.
    push_all(&mut ring, &[crate::util::nop(2)])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 2)?.result() == Ok(0), "nop: {:?}", find(&got, 2)?.result());
    ensure!(find(&got, 100)?.result() == Ok(0), "count timeout: {:?}", find(&got, 100)?.result());
    ensure!(start.elapsed() < Duration::from_secs(30), "took {:?}", start.elapsed());
    Ok(())
}

fn timeout_multishot_fires_count_times<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    needs_kernel(6, 4, "IORING_TIMEOUT_MULTISHOT")?;
    let mut ring = ctx.ring::<S, C>(16)?;
    let ts = ms(5);
    let start = Instant::now();
    let t = opcode::Timeout::new(&ts).count(3).flags(TimeoutFlags::MULTISHOT).build().user_data(1);
    push_all(&mut ring, &[S::from(t)])?;
    let got = reap_within(&mut ring, 3, PATIENCE)?;
    let took = start.elapsed();
    for (i, c) in got.iter().enumerate() {
        ensure!(c.user_data_u64() == 1 && c.result() == Err(Errno::TIME), "shot {i}: {:?}", c.result());
        ensure!(cqueue::more(c.flags()) == (i < 2), "shot {i}: F_MORE is {}", cqueue::more(c.flags()));
    }
    ensure!(took >= Duration::from_millis(15), "three 5 ms periods took {took:?}");
    expect_nothing(&mut ring, Duration::from_millis(10)).map_err(|e| e.context("after the last shot"))?;

    // count 0: fires until removed; the removal ends it with -ECANCELED.
    // Between a shot and its re-arming the kernel has taken the timeout off
    // its list, so a removal landing there finds nothing (ENOENT) although
    // the timeout lives on: on a slow machine (SQPOLL under emulation) that
    // window is wide. A removal that lands while the timer's handler is
    // running gets EALREADY (hrtimer_try_to_cancel said -1), seen on 6.12
    // under TCG. Either way the removal is sent again; only a timeout that
    // has ended may be missing.
    let t = opcode::Timeout::new(&ts).flags(TimeoutFlags::MULTISHOT).build().user_data(2);
    push_all(&mut ring, &[S::from(t)])?;
    let got = reap_at_least(&mut ring, 2, PATIENCE)?;
    ensure!(got.iter().all(|c| c.result() == Err(Errno::TIME) && cqueue::more(c.flags())), "unlimited: {got:?}");
    let remove = || S::from(opcode::TimeoutRemove::new(2u64.into()).build().user_data(3));
    push_all(&mut ring, &[remove()])?;
    let deadline = Instant::now() + PATIENCE;
    let (mut removed, mut ended, mut missed) = (false, false, 0);
    while !(removed && ended) {
        if Instant::now() > deadline {
            bail!("remove seen: {removed}, end seen: {ended}, removals refused (ENOENT or EALREADY): {missed}");
        }
        for c in reap_at_least(&mut ring, 1, PATIENCE)? {
            match (c.user_data_u64(), c.result()) {
                (3, Ok(0)) => removed = true,
                (3, Err(Errno::NOENT | Errno::ALREADY)) if !ended => {
                    missed += 1;
                    push_all(&mut ring, &[remove()])?;
                }
                (2, Err(Errno::TIME)) if cqueue::more(c.flags()) && !ended => {}
                (2, Err(Errno::CANCELED)) if !cqueue::more(c.flags()) => ended = true,
                (ud, r) => bail!("unexpected: user_data {ud} {r:?} more={}", cqueue::more(c.flags())),
            }
        }
    }
    expect_nothing(&mut ring, Duration::from_millis(10)).map_err(|e| e.context("after the removal"))?;
    Ok(())
}

fn timeout_remove_cancels_a_pending_timeout<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let ts = Timespec::new().sec(60);
    push_all(&mut ring, &[S::from(opcode::Timeout::new(&ts).build().user_data(1))])?;
    expect_nothing(&mut ring, Duration::from_millis(2))?;
    push_all(&mut ring, &[S::from(opcode::TimeoutRemove::new(1u64.into()).build().user_data(2))])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 1)?.result() == Err(Errno::CANCELED), "timeout: {:?}", find(&got, 1)?.result());
    ensure!(find(&got, 2)?.result() == Ok(0), "remove: {:?}", find(&got, 2)?.result());
    // Gone now.
    push_all(&mut ring, &[S::from(opcode::TimeoutRemove::new(1u64.into()).build().user_data(3))])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Err(Errno::NOENT), "remove again: {:?}", c.result());
    Ok(())
}

fn timeout_update_moves_the_deadline<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    // Shorten: 60 s -> 10 ms.
    let long = Timespec::new().sec(60);
    let short = ms(10);
    push_all(&mut ring, &[S::from(opcode::Timeout::new(&long).build().user_data(1))])?;
    sq_drained(&mut ring)?;
    let start = Instant::now();
    push_all(&mut ring, &[S::from(opcode::TimeoutUpdate::new(1u64.into(), &short).build().user_data(2))])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    let took = start.elapsed();
    ensure!(find(&got, 2)?.result() == Ok(0), "update: {:?}", find(&got, 2)?.result());
    ensure!(find(&got, 1)?.result() == Err(Errno::TIME), "timeout: {:?}", find(&got, 1)?.result());
    ensure!(took >= Duration::from_millis(10) && took < Duration::from_secs(30), "shortened one took {took:?}");

    // Extend: 500 ms -> 750 ms, counted from the update. The first deadline
    // is long enough that the update, submitted with the timeout, always
    // reaches it before it fires (even on an emulated, loaded machine).
    let first = ms(500);
    let later = ms(750);
    let start = Instant::now();
    let t = opcode::Timeout::new(&first).build().user_data(3);
    let u = opcode::TimeoutUpdate::new(3u64.into(), &later).build().user_data(4);
    push_all(&mut ring, &[S::from(t), S::from(u)])?;
    let c = one(&mut ring)?;
    ensure!(c.user_data_u64() == 4 && c.result() == Ok(0), "update: {} {:?}", c.user_data_u64(), c.result());
    let c = one(&mut ring)?;
    let took = start.elapsed();
    ensure!(c.user_data_u64() == 3 && c.result() == Err(Errno::TIME), "timeout: {:?}", c.result());
    ensure!(took >= Duration::from_millis(750), "extended timeout fired after {took:?}");

    // No such timeout.
    push_all(&mut ring, &[S::from(opcode::TimeoutUpdate::new(77u64.into(), &short).build().user_data(5))])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Err(Errno::NOENT), "update of nothing: {:?}", c.result());
    Ok(())
}

fn link_timeout_cancels_a_slow_read<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (rx, tx) = pipe()?;
    let mut buf = [0u8; 8];
    let ts = ms(10);
    // Nothing to read: the timeout fires and cancels the read.
    let r = opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 8).build().user_data(1);
    let lt = opcode::LinkTimeout::new(&ts).build().user_data(2);
    let start = Instant::now();
    push_all(&mut ring, &[S::from(r.flags(squeue::Flags::IO_LINK)), S::from(lt)])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    let took = start.elapsed();
    ensure!(find(&got, 1)?.result() == Err(Errno::CANCELED), "read: {:?}", find(&got, 1)?.result());
    ensure!(find(&got, 2)?.result() == Err(Errno::TIME), "link timeout: {:?}", find(&got, 2)?.result());
    ensure!(took >= Duration::from_millis(10), "cancelled after {took:?}");

    // Data ready: the read wins and the timeout is cancelled. The bound is
    // long, so that the read wins however slow the machine (a 10 ms one lost
    // 1 run in 10 under QEMU without KVM); it costs nothing, since the read
    // completes at once and cancels it.
    (&tx).write_all(b"ready")?;
    let long = Timespec::new().sec(60);
    let r = opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 8).build().user_data(3);
    let lt = opcode::LinkTimeout::new(&long).build().user_data(4);
    push_all(&mut ring, &[S::from(r.flags(squeue::Flags::IO_LINK)), S::from(lt)])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 3)?.result() == Ok(5) && &buf[..5] == b"ready", "read: {:?}", find(&got, 3)?.result());
    ensure!(find(&got, 4)?.result() == Err(Errno::CANCELED), "link timeout: {:?}", find(&got, 4)?.result());
    Ok(())
}

fn link_timeout_update<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (rx, _tx) = pipe()?;
    let mut buf = [0u8; 8];
    let long = Timespec::new().sec(60);
    let short = ms(10);
    let r = opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 8).build().user_data(1);
    let lt = opcode::LinkTimeout::new(&long).build().user_data(2);
    push_all(&mut ring, &[S::from(r.flags(squeue::Flags::IO_LINK)), S::from(lt)])?;
    expect_nothing(&mut ring, Duration::from_millis(2))?;
    // Without LINK_TIMEOUT_UPDATE the linked timeout is not found.
    push_all(&mut ring, &[S::from(opcode::TimeoutUpdate::new(2u64.into(), &short).build().user_data(3))])?;
    let c = one(&mut ring)?;
    ensure!(c.user_data_u64() == 3 && c.result() == Err(Errno::NOENT), "plain update: {:?}", c.result());
    // With it, the 60 s bound becomes 10 ms.
    let start = Instant::now();
    let u = opcode::TimeoutUpdate::new(2u64.into(), &short).flags(TimeoutFlags::LINK_TIMEOUT_UPDATE);
    push_all(&mut ring, &[S::from(u.build().user_data(4))])?;
    let got = reap_within(&mut ring, 3, PATIENCE)?;
    let took = start.elapsed();
    ensure!(find(&got, 4)?.result() == Ok(0), "link update: {:?}", find(&got, 4)?.result());
    ensure!(find(&got, 1)?.result() == Err(Errno::CANCELED), "read: {:?}", find(&got, 1)?.result());
    ensure!(find(&got, 2)?.result() == Err(Errno::TIME), "link timeout: {:?}", find(&got, 2)?.result());
    ensure!(took >= Duration::from_millis(10) && took < Duration::from_secs(30), "took {took:?}");
    Ok(())
}

fn link_failure_cancels_the_rest_unless_hardlinked<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let ts = ms(1);
    let link = squeue::Flags::IO_LINK;
    // An expiring timeout counts as a failure: the NOPs after it never run.
    let t = opcode::Timeout::new(&ts).build().user_data(1).flags(link);
    let n1 = opcode::Nop::new().build().user_data(2).flags(link);
    let n2 = opcode::Nop::new().build().user_data(3);
    push_all(&mut ring, &[S::from(t), S::from(n1), S::from(n2)])?;
    let got = reap_within(&mut ring, 3, PATIENCE)?;
    ensure!(find(&got, 1)?.result() == Err(Errno::TIME), "timeout: {:?}", find(&got, 1)?.result());
    ensure!(find(&got, 2)?.result() == Err(Errno::CANCELED), "nop 2: {:?}", find(&got, 2)?.result());
    ensure!(find(&got, 3)?.result() == Err(Errno::CANCELED), "nop 3: {:?}", find(&got, 3)?.result());

    // With ETIME_SUCCESS the expiry does not fail the link: the NOP runs,
    // although the timeout's own result is still -ETIME.
    let t = opcode::Timeout::new(&ts).flags(TimeoutFlags::ETIME_SUCCESS).build().user_data(4).flags(link);
    let n = opcode::Nop::new().build().user_data(5);
    push_all(&mut ring, &[S::from(t), S::from(n)])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 4)?.result() == Err(Errno::TIME), "ETIME_SUCCESS timeout: {got:?}");
    ensure!(find(&got, 5)?.result() == Ok(0), "NOP after ETIME_SUCCESS: {got:?}");

    // A hard link runs the next entry whatever the result.
    let t = opcode::Timeout::new(&ts).build().user_data(6).flags(squeue::Flags::IO_HARDLINK);
    let n = opcode::Nop::new().build().user_data(7);
    push_all(&mut ring, &[S::from(t), S::from(n)])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 6)?.result() == Err(Errno::TIME), "timeout: {:?}", find(&got, 6)?.result());
    ensure!(find(&got, 7)?.result() == Ok(0), "hard-linked nop: {:?}", find(&got, 7)?.result());
    Ok(())
}

/// IORING_TIMEOUT_IMMEDIATE_ARG (7.1): the duration travels in the entry.
/// 15,000,000 as an address is unmapped: a kernel that read a timespec there
/// would fail the entry with EFAULT, not time out.
fn immediate_timeouts_carry_their_nanoseconds<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    needs_kernel(7, 1, "IORING_TIMEOUT_IMMEDIATE_ARG")?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let start = Instant::now();
    push_all(&mut ring, &[S::from(opcode::Timeout::nanos(15_000_000).build().user_data(1))])?;
    let c = one(&mut ring)?;
    let took = start.elapsed();
    ensure!(c.result() == Err(Errno::TIME), "immediate timeout: {:?}", c.result());
    ensure!(took >= Duration::from_millis(15), "fired after {took:?}, before 15 ms");
    // A linked one on a read of an empty pipe: the timer must win.
    let (rx, _tx) = pipe()?;
    let mut buf = [0u8; 8];
    let r = opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 8).build().user_data(2);
    let lt = opcode::LinkTimeout::nanos(10_000_000).build().user_data(3);
    push_all(&mut ring, &[S::from(r.flags(squeue::Flags::IO_LINK)), S::from(lt)])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 2)?.result() == Err(Errno::CANCELED), "read: {:?}", find(&got, 2)?.result());
    ensure!(find(&got, 3)?.result() == Err(Errno::TIME), "link timeout: {:?}", find(&got, 3)?.result());
    // Count-completed form: with a long duration the count wins.
    let t = opcode::Timeout::nanos(60_000_000_000).count(1).build().user_data(4);
    push_all(&mut ring, &[S::from(t), crate::util::nop(5)])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 4)?.result() == Ok(0), "count-completed immediate timeout: {got:?}");
    Ok(())
}
