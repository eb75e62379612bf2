//! Tests of `src/opcode/buffers.rs` on the kernel: legacy provided buffers,
//! consumed by a buffer-select `Recv`.

use std::io::Write as _;
use std::os::fd::AsRawFd;

use anyhow::ensure;
use urix::types::Fd;
use urix::{cqueue, opcode, squeue, Errno};

use super::recv::wait_inq;
use crate::harness::{Ctx, Req, Test};
use crate::test;
use crate::util::one;
use crate::util::tcp_pair;

const PROVIDE: Req = Req::Op(opcode::ProvideBuffers::CODE, "PROVIDE_BUFFERS");
const REMOVE: Req = Req::Op(opcode::RemoveBuffers::CODE, "REMOVE_BUFFERS");
const RECV: Req = Req::Op(opcode::Recv::CODE, "RECV");

pub fn tests() -> Vec<Test> {
    vec![
        test!(provide_buffers_feed_buffer_select_recv, requires = [PROVIDE, RECV]),
        test!(remove_buffers_counts_and_empties_the_group, requires = [PROVIDE, REMOVE, RECV]),
    ]
}

/// A one-shot `Recv` that picks a buffer of `bgid`.
fn select_recv(fd: i32, bgid: u16) -> squeue::Entry {
    opcode::Recv::new(Fd(fd), std::ptr::null_mut(), 0).buf_group(bgid).build().flags(squeue::Flags::BUFFER_SELECT)
}

fn provide_buffers_feed_buffer_select_recv<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (mut client, server) = tcp_pair()?;
    let fd = server.as_raw_fd();
    // Two 8-byte buffers with ids 40 and 41.
    let mut mem = [0u8; 16];
    let c = one(&mut ring, opcode::ProvideBuffers::new(mem.as_mut_ptr(), 8, 2, 12, 40).build())?;
    ensure!(c.result() == Ok(0), "provide: {:?}", c.result());
    for (i, msg) in [&b"first!"[..], &b"second.."[..]].iter().enumerate() {
        client.write_all(msg)?;
        wait_inq(fd, msg.len())?;
        let c = one(&mut ring, select_recv(fd, 12))?;
        ensure!(c.result() == Ok(msg.len() as u32), "recv {i}: {:?}", c.result());
        let bid = cqueue::buffer_select(c.flags());
        ensure!(bid == Some(40 + i as u16), "recv {i}: buffer {bid:?}, flags {:?}", c.flags());
        ensure!(&mem[i * 8..i * 8 + msg.len()] == *msg, "buffer {i} holds {:?}", &mem[i * 8..i * 8 + 8]);
    }
    // Both used: the next one finds the group empty.
    client.write_all(b"x")?;
    wait_inq(fd, 1)?;
    let c = one(&mut ring, select_recv(fd, 12))?;
    ensure!(c.result() == Err(Errno::NOBUFS), "empty group: {:?}", c.result());
    ensure!(cqueue::buffer_select(c.flags()).is_none(), "ENOBUFS names no buffer: {:?}", c.flags());
    // Bad arguments: no buffers at all, or a zero length.
    let c = one(&mut ring, opcode::ProvideBuffers::new(mem.as_mut_ptr(), 8, 0, 12, 0).build())?;
    ensure!(c.result() == Err(Errno::TOOBIG), "nbufs 0: {:?}", c.result());
    let c = one(&mut ring, opcode::ProvideBuffers::new(mem.as_mut_ptr(), 0, 2, 12, 0).build())?;
    ensure!(c.result() == Err(Errno::INVAL), "len 0: {:?}", c.result());
    Ok(())
}

fn remove_buffers_counts_and_empties_the_group<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (mut client, server) = tcp_pair()?;
    let fd = server.as_raw_fd();
    let mut mem = [0u8; 4 * 8];
    let c = one(&mut ring, opcode::ProvideBuffers::new(mem.as_mut_ptr(), 8, 4, 3, 0).build())?;
    ensure!(c.result() == Ok(0), "provide: {:?}", c.result());
    let c = one(&mut ring, opcode::RemoveBuffers::new(3, 3).build())?;
    ensure!(c.result() == Ok(3), "remove 3 of 4: {:?}", c.result());
    // Asking for more than are left removes what is left.
    let c = one(&mut ring, opcode::RemoveBuffers::new(10, 3).build())?;
    ensure!(c.result() == Ok(1), "remove the last one: {:?}", c.result());
    client.write_all(b"data")?;
    wait_inq(fd, 4)?;
    let c = one(&mut ring, select_recv(fd, 3))?;
    ensure!(c.result() == Err(Errno::NOBUFS), "recv from the emptied group: {:?}", c.result());
    ensure!(mem.iter().all(|&b| b == 0), "removed buffers were written to");
    // A group that never existed.
    let c = one(&mut ring, opcode::RemoveBuffers::new(1, 777).build())?;
    ensure!(c.result() == Err(Errno::NOENT), "unknown group: {:?}", c.result());
    Ok(())
}
