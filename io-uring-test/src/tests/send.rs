//! Tests of `src/opcode/send.rs` on the kernel: Send (plain, sendto-style,
//! vectorized), SendMsg, SendZc (plain and registered buffer), SendMsgZc,
//! SendBundle. Loopback only.

use std::io::Read as _;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use anyhow::{ensure, Context};
use rustix::io_uring::{IoringSendFlags, SendFlags};
use urix::types::{iovec, Fd, Fixed, MsgHdr};
use urix::{cqueue, opcode, squeue, Errno, IoUring};

use super::net::{local_addr, raw_socket, sockaddr_in, v4};
use crate::harness::{reg, Ctx, Req, Test};
use crate::test;
use crate::util::{kernel_version, tcp_pair, BufRing};
use crate::util::{push_all, reap};

const SEND: Req = Req::Op(opcode::Send::CODE, "SEND");
const SENDMSG: Req = Req::Op(opcode::SendMsg::CODE, "SENDMSG");
const SEND_ZC: Req = Req::Op(opcode::SendZc::CODE, "SEND_ZC");
const SENDMSG_ZC: Req = Req::Op(opcode::SendMsgZc::CODE, "SENDMSG_ZC");

/// `IORING_NOTIF_USAGE_ZC_COPIED`: the notification says the data was copied.
const NOTIF_USAGE_ZC_COPIED: u32 = 1 << 31;

pub fn tests() -> Vec<Test> {
    vec![
        test!(send_on_tcp, requires = [SEND]),
        test!(send_and_recv_from_a_registered_buffer, requires = [SEND, Req::Op(opcode::Recv::CODE, "RECV")]),
        test!(send_zc_notification_carries_its_own_user_data, requires = [SEND_ZC]),
        test!(sendmsg_on_tcp, requires = [SENDMSG]),
        test!(send_udp_to_address, requires = [SEND]),
        test!(sendmsg_udp_with_name, requires = [SENDMSG]),
        test!(send_vectorized_in_order, requires = [SEND]),
        test!(send_bundle_from_buffer_ring, requires = [SEND]),
        test!(send_zc_result_then_notification, requires = [SEND_ZC]),
        test!(send_zc_registered_buffer, requires = [SEND_ZC, reg::BUFFERS]),
        test!(sendmsg_zc_result_then_notification, requires = [SENDMSG_ZC]),
    ]
}

/// Send delivers the bytes to the TCP peer; bad fds fail in the CQE.
fn send_on_tcp<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (client, mut server) = tcp_pair()?;
    let msg = b"sent through the ring";
    let a = opcode::Send::new(Fd(client.as_raw_fd()), msg.as_ptr(), 10).flags(SendFlags::NOSIGNAL).build().user_data(1);
    // POLL_FIRST: the socket has room, so the send goes through after the poll.
    let b = opcode::Send::new(Fd(client.as_raw_fd()), msg[10..].as_ptr(), (msg.len() - 10) as u32)
        .ioprio(1)
        .build()
        .user_data(2);
    push_all(&mut ring, &[S::from(a.flags(squeue::Flags::IO_LINK)), S::from(b)])?;
    let mut got = reap(&mut ring, 2)?;
    got.sort_by_key(|c| c.user_data_u64());
    ensure!(got[0].result() == Ok(10), "first send: {:?}", got[0].result());
    ensure!(got[1].result() == Ok(msg.len() as u32 - 10), "poll-first send: {:?}", got[1].result());
    let mut back = vec![0u8; msg.len()];
    server.read_exact(&mut back)?;
    ensure!(back == msg, "peer read {back:?}");
    let pipe = not_a_socket()?;
    let bad = opcode::Send::new(Fd(-1), msg.as_ptr(), 4).build().user_data(3);
    let notsock = opcode::Send::new(Fd(pipe.as_raw_fd()), msg.as_ptr(), 4).build().user_data(4);
    let nofile = opcode::Send::new(Fixed(0), msg.as_ptr(), 4).build().user_data(5);
    push_all(&mut ring, &[S::from(bad), S::from(notsock), S::from(nofile)])?;
    let mut got = reap(&mut ring, 3)?;
    got.sort_by_key(|c| c.user_data_u64());
    ensure!(got[0].result() == Err(Errno::BADF), "send on fd -1: {:?}", got[0].result());
    ensure!(got[1].result() == Err(Errno::NOTSOCK), "send on a pipe: {:?}", got[1].result());
    ensure!(got[2].result() == Err(Errno::BADF), "send on Fixed(0) without a table: {:?}", got[2].result());
    Ok(())
}

/// SendMsg gathers its iovecs, in order, into the TCP stream.
fn sendmsg_on_tcp<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (client, mut server) = tcp_pair()?;
    let parts: [&[u8]; 3] = [b"alpha-", b"beta-", b"gamma"];
    let iov = iovecs(&parts);
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = iov.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = iov.len() as _; // size_t on glibc, c_int on musl
    let e = opcode::SendMsg::new(Fd(client.as_raw_fd()), msghdr(&msg)).flags(SendFlags::NOSIGNAL).build().user_data(1);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Ok(16), "sendmsg: {:?}", got[0].result());
    let mut back = [0u8; 16];
    server.read_exact(&mut back)?;
    ensure!(&back == b"alpha-beta-gamma", "peer read {:?}", String::from_utf8_lossy(&back));
    let e = opcode::SendMsg::new(Fd(-1), msghdr(&msg)).build().user_data(2);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Err(Errno::BADF), "sendmsg on fd -1: {:?}", got[0].result());
    Ok(())
}

/// sendto-style Send on an unconnected UDP socket reaches the address
/// given; the datagram's source is our socket.
fn send_udp_to_address<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let rx = udp_receiver()?;
    let dest = sockaddr_in(v4(rx.local_addr()?)?);
    let tx = udp_sender()?;
    let src = local_addr(tx.as_raw_fd())?;
    let data = b"datagram";
    let e = opcode::Send::new(Fd(tx.as_raw_fd()), data.as_ptr(), data.len() as u32)
        .dest_addr((&dest as *const libc::sockaddr_in).cast())
        .dest_addr_len(size_of::<libc::sockaddr_in>() as u32)
        .build()
        .user_data(1);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Ok(data.len() as u32), "sendto: {:?}", got[0].result());
    let mut buf = [0u8; 64];
    let (n, from) = rx.recv_from(&mut buf)?;
    ensure!(&buf[..n] == data, "received {:?}", &buf[..n]);
    ensure!(v4(from)? == src, "datagram came from {from}, sender is {src}");
    // No destination on an unconnected socket; a destination length the
    // 16-bit field cannot hold (sent as u16::MAX).
    let none = opcode::Send::new(Fd(tx.as_raw_fd()), data.as_ptr(), 4).build().user_data(2);
    let huge = opcode::Send::new(Fd(tx.as_raw_fd()), data.as_ptr(), 4)
        .dest_addr((&dest as *const libc::sockaddr_in).cast())
        .dest_addr_len(0x1_0010)
        .build()
        .user_data(3);
    push_all(&mut ring, &[S::from(none), S::from(huge)])?;
    let mut got = reap(&mut ring, 2)?;
    got.sort_by_key(|c| c.user_data_u64());
    ensure!(got[0].result() == Err(Errno::DESTADDRREQ), "send without address: {:?}", got[0].result());
    ensure!(got[1].result() == Err(Errno::INVAL), "oversized address length: {:?}", got[1].result());
    rx.set_nonblocking(true)?;
    ensure!(rx.recv_from(&mut buf).is_err(), "a failed send still delivered a datagram");
    Ok(())
}

/// SendMsg with `msg_name` addresses an unconnected UDP socket.
fn sendmsg_udp_with_name<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let rx = udp_receiver()?;
    let mut dest = sockaddr_in(v4(rx.local_addr()?)?);
    let tx = udp_sender()?;
    let parts: [&[u8]; 2] = [b"named ", b"datagram"];
    let iov = iovecs(&parts);
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut dest as *mut libc::sockaddr_in).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_in>() as u32;
    msg.msg_iov = iov.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = iov.len() as _; // size_t on glibc, c_int on musl
    let e = opcode::SendMsg::new(Fd(tx.as_raw_fd()), msghdr(&msg)).build().user_data(1);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Ok(14), "sendmsg with name: {:?}", got[0].result());
    let mut buf = [0u8; 64];
    let (n, from) = rx.recv_from(&mut buf)?;
    ensure!(&buf[..n] == b"named datagram", "received {:?}", &buf[..n]);
    ensure!(v4(from)? == local_addr(tx.as_raw_fd())?, "datagram came from {from}");
    Ok(())
}

/// A vectorized Send delivers every iovec, in order; SEND_ZC with the
/// vectorized bit does too on kernels that take it.
fn send_vectorized_in_order<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (client, mut server) = tcp_pair()?;
    let parts: [&[u8]; 4] = [b"one,", b"", b"two,", b"three"];
    let iov = iovecs(&parts);
    let e = opcode::Send::vectored(Fd(client.as_raw_fd()), iov.as_ptr(), iov.len() as u32).build().user_data(1);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    if got[0].result() == Err(Errno::INVAL) {
        crate::skip!("kernel refuses IORING_SEND_VECTORIZED (needs 6.17)");
    }
    ensure!(got[0].result() == Ok(13), "vectorized send: {:?}", got[0].result());
    let mut back = [0u8; 13];
    server.read_exact(&mut back)?;
    ensure!(&back == b"one,two,three", "peer read {:?}", String::from_utf8_lossy(&back));
    // SEND_ZC takes the vectorized bit too (6.18).
    let zc = opcode::SendZc::vectored(Fd(client.as_raw_fd()), iov.as_ptr(), iov.len() as u32).build().user_data(2);
    push_all(&mut ring, &[S::from(zc)])?;
    let (res, notif) = reap_zc(&mut ring)?;
    ensure!(res.result() == Ok(13), "vectorized send_zc: {:?}", res.result());
    ensure!(notif.is_some(), "vectorized send_zc posted no notification");
    server.read_exact(&mut back)?;
    ensure!(&back == b"one,two,three", "peer read {:?} after send_zc", String::from_utf8_lossy(&back));
    Ok(())
}

/// SendBundle: an empty group fails; with a buffer ring
/// it sends the queued buffers in order as one stream.
fn send_bundle_from_buffer_ring<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    // Made before the ring, so it outlives the registration.
    let mut bufring = BufRing::new(8, 64)?;
    let mut ring = ctx.ring::<S, C>(8)?;
    if !ring.params().is_feature_recvsend_bundle() {
        crate::skip!("kernel lacks FEAT_RECVSEND_BUNDLE (6.10)");
    }
    let (client, mut server) = tcp_pair()?;
    let e = opcode::SendBundle::new(Fd(client.as_raw_fd()), 3).build().user_data(1);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Err(Errno::NOENT), "bundle from an unknown group: {:?}", got[0].result());
    let parts: [&[u8]; 3] = [b"first|", b"second|", b"third"];
    for (bid, part) in (0..).zip(parts) {
        bufring.fill(bid, part);
    }
    bufring.register(&ring, 7)?;
    let e = opcode::SendBundle::new(Fd(client.as_raw_fd()), 7).build().user_data(2);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Ok(18), "bundle send: {:?}", got[0].result());
    ensure!(cqueue::buffer_select(got[0].flags()) == Some(0), "first buffer id {:?}", got[0].flags());
    let mut back = [0u8; 18];
    server.read_exact(&mut back)?;
    ensure!(&back == b"first|second|third", "peer read {:?}", String::from_utf8_lossy(&back));
    // The ring is now consumed: the next bundle finds no buffer.
    let e = opcode::SendBundle::new(Fd(client.as_raw_fd()), 7).build().user_data(3);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Err(Errno::NOBUFS), "bundle from an empty ring: {:?}", got[0].result());
    Ok(())
}

/// SendZc posts the result with F_MORE, then an F_NOTIF notification;
/// the data arrives. Also sendto-style on UDP, and usage reporting.
fn send_zc_result_then_notification<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (client, mut server) = tcp_pair()?;
    let data: Vec<u8> = (0..4096u32).map(|i| (i * 13) as u8).collect();
    let e = opcode::SendZc::new(Fd(client.as_raw_fd()), data.as_ptr(), data.len() as u32)
        .flags(SendFlags::NOSIGNAL)
        .zc_flags(IoringSendFlags::ZC_REPORT_USAGE)
        .build()
        .user_data(1);
    push_all(&mut ring, &[S::from(e)])?;
    let (res, notif) = reap_zc(&mut ring)?;
    ensure!(res.result() == Ok(4096), "send_zc: {:?}", res.result());
    let notif = notif.context("no notification")?;
    // With REPORT_USAGE the notification's result is 0 or ZC_COPIED
    // (loopback copies).
    let usage = notif.raw_result() as u32;
    ensure!(usage & !NOTIF_USAGE_ZC_COPIED == 0, "notification result {usage:#x}");
    let mut back = vec![0u8; 4096];
    server.read_exact(&mut back)?;
    ensure!(back == data, "peer read different bytes");
    // UDP with a destination address.
    let rx = udp_receiver()?;
    let dest = sockaddr_in(v4(rx.local_addr()?)?);
    let tx = udp_sender()?;
    let e = opcode::SendZc::new(Fd(tx.as_raw_fd()), data.as_ptr(), 100)
        .dest_addr((&dest as *const libc::sockaddr_in).cast())
        .dest_addr_len(size_of::<libc::sockaddr_in>() as u32)
        .build()
        .user_data(2);
    push_all(&mut ring, &[S::from(e)])?;
    let (res, notif) = reap_zc(&mut ring)?;
    ensure!(res.result() == Ok(100), "send_zc to address: {:?}", res.result());
    ensure!(notif.as_ref().is_some_and(|n| n.raw_result() == 0), "udp notification {notif:?}");
    let mut buf = [0u8; 200];
    let (n, from) = rx.recv_from(&mut buf)?;
    ensure!(buf[..n] == data[..100], "udp payload differs ({n} bytes)");
    ensure!(v4(from)? == local_addr(tx.as_raw_fd())?, "datagram came from {from}");
    // Failed sends still post F_MORE on the result and then a notification
    // (6.18), whether the fd is bad or the kernel refuses a zc flag.
    let e = opcode::SendZc::new(Fd(-1), data.as_ptr(), 8).build().user_data(3);
    let bad_flag = opcode::SendZc::new(Fd(client.as_raw_fd()), data.as_ptr(), 8)
        .zc_flags(IoringSendFlags::from_bits_retain(1 << 6))
        .build()
        .user_data(4);
    push_all(&mut ring, &[S::from(e), S::from(bad_flag)])?;
    let got = reap_zc_each(&mut ring, &[3, 4])?;
    ensure!(got[0].0.result() == Err(Errno::BADF), "send_zc on fd -1: {:?}", got[0].0.result());
    ensure!(got[0].1.is_some(), "send_zc on fd -1 posted no notification");
    ensure!(got[1].0.result() == Err(Errno::INVAL), "send_zc with zc flag 64: {:?}", got[1].0.result());
    // 6.1 refuses a bad zc flag before it allocates the notification, so
    // none follows there.
    ensure!(got[1].1.is_some() || kernel_version() < (6, 12), "refused send_zc posted no notification");
    Ok(())
}

/// SendZc from a registered buffer (buf_index) sends the bytes of that
/// buffer; an unregistered index fails.
fn send_zc_registered_buffer<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    // Declared before the ring, so it outlives the registration.
    let region: Vec<u8> = (0..8192u32).map(|i| (i % 251) as u8).collect();
    let mut ring = ctx.ring::<S, C>(8)?;
    let bufs = [iovec { iov_base: region.as_ptr() as *mut _, iov_len: region.len() }];
    // SAFETY: `region` outlives the ring (declared first), and nothing
    // writes to it while registered.
    unsafe { ring.submitter().register_buffers(&bufs) }.context("register_buffers")?;
    let (client, mut server) = tcp_pair()?;
    let e = opcode::SendZc::new(Fd(client.as_raw_fd()), region[1000..].as_ptr(), 3000)
        .buf_index(Some(0))
        .build()
        .user_data(1);
    push_all(&mut ring, &[S::from(e)])?;
    let (res, notif) = reap_zc(&mut ring)?;
    ensure!(res.result() == Ok(3000), "fixed send_zc: {:?}", res.result());
    ensure!(notif.is_some(), "no notification");
    let mut back = vec![0u8; 3000];
    server.read_exact(&mut back)?;
    ensure!(back[..] == region[1000..4000], "peer read different bytes");
    // Vectorized + registered buffer on SEND_ZC: 6.18 refuses it, 7.3 sends
    // the iovecs (which must lie in the registered buffer) in order; the
    // releases between are not pinned down here, so they may do either.
    let parts: [&[u8]; 2] = [&region[10..20], &region[5000..5005]];
    let iov = iovecs(&parts);
    let e = opcode::SendZc::vectored(Fd(client.as_raw_fd()), iov.as_ptr(), 2).buf_index(Some(0)).build().user_data(4);
    push_all(&mut ring, &[S::from(e)])?;
    let (res, _) = reap_zc(&mut ring)?;
    let kernel = kernel_version();
    match res.result() {
        Err(Errno::INVAL) if kernel < (7, 3) => {}
        Ok(15) if kernel > (6, 18) => {
            let mut back = [0u8; 15];
            server.read_exact(&mut back)?;
            ensure!(back[..10] == region[10..20] && back[10..] == region[5000..5005], "peer read different bytes");
        }
        other => ensure!(false, "vectorized fixed send_zc on {kernel:?}: {other:?}"),
    }
    // Index 1 is not registered; a range past the buffer's end is refused.
    let e = opcode::SendZc::new(Fd(client.as_raw_fd()), region.as_ptr(), 10).buf_index(Some(1)).build().user_data(2);
    let over = opcode::SendZc::new(Fd(client.as_raw_fd()), region[8000..].as_ptr(), 1000)
        .buf_index(Some(0))
        .build()
        .user_data(3);
    push_all(&mut ring, &[S::from(e), S::from(over)])?;
    let got = reap_zc_each(&mut ring, &[2, 3])?;
    ensure!(got[0].0.result() == Err(Errno::FAULT), "send_zc from buffer 1: {:?}", got[0].0.result());
    ensure!(got[1].0.result() == Err(Errno::FAULT), "send_zc past the buffer: {:?}", got[1].0.result());
    Ok(())
}

/// SendMsgZc: result with F_MORE, then F_NOTIF; the iovecs arrive in order.
fn sendmsg_zc_result_then_notification<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (client, mut server) = tcp_pair()?;
    let big: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    let parts: [&[u8]; 3] = [b"head:", &big, b":tail"];
    let iov = iovecs(&parts);
    // SAFETY: all-zero is a valid msghdr.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = iov.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = iov.len() as _; // size_t on glibc, c_int on musl
    let e = opcode::SendMsgZc::new(Fd(client.as_raw_fd()), msghdr(&msg))
        .ioprio(8) // IORING_SEND_ZC_REPORT_USAGE
        .flags(SendFlags::NOSIGNAL)
        .build()
        .user_data(1);
    push_all(&mut ring, &[S::from(e)])?;
    let (res, notif) = reap_zc(&mut ring)?;
    ensure!(res.result() == Ok(3010), "sendmsg_zc: {:?}", res.result());
    let notif = notif.context("no notification")?;
    ensure!(notif.raw_result() as u32 & !NOTIF_USAGE_ZC_COPIED == 0, "notification result {:#x}", notif.raw_result());
    let mut back = vec![0u8; 3010];
    server.read_exact(&mut back)?;
    let want: Vec<u8> = parts.concat();
    ensure!(back == want, "peer read different bytes");
    let e = opcode::SendMsgZc::new(Fd(-1), msghdr(&msg)).build().user_data(2);
    push_all(&mut ring, &[S::from(e)])?;
    let (res, notif) = reap_zc(&mut ring)?;
    ensure!(res.result() == Err(Errno::BADF), "sendmsg_zc on fd -1: {:?}", res.result());
    ensure!(notif.is_some(), "failed sendmsg_zc posted no notification");
    Ok(())
}

// ---- helpers ----

/// Collects a zero-copy send's completions: the result, then (if the
/// result had F_MORE) the F_NOTIF notification, checking the flags.
fn reap_zc<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
) -> anyhow::Result<(cqueue::Entry, Option<cqueue::Entry>)> {
    let mut all = reap_zc_each(ring, &[0])?;
    Ok(all.remove(0))
}

/// Collects the completions of zero-copy sends with user_data `uds`
/// (`&[0]` = whatever single one is pending): for each, its result and,
/// when the result carried F_MORE, its F_NOTIF notification. Checks that a
/// notification never comes first, never has F_MORE, and that nothing
/// follows a result without F_MORE.
fn reap_zc_each<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    uds: &[u64],
) -> anyhow::Result<Vec<(cqueue::Entry, Option<cqueue::Entry>)>> {
    let any = uds == [0];
    let mut out: Vec<(Option<cqueue::Entry>, Option<cqueue::Entry>, bool)> = vec![(None, None, false); uds.len()];
    let deadline = std::time::Instant::now() + crate::util::PATIENCE;
    while !out.iter().all(|(_, _, done)| *done) {
        ensure!(std::time::Instant::now() < deadline, "zero-copy completions missing: {out:?}");
        for c in reap(ring, 1)? {
            let ud = c.user_data_u64();
            let i =
                if any { 0 } else { uds.iter().position(|u| *u == ud).with_context(|| format!("user_data {ud}"))? };
            let slot = &mut out[i];
            ensure!(!slot.2, "completion after the last one for user_data {ud}: {c:?}");
            if cqueue::notif(c.flags()) {
                ensure!(slot.0.is_some(), "notification before the result: {c:?}");
                ensure!(!cqueue::more(c.flags()), "notification has F_MORE: {c:?}");
                slot.1 = Some(c);
                slot.2 = true;
            } else {
                ensure!(slot.0.is_none(), "two results for user_data {ud}: {c:?}");
                slot.2 = !cqueue::more(c.flags());
                slot.0 = Some(c);
            }
        }
    }
    out.into_iter().map(|(r, n, _)| Ok((r.context("no result")?, n))).collect()
}

fn iovecs(parts: &[&[u8]]) -> Vec<iovec> {
    parts.iter().map(|p| iovec { iov_base: p.as_ptr() as *mut _, iov_len: p.len() }).collect()
}

fn msghdr(m: &libc::msghdr) -> *const MsgHdr {
    (m as *const libc::msghdr).cast()
}

/// A bound std UDP socket on loopback with a read timeout (a bound only a
/// failing test reaches).
fn udp_receiver() -> anyhow::Result<UdpSocket> {
    let rx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    rx.set_read_timeout(Some(crate::util::PATIENCE))?;
    Ok(rx)
}

/// An unconnected UDP socket bound to a loopback port (so the source of
/// its datagrams is known).
fn udp_sender() -> anyhow::Result<OwnedFd> {
    let fd = raw_socket(libc::AF_INET, libc::SOCK_DGRAM)?;
    let sa = sockaddr_in(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
    // SAFETY: `sa` is a valid sockaddr_in of the given length.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_in).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    ensure!(r == 0, "bind: {}", std::io::Error::last_os_error());
    Ok(fd)
}

fn not_a_socket() -> anyhow::Result<OwnedFd> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    ensure!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == 0, "pipe2");
    // SAFETY: both fds were just created; the read end is closed at once.
    unsafe {
        drop(OwnedFd::from_raw_fd(fds[0]));
        Ok(OwnedFd::from_raw_fd(fds[1]))
    }
}

/// IORING_RECVSEND_FIXED_BUF on plain SEND and RECV (7.2): the bytes come
/// from, and land in, the registered buffer.
fn send_and_recv_from_a_registered_buffer<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    crate::util::needs_kernel(7, 2, "registered buffers on SEND/RECV")?;
    // Declared before the ring, so it outlives the registration.
    let mut region: Vec<u8> = (0..8192u32).map(|i| (i % 253) as u8).collect();
    let mut ring = ctx.ring::<S, C>(8)?;
    let bufs = [iovec { iov_base: region.as_mut_ptr().cast(), iov_len: region.len() }];
    // SAFETY: `region` outlives the ring (declared first); the kernel
    // writes only into the range the RECV below names, read after its CQE.
    unsafe { ring.submitter().register_buffers(&bufs) }.context("register_buffers")?;
    let (client, mut server) = tcp_pair()?;
    let e = opcode::Send::new(Fd(client.as_raw_fd()), region[300..].as_ptr(), 1000).buf_index(Some(0)).build();
    push_all(&mut ring, &[S::from(e.user_data(1))])?;
    let c = reap(&mut ring, 1)?.remove(0);
    ensure!(c.result() == Ok(1000), "fixed send: {:?}", c.result());
    let mut back = vec![0u8; 1000];
    server.read_exact(&mut back)?;
    ensure!(back[..] == region[300..1300], "the peer read other bytes than the registered buffer's");

    use std::io::Write as _;
    server.write_all(b"into the registered buffer")?;
    super::recv::wait_inq(client.as_raw_fd(), 26)?;
    let at = region[5000..].as_mut_ptr();
    let e = opcode::Recv::new(Fd(client.as_raw_fd()), at, 100).buf_index(Some(0)).build();
    push_all(&mut ring, &[S::from(e.user_data(2))])?;
    let c = reap(&mut ring, 1)?.remove(0);
    ensure!(c.result() == Ok(26), "fixed recv: {:?}", c.result());
    ensure!(&region[5000..5026] == b"into the registered buffer", "the registered buffer holds other bytes");
    // An index that is not registered.
    let e = opcode::Send::new(Fd(client.as_raw_fd()), region.as_ptr(), 10).buf_index(Some(3)).build();
    push_all(&mut ring, &[S::from(e.user_data(3))])?;
    let c = reap(&mut ring, 1)?.remove(0);
    ensure!(c.result() == Err(Errno::FAULT), "send from unregistered index 3: {:?}", c.result());
    Ok(())
}

/// SEND_ZC's notification names `addr3` as its user data (7.1).
fn send_zc_notification_carries_its_own_user_data<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    crate::util::needs_kernel(7, 1, "SEND_ZC notification user_data")?;
    let data = b"zero-copy with a named notification";
    let mut ring = ctx.ring::<S, C>(8)?;
    let (client, mut server) = tcp_pair()?;
    let e = opcode::SendZc::new(Fd(client.as_raw_fd()), data.as_ptr(), data.len() as u32)
        .notif_user_data(0xfeed_f00d)
        .build()
        .user_data(5);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 2)?;
    let res = got.iter().find(|c| !cqueue::notif(c.flags())).context("no result CQE")?;
    let notif = got.iter().find(|c| cqueue::notif(c.flags())).context("no notification CQE")?;
    ensure!(res.user_data_u64() == 5 && res.result() == Ok(data.len() as u32), "result: {res:?}");
    ensure!(cqueue::more(res.flags()), "the result lacks F_MORE: {res:?}");
    ensure!(notif.user_data_u64() == 0xfeed_f00d, "notification user_data {:#x}", notif.user_data_u64());
    let mut back = vec![0u8; data.len()];
    server.read_exact(&mut back)?;
    ensure!(back == data, "peer read different bytes");
    Ok(())
}
