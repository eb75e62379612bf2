//! Tests of `src/opcode/net.rs` on the kernel: Socket, Bind, Listen,
//! Connect, Accept, AcceptMulti, Shutdown. Loopback only.
//!
//! The socket helpers at the bottom are `pub` for `send.rs` too.

use std::io::{Read as _, Write as _};
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use anyhow::{bail, ensure, Context};
use rustix::io_uring::SocketFlags;
use urix::types::{DestinationSlot, Fd, Fixed, RwFlags, SocketAddrLen, SocketAddrOpaque};
use urix::{cqueue, opcode, squeue, Errno};

use crate::harness::{reg, Ctx, Req, Test};
use crate::util::{push_all, reap, tcp_pair, PATIENCE};
use crate::{skip, test};

const SOCKET: Req = Req::Op(opcode::Socket::CODE, "SOCKET");
const BIND: Req = Req::Op(opcode::Bind::CODE, "BIND");
const LISTEN: Req = Req::Op(opcode::Listen::CODE, "LISTEN");
const CONNECT: Req = Req::Op(opcode::Connect::CODE, "CONNECT");
const ACCEPT: Req = Req::Op(opcode::Accept::CODE, "ACCEPT");
const SHUTDOWN: Req = Req::Op(opcode::Shutdown::CODE, "SHUTDOWN");
const SEND: Req = Req::Op(opcode::Send::CODE, "SEND");

pub fn tests() -> Vec<Test> {
    vec![
        test!(socket_tcp_and_udp, requires = [SOCKET]),
        test!(socket_direct_descriptor, requires = [SOCKET, CONNECT, reg::FILES2]),
        test!(bind_and_listen, requires = [BIND, LISTEN]),
        test!(connect_to_listener, requires = [CONNECT]),
        test!(accept_carries_data_both_ways, requires = [ACCEPT]),
        test!(accept_multishot_until_shutdown, requires = [ACCEPT, reg::FILES2]),
        test!(accept_into_fixed_slot, requires = [ACCEPT, SEND, reg::FILES2]),
        test!(accept_dontwait_and_poll_first, requires = [ACCEPT]),
        test!(shutdown_write_gives_peer_eof, requires = [SHUTDOWN]),
    ]
}

/// Socket makes a TCP and a UDP socket of the asked domain and type;
/// the unusable `flags` word is refused.
fn socket_tcp_and_udp<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let tcp = opcode::Socket::new(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0).build().user_data(1);
    let udp = opcode::Socket::new(libc::AF_INET6, libc::SOCK_DGRAM | libc::SOCK_NONBLOCK, libc::IPPROTO_UDP)
        .build()
        .user_data(2);
    let bad = opcode::Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).flags(RwFlags::NOWAIT).build().user_data(3);
    push_all(&mut ring, &[S::from(tcp), S::from(udp), S::from(bad)])?;
    let mut got = reap(&mut ring, 3)?;
    got.sort_by_key(|c| c.user_data_u64());
    let tcp = owned(got[0].result().context("tcp socket")?);
    if got[1].result() == Err(Errno::AFNOSUPPORT) {
        skip!("no IPv6 on this kernel");
    }
    let udp = owned(got[1].result().context("udp socket")?);
    ensure!(got[2].result() == Err(Errno::INVAL), "socket with rw_flags: {:?}", got[2].result());
    let fd = tcp.as_raw_fd();
    ensure!(sockopt(fd, libc::SOL_SOCKET, libc::SO_TYPE)? == libc::SOCK_STREAM, "tcp SO_TYPE");
    ensure!(sockopt(fd, libc::SOL_SOCKET, libc::SO_DOMAIN)? == libc::AF_INET, "tcp SO_DOMAIN");
    ensure!(sockopt(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL)? == libc::IPPROTO_TCP, "tcp SO_PROTOCOL");
    ensure!(fd_flags(fd)? & libc::FD_CLOEXEC != 0, "tcp socket lacks FD_CLOEXEC");
    let fd = udp.as_raw_fd();
    ensure!(sockopt(fd, libc::SOL_SOCKET, libc::SO_TYPE)? == libc::SOCK_DGRAM, "udp SO_TYPE");
    ensure!(sockopt(fd, libc::SOL_SOCKET, libc::SO_DOMAIN)? == libc::AF_INET6, "udp SO_DOMAIN");
    ensure!(status_flags(fd)? & libc::O_NONBLOCK != 0, "udp socket lacks O_NONBLOCK");
    // An impossible combination fails in the CQE like socket(2) would.
    let e = opcode::Socket::new(libc::AF_INET, libc::SOCK_STREAM, libc::IPPROTO_UDP).build().user_data(4);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Err(Errno::PROTONOSUPPORT), "tcp+udp protocol: {:?}", got[0].result());
    Ok(())
}

/// Socket into the registered-file table: at a chosen slot (result 0) and
/// at a slot the kernel picks (result = slot); the slot then connects.
fn socket_direct_descriptor<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    ring.submitter().register_files_sparse(4).context("register_files_sparse")?;
    let slot2 = DestinationSlot::try_from_slot_target(2).map_err(|t| anyhow::anyhow!("slot {t}"))?;
    let at2 = opcode::Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0).file_index(Some(slot2)).build().user_data(1);
    push_all(&mut ring, &[S::from(at2)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Ok(0), "socket into slot 2: {:?}", got[0].result());
    let auto = opcode::Socket::new(libc::AF_INET, libc::SOCK_STREAM, 0)
        .file_index(Some(DestinationSlot::auto_target()))
        .build()
        .user_data(2);
    push_all(&mut ring, &[S::from(auto)])?;
    let got = reap(&mut ring, 1)?;
    let picked = got[0].result().context("socket into an allocated slot")?;
    ensure!(picked < 4 && picked != 2, "kernel picked slot {picked}");
    // Both slots hold TCP sockets: connect each to a listener.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.set_nonblocking(true)?;
    let sa = sockaddr_in(v4(listener.local_addr()?)?);
    let len = size_of::<libc::sockaddr_in>() as SocketAddrLen;
    let mut entries = Vec::new();
    for (ud, slot) in [(10u64, 2u32), (11, picked)] {
        entries.push(S::from(opcode::Connect::new(Fixed(slot), opaque(&sa), len).build().user_data(ud)));
    }
    push_all(&mut ring, &entries)?;
    for c in reap(&mut ring, 2)? {
        ensure!(c.result() == Ok(0), "connect of slot (ud {}): {:?}", c.user_data_u64(), c.result());
    }
    for _ in 0..2 {
        accept_within(&listener, PATIENCE)?;
    }
    // An empty slot is not a socket.
    let free = (0..4).find(|s| *s != 2 && *s != picked).unwrap_or(0);
    let e = opcode::Connect::new(Fixed(free), opaque(&sa), len).build().user_data(12);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Err(Errno::BADF), "connect of empty slot {free}: {:?}", got[0].result());
    Ok(())
}

/// Bind + Listen on 127.0.0.1:0 give a listening socket a client reaches.
fn bind_and_listen<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let sock = raw_socket(libc::AF_INET, libc::SOCK_STREAM)?;
    let fd = sock.as_raw_fd();
    let sa = sockaddr_in(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
    let len = size_of::<libc::sockaddr_in>() as SocketAddrLen;
    let b = opcode::Bind::new(Fd(fd), opaque(&sa), len).build().user_data(1);
    let l = opcode::Listen::new(Fd(fd), 16).build().user_data(2);
    push_all(&mut ring, &[S::from(b.flags(squeue::Flags::IO_LINK)), S::from(l)])?;
    for c in reap(&mut ring, 2)? {
        ensure!(c.result() == Ok(0), "user_data {}: {:?}", c.user_data_u64(), c.result());
    }
    let addr = local_addr(fd)?;
    ensure!(*addr.ip() == Ipv4Addr::LOCALHOST && addr.port() != 0, "bound to {addr}");
    ensure!(sockopt(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN)? == 1, "SO_ACCEPTCONN is not 1");
    let client = TcpStream::connect(addr).context("connect to the ring-made listener")?;
    let peer = accept_raw(fd)?;
    ensure!(local_addr(peer.as_raw_fd())? == addr, "accepted on a different address");
    ensure!(peer_addr(peer.as_raw_fd())? == v4(client.local_addr()?)?, "accepted another client");
    // Binding a bound socket again, or to a short address, fails in the CQE.
    let again = opcode::Bind::new(Fd(fd), opaque(&sa), len).build().user_data(3);
    let short = raw_socket(libc::AF_INET, libc::SOCK_STREAM)?;
    let short_e = opcode::Bind::new(Fd(short.as_raw_fd()), opaque(&sa), 4).build().user_data(4);
    let pipe = not_a_socket()?;
    let not_sock = opcode::Listen::new(Fd(pipe.as_raw_fd()), 1).build().user_data(5);
    push_all(&mut ring, &[S::from(again), S::from(short_e), S::from(not_sock)])?;
    let mut got = reap(&mut ring, 3)?;
    got.sort_by_key(|c| c.user_data_u64());
    ensure!(got[0].result() == Err(Errno::INVAL), "second bind: {:?}", got[0].result());
    ensure!(got[1].result() == Err(Errno::INVAL), "bind with addrlen 4: {:?}", got[1].result());
    ensure!(got[2].result() == Err(Errno::NOTSOCK), "listen on a pipe: {:?}", got[2].result());
    Ok(())
}

/// Connect reaches a std listener; a closed port is refused.
fn connect_to_listener<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.set_nonblocking(true)?;
    let sock = raw_socket(libc::AF_INET, libc::SOCK_STREAM)?;
    let sa = sockaddr_in(v4(listener.local_addr()?)?);
    let len = size_of::<libc::sockaddr_in>() as SocketAddrLen;
    let e = opcode::Connect::new(Fd(sock.as_raw_fd()), opaque(&sa), len).build().user_data(1);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Ok(0), "connect: {:?}", got[0].result());
    let (mut server, from) = accept_within(&listener, PATIENCE)?;
    ensure!(v4(from)? == local_addr(sock.as_raw_fd())?, "listener saw {from}");
    ensure!(peer_addr(sock.as_raw_fd())? == v4(listener.local_addr()?)?, "connected elsewhere");
    server.write_all(b"hi")?;
    let mut client = TcpStream::from(sock);
    let mut two = [0u8; 2];
    client.set_read_timeout(Some(PATIENCE))?;
    client.read_exact(&mut two)?;
    ensure!(&two == b"hi", "client read {two:?}");
    // A port nobody listens on.
    let closed = closed_port()?;
    let sock = raw_socket(libc::AF_INET, libc::SOCK_STREAM)?;
    let sa = sockaddr_in(closed);
    let e = opcode::Connect::new(Fd(sock.as_raw_fd()), opaque(&sa), len).build().user_data(2);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Err(Errno::CONNREFUSED), "connect to {closed}: {:?}", got[0].result());
    Ok(())
}

/// Accept returns a connected fd with the peer address filled in and the
/// asked flags; data goes both ways.
fn accept_carries_data_both_ways<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut peer: libc::sockaddr_storage = unsafe { zeroed() };
    let mut peer_len = size_of::<libc::sockaddr_storage>() as SocketAddrLen;
    let e = opcode::Accept::new(
        Fd(listener.as_raw_fd()),
        (&mut peer as *mut libc::sockaddr_storage).cast::<SocketAddrOpaque>(),
        &mut peer_len,
    )
    .flags(SocketFlags::NONBLOCK | SocketFlags::CLOEXEC)
    .build()
    .user_data(1);
    push_all(&mut ring, &[S::from(e)])?;
    // The accept is now waiting; connecting needs no ring work.
    let mut client = TcpStream::connect(listener.local_addr()?)?;
    client.set_read_timeout(Some(PATIENCE))?;
    let got = reap(&mut ring, 1)?;
    let server = owned(got[0].result().context("accept")?);
    let fd = server.as_raw_fd();
    ensure!(peer_len as usize == size_of::<libc::sockaddr_in>(), "addrlen became {peer_len}");
    ensure!(peer.ss_family as i32 == libc::AF_INET, "peer family {}", peer.ss_family);
    // SAFETY: the kernel wrote a sockaddr_in (family checked above).
    let sin = unsafe { *(&peer as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
    ensure!(from_sockaddr_in(&sin) == v4(client.local_addr()?)?, "peer address differs from the client's");
    ensure!(status_flags(fd)? & libc::O_NONBLOCK != 0, "accepted fd lacks O_NONBLOCK");
    ensure!(fd_flags(fd)? & libc::FD_CLOEXEC != 0, "accepted fd lacks FD_CLOEXEC");
    let mut server = TcpStream::from(server);
    client.write_all(b"ping")?;
    let mut buf = [0u8; 4];
    server.set_nonblocking(false)?;
    server.set_read_timeout(Some(PATIENCE))?;
    server.read_exact(&mut buf)?;
    ensure!(&buf == b"ping", "server read {buf:?}");
    server.write_all(b"pong")?;
    client.read_exact(&mut buf)?;
    ensure!(&buf == b"pong", "client read {buf:?}");
    // Accept on a socket that is not listening.
    let idle = raw_socket(libc::AF_INET, libc::SOCK_STREAM)?;
    let e = opcode::Accept::new(Fd(idle.as_raw_fd()), std::ptr::null_mut(), std::ptr::null_mut()).build().user_data(2);
    let bad = opcode::Accept::new(Fd(-1), std::ptr::null_mut(), std::ptr::null_mut()).build().user_data(3);
    push_all(&mut ring, &[S::from(e), S::from(bad)])?;
    let mut got = reap(&mut ring, 2)?;
    got.sort_by_key(|c| c.user_data_u64());
    ensure!(got[0].result() == Err(Errno::INVAL), "accept on a non-listening socket: {:?}", got[0].result());
    ensure!(got[1].result() == Err(Errno::BADF), "accept on fd -1: {:?}", got[1].result());
    Ok(())
}

/// AcceptMulti posts one F_MORE completion per client; shutting the
/// listener down ends it with a final completion without F_MORE.
fn accept_multishot_until_shutdown<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let lfd = listener.as_raw_fd();
    let e = opcode::AcceptMulti::new(Fd(lfd)).flags(SocketFlags::CLOEXEC).build().user_data(7);
    push_all(&mut ring, &[S::from(e)])?;
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(TcpStream::connect(listener.local_addr()?)?);
    }
    let got = reap(&mut ring, 3)?;
    ensure!(got.len() == 3, "{} completions for 3 clients", got.len());
    let mut peers = Vec::new();
    for c in &got {
        ensure!(c.user_data_u64() == 7, "user_data {}", c.user_data_u64());
        ensure!(cqueue::more(c.flags()), "accept completion without F_MORE: {c:?}");
        let fd = owned(c.result().context("multishot accept")?);
        ensure!(fd_flags(fd.as_raw_fd())? & libc::FD_CLOEXEC != 0, "no FD_CLOEXEC");
        peers.push(peer_addr(fd.as_raw_fd())?);
    }
    let mut want: Vec<SocketAddrV4> = clients.iter().map(|c| v4(c.local_addr()?)).collect::<anyhow::Result<_>>()?;
    want.sort();
    peers.sort();
    ensure!(peers == want, "accepted {peers:?}, clients are {want:?}");
    // shutdown(2) on the listener stops listening and wakes the request.
    // SAFETY: plain syscall on a socket we own.
    ensure!(unsafe { libc::shutdown(lfd, libc::SHUT_RDWR) } == 0, "shutdown listener");
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].user_data_u64() == 7, "user_data {}", got[0].user_data_u64());
    ensure!(!cqueue::more(got[0].flags()), "final completion still has F_MORE: {:?}", got[0]);
    ensure!(got[0].result() == Err(Errno::INVAL), "final result {:?}", got[0].result());
    // Into kernel-picked slots: the results are slot numbers.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    ring.submitter().register_files_sparse(4).context("register_files_sparse")?;
    let e = opcode::AcceptMulti::new(Fd(listener.as_raw_fd())).allocate_file_index(true).build().user_data(8);
    push_all(&mut ring, &[S::from(e)])?;
    let _a = TcpStream::connect(listener.local_addr()?)?;
    let _b = TcpStream::connect(listener.local_addr()?)?;
    let got = reap(&mut ring, 2)?;
    let mut slots: Vec<u32> = got.iter().map(|c| c.result()).collect::<Result<_, _>>().context("accept to slot")?;
    ensure!(got.iter().all(|c| cqueue::more(c.flags())), "slot completions lack F_MORE");
    slots.sort();
    slots.dedup();
    ensure!(slots.len() == 2 && slots.iter().all(|s| *s < 4), "slots {slots:?}");
    // SAFETY: plain syscall on a socket we own.
    ensure!(unsafe { libc::shutdown(listener.as_raw_fd(), libc::SHUT_RDWR) } == 0, "shutdown listener");
    let got = reap(&mut ring, 1)?;
    ensure!(!cqueue::more(got[0].flags()), "final completion still has F_MORE");
    Ok(())
}

/// Accept into a chosen and a kernel-picked slot; the slot is the
/// connection (a Send through it reaches the client).
fn accept_into_fixed_slot<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    ring.submitter().register_files_sparse(8).context("register_files_sparse")?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let lfd = listener.as_raw_fd();
    let slot5 = DestinationSlot::try_from_slot_target(5).map_err(|t| anyhow::anyhow!("slot {t}"))?;
    let a = opcode::Accept::new(Fd(lfd), std::ptr::null_mut(), std::ptr::null_mut())
        .file_index(Some(slot5))
        .build()
        .user_data(1);
    push_all(&mut ring, &[S::from(a)])?;
    let mut c1 = TcpStream::connect(listener.local_addr()?)?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Ok(0), "accept into slot 5: {:?}", got[0].result());
    let a = opcode::Accept::new(Fd(lfd), std::ptr::null_mut(), std::ptr::null_mut())
        .file_index(Some(DestinationSlot::auto_target()))
        .build()
        .user_data(2);
    push_all(&mut ring, &[S::from(a)])?;
    let mut c2 = TcpStream::connect(listener.local_addr()?)?;
    let got = reap(&mut ring, 1)?;
    let picked = got[0].result().context("accept into a picked slot")?;
    ensure!(picked < 8 && picked != 5, "kernel picked slot {picked}");
    let s1 = opcode::Send::new(Fixed(5), b"one".as_ptr(), 3).build().user_data(3);
    let s2 = opcode::Send::new(Fixed(picked), b"two".as_ptr(), 3).build().user_data(4);
    push_all(&mut ring, &[S::from(s1), S::from(s2)])?;
    for c in reap(&mut ring, 2)? {
        ensure!(c.result() == Ok(3), "send via slot (ud {}): {:?}", c.user_data_u64(), c.result());
    }
    let mut buf = [0u8; 3];
    for (c, want) in [(&mut c1, b"one"), (&mut c2, b"two")] {
        c.set_read_timeout(Some(PATIENCE))?;
        c.read_exact(&mut buf)?;
        ensure!(&buf == want, "client read {buf:?}");
    }
    Ok(())
}

/// DONTWAIT fails with EAGAIN when nobody is waiting to be accepted;
/// POLL_FIRST waits for a client and accepts it.
fn accept_dontwait_and_poll_first<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let lfd = listener.as_raw_fd();
    let null = std::ptr::null_mut();
    let e = opcode::Accept::new(Fd(lfd), null, std::ptr::null_mut()).dontwait(true).build().user_data(1);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    if got[0].result() == Err(Errno::INVAL) {
        skip!("kernel refuses IORING_ACCEPT_DONTWAIT (needs 6.10)");
    }
    ensure!(got[0].result() == Err(Errno::AGAIN), "dontwait accept, nobody pending: {:?}", got[0].result());
    // With a client already queued, DONTWAIT accepts it.
    let c = TcpStream::connect(listener.local_addr()?)?;
    let e = opcode::Accept::new(Fd(lfd), null, std::ptr::null_mut()).dontwait(true).build().user_data(2);
    push_all(&mut ring, &[S::from(e)])?;
    let got = reap(&mut ring, 1)?;
    let fd = owned(got[0].result().context("dontwait accept with a client")?);
    ensure!(peer_addr(fd.as_raw_fd())? == v4(c.local_addr()?)?, "accepted someone else");
    // Multishot with DONTWAIT: accepts what is queued, then ends with EAGAIN.
    let _a = TcpStream::connect(listener.local_addr()?)?;
    let _b = TcpStream::connect(listener.local_addr()?)?;
    let e = opcode::AcceptMulti::new(Fd(lfd)).dontwait(true).build().user_data(3);
    push_all(&mut ring, &[S::from(e)])?;
    let mut got = Vec::new();
    while got.last().is_none_or(|c: &cqueue::Entry| cqueue::more(c.flags())) {
        got.extend(reap(&mut ring, 1)?);
        ensure!(got.len() <= 3, "more completions than expected: {got:?}");
    }
    let fds: Vec<OwnedFd> = got[..got.len() - 1].iter().map(|c| c.result().map(owned)).collect::<Result<_, _>>()?;
    ensure!(fds.len() == 2, "multishot dontwait accepted {} clients: {got:?}", fds.len());
    let last = got.last().context("no completion")?;
    ensure!(last.result() == Err(Errno::AGAIN), "multishot dontwait ended with {:?}", last.result());
    // POLL_FIRST with no client yet: waits, then accepts.
    let e = opcode::Accept::new(Fd(lfd), null, std::ptr::null_mut()).poll_first(true).build().user_data(4);
    push_all(&mut ring, &[S::from(e)])?;
    let c = TcpStream::connect(listener.local_addr()?)?;
    let got = reap(&mut ring, 1)?;
    let fd = owned(got[0].result().context("poll-first accept")?);
    ensure!(peer_addr(fd.as_raw_fd())? == v4(c.local_addr()?)?, "poll-first accepted someone else");
    Ok(())
}

/// Shutdown(SHUT_WR) makes the peer read EOF while the other direction
/// still works; a non-socket gives ENOTSOCK.
fn shutdown_write_gives_peer_eof<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (mut a, mut b) = tcp_pair()?;
    a.write_all(b"last")?;
    let e = opcode::Shutdown::new(Fd(a.as_raw_fd()), libc::SHUT_WR).build().user_data(1);
    let pipe = not_a_socket()?;
    let bad = opcode::Shutdown::new(Fd(pipe.as_raw_fd()), libc::SHUT_WR).build().user_data(2);
    push_all(&mut ring, &[S::from(e), S::from(bad)])?;
    let mut got = reap(&mut ring, 2)?;
    got.sort_by_key(|c| c.user_data_u64());
    ensure!(got[0].result() == Ok(0), "shutdown: {:?}", got[0].result());
    ensure!(got[1].result() == Err(Errno::NOTSOCK), "shutdown of a pipe: {:?}", got[1].result());
    let mut rest = Vec::new();
    b.read_to_end(&mut rest)?;
    ensure!(rest == b"last", "peer read {rest:?} before EOF");
    b.write_all(b"back")?;
    let mut buf = [0u8; 4];
    a.read_exact(&mut buf)?;
    ensure!(&buf == b"back", "the read side was shut too: {buf:?}");
    Ok(())
}

// ---- socket helpers (also used by send.rs) ----

/// Wraps a descriptor returned in a CQE.
pub fn owned(fd: u32) -> OwnedFd {
    // SAFETY: the kernel just created this fd for us; nobody else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
}

/// A fresh CLOEXEC socket made with socket(2).
pub fn raw_socket(domain: i32, ty: i32) -> anyhow::Result<OwnedFd> {
    // SAFETY: plain syscall; the result is checked.
    let fd = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, 0) };
    ensure!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
    // SAFETY: fd was just created and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The pointer type the builders take for a sockaddr.
pub fn opaque<T>(sa: &T) -> *const SocketAddrOpaque {
    (sa as *const T).cast()
}

pub fn sockaddr_in(addr: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from(*addr.ip()).to_be() },
        sin_zero: [0; 8],
    }
}

pub fn from_sockaddr_in(sin: &libc::sockaddr_in) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)), u16::from_be(sin.sin_port))
}

pub fn v4(addr: std::net::SocketAddr) -> anyhow::Result<SocketAddrV4> {
    match addr {
        std::net::SocketAddr::V4(a) => Ok(a),
        other => bail!("not IPv4: {other}"),
    }
}

fn name_of(
    fd: RawFd,
    f: unsafe extern "C" fn(RawFd, *mut libc::sockaddr, *mut libc::socklen_t) -> i32,
) -> anyhow::Result<SocketAddrV4> {
    // SAFETY: all-zero is a valid sockaddr_in.
    let mut sin: libc::sockaddr_in = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: sin/len describe a writable sockaddr_in.
    let r = unsafe { f(fd, (&mut sin as *mut libc::sockaddr_in).cast(), &mut len) };
    ensure!(r == 0, "get*name: {}", std::io::Error::last_os_error());
    ensure!(sin.sin_family as i32 == libc::AF_INET, "family {}", sin.sin_family);
    Ok(from_sockaddr_in(&sin))
}

/// getsockname(2) of an IPv4 socket.
pub fn local_addr(fd: RawFd) -> anyhow::Result<SocketAddrV4> {
    name_of(fd, libc::getsockname)
}

/// getpeername(2) of an IPv4 socket.
pub fn peer_addr(fd: RawFd) -> anyhow::Result<SocketAddrV4> {
    name_of(fd, libc::getpeername)
}

/// An int socket option.
pub fn sockopt(fd: RawFd, level: i32, name: i32) -> anyhow::Result<i32> {
    let mut v: i32 = 0;
    let mut len = size_of::<i32>() as libc::socklen_t;
    // SAFETY: v/len describe a writable int.
    let r = unsafe { libc::getsockopt(fd, level, name, (&mut v as *mut i32).cast(), &mut len) };
    ensure!(r == 0, "getsockopt({level}, {name}): {}", std::io::Error::last_os_error());
    Ok(v)
}

fn fd_flags(fd: RawFd) -> anyhow::Result<i32> {
    // SAFETY: plain fcntl query.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    ensure!(r >= 0, "F_GETFD: {}", std::io::Error::last_os_error());
    Ok(r)
}

fn status_flags(fd: RawFd) -> anyhow::Result<i32> {
    // SAFETY: plain fcntl query.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    ensure!(r >= 0, "F_GETFL: {}", std::io::Error::last_os_error());
    Ok(r)
}

/// A listening socket's accept(2), plain fd.
fn accept_raw(fd: RawFd) -> anyhow::Result<OwnedFd> {
    // SAFETY: null address pointers are allowed.
    let r = unsafe { libc::accept4(fd, std::ptr::null_mut(), std::ptr::null_mut(), libc::SOCK_CLOEXEC) };
    ensure!(r >= 0, "accept4: {}", std::io::Error::last_os_error());
    Ok(owned(r as u32))
}

/// Accepts on a non-blocking listener, retrying for up to `within`.
fn accept_within(l: &TcpListener, within: Duration) -> anyhow::Result<(TcpStream, std::net::SocketAddr)> {
    let deadline = std::time::Instant::now() + within;
    loop {
        match l.accept() {
            Ok(x) => return Ok(x),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e).context("accept on the std listener"),
        }
    }
}

/// A loopback address where nothing listens (a port just released).
pub fn closed_port() -> anyhow::Result<SocketAddrV4> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    v4(l.local_addr()?)
}

/// A descriptor that is not a socket (the read end of a pipe).
fn not_a_socket() -> anyhow::Result<OwnedFd> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    ensure!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == 0, "pipe2");
    // SAFETY: both fds were just created; the write end is closed at once.
    unsafe {
        drop(OwnedFd::from_raw_fd(fds[1]));
        Ok(OwnedFd::from_raw_fd(fds[0]))
    }
}
