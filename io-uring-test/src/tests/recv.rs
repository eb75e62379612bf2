//! Tests of `src/opcode/recv.rs` on the kernel, over loopback sockets.

use std::io::{Read as _, Write as _};
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use rustix::io_uring::RecvFlags;
use urix::types::{iovec, Fd, MsgHdr, RecvMsgOut};
use urix::{cqueue, opcode, squeue, Errno};

use crate::harness::{Ctx, Req, Test};
use crate::util::{push_all, reap, tcp_pair, BufRing};
use crate::{skip, test, test_once};

const RECV: Req = Req::Op(opcode::Recv::CODE, "RECV");
const PROVIDE: Req = Req::Op(opcode::ProvideBuffers::CODE, "PROVIDE_BUFFERS");
const RECVMSG: Req = Req::Op(opcode::RecvMsg::CODE, "RECVMSG");

pub fn tests() -> Vec<Test> {
    vec![
        test!(recv_tcp_full_short_and_bad_fd, requires = [RECV]),
        test!(recv_poll_first_waits_for_data, requires = [RECV]),
        test!(recv_multi_until_out_of_buffers_then_rearm, requires = [RECV, PROVIDE]),
        test!(recv_multi_len_caps_each_completion, requires = [RECV, PROVIDE]),
        test!(recv_bundle_spans_consecutive_buffers, requires = [RECV, PROVIDE]),
        test!(recv_multi_bundle_spans_buffers_then_eof, requires = [RECV]),
        test!(recvmsg_udp_fills_name_and_flags, requires = [RECVMSG]),
        test!(recvmsg_multi_parsed_with_recvmsg_out, requires = [RECVMSG, PROVIDE]),
        test_once!(recv_zc_without_ifq_is_rejected, requires = [Req::Op(opcode::RecvZc::CODE, "RECV_ZC")]),
    ]
}

/// Bytes queued for reading on `fd` (`FIONREAD`).
pub fn inq(fd: i32) -> anyhow::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int into `n`.
    ensure!(unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) } == 0, "FIONREAD: {}", std::io::Error::last_os_error());
    Ok(n as usize)
}

/// Waits (at most `PATIENCE`) until `fd` has `n` bytes queued: loopback
/// delivery is quick but not guaranteed to be done when `send` returns.
pub fn wait_inq(fd: i32, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + crate::util::PATIENCE;
    loop {
        let have = inq(fd)?;
        if have >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("only {have} of {n} bytes arrived");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn recv_tcp_full_short_and_bad_fd<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (mut client, server) = tcp_pair()?;
    let fd = Fd(server.as_raw_fd());
    client.write_all(b"hello over loopback")?;
    wait_inq(fd.0, 19)?;
    let mut buf = [0u8; 64];
    let r = opcode::Recv::new(fd, buf.as_mut_ptr(), buf.len() as u32).build().user_data(1);
    push_all(&mut ring, &[S::from(r)])?;
    let c = reap(&mut ring, 1)?;
    ensure!(c[0].result() == Ok(19), "recv: {:?}", c[0].result());
    ensure!(&buf[..19] == b"hello over loopback", "received {:?}", &buf[..19]);
    // A short buffer gets a short count; the rest stays queued.
    client.write_all(b"0123456789")?;
    wait_inq(fd.0, 10)?;
    let mut short = [0u8; 4];
    let r = opcode::Recv::new(fd, short.as_mut_ptr(), 4).build().user_data(2);
    push_all(&mut ring, &[S::from(r)])?;
    let c = reap(&mut ring, 1)?;
    ensure!(c[0].result() == Ok(4) && &short == b"0123", "short recv: {:?} {short:?}", c[0].result());
    ensure!(inq(fd.0)? == 6, "socket kept {} bytes, want 6", inq(fd.0)?);
    let mut rest = [0u8; 6];
    (&server).read_exact(&mut rest)?;
    ensure!(&rest == b"456789", "socket kept {rest:?}");
    // MSG_PEEK leaves the data queued.
    client.write_all(b"peek")?;
    wait_inq(fd.0, 4)?;
    let r = opcode::Recv::new(fd, buf.as_mut_ptr(), 64).flags(RecvFlags::PEEK).build().user_data(3);
    push_all(&mut ring, &[S::from(r)])?;
    let c = reap(&mut ring, 1)?;
    ensure!(c[0].result() == Ok(4) && inq(fd.0)? == 4, "peek: {:?}, {} queued", c[0].result(), inq(fd.0)?);
    // Errors come in the CQE: a bad fd, and a file that is no socket.
    let file = crate::util::tempfile()?;
    let bad = opcode::Recv::new(Fd(-5), buf.as_mut_ptr(), 4).build().user_data(4);
    let not_sock = opcode::Recv::new(Fd(file.as_raw_fd()), buf.as_mut_ptr(), 4).build().user_data(5);
    push_all(&mut ring, &[S::from(bad), S::from(not_sock)])?;
    let mut c = reap(&mut ring, 2)?;
    c.sort_by_key(cqueue::Entry::user_data_u64);
    ensure!(c[0].result() == Err(Errno::BADF), "bad fd: {:?}", c[0].result());
    ensure!(c[1].result() == Err(Errno::NOTSOCK), "regular file: {:?}", c[1].result());
    Ok(())
}

fn recv_poll_first_waits_for_data<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (mut client, server) = tcp_pair()?;
    let mut buf = [0u8; 16];
    let poll_first = rustix::io_uring::IoringRecvFlags::POLL_FIRST.bits();
    let r = opcode::Recv::new(Fd(server.as_raw_fd()), buf.as_mut_ptr(), 16).ioprio(poll_first).build().user_data(1);
    push_all(&mut ring, &[S::from(r)])?;
    // Nothing is queued: the recv must still be pending.
    ring.submit()?;
    ensure!(ring.completion().next().is_none(), "recv completed before any data was sent");
    client.write_all(b"late")?;
    let c = reap(&mut ring, 1)?;
    ensure!(c[0].result() == Ok(4) && &buf[..4] == b"late", "recv: {:?} {:?}", c[0].result(), &buf[..4]);
    Ok(())
}

/// Checks a multishot CQE: result, F_MORE, and the buffer it names.
fn check_buffer_cqe(c: &cqueue::Entry, res: u32, bid: u16, more: bool) -> anyhow::Result<()> {
    let f = c.flags();
    ensure!(c.result() == Ok(res), "result {:?}, want {res} (flags {f:?})", c.result());
    ensure!(cqueue::buffer_select(f) == Some(bid), "buffer {:?}, want {bid} (flags {f:?})", cqueue::buffer_select(f));
    ensure!(cqueue::more(f) == more, "F_MORE is {}, want {more}", cqueue::more(f));
    Ok(())
}

fn provide<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut urix::IoUring<S, C>,
    mem: &mut [u8],
    len: usize,
    bgid: u16,
) -> anyhow::Result<()> {
    let nbufs = (mem.len() / len) as u16;
    let p = opcode::ProvideBuffers::new(mem.as_mut_ptr(), len as i32, nbufs, bgid, 0).build().user_data(99);
    push_all(ring, &[S::from(p)])?;
    let c = reap(ring, 1)?;
    ensure!(c[0].result() == Ok(0), "provide buffers: {:?}", c[0].result());
    Ok(())
}

fn recv_multi_until_out_of_buffers_then_rearm<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(16)?;
    let (mut client, server) = tcp_pair()?;
    let fd = Fd(server.as_raw_fd());
    let mut mem = vec![0u8; 3 * 16];
    provide(&mut ring, &mut mem, 16, 7)?;
    let data: Vec<u8> = [b'A', b'B', b'C'].iter().flat_map(|&b| [b; 16]).chain(*b"DDDDD").collect();
    client.write_all(&data)?;
    wait_inq(fd.0, data.len())?;
    let r = opcode::RecvMulti::new(fd, 7).build().user_data(1);
    push_all(&mut ring, &[S::from(r)])?;
    let c = reap(&mut ring, 4)?;
    for (i, cqe) in c[..3].iter().enumerate() {
        check_buffer_cqe(cqe, 16, i as u16, true).with_context(|| format!("CQE {i}"))?;
    }
    ensure!(mem[..] == data[..48], "buffers hold {:?}", String::from_utf8_lossy(&mem));
    let last = &c[3];
    ensure!(last.result() == Err(Errno::NOBUFS), "out of buffers: {:?}", last.result());
    ensure!(!cqueue::more(last.flags()), "the ENOBUFS CQE ends the multishot");
    ensure!(inq(fd.0)? == 5, "{} bytes left queued, want 5", inq(fd.0)?);
    // Give the buffers back and re-arm: the rest arrives in buffer 0.
    mem.fill(0);
    provide(&mut ring, &mut mem, 16, 7)?;
    let r = opcode::RecvMulti::new(fd, 7).build().user_data(2);
    push_all(&mut ring, &[S::from(r)])?;
    let c = reap(&mut ring, 1)?;
    check_buffer_cqe(&c[0], 5, 0, true).context("after re-arm")?;
    ensure!(&mem[..5] == b"DDDDD", "buffer 0 holds {:?}", &mem[..5]);
    // End of stream ends the multishot with result 0.
    drop(client);
    let c = reap(&mut ring, 1)?;
    ensure!(c[0].result() == Ok(0) && !cqueue::more(c[0].flags()), "EOF: {:?} {:?}", c[0].result(), c[0].flags());
    Ok(())
}

fn recv_multi_len_caps_each_completion<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(16)?;
    let (mut client, server) = tcp_pair()?;
    let fd = Fd(server.as_raw_fd());
    let mut mem = vec![0u8; 2 * 16];
    provide(&mut ring, &mut mem, 16, 3)?;
    client.write_all(b"abcdefghijkl")?;
    wait_inq(fd.0, 12)?;
    let r = opcode::RecvMulti::new(fd, 3).len(5).build().user_data(1);
    push_all(&mut ring, &[S::from(r)])?;
    let mut c = reap(&mut ring, 1)?;
    if c[0].result() == Err(Errno::INVAL) && !cqueue::more(c[0].flags()) {
        // Before 6.16 a multishot RECV had to have len 0.
        skip!("kernel refuses a length cap on multishot RECV (needs 6.16)");
    }
    if c.len() < 3 {
        c.extend(reap(&mut ring, 3 - c.len())?);
    }
    check_buffer_cqe(&c[0], 5, 0, true)?;
    check_buffer_cqe(&c[1], 5, 1, true)?;
    ensure!(&mem[..5] == b"abcde" && &mem[16..21] == b"fghij", "buffers hold {mem:?}");
    ensure!(mem[5..16].iter().all(|&b| b == 0), "len 5 must not write past byte 5 of a buffer");
    ensure!(c[2].result() == Err(Errno::NOBUFS) && !cqueue::more(c[2].flags()), "end: {:?}", c[2].result());
    ensure!(inq(fd.0)? == 2, "2 bytes should stay queued, {} do", inq(fd.0)?);
    Ok(())
}

/// Checks a run of bundle CQEs that received `data` into `bufs` (buffers
/// of `len` bytes, bids from 0 in order): each CQE names the first unused
/// buffer, the data lies back to back across the buffers, and at least one
/// CQE spans several buffers. Returns the next unused bid.
fn check_bundles(cqes: &[cqueue::Entry], bufs: &[u8], len: usize, data: &[u8]) -> anyhow::Result<usize> {
    let (mut next_bid, mut got, mut widest) = (0usize, 0usize, 0usize);
    for (i, c) in cqes.iter().enumerate() {
        let res = c.result().map_err(|e| anyhow::anyhow!("bundle CQE {i}: {e}"))? as usize;
        let bid = cqueue::buffer_select(c.flags()).with_context(|| format!("bundle CQE {i} names no buffer"))?;
        ensure!(usize::from(bid) == next_bid, "bundle CQE {i} starts at buffer {bid}, want {next_bid}");
        let start = next_bid * len;
        ensure!(bufs[start..start + res] == data[got..got + res], "bundle CQE {i}: buffers hold other bytes");
        got += res;
        next_bid += res.div_ceil(len);
        widest = widest.max(res.div_ceil(len));
    }
    ensure!(got == data.len(), "bundles received {got} of {} bytes", data.len());
    ensure!(widest > 1, "no bundle spanned more than one buffer");
    Ok(next_bid)
}

fn recv_bundle_spans_consecutive_buffers<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    // Declared before the ring so that the ring (and any receive in
    // flight) goes first.
    let mut slot: Option<BufRing> = None;
    let mut ring = ctx.ring::<S, C>(8)?;
    if !ring.params().is_feature_recvsend_bundle() {
        skip!("kernel lacks FEAT_RECVSEND_BUNDLE");
    }
    let bufs = slot.insert(BufRing::new(16, 8)?);
    bufs.register(&ring, 4)?;
    bufs.provide_all();
    let (mut client, server) = tcp_pair()?;
    let fd = Fd(server.as_raw_fd());
    let data: Vec<u8> = (0..60u8).collect();
    let cqes = drain_bundles(&mut ring, &mut client, fd, 4, &data)?;
    check_bundles(&cqes, bufs.all(), 8, &data).context("buffer ring")?;
    // Legacy provided buffers work too (6.18).
    let mut mem = vec![0u8; 16 * 8];
    provide(&mut ring, &mut mem, 8, 9)?;
    let cqes = drain_bundles(&mut ring, &mut client, fd, 9, &data)?;
    check_bundles(&cqes, &mem, 8, &data).context("legacy provided buffers")?;
    Ok(())
}

/// Sends `data` and receives it with one-shot bundles from `bgid` until
/// the socket is drained: the kernel decides how many buffers each takes
/// (6.18: two on the first call) and says with F_SOCK_NONEMPTY whether
/// data is left.
fn drain_bundles<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut urix::IoUring<S, C>,
    client: &mut TcpStream,
    fd: Fd,
    bgid: u16,
    data: &[u8],
) -> anyhow::Result<Vec<cqueue::Entry>> {
    client.write_all(data)?;
    wait_inq(fd.0, data.len())?;
    let mut cqes = Vec::new();
    while inq(fd.0)? > 0 {
        ensure!(cqes.len() < 16, "the socket never drained");
        let r = opcode::RecvBundle::new(fd, bgid).build().user_data(1);
        push_all(ring, &[S::from(r)])?;
        let mut c = reap(ring, 1)?;
        ensure!(c.len() == 1, "{} CQEs for a one-shot bundle", c.len());
        let c = c.remove(0);
        ensure!(!cqueue::more(c.flags()), "a one-shot bundle has no F_MORE");
        let left = inq(fd.0)?;
        ensure!(cqueue::sock_nonempty(c.flags()) == (left > 0), "F_SOCK_NONEMPTY {:?} with {left} left", c.flags());
        cqes.push(c);
    }
    Ok(cqes)
}

fn recv_multi_bundle_spans_buffers_then_eof<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut slot: Option<BufRing> = None;
    let mut ring = ctx.ring::<S, C>(16)?;
    if !ring.params().is_feature_recvsend_bundle() {
        skip!("kernel lacks FEAT_RECVSEND_BUNDLE");
    }
    let bufs = slot.insert(BufRing::new(32, 4)?);
    bufs.register(&ring, 5)?;
    bufs.provide_all();
    let (mut client, server) = tcp_pair()?;
    let fd = Fd(server.as_raw_fd());
    let data: Vec<u8> = (100..150u8).collect();
    client.write_all(&data[..30])?;
    wait_inq(fd.0, 30)?;
    let r = opcode::RecvMultiBundle::new(fd, 5).build().user_data(1);
    push_all(&mut ring, &[S::from(r)])?;
    // Collect CQEs until the first 30 bytes are in, then send the rest,
    // then end the stream.
    let mut cqes: Vec<cqueue::Entry> = Vec::new();
    let mut pending = std::collections::VecDeque::new();
    let mut sent = 30;
    loop {
        if pending.is_empty() {
            pending.extend(reap(&mut ring, 1)?);
        }
        let Some(c) = pending.pop_front() else { continue };
        if c.result() == Ok(0) {
            ensure!(!cqueue::more(c.flags()), "EOF ends the multishot: {:?}", c.flags());
            break;
        }
        ensure!(cqueue::more(c.flags()), "bundle CQE without F_MORE: {:?} {:?}", c.result(), c.flags());
        cqes.push(c);
        ensure!(cqes.len() < 32, "too many CQEs");
        let got: u32 = cqes.iter().map(|c| c.result().unwrap_or(0)).sum();
        if got as usize == sent {
            if sent == 30 {
                client.write_all(&data[30..])?;
                sent = data.len();
            } else {
                client.shutdown(std::net::Shutdown::Write)?;
            }
        }
    }
    check_bundles(&cqes, bufs.all(), 4, &data)?;
    Ok(())
}

fn sockaddr_in_of(b: &[u8]) -> anyhow::Result<SocketAddrV4> {
    ensure!(b.len() >= size_of::<libc::sockaddr_in>(), "name is {} bytes", b.len());
    // SAFETY: at least sizeof(sockaddr_in) bytes; read unaligned.
    let sa: libc::sockaddr_in = unsafe { std::ptr::read_unaligned(b.as_ptr().cast()) };
    ensure!(i32::from(sa.sin_family) == libc::AF_INET, "family {}", sa.sin_family);
    Ok(SocketAddrV4::new(Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr)), u16::from_be(sa.sin_port)))
}

fn udp_pair() -> anyhow::Result<(UdpSocket, UdpSocket)> {
    let rx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    let tx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok((rx, tx))
}

fn recvmsg_udp_fills_name_and_flags<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (rx, tx) = udp_pair()?;
    tx.send_to(b"datagram one", rx.local_addr()?)?;
    tx.send_to(b"a longer second datagram", rx.local_addr()?)?;
    // SAFETY: sockaddr_in and MsgHdr are plain data; all-zero is valid.
    let mut name: libc::sockaddr_in = unsafe { zeroed() };
    let mut buf = [0u8; 64];
    let mut iov = iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: as above.
    let mut msg: MsgHdr = unsafe { zeroed() };
    msg.msg_name = (&mut name as *mut libc::sockaddr_in).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_in>() as u32;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    let r = opcode::RecvMsg::new(Fd(rx.as_raw_fd()), &mut msg).build().user_data(1);
    push_all(&mut ring, &[S::from(r)])?;
    let c = reap(&mut ring, 1)?;
    ensure!(c[0].result() == Ok(12), "recvmsg: {:?}", c[0].result());
    ensure!(&buf[..12] == b"datagram one", "payload {:?}", &buf[..12]);
    // SAFETY: `name` is a sockaddr_in, viewed as bytes.
    let name_bytes = unsafe {
        std::slice::from_raw_parts((&name as *const libc::sockaddr_in).cast::<u8>(), size_of::<libc::sockaddr_in>())
    };
    let from = sockaddr_in_of(name_bytes)?;
    ensure!(std::net::SocketAddr::V4(from) == tx.local_addr()?, "source {from}, sent from {}", tx.local_addr()?);
    ensure!(msg.msg_namelen as usize == size_of::<libc::sockaddr_in>(), "msg_namelen {}", msg.msg_namelen);
    // A datagram longer than the iovec is cut: short result, MSG_TRUNC.
    let mut short_iov = iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: 8 };
    msg.msg_iov = &mut short_iov;
    msg.msg_namelen = size_of::<libc::sockaddr_in>() as u32;
    let r = opcode::RecvMsg::new(Fd(rx.as_raw_fd()), &mut msg).build().user_data(2);
    push_all(&mut ring, &[S::from(r)])?;
    let c = reap(&mut ring, 1)?;
    ensure!(c[0].result() == Ok(8) && &buf[..8] == b"a longer", "truncated: {:?} {:?}", c[0].result(), &buf[..8]);
    ensure!(msg.msg_flags.bits() & libc::MSG_TRUNC as u32 != 0, "msg_flags {:?} lacks MSG_TRUNC", msg.msg_flags);
    Ok(())
}

fn recvmsg_multi_parsed_with_recvmsg_out<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(16)?;
    let (rx, tx) = udp_pair()?;
    let tx2 = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    const BUF: usize = 64;
    let mut mem = vec![0u8; 2 * BUF];
    provide(&mut ring, &mut mem, BUF, 5)?;
    // Only the name and control sizes matter.
    // SAFETY: MsgHdr is plain data; all-zero is valid.
    let mut msg: MsgHdr = unsafe { zeroed() };
    msg.msg_namelen = size_of::<libc::sockaddr_in>() as u32;
    tx.send_to(b"first", rx.local_addr()?)?;
    tx2.send_to(b"second from elsewhere", rx.local_addr()?)?;
    tx.send_to(b"third", rx.local_addr()?)?;
    wait_inq(rx.as_raw_fd(), 5)?;
    let r = opcode::RecvMsgMulti::new(Fd(rx.as_raw_fd()), &msg, 5).build().user_data(1);
    push_all(&mut ring, &[S::from(r)])?;
    let c = reap(&mut ring, 3)?;
    let expect = [(&b"first"[..], tx.local_addr()?), (&b"second from elsewhere"[..], tx2.local_addr()?)];
    for (i, (payload, from)) in expect.iter().enumerate() {
        let cqe = &c[i];
        let bid = cqueue::buffer_select(cqe.flags()).with_context(|| format!("CQE {i} names no buffer"))?;
        ensure!(bid == i as u16 && cqueue::more(cqe.flags()), "CQE {i}: bid {bid}, flags {:?}", cqe.flags());
        let len = cqe.result().map_err(|e| anyhow::anyhow!("CQE {i}: {e}"))? as usize;
        ensure!(len == 16 + 16 + payload.len(), "CQE {i}: result {len}");
        let buf = &mem[i * BUF..i * BUF + len];
        let out = RecvMsgOut::parse(buf, &msg).map_err(|()| anyhow::anyhow!("CQE {i}: parse failed"))?;
        ensure!(out.payload_data() == *payload, "CQE {i}: payload {:?}", out.payload_data());
        ensure!(out.incoming_payload_len() as usize == payload.len() && !out.is_payload_truncated());
        ensure!(!out.is_name_data_truncated() && out.incoming_name_len() == 16, "name len {}", out.incoming_name_len());
        let src = sockaddr_in_of(out.name_data())?;
        ensure!(std::net::SocketAddr::V4(src) == *from, "CQE {i}: source {src}, want {from}");
        ensure!(out.control_data().is_empty() && out.incoming_control_len() == 0);
    }
    ensure!(c[2].result() == Err(Errno::NOBUFS) && !cqueue::more(c[2].flags()), "end: {:?}", c[2].result());
    // One small buffer: the payload is cut to what fits and MSG_TRUNC says
    // so. The header's payload length is what was copied (3), unless the
    // receive asked for MSG_TRUNC: then it is the datagram's length.
    let mut small = vec![0u8; 16 + 16 + 3];
    for (round, (flags, text, full)) in
        [(RecvFlags::empty(), &b"third"[..], 3u32), (RecvFlags::TRUNC, &b"fourth!"[..], 7)].into_iter().enumerate()
    {
        if round == 1 {
            tx.send_to(text, rx.local_addr()?)?;
            wait_inq(rx.as_raw_fd(), 1)?;
        }
        let ud = 10 * (round as u64 + 1);
        let p = opcode::ProvideBuffers::new(small.as_mut_ptr(), small.len() as i32, 1, 6, 9).build().user_data(ud);
        let r = opcode::RecvMsgMulti::new(Fd(rx.as_raw_fd()), &msg, 6).flags(flags).build().user_data(ud + 1);
        push_all(&mut ring, &[S::from(p.flags(squeue::Flags::IO_LINK)), S::from(r)])?;
        let mut c = reap(&mut ring, 3)?;
        c.sort_by_key(cqueue::Entry::user_data_u64);
        ensure!(c[0].result() == Ok(0), "provide: {:?}", c[0].result());
        ensure!(cqueue::buffer_select(c[1].flags()) == Some(9), "flags {:?}", c[1].flags());
        let len = c[1].result().map_err(|e| anyhow::anyhow!("small buffer: {e}"))? as usize;
        let out = RecvMsgOut::parse(&small[..len], &msg).map_err(|()| anyhow::anyhow!("parse failed"))?;
        ensure!(out.payload_data() == &text[..3], "round {round}: payload {:?}", out.payload_data());
        ensure!(
            out.is_payload_truncated() && out.incoming_payload_len() == full,
            "round {round}: {:?}, payload len {}, want TRUNC and {full}",
            out.flags(),
            out.incoming_payload_len()
        );
        ensure!(c[2].result() == Err(Errno::NOBUFS), "end: {:?}", c[2].result());
    }
    Ok(())
}

fn recv_zc_without_ifq_is_rejected(_ctx: &Ctx) -> anyhow::Result<()> {
    // RECV_ZC needs a zcrx interface queue on a NIC with header split; on
    // loopback none can be registered, so only the refusal is testable.
    let mut ring = urix::IoUring::<squeue::Entry, cqueue::Entry32>::builder()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(8)
        .context("DEFER_TASKRUN + CQE32 ring")?;
    let (mut client, server) = tcp_pair()?;
    client.write_all(b"zc")?;
    wait_inq(server.as_raw_fd(), 2)?;
    let r = opcode::RecvZc::new(Fd(server.as_raw_fd()), 0).ifq(0).build().user_data(1);
    push_all(&mut ring, &[r])?;
    let c = reap(&mut ring, 1)?;
    ensure!(c[0].result() == Err(Errno::INVAL), "RECV_ZC without a registered ifq: {:?}", c[0].result());
    // The same on a plain ring, which could not register an ifq anyway.
    let mut plain = urix::IoUring::new(8)?;
    let r = opcode::RecvZc::new(Fd(server.as_raw_fd()), 64).ifq(3).build().user_data(2);
    push_all(&mut plain, &[r])?;
    let c = reap(&mut plain, 1)?;
    ensure!(c[0].result() == Err(Errno::INVAL), "RECV_ZC on a plain ring: {:?}", c[0].result());
    ensure!(inq(server.as_raw_fd())? == 2, "the refused receives must leave the data queued");
    Ok(())
}
