//! Commands: [`UringCmd16`], [`UringCmd80`], [`UringCmd128`] pass a
//! driver-defined command to the file's `->uring_cmd` handler (NVMe
//! passthrough, ublk, ...); the socket commands [`SetSockOpt`],
//! [`GetSockOpt`], [`SiocInq`], [`SiocOutq`] and [`GetSockName`] are the
//! same operation aimed at a socket, and [`ZoneResetAll`] at a zoned block
//! device.
//!
//! All of them complete with a command-specific result; a file without a
//! `->uring_cmd` handler (a regular file, a pipe) gives `-EOPNOTSUPP`.

use super::{entry, set_target, sqe};
use crate::squeue::{Entry, Entry128};
use crate::sys::{
    Sqe, BLOCK_URING_CMD_ZONE_RESET_ALL, SOCKET_URING_OP_GETSOCKNAME, SOCKET_URING_OP_GETSOCKOPT,
    SOCKET_URING_OP_SETSOCKOPT, SOCKET_URING_OP_SIOCINQ, SOCKET_URING_OP_SIOCOUTQ, URING_CMD_FIXED,
};
use crate::types::sealed::{Target, UseFixed};
use crate::types::{SocketAddrLen, SocketAddrStorage};
use core::ffi::c_void;

/// `IORING_OP_URING_CMD`.
const URING_CMD: u8 = 46;

/// The header shared by every command: file, `cmd_op`, and the optional
/// registered buffer and `addr` of the driver commands.
#[inline]
fn cmd_sqe(opcode: u8, fd: Target, cmd_op: u32, buf_index: Option<u16>, addr: Option<u64>) -> Sqe {
    let mut sqe = sqe(opcode, 0);
    set_target(&mut sqe, fd);
    sqe.set_cmd_op(cmd_op);
    if let Some(index) = buf_index {
        sqe.buf_index = index;
        sqe.op_flags |= URING_CMD_FIXED;
    }
    if let Some(addr) = addr {
        sqe.addr = addr;
    }
    sqe
}

/// An 80-byte command as an SQE128: its first 16 bytes in the SQE's `cmd`
/// field (byte 48 on), the other 64 in the second half.
#[inline]
fn split_cmd80(mut sqe: Sqe, cmd: &[u8; 80]) -> Entry128 {
    let mut head = [0u8; 16];
    head.copy_from_slice(&cmd[..16]);
    sqe.set_cmd16(&head);
    let mut tail = [0u8; 64];
    tail.copy_from_slice(&cmd[16..]);
    Entry128(entry(sqe), tail)
}

/// Sends command `cmd_op` with a 16-byte payload to the driver behind `fd`
/// (`IORING_OP_URING_CMD`, 5.19; no man page; kernel: `io_uring/uring_cmd.c`).
///
/// Fits a normal 64-byte SQE. `buf_index` names a registered buffer for the
/// driver to use (`IORING_URING_CMD_FIXED`); `addr` and the payload are
/// driver-defined.
#[derive(Debug)]
pub struct UringCmd16 {
    fd: Target,
    cmd_op: u32,
    buf_index: Option<u16>,
    cmd: [u8; 16],
    addr: Option<u64>,
}

impl UringCmd16 {
    /// The opcode number, `IORING_OP_URING_CMD`.
    pub const CODE: u8 = 46;

    /// Command `cmd_op` for `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, cmd_op: u32) -> Self {
        UringCmd16 { fd: fd.into_target(), cmd_op, buf_index: None, cmd: [0; 16], addr: None }
    }

    setters! {
        /// A registered buffer for the command (default none).
        buf_index: Option<u16>;
        /// The command payload (default all zero).
        cmd: [u8; 16];
        /// The SQE `addr` word, when the driver reads it (default none: 0).
        addr: Option<u64>;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = cmd_sqe(Self::CODE, self.fd, self.cmd_op, self.buf_index, self.addr);
        sqe.set_cmd16(&self.cmd);
        entry(sqe)
    }
}

/// [`UringCmd16`] with an 80-byte payload, for rings set up with 128-byte
/// SQEs (`IORING_SETUP_SQE128`) (`IORING_OP_URING_CMD`, 5.19; no man page;
/// kernel: `io_uring/uring_cmd.c`).
#[derive(Debug)]
pub struct UringCmd80 {
    fd: Target,
    cmd_op: u32,
    buf_index: Option<u16>,
    cmd: [u8; 80],
    addr: Option<u64>,
}

impl UringCmd80 {
    /// The opcode number, `IORING_OP_URING_CMD`.
    pub const CODE: u8 = 46;

    /// Command `cmd_op` for `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, cmd_op: u32) -> Self {
        UringCmd80 { fd: fd.into_target(), cmd_op, buf_index: None, cmd: [0; 80], addr: None }
    }

    setters! {
        /// A registered buffer for the command (default none).
        buf_index: Option<u16>;
        /// The command payload (default all zero).
        cmd: [u8; 80];
        /// The SQE `addr` word, when the driver reads it (default none: 0).
        addr: Option<u64>;
    }

    /// The 128-byte submission entry.
    #[inline]
    pub fn build(self) -> Entry128 {
        let sqe = cmd_sqe(Self::CODE, self.fd, self.cmd_op, self.buf_index, self.addr);
        split_cmd80(sqe, &self.cmd)
    }
}

/// [`UringCmd80`] as its own opcode, which marks the SQE as 128 bytes, so
/// that rings with mixed SQE sizes (`IORING_SETUP_SQE_MIXED`) can carry it
/// (`IORING_OP_URING_CMD128`, 6.19; no man page; kernel: `io_uring/uring_cmd.c`).
///
/// Kernels before 6.19 reject the opcode with `-EINVAL`.
#[derive(Debug)]
pub struct UringCmd128 {
    fd: Target,
    cmd_op: u32,
    buf_index: Option<u16>,
    cmd: [u8; 80],
    addr: Option<u64>,
}

impl UringCmd128 {
    /// The opcode number, `IORING_OP_URING_CMD128`.
    pub const CODE: u8 = 64;

    /// Command `cmd_op` for `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, cmd_op: u32) -> Self {
        UringCmd128 { fd: fd.into_target(), cmd_op, buf_index: None, cmd: [0; 80], addr: None }
    }

    setters! {
        /// A registered buffer for the command (default none).
        buf_index: Option<u16>;
        /// The command payload (default all zero).
        cmd: [u8; 80];
        /// The SQE `addr` word, when the driver reads it (default none: 0).
        addr: Option<u64>;
    }

    /// The 128-byte submission entry.
    #[inline]
    pub fn build(self) -> Entry128 {
        let sqe = cmd_sqe(Self::CODE, self.fd, self.cmd_op, self.buf_index, self.addr);
        split_cmd80(sqe, &self.cmd)
    }
}

/// The SQE of a socket command: `cmd_op`, then `level`/`optname`,
/// `optlen` and `optval` where the command uses them.
#[inline]
fn sock_cmd(fd: Target, cmd_op: u32, level: u32, optname: u32, optval: u64, optlen: u32, flags: u32) -> Entry {
    let mut sqe = cmd_sqe(URING_CMD, fd, cmd_op, None, None);
    sqe.set_level_optname(level, optname);
    sqe.file_index = optlen;
    sqe.addr3 = optval;
    sqe.op_flags = flags;
    entry(sqe)
}

/// Sets a socket option, like `setsockopt(2)`
/// (`IORING_OP_URING_CMD` with `SOCKET_URING_OP_SETSOCKOPT`, 6.7;
/// no man page; kernel: `io_uring/cmd_net.c`).
///
/// Completes with 0. `optval[..optlen]` must stay valid until the CQE.
#[derive(Debug)]
pub struct SetSockOpt {
    fd: Target,
    level: u32,
    optname: u32,
    optval: *const c_void,
    optlen: u32,
    flags: u32,
}

impl SetSockOpt {
    /// The opcode number, `IORING_OP_URING_CMD`.
    pub const CODE: u8 = 46;

    /// Sets option `optname` of `level` on socket `fd` to `optval[..optlen]`.
    #[inline]
    pub fn new(fd: impl UseFixed, level: u32, optname: u32, optval: *const c_void, optlen: u32) -> Self {
        SetSockOpt { fd: fd.into_target(), level, optname, optval, optlen, flags: 0 }
    }

    setters! {
        /// `uring_cmd_flags` (default 0; no flag applies to sockets).
        flags: u32;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let optval = self.optval as u64;
        sock_cmd(self.fd, SOCKET_URING_OP_SETSOCKOPT, self.level, self.optname, optval, self.optlen, self.flags)
    }
}

/// Reads a socket option, like `getsockopt(2)`
/// (`IORING_OP_URING_CMD` with `SOCKET_URING_OP_GETSOCKOPT`, 6.7;
/// no man page; kernel: `io_uring/cmd_net.c`).
///
/// Completes with the number of bytes written to `optval` (the option's
/// length, at most `optlen`). Only `SOL_SOCKET` options are supported:
/// other levels give `-EOPNOTSUPP`. `optval[..optlen]` must stay valid until
/// the CQE.
#[derive(Debug)]
pub struct GetSockOpt {
    fd: Target,
    level: u32,
    optname: u32,
    optval: *mut c_void,
    optlen: u32,
    flags: u32,
}

impl GetSockOpt {
    /// The opcode number, `IORING_OP_URING_CMD`.
    pub const CODE: u8 = 46;

    /// Reads option `optname` of `level` on socket `fd` into
    /// `optval[..optlen]`.
    #[inline]
    pub fn new(fd: impl UseFixed, level: u32, optname: u32, optval: *mut c_void, optlen: u32) -> Self {
        GetSockOpt { fd: fd.into_target(), level, optname, optval, optlen, flags: 0 }
    }

    setters! {
        /// `uring_cmd_flags` (default 0; no flag applies to sockets).
        flags: u32;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let optval = self.optval as u64;
        sock_cmd(self.fd, SOCKET_URING_OP_GETSOCKOPT, self.level, self.optname, optval, self.optlen, self.flags)
    }
}

/// Asks how many received bytes are waiting to be read on a socket, like
/// `ioctl(fd, SIOCINQ)` (`IORING_OP_URING_CMD` with
/// `SOCKET_URING_OP_SIOCINQ`, 6.7; no man page; kernel: `io_uring/cmd_net.c`).
///
/// Completes with the byte count. Protocols without an `ioctl` hook (Unix
/// sockets, for one) give `-EOPNOTSUPP`.
#[derive(Debug)]
pub struct SiocInq {
    fd: Target,
}

impl SiocInq {
    /// The opcode number, `IORING_OP_URING_CMD`.
    pub const CODE: u8 = 46;

    /// Queries socket `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed) -> Self {
        SiocInq { fd: fd.into_target() }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        sock_cmd(self.fd, SOCKET_URING_OP_SIOCINQ, 0, 0, 0, 0, 0)
    }
}

/// Asks how many sent bytes are still queued on a socket (for TCP: not
/// yet acknowledged by the peer), like `ioctl(fd, SIOCOUTQ)`
/// (`IORING_OP_URING_CMD` with `SOCKET_URING_OP_SIOCOUTQ`, 6.7;
/// no man page; kernel: `io_uring/cmd_net.c`).
///
/// Completes with the byte count; `-EOPNOTSUPP` as for [`SiocInq`].
#[derive(Debug)]
pub struct SiocOutq {
    fd: Target,
}

impl SiocOutq {
    /// The opcode number, `IORING_OP_URING_CMD`.
    pub const CODE: u8 = 46;

    /// Queries socket `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed) -> Self {
        SiocOutq { fd: fd.into_target() }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        sock_cmd(self.fd, SOCKET_URING_OP_SIOCOUTQ, 0, 0, 0, 0, 0)
    }
}

/// The local (or, with [`peer`](Self::peer), the remote) address of a
/// socket, like `getsockname(2)` / `getpeername(2)` (`IORING_OP_URING_CMD`
/// with `SOCKET_URING_OP_GETSOCKNAME`, 6.19; older kernels give
/// `-EOPNOTSUPP`; no man page; kernel: `io_uring/cmd_net.c`).
///
/// Completes with 0; the kernel writes the address to `addr` and its length
/// to `*addrlen`, which holds the room at `addr` on entry. Both must stay
/// valid until the CQE. An unconnected socket's peer gives `-ENOTCONN`.
#[derive(Debug)]
pub struct GetSockName {
    fd: Target,
    addr: *mut SocketAddrStorage,
    addrlen: *mut SocketAddrLen,
    peer: bool,
}

impl GetSockName {
    /// The opcode number, `IORING_OP_URING_CMD`.
    pub const CODE: u8 = URING_CMD;

    /// Asks for socket `fd`'s own address.
    #[inline]
    pub fn new(fd: impl UseFixed, addr: *mut SocketAddrStorage, addrlen: *mut SocketAddrLen) -> Self {
        GetSockName { fd: fd.into_target(), addr, addrlen, peer: false }
    }

    /// Asks for the peer's address instead, like `getpeername(2)`
    /// (`optlen` 1 in the entry).
    #[inline]
    pub const fn peer(mut self, peer: bool) -> Self {
        self.peer = peer;
        self
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = cmd_sqe(URING_CMD, self.fd, SOCKET_URING_OP_GETSOCKNAME, None, Some(self.addr as u64));
        sqe.addr3 = self.addrlen as u64;
        sqe.file_index = u32::from(self.peer);
        entry(sqe)
    }
}

/// Resets every zone of a zoned block device, like
/// `ioctl(BLKRESETZONE)` over the whole disk (`IORING_OP_URING_CMD` with
/// `BLOCK_URING_CMD_ZONE_RESET_ALL`, 7.3; no man page; kernel: `io_uring/uring_cmd.c`
/// passes it to the block layer's handler in `block/ioctl.c`).
///
/// `fd` is the block device, opened for writing. Completes with 0; a
/// device that is not zoned gives `-EOPNOTSUPP`, a kernel without the
/// command `-ENOTTY` or `-EINVAL`.
#[derive(Debug)]
pub struct ZoneResetAll {
    fd: Target,
}

impl ZoneResetAll {
    /// The opcode number, `IORING_OP_URING_CMD`.
    pub const CODE: u8 = URING_CMD;

    /// Resets every zone of `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed) -> Self {
        ZoneResetAll { fd: fd.into_target() }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        entry(cmd_sqe(URING_CMD, self.fd, BLOCK_URING_CMD_ZONE_RESET_ALL, None, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Fd, Fixed};

    #[test]
    fn getsockname_puts_address_length_and_side_where_the_kernel_reads_them() {
        let (a, l) = (0x1000 as *mut SocketAddrStorage, 0x2000 as *mut SocketAddrLen);
        let e = GetSockName::new(Fd(4), a, l).build();
        let want = Sqe { opcode: 46, fd: 4, off: join(5, 0), addr: 0x1000, addr3: 0x2000, ..Sqe::default() };
        assert_eq!(e.0, want);
        let e = GetSockName::new(Fixed(4), a, l).peer(true).build();
        assert_eq!(e.0, Sqe { flags: 1, file_index: 1, ..want });
    }

    #[test]
    fn zone_reset_all_is_the_block_command_0x1201() {
        let e = ZoneResetAll::new(Fd(6)).build();
        assert_eq!(e.0, Sqe { opcode: 46, fd: 6, off: join(0x1201, 0), ..Sqe::default() });
    }

    fn cmd_bytes<const N: usize>() -> [u8; N] {
        let mut c = [0u8; N];
        for (i, b) in c.iter_mut().enumerate() {
            *b = 0x40 + i as u8;
        }
        c
    }

    fn u64_at(b: &[u8], at: usize) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[at..at + 8]);
        u64::from_ne_bytes(w)
    }

    fn join(lo: u32, hi: u32) -> u64 {
        let mut w = [0u8; 8];
        w[..4].copy_from_slice(&lo.to_ne_bytes());
        w[4..].copy_from_slice(&hi.to_ne_bytes());
        u64::from_ne_bytes(w)
    }

    #[test]
    fn uring_cmd16_encodes_every_field() {
        let cmd = cmd_bytes::<16>();
        let e = UringCmd16::new(Fixed(3), 0xdead_beef).buf_index(Some(7)).cmd(cmd).addr(Some(0x1234_5678)).build();
        let want = Sqe {
            opcode: 46,
            flags: 1,
            fd: 3,
            off: join(0xdead_beef, 0),
            addr: 0x1234_5678,
            op_flags: 1,
            buf_index: 7,
            addr3: u64_at(&cmd, 0),
            pad2: u64_at(&cmd, 8),
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        assert_eq!(e.0.bytes()[48..64], cmd, "cmd @48");
        assert_eq!(e.0.bytes()[8..12], 0xdead_beefu32.to_ne_bytes(), "cmd_op @8");
    }

    #[test]
    fn uring_cmd16_defaults() {
        let e = UringCmd16::new(Fd(5), 1).build();
        assert_eq!(e.0, Sqe { opcode: 46, fd: 5, off: join(1, 0), ..Sqe::default() });
    }

    #[test]
    fn uring_cmd80_splits_the_payload() {
        let cmd = cmd_bytes::<80>();
        let e = UringCmd80::new(Fd(4), 9).buf_index(Some(2)).cmd(cmd).addr(Some(77)).build();
        let want = Sqe {
            opcode: 46,
            fd: 4,
            off: join(9, 0),
            addr: 77,
            op_flags: 1,
            buf_index: 2,
            addr3: u64_at(&cmd, 0),
            pad2: u64_at(&cmd, 8),
            ..Sqe::default()
        };
        assert_eq!(e.0 .0, want);
        assert_eq!(e.1[..], cmd[16..], "bytes 16..80 in the second half");
        let d = UringCmd80::new(Fixed(1), 0).build();
        assert_eq!(d.0 .0, Sqe { opcode: 46, flags: 1, fd: 1, ..Sqe::default() });
        assert_eq!(d.1, [0; 64]);
    }

    #[test]
    fn uring_cmd128_is_opcode_64_with_the_same_layout() {
        let cmd = cmd_bytes::<80>();
        let e = UringCmd128::new(Fixed(8), 0x55).buf_index(Some(4)).cmd(cmd).addr(Some(3)).build();
        let want = Sqe {
            opcode: 64,
            flags: 1,
            fd: 8,
            off: join(0x55, 0),
            addr: 3,
            op_flags: 1,
            buf_index: 4,
            addr3: u64_at(&cmd, 0),
            pad2: u64_at(&cmd, 8),
            ..Sqe::default()
        };
        assert_eq!(e.0 .0, want);
        assert_eq!(e.1[..], cmd[16..]);
        let d = UringCmd128::new(Fd(2), 0).build();
        assert_eq!(d.0 .0, Sqe { opcode: 64, fd: 2, ..Sqe::default() });
        assert_eq!(d.1, [0; 64]);
    }

    #[test]
    fn setsockopt_encodes_every_field() {
        let val = 1i32;
        let p = &val as *const i32 as *const c_void;
        let e = SetSockOpt::new(Fd(6), 6, 1, p, 4).flags(2).build();
        let want = Sqe {
            opcode: 46,
            fd: 6,
            off: join(3, 0),
            addr: join(6, 1),
            op_flags: 2,
            file_index: 4,
            addr3: p as u64,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let b = e.0.bytes();
        assert_eq!(b[16..20], 6u32.to_ne_bytes(), "level @16");
        assert_eq!(b[20..24], 1u32.to_ne_bytes(), "optname @20");
        assert_eq!(b[44..48], 4u32.to_ne_bytes(), "optlen @44");
        assert_eq!(u64_at(&b, 48), p as u64, "optval @48");
        let d = SetSockOpt::new(Fixed(0), 1, 2, p, 4).build();
        assert_eq!((d.0.flags, d.0.op_flags), (1, 0));
    }

    #[test]
    fn getsockopt_encodes_every_field() {
        let mut val = 0i32;
        let p = &mut val as *mut i32 as *mut c_void;
        let e = GetSockOpt::new(Fixed(2), 1, 8, p, 4).flags(1).build();
        let want = Sqe {
            opcode: 46,
            flags: 1,
            fd: 2,
            off: join(2, 0),
            addr: join(1, 8),
            op_flags: 1,
            file_index: 4,
            addr3: p as u64,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }

    #[test]
    fn siocinq_and_siocoutq_carry_only_the_command() {
        let e = SiocInq::new(Fd(9)).build();
        assert_eq!(e.0, Sqe { opcode: 46, fd: 9, off: join(0, 0), ..Sqe::default() });
        let e = SiocOutq::new(Fixed(9)).build();
        assert_eq!(e.0, Sqe { opcode: 46, flags: 1, fd: 9, off: join(1, 0), ..Sqe::default() });
    }
}
