//! Tests of `src/opcode/rw.rs` on the kernel: plain, vectored,
//! registered-buffer and multishot reads and writes.

use std::io::{Read as _, Seek, SeekFrom, Write as _};
use std::os::fd::AsRawFd;

use anyhow::{ensure, Context};
use urix::types::{iovec, Fd, Fixed};
use urix::{cqueue, opcode, squeue, Errno, IoUring};

use crate::harness::{reg, Ctx, Req, Test};
use crate::test;
use crate::util::{pipe, push_all, reap, tempfile, BufRing, Pages};

pub fn tests() -> Vec<Test> {
    vec![
        test!(
            write_then_read_pipe,
            requires = [Req::Op(opcode::Write::CODE, "WRITE"), Req::Op(opcode::Read::CODE, "READ")]
        ),
        test!(
            write_read_file_at_offsets,
            requires = [Req::Op(opcode::Write::CODE, "WRITE"), Req::Op(opcode::Read::CODE, "READ")]
        ),
        test!(
            write_read_fixed_files,
            requires = [Req::Op(opcode::Write::CODE, "WRITE"), Req::Op(opcode::Read::CODE, "READ"), reg::FILES]
        ),
        test!(
            writev_readv_scatter_at_offset,
            requires = [Req::Op(opcode::Writev::CODE, "WRITEV"), Req::Op(opcode::Readv::CODE, "READV")]
        ),
        test!(
            write_read_fixed_buffers,
            requires = [
                Req::Op(opcode::WriteFixed::CODE, "WRITE_FIXED"),
                Req::Op(opcode::ReadFixed::CODE, "READ_FIXED"),
                reg::BUFFERS,
                reg::FILES
            ]
        ),
        test!(
            writev_readv_fixed_buffers,
            requires = [
                Req::Op(opcode::WritevFixed::CODE, "WRITEV_FIXED"),
                Req::Op(opcode::ReadvFixed::CODE, "READV_FIXED"),
                reg::BUFFERS
            ]
        ),
        test!(read_multi_from_pipe, requires = [Req::Op(opcode::ReadMulti::CODE, "READ_MULTISHOT"), reg::FILES]),
        test!(read_multi_errors, requires = [Req::Op(opcode::ReadMulti::CODE, "READ_MULTISHOT")]),
    ]
}

fn write_then_read_pipe<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (rx, tx) = pipe()?;
    let msg = b"through the ring and back";
    let mut back = [0u8; 64];
    let w = opcode::Write::new(Fd(tx.as_raw_fd()), msg.as_ptr(), msg.len() as u32).build().user_data(1);
    let r = opcode::Read::new(Fd(rx.as_raw_fd()), back.as_mut_ptr(), back.len() as u32).build().user_data(2);
    push_all(&mut ring, &[S::from(w.flags(squeue::Flags::IO_LINK)), S::from(r)])?;
    let got = reap(&mut ring, 2)?;
    for c in &got {
        ensure!(c.result() == Ok(msg.len() as u32), "user_data {}: result {:?}", c.user_data_u64(), c.result());
    }
    ensure!(&back[..msg.len()] == msg, "read back {:?}", &back[..msg.len()]);
    // A read into a short buffer returns the short count; the rest stays in the pipe.
    (&tx).write_all(b"0123456789")?;
    let mut short = [0u8; 4];
    let r = opcode::Read::new(Fd(rx.as_raw_fd()), short.as_mut_ptr(), 4).build().user_data(3);
    push_all(&mut ring, &[S::from(r)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Ok(4) && &short == b"0123", "short read: {:?} {short:?}", got[0].result());
    let mut rest = [0u8; 6];
    (&rx).read_exact(&mut rest)?;
    ensure!(&rest == b"456789", "pipe kept {rest:?}");
    // A bad fd fails in the CQE, not in the submit.
    let r = opcode::Read::new(Fd(-5), short.as_mut_ptr(), 4).build().user_data(4);
    push_all(&mut ring, &[S::from(r)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Err(urix::Errno::BADF), "bad fd: {:?}", got[0].result());
    Ok(())
}

fn write_read_file_at_offsets<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let mut file = tempfile()?;
    let data: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 3) as u8).collect();
    let w = opcode::Write::new(Fd(file.as_raw_fd()), data.as_ptr(), 4096).offset(100).build().user_data(1);
    let w2 = opcode::Write::new(Fd(file.as_raw_fd()), data[4096..].as_ptr(), 4096).offset(4196).build().user_data(2);
    push_all(&mut ring, &[S::from(w), S::from(w2)])?;
    for c in reap(&mut ring, 2)? {
        ensure!(c.result() == Ok(4096), "write {}: {:?}", c.user_data_u64(), c.result());
    }
    let mut on_disk = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_end(&mut on_disk)?;
    ensure!(on_disk.len() == 100 + 8192, "file is {} bytes", on_disk.len());
    ensure!(on_disk[..100].iter().all(|&b| b == 0) && on_disk[100..] == data[..], "file content differs");
    let mut back = vec![0u8; 300];
    let r = opcode::Read::new(Fd(file.as_raw_fd()), back.as_mut_ptr(), 300).offset(8192).build().user_data(3);
    push_all(&mut ring, &[S::from(r)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Ok(100), "read past the end returned {:?}", got[0].result());
    ensure!(back[..100] == data[8092..], "read content differs");
    Ok(())
}

/// Submits one entry and returns its completion.
fn one<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    e: squeue::Entry,
) -> anyhow::Result<cqueue::Entry> {
    push_all(ring, &[S::from(e)])?;
    let mut got = reap(ring, 1)?;
    got.pop().context("no completion")
}

/// The whole content of `file`, read with std.
fn contents(file: &mut std::fs::File) -> anyhow::Result<Vec<u8>> {
    let mut v = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_end(&mut v)?;
    Ok(v)
}

/// `n` bytes of a pattern that differs from its own shifts.
fn pattern(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32).map(|i| (i.wrapping_mul(31).wrapping_add(seed) % 251) as u8).collect()
}

fn iov(buf: &[u8]) -> iovec {
    iovec { iov_base: buf.as_ptr() as *mut _, iov_len: buf.len() }
}

fn write_read_fixed_files<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let mut file = tempfile()?;
    let (rx, tx) = pipe()?;
    ring.submitter().register_files(&[file.as_raw_fd(), rx.as_raw_fd(), tx.as_raw_fd()])?;
    let data = pattern(3000, 1);
    let c = one(&mut ring, opcode::Write::new(Fixed(0), data.as_ptr(), 3000).offset(10).build())?;
    ensure!(c.result() == Ok(3000), "fixed write: {:?}", c.result());
    let disk = contents(&mut file)?;
    ensure!(disk.len() == 3010 && disk[..10] == [0; 10] && disk[10..] == data[..], "file content differs");
    let mut back = vec![0u8; 100];
    let c = one(&mut ring, opcode::Read::new(Fixed(0), back.as_mut_ptr(), 100).offset(2000).build())?;
    ensure!(c.result() == Ok(100) && back[..] == data[1990..2090], "fixed read: {:?}", c.result());
    // Through the registered pipe ends: write into slot 2, read from slot 1.
    let w = opcode::Write::new(Fixed(2), b"fixed pipe".as_ptr(), 10).build().user_data(1);
    let r = opcode::Read::new(Fixed(1), back.as_mut_ptr(), 100).build().user_data(2);
    push_all(&mut ring, &[S::from(w.flags(squeue::Flags::IO_LINK)), S::from(r)])?;
    for c in reap(&mut ring, 2)? {
        ensure!(c.result() == Ok(10), "pipe op {}: {:?}", c.user_data_u64(), c.result());
    }
    ensure!(&back[..10] == b"fixed pipe", "pipe gave {:?}", &back[..10]);
    // An index past the table fails with EBADF.
    let c = one(&mut ring, opcode::Read::new(Fixed(3), back.as_mut_ptr(), 1).build())?;
    ensure!(c.result() == Err(Errno::BADF), "slot past the table: {:?}", c.result());
    Ok(())
}

fn writev_readv_scatter_at_offset<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let mut file = tempfile()?;
    let (a, b, c) = (pattern(100, 1), pattern(1, 2), pattern(4000, 3));
    let iovs = [iov(&a), iov(&b), iov(&[]), iov(&c)];
    let e = opcode::Writev::new(Fd(file.as_raw_fd()), iovs.as_ptr(), 4).offset(50).build();
    let cqe = one(&mut ring, e)?;
    ensure!(cqe.result() == Ok(4101), "writev: {:?}", cqe.result());
    let all: Vec<u8> = [&a[..], &b[..], &c[..]].concat();
    let disk = contents(&mut file)?;
    ensure!(disk.len() == 4151 && disk[..50] == [0; 50] && disk[50..] == all[..], "file content differs");
    // Scatter back from offset 53 into three buffers of other sizes.
    let (mut x, mut y, mut z) = (vec![0u8; 7], vec![0u8; 2000], vec![0u8; 93]);
    let iovs = [
        iovec { iov_base: x.as_mut_ptr().cast(), iov_len: 7 },
        iovec { iov_base: y.as_mut_ptr().cast(), iov_len: 2000 },
        iovec { iov_base: z.as_mut_ptr().cast(), iov_len: 93 },
    ];
    let e = opcode::Readv::new(Fd(file.as_raw_fd()), iovs.as_ptr(), 3).offset(53).build();
    let cqe = one(&mut ring, e)?;
    ensure!(cqe.result() == Ok(2100), "readv: {:?}", cqe.result());
    ensure!(x[..] == all[3..10] && y[..] == all[10..2010] && z[..] == all[2010..2103], "scattered data differs");
    // Near the end of the file the read is short: only the first iovec and part of the second.
    let e = opcode::Readv::new(Fd(file.as_raw_fd()), iovs.as_ptr(), 3).offset(4141).build();
    let cqe = one(&mut ring, e)?;
    ensure!(cqe.result() == Ok(10), "short readv: {:?}", cqe.result());
    ensure!(x[..] == all[4091..4098] && y[..3] == all[4098..4101], "short scatter differs");
    // The file position was not used: a plain std read still starts at 0.
    let mut first = [0u8; 4];
    file.seek(SeekFrom::Start(0))?;
    file.read_exact(&mut first)?;
    ensure!(first == [0; 4], "file start changed");
    let e = opcode::Writev::new(Fd(-1), iovs.as_ptr(), 3).build();
    let cqe = one(&mut ring, e)?;
    ensure!(cqe.result() == Err(Errno::BADF), "writev on fd -1: {:?}", cqe.result());
    Ok(())
}

fn write_read_fixed_buffers<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut mem = Pages::new(8192)?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let mut file = tempfile()?;
    let data = pattern(4096, 9);
    mem.bytes()[4096..].copy_from_slice(&data);
    let base = mem.ptr;
    let bufs = [
        iovec { iov_base: base.cast(), iov_len: 4096 },
        iovec { iov_base: base.wrapping_add(4096).cast(), iov_len: 4096 },
    ];
    // SAFETY: the mapping outlives the ring (declared before it).
    unsafe { ring.submitter().register_buffers(&bufs)? };
    // The whole of buffer 1, then a sub-range of it at another offset.
    // All pointers below stay inside the mapping.
    let w = opcode::WriteFixed::new(Fd(file.as_raw_fd()), base.wrapping_add(4096), 4096, 1).build();
    let c = one(&mut ring, w)?;
    ensure!(c.result() == Ok(4096), "write_fixed: {:?}", c.result());
    let w = opcode::WriteFixed::new(Fd(file.as_raw_fd()), base.wrapping_add(4096 + 100), 200, 1).offset(5000).build();
    let c = one(&mut ring, w)?;
    ensure!(c.result() == Ok(200), "write_fixed sub-range: {:?}", c.result());
    let disk = contents(&mut file)?;
    ensure!(disk.len() == 5200, "file is {} bytes", disk.len());
    ensure!(
        disk[..4096] == data[..] && disk[4096..5000] == [0; 904][..] && disk[5000..] == data[100..300],
        "disk differs"
    );
    // Read into a sub-range of buffer 0 through a registered file; the rest stays zero.
    ring.submitter().register_files(&[file.as_raw_fd()])?;
    let r = opcode::ReadFixed::new(Fixed(0), base.wrapping_add(512), 300, 0).offset(4950).build();
    let c = one(&mut ring, r)?;
    ensure!(c.result() == Ok(250), "read_fixed at end of file: {:?}", c.result());
    let b = mem.bytes();
    ensure!(b[..512].iter().all(|&x| x == 0) && b[762..4096].iter().all(|&x| x == 0), "read outside its range");
    ensure!(b[512..562] == [0; 50] && b[562..762] == data[100..300], "read_fixed content differs");
    // Errors: an index past the table, and a range not inside the buffer.
    let r = opcode::ReadFixed::new(Fd(file.as_raw_fd()), base, 16, 2).build();
    let c = one(&mut ring, r)?;
    ensure!(c.result() == Err(Errno::FAULT), "buffer index 2 of 2: {:?}", c.result());
    let r = opcode::ReadFixed::new(Fd(file.as_raw_fd()), base.wrapping_add(4000), 200, 0).build();
    let c = one(&mut ring, r)?;
    ensure!(c.result() == Err(Errno::FAULT), "range past buffer 0: {:?}", c.result());
    let w = opcode::WriteFixed::new(Fd(-1), base, 16, 0).build();
    let c = one(&mut ring, w)?;
    ensure!(c.result() == Err(Errno::BADF), "write_fixed on fd -1: {:?}", c.result());
    Ok(())
}

fn writev_readv_fixed_buffers<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut mem = Pages::new(16384)?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let mut file = tempfile()?;
    let data = pattern(16384, 5);
    mem.bytes().copy_from_slice(&data);
    let base = mem.ptr;
    // Registered buffer 0 is the first 8 KiB, buffer 1 the second.
    let bufs = [
        iovec { iov_base: base.cast(), iov_len: 8192 },
        iovec { iov_base: base.wrapping_add(8192).cast(), iov_len: 8192 },
    ];
    // SAFETY: the mapping outlives the ring (declared before it).
    unsafe { ring.submitter().register_buffers(&bufs)? };
    // Every iovec below points inside the mapping.
    let at = |off: usize, len: usize| iovec { iov_base: base.wrapping_add(off).cast(), iov_len: len };
    let out = [at(8192 + 10, 100), at(8192 + 3000, 5000), at(8192 + 50, 1)];
    let c = one(&mut ring, opcode::WritevFixed::new(Fd(file.as_raw_fd()), out.as_ptr(), 3, 1).offset(7).build())?;
    ensure!(c.result() == Ok(5101), "writev_fixed: {:?}", c.result());
    let expect: Vec<u8> = [&data[8202..8302], &data[11192..16192], &data[8242..8243]].concat();
    let disk = contents(&mut file)?;
    ensure!(disk.len() == 5108 && disk[..7] == [0; 7] && disk[7..] == expect[..], "file content differs");
    // Scatter part of it back into buffer 0.
    mem.bytes()[..8192].fill(0);
    let back = [at(4000, 60), at(100, 40)];
    let c = one(&mut ring, opcode::ReadvFixed::new(Fd(file.as_raw_fd()), back.as_ptr(), 2, 0).offset(27).build())?;
    ensure!(c.result() == Ok(100), "readv_fixed: {:?}", c.result());
    let b = mem.bytes();
    ensure!(b[4000..4060] == expect[20..80] && b[100..140] == expect[80..120], "readv_fixed content differs");
    let touched = b[..8192]
        .iter()
        .enumerate()
        .filter(|&(i, &x)| x != 0 && !(4000..4060).contains(&i) && !(100..140).contains(&i));
    ensure!(touched.count() == 0, "readv_fixed wrote outside its iovecs");
    // An iovec that leaves the registered buffer fails with EFAULT.
    let bad = [at(100, 10), at(8000, 500)];
    let c = one(&mut ring, opcode::ReadvFixed::new(Fd(file.as_raw_fd()), bad.as_ptr(), 2, 0).build())?;
    ensure!(c.result() == Err(Errno::FAULT), "iovec past buffer 0: {:?}", c.result());
    let c = one(&mut ring, opcode::WritevFixed::new(Fd(file.as_raw_fd()), out.as_ptr(), 3, 2).build())?;
    ensure!(c.result() == Err(Errno::FAULT), "buffer index 2 of 2: {:?}", c.result());
    Ok(())
}

fn read_multi_from_pipe<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut br = BufRing::new(4, 16)?;
    let mut br4 = BufRing::new(2, 16)?;
    let mut ring = ctx.ring::<S, C>(8)?;
    br.register(&ring, 3)?;
    for bid in 0..4 {
        br.provide(bid);
    }
    let (rx, tx) = pipe()?;
    let mut sent: Vec<u8> = b"twenty bytes here!!!".to_vec();
    (&tx).write_all(&sent)?;
    let e = opcode::ReadMulti::new(Fd(rx.as_raw_fd()), 0, 3).offset(u64::MAX).build().user_data(7);
    push_all(&mut ring, &[S::from(e)])?;
    // 20 bytes fill one 16-byte buffer, then 4 bytes of the next.
    let mut got = Vec::new();
    let mut cqes = reap(&mut ring, 2)?;
    (&tx).write_all(b"more")?;
    sent.extend_from_slice(b"more");
    cqes.extend(reap(&mut ring, 1)?);
    let mut bids = Vec::new();
    for c in &cqes {
        let n = c.result().map_err(|e| anyhow::anyhow!("read_multi: {e}"))? as usize;
        ensure!(cqueue::more(c.flags()), "a completion without F_MORE while data flows");
        let bid = cqueue::buffer_select(c.flags()).context("no buffer id")?;
        got.extend_from_slice(&br.buf(bid)[..n]);
        bids.push(bid);
    }
    ensure!(got == sent, "read {:?}", String::from_utf8_lossy(&got));
    bids.sort_unstable();
    bids.dedup();
    ensure!(bids.len() == 3, "buffers used: {bids:?}");
    // The end of the input ends the multishot read: 0 bytes, no F_MORE.
    drop(tx);
    let c = reap(&mut ring, 1)?.remove(0);
    ensure!(
        c.result() == Ok(0) && !cqueue::more(c.flags()),
        "at EOF: {:?} more={}",
        c.result(),
        cqueue::more(c.flags())
    );
    // A registered pipe end works too: FIXED_FILE survives BUFFER_SELECT.
    br4.register(&ring, 4)?;
    br4.provide(0);
    br4.provide(1);
    let (rx, tx) = pipe()?;
    ring.submitter().register_files(&[rx.as_raw_fd()])?;
    drop(rx);
    (&tx).write_all(b"fixed")?;
    push_all(&mut ring, &[S::from(opcode::ReadMulti::new(Fixed(0), 0, 4).build())])?;
    let c = reap(&mut ring, 1)?.remove(0);
    ensure!(c.result() == Ok(5) && cqueue::more(c.flags()), "fixed read_multi: {:?}", c.result());
    let bid = cqueue::buffer_select(c.flags()).context("no buffer id")?;
    ensure!(&br4.buf(bid)[..5] == b"fixed", "fixed read_multi got {:?}", &br4.buf(bid)[..5]);
    drop(tx);
    let c = reap(&mut ring, 1)?.remove(0);
    ensure!(c.result() == Ok(0) && !cqueue::more(c.flags()), "fixed at EOF: {:?}", c.result());
    Ok(())
}

fn read_multi_errors<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut br = BufRing::new(1, 16)?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let (rx, tx) = pipe()?;
    (&tx).write_all(b"waiting")?;
    // No buffer was provided in group 9: ENOBUFS, and the data stays in the pipe.
    let c = one(&mut ring, opcode::ReadMulti::new(Fd(rx.as_raw_fd()), 0, 9).build())?;
    ensure!(c.result() == Err(Errno::NOBUFS), "empty group: {:?}", c.result());
    ensure!(!cqueue::more(c.flags()), "the failed read stays armed");
    // A length cap is rejected.
    let c = one(&mut ring, opcode::ReadMulti::new(Fd(rx.as_raw_fd()), 4, 9).build())?;
    ensure!(c.result() == Err(Errno::INVAL), "len 4: {:?}", c.result());
    // A regular file cannot be polled.
    let file = tempfile()?;
    br.register(&ring, 1)?;
    br.provide(0);
    let c = one(&mut ring, opcode::ReadMulti::new(Fd(file.as_raw_fd()), 0, 1).build())?;
    ensure!(c.result() == Err(Errno::BADFD), "regular file: {:?}", c.result());
    let c = one(&mut ring, opcode::ReadMulti::new(Fd(-1), 0, 1).build())?;
    ensure!(c.result() == Err(Errno::BADF), "fd -1: {:?}", c.result());
    let mut left = [0u8; 7];
    (&rx).read_exact(&mut left)?;
    ensure!(&left == b"waiting", "pipe kept {left:?}");
    Ok(())
}
