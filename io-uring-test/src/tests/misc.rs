//! Tests of `src/opcode/misc.rs` on the kernel: NOP and its hooks, NOP128,
//! WAITID, FILES_UPDATE, FIXED_FD_INSTALL.

use std::any::Any;
use std::io::Write as _;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use urix::types::{iovec, Fd, Fixed};
use urix::{cqueue, opcode, squeue, Errno, IoUring};

use crate::harness::{reg, Ctx, Req, Test};
use crate::util::{needs_kernel, one, push_all, read_fixed, reap};
use crate::{skip, test, test_once};

const NOP: Req = Req::Op(opcode::Nop::CODE, "NOP");
const READ: Req = Req::Op(opcode::Read::CODE, "READ");

pub fn tests() -> Vec<Test> {
    vec![
        test!(nop_inject_result, requires = [NOP]),
        test!(nop_file_lookup, requires = [NOP]),
        test!(nop_fixed_file_and_buffer, requires = [NOP, reg::BUFFERS, reg::FILES]),
        test!(nop_cqe32_payload, requires = [NOP]),
        test_once!(nop128_on_sqe128_ring, requires = [Req::Op(opcode::Nop128::CODE, "NOP128")]),
        test!(waitid_reaps_forked_child, requires = [Req::Op(opcode::WaitId::CODE, "WAITID")]),
        test!(
            files_update_replaces_slots,
            requires = [Req::Op(opcode::FilesUpdate::CODE, "FILES_UPDATE"), READ, reg::FILES]
        ),
        test!(
            fixed_fd_install_gives_a_regular_fd,
            requires = [Req::Op(opcode::FixedFdInstall::CODE, "FIXED_FD_INSTALL"), reg::FILES]
        ),
    ]
}

/// Like `util::reap`, but keeps the ring's own entry type (for `big_cqe`).
fn reap_full<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    n: usize,
) -> anyhow::Result<Vec<C>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        out.extend(ring.completion());
        if out.len() >= n {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {} of {n} completions arrived", out.len());
        }
        ring.submit_and_wait(1).context("submit_and_wait")?;
    }
    Ok(out)
}

/// A temporary file holding `content`.
fn file_with(content: &[u8]) -> anyhow::Result<std::fs::File> {
    let mut f = crate::util::tempfile()?;
    f.write_all(content)?;
    Ok(f)
}

fn nop_inject_result<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 10, "IORING_NOP_INJECT_RESULT")?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let c = one(&mut ring, opcode::Nop::new().inject_result(4242).build().user_data(1))?;
    ensure!(c.result() == Ok(4242) && c.user_data_u64() == 1, "injected 4242: {c:?}");
    let c = one(&mut ring, opcode::Nop::new().inject_result(-libc::EAGAIN).build().user_data(2))?;
    ensure!(c.result() == Err(Errno::AGAIN), "injected -EAGAIN: {:?}", c.result());
    ensure!(c.raw_result() == -libc::EAGAIN, "raw result {}", c.raw_result());
    // An injected failure is a real failure: it breaks the link after it.
    let fail = opcode::Nop::new().inject_result(-libc::EIO).build().user_data(3).flags(squeue::Flags::IO_LINK);
    let next = opcode::Nop::new().build().user_data(4);
    push_all(&mut ring, &[S::from(fail), S::from(next)])?;
    let mut got = reap(&mut ring, 2)?;
    got.sort_by_key(|c| c.user_data_u64());
    ensure!(got[0].result() == Err(Errno::IO), "failing link head: {:?}", got[0]);
    ensure!(got[1].result() == Err(Errno::CANCELED), "linked NOP after a failure: {:?}", got[1]);
    // A plain NOP still completes with 0.
    let c = one(&mut ring, opcode::Nop::new().build().user_data(5))?;
    ensure!(c.result() == Ok(0), "plain NOP: {:?}", c.result());
    Ok(())
}

fn nop_file_lookup<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 13, "IORING_NOP_FILE")?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let file = file_with(b"x")?;
    let c = one(&mut ring, opcode::Nop::new().fd(Fd(file.as_raw_fd())).build())?;
    ensure!(c.result() == Ok(0), "NOP on an open fd: {:?}", c.result());
    // Free an fd number so that it is surely closed.
    let closed = {
        let f = file_with(b"")?;
        f.as_raw_fd()
    };
    let c = one(&mut ring, opcode::Nop::new().fd(Fd(closed)).build())?;
    ensure!(c.result() == Err(Errno::BADF), "NOP on closed fd {closed}: {:?}", c.result());
    let c = one(&mut ring, opcode::Nop::new().fd(Fd(-1)).build())?;
    ensure!(c.result() == Err(Errno::BADF), "NOP on fd -1: {:?}", c.result());
    // The lookup and the injected result combine: the file is checked first.
    let c = one(&mut ring, opcode::Nop::new().fd(Fd(file.as_raw_fd())).inject_result(9).build())?;
    ensure!(c.result() == Ok(9), "good fd + injected 9: {:?}", c.result());
    let c = one(&mut ring, opcode::Nop::new().fd(Fd(closed)).inject_result(9).build())?;
    ensure!(c.result() == Err(Errno::BADF), "bad fd + injected 9: {:?}", c.result());
    Ok(())
}

fn nop_fixed_file_and_buffer<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 13, "IORING_NOP_FIXED_FILE and IORING_NOP_FIXED_BUFFER")?;
    let file = file_with(b"y")?;
    let mut buf = vec![0u8; 4096];
    let mut ring = ctx.ring::<S, C>(8)?;
    // Nothing registered yet: every lookup fails.
    let c = one(&mut ring, opcode::Nop::new().fd(Fixed(0)).build())?;
    ensure!(c.result() == Err(Errno::BADF), "fixed file, no table: {:?}", c.result());
    let c = one(&mut ring, opcode::Nop::new().buf_index(0).build())?;
    ensure!(c.result() == Err(Errno::FAULT), "fixed buffer, no table: {:?}", c.result());

    ring.submitter().register_files(&[-1, file.as_raw_fd()]).context("register_files")?;
    let c = one(&mut ring, opcode::Nop::new().fd(Fixed(1)).build())?;
    ensure!(c.result() == Ok(0), "registered slot 1: {:?}", c.result());
    let c = one(&mut ring, opcode::Nop::new().fd(Fixed(0)).build())?;
    ensure!(c.result() == Err(Errno::BADF), "empty slot 0: {:?}", c.result());
    let c = one(&mut ring, opcode::Nop::new().fd(Fixed(2)).build())?;
    ensure!(c.result() == Err(Errno::BADF), "slot 2 of a 2-slot table: {:?}", c.result());
    // The plain fd number is not a slot: fd 1 names slot 1 only when fixed.
    let c = one(&mut ring, opcode::Nop::new().fd(Fd(file.as_raw_fd())).build())?;
    ensure!(c.result() == Ok(0), "plain fd beside a table: {:?}", c.result());

    let iov = [iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() }];
    // SAFETY: `buf` outlives the ring (declared before it), so the pinned
    // memory stays valid while registered.
    unsafe { ring.submitter().register_buffers(&iov) }.context("register_buffers")?;
    let c = one(&mut ring, opcode::Nop::new().buf_index(0).build())?;
    ensure!(c.result() == Ok(0), "registered buffer 0: {:?}", c.result());
    let c = one(&mut ring, opcode::Nop::new().buf_index(1).build())?;
    ensure!(c.result() == Err(Errno::FAULT), "buffer 1 of a 1-buffer table: {:?}", c.result());
    // Both at once, with a result.
    let c = one(&mut ring, opcode::Nop::new().fd(Fixed(1)).buf_index(0).inject_result(3).build())?;
    ensure!(c.result() == Ok(3), "fixed file + buffer + result: {:?}", c.result());
    Ok(())
}

fn nop_cqe32_payload<S: squeue::EntryMarker, C: cqueue::EntryMarker + 'static>(ctx: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 18, "IORING_NOP_CQE32")?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let nop = opcode::Nop::new().cqe32_payload(0x0123_4567_89ab_cdef, u64::MAX - 1).inject_result(17);
    push_all(&mut ring, &[S::from(nop.build().user_data(1))])?;
    let got = reap_full(&mut ring, 1)?;
    let Some(big) = (&got[0] as &dyn Any).downcast_ref::<cqueue::Entry32>() else {
        // 16-byte completions: the kernel must refuse rather than truncate.
        let c: cqueue::Entry = got[0].clone().into();
        ensure!(c.result() == Err(Errno::INVAL), "CQE32 NOP on a 16-byte CQ: {:?}", c.result());
        skip!("needs 32-byte CQEs (checked: a 16-byte CQ ring refuses it with EINVAL)");
    };
    ensure!(big.result() == Ok(17) && big.user_data().u64_() == 1, "CQE32 NOP: {big:?}");
    ensure!(*big.big_cqe() == [0x0123_4567_89ab_cdef, u64::MAX - 1], "big_cqe {:x?}", big.big_cqe());
    // Without the flag the extra words are zero (the slot is reused).
    push_all(&mut ring, &[S::from(opcode::Nop::new().build().user_data(2))])?;
    let got = reap_full(&mut ring, 1)?;
    let big = (&got[0] as &dyn Any).downcast_ref::<cqueue::Entry32>().context("entry type changed")?;
    ensure!(*big.big_cqe() == [0, 0], "plain NOP big_cqe {:x?}", big.big_cqe());
    Ok(())
}

fn nop128_on_sqe128_ring(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<squeue::Entry128, cqueue::Entry>(8)?;
    let e = opcode::Nop128::new().inject_result(128).build().user_data(1);
    push_all(&mut ring, &[e])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Ok(128), "NOP128: {:?}", got[0]);
    Ok(())
}

/// Forks a child that exits with `code` at once. Returns its pid.
fn fork_exiting(code: i32) -> anyhow::Result<libc::pid_t> {
    // SAFETY: the child only calls the async-signal-safe `_exit`.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => bail!("fork: {}", std::io::Error::last_os_error()),
        0 => {
            // SAFETY: ends the child without running any parent state.
            unsafe { libc::_exit(code) }
        }
        pid => Ok(pid),
    }
}

/// Reaps `pid` if it is still around (cleanup after a failed check).
fn reap_leftover(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: plain waitpid on our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
}

fn waitid_reaps_forked_child<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let pid = fork_exiting(7)?;
    // SAFETY: siginfo_t is plain data; all-zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let w = opcode::WaitId::new(libc::P_PID, pid as u32, libc::WEXITED)
        .infop((&mut info as *mut libc::siginfo_t).cast())
        .build()
        .user_data(1);
    let res = one(&mut ring, w);
    let c = match res {
        Ok(c) => c,
        Err(e) => {
            reap_leftover(pid);
            return Err(e);
        }
    };
    if c.result() != Ok(0) {
        reap_leftover(pid);
        bail!("WAITID: {:?}", c.result());
    }
    ensure!(info.si_signo == libc::SIGCHLD, "si_signo {}", info.si_signo);
    ensure!(info.si_code == libc::CLD_EXITED, "si_code {}", info.si_code);
    // SAFETY: a SIGCHLD siginfo carries the pid/status union member.
    let (si_pid, si_status) = unsafe { (info.si_pid(), info.si_status()) };
    ensure!(si_pid == pid && si_status == 7, "siginfo pid {si_pid} (want {pid}) status {si_status}");
    // The child was reaped: nothing is left to wait for.
    let mut status = 0;
    // SAFETY: plain waitpid.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    let err = std::io::Error::last_os_error();
    ensure!(r == -1 && err.raw_os_error() == Some(libc::ECHILD), "waitpid after WAITID: {r} {err}");
    // Waiting for a process that is not our child fails with ECHILD.
    let w = opcode::WaitId::new(libc::P_PID, 1, libc::WEXITED).build();
    let c = one(&mut ring, w)?;
    ensure!(c.result() == Err(Errno::CHILD), "WAITID on pid 1: {:?}", c.result());
    // `flags` must be zero.
    let pid = fork_exiting(3)?;
    let c = one(&mut ring, opcode::WaitId::new(libc::P_PID, pid as u32, libc::WEXITED).flags(1).build());
    reap_leftover(pid);
    let c = c?;
    ensure!(c.result() == Err(Errno::INVAL), "WAITID with flags 1: {:?}", c.result());
    Ok(())
}

fn files_update_replaces_slots<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let a = file_with(b"from a")?;
    let b = file_with(b"from b")?;
    let mut ring = ctx.ring::<S, C>(8)?;
    // No table: nothing to update.
    let fds = [b.as_raw_fd()];
    let c = one(&mut ring, opcode::FilesUpdate::new(fds.as_ptr(), 1).build())?;
    ensure!(c.result() == Err(Errno::NXIO), "FILES_UPDATE without a table: {:?}", c.result());

    ring.submitter().register_files(&[a.as_raw_fd(), a.as_raw_fd(), -1, -1]).context("register_files")?;
    let c = one(&mut ring, opcode::FilesUpdate::new(fds.as_ptr(), 1).offset(1).build())?;
    ensure!(c.result() == Ok(1), "FILES_UPDATE of slot 1: {:?}", c.result());
    ensure!(read_fixed(&mut ring, 0)? == Ok(b"from a".to_vec()), "slot 0 must still be a");
    ensure!(read_fixed(&mut ring, 1)? == Ok(b"from b".to_vec()), "slot 1 must now be b");

    // -1 empties a slot, -2 (skip) keeps one; the count includes both.
    let fds = [-1, -2];
    let c = one(&mut ring, opcode::FilesUpdate::new(fds.as_ptr(), 2).offset(0).build())?;
    ensure!(c.result() == Ok(2), "FILES_UPDATE [-1, skip]: {:?}", c.result());
    ensure!(read_fixed(&mut ring, 0)? == Err(Errno::BADF), "slot 0 must be empty");
    ensure!(read_fixed(&mut ring, 1)? == Ok(b"from b".to_vec()), "slot 1 must be kept");

    // Past the end of the table.
    let fds = [a.as_raw_fd(), a.as_raw_fd()];
    let c = one(&mut ring, opcode::FilesUpdate::new(fds.as_ptr(), 2).offset(3).build())?;
    ensure!(c.result() == Err(Errno::INVAL), "FILES_UPDATE over the end: {:?}", c.result());

    // offset = FILE_INDEX_ALLOC: the kernel picks free slots and writes them back.
    let mut fds = [a.as_raw_fd()];
    let c = one(&mut ring, opcode::FilesUpdate::new(fds.as_mut_ptr(), 1).offset(-1).build())?;
    ensure!(c.result() == Ok(1), "FILES_UPDATE with ALLOC: {:?}", c.result());
    let slot = fds[0];
    ensure!([0, 2, 3].contains(&slot), "ALLOC picked slot {slot}, not a free one");
    ensure!(read_fixed(&mut ring, slot as u32)? == Ok(b"from a".to_vec()), "allocated slot {slot} must be a");
    Ok(())
}

/// The fd flags (FD_CLOEXEC) of `fd`.
fn fd_flags(fd: i32) -> anyhow::Result<i32> {
    // SAFETY: F_GETFD only reads the fd's flags.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    ensure!(r >= 0, "fcntl(F_GETFD) on {fd}: {}", std::io::Error::last_os_error());
    Ok(r)
}

fn fixed_fd_install_gives_a_regular_fd<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    use rustix::io_uring::IoringFixedFdFlags;
    use std::os::unix::fs::FileExt as _;

    let file = file_with(b"installed")?;
    let mut ring = ctx.ring::<S, C>(8)?;
    ring.submitter().register_files(&[-1, file.as_raw_fd()]).context("register_files")?;

    let c = one(&mut ring, opcode::FixedFdInstall::new(Fixed(1), IoringFixedFdFlags::empty()).build())?;
    let fd = c.result().map_err(|e| anyhow::anyhow!("FIXED_FD_INSTALL: {e}"))? as i32;
    // SAFETY: the kernel just installed `fd` for us; nobody else owns it.
    let installed = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    ensure!(fd != file.as_raw_fd(), "installed fd is the registered one");
    ensure!(fd_flags(fd)? & libc::FD_CLOEXEC != 0, "O_CLOEXEC must be set by default");
    let mut back = [0u8; 16];
    let n = installed.read_at(&mut back, 0)?;
    ensure!(&back[..n] == b"installed", "read through the new fd: {:?}", &back[..n]);

    let c = one(&mut ring, opcode::FixedFdInstall::new(Fixed(1), IoringFixedFdFlags::NO_CLOEXEC).build())?;
    let fd2 = c.result().map_err(|e| anyhow::anyhow!("FIXED_FD_INSTALL NO_CLOEXEC: {e}"))? as i32;
    // SAFETY: as above.
    let installed2 = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd2) });
    ensure!(fd2 != fd, "a second install must give a new fd");
    ensure!(fd_flags(fd2)? & libc::FD_CLOEXEC == 0, "NO_CLOEXEC must clear O_CLOEXEC");
    let n = installed2.read_at(&mut back, 2)?;
    ensure!(&back[..n] == b"stalled", "read through the NO_CLOEXEC fd: {:?}", &back[..n]);

    // Empty and out-of-range slots.
    let c = one(&mut ring, opcode::FixedFdInstall::new(Fixed(0), IoringFixedFdFlags::empty()).build())?;
    ensure!(c.result() == Err(Errno::BADF), "install of an empty slot: {:?}", c.result());
    let c = one(&mut ring, opcode::FixedFdInstall::new(Fixed(2), IoringFixedFdFlags::empty()).build())?;
    ensure!(c.result() == Err(Errno::BADF), "install of slot 2 of 2: {:?}", c.result());
    // An unknown flag bit is refused.
    let c = one(&mut ring, opcode::FixedFdInstall::new(Fixed(1), IoringFixedFdFlags::from_bits_retain(2)).build())?;
    ensure!(c.result() == Err(Errno::INVAL), "install with flag 2: {:?}", c.result());
    Ok(())
}
