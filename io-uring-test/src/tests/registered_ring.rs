//! Registering resources with a ring that has no fd: a `RegisteredRing`
//! (`IORING_SETUP_REGISTERED_FD_ONLY`, 6.5) whose `register_*` calls reach
//! it through its index (`IORING_REGISTER_USE_REGISTERED_RING`, 6.3).
//! Each test checks what the kernel did with the resource: bytes moved
//! through a fixed file or a registered buffer, an eventfd's count, the
//! buffer a receive picked. That the calls needing an fd are not offered
//! is checked at compile time (the `compile_fail` examples on
//! `urix::ring::RegisteredSubmitter`).

use std::io::{Read as _, Write as _};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt as _;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context};
use urix::ring::RegisteredRing;
use urix::types::{iovec, Fd, Fixed, SubmitArgs, Timespec};
use urix::{cqueue, opcode, squeue, Errno, IoUring};

use super::register::{eventfd, eventfd_take};
use crate::harness::{reg, setup, Ctx, Req, Test};
use crate::test_once;
use crate::util::{needs_kernel, one, page_size, pipe, tempfile, BufRing, Pages};

const NOP: Req = Req::Op(opcode::Nop::CODE, "NOP");
const READ: Req = Req::Op(opcode::Read::CODE, "READ");
const WRITE: Req = Req::Op(opcode::Write::CODE, "WRITE");
const READ_FIXED: Req = Req::Op(opcode::ReadFixed::CODE, "READ_FIXED");
const WRITE_FIXED: Req = Req::Op(opcode::WriteFixed::CODE, "WRITE_FIXED");
const TIMEOUT: Req = Req::Op(opcode::Timeout::CODE, "TIMEOUT");
const RECV: Req = Req::Op(opcode::Recv::CODE, "RECV");
const FD_ONLY: Req = setup::REGISTERED_FD_ONLY;
const NO_MMAP: Req = setup::NO_MMAP;

pub fn tests() -> Vec<Test> {
    vec![
        test_once!(
            registered_ring_registers_files,
            requires = [
                READ,
                WRITE,
                FD_ONLY,
                NO_MMAP,
                reg::FILES,
                reg::UNREGISTER_FILES,
                reg::RING_FDS,
                reg::UNREGISTER_RING_FDS
            ]
        ),
        test_once!(
            registered_ring_registers_buffers,
            requires = [READ_FIXED, WRITE_FIXED, FD_ONLY, NO_MMAP, reg::BUFFERS, reg::UNREGISTER_BUFFERS]
        ),
        test_once!(
            registered_ring_registers_an_eventfd,
            requires = [NOP, FD_ONLY, NO_MMAP, reg::EVENTFD, reg::UNREGISTER_EVENTFD]
        ),
        test_once!(
            registered_ring_registers_a_buffer_ring,
            requires = [RECV, FD_ONLY, NO_MMAP, reg::PBUF_RING, reg::UNREGISTER_PBUF_RING]
        ),
        test_once!(
            registered_ring_probes_and_registers_a_personality,
            requires = [NOP, FD_ONLY, NO_MMAP, reg::PROBE, reg::PERSONALITY, reg::UNREGISTER_PERSONALITY]
        ),
        test_once!(registered_ring_waits_with_args, requires = [NOP, TIMEOUT, FD_ONLY, NO_MMAP]),
    ]
}

/// A 64-byte-entry `RegisteredRing` of `entries` slots; skips before 6.5.
fn registered_ring(entries: u32) -> anyhow::Result<RegisteredRing> {
    needs_kernel(6, 5, "IORING_SETUP_REGISTERED_FD_ONLY")?;
    IoUring::<squeue::Entry, cqueue::Entry>::builder()
        .build_registered_fd_only(entries)
        .context("REGISTERED_FD_ONLY setup")
}

/// Pushes `e`, submits it and waits for its completion. Used only for
/// operations that complete at once (data already there, room in the
/// pipe, an error); the harness watchdog ends a run that hangs.
///
/// # Safety
/// The memory `e` names stays valid until it completes (it has when this
/// returns `Ok`).
unsafe fn run(ring: &mut RegisteredRing, e: &squeue::Entry) -> anyhow::Result<cqueue::Entry> {
    // SAFETY: the caller's promise.
    unsafe { ring.submission().push(e) }.map_err(|_| anyhow!("SQ full"))?;
    let n = ring.submit_and_wait(1).context("submit_and_wait(1) through the index")?;
    ensure!(n == 1, "the kernel took {n} entries, expected 1");
    ring.completion().next().context("no completion after waiting for one")
}

/// Files registered through the index are the ring's fixed files: a write
/// through slot 1 (a pipe's write end) comes out of the pipe, a read
/// through slot 0 (its read end) gets what was written to it. Another
/// ring whose fd is registered in the same thread's table (so that its
/// index and ours differ) gets no file table. After `unregister_files`
/// the fixed write fails with `EBADF`, and a second unregister `ENXIO`.
fn registered_ring_registers_files(_: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 5, "IORING_SETUP_REGISTERED_FD_ONLY")?;
    let mut other = IoUring::new(4)?;
    other.submitter().register_ring_fd().context("register_ring_fd on the other ring")?;
    let r = files_through_the_index(&mut other);
    // Unregistered whatever happened: the table keeps a ring alive until
    // the thread exits.
    let u = other.submitter().unregister_ring_fd();
    r?;
    u.context("unregister_ring_fd on the other ring")
}

fn files_through_the_index(other: &mut IoUring) -> anyhow::Result<()> {
    let (mut rd, mut wr) = pipe()?;
    let mut ring = registered_ring(8)?;
    let other_index = other.submitter().registered_ring_index().context("the other ring's index")?;
    ensure!(ring.index() != other_index, "two rings at index {other_index}");
    ring.submitter().register_files(&[rd.as_raw_fd(), wr.as_raw_fd()]).context("register_files through the index")?;

    let msg = b"out through fixed slot 1";
    let write1 = opcode::Write::new(Fixed(1), msg.as_ptr(), msg.len() as u32).build().user_data(1);
    // SAFETY: `msg` outlives the write, which has completed when `run` returns.
    let c = unsafe { run(&mut ring, &write1) }?;
    ensure!(c.result() == Ok(msg.len() as u32), "write through Fixed(1): {c:?}");
    let mut got = vec![0u8; msg.len()];
    rd.read_exact(&mut got)?;
    ensure!(got == msg, "the pipe gave {:?}", String::from_utf8_lossy(&got));

    let back = b"in through fixed slot 0";
    wr.write_all(back)?;
    let mut buf = [0u8; 64];
    let read0 = opcode::Read::new(Fixed(0), buf.as_mut_ptr(), buf.len() as u32).build().user_data(2);
    // SAFETY: `buf` outlives the read, which has completed when `run` returns.
    let c = unsafe { run(&mut ring, &read0) }?;
    ensure!(c.result() == Ok(back.len() as u32), "read through Fixed(0): {c:?}");
    ensure!(&buf[..back.len()] == back, "read {:?}", String::from_utf8_lossy(&buf[..back.len()]));

    // The other ring has no files: the same write fails there at once
    // (where a table, if the files had gone there, would let it through).
    let c = one(other, opcode::Write::new(Fixed(1), msg.as_ptr(), msg.len() as u32).build().user_data(3))?;
    ensure!(c.result() == Err(Errno::BADF), "the other ring wrote through Fixed(1): {c:?}");

    ring.submitter().unregister_files().context("unregister_files through the index")?;
    // SAFETY: as above.
    let c = unsafe { run(&mut ring, &write1) }?;
    ensure!(c.result() == Err(Errno::BADF), "write through Fixed(1) after unregister_files: {c:?}");
    let again = ring.submitter().unregister_files();
    ensure!(again == Err(Errno::NXIO), "second unregister_files: {again:?}, expected ENXIO");
    ring.close().context("close")?;
    Ok(())
}

/// Buffers registered through the index: `ReadFixed` brings a file's
/// bytes into buffer 0, `WriteFixed` writes buffer 1's into the file
/// (read back with `pread`); after `unregister_buffers` a fixed read has
/// no buffer (`EFAULT`).
fn registered_ring_registers_buffers(_: &Ctx) -> anyhow::Result<()> {
    let page = page_size();
    // Made before the ring, so it outlives the registration.
    let mut mem = Pages::new(2 * page)?;
    let mut file = tempfile()?;
    let first: Vec<u8> = (0..page).map(|i| (i * 7 % 251) as u8).collect();
    let second: Vec<u8> = (0..page).map(|i| (i * 13 % 241 + 1) as u8).collect();
    file.write_all(&first)?;
    let mut ring = registered_ring(8)?;
    let bufs = [
        iovec { iov_base: mem.ptr.cast(), iov_len: page },
        iovec { iov_base: mem.ptr.wrapping_add(page).cast(), iov_len: page },
    ];
    // SAFETY: `mem` stays mapped while the buffers are registered (it was
    // made before the ring, so it is dropped after it).
    unsafe { ring.submitter().register_buffers(&bufs) }.context("register_buffers through the index")?;

    let fd = Fd(file.as_raw_fd());
    let read = opcode::ReadFixed::new(fd, mem.ptr, page as u32, 0).offset(0).build().user_data(1);
    // SAFETY: buffer 0 is registered memory that outlives the read.
    let c = unsafe { run(&mut ring, &read) }?;
    ensure!(c.result() == Ok(page as u32), "ReadFixed into buffer 0: {c:?}");
    ensure!(mem.bytes()[..page] == first[..], "buffer 0 does not hold the file's bytes");

    mem.bytes()[page..].copy_from_slice(&second);
    let write = opcode::WriteFixed::new(fd, mem.ptr.wrapping_add(page), page as u32, 1)
        .offset(page as u64)
        .build()
        .user_data(2);
    // SAFETY: buffer 1 is registered memory that outlives the write.
    let c = unsafe { run(&mut ring, &write) }?;
    ensure!(c.result() == Ok(page as u32), "WriteFixed from buffer 1: {c:?}");
    let mut on_disk = vec![0u8; page];
    file.read_exact_at(&mut on_disk, page as u64)?;
    ensure!(on_disk == second, "the file's second page is not buffer 1's bytes");

    ring.submitter().unregister_buffers().context("unregister_buffers through the index")?;
    // SAFETY: as above; the kernel refuses it before touching memory.
    let c = unsafe { run(&mut ring, &read) }?;
    ensure!(c.result() == Err(Errno::FAULT), "ReadFixed after unregister_buffers: {c:?}");
    ring.close().context("close")?;
    Ok(())
}

/// An eventfd registered through the index counts the ring's
/// completions, one per completion submitted and reaped alone; after
/// `unregister_eventfd` it counts none, and a second unregister is `ENXIO`.
fn registered_ring_registers_an_eventfd(_: &Ctx) -> anyhow::Result<()> {
    let efd = eventfd()?;
    let mut ring = registered_ring(8)?;
    ring.submitter().register_eventfd(efd.as_raw_fd()).context("register_eventfd through the index")?;
    ensure!(eventfd_take(&efd) == 0, "signalled before any completion");
    for ud in 1..=3u64 {
        // SAFETY: a NOP names no memory.
        let c = unsafe { run(&mut ring, &opcode::Nop::new().build().user_data(ud)) }?;
        ensure!(c.user_data_u64() == ud && c.result() == Ok(0), "NOP {ud}: {c:?}");
    }
    let n = eventfd_take(&efd);
    ensure!(n == 3, "the eventfd counted {n} for 3 separate completions");
    ring.submitter().unregister_eventfd().context("unregister_eventfd through the index")?;
    // SAFETY: as above.
    unsafe { run(&mut ring, &opcode::Nop::new().build().user_data(4)) }?;
    ensure!(eventfd_take(&efd) == 0, "signalled after unregister_eventfd");
    let again = ring.submitter().unregister_eventfd();
    ensure!(again == Err(Errno::NXIO), "second unregister_eventfd: {again:?}, expected ENXIO");
    ring.close().context("close")?;
    Ok(())
}

/// A provided-buffer ring registered through the index feeds a receive
/// with buffer select: only buffer 2 is provided, and the completion
/// names it, with the sent bytes in it. After `unregister_buf_ring` the
/// group is gone: the next receive fails with `ENOBUFS`.
fn registered_ring_registers_a_buffer_ring(_: &Ctx) -> anyhow::Result<()> {
    const BGID: u16 = 5;
    // Made before the ring, so it outlives the registration.
    let mut bufs = BufRing::new(4, 64)?;
    let (mut tx, rx) = UnixStream::pair()?;
    let mut ring = registered_ring(8)?;
    bufs.register_through(&ring.submitter(), BGID)?;
    bufs.provide(2);
    let msg = b"into the buffer the kernel picked";
    tx.write_all(msg)?;
    let recv = opcode::Recv::new(Fd(rx.as_raw_fd()), std::ptr::null_mut(), 0)
        .buf_group(BGID)
        .build()
        .flags(squeue::Flags::BUFFER_SELECT)
        .user_data(1);
    // SAFETY: the receive writes into the buffer ring's memory, which
    // outlives the ring.
    let c = unsafe { run(&mut ring, &recv) }?;
    ensure!(c.result() == Ok(msg.len() as u32), "recv with buffer select: {c:?}");
    let bid = cqueue::buffer_select(c.flags()).context("the completion names no buffer")?;
    ensure!(bid == 2, "the kernel picked buffer {bid}, and only 2 was provided");
    ensure!(&bufs.buf(2)[..msg.len()] == msg, "buffer 2 holds {:?}", String::from_utf8_lossy(&bufs.buf(2)));

    ring.submitter().unregister_buf_ring(BGID).context("unregister_buf_ring through the index")?;
    tx.write_all(msg)?;
    // SAFETY: as above; with the group gone the kernel picks nothing.
    let c = unsafe { run(&mut ring, &recv) }?;
    ensure!(c.result() == Err(Errno::NOBUFS), "recv after unregister_buf_ring: {c:?}");
    ring.close().context("close")?;
    Ok(())
}

/// The probe through the index is the kernel's (it names the same
/// opcodes as the harness's probe of an fd ring); a personality
/// registered through it works for a NOP and goes away on unregister
/// (then a NOP naming it fails with `EINVAL`, and so does a second
/// unregister).
fn registered_ring_probes_and_registers_a_personality(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = registered_ring(8)?;
    let mut probe = urix::Probe::new();
    ring.submitter().register_probe(&mut probe).context("register_probe through the index")?;
    let ours: Vec<u8> = probe.supported().collect();
    let theirs: Vec<u8> = ctx.probe.supported().collect();
    ensure!(!ours.is_empty() && ours == theirs, "probe through the index {ours:?}, through an fd {theirs:?}");

    let id = ring.submitter().register_personality().context("register_personality through the index")?;
    ensure!(id > 0, "personality id {id}");
    let nop = opcode::Nop::new().build().personality(id).user_data(1);
    // SAFETY: a NOP names no memory.
    let c = unsafe { run(&mut ring, &nop) }?;
    ensure!(c.result() == Ok(0), "NOP with personality {id}: {c:?}");
    ring.submitter().unregister_personality(id).context("unregister_personality through the index")?;
    // SAFETY: as above.
    let c = unsafe { run(&mut ring, &nop) }?;
    ensure!(c.result() == Err(Errno::INVAL), "NOP with unregistered personality {id}: {c:?}");
    let again = ring.submitter().unregister_personality(id);
    ensure!(again == Err(Errno::INVAL), "second unregister_personality: {again:?}, expected EINVAL");
    ring.close().context("close")?;
    Ok(())
}

/// `submit_with_args` through the index (`IORING_ENTER_EXT_ARG` with
/// `IORING_ENTER_REGISTERED_RING`): with nothing to complete, a 20 ms
/// timeout ends the wait with `ETIME`, not before 15 ms; a NOP pushed
/// first is submitted by the same call and its completion ends the wait;
/// a 10 ms timeout operation is waited for under a 60 s wait timeout and
/// completes with its own `ETIME`.
fn registered_ring_waits_with_args(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = registered_ring(8)?;
    let short = Timespec::new().nsec(20_000_000);
    let long = Timespec::new().sec(60);
    let start = Instant::now();
    let r = ring.submitter().submit_with_args(1, &SubmitArgs::new().timespec(&short));
    ensure!(r == Err(Errno::TIME), "a wait with nothing to complete returned {r:?}, expected ETIME");
    ensure!(start.elapsed() >= Duration::from_millis(15), "the 20 ms wait ended after {:?}", start.elapsed());

    // SAFETY: a NOP names no memory.
    unsafe { ring.submission().push(&opcode::Nop::new().build().user_data(5)) }.map_err(|_| anyhow!("SQ full"))?;
    let n = ring.submitter().submit_with_args(1, &SubmitArgs::new().timespec(&long)).context("NOP with args")?;
    ensure!(n == 1, "the kernel took {n} entries, expected the NOP");
    let c = ring.completion().next().context("no completion after the wait")?;
    ensure!(c.user_data_u64() == 5 && c.result() == Ok(0), "NOP: {c:?}");

    let ten_ms = Timespec::new().nsec(10_000_000);
    let t = opcode::Timeout::new(&ten_ms).build().user_data(6);
    let start = Instant::now();
    // SAFETY: `ten_ms` outlives the timeout, which completes before the
    // wait below returns Ok.
    unsafe { ring.submission().push(&t) }.map_err(|_| anyhow!("SQ full"))?;
    let n = ring.submitter().submit_with_args(1, &SubmitArgs::new().timespec(&long)).context("timeout with args")?;
    ensure!(n == 1, "the kernel took {n} entries, expected the timeout");
    let c = ring.completion().next().context("the wait returned before the timeout completed")?;
    ensure!(c.user_data_u64() == 6 && c.result() == Err(Errno::TIME), "timeout: {c:?}");
    ensure!(start.elapsed() >= Duration::from_millis(10), "the 10 ms timeout completed after {:?}", start.elapsed());
    ring.close().context("unregistering the ring")?;
    Ok(())
}
