//! Stress: long runs under load, each bounded in time and printing its
//! figures. `URING_STRESS_SCALE=N` multiplies the work (default 1; the
//! README's reliability table gives the scale each figure was taken at). It
//! may be a fraction: `.ci/kernels` runs the emulated kernels at 0.1, where a
//! CPU is many times slower and the work's time would only measure QEMU.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use urix::buf_ring::{BufRing, BufSlot};
use urix::types::Fd;
use urix::{cqueue, opcode, squeue, Errno, IoUring};

use super::buf_ring::{check_stream_prefix, messages, ring_entries};
use super::ring::split_nops;
use crate::harness::{Ctx, Req, Test};
use crate::util::{kernel_version, nop, push_submit, tcp_pair, Pages, Rng};
use crate::{skip, test_once};

const RECV: Req = Req::Op(opcode::RecvMulti::CODE, "RECV");
const ACCEPT: Req = Req::Op(opcode::AcceptMulti::CODE, "ACCEPT");
const CANCEL: Req = Req::Op(opcode::AsyncCancel::CODE, "ASYNC_CANCEL");
const READ: Req = Req::Op(opcode::Read::CODE, "READ");
const NOP: Req = Req::Op(opcode::Nop::CODE, "NOP");

pub fn tests() -> Vec<Test> {
    vec![
        test_once!(stress_split_ten_million_nops, requires = [NOP]),
        test_once!(stress_cq_overflow_storms, requires = [NOP]),
        test_once!(stress_multishot_recv_cancelled_while_flowing, requires = [RECV, CANCEL]),
        test_once!(stress_multishot_accept_cancelled_while_connecting, requires = [ACCEPT, CANCEL]),
        test_once!(stress_sqpoll_idle_and_wake, requires = [NOP]),
        test_once!(stress_linked_chains_random_failures, requires = [NOP, READ]),
    ]
}

/// `base` times the `URING_STRESS_SCALE` multiplier (default 1, fractions
/// allowed), at least 1.
fn scaled(base: u64) -> u64 {
    let scale: f64 = std::env::var("URING_STRESS_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    ((base as f64) * scale).max(1.0) as u64
}

// ---------------------------------------------------------------------

/// 10,000,000 NOPs through `split()`: one thread pushes and submits, the
/// other reaps; every user data must come back exactly once.
fn stress_split_ten_million_nops(_: &Ctx) -> anyhow::Result<()> {
    let n = scaled(10_000_000);
    let mut ring = IoUring::new(256)?;
    let took = split_nops(&mut ring, n, Duration::from_secs(120))?;
    println!("    {n} NOPs, submitter and reaper on two threads: {took:.2?}, {:.0} ns/op", ns_per(took, n));
    Ok(())
}

fn ns_per(d: Duration, n: u64) -> f64 {
    d.as_secs_f64() * 1e9 / n as f64
}

// ---------------------------------------------------------------------

/// CQ overflow storms: 16x the CQ size submitted without reaping, then
/// reaped a few at a time; with FEAT_NODROP every completion must arrive
/// exactly once and the kernel must report no drop.
fn stress_cq_overflow_storms(_: &Ctx) -> anyhow::Result<()> {
    let storms = scaled(200);
    let mut ring: IoUring = IoUring::builder().setup_cqsize(32).build(16)?;
    ensure!(ring.params().is_feature_nodrop(), "kernel lacks FEAT_NODROP");
    let cq_cap = u64::from(ring.params().cq_entries());
    let per_storm = 16 * cq_cap;
    let (mut flagged, mut busy) = (0u64, 0u64);
    let start = Instant::now();
    let mut seen = vec![0u8; per_storm as usize];
    for storm in 0..storms {
        let base = storm * per_storm;
        let mut next = 0;
        while next < per_storm {
            {
                let mut sq = ring.submission();
                while next < per_storm {
                    // SAFETY: NOPs name no memory.
                    if unsafe { sq.push(&nop(base + next)) }.is_err() {
                        break;
                    }
                    next += 1;
                }
            }
            match ring.submit() {
                Ok(_) => {}
                // The kernel may refuse new work while it cannot flush
                // its overflow list; nothing was lost, submit again later.
                Err(Errno::BUSY) => busy += 1,
                Err(e) => bail!("storm {storm}: submit: {e}"),
            }
        }
        if ring.submission().cq_overflow() {
            flagged += 1;
        }
        seen.fill(0);
        let mut got = 0;
        let mut rng = Rng(storm + 1);
        let deadline = Instant::now() + Duration::from_secs(10);
        while got < per_storm {
            // Reap slowly: at most 1..4 completions per pass.
            let take = 1 + rng.below(4) as usize;
            let mut cq = ring.completion();
            for cqe in cq.by_ref().take(take) {
                ensure!(cqe.result() == Ok(0), "storm {storm}: NOP failed: {:?}", cqe.result());
                let k = cqe.user_data_u64().wrapping_sub(base);
                let slot = seen.get_mut(k as usize).with_context(|| format!("storm {storm}: stray {k}"))?;
                *slot += 1;
                ensure!(*slot == 1, "storm {storm}: user data {k} twice");
                got += 1;
            }
            drop(cq);
            // Nothing to submit: this enters with GETEVENTS only because
            // the overflow flag is up, which flushes the kernel's list.
            match ring.submit() {
                Ok(_) | Err(Errno::BUSY) => {}
                Err(e) => bail!("storm {storm}: flush: {e}"),
            }
            ensure!(Instant::now() < deadline, "storm {storm}: {got} of {per_storm} completions");
        }
        ensure!(ring.completion().is_empty(), "storm {storm}: completions beyond the storm");
    }
    ensure!(ring.completion().overflow() == 0, "kernel dropped {} completions", ring.completion().overflow());
    ensure!(flagged > 0, "no storm ever flagged CQ overflow: the test did not overflow");
    println!(
        "    {storms} storms of {per_storm} NOPs into a CQ of {cq_cap}: overflow flagged in {flagged}, \
         EBUSY {busy} times, 0 dropped, each completion once; {:.2?}",
        start.elapsed()
    );
    Ok(())
}

// ---------------------------------------------------------------------

const ENTRIES: u16 = 32;
const BUF_LEN: u32 = 256;
const BGID: u16 = 21;
const CANCEL_UD: u64 = u64::MAX;

/// A multishot receive from a buffer ring, cancelled again and again while
/// a sender keeps the stream flowing: every buffer must come back to the
/// ring, and the bytes received over all rounds must be the stream, in
/// order, without gap or repeat.
fn stress_multishot_recv_cancelled_while_flowing(_: &Ctx) -> anyhow::Result<()> {
    let rounds = scaled(2_000);
    let (data, ends) = messages(200_000);
    let mut page = Pages::new(4096)?;
    let mut bufs = vec![0u8; usize::from(ENTRIES) * BUF_LEN as usize];
    let mut slots = vec![BufSlot::default(); usize::from(ENTRIES)];
    let mut group = BufRing::new(ring_entries(&mut page, ENTRIES.into()), &mut bufs, BUF_LEN, &mut slots)?;
    let mut ring = IoUring::new(64)?;
    // SAFETY: the memory outlives the ring (declared before it); only the
    // multishot receive below selects from this group, one at a time.
    unsafe { group.register(&ring.submitter(), BGID) }.context("register")?;
    let (client, server) = tcp_pair()?;
    let fd = Fd(server.as_raw_fd());
    let has_pbuf_status = kernel_version() >= (6, 8);
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let (got, cancelled) = std::thread::scope(|s| -> anyhow::Result<(Vec<u8>, u64)> {
        let sender = s.spawn(|| send_until(client, &data, &stop));
        let result = (|| -> anyhow::Result<(Vec<u8>, u64)> {
            let mut got = Vec::with_capacity(data.len());
            let mut cancelled = 0;
            let mut rng = Rng(7);
            let mut eof = false;
            let mut round = 0;
            while round < rounds && !eof {
                round += 1;
                let arm = opcode::RecvMulti::new(fd, BGID).build().user_data(round);
                push_submit(&mut ring, &arm)?;
                let mut cancel_after = 1 + rng.below(6);
                let mut cancel_sent = false;
                let deadline = Instant::now() + Duration::from_secs(10);
                'round: loop {
                    ensure!(Instant::now() < deadline, "round {round} never ended ({} bytes)", got.len());
                    ring.submit_and_wait(1).context("submit_and_wait")?;
                    let mut cq = ring.completion();
                    let mut rearm = false;
                    for cqe in &mut cq {
                        if cqe.user_data_u64() == CANCEL_UD {
                            continue;
                        }
                        ensure!(cqe.user_data_u64() == round, "completion of round {} in {round}", cqe.user_data_u64());
                        let picked = match group.take(&cqe) {
                            // The receive's own error (handled below).
                            Err(e) if cqe.result() == Err(e) => None,
                            r => r.with_context(|| format!("take {cqe:?}"))?,
                        };
                        if let Some(p) = picked {
                            let at = got.len();
                            got.resize(at + p.len(), 0);
                            group.copy_to(&p, &mut got[at..]);
                            group.recycle(p).context("recycle")?;
                        }
                        if !cqueue::more(cqe.flags()) {
                            match cqe.result() {
                                Err(Errno::CANCELED) => cancelled += 1,
                                Err(Errno::NOBUFS) => rearm = true,
                                Ok(0) => {
                                    // The sender got through the whole stream first.
                                    ensure!(got.len() == data.len(), "the stream ended after {} bytes", got.len());
                                    eof = true;
                                }
                                Ok(_) => rearm = true,
                                Err(e) => bail!("round {round}: receive ended with {e}"),
                            }
                            if !rearm {
                                group.cq_advance(&mut cq);
                                break 'round;
                            }
                        }
                        cancel_after = cancel_after.saturating_sub(1);
                    }
                    group.cq_advance(&mut cq);
                    drop(cq);
                    if rearm {
                        if cancel_sent {
                            // Ended by itself before the cancel found it.
                            break 'round;
                        }
                        push_submit(&mut ring, &arm)?;
                    }
                    if cancel_after == 0 && !cancel_sent {
                        let c = opcode::AsyncCancel::new(round.into()).build().user_data(CANCEL_UD);
                        push_submit(&mut ring, &c)?;
                        cancel_sent = true;
                    }
                }
                // The kernel's own count of buffers in the ring needs
                // PBUF_STATUS (6.8); before that, `take` alone vouches for
                // them (it refuses a buffer the ring does not hold).
                if has_pbuf_status {
                    let available = group.available(&ring.submitter()).context("PBUF_STATUS")?;
                    ensure!(available == ENTRIES, "round {round}: {available} of {ENTRIES} buffers back in the ring");
                }
            }
            Ok((got, cancelled))
        })();
        stop.store(true, Ordering::Relaxed);
        // Unblock a sender stuck on a full socket.
        let _ = rustix::net::shutdown(&server, rustix::net::Shutdown::Read);
        let sent = sender.join().map_err(|_| anyhow::anyhow!("sender panicked"))?;
        let (got, cancelled) = result?;
        ensure!(got.len() as u64 <= sent, "received {} bytes, sent only {sent}", got.len());
        Ok((got, cancelled))
    })?;
    check_stream_prefix(&got, &data, &ends)?;
    ensure!(cancelled > 0, "no round ended by its cancel");
    group.unregister(&ring.submitter())?;
    println!(
        "    {rounds} rounds of multishot recv, {cancelled} ended by cancel mid-stream; {} bytes in order, \
         all {ENTRIES} buffers back after each round{}; {:.2?}",
        got.len(),
        if has_pbuf_status { "" } else { " (by take's bookkeeping; PBUF_STATUS needs 6.8)" },
        start.elapsed()
    );
    Ok(())
}

/// Writes `data` in chunks of up to 1500 bytes with a short pause after
/// each, so that the receive is usually armed and waiting when its cancel
/// arrives; stops at `stop` or the end. Returns the bytes written.
fn send_until(mut client: TcpStream, data: &[u8], stop: &AtomicBool) -> u64 {
    let mut sent = 0u64;
    let mut at = 0;
    while !stop.load(Ordering::Relaxed) && at < data.len() {
        let end = (at + 1 + (at * 7919) % 1500).min(data.len());
        match client.write(&data[at..end]) {
            Ok(n) => {
                at += n;
                sent += n as u64;
            }
            Err(_) => break,
        }
        std::thread::sleep(Duration::from_micros(20));
    }
    let _ = client.shutdown(Shutdown::Write);
    sent
}

/// A multishot accept, cancelled again and again while clients keep
/// connecting: every connection must be accepted exactly once (each client
/// sends its number) and none lost.
fn stress_multishot_accept_cancelled_while_connecting(_: &Ctx) -> anyhow::Result<()> {
    let clients = scaled(3_000);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = listener.local_addr()?;
    let lfd = Fd(listener.as_raw_fd());
    let mut ring = IoUring::new(64)?;
    let connected = AtomicU64::new(0);
    let start = Instant::now();
    let (seen, rounds, cancelled) = std::thread::scope(|s| -> anyhow::Result<(Vec<u8>, u64, u64)> {
        let client = s.spawn(|| -> std::io::Result<()> {
            for i in 0..clients {
                let mut c = TcpStream::connect(addr)?;
                c.write_all(&i.to_le_bytes())?;
                connected.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        });
        let mut seen = vec![0u8; clients as usize];
        let (mut accepted, mut rounds, mut cancelled) = (0u64, 0u64, 0u64);
        let mut rng = Rng(99);
        let deadline = Instant::now() + Duration::from_secs(60);
        while accepted < clients {
            ensure!(Instant::now() < deadline, "{accepted} of {clients} connections accepted");
            rounds += 1;
            let arm = opcode::AcceptMulti::new(lfd).build().user_data(rounds);
            push_submit(&mut ring, &arm)?;
            let mut cancel_after = 1 + rng.below(20);
            let mut cancel_sent = false;
            'round: loop {
                ensure!(Instant::now() < deadline, "round {rounds} never ended");
                ring.submit_and_wait(1)?;
                let mut fds = Vec::new();
                let mut ended = false;
                for cqe in ring.completion() {
                    if cqe.user_data_u64() == CANCEL_UD {
                        continue;
                    }
                    match cqe.result() {
                        // SAFETY: the kernel just installed this fd for us.
                        Ok(fd) => fds.push(unsafe { OwnedFd::from_raw_fd(fd as i32) }),
                        Err(Errno::CANCELED) => cancelled += 1,
                        Err(e) => bail!("accept failed: {e}"),
                    }
                    if !cqueue::more(cqe.flags()) {
                        ended = true;
                    }
                }
                for fd in fds {
                    let mut s = TcpStream::from(fd);
                    s.set_read_timeout(Some(Duration::from_secs(5)))?;
                    let mut b = [0u8; 8];
                    s.read_exact(&mut b).context("client number")?;
                    let i = u64::from_le_bytes(b);
                    let slot = seen.get_mut(i as usize).with_context(|| format!("client {i}?"))?;
                    *slot += 1;
                    ensure!(*slot == 1, "client {i} accepted twice");
                    accepted += 1;
                    cancel_after = cancel_after.saturating_sub(1);
                }
                if ended {
                    break 'round;
                }
                if (cancel_after == 0 || accepted == clients) && !cancel_sent {
                    let c = opcode::AsyncCancel::new(rounds.into()).build().user_data(CANCEL_UD);
                    push_submit(&mut ring, &c)?;
                    cancel_sent = true;
                }
            }
        }
        client.join().map_err(|_| anyhow::anyhow!("client panicked"))?.context("client")?;
        Ok((seen, rounds, cancelled))
    })?;
    ensure!(connected.load(Ordering::Relaxed) == clients, "clients connected");
    ensure!(seen.iter().all(|&c| c == 1), "a client was never accepted");
    ensure!(cancelled > 0, "no round was ended by its cancel");
    println!(
        "    {clients} connections over {rounds} multishot accepts, {cancelled} cancelled while clients \
         connected; each accepted once; {:.2?}",
        start.elapsed()
    );
    Ok(())
}

// ---------------------------------------------------------------------

/// An SQPOLL ring whose kernel thread goes idle and is woken again, many
/// times: every NOP must complete, none may wait for a wake-up that never
/// comes. Each sleep costs at least one kernel tick of idle time: 300
/// wake-ups at scale 1. Every step (the thread going idle, each NOP) has its
/// own bound, so a lost wake-up fails the test while a slow machine only
/// makes it longer.
///
/// The thread is given one NOP before the first wait for its sleep: the
/// kernel starts its idle timer at jiffies 0 and restarts it only after
/// work or a sleep, and `time_after(jiffies, 0)` is false while `jiffies`
/// reads as negative. On a 32-bit kernel it does for the first 300 s after
/// boot (INITIAL_JIFFIES is -300 s) and every other 2^31 ticks after that,
/// so a fresh SQPOLL thread that has had no work spins there and never
/// sets NEED_WAKEUP (armhf 6.12 and 7.2 under QEMU: the thread in state R
/// at 100% system time for the whole 10 s wait). On 64-bit kernels jiffies
/// starts positive and the thread sleeps anyway.
fn stress_sqpoll_idle_and_wake(_: &Ctx) -> anyhow::Result<()> {
    let want = scaled(300);
    let mut ring: IoUring = match IoUring::builder().setup_sqpoll(1).build(8) {
        Ok(r) => r,
        Err(e) => skip!("SQPOLL refused: {e}"),
    };
    let (mut wakes, mut ops, mut fast) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    // The first NOP starts the thread's idle timer (above); it may or may
    // not need a wake-up, so it counts as neither kind.
    push_submit(&mut ring, &nop(ops))?;
    let deadline = Instant::now() + crate::util::PATIENCE;
    loop {
        if let Some(c) = ring.completion().next() {
            ensure!(c.user_data_u64() == ops && c.result() == Ok(0), "NOP {ops}: {c:?}");
            break;
        }
        ensure!(Instant::now() < deadline, "the first NOP never completed");
        std::thread::sleep(Duration::from_micros(200));
    }
    ops += 1;
    while wakes < want {
        // Wait (without entering) until the thread sleeps.
        let idle_deadline = Instant::now() + crate::util::PATIENCE;
        while !ring.submission().need_wakeup() {
            if Instant::now() >= idle_deadline {
                bail!("the SQPOLL thread never went idle ({wakes} wake-ups before); {}", sqpoll_report(&mut ring));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        // A few NOPs in a row: the first needs the wake-up, the rest find
        // the thread awake (or about to sleep again: the racy case).
        for k in 0..4 {
            // SAFETY: NOPs name no memory.
            unsafe { ring.submission().push(&nop(ops)) }.map_err(|_| anyhow::anyhow!("SQ full"))?;
            if k == 0 {
                ensure!(ring.submission().need_wakeup(), "thread woke by itself");
                wakes += 1;
            } else {
                fast += 1;
            }
            ring.submit()?;
            let deadline = Instant::now() + crate::util::PATIENCE;
            loop {
                if let Some(c) = ring.completion().next() {
                    ensure!(c.user_data_u64() == ops && c.result() == Ok(0), "NOP {ops}: {c:?}");
                    break;
                }
                ensure!(Instant::now() < deadline, "NOP {ops} never completed: lost wake-up?");
                std::hint::spin_loop();
            }
            ops += 1;
        }
    }
    println!(
        "    {wakes} sleeps and wake-ups of the SQPOLL thread, {ops} NOPs ({fast} to an awake thread); {:.2?}",
        start.elapsed()
    );
    Ok(())
}

/// What the SQPOLL thread of this process is doing, for a failure message:
/// its scheduler state and CPU time (from /proc), how often a tight loop
/// sees NEED_WAKEUP over 200 ms, the SQ's length and the raw flags word.
fn sqpoll_report(ring: &mut IoUring) -> String {
    let mut out = String::new();
    let threads = || -> Vec<(String, String)> {
        let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
        dir.flatten()
            .filter(|t| std::fs::read_to_string(t.path().join("comm")).unwrap_or_default().starts_with("iou-sqp"))
            .map(|t| {
                let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
                // After "(comm) ": state, then utime and stime are fields 14-15.
                let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
                let f: Vec<&str> = rest.split_whitespace().collect();
                let fields = format!(
                    "state {} utime {} stime {}",
                    f.first().unwrap_or(&"?"),
                    f.get(11).unwrap_or(&"?"),
                    f.get(12).unwrap_or(&"?")
                );
                (t.file_name().to_string_lossy().into_owned(), fields)
            })
            .collect()
    };
    for (tid, fields) in threads() {
        out += &format!("sqpoll task {tid}: {fields}; ");
    }
    let (mut seen, mut reads) = (0u64, 0u64);
    let until = Instant::now() + Duration::from_millis(200);
    while Instant::now() < until {
        reads += 1;
        seen += ring.submission().need_wakeup() as u64;
    }
    for (tid, fields) in threads() {
        out += &format!("200 ms later {tid}: {fields}; ");
    }
    let sq = ring.submission();
    out += &format!("NEED_WAKEUP seen in {seen} of {reads} reads; SQ length {}, dropped {}", sq.len(), sq.dropped());
    // A 32-bit kernel's jiffies read as negative for its first 300 s.
    let uptime = std::fs::read_to_string("/proc/uptime").unwrap_or_default();
    out += &format!("; uptime {} s", uptime.split_whitespace().next().unwrap_or("?"));
    out
}

// ---------------------------------------------------------------------

/// Linked chains of random length (1..=16) with a random member failing
/// (a read of fd -1: EBADF) or none, some hard-linked: before the failure
/// every member succeeds, the failing one reports EBADF, and after it a
/// soft chain reports ECANCELED while a hard chain goes on.
fn stress_linked_chains_random_failures(_: &Ctx) -> anyhow::Result<()> {
    let members_total = scaled(200_000);
    let mut ring = IoUring::new(256)?;
    let mut rng = Rng(2024);
    let (mut members, mut chains, mut failures) = (0u64, 0u64, 0u64);
    // What each member must report, by user data (reset per batch).
    let mut expect: Vec<Result<u32, Errno>> = Vec::new();
    let start = Instant::now();
    while members < members_total {
        expect.clear();
        let mut batch: Vec<squeue::Entry> = Vec::new();
        while batch.len() < 200 {
            let len = 1 + rng.below(16) as usize;
            let fail_at = if rng.below(3) == 0 { None } else { Some(rng.below(len as u64) as usize) };
            let hard = rng.below(4) == 0;
            let link = if hard { squeue::Flags::IO_HARDLINK } else { squeue::Flags::IO_LINK };
            let mut failed = false;
            for i in 0..len {
                let ud = expect.len() as u64;
                let e = if fail_at == Some(i) {
                    failures += 1;
                    failed = true;
                    expect.push(Err(Errno::BADF));
                    opcode::Read::new(Fd(-1), std::ptr::null_mut(), 0).build()
                } else {
                    expect.push(if failed && !hard { Err(Errno::CANCELED) } else { Ok(0) });
                    opcode::Nop::new().build()
                };
                let e = e.user_data(ud);
                batch.push(if i + 1 < len { e.flags(link) } else { e });
            }
            chains += 1;
        }
        // SAFETY: NOPs and reads of fd -1 with no buffer name no memory.
        unsafe { ring.submission().push_multiple(&batch) }.map_err(|_| anyhow::anyhow!("SQ full"))?;
        ring.submit_and_wait(batch.len())?;
        let mut got = 0;
        let deadline = Instant::now() + Duration::from_secs(10);
        while got < batch.len() {
            for cqe in ring.completion() {
                let ud = cqe.user_data_u64() as usize;
                let want = expect.get(ud).copied().with_context(|| format!("stray user data {ud}"))?;
                ensure!(cqe.result() == want, "member {ud}: got {:?}, want {want:?}", cqe.result());
                got += 1;
            }
            if got < batch.len() {
                ensure!(Instant::now() < deadline, "{got} of {} members completed", batch.len());
                ring.submit_and_wait(1)?;
            }
        }
        members += batch.len() as u64;
    }
    println!(
        "    {chains} chains, {members} members, {failures} injected failures; every member's result as \
         expected; {:.2?}",
        start.elapsed()
    );
    Ok(())
}
