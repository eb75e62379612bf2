//! Tests of `src/opcode/cmd.rs` on the kernel: socket commands over
//! loopback, and driver commands sent where no driver listens.

use std::any::Any;
use std::io::Write as _;
use std::mem::size_of;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

use anyhow::{ensure, Context};
use urix::types::Fd;
use urix::{cqueue, opcode, squeue, Errno};

use super::recv::{inq, wait_inq};
use crate::harness::{Ctx, Req, Test};
use crate::util::one;
use crate::util::{kernel_version, needs_kernel, tcp_pair};
use crate::{skip, test};

/// `SOCKET_URING_OP_SIOCINQ`, the socket `cmd_op` the raw-command tests use
/// to get a checkable answer.
const SIOCINQ_OP: u32 = 0;

const CMD: Req = Req::Op(opcode::UringCmd16::CODE, "URING_CMD");

pub fn tests() -> Vec<Test> {
    vec![
        test!(setsockopt_is_seen_by_getsockopt, requires = [CMD]),
        test!(getsockopt_reads_what_setsockopt_set, requires = [CMD]),
        test!(siocinq_counts_unread_bytes, requires = [CMD]),
        test!(siocoutq_counts_unacked_bytes, requires = [CMD]),
        test!(uring_cmd16_socket_op_and_no_driver, requires = [CMD]),
        test!(uring_cmd80_on_sqe128_rings, requires = [CMD]),
        test!(uring_cmd128_on_sqe128_rings, requires = [Req::Op(opcode::UringCmd128::CODE, "URING_CMD128")]),
        test!(getsockname_and_getpeername_name_the_ends, requires = [CMD]),
        crate::test_once!(zone_reset_all_empties_every_zone, requires = [CMD]),
    ]
}

fn getsockopt_int(fd: i32, level: i32, name: i32) -> anyhow::Result<i32> {
    let mut v: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: v and len are valid for the kernel to write.
    let rc = unsafe { libc::getsockopt(fd, level, name, (&mut v as *mut libc::c_int).cast(), &mut len) };
    ensure!(rc == 0, "getsockopt: {}", std::io::Error::last_os_error());
    Ok(v)
}

fn setsockopt_int(fd: i32, level: i32, name: i32, v: i32) -> anyhow::Result<()> {
    // SAFETY: v is a valid int for the kernel to read.
    let rc = unsafe {
        libc::setsockopt(fd, level, name, (&v as *const i32).cast(), size_of::<libc::c_int>() as libc::socklen_t)
    };
    ensure!(rc == 0, "setsockopt: {}", std::io::Error::last_os_error());
    Ok(())
}

fn setsockopt_is_seen_by_getsockopt<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 7, "socket URING_CMD operations")?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let (client, _server) = tcp_pair()?;
    let fd = client.as_raw_fd();
    ensure!(getsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY)? == 0, "TCP_NODELAY starts off");
    let on: i32 = 1;
    let e = opcode::SetSockOpt::new(
        Fd(fd),
        libc::IPPROTO_TCP as u32,
        libc::TCP_NODELAY as u32,
        (&on as *const i32).cast(),
        4,
    )
    .build();
    let c = one(&mut ring, e)?;
    ensure!(c.result() == Ok(0), "setsockopt TCP_NODELAY: {:?}", c.result());
    ensure!(getsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY)? == 1, "TCP_NODELAY not set");
    // SOL_SOCKET: the kernel doubles SO_RCVBUF, as for setsockopt(2).
    let size: i32 = 65536;
    let e = opcode::SetSockOpt::new(
        Fd(fd),
        libc::SOL_SOCKET as u32,
        libc::SO_RCVBUF as u32,
        (&size as *const i32).cast(),
        4,
    )
    .build();
    let c = one(&mut ring, e)?;
    ensure!(c.result() == Ok(0), "setsockopt SO_RCVBUF: {:?}", c.result());
    let got = getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF)?;
    ensure!(got == 2 * size, "SO_RCVBUF reads {got}, want {}", 2 * size);
    // Too short an option value.
    let e = opcode::SetSockOpt::new(
        Fd(fd),
        libc::IPPROTO_TCP as u32,
        libc::TCP_NODELAY as u32,
        (&on as *const i32).cast(),
        1,
    )
    .build();
    let c = one(&mut ring, e)?;
    ensure!(c.result() == Err(Errno::INVAL), "optlen 1: {:?}", c.result());
    Ok(())
}

fn getsockopt_reads_what_setsockopt_set<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    needs_kernel(6, 7, "socket URING_CMD operations")?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let (client, _server) = tcp_pair()?;
    let fd = client.as_raw_fd();
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, 40000)?;
    let want = getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF)?;
    let mut v: [i32; 2] = [-1, -1];
    let e = opcode::GetSockOpt::new(Fd(fd), libc::SOL_SOCKET as u32, libc::SO_SNDBUF as u32, v.as_mut_ptr().cast(), 8)
        .build();
    let c = one(&mut ring, e)?;
    ensure!(c.result() == Ok(4), "getsockopt SO_SNDBUF: {:?} (want the 4 bytes written)", c.result());
    ensure!(v == [want, -1], "read {v:?}, libc reads {want}");
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    let mut k: i32 = 0;
    let e = opcode::GetSockOpt::new(
        Fd(fd),
        libc::SOL_SOCKET as u32,
        libc::SO_KEEPALIVE as u32,
        (&mut k as *mut i32).cast(),
        4,
    )
    .build();
    let c = one(&mut ring, e)?;
    ensure!(c.result() == Ok(4) && k == 1, "SO_KEEPALIVE: {:?}, {k}", c.result());
    // Only SOL_SOCKET is supported by the io_uring getsockopt.
    let e = opcode::GetSockOpt::new(
        Fd(fd),
        libc::IPPROTO_TCP as u32,
        libc::TCP_NODELAY as u32,
        (&mut k as *mut i32).cast(),
        4,
    )
    .build();
    let c = one(&mut ring, e)?;
    ensure!(c.result() == Err(Errno::OPNOTSUPP), "IPPROTO_TCP level: {:?}", c.result());
    Ok(())
}

fn siocinq_counts_unread_bytes<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 7, "socket URING_CMD operations")?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let (mut client, server) = tcp_pair()?;
    let fd = server.as_raw_fd();
    let c = one(&mut ring, opcode::SiocInq::new(Fd(fd)).build())?;
    ensure!(c.result() == Ok(0), "nothing sent yet: {:?}", c.result());
    client.write_all(&[7u8; 37])?;
    wait_inq(fd, 37)?;
    let c = one(&mut ring, opcode::SiocInq::new(Fd(fd)).build())?;
    ensure!(c.result() == Ok(37), "after 37 bytes: {:?}", c.result());
    // Unix sockets have no protocol ioctl hook.
    let (a, _b) = UnixStream::pair()?;
    let c = one(&mut ring, opcode::SiocInq::new(Fd(a.as_raw_fd())).build())?;
    ensure!(c.result() == Err(Errno::OPNOTSUPP), "unix socket: {:?}", c.result());
    let c = one(&mut ring, opcode::SiocInq::new(Fd(-3)).build())?;
    ensure!(c.result() == Err(Errno::BADF), "bad fd: {:?}", c.result());
    Ok(())
}

fn siocoutq_counts_unacked_bytes<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 7, "socket URING_CMD operations")?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let (client, server) = tcp_pair()?;
    let fd = client.as_raw_fd();
    let c = one(&mut ring, opcode::SiocOutq::new(Fd(fd)).build())?;
    ensure!(c.result() == Ok(0), "nothing sent yet: {:?}", c.result());
    // Fill the peer's receive window (it never reads) until sends would
    // block: what is left sits unacknowledged in our send queue.
    setsockopt_int(server.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, 4096)?;
    client.set_nonblocking(true)?;
    let chunk = [1u8; 4096];
    let mut sent = 0usize;
    loop {
        match (&client).write(&chunk) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e).context("filling the send queue"),
        }
        ensure!(sent < 64 << 20, "the peer kept accepting data");
    }
    let mut libc_outq: libc::c_int = 0;
    // SAFETY: SIOCOUTQ (= TIOCOUTQ) writes one int.
    ensure!(unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut libc_outq) } == 0, "ioctl SIOCOUTQ");
    let c = one(&mut ring, opcode::SiocOutq::new(Fd(fd)).build())?;
    let outq = c.result().map_err(|e| anyhow::anyhow!("SIOCOUTQ: {e}"))?;
    ensure!(outq > 0 && outq as usize <= sent, "SIOCOUTQ {outq} after sending {sent}");
    ensure!(outq as i32 == libc_outq, "SIOCOUTQ {outq}, ioctl says {libc_outq}");
    ensure!(sent - outq as usize == inq(server.as_raw_fd())?, "sent - outq must be what the peer holds");
    Ok(())
}

fn uring_cmd16_socket_op_and_no_driver<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    // A raw command with a socket cmd_op reaches the socket handler.
    let (mut client, server) = tcp_pair()?;
    client.write_all(b"12345")?;
    wait_inq(server.as_raw_fd(), 5)?;
    let c = one(&mut ring, opcode::UringCmd16::new(Fd(server.as_raw_fd()), SIOCINQ_OP).build())?;
    // Sockets take commands since 6.7; before, they have no handler.
    let want = if kernel_version() >= (6, 7) { Ok(5) } else { Err(Errno::OPNOTSUPP) };
    ensure!(c.result() == want, "UringCmd16 SIOCINQ: {:?}, want {want:?}", c.result());
    // A regular file has no ->uring_cmd handler.
    let file = crate::util::tempfile()?;
    let e = opcode::UringCmd16::new(Fd(file.as_raw_fd()), 1).cmd([0xab; 16]).addr(Some(0x1000)).build();
    let c = one(&mut ring, e)?;
    ensure!(c.result() == Err(Errno::OPNOTSUPP), "regular file: {:?}", c.result());
    // Unknown socket command.
    let c = one(&mut ring, opcode::UringCmd16::new(Fd(server.as_raw_fd()), 0x7777).build())?;
    ensure!(c.result() == Err(Errno::OPNOTSUPP), "unknown socket cmd_op: {:?}", c.result());
    Ok(())
}

/// `e` as the ring's entry type, if the ring takes 128-byte entries.
fn as_sqe128<S: squeue::EntryMarker + 'static>(e: squeue::Entry128) -> Option<S> {
    (Box::new(e) as Box<dyn Any>).downcast::<S>().ok().map(|b| *b)
}

fn uring_cmd80_on_sqe128_rings<S: squeue::EntryMarker + 'static, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let (mut client, server) = tcp_pair()?;
    let Some(e) = as_sqe128::<S>(opcode::UringCmd80::new(Fd(server.as_raw_fd()), SIOCINQ_OP).build()) else {
        skip!("UringCmd80 needs a ring with 128-byte SQEs (flavour {})", ctx.flavour.name);
    };
    let mut ring = ctx.ring::<S, C>(8)?;
    client.write_all(b"eighty")?;
    wait_inq(server.as_raw_fd(), 6)?;
    let c = one(&mut ring, e)?;
    let want = if kernel_version() >= (6, 7) { Ok(6) } else { Err(Errno::OPNOTSUPP) };
    ensure!(c.result() == want, "UringCmd80 SIOCINQ: {:?}, want {want:?}", c.result());
    let file = crate::util::tempfile()?;
    let e = as_sqe128::<S>(opcode::UringCmd80::new(Fd(file.as_raw_fd()), 1).cmd([0x5a; 80]).build())
        .context("entry type")?;
    let c = one(&mut ring, e)?;
    ensure!(c.result() == Err(Errno::OPNOTSUPP), "regular file: {:?}", c.result());
    Ok(())
}

fn uring_cmd128_on_sqe128_rings<S: squeue::EntryMarker + 'static, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let (mut client, server) = tcp_pair()?;
    let Some(e) = as_sqe128::<S>(opcode::UringCmd128::new(Fd(server.as_raw_fd()), SIOCINQ_OP).build()) else {
        skip!("UringCmd128 is tested on rings with 128-byte SQEs (flavour {})", ctx.flavour.name);
    };
    let mut ring = ctx.ring::<S, C>(8)?;
    client.write_all(b"one-two-eight")?;
    wait_inq(server.as_raw_fd(), 13)?;
    let c = one(&mut ring, e)?;
    ensure!(c.result() == Ok(13), "UringCmd128 SIOCINQ: {:?}", c.result());
    Ok(())
}

fn getsockname_and_getpeername_name_the_ends<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    needs_kernel(6, 19, "SOCKET_URING_OP_GETSOCKNAME")?;
    use urix::types::{SocketAddrLen, SocketAddrStorage};
    let mut ring = ctx.ring::<S, C>(8)?;
    let (client, server) = tcp_pair()?;
    let mut port_of = |peer: bool| -> anyhow::Result<(u16, u16)> {
        // SAFETY: an all-zero sockaddr_storage is valid.
        let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = size_of::<libc::sockaddr_storage>() as SocketAddrLen;
        let ptr = (&mut addr as *mut libc::sockaddr_storage).cast::<SocketAddrStorage>();
        let e = opcode::GetSockName::new(Fd(client.as_raw_fd()), ptr, &mut len).peer(peer).build();
        let c = one(&mut ring, e)?;
        ensure!(c.result() == Ok(0), "getsockname(peer={peer}): {:?}", c.result());
        ensure!(len as usize == size_of::<libc::sockaddr_in>(), "length {len}");
        ensure!(i32::from(addr.ss_family) == libc::AF_INET, "family {}", addr.ss_family);
        // SAFETY: an AF_INET address, as just checked.
        let sin = unsafe { *(&addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
        Ok((u16::from_be(sin.sin_port), len as u16))
    };
    let (mine, _) = port_of(false)?;
    let (theirs, _) = port_of(true)?;
    ensure!(mine == client.local_addr()?.port(), "own port {mine}, std says {}", client.local_addr()?.port());
    ensure!(theirs == server.local_addr()?.port(), "peer port {theirs}, std says {}", server.local_addr()?.port());
    Ok(())
}

/// BLOCK_URING_CMD_ZONE_RESET_ALL (7.3) on the zoned device the VM runner
/// names in IO_URING_TEST_ZONED_DEV (QEMU's zoned NVMe namespace). A write
/// where a zone's write pointer is not fails; after the reset it succeeds
/// and what was written reads back as zeros.
fn zone_reset_all_empties_every_zone(_: &Ctx) -> anyhow::Result<()> {
    use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
    needs_kernel(7, 3, "BLOCK_URING_CMD_ZONE_RESET_ALL")?;
    let dev = match std::env::var("IO_URING_TEST_ZONED_DEV") {
        Ok(d) if !d.is_empty() => d,
        _ => skip!("no zoned block device (IO_URING_TEST_ZONED_DEV unset: .ci/kernels gives one to the 7.3 VM)"),
    };
    let name = dev.rsplit('/').next().unwrap_or_default();
    let zone_sectors: u64 =
        std::fs::read_to_string(format!("/sys/block/{name}/queue/chunk_sectors"))?.trim().parse()?;
    let zone = zone_sectors * 512;
    ensure!(zone >= 8192, "zone size {zone}");
    let f = std::fs::OpenOptions::new().read(true).write(true).custom_flags(libc::O_DIRECT).open(&dev)?;
    let mut page = crate::util::Pages::new(4096)?;
    page.bytes().fill(0xa5);
    // Fill the start of zones 0 and 1 (sequential writes at each pointer).
    for z in 0..2 {
        f.write_all_at(page.bytes(), z * zone).with_context(|| format!("write at zone {z}'s pointer"))?;
    }
    ensure!(f.write_all_at(page.bytes(), 0).is_err(), "a write behind zone 0's pointer succeeded: not a zoned device?");
    let mut ring = urix::IoUring::new(4)?;
    let c = one(&mut ring, opcode::ZoneResetAll::new(Fd(f.as_raw_fd())).build())?;
    ensure!(c.result() == Ok(0), "ZONE_RESET_ALL: {:?}", c.result());
    for z in 0..2 {
        page.bytes().fill(0xff);
        f.read_exact_at(page.bytes(), z * zone)?;
        ensure!(page.bytes().iter().all(|&b| b == 0), "zone {z} still holds data after the reset");
    }
    page.bytes().fill(0x5a);
    f.write_all_at(page.bytes(), 0).context("write at zone 0's start after the reset")?;
    Ok(())
}
