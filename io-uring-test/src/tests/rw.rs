//! `opcode::Read` and `opcode::Write` (the rest of the family comes with
//! the opcode issue).

use std::io::{Read as _, Seek, SeekFrom, Write as _};
use std::os::fd::AsRawFd;

use anyhow::{ensure, Context};
use uring_core::types::Fd;
use uring_core::{cqueue, opcode, squeue};

use crate::harness::{Ctx, Req, Test};
use crate::test;
use crate::util::{push_all, reap};

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
    ensure!(got[0].result() == Err(uring_core::Errno::BADF), "bad fd: {:?}", got[0].result());
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

fn pipe() -> anyhow::Result<(std::fs::File, std::fs::File)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    ensure!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == 0, "pipe2");
    use std::os::fd::FromRawFd;
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (std::fs::File::from_raw_fd(fds[0]), std::fs::File::from_raw_fd(fds[1])) })
}

/// An unnamed temporary file.
pub fn tempfile() -> anyhow::Result<std::fs::File> {
    let dir = std::env::temp_dir();
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .open(&dir)
        .with_context(|| format!("O_TMPFILE in {}", dir.display()))
}

use std::os::unix::fs::OpenOptionsExt as _;
