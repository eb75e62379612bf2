//! Tests of `src/opcode/pipe.rs` on the kernel: pipes made by the ring,
//! splice and tee.

use std::fs::File;
use std::io::{Read as _, Seek, SeekFrom, Write as _};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};

use anyhow::ensure;
use urix::types::{DestinationSlot, Fd, Fixed};
use urix::{cqueue, opcode, squeue, Errno};

use crate::harness::{reg, Ctx, Req, Test};
use crate::test;
use crate::util::{one, pipe, tempfile};
use crate::util::{push_all, reap};

pub fn tests() -> Vec<Test> {
    vec![
        test!(
            pipe_makes_two_working_fds,
            requires = [
                Req::Op(opcode::Pipe::CODE, "PIPE"),
                Req::Op(opcode::Read::CODE, "READ"),
                Req::Op(opcode::Write::CODE, "WRITE")
            ]
        ),
        test!(
            pipe_into_fixed_slots,
            requires = [
                Req::Op(opcode::Pipe::CODE, "PIPE"),
                Req::Op(opcode::Read::CODE, "READ"),
                Req::Op(opcode::Write::CODE, "WRITE"),
                reg::FILES2
            ]
        ),
        test!(splice_file_to_pipe_and_back, requires = [Req::Op(opcode::Splice::CODE, "SPLICE"), reg::FILES]),
        test!(tee_duplicates_pipe_data, requires = [Req::Op(opcode::Tee::CODE, "TEE"), reg::FILES]),
    ]
}

/// Takes ownership of a descriptor the kernel just made.
fn own(fd: RawFd) -> anyhow::Result<File> {
    ensure!(fd >= 0, "fd {fd}");
    // SAFETY: the ring just created `fd` for this test and nothing else owns it.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// `fcntl(fd, cmd)`, failing on -1.
fn fcntl(fd: RawFd, cmd: libc::c_int) -> anyhow::Result<libc::c_int> {
    // SAFETY: F_GETFD/F_GETFL take no argument and touch no memory.
    let r = unsafe { libc::fcntl(fd, cmd) };
    ensure!(r >= 0, "fcntl({fd}, {cmd}): {}", std::io::Error::last_os_error());
    Ok(r)
}

fn pipe_makes_two_working_fds<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let mut fds: [RawFd; 2] = [-1; 2];
    let c = one(&mut ring, opcode::Pipe::new(fds.as_mut_ptr()).flags(libc::O_CLOEXEC as u32).build())?;
    ensure!(c.result() == Ok(0), "pipe: {:?}", c.result());
    ensure!(fds[0] != fds[1], "same fd twice: {fds:?}");
    let (rx, tx) = (own(fds[0])?, own(fds[1])?);
    for f in [&rx, &tx] {
        ensure!(fcntl(f.as_raw_fd(), libc::F_GETFD)? & libc::FD_CLOEXEC != 0, "no FD_CLOEXEC");
    }
    ensure!(fcntl(rx.as_raw_fd(), libc::F_GETFL)? & libc::O_ACCMODE == libc::O_RDONLY, "fds[0] is not the read end");
    ensure!(fcntl(tx.as_raw_fd(), libc::F_GETFL)? & libc::O_ACCMODE == libc::O_WRONLY, "fds[1] is not the write end");
    // std writes, the ring reads; the ring writes, std reads.
    (&tx).write_all(b"std -> ring")?;
    let mut buf = [0u8; 32];
    let c = one(&mut ring, opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 32).build())?;
    ensure!(c.result() == Ok(11) && &buf[..11] == b"std -> ring", "ring read: {:?}", c.result());
    let c = one(&mut ring, opcode::Write::new(Fd(tx.as_raw_fd()), b"ring -> std".as_ptr(), 11).build())?;
    ensure!(c.result() == Ok(11), "ring write: {:?}", c.result());
    let mut back = [0u8; 11];
    (&rx).read_exact(&mut back)?;
    ensure!(&back == b"ring -> std", "std read {back:?}");
    // Without flags: no FD_CLOEXEC, blocking; O_NONBLOCK shows in the file flags.
    let c = one(&mut ring, opcode::Pipe::new(fds.as_mut_ptr()).build())?;
    ensure!(c.result() == Ok(0), "pipe without flags: {:?}", c.result());
    let (rx2, _tx2) = (own(fds[0])?, own(fds[1])?);
    ensure!(fcntl(rx2.as_raw_fd(), libc::F_GETFD)? & libc::FD_CLOEXEC == 0, "FD_CLOEXEC without O_CLOEXEC");
    ensure!(fcntl(rx2.as_raw_fd(), libc::F_GETFL)? & libc::O_NONBLOCK == 0, "O_NONBLOCK without asking");
    let c = one(&mut ring, opcode::Pipe::new(fds.as_mut_ptr()).flags(libc::O_NONBLOCK as u32).build())?;
    ensure!(c.result() == Ok(0), "pipe O_NONBLOCK: {:?}", c.result());
    let (rx3, _tx3) = (own(fds[0])?, own(fds[1])?);
    ensure!(fcntl(rx3.as_raw_fd(), libc::F_GETFL)? & libc::O_NONBLOCK != 0, "no O_NONBLOCK");
    // A flag pipe2 does not know is refused, and no fds appear.
    fds = [-1; 2];
    let c = one(&mut ring, opcode::Pipe::new(fds.as_mut_ptr()).flags(libc::O_APPEND as u32).build())?;
    ensure!(c.result() == Err(Errno::INVAL), "pipe O_APPEND: {:?}", c.result());
    ensure!(fds == [-1; 2], "fds written on failure: {fds:?}");
    Ok(())
}

fn pipe_into_fixed_slots<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    ring.submitter().register_files_sparse(4)?;
    let mut fds: [RawFd; 2] = [-1; 2];
    let slot = DestinationSlot::try_from_slot_target(1).map_err(|s| anyhow::anyhow!("slot {s}"))?;
    let c = one(&mut ring, opcode::Pipe::new(fds.as_mut_ptr()).file_index(Some(slot)).build())?;
    ensure!(c.result() == Ok(0), "pipe into slot 1: {:?}", c.result());
    // Instead of fds, the kernel writes the two slot numbers.
    ensure!(fds == [1, 2], "fds after pipe into slot 1: {fds:?}");
    // Slot 1 is the read end, slot 2 the write end.
    let w = opcode::Write::new(Fixed(2), b"direct pipe".as_ptr(), 11).build().user_data(1);
    let mut buf = [0u8; 32];
    let r = opcode::Read::new(Fixed(1), buf.as_mut_ptr(), 32).build().user_data(2);
    push_all(&mut ring, &[S::from(w.flags(squeue::Flags::IO_LINK)), S::from(r)])?;
    for c in reap(&mut ring, 2)? {
        ensure!(c.result() == Ok(11), "op {} on the direct pipe: {:?}", c.user_data_u64(), c.result());
    }
    ensure!(&buf[..11] == b"direct pipe", "read {:?}", &buf[..11]);
    // A pair starting at the last slot would end past the table.
    let slot3 = DestinationSlot::try_from_slot_target(3).map_err(|s| anyhow::anyhow!("slot {s}"))?;
    let c = one(&mut ring, opcode::Pipe::new(fds.as_mut_ptr()).file_index(Some(slot3)).build())?;
    ensure!(c.result() == Err(Errno::INVAL), "pipe into slots 3+4 of 4: {:?}", c.result());
    // Let the kernel pick: it fills the two free slots (0 and 3, in the
    // order its allocator finds them) and writes the slot numbers to `fds`.
    fds = [-1; 2];
    let auto = Some(DestinationSlot::auto_target());
    let c = one(&mut ring, opcode::Pipe::new(fds.as_mut_ptr()).file_index(auto).build())?;
    ensure!(c.result() == Ok(0), "pipe into auto slots: {:?}", c.result());
    let (rs, ws) = (fds[0], fds[1]);
    ensure!(rs != ws && [0, 3].contains(&rs) && [0, 3].contains(&ws), "auto slots {fds:?}");
    // The table is full now.
    let c = one(&mut ring, opcode::Pipe::new(fds.as_mut_ptr()).file_index(auto).build())?;
    ensure!(c.result() == Err(Errno::NFILE), "pipe into a full table: {:?}", c.result());
    let w = opcode::Write::new(Fixed(ws as u32), b"auto".as_ptr(), 4).build().user_data(1);
    let r = opcode::Read::new(Fixed(rs as u32), buf.as_mut_ptr(), 32).build().user_data(2);
    push_all(&mut ring, &[S::from(w.flags(squeue::Flags::IO_LINK)), S::from(r)])?;
    for c in reap(&mut ring, 2)? {
        ensure!(c.result() == Ok(4), "op {} on the auto pipe: {:?}", c.user_data_u64(), c.result());
    }
    ensure!(&buf[..4] == b"auto", "read {:?}", &buf[..4]);
    Ok(())
}

fn splice_file_to_pipe_and_back<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let mut file = tempfile()?;
    let data: Vec<u8> = (0..1000u32).map(|i| (i % 253) as u8).collect();
    file.write_all(&data)?;
    file.seek(SeekFrom::Start(0))?;
    let (rx, tx) = pipe()?;
    // File at offset 100 -> pipe: exactly those bytes arrive, the file position stays.
    let c = one(&mut ring, opcode::Splice::new(Fd(file.as_raw_fd()), 100, Fd(tx.as_raw_fd()), -1, 50).build())?;
    ensure!(c.result() == Ok(50), "file -> pipe: {:?}", c.result());
    let mut got = [0u8; 50];
    (&rx).read_exact(&mut got)?;
    ensure!(got[..] == data[100..150], "pipe got other bytes");
    ensure!(file.stream_position()? == 0, "the file position moved");
    // Pipe -> file at offset 2000: a hole, then the bytes.
    (&tx).write_all(b"spliced back")?;
    let c = one(&mut ring, opcode::Splice::new(Fd(rx.as_raw_fd()), -1, Fd(file.as_raw_fd()), 2000, 12).build())?;
    ensure!(c.result() == Ok(12), "pipe -> file: {:?}", c.result());
    let mut disk = Vec::new();
    file.read_to_end(&mut disk)?;
    ensure!(disk.len() == 2012 && disk[..1000] == data[..], "file is {} bytes", disk.len());
    ensure!(disk[1000..2000].iter().all(|&b| b == 0) && &disk[2000..] == b"spliced back", "file tail differs");
    // A registered input file (SPLICE_F_FD_IN_FIXED), asking for more than is left: a short count.
    ring.submitter().register_files(&[file.as_raw_fd()])?;
    let c = one(&mut ring, opcode::Splice::new(Fixed(0), 1990, Fd(tx.as_raw_fd()), -1, 100).build())?;
    ensure!(c.result() == Ok(22), "fixed file -> pipe near the end: {:?}", c.result());
    let mut got = [0u8; 22];
    (&rx).read_exact(&mut got)?;
    ensure!(got[..10] == [0; 10] && &got[10..] == b"spliced back", "pipe got {got:?}");
    // At the end of the input: 0.
    let c = one(&mut ring, opcode::Splice::new(Fixed(0), 5000, Fd(tx.as_raw_fd()), -1, 10).build())?;
    ensure!(c.result() == Ok(0), "splice past the end: {:?}", c.result());
    // Errors: a closed fd, no pipe on either side, an offset on a pipe.
    let c = one(&mut ring, opcode::Splice::new(Fd(-1), 0, Fd(tx.as_raw_fd()), -1, 10).build())?;
    ensure!(c.result() == Err(Errno::BADF), "fd_in -1: {:?}", c.result());
    let other = tempfile()?;
    let c = one(&mut ring, opcode::Splice::new(Fd(file.as_raw_fd()), 0, Fd(other.as_raw_fd()), 0, 10).build())?;
    ensure!(c.result() == Err(Errno::INVAL), "file -> file: {:?}", c.result());
    let c = one(&mut ring, opcode::Splice::new(Fd(file.as_raw_fd()), 0, Fd(tx.as_raw_fd()), 5, 10).build())?;
    ensure!(c.result() == Err(Errno::SPIPE), "offset on the pipe: {:?}", c.result());
    Ok(())
}

fn tee_duplicates_pipe_data<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (rx1, tx1) = pipe()?;
    let (rx2, tx2) = pipe()?;
    (&tx1).write_all(b"copied, not moved")?;
    let c = one(&mut ring, opcode::Tee::new(Fd(rx1.as_raw_fd()), Fd(tx2.as_raw_fd()), 100).build())?;
    ensure!(c.result() == Ok(17), "tee: {:?}", c.result());
    let mut a = [0u8; 17];
    (&rx2).read_exact(&mut a)?;
    ensure!(&a == b"copied, not moved", "second pipe got {a:?}");
    // The first pipe still holds it: tee again through registered files, only 6 bytes.
    ring.submitter().register_files(&[rx1.as_raw_fd(), tx2.as_raw_fd()])?;
    let c = one(&mut ring, opcode::Tee::new(Fixed(0), Fixed(1), 6).build())?;
    ensure!(c.result() == Ok(6), "fixed tee: {:?}", c.result());
    let mut b = [0u8; 6];
    (&rx2).read_exact(&mut b)?;
    ensure!(&b == b"copied", "second pipe got {b:?}");
    let mut orig = [0u8; 17];
    (&rx1).read_exact(&mut orig)?;
    ensure!(&orig == b"copied, not moved", "first pipe kept {orig:?}");
    // Errors: the same pipe on both sides, a non-pipe, a closed fd.
    (&tx1).write_all(b"x")?;
    let c = one(&mut ring, opcode::Tee::new(Fd(rx1.as_raw_fd()), Fd(tx1.as_raw_fd()), 1).build())?;
    ensure!(c.result() == Err(Errno::INVAL), "tee into itself: {:?}", c.result());
    let file = tempfile()?;
    let c = one(&mut ring, opcode::Tee::new(Fd(rx1.as_raw_fd()), Fd(file.as_raw_fd()), 1).build())?;
    ensure!(c.result() == Err(Errno::INVAL), "tee into a file: {:?}", c.result());
    let c = one(&mut ring, opcode::Tee::new(Fd(-1), Fd(tx2.as_raw_fd()), 1).build())?;
    ensure!(c.result() == Err(Errno::BADF), "tee from fd -1: {:?}", c.result());
    Ok(())
}
