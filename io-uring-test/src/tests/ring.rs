//! The queues and the submitter: NOPs through every path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use urix::types::{SubmitArgs, Timespec};
use urix::{cqueue, squeue, Errno};

use crate::harness::{Ctx, Test};
use crate::util::{check_each_once, nop, push_all, reap, Rng, PATIENCE};
use crate::{skip, test, test_once};

pub fn tests() -> Vec<Test> {
    vec![
        test!(nop_round_trip),
        test!(batch_of_three_sq_sizes),
        test!(push_error_when_full),
        test!(split_million_nops_two_threads),
        test!(cq_overflow_recovered),
        test!(sqpoll_idle_then_wakeup),
        test!(sqpoll_wakeup_race),
        test!(submit_with_args_times_out),
        test!(completion_status_sees_arrival),
        test!(eventfd_disabled_toggles),
        test!(min_wait_returns_early),
        test!(raw_enter_forms_submit_and_wait),
        test!(squeue_wait_returns_with_room),
        test_once!(from_fd_adopts_a_ring),
        test_once!(fast_preset_in_one_call),
        test!(push_with_fills_in_place_across_the_wrap),
        test!(push_multiple_runs_across_the_wrap),
        test!(regression_submit_and_wait_two_threads),
        test!(regression_submit_and_wait_after_failed_entry),
        test!(regression_submit_with_args_after_failed_entry),
    ]
}

fn nop_round_trip<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let ud = 0x1234_5678_9abc_def0;
    // SAFETY: a NOP names no memory.
    unsafe { ring.submission().push(&nop(ud)) }.context("push")?;
    let submitted = ring.submit_and_wait(1)?;
    // Under SQPOLL the count is what was still in the SQ when the call
    // looked: the kernel thread may have taken the NOP already (seen under
    // QEMU with both cores busy), so 0 is a right answer there; the wait
    // itself must still have ended with the completion in the CQ.
    let expected = if ctx.flavour.sqpoll { 0..=1 } else { 1..=1 };
    ensure!(expected.contains(&submitted), "submit_and_wait consumed {submitted} entries, expected {expected:?}");
    let mut cq = ring.completion();
    ensure!(cq.len() == 1, "expected exactly 1 completion, found {}", cq.len());
    let cqe: cqueue::Entry = cq.next().context("no completion")?.into();
    ensure!(cqe.user_data_u64() == ud, "user_data {:#x}, expected {ud:#x}", cqe.user_data_u64());
    ensure!(cqe.result() == Ok(0), "result {:?}", cqe.result());
    ensure!(cqe.flags().is_empty(), "flags {:?}", cqe.flags());
    ensure!(cq.next().is_none(), "a second completion appeared");
    Ok(())
}

fn batch_of_three_sq_sizes<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(16)?;
    let cap = ring.submission().capacity();
    let total = 3 * cap;
    let chunk = cap / 2 + 1; // chunks that do not divide the ring, so pushes wrap
    let mut seen = Vec::with_capacity(total);
    let mut next = 0;
    while next < total {
        let n = chunk.min(total - next);
        let batch: Vec<S> = (next..next + n).map(|i| nop(i as u64)).collect();
        // Under SQPOLL a completion can be seen before the kernel thread
        // moves the SQ head past its entry, so the SQ may still look full:
        // wait for room (SQ_WAIT) there; anywhere else a full SQ is a bug.
        loop {
            // SAFETY: NOPs name no memory.
            let pushed = unsafe { ring.submission().push_multiple(&batch) };
            match pushed {
                Ok(()) => break,
                Err(_) if ctx.flavour.sqpoll => {
                    ring.submitter().squeue_wait()?;
                }
                Err(e) => anyhow::bail!("push_multiple: {e}"),
            }
        }
        ring.submit_and_wait(n)?;
        seen.extend(reap(&mut ring, n)?.iter().map(|c| c.user_data_u64()));
        next += n;
    }
    check_each_once(total, seen.iter().copied())?;
    ensure!(seen.windows(2).all(|w| w[0] < w[1]), "NOPs completed out of order: {seen:?}");
    Ok(())
}

fn push_error_when_full<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let mut sq = ring.submission();
    let cap = sq.capacity();
    let too_many: Vec<S> = (0..cap as u64 + 1).map(nop).collect();
    // SAFETY: NOPs name no memory.
    ensure!(unsafe { sq.push_multiple(&too_many) }.is_err(), "push_multiple of capacity + 1 succeeded");
    ensure!(sq.is_empty(), "a failed push_multiple left {} entries", sq.len());
    for i in 0..cap as u64 {
        // SAFETY: as above.
        unsafe { sq.push(&nop(i)) }.with_context(|| format!("push {i} of {cap}"))?;
    }
    ensure!(sq.is_full(), "queue not full after {cap} pushes");
    // SAFETY: as above.
    match unsafe { sq.push(&nop(99)) } {
        Err(e) => ensure!(e.to_string() == "submission queue is full", "message {e}"),
        Ok(()) => bail!("push into a full queue succeeded"),
    }
    // SAFETY: as above.
    ensure!(unsafe { sq.push_multiple(&too_many[..1]) }.is_err(), "push_multiple into a full queue succeeded");
    drop(sq);
    ring.submit_and_wait(cap)?;
    let got = reap(&mut ring, cap)?;
    check_each_once(cap, got.iter().map(|c| c.user_data_u64()))?;
    sq_drained(&mut ring)?;
    // SAFETY: as above.
    unsafe { ring.submission().push(&nop(0)) }.context("push after the queue drained")?;
    Ok(())
}

fn split_million_nops_two_threads<S, C>(ctx: &Ctx) -> anyhow::Result<()>
where
    S: squeue::EntryMarker + Send,
    C: cqueue::EntryMarker + Send,
{
    let mut ring = ctx.ring::<S, C>(256)?;
    split_nops(&mut ring, 1_000_000, Duration::from_secs(60)).map(drop)
}

/// Sends `n` NOPs through `split()`: this thread pushes and submits, a
/// second one reaps; every user data must come back exactly once, and
/// neither side may go `limit` without progress (a stall, not slowness:
/// under emulation a million NOPs take minutes). Returns the time it took.
pub(super) fn split_nops<S, C>(ring: &mut urix::IoUring<S, C>, n: u64, limit: Duration) -> anyhow::Result<Duration>
where
    S: squeue::EntryMarker + Send,
    C: cqueue::EntryMarker + Send,
{
    let cq_cap = u64::from(ring.params().cq_entries());
    let reaped = AtomicU64::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    let start = Instant::now();
    let (submitter, mut sq, mut cq) = ring.split();
    let seen = std::thread::scope(|s| -> anyhow::Result<Vec<u8>> {
        let reaper = s.spawn(|| -> anyhow::Result<Vec<u8>> {
            let mut seen = vec![0u8; n as usize];
            let mut count = 0u64;
            let mut deadline = Instant::now() + limit;
            while count < n {
                cq.sync();
                let before = count;
                for cqe in &mut cq {
                    let cqe: cqueue::Entry = cqe.into();
                    ensure!(cqe.result() == Ok(0), "NOP failed: {:?}", cqe.result());
                    let slot = seen.get_mut(cqe.user_data_u64() as usize).context("user_data out of range")?;
                    *slot = slot.saturating_add(1);
                    count += 1;
                }
                reaped.store(count, Ordering::Release);
                if count == before {
                    if failed.load(Ordering::Relaxed) || Instant::now() > deadline {
                        bail!("reaper stopped after {count} completions");
                    }
                    std::thread::yield_now();
                } else {
                    deadline = Instant::now() + limit;
                }
            }
            Ok(seen)
        });
        let mut next = 0u64;
        let (mut deadline, mut last_reaped) = (Instant::now() + limit, 0);
        let result = (|| -> anyhow::Result<()> {
            while next < n {
                let done = reaped.load(Ordering::Acquire);
                if done != last_reaped {
                    (deadline, last_reaped) = (Instant::now() + limit, done);
                }
                let in_flight = next - done;
                let room = (cq_cap - in_flight).min(n - next).min(64);
                for _ in 0..room {
                    // SAFETY: NOPs name no memory.
                    if unsafe { sq.push(&nop(next)) }.is_err() {
                        break;
                    }
                    next += 1;
                }
                sq.sync();
                submitter.submit()?;
                if room == 0 {
                    ensure!(Instant::now() < deadline, "submitter stuck at {next}");
                    std::thread::yield_now();
                }
            }
            Ok(())
        })();
        if result.is_err() {
            failed.store(true, Ordering::Relaxed);
        }
        let seen = reaper.join().map_err(|_| anyhow::anyhow!("reaper panicked"))?;
        result?;
        seen
    })?;
    if let Some((ud, &c)) = seen.iter().enumerate().find(|(_, &c)| c != 1) {
        bail!("user_data {ud} seen {c} times");
    }
    Ok(start.elapsed())
}

fn cq_overflow_recovered<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(16)?;
    ensure!(ring.params().is_feature_nodrop(), "kernel lacks FEAT_NODROP");
    let cq_cap = ring.params().cq_entries() as usize;
    let total = 8 * cq_cap;
    let entries: Vec<S> = (0..total as u64).map(nop).collect();
    for chunk in entries.chunks(16) {
        push_all(&mut ring, chunk)?;
        // Let SQPOLL's thread consume the chunk before the next one.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !ring.submission().is_empty() {
            ensure!(Instant::now() < deadline, "SQ not consumed");
            std::thread::yield_now();
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !ring.submission().cq_overflow() {
        ensure!(Instant::now() < deadline, "8x the CQ size submitted, but the kernel never flagged CQ overflow");
        std::thread::yield_now();
    }
    let mut seen = Vec::with_capacity(total);
    let mut stalls = 0;
    while seen.len() < total {
        let before = seen.len();
        seen.extend(ring.completion().map(|c| Into::<cqueue::Entry>::into(c).user_data_u64()));
        if seen.len() == before {
            stalls += 1;
            ensure!(
                stalls < 1000,
                "{} of {total} completions recovered; overflow flag {}",
                seen.len(),
                ring.submission().cq_overflow()
            );
        }
        // With nothing to submit and nothing to wait for, this must still
        // enter with GETEVENTS so the kernel flushes its overflow list.
        ring.submit()?;
    }
    check_each_once(total, seen)?;
    ensure!(!ring.submission().cq_overflow(), "overflow flag still set after recovery");
    ensure!(ring.completion().overflow() == 0, "kernel dropped {} completions", ring.completion().overflow());
    Ok(())
}

fn sqpoll_ring<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
    idle_ms: u32,
) -> anyhow::Result<urix::IoUring<S, C>> {
    if ctx.flavour.defer_taskrun {
        skip!("DEFER_TASKRUN rings cannot have SQPOLL");
    }
    let mut b = ctx.builder::<S, C>();
    b.setup_sqpoll(idle_ms);
    b.build(8).map_err(|e| anyhow::anyhow!("SQPOLL setup: {e}"))
}

/// Spins (without entering the kernel) until `n` completions are in the CQ.
fn spin_for_completions<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut urix::IoUring<S, C>,
    n: usize,
    limit: Duration,
) -> anyhow::Result<Vec<cqueue::Entry>> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    while got.len() < n {
        got.extend(ring.completion().map(Into::into));
        if Instant::now() > deadline {
            bail!("{} of {n} completions after {limit:?} without entering the kernel", got.len());
        }
        std::hint::spin_loop();
    }
    Ok(got)
}

fn sqpoll_idle_then_wakeup<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = sqpoll_ring::<S, C>(ctx, 10)?;
    // SAFETY: NOPs name no memory.
    unsafe { ring.submission().push(&nop(1)) }?;
    ring.submit()?;
    spin_for_completions(&mut ring, 1, PATIENCE)?;
    // Let the kernel thread go idle.
    let deadline = Instant::now() + PATIENCE;
    while !ring.submission().need_wakeup() {
        ensure!(Instant::now() < deadline, "SQPOLL thread never set NEED_WAKEUP after its 10 ms idle");
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: as above.
    unsafe { ring.submission().push(&nop(2)) }?;
    ring.submit()?; // must wake the thread: nobody else will
    let got = spin_for_completions(&mut ring, 1, PATIENCE)?;
    ensure!(got[0].user_data_u64() == 2, "user_data {}", got[0].user_data_u64());
    Ok(())
}

/// Submits right at the moment the SQPOLL thread goes to sleep, many
/// times: without the SeqCst fence between publishing the tail and reading
/// NEED_WAKEUP a wake-up can be lost and the NOP never completes.
fn sqpoll_wakeup_race<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = sqpoll_ring::<S, C>(ctx, 1)?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..400u64 {
        std::thread::sleep(Duration::from_micros(500 + rng.below(1500)));
        // SAFETY: NOPs name no memory.
        unsafe { ring.submission().push(&nop(i)) }?;
        ring.submit()?;
        let got = spin_for_completions(&mut ring, 1, PATIENCE).with_context(|| format!("round {i}"))?;
        ensure!(got[0].user_data_u64() == i, "round {i}: user_data {}", got[0].user_data_u64());
    }
    Ok(())
}

fn submit_with_args_times_out<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let ring = ctx.ring::<S, C>(8)?;
    let ts = Timespec::new().nsec(20_000_000);
    let start = Instant::now();
    let r = ring.submitter().submit_with_args(1, &SubmitArgs::new().timespec(&ts));
    ensure!(r == Err(Errno::TIME), "timeout wait returned {r:?}");
    ensure!(start.elapsed() >= Duration::from_millis(15), "returned after {:?}", start.elapsed());
    // A signal mask must be passed as the kernel's 8-byte sigset.
    let mask = urix::types::KernelSigSet::empty();
    let r = ring.submitter().submit_with_args(1, &SubmitArgs::new().timespec(&ts).sigmask(&mask));
    ensure!(r == Err(Errno::TIME), "timeout wait with sigmask returned {r:?}");
    Ok(())
}

fn completion_status_sees_arrival<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    // SAFETY: the status is dropped before the ring.
    let status = unsafe { ring.completion().status() };
    ensure!(status.is_empty(), "status not empty on a fresh ring");
    // SAFETY: NOPs name no memory.
    unsafe { ring.submission().push(&nop(7)) }?;
    ring.submit_and_wait(1)?;
    ensure!(!status.is_empty(), "status empty with a completion waiting");
    ensure!(ring.completion().count() == 1, "expected one completion");
    ensure!(status.is_empty(), "status not empty after the CQ was drained");
    Ok(())
}

fn eventfd_disabled_toggles<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let mut cq = ring.completion();
    ensure!(!cq.eventfd_disabled(), "disabled on a fresh ring");
    cq.set_eventfd_disabled(true);
    ensure!(cq.eventfd_disabled(), "not disabled after set");
    cq.set_eventfd_disabled(false);
    ensure!(!cq.eventfd_disabled(), "still disabled after clear");
    Ok(())
}

fn min_wait_returns_early<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    if !ring.params().is_feature_min_timeout() {
        skip!("kernel lacks FEAT_MIN_TIMEOUT (6.12)");
    }
    // SAFETY: NOPs name no memory.
    unsafe { ring.submission().push(&nop(1)) }?;
    ring.submit()?;
    // Ask for 2 completions with a 30 s timeout, but accept fewer after 20 ms.
    let ts = Timespec::new().sec(30);
    let start = Instant::now();
    let r = ring.submitter().submit_with_args(2, &SubmitArgs::new().timespec(&ts).min_wait_usec(20_000));
    let took = start.elapsed();
    ensure!(r.is_ok() || r == Err(Errno::TIME), "min-wait returned {r:?}");
    ensure!(took < Duration::from_secs(15), "min-wait did not cut the 30 s wait short: {took:?}");
    ensure!(ring.completion().count() == 1, "expected the one NOP completion");
    Ok(())
}

fn raw_enter_forms_submit_and_wait<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    use urix::types::{IoringEnterFlags, KernelSigSet};
    let mut ring = ctx.ring::<S, C>(8)?;
    for form in 0..3u64 {
        // SAFETY: NOPs name no memory.
        unsafe { ring.submission().push(&nop(form)) }?;
        let submitter = ring.submitter();
        // Under SQPOLL a raw enter must also wake the kernel thread: it may
        // have gone idle since the last form (on a loaded machine 50 ms pass
        // quickly), and then nobody would consume the NOP we wait for.
        let getevents = match ctx.flavour.sqpoll {
            true => IoringEnterFlags::GETEVENTS | IoringEnterFlags::SQ_WAKEUP,
            false => IoringEnterFlags::GETEVENTS,
        };
        // SAFETY: the arguments match the flags; the SQ holds one NOP.
        let n = unsafe {
            match form {
                0 => submitter.enter::<()>(1, 1, getevents.bits(), None)?,
                1 => submitter.enter_sigmask(1, 1, getevents, Some(&KernelSigSet::empty()))?,
                _ => submitter.enter_arg(1, 1, getevents | IoringEnterFlags::EXT_ARG, None)?,
            }
        };
        // Under SQPOLL the kernel thread consumes the entry, enter reports 0.
        ensure!(n == 1 || ctx.flavour.sqpoll, "form {form}: enter consumed {n}");
        let got = reap(&mut ring, 1)?;
        ensure!(got[0].user_data_u64() == form, "form {form}: user_data {}", got[0].user_data_u64());
    }
    Ok(())
}

fn squeue_wait_returns_with_room<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = sqpoll_ring::<S, C>(ctx, 50)?;
    let cap = ring.submission().capacity();
    let all: Vec<S> = (0..cap as u64).map(nop).collect();
    // SAFETY: NOPs name no memory.
    unsafe { ring.submission().push_multiple(&all) }.map_err(|e| anyhow::anyhow!("{e}"))?;
    ring.submit()?;
    // Returns once the kernel thread made room, or early when the wait is
    // interrupted (a signal, or task work pending for this thread), so it
    // is called until there is room; a wait that never ends fails the run.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        ring.submitter().squeue_wait()?;
        if ring.submission().len() < cap {
            break;
        }
        ensure!(std::time::Instant::now() < deadline, "SQ still full 5 s after squeue_wait");
    }
    reap(&mut ring, cap)?;
    Ok(())
}

/// A second handle on the same ring, through a dup'ed fd and the params.
fn from_fd_adopts_a_ring(_: &Ctx) -> anyhow::Result<()> {
    use std::os::fd::AsRawFd;
    let first = urix::IoUring::new(8)?;
    // SAFETY: F_DUPFD_CLOEXEC of our own open fd.
    let dup = unsafe { libc::fcntl(first.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
    ensure!(dup >= 0, "dup: {}", std::io::Error::last_os_error());
    // SAFETY: `dup` is an open io_uring fd we own; the params are the kernel's.
    let mut second = unsafe { urix::IoUring::from_fd(dup, *first.params()) }?;
    // SAFETY: NOPs name no memory.
    unsafe { second.submission().push(&nop::<squeue::Entry>(5)) }?;
    second.submit_and_wait(1)?;
    let got = reap(&mut second, 1)?;
    ensure!(got[0].user_data_u64() == 5, "user_data {}", got[0].user_data_u64());
    drop(second);
    // The first handle still works after the second unmapped and closed its copy.
    let mut first = first;
    // SAFETY: as above.
    unsafe { first.submission().push(&nop::<squeue::Entry>(6)) }?;
    first.submit_and_wait(1)?;
    ensure!(reap(&mut first, 1)?[0].user_data_u64() == 6, "first handle broken");
    // A ring with 128-byte SQEs cannot be adopted as a 64-byte one.
    let big = urix::IoUring::<squeue::Entry128>::builder().build(8)?;
    // SAFETY: as above.
    let dup = unsafe { libc::fcntl(big.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
    // SAFETY: as above; the refusal closes `dup`.
    let r = unsafe { urix::IoUring::from_fd(dup, *big.params()) };
    ensure!(r.is_err_and(|e| e == Errno::INVAL), "SQE128 ring adopted as 64-byte");
    Ok(())
}

/// Issue 15 item 3a: two threads call `submit_and_wait(1)` on one ring at
/// once while one read of an empty pipe is queued. One of them submits it;
/// the other finds the SQ empty, and the kernel, having submitted fewer
/// entries than asked, skipped its wait. Neither may return before the
/// read can complete: the pipe is written only after `written` is set, so
/// a caller that returns and still sees `written == false` returned
/// without a completion in the CQ. (The sleep before the write only gives
/// a wrong early return room to show; a slow machine cannot fail this.)
fn regression_submit_and_wait_two_threads<S, C>(ctx: &Ctx) -> anyhow::Result<()>
where
    S: squeue::EntryMarker + Send,
    C: cqueue::EntryMarker + Send,
{
    use std::io::Write as _;
    use std::os::fd::AsRawFd as _;
    use std::sync::atomic::AtomicBool;
    use std::sync::Barrier;

    if ctx.flavour.defer_taskrun {
        skip!("SINGLE_ISSUER: only the thread that created the ring may enter it");
    }
    let mut ring = ctx.ring::<S, C>(8)?;
    let (rd, mut wr) = crate::util::pipe()?;
    let mut buf = [0u8; 1];
    let (submitter, mut sq, mut cq) = ring.split();
    for round in 0..100u64 {
        let read =
            urix::opcode::Read::new(urix::types::Fd(rd.as_raw_fd()), buf.as_mut_ptr(), 1).build().user_data(round);
        // SAFETY: `buf` and the pipe outlive the read: its completion is
        // reaped below, in this round.
        unsafe { sq.push(&S::from(read)) }.context("push")?;
        sq.sync();
        let written = AtomicBool::new(false);
        let (ready, go) = (Barrier::new(3), AtomicBool::new(false));
        let results = std::thread::scope(|s| -> anyhow::Result<Vec<(urix::Result<usize>, bool)>> {
            let call = || {
                ready.wait();
                // Spin rather than sleep, so that both callers start within
                // nanoseconds of each other and both see the entry queued.
                while !go.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
                let r = submitter.submit_and_wait(1);
                (r, written.load(Ordering::SeqCst))
            };
            let callers = [s.spawn(call), s.spawn(call)];
            ready.wait();
            go.store(true, Ordering::Release);
            std::thread::sleep(Duration::from_millis(2));
            written.store(true, Ordering::SeqCst);
            wr.write_all(&[round as u8]).context("write the pipe")?;
            Ok(callers.into_iter().map(|h| h.join().expect("caller panicked")).collect())
        })?;
        let mut consumed = 0;
        for (r, seen_written) in results {
            let n = r.with_context(|| format!("round {round}: submit_and_wait(1)"))?;
            ensure!(seen_written, "round {round}: submit_and_wait(1) returned Ok({n}) before the read could complete");
            consumed += n;
        }
        // Under SQPOLL the kernel reports every enter as having submitted
        // what it was asked to; elsewhere exactly one caller submitted.
        ensure!(ctx.flavour.sqpoll || consumed == 1, "round {round}: the callers consumed {consumed} entries");
        cq.sync();
        let cqe: cqueue::Entry = cq.next().with_context(|| format!("round {round}: no completion"))?.into();
        ensure!(cqe.user_data_u64() == round && cqe.result() == Ok(1), "round {round}: completion {cqe:?}");
        ensure!(buf[0] == round as u8, "round {round}: read {} into the buffer", buf[0]);
        ensure!(cq.next().is_none(), "round {round}: a second completion");
        // Hand the slot back now, or the next round's wait counts this
        // completion as still waiting.
        cq.sync();
    }
    Ok(())
}

/// Pushes an entry with a personality nobody registered (the kernel
/// refuses it at submission, posting its EINVAL completion and stopping
/// there) ahead of a good NOP.
fn push_failing_then_good<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut urix::IoUring<S, C>,
) -> anyhow::Result<()> {
    let bad = S::from(urix::opcode::Nop::new().build().user_data(1).personality(u16::MAX));
    let mut sq = ring.submission();
    // SAFETY: NOPs name no memory.
    unsafe { sq.push_multiple(&[bad, nop(2)]) }.context("push")?;
    Ok(())
}

/// Both completions of [`push_failing_then_good`]'s entries, in order.
fn check_failing_then_good<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut urix::IoUring<S, C>,
    ctx: &Ctx,
    what: &str,
    n: urix::Result<usize>,
) -> anyhow::Result<()> {
    let n = n.with_context(|| what.to_string())?;
    let got: Vec<cqueue::Entry> = ring.completion().map(Into::into).collect();
    ensure!(got.len() == 2, "{what} returned Ok({n}) with {} completion(s) in the CQ: {got:?}", got.len());
    // Under SQPOLL the count is what was still in the SQ when the call
    // entered: the kernel thread may have taken one or both entries first
    // (seen on 7.3 under QEMU with both cores busy).
    ensure!(n == 2 || (ctx.flavour.sqpoll && n < 2), "{what} returned Ok({n}); both entries were consumed");
    ensure!(got[0].user_data_u64() == 1 && got[0].result() == Err(Errno::INVAL), "first {:?}", got[0]);
    ensure!(got[1].user_data_u64() == 2 && got[1].result() == Ok(0), "second {:?}", got[1]);
    ensure!(ctx.flavour.sqpoll || ring.submission().is_empty(), "entries left in the SQ");
    sq_drained(ring)
}

/// Waits until the SQ is seen empty: the SQPOLL thread moves the SQ head
/// when it commits, which can lag the completions it posted (on other
/// rings the submit that consumed the entries moved it already).
fn sq_drained<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ring: &mut urix::IoUring<S, C>) -> anyhow::Result<()> {
    let deadline = Instant::now() + PATIENCE;
    while !ring.submission().is_empty() {
        ensure!(Instant::now() < deadline, "the SQ never drained: {} entries left", ring.submission().len());
        std::thread::yield_now();
    }
    Ok(())
}

/// Issue 15 item 3b: an entry that fails at submission ahead of a good
/// one; `submit_and_wait(2)` must still see both completions.
fn regression_submit_and_wait_after_failed_entry<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    push_failing_then_good(&mut ring)?;
    let n = ring.submit_and_wait(2);
    check_failing_then_good(&mut ring, ctx, "submit_and_wait(2)", n)
}

/// Issue 15 item 3b for `submit_with_args` (a generous timeout, so that a
/// wait that never ends fails instead of hanging the harness).
fn regression_submit_with_args_after_failed_entry<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    push_failing_then_good(&mut ring)?;
    let ts = Timespec::new().sec(10);
    let n = ring.submitter().submit_with_args(2, &SubmitArgs::new().timespec(&ts));
    check_failing_then_good(&mut ring, ctx, "submit_with_args(2)", n)
}

/// Moves the SQ tail to `offset` slots before the end of the array, by
/// pushing and completing `cap - offset` NOPs (user data from `u64::MAX`
/// down, so they cannot be mistaken for the batch under test).
fn move_tail_near_the_end<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut urix::IoUring<S, C>,
    offset: usize,
) -> anyhow::Result<()> {
    let cap = ring.submission().capacity();
    let fill: Vec<S> = (0..(cap - offset) as u64).map(|i| nop(u64::MAX - i)).collect();
    push_all(ring, &fill)?;
    ring.submit_and_wait(fill.len())?;
    reap(ring, fill.len())?;
    sq_drained(ring)
}

/// `push_with`: a batch that starts 3 slots before the end of the SQE
/// array runs across the wrap; every entry arrives once, in order, with
/// the user data `make` gave it. A batch larger than the free room pushes
/// nothing, and so does one larger than the ring.
fn push_with_fills_in_place_across_the_wrap<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(16)?;
    let cap = ring.submission().capacity();
    move_tail_near_the_end(&mut ring, 3)?;
    let n = cap - 2;
    {
        let mut sq = ring.submission();
        // SAFETY: NOPs name no memory.
        unsafe { sq.push_with(n, |i| nop(1000 + i as u64)) }.context("push_with into an empty SQ")?;
        ensure!(sq.len() == n, "push_with left {} entries, expected {n}", sq.len());
        // SAFETY: as above.
        let r = unsafe { sq.push_with(3, |i| nop(2000 + i as u64)) };
        ensure!(r.is_err() && sq.len() == n, "push_with of 3 into 2 free slots: {r:?}, len {}", sq.len());
        // SAFETY: as above.
        let r = unsafe { sq.push_with(cap + 1, |_| nop(0)) };
        ensure!(r.is_err() && sq.len() == n, "push_with of more than the ring: {r:?}");
    }
    ring.submit_and_wait(n)?;
    let got: Vec<u64> = reap(&mut ring, n)?.iter().map(|c| c.user_data_u64()).collect();
    let want: Vec<u64> = (1000..1000 + n as u64).collect();
    ensure!(got == want, "completions {got:?}, expected {want:?}");
    Ok(())
}

/// `push_multiple` copies as two runs when the batch crosses the end of
/// the SQE array: every entry arrives once, in order.
fn push_multiple_runs_across_the_wrap<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(16)?;
    let cap = ring.submission().capacity();
    move_tail_near_the_end(&mut ring, 5)?;
    let batch: Vec<S> = (0..cap as u64).map(|i| nop(3000 + i)).collect();
    // SAFETY: NOPs name no memory.
    unsafe { ring.submission().push_multiple(&batch) }.context("push_multiple of a full ring")?;
    ring.submit_and_wait(cap)?;
    let got: Vec<u64> = reap(&mut ring, cap)?.iter().map(|c| c.user_data_u64()).collect();
    let want: Vec<u64> = (3000..3000 + cap as u64).collect();
    ensure!(got == want, "completions {got:?}, expected {want:?}");
    Ok(())
}

/// `IoUring::fast`: on a kernel with all of it (6.6 and later, ring fd
/// registration 5.18) the ring has SINGLE_ISSUER, DEFER_TASKRUN and
/// NO_SQARRAY and enters through a registered index; NOPs round-trip; the
/// index can be unregistered on this thread.
fn fast_preset_in_one_call(_: &Ctx) -> anyhow::Result<()> {
    let (major, minor) = crate::util::kernel_version();
    let mut ring = urix::IoUring::fast(8).context("IoUring::fast")?;
    let p = *ring.params();
    if (major, minor) >= (6, 6) {
        ensure!(
            p.is_setup_single_issuer() && p.is_setup_defer_taskrun() && p.is_setup_no_sqarray(),
            "a {major}.{minor} kernel should grant the whole preset: {p:?}"
        );
        ensure!(ring.submitter().registered_ring_index().is_some(), "no registered ring index");
    }
    // SAFETY: NOPs name no memory.
    unsafe { ring.submission().push_with(4, |i| nop(40 + i as u64)) }.context("push_with")?;
    ensure!(ring.submit_and_wait(4)? == 4, "submit_and_wait(4) on the fast preset");
    let got: Vec<u64> = ring.completion().map(|c| c.user_data_u64()).collect();
    ensure!(got == [40, 41, 42, 43], "completions {got:?}");
    if ring.submitter().registered_ring_index().is_some() {
        ring.submitter().unregister_ring_fd().context("unregister_ring_fd")?;
        ensure!(ring.submitter().registered_ring_index().is_none(), "index still set");
        // Enters go through the fd again.
        // SAFETY: as above.
        unsafe { ring.submission().push(&nop(9)) }.context("push")?;
        ring.submit_and_wait(1)?;
        ensure!(ring.completion().map(|c| c.user_data_u64()).eq([9]), "completion after unregistering");
    }
    Ok(())
}
