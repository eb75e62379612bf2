//! Sending: [`Send`], [`SendBundle`], [`SendMsg`], [`SendZc`], [`SendMsgZc`].

use rustix::io_uring::{iovec, IoringSendFlags, MsgHdr, SendFlags, SocketAddrLen, SocketAddrStorage};

use super::{entry, prep_rw, set_target, sqe};
use crate::squeue::{Entry, Flags};
use crate::sys;
use crate::sys::Sqe;
use crate::types::sealed::{Target, UseFixed};

/// Writes the destination of a `sendto`-style send: the address pointer in
/// `addr2` and its length in the 16-bit `addr_len`. Lengths above
/// `u16::MAX` become `u16::MAX`, which the kernel refuses (`EINVAL`)
/// rather than reading a truncated address.
#[inline]
fn set_dest(sqe: &mut Sqe, dest_addr: *const SocketAddrStorage, dest_addr_len: SocketAddrLen) {
    sqe.off = dest_addr as u64;
    let len = if dest_addr_len > u16::MAX as u32 { u16::MAX } else { dest_addr_len as u16 };
    sqe.set_addr_len(len);
}

/// Sends `len` bytes from `buf` on a socket, like `send(2)`, or like
/// `sendto(2)` with a destination address
/// (`IORING_OP_SEND`, 5.6; `io_uring_prep_send(3)`).
///
/// [`Send::vectored`] sends an iovec array instead, like `sendmsg(2)`
/// without a `msghdr` (`IORING_SEND_VECTORIZED`, 6.17).
#[derive(Debug)]
pub struct Send {
    fd: Target,
    buf: *const u8,
    len: u32,
    vectorized: bool,
    flags: SendFlags,
    dest_addr: *const SocketAddrStorage,
    dest_addr_len: SocketAddrLen,
    ioprio: u16,
    buf_index: Option<u16>,
}

impl Send {
    /// The opcode number, `IORING_OP_SEND`.
    pub const CODE: u8 = 26;

    /// Sends `buf[..len]` on `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, buf: *const u8, len: u32) -> Self {
        Send {
            fd: fd.into_target(),
            buf,
            len,
            vectorized: false,
            flags: SendFlags::empty(),
            dest_addr: core::ptr::null(),
            dest_addr_len: 0,
            ioprio: 0,
            buf_index: None,
        }
    }

    /// Sends the `nr` buffers of the iovec array at `iovec`, in order, as
    /// one message (`IORING_SEND_VECTORIZED`, 6.17: `addr` is the array,
    /// `len` the count). Older kernels fail it with `EINVAL`. The setters
    /// apply as for [`Send::new`]; `ioprio` bits are added to the
    /// vectorized bit.
    #[inline]
    pub fn vectored(fd: impl UseFixed, iovec: *const iovec, nr: u32) -> Self {
        Send { vectorized: true, ..Send::new(fd, iovec.cast(), nr) }
    }

    setters! {
        /// `MSG_*` flags, as for `send(2)` (default none).
        flags: SendFlags;
        /// The destination address for an unconnected socket, as for
        /// `sendto(2)` (default null: the connected peer).
        dest_addr: *const SocketAddrStorage;
        /// The length of `dest_addr` in bytes (default 0). The kernel field
        /// is 16 bits wide; larger values are sent as `u16::MAX`, which
        /// fails with `EINVAL`.
        dest_addr_len: SocketAddrLen;
        /// The send `ioprio` bits, e.g. `IORING_RECVSEND_POLL_FIRST` (1,
        /// 5.19): wait for room in the socket before the first attempt
        /// (default 0).
        ioprio: u16;
        /// Send from registered buffer `buf_index` (`buf` must lie inside
        /// it; `IORING_RECVSEND_FIXED_BUF` on plain SEND, 7.2; kernel:
        /// `io_uring/net.c`; older kernels fail it with `EINVAL`)
        /// (default `None`).
        buf_index: Option<u16>;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.buf as u64, self.len, 0);
        sqe.op_flags = self.flags.bits();
        set_dest(&mut sqe, self.dest_addr, self.dest_addr_len);
        sqe.ioprio = self.ioprio;
        if self.vectorized {
            sqe.ioprio |= sys::SEND_VECTORIZED;
        }
        if let Some(index) = self.buf_index {
            sqe.ioprio |= sys::RECVSEND_FIXED_BUF;
            sqe.buf_index = index;
        }
        entry(sqe)
    }
}

/// Sends data from provided buffers of `buf_group`, taking as many
/// buffers as are queued (a bundle) in one go
/// (`IORING_OP_SEND` with `IOSQE_BUFFER_SELECT` and
/// `IORING_RECVSEND_BUNDLE`, 6.10; `io_uring_prep_send(3)` for the send,
/// which predates bundles).
///
/// The completion reports the bytes sent and, in its flags, the first
/// buffer id used; the bundle covers the following buffer ids in ring
/// order. The kernel must have `FEAT_RECVSEND_BUNDLE`.
#[derive(Debug)]
pub struct SendBundle {
    fd: Target,
    buf_group: u16,
    flags: SendFlags,
    len: u32,
}

impl SendBundle {
    /// The opcode number, `IORING_OP_SEND`.
    pub const CODE: u8 = 26;

    /// Sends from the buffers of group `buf_group` on `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, buf_group: u16) -> Self {
        SendBundle { fd: fd.into_target(), buf_group, flags: SendFlags::empty(), len: 0 }
    }

    setters! {
        /// `MSG_*` flags, as for `send(2)` (default none).
        flags: SendFlags;
        /// At most this many bytes in total (default 0: all the buffers
        /// taken).
        len: u32;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        set_target(&mut sqe, self.fd);
        sqe.flags |= Flags::BUFFER_SELECT.bits();
        sqe.ioprio = sys::RECVSEND_BUNDLE;
        sqe.buf_index = self.buf_group;
        sqe.len = self.len;
        sqe.op_flags = self.flags.bits();
        entry(sqe)
    }
}

/// Sends a message described by a `msghdr`, like `sendmsg(2)`
/// (`IORING_OP_SENDMSG`, 5.3; `io_uring_prep_sendmsg(3)`).
#[derive(Debug)]
pub struct SendMsg {
    fd: Target,
    msg: *const MsgHdr,
    ioprio: u16,
    flags: SendFlags,
}

impl SendMsg {
    /// The opcode number, `IORING_OP_SENDMSG`.
    pub const CODE: u8 = 9;

    /// Sends the message at `msg` (iovecs, optional destination name and
    /// control data) on `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, msg: *const MsgHdr) -> Self {
        SendMsg { fd: fd.into_target(), msg, ioprio: 0, flags: SendFlags::empty() }
    }

    setters! {
        /// The send `ioprio` bits, e.g. `IORING_RECVSEND_POLL_FIRST` (5.19;
        /// default 0).
        ioprio: u16;
        /// `MSG_*` flags, as for `sendmsg(2)` (default none).
        flags: SendFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.msg as u64, 1, 0);
        sqe.ioprio = self.ioprio;
        sqe.op_flags = self.flags.bits();
        entry(sqe)
    }
}

/// Sends `len` bytes from `buf` without copying them, like `send(2)` with
/// `MSG_ZEROCOPY` (`IORING_OP_SEND_ZC`, 6.0; `io_uring_prep_send_zc(3)`).
///
/// Two completions arrive: the result (bytes sent) with `F_MORE`, then a
/// notification with `F_NOTIF` once the kernel no longer reads `buf`; only
/// then may the buffer be reused. Linux 6.18 posts the pair for failed
/// sends too (bad fd, refused flags); wait for the notification whenever
/// the result carries `F_MORE`.
///
/// [`SendZc::vectored`] sends an iovec array instead
/// (`IORING_SEND_VECTORIZED`, 6.17; accepted by 6.18, but not together
/// with `buf_index`: that combination fails with `EINVAL`).
#[derive(Debug)]
pub struct SendZc {
    fd: Target,
    buf: *const u8,
    len: u32,
    vectorized: bool,
    buf_index: Option<u16>,
    dest_addr: *const SocketAddrStorage,
    dest_addr_len: SocketAddrLen,
    flags: SendFlags,
    zc_flags: IoringSendFlags,
    notif_user_data: u64,
}

impl SendZc {
    /// The opcode number, `IORING_OP_SEND_ZC`.
    pub const CODE: u8 = 47;

    /// Sends `buf[..len]` on `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, buf: *const u8, len: u32) -> Self {
        SendZc {
            fd: fd.into_target(),
            buf,
            len,
            vectorized: false,
            buf_index: None,
            dest_addr: core::ptr::null(),
            dest_addr_len: 0,
            flags: SendFlags::empty(),
            zc_flags: IoringSendFlags::empty(),
            notif_user_data: 0,
        }
    }

    /// Sends the `nr` buffers of the iovec array at `iovec`, in order,
    /// without copying (`IORING_SEND_VECTORIZED`: `addr` is the array,
    /// `len` the count; kernels before 6.17 fail it with `EINVAL`). The
    /// setters apply as for [`SendZc::new`], except that 6.18 refuses a
    /// `buf_index` here (`EINVAL`).
    #[inline]
    pub fn vectored(fd: impl UseFixed, iovec: *const iovec, nr: u32) -> Self {
        SendZc { vectorized: true, ..SendZc::new(fd, iovec.cast(), nr) }
    }

    setters! {
        /// Send from registered buffer `buf_index` (`buf` must lie inside
        /// it), which saves pinning the pages per send; sets
        /// `IORING_RECVSEND_FIXED_BUF` (default `None`).
        buf_index: Option<u16>;
        /// The destination address for an unconnected socket, as for
        /// `sendto(2)` (default null).
        dest_addr: *const SocketAddrStorage;
        /// The length of `dest_addr` in bytes (default 0; values above
        /// `u16::MAX` are sent as `u16::MAX` and fail with `EINVAL`).
        dest_addr_len: SocketAddrLen;
        /// `MSG_*` flags, as for `send(2)` (default none).
        flags: SendFlags;
        /// Zero-copy `ioprio` bits: `POLL_FIRST`, `ZC_REPORT_USAGE` (6.2; the
        /// notification's result says whether the data was copied after
        /// all) (default none).
        zc_flags: IoringSendFlags;
        /// The user data of the `F_NOTIF` notification CQE, carried in
        /// `sqe->addr3` (7.1; kernel: `io_uring/net.c`): non-zero values
        /// replace the request's own user data there, so that the
        /// notification can name the buffer to free (default 0: the
        /// request's user data, as on every older kernel, which ignore it).
        notif_user_data: u64;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.buf as u64, self.len, 0);
        sqe.op_flags = self.flags.bits();
        sqe.ioprio = self.zc_flags.bits();
        if self.vectorized {
            sqe.ioprio |= sys::SEND_VECTORIZED;
        }
        if let Some(index) = self.buf_index {
            sqe.ioprio |= sys::RECVSEND_FIXED_BUF;
            sqe.buf_index = index;
        }
        set_dest(&mut sqe, self.dest_addr, self.dest_addr_len);
        sqe.addr3 = self.notif_user_data;
        entry(sqe)
    }
}

/// Sends a message described by a `msghdr` without copying its data, like
/// `sendmsg(2)` with `MSG_ZEROCOPY`
/// (`IORING_OP_SENDMSG_ZC`, 6.1; no man page; kernel: `io_uring/net.c`).
///
/// Completes like [`SendZc`]: the result with `F_MORE`, then an `F_NOTIF`
/// notification when the buffers may be reused.
#[derive(Debug)]
pub struct SendMsgZc {
    fd: Target,
    msg: *const MsgHdr,
    ioprio: u16,
    flags: SendFlags,
}

impl SendMsgZc {
    /// The opcode number, `IORING_OP_SENDMSG_ZC`.
    pub const CODE: u8 = 48;

    /// Sends the message at `msg` on `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, msg: *const MsgHdr) -> Self {
        SendMsgZc { fd: fd.into_target(), msg, ioprio: 0, flags: SendFlags::empty() }
    }

    setters! {
        /// Zero-copy `ioprio` bits: `IORING_RECVSEND_POLL_FIRST` (1),
        /// `IORING_SEND_ZC_REPORT_USAGE` (8, 6.2) (default 0).
        ioprio: u16;
        /// `MSG_*` flags, as for `sendmsg(2)` (default none).
        flags: SendFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.msg as u64, 1, 0);
        sqe.ioprio = self.ioprio;
        sqe.op_flags = self.flags.bits();
        entry(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Fd, Fixed};

    #[test]
    fn send_defaults() {
        let buf = [0u8; 4];
        let e = Send::new(Fd(3), buf.as_ptr(), 4).build();
        assert_eq!(e.0, Sqe { opcode: 26, fd: 3, addr: buf.as_ptr() as u64, len: 4, ..Sqe::default() });
    }

    #[test]
    fn send_encodes_every_field() {
        let buf = [0u8; 4];
        // SAFETY: (S4) SocketAddrStorage is plain bytes; all-zero is valid.
        let dest: SocketAddrStorage = unsafe { core::mem::zeroed() };
        let d: *const SocketAddrStorage = &dest;
        let e = Send::new(Fixed(2), buf.as_ptr(), 4)
            .flags(SendFlags::DONTWAIT | SendFlags::NOSIGNAL)
            .dest_addr(d)
            .dest_addr_len(16)
            .ioprio(1)
            .build();
        let want = Sqe {
            opcode: 26,
            flags: 1,
            ioprio: 1,
            fd: 2,
            off: d as u64,
            addr: buf.as_ptr() as u64,
            len: 4,
            op_flags: (SendFlags::DONTWAIT | SendFlags::NOSIGNAL).bits(),
            file_index: u32::from_ne_bytes([16, 0, 0, 0]),
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }

    #[test]
    fn send_dest_len_saturates_at_u16() {
        let e = Send::new(Fd(1), core::ptr::null(), 0).dest_addr_len(0x1_0010).build();
        assert_eq!(e.0.file_index, u32::from_ne_bytes([0xff, 0xff, 0, 0]));
    }

    #[test]
    fn send_vectored_sets_the_vectorized_bit() {
        let iov = [iovec { iov_base: core::ptr::null_mut(), iov_len: 0 }; 3];
        let e = Send::vectored(Fd(5), iov.as_ptr(), 3).ioprio(1).flags(SendFlags::MORE).build();
        let want = Sqe {
            opcode: 26,
            ioprio: 32 | 1,
            fd: 5,
            addr: iov.as_ptr() as u64,
            len: 3,
            op_flags: SendFlags::MORE.bits(),
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }

    #[test]
    fn send_bundle_encodes_every_field() {
        let e = SendBundle::new(Fd(4), 7).build();
        assert_eq!(e.0, Sqe { opcode: 26, flags: 1 << 5, ioprio: 16, fd: 4, buf_index: 7, ..Sqe::default() });
        let e = SendBundle::new(Fixed(1), 9).flags(SendFlags::NOSIGNAL).len(100).build();
        let want = Sqe {
            opcode: 26,
            flags: 1 | (1 << 5),
            ioprio: 16,
            fd: 1,
            len: 100,
            op_flags: SendFlags::NOSIGNAL.bits(),
            buf_index: 9,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }

    #[test]
    fn sendmsg_and_sendmsg_zc_encode_every_field() {
        // SAFETY: (S4) MsgHdr is a C struct of pointers and integers; all-zero is valid.
        let msg: MsgHdr = unsafe { core::mem::zeroed() };
        let m: *const MsgHdr = &msg;
        let e = SendMsg::new(Fd(3), m).build();
        assert_eq!(e.0, Sqe { opcode: 9, fd: 3, addr: m as u64, len: 1, ..Sqe::default() });
        let e = SendMsg::new(Fixed(3), m).ioprio(1).flags(SendFlags::EOR).build();
        let want = Sqe {
            opcode: 9,
            flags: 1,
            ioprio: 1,
            fd: 3,
            addr: m as u64,
            len: 1,
            op_flags: SendFlags::EOR.bits(),
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = SendMsgZc::new(Fd(3), m).build();
        assert_eq!(e.0, Sqe { opcode: 48, fd: 3, addr: m as u64, len: 1, ..Sqe::default() });
        let e = SendMsgZc::new(Fixed(4), m).ioprio(8).flags(SendFlags::NOSIGNAL).build();
        let want = Sqe {
            opcode: 48,
            flags: 1,
            ioprio: 8,
            fd: 4,
            addr: m as u64,
            len: 1,
            op_flags: SendFlags::NOSIGNAL.bits(),
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }

    #[test]
    fn send_zc_vectored_sets_the_vectorized_bit() {
        let iov = [iovec { iov_base: core::ptr::null_mut(), iov_len: 0 }; 2];
        let e = SendZc::vectored(Fd(5), iov.as_ptr(), 2).buf_index(Some(1)).build();
        let want = Sqe {
            opcode: 47,
            ioprio: 32 | 4,
            fd: 5,
            addr: iov.as_ptr() as u64,
            len: 2,
            buf_index: 1,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }

    #[test]
    fn send_zc_encodes_every_field() {
        let buf = [0u8; 8];
        let e = SendZc::new(Fd(6), buf.as_ptr(), 8).build();
        assert_eq!(e.0, Sqe { opcode: 47, fd: 6, addr: buf.as_ptr() as u64, len: 8, ..Sqe::default() });
        // SAFETY: (S4) SocketAddrStorage is plain bytes; all-zero is valid.
        let dest: SocketAddrStorage = unsafe { core::mem::zeroed() };
        let d: *const SocketAddrStorage = &dest;
        let e = SendZc::new(Fixed(6), buf.as_ptr(), 8)
            .buf_index(Some(3))
            .dest_addr(d)
            .dest_addr_len(28)
            .flags(SendFlags::NOSIGNAL)
            .zc_flags(IoringSendFlags::POLL_FIRST | IoringSendFlags::ZC_REPORT_USAGE)
            .build();
        let want = Sqe {
            opcode: 47,
            flags: 1,
            ioprio: 1 | 4 | 8,
            fd: 6,
            off: d as u64,
            addr: buf.as_ptr() as u64,
            len: 8,
            op_flags: SendFlags::NOSIGNAL.bits(),
            buf_index: 3,
            file_index: u32::from_ne_bytes([28, 0, 0, 0]),
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }
}
