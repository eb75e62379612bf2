//! Tests of `src/opcode/poll.rs` on the kernel: `PollAdd` (one-shot,
//! multishot), `PollRemove`, `PollUpdate`, `EpollCtl`, `EpollWait`.
//!
//! The helpers at the bottom (pipe, socketpair, bounded reaping, "nothing
//! completes") are shared with the timeout and cancel tests.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use urix::types::{EpollEvent, Fd, Fixed, SubmitArgs, Timespec};
use urix::{cqueue, opcode, squeue, Errno, IoUring};

use crate::harness::{reg, Ctx, Req, Test};
use crate::test;
use crate::util::push_all;
use crate::util::PATIENCE;

const POLL_ADD: Req = Req::Op(opcode::PollAdd::CODE, "POLL_ADD");
const POLL_REMOVE: Req = Req::Op(opcode::PollRemove::CODE, "POLL_REMOVE");
const EPOLL_CTL: Req = Req::Op(opcode::EpollCtl::CODE, "EPOLL_CTL");
const EPOLL_WAIT: Req = Req::Op(opcode::EpollWait::CODE, "EPOLL_WAIT");

const POLLIN: u32 = libc::POLLIN as u32;
const POLLOUT: u32 = libc::POLLOUT as u32;

pub fn tests() -> Vec<Test> {
    vec![
        test!(poll_add_fires_when_data_arrives, requires = [POLL_ADD]),
        test!(poll_add_multishot_fires_per_event, requires = [POLL_ADD, POLL_REMOVE]),
        test!(poll_remove_cancels_an_armed_poll, requires = [POLL_ADD, POLL_REMOVE]),
        test!(poll_update_changes_mask_and_user_data, requires = [POLL_ADD, POLL_REMOVE]),
        test!(epoll_ctl_and_epoll_wait, requires = [EPOLL_CTL, EPOLL_WAIT]),
        test!(epoll_wait_on_a_registered_epoll_fd, requires = [EPOLL_CTL, EPOLL_WAIT, reg::FILES]),
    ]
}

fn poll_add_fires_when_data_arrives<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (rx, tx) = pipe()?;
    let p = opcode::PollAdd::new(Fd(rx.as_raw_fd()), POLLIN).build().user_data(1);
    push_all(&mut ring, &[S::from(p)])?;
    expect_nothing(&mut ring, Duration::from_millis(10)).context("poll on an empty pipe")?;
    (&tx).write_all(b"x")?;
    let c = one(&mut ring)?;
    ensure!(c.user_data_u64() == 1, "user_data {}", c.user_data_u64());
    let mask = c.result().map_err(|e| anyhow::anyhow!("poll failed: {e}"))?;
    ensure!(mask & POLLIN != 0 && mask & POLLOUT == 0, "revents {mask:#x}");
    ensure!(!cqueue::more(c.flags()), "one-shot poll set F_MORE");
    // A one-shot poll is gone: more data brings no second completion.
    (&tx).write_all(b"y")?;
    expect_nothing(&mut ring, Duration::from_millis(5)).context("after the one-shot fired")?;
    // The write end is writable at once.
    let p = opcode::PollAdd::new(Fd(tx.as_raw_fd()), POLLOUT).build().user_data(2);
    push_all(&mut ring, &[S::from(p)])?;
    let c = one(&mut ring)?;
    ensure!(c.result().is_ok_and(|m| m & POLLOUT != 0), "write end: {:?}", c.result());
    // A bad fd fails in the CQE.
    let p = opcode::PollAdd::new(Fd(-3), POLLIN).build().user_data(3);
    push_all(&mut ring, &[S::from(p)])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Err(Errno::BADF), "bad fd: {:?}", c.result());
    Ok(())
}

fn poll_add_multishot_fires_per_event<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (mut rx, tx) = pipe()?;
    let p = opcode::PollAdd::new(Fd(rx.as_raw_fd()), POLLIN).multi(true).build().user_data(7);
    push_all(&mut ring, &[S::from(p)])?;
    expect_nothing(&mut ring, Duration::from_millis(5))?;
    for round in 0..3 {
        (&tx).write_all(b"ab")?;
        let c = one(&mut ring)?;
        ensure!(c.user_data_u64() == 7, "round {round}: user_data {}", c.user_data_u64());
        ensure!(c.result().is_ok_and(|m| m & POLLIN != 0), "round {round}: {:?}", c.result());
        ensure!(cqueue::more(c.flags()), "round {round}: no F_MORE, the poll ended");
        let mut buf = [0u8; 2];
        rx.read_exact(&mut buf)?;
    }
    expect_nothing(&mut ring, Duration::from_millis(5)).context("empty pipe")?;
    // Removing it ends the series: -ECANCELED without F_MORE.
    push_all(&mut ring, &[S::from(opcode::PollRemove::new(7u64.into()).build().user_data(8))])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    let poll = find(&got, 7)?;
    ensure!(poll.result() == Err(Errno::CANCELED), "removed poll: {:?}", poll.result());
    ensure!(!cqueue::more(poll.flags()), "removed poll still has F_MORE");
    ensure!(find(&got, 8)?.result() == Ok(0), "remove: {:?}", find(&got, 8)?.result());
    Ok(())
}

fn poll_remove_cancels_an_armed_poll<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (rx, tx) = pipe()?;
    let p = opcode::PollAdd::new(Fd(rx.as_raw_fd()), POLLIN).build().user_data(10);
    push_all(&mut ring, &[S::from(p)])?;
    expect_nothing(&mut ring, Duration::from_millis(5))?;
    push_all(&mut ring, &[S::from(opcode::PollRemove::new(10u64.into()).build().user_data(11))])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 10)?.result() == Err(Errno::CANCELED), "poll: {:?}", find(&got, 10)?.result());
    ensure!(find(&got, 11)?.result() == Ok(0), "remove: {:?}", find(&got, 11)?.result());
    // The poll is really gone: data brings nothing.
    (&tx).write_all(b"q")?;
    expect_nothing(&mut ring, Duration::from_millis(5)).context("after the remove")?;
    // Nothing armed under that user_data any more.
    push_all(&mut ring, &[S::from(opcode::PollRemove::new(10u64.into()).build().user_data(12))])?;
    let c = one(&mut ring)?;
    ensure!(c.user_data_u64() == 12 && c.result() == Err(Errno::NOENT), "remove again: {:?}", c.result());
    Ok(())
}

fn poll_update_changes_mask_and_user_data<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (a, b) = socketpair()?;
    // A socket with nothing to read but room to write: POLLIN waits,
    // an update to POLLOUT fires at once.
    let p = opcode::PollAdd::new(Fd(a.as_raw_fd()), POLLIN).build().user_data(1);
    push_all(&mut ring, &[S::from(p)])?;
    expect_nothing(&mut ring, Duration::from_millis(5))?;
    let u = opcode::PollUpdate::new(1u64.into()).events(POLLOUT).build().user_data(2);
    push_all(&mut ring, &[S::from(u)])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 2)?.result() == Ok(0), "update: {:?}", find(&got, 2)?.result());
    let m = find(&got, 1)?.result();
    ensure!(m.is_ok_and(|m| m & POLLOUT != 0 && m & POLLIN == 0), "updated poll: {m:?}");

    // New user_data only: the mask stays POLLIN, the completion carries 4.
    let p = opcode::PollAdd::new(Fd(a.as_raw_fd()), POLLIN).build().user_data(3);
    push_all(&mut ring, &[S::from(p)])?;
    let u = opcode::PollUpdate::new(3u64.into()).new_user_data(4u64.into()).build().user_data(5);
    push_all(&mut ring, &[S::from(u)])?;
    let c = one(&mut ring)?;
    ensure!(c.user_data_u64() == 5 && c.result() == Ok(0), "update ud: {} {:?}", c.user_data_u64(), c.result());
    expect_nothing(&mut ring, Duration::from_millis(5)).context("poll still waits for POLLIN")?;
    (&b).write_all(b"hello")?;
    let c = one(&mut ring)?;
    ensure!(c.user_data_u64() == 4, "poll completed with user_data {}", c.user_data_u64());
    ensure!(c.result().is_ok_and(|m| m & POLLIN != 0), "poll: {:?}", c.result());

    // Both at once, kept multishot: fires with the new user_data and F_MORE.
    let (c2, _d2) = socketpair()?;
    let p = opcode::PollAdd::new(Fd(c2.as_raw_fd()), POLLIN).multi(true).build().user_data(6);
    push_all(&mut ring, &[S::from(p)])?;
    expect_nothing(&mut ring, Duration::from_millis(5))?;
    let u = opcode::PollUpdate::new(6u64.into()).events(POLLOUT).new_user_data(7u64.into()).multi(true);
    push_all(&mut ring, &[S::from(u.build().user_data(8))])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 8)?.result() == Ok(0), "update both: {:?}", find(&got, 8)?.result());
    let c = find(&got, 7)?;
    ensure!(c.result().is_ok_and(|m| m & POLLOUT != 0), "updated multishot: {:?}", c.result());
    ensure!(cqueue::more(c.flags()), "multishot update lost F_MORE");
    push_all(&mut ring, &[S::from(opcode::PollRemove::new(7u64.into()).build().user_data(9))])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 9)?.result() == Ok(0), "remove by the new user_data: {:?}", find(&got, 9)?.result());

    // Unknown target -> ENOENT; MULTI without a new mask -> EINVAL.
    let u = opcode::PollUpdate::new(99u64.into()).events(POLLIN).build().user_data(10);
    push_all(&mut ring, &[S::from(u)])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Err(Errno::NOENT), "update of nothing: {:?}", c.result());
    let u = opcode::PollUpdate::new(99u64.into()).multi(true).build().user_data(11);
    push_all(&mut ring, &[S::from(u)])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Err(Errno::INVAL), "multi alone: {:?}", c.result());
    Ok(())
}

fn epoll_ctl_and_epoll_wait<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let ep = epoll()?;
    let (rx, tx) = pipe()?;
    let ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: 0x1234_5678_9abc };
    let add = || opcode::EpollCtl::new(Fd(ep.as_raw_fd()), Fd(rx.as_raw_fd()), libc::EPOLL_CTL_ADD, as_ev(&ev));
    push_all(&mut ring, &[S::from(add().build().user_data(1))])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Ok(0), "EPOLL_CTL_ADD: {:?}", c.result());
    // The set holds the pipe: epoll_wait(2) sees it once it is readable.
    ensure!(sys_epoll_wait(&ep)?.is_empty(), "empty pipe reported ready");
    (&tx).write_all(b"e")?;
    let seen = sys_epoll_wait(&ep)?;
    ensure!(seen == [(libc::EPOLLIN as u32, 0x1234_5678_9abc)], "epoll_wait saw {seen:x?}");

    // EPOLL_WAIT reports the same event, with the data from the ADD.
    let mut out = [libc::epoll_event { events: 0, u64: 0 }; 4];
    let w = opcode::EpollWait::new(Fd(ep.as_raw_fd()), as_ev_mut(&mut out), 4).build().user_data(2);
    push_all(&mut ring, &[S::from(w)])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Ok(1), "EPOLL_WAIT: {:?}", c.result());
    let (events, data) = (out[0].events, out[0].u64);
    ensure!(events & libc::EPOLLIN as u32 != 0 && data == 0x1234_5678_9abc, "event {events:#x} {data:#x}");

    // With nothing ready it waits, and completes when data arrives.
    let mut byte = [0u8; 1];
    (&rx).read_exact(&mut byte)?;
    let mut out = [libc::epoll_event { events: 0, u64: 0 }; 4];
    let w = opcode::EpollWait::new(Fd(ep.as_raw_fd()), as_ev_mut(&mut out), 4).build().user_data(3);
    push_all(&mut ring, &[S::from(w)])?;
    expect_nothing(&mut ring, Duration::from_millis(10)).context("EPOLL_WAIT on an idle set")?;
    (&tx).write_all(b"f")?;
    let c = one(&mut ring)?;
    ensure!(c.user_data_u64() == 3 && c.result() == Ok(1), "EPOLL_WAIT after write: {:?}", c.result());
    let data = out[0].u64;
    ensure!(data == 0x1234_5678_9abc, "data {data:#x}");

    // A second ADD of the same fd -> EEXIST; DEL removes it.
    push_all(&mut ring, &[S::from(add().build().user_data(4))])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Err(Errno::EXIST), "second ADD: {:?}", c.result());
    let del = opcode::EpollCtl::new(Fd(ep.as_raw_fd()), Fd(rx.as_raw_fd()), libc::EPOLL_CTL_DEL, std::ptr::null());
    push_all(&mut ring, &[S::from(del.build().user_data(5))])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Ok(0), "EPOLL_CTL_DEL: {:?}", c.result());
    ensure!(sys_epoll_wait(&ep)?.is_empty(), "the pipe is still in the set after DEL");

    // The flags word must be 0 on 6.18; a non-epoll fd is refused.
    let w = opcode::EpollWait::new(Fd(ep.as_raw_fd()), as_ev_mut(&mut out), 4).flags(1).build().user_data(6);
    push_all(&mut ring, &[S::from(w)])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Err(Errno::INVAL), "EPOLL_WAIT with flags: {:?}", c.result());
    let w = opcode::EpollWait::new(Fd(rx.as_raw_fd()), as_ev_mut(&mut out), 4).build().user_data(7);
    push_all(&mut ring, &[S::from(w)])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Err(Errno::INVAL), "EPOLL_WAIT on a pipe: {:?}", c.result());
    Ok(())
}

fn epoll_wait_on_a_registered_epoll_fd<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    // Two epoll sets: `fixed` sits in the file table at slot N, where N is
    // the raw fd number of `plain`, so the result shows which one the
    // kernel used.
    let fixed = epoll()?;
    let plain = epoll()?;
    let slot = plain.as_raw_fd() as u32;
    let mut table = vec![-1; slot as usize + 1];
    table[slot as usize] = fixed.as_raw_fd();
    ring.submitter().register_files(&table).context("register_files")?;
    let (_rx, tx) = pipe()?;
    let ev = libc::epoll_event { events: libc::EPOLLOUT as u32, u64: 42 };
    let add = opcode::EpollCtl::new(Fixed(slot), Fd(tx.as_raw_fd()), libc::EPOLL_CTL_ADD, as_ev(&ev));
    push_all(&mut ring, &[S::from(add.build().user_data(1))])?;
    let c = one(&mut ring)?;
    let in_fixed = sys_epoll_wait(&fixed)?;
    let in_plain = sys_epoll_wait(&plain)?;
    // 6.18: EPOLL_CTL takes no file from the table; it ignores
    // IOSQE_FIXED_FILE and uses the index as a plain fd number.
    ensure!(
        c.result() == Ok(0) && in_fixed.is_empty() && in_plain == [(libc::EPOLLOUT as u32, 42)],
        "EPOLL_CTL on Fixed: {:?}, registered set {in_fixed:?}, plain set {in_plain:?}",
        c.result()
    );
    let add = opcode::EpollCtl::new(Fd(fixed.as_raw_fd()), Fd(tx.as_raw_fd()), libc::EPOLL_CTL_ADD, as_ev(&ev));
    push_all(&mut ring, &[S::from(add.build().user_data(2))])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Ok(0), "EPOLL_CTL_ADD: {:?}", c.result());
    // EPOLL_WAIT does take the registered file.
    let mut out = [libc::epoll_event { events: 0, u64: 0 }; 2];
    let w = opcode::EpollWait::new(Fixed(slot), as_ev_mut(&mut out), 2).build().user_data(3);
    push_all(&mut ring, &[S::from(w)])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Ok(1), "EPOLL_WAIT on Fixed({slot}): {:?}", c.result());
    let (events, data) = (out[0].events, out[0].u64);
    ensure!(events & libc::EPOLLOUT as u32 != 0 && data == 42, "event {events:#x} {data}");
    Ok(())
}

// ---- helpers shared with the timeout and cancel tests ----

/// A pipe, (read end, write end), both close-on-exec.
pub(super) fn pipe() -> anyhow::Result<(File, File)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    ensure!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == 0, "pipe2");
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) })
}

/// A connected pair of Unix stream sockets.
pub(super) fn socketpair() -> anyhow::Result<(File, File)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    let r = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) };
    ensure!(r == 0, "socketpair");
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) })
}

fn epoll() -> anyhow::Result<OwnedFd> {
    // SAFETY: plain syscall; the result is checked.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    ensure!(fd >= 0, "epoll_create1");
    // SAFETY: the fd was just created and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `epoll_wait(2)` with a zero timeout: the (events, data) that are ready.
fn sys_epoll_wait(ep: &OwnedFd) -> anyhow::Result<Vec<(u32, u64)>> {
    let mut out = [libc::epoll_event { events: 0, u64: 0 }; 8];
    // SAFETY: `out` has room for 8 events.
    let n = unsafe { libc::epoll_wait(ep.as_raw_fd(), out.as_mut_ptr(), 8, 0) };
    ensure!(n >= 0, "epoll_wait: {}", std::io::Error::last_os_error());
    Ok(out[..n as usize].iter().map(|e| (e.events, e.u64)).collect())
}

/// libc's `epoll_event` has the kernel layout, as does rustix's `EpollEvent`.
fn as_ev(ev: &libc::epoll_event) -> *const EpollEvent {
    (ev as *const libc::epoll_event).cast()
}

fn as_ev_mut(evs: &mut [libc::epoll_event]) -> *mut EpollEvent {
    evs.as_mut_ptr().cast()
}

/// Waits until the SQPOLL thread has taken every pushed entry (no-op for
/// other rings, whose submit consumes them).
pub(super) fn sq_drained<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + PATIENCE;
    while !ring.submission().is_empty() {
        if Instant::now() > deadline {
            bail!("the SQPOLL thread did not take the entries");
        }
        std::thread::yield_now();
    }
    Ok(())
}

/// Waits `d` for completions and fails if any arrives. Waiting happens
/// inside `io_uring_enter`, so DEFER_TASKRUN rings do post what is ready.
pub(super) fn expect_nothing<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    d: Duration,
) -> anyhow::Result<()> {
    sq_drained(ring)?;
    let ts = Timespec::from(d);
    let args = SubmitArgs::new().timespec(&ts);
    match ring.submitter().submit_with_args(1, &args) {
        Ok(_) | Err(Errno::TIME) | Err(Errno::INTR) => {}
        Err(e) => bail!("waiting: {e}"),
    }
    let early: Vec<cqueue::Entry> = ring.completion().map(Into::into).collect();
    if let Some(c) = early.first() {
        bail!("unexpected completion: user_data {} result {:?}", c.user_data_u64(), c.result());
    }
    Ok(())
}

/// Collects at least `n` completions within `limit` (all that are there
/// once `n` arrived), failing rather than hanging if they do not come.
pub(super) fn reap_at_least<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    n: usize,
    limit: Duration,
) -> anyhow::Result<Vec<cqueue::Entry>> {
    let deadline = Instant::now() + limit;
    let mut out = Vec::with_capacity(n);
    loop {
        out.extend(ring.completion().map(Into::into));
        if out.len() >= n {
            return Ok(out);
        }
        let now = Instant::now();
        if now >= deadline {
            let seen: Vec<_> = out.iter().map(|c| (c.user_data_u64(), c.result())).collect();
            bail!("only {} of {n} completions within {limit:?}: {seen:?}", out.len());
        }
        let ts = Timespec::from(deadline - now);
        let args = SubmitArgs::new().timespec(&ts);
        match ring.submitter().submit_with_args(n - out.len(), &args) {
            Ok(_) | Err(Errno::TIME) | Err(Errno::INTR) => {}
            Err(e) => bail!("waiting: {e}"),
        }
    }
}

/// Collects exactly `n` completions within `limit`; more is an error.
pub(super) fn reap_within<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    n: usize,
    limit: Duration,
) -> anyhow::Result<Vec<cqueue::Entry>> {
    let out = reap_at_least(ring, n, limit)?;
    ensure!(out.len() == n, "{} completions, expected {n}: {out:?}", out.len());
    Ok(out)
}

/// The one next completion (within 2 s).
pub(super) fn one<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
) -> anyhow::Result<cqueue::Entry> {
    Ok(reap_within(ring, 1, PATIENCE)?.remove(0))
}

/// The completion with `user_data`, which must occur exactly once.
pub(super) fn find(cqes: &[cqueue::Entry], user_data: u64) -> anyhow::Result<&cqueue::Entry> {
    let mut it = cqes.iter().filter(|c| c.user_data_u64() == user_data);
    let c = it.next().with_context(|| format!("no completion for user_data {user_data}"))?;
    ensure!(it.next().is_none(), "two completions for user_data {user_data}");
    Ok(c)
}
