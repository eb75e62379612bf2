//! Bad input: operations on closed or wrong-kind fds, out-of-range
//! registered indices, a reused probe, a ring dropped with work in flight,
//! and fork with and without `dontfork`. Each must give a clear error and
//! leave the ring usable.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::{AsRawFd, IntoRawFd};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use urix::types::{iovec, Fd, Fixed, Timespec};
use urix::{cqueue, opcode, squeue, Errno, IoUring, Probe};

use crate::harness::{Ctx, Req, Test};
use crate::util::{nop, one, pipe, tempfile};
use crate::{test, test_once};

const READ: Req = Req::Op(opcode::Read::CODE, "READ");
const WRITE: Req = Req::Op(opcode::Write::CODE, "WRITE");
const ACCEPT: Req = Req::Op(opcode::Accept::CODE, "ACCEPT");
const RECV: Req = Req::Op(opcode::Recv::CODE, "RECV");
const TIMEOUT: Req = Req::Op(opcode::Timeout::CODE, "TIMEOUT");

pub fn tests() -> Vec<Test> {
    vec![
        test!(closed_and_wrong_kind_fds_fail_cleanly, requires = [READ, WRITE, ACCEPT, RECV]),
        test!(registered_indices_out_of_range, requires = [READ]),
        test_once!(probe_reused_gives_the_same_answer),
        test_once!(ring_dropped_with_work_in_flight, requires = [READ, TIMEOUT]),
        test_once!(fork_without_dontfork_shares_the_ring),
        test_once!(fork_with_dontfork_leaves_the_child_no_mapping),
    ]
}

/// Submits `e` and checks that it fails with `want`, then that a NOP still
/// goes through the same ring.
fn fails_with<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    what: &str,
    e: squeue::Entry,
    want: Errno,
) -> anyhow::Result<()> {
    let c = one(ring, e.user_data(1))?;
    ensure!(c.result() == Err(want), "{what}: got {:?}, want {want:?}", c.result());
    let c = one(ring, opcode::Nop::new().build().user_data(2))?;
    ensure!(c.result() == Ok(0) && c.user_data_u64() == 2, "{what}: the ring is not usable after: {c:?}");
    Ok(())
}

fn closed_and_wrong_kind_fds_fail_cleanly<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let mut buf = [0u8; 16];
    let (p, len) = (buf.as_mut_ptr(), buf.len() as u32);
    // A closed fd: open a file and close it again, so the number is free.
    let closed = Fd(tempfile()?.into_raw_fd());
    // SAFETY: we own the fd just taken out of the File; nobody uses it after.
    unsafe { libc::close(closed.0) };
    fails_with(&mut ring, "read of a closed fd", opcode::Read::new(closed, p, len).build(), Errno::BADF)?;
    fails_with(&mut ring, "read of fd -1", opcode::Read::new(Fd(-1), p, len).build(), Errno::BADF)?;
    let dir = File::open("/")?;
    let dir_fd = Fd(dir.as_raw_fd());
    fails_with(&mut ring, "read of a directory", opcode::Read::new(dir_fd, p, len).build(), Errno::ISDIR)?;
    let ro = File::open("/proc/self/exe")?;
    let ro_fd = Fd(ro.as_raw_fd());
    let w = opcode::Write::new(ro_fd, p, len).offset(0).build();
    fails_with(&mut ring, "write to a read-only fd", w, Errno::BADF)?;
    let file = tempfile()?;
    let file_fd = Fd(file.as_raw_fd());
    let accept = opcode::Accept::new(file_fd, std::ptr::null_mut(), std::ptr::null_mut()).build();
    fails_with(&mut ring, "accept on a regular file", accept, Errno::NOTSOCK)?;
    let (rx, _tx) = pipe()?;
    let recv = opcode::Recv::new(Fd(rx.as_raw_fd()), p, len).build();
    fails_with(&mut ring, "recv from a pipe", recv, Errno::NOTSOCK)?;
    let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    let accept = opcode::Accept::new(Fd(udp.as_raw_fd()), std::ptr::null_mut(), std::ptr::null_mut()).build();
    fails_with(&mut ring, "accept on a UDP socket", accept, Errno::OPNOTSUPP)?;
    ensure!(buf == [0u8; 16], "a failed operation wrote into the buffer");
    Ok(())
}

fn registered_indices_out_of_range<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    // Declared before the ring, so dropped after it.
    let mut bufs = vec![0u8; 2 * 4096];
    let mut ring = ctx.ring::<S, C>(8)?;
    let mut buf = [0u8; 16];
    let (p, len) = (buf.as_mut_ptr(), buf.len() as u32);
    // Every read below fails before it touches `buf`, or reads 0 bytes.
    // No table at all.
    let r = opcode::Read::new(Fixed(0), p, len).build();
    fails_with(&mut ring, "fixed file 0 without a table", r, Errno::BADF)?;
    let rb = opcode::ReadFixed::new(Fd(0), p, len, 0).build();
    fails_with(&mut ring, "fixed buffer 0 without a table", rb, Errno::FAULT)?;
    // A table of 4 files.
    let file = tempfile()?;
    ring.submitter().register_files(&[file.as_raw_fd(); 4]).context("register_files")?;
    for index in [4, 5, 1000, u32::MAX] {
        let r = opcode::Read::new(Fixed(index), p, len).build();
        fails_with(&mut ring, &format!("fixed file {index} of 4"), r, Errno::BADF)?;
    }
    let r = opcode::Read::new(Fixed(3), p, len).offset(0).build();
    let c = one(&mut ring, r.user_data(3))?;
    ensure!(c.result() == Ok(0), "fixed file 3 (empty file): {:?}", c.result());
    // A table of 2 buffers.
    let iov: Vec<iovec> =
        bufs.chunks_mut(4096).map(|b| iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() }).collect();
    // SAFETY: `bufs` is declared before the ring, so it outlives it.
    unsafe { ring.submitter().register_buffers(&iov) }.context("register_buffers")?;
    let fd = Fd(file.as_raw_fd());
    for index in [2u16, 100, u16::MAX] {
        let rb = opcode::ReadFixed::new(fd, bufs.as_mut_ptr(), 16, index).build();
        fails_with(&mut ring, &format!("fixed buffer {index} of 2"), rb, Errno::FAULT)?;
    }
    // Inside buffer 1's table slot but outside its memory.
    let outside = bufs.as_mut_ptr().wrapping_add(2 * 4096);
    let rb = opcode::ReadFixed::new(fd, outside, 16, 1).build();
    fails_with(&mut ring, "fixed buffer 1, address past its end", rb, Errno::FAULT)?;
    ring.submitter().unregister_buffers().context("unregister_buffers")?;
    Ok(())
}

fn probe_reused_gives_the_same_answer(_: &Ctx) -> anyhow::Result<()> {
    let ring = IoUring::new(8)?;
    let mut probe = Probe::new();
    ring.submitter().register_probe(&mut probe).context("first probe")?;
    let first: Vec<u8> = (0..=255u8).filter(|&op| probe.is_supported(op)).collect();
    ensure!(first.contains(&opcode::Nop::CODE), "NOP not in the first probe");
    // The kernel refuses a probe buffer that is not zeroed; the call must
    // clear it, so the same Probe works again with the same answer.
    ring.submitter().register_probe(&mut probe).context("second probe into the same buffer")?;
    let second: Vec<u8> = (0..=255u8).filter(|&op| probe.is_supported(op)).collect();
    ensure!(first == second, "the reused probe answered differently");
    Ok(())
}

fn ring_dropped_with_work_in_flight(_: &Ctx) -> anyhow::Result<()> {
    let (mut rx, mut tx) = pipe()?;
    let mut buf = vec![0u8; 64];
    let ts = Timespec::new().sec(3600);
    let start = Instant::now();
    {
        let mut ring = IoUring::new(8)?;
        let read = opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), buf.len() as u32).build().user_data(1);
        let timeout = opcode::Timeout::new(&ts).build().user_data(2);
        // SAFETY: `buf`, `ts` and the pipe outlive the ring, which is
        // dropped at the end of this block with both still in flight.
        unsafe { ring.submission().push_multiple(&[read, timeout]) }.map_err(|_| anyhow::anyhow!("SQ full"))?;
        ring.submit()?;
        ensure!(ring.completion().is_empty(), "the read or the hour-long timeout completed at once");
    }
    ensure!(start.elapsed() < Duration::from_secs(600), "dropping the ring took {:?}", start.elapsed());
    // The dropped ring's read must be gone: what we write now stays in the
    // pipe for an ordinary read, and the old buffer stays untouched.
    std::thread::sleep(Duration::from_millis(20));
    tx.write_all(b"after the ring")?;
    let mut got = [0u8; 14];
    rx.read_exact(&mut got)?;
    ensure!(&got == b"after the ring", "the pipe lost data to a dropped ring: {got:?}");
    ensure!(buf.iter().all(|&b| b == 0), "the dropped ring's read wrote into its buffer");
    Ok(())
}

/// Runs `child` in a forked child and returns its exit status. The child
/// does nothing but `child` and `_exit`: the harness has other threads, so
/// it must not allocate or take locks.
fn in_child(child: impl FnOnce() -> i32) -> anyhow::Result<i32> {
    // SAFETY: the child only runs `child`, which keeps to system calls and
    // the ring's memory, then `_exit`s without running destructors.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => bail!("fork: {}", std::io::Error::last_os_error()),
        0 => {
            let code = child();
            // SAFETY: ends the child at once, as fork requires.
            unsafe { libc::_exit(code) }
        }
        pid => {
            let mut status = 0;
            // SAFETY: waits for the child we just made.
            ensure!(unsafe { libc::waitpid(pid, &mut status, 0) } == pid, "waitpid");
            ensure!(libc::WIFEXITED(status), "child did not exit normally (status {status:#x})");
            Ok(libc::WEXITSTATUS(status))
        }
    }
}

/// Counts the io_uring mappings in /proc/self/maps, with a stack buffer
/// only (safe in a forked child); -1 if the file cannot be read.
fn io_uring_mappings() -> i32 {
    let mut buf = [0u8; 1 << 16];
    let path = b"/proc/self/maps\0";
    // SAFETY: a NUL-terminated path; read into a stack buffer of its size.
    let fd = unsafe { libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return -1;
    }
    let mut len = 0usize;
    loop {
        // SAFETY: writes at most the free part of `buf`.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().add(len).cast(), buf.len() - len) };
        if n <= 0 {
            break;
        }
        len += n as usize;
        if len == buf.len() {
            break;
        }
    }
    // SAFETY: closes the fd opened above.
    unsafe { libc::close(fd) };
    // No allocation: `windows` borrows the stack buffer.
    buf[..len].windows(8).filter(|w| w == b"io_uring").count() as i32
}

fn fork_without_dontfork_shares_the_ring(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = IoUring::new(8)?;
    ensure!(io_uring_mappings() > 0, "no io_uring mapping in the parent");
    // The child inherits fd and mappings, and drives the same ring.
    let code = in_child(|| {
        if io_uring_mappings() <= 0 {
            return 10;
        }
        // SAFETY: a NOP names no memory.
        if unsafe { ring.submission().push(&nop::<squeue::Entry>(77)) }.is_err() {
            return 11;
        }
        if ring.submit_and_wait(1).is_err() {
            return 12;
        }
        match ring.completion().next() {
            Some(c) if c.user_data_u64() == 77 && c.result() == Ok(0) => 0,
            _ => 13,
        }
    })?;
    ensure!(code == 0, "the child could not use the inherited ring (code {code})");
    // The child consumed its completion; the parent's ring goes on.
    ensure!(ring.completion().is_empty(), "the child's completion is still in the CQ");
    let c = one(&mut ring, opcode::Nop::new().build().user_data(78))?;
    ensure!(c.user_data_u64() == 78 && c.result() == Ok(0), "parent after fork: {c:?}");
    Ok(())
}

fn fork_with_dontfork_leaves_the_child_no_mapping(_: &Ctx) -> anyhow::Result<()> {
    let mut ring: IoUring = IoUring::builder().dontfork().build(8)?;
    let before = io_uring_mappings();
    ensure!(before > 0, "no io_uring mapping in the parent");
    // The child must see none: its copy of the ring would be unmapped memory.
    let code = in_child(|| if io_uring_mappings() == 0 { 0 } else { 20 })?;
    ensure!(code == 0, "the child still has io_uring mappings (code {code})");
    ensure!(io_uring_mappings() == before, "the parent lost mappings");
    let c = one(&mut ring, opcode::Nop::new().build().user_data(79))?;
    ensure!(c.user_data_u64() == 79 && c.result() == Ok(0), "parent after fork: {c:?}");
    Ok(())
}
