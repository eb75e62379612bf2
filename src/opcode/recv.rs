//! Receiving from sockets: [`Recv`], [`RecvMulti`], [`RecvBundle`],
//! [`RecvMultiBundle`], [`RecvMsg`], [`RecvMsgMulti`], [`RecvZc`].
//!
//! The `ioprio` word of these operations holds io_uring's own receive
//! flags, typed as [`IoringRecvFlags`]: the builders that take a raw
//! `ioprio: u16` accept `IoringRecvFlags::POLL_FIRST.bits()`
//! (`IORING_RECVSEND_POLL_FIRST`, 5.19: skip the first non-blocking attempt and
//! wait for readiness straight away, a good bet when data is not expected
//! yet). The multishot and bundle flags are set by the builders that need
//! them.
//!
//! Variants that pick a provided buffer (`buf_group`, `IOSQE_BUFFER_SELECT`)
//! report it in the CQE flags: see
//! [`cqueue::buffer_select`](crate::cqueue::buffer_select).

use super::{entry, prep_rw, set_target, sqe};
use crate::squeue::{Entry, Flags};
use crate::sys::{RECVSEND_BUNDLE, RECVSEND_FIXED_BUF, RECV_MULTISHOT};
use crate::types::sealed::{Target, UseFixed};
use rustix::io_uring::{IoringRecvFlags, MsgHdr, RecvFlags};

/// The shape shared by the buffer-select receives: `fd`, `len` (0 = the
/// whole buffer), `msg_flags`, the group, the receive flags in `ioprio`.
#[inline]
fn recv_select(target: Target, len: u32, flags: RecvFlags, buf_group: u16, ioprio: u16) -> Entry {
    let mut sqe = prep_rw(RECV_OPCODE, target, 0, len, 0);
    sqe.flags |= Flags::BUFFER_SELECT.bits();
    sqe.op_flags = flags.bits();
    sqe.buf_index = buf_group;
    sqe.ioprio = ioprio;
    entry(sqe)
}

/// `IORING_OP_RECV`, shared by the four receive builders.
const RECV_OPCODE: u8 = 27;

/// Receives up to `len` bytes from a socket into `buf`, like `recv(2)`
/// (`IORING_OP_RECV`, 5.6; `io_uring_prep_recv(3)`).
///
/// Completes with the number of bytes received, 0 at end of stream. A
/// short buffer gets a short count; the rest stays queued on the socket.
/// With `IOSQE_BUFFER_SELECT` set on the entry and `buf_group`, the kernel
/// picks a provided buffer instead of `buf` (pass a null `buf`).
#[derive(Debug)]
pub struct Recv {
    fd: Target,
    buf: *mut u8,
    len: u32,
    flags: RecvFlags,
    buf_group: u16,
    ioprio: u16,
    buf_index: Option<u16>,
}

impl Recv {
    /// The opcode number, `IORING_OP_RECV`.
    pub const CODE: u8 = 27;

    /// Receives into `buf[..len]` from socket `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, buf: *mut u8, len: u32) -> Self {
        Recv { fd: fd.into_target(), buf, len, flags: RecvFlags::empty(), buf_group: 0, ioprio: 0, buf_index: None }
    }

    setters! {
        /// `MSG_*` flags, as for `recv(2)` (default none).
        flags: RecvFlags;
        /// The provided-buffer group to pick from with `BUFFER_SELECT`
        /// (`IOSQE_BUFFER_SELECT`, 5.7; default 0).
        buf_group: u16;
        /// io_uring receive flags, e.g. `IoringRecvFlags::POLL_FIRST.bits()`
        /// (`IORING_RECVSEND_POLL_FIRST`, 5.19; default 0).
        ioprio: u16;
        /// Receive into registered buffer `buf_index` (`buf[..len]` must lie
        /// inside it; `IORING_RECVSEND_FIXED_BUF` on plain RECV, 7.2; kernel:
        /// `io_uring/net.c`; older kernels fail it with `EINVAL`). It takes
        /// the place of `buf_group` in the entry (default `None`).
        buf_index: Option<u16>;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.buf as u64, self.len, 0);
        sqe.op_flags = self.flags.bits();
        sqe.buf_index = self.buf_group;
        sqe.ioprio = self.ioprio;
        if let Some(index) = self.buf_index {
            sqe.ioprio |= RECVSEND_FIXED_BUF;
            sqe.buf_index = index;
        }
        entry(sqe)
    }
}

/// Receives repeatedly into provided buffers of `buf_group`, one CQE per
/// chunk, until an error or the group runs dry
/// (`IORING_OP_RECV` with `IORING_RECV_MULTISHOT`, 6.0;
/// `io_uring_prep_recv_multishot(3)`).
///
/// Every CQE but the last has `F_MORE`; each names its buffer
/// ([`cqueue::buffer_select`](crate::cqueue::buffer_select)). The stream
/// ends with a CQE without `F_MORE`: `-ENOBUFS` when no buffer was left,
/// 0 at end of stream, or another error. Submit again to re-arm.
#[derive(Debug)]
pub struct RecvMulti {
    fd: Target,
    buf_group: u16,
    flags: RecvFlags,
    len: u32,
}

impl RecvMulti {
    /// The opcode number, `IORING_OP_RECV`.
    pub const CODE: u8 = 27;

    /// Receives from socket `fd` into buffers of group `buf_group`.
    #[inline]
    pub fn new(fd: impl UseFixed, buf_group: u16) -> Self {
        RecvMulti { fd: fd.into_target(), buf_group, flags: RecvFlags::empty(), len: 0 }
    }

    setters! {
        /// `MSG_*` flags, as for `recv(2)` (default none).
        flags: RecvFlags;
        /// At most this many bytes per completion; 0 (the default) fills
        /// the whole provided buffer.
        len: u32;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        recv_select(self.fd, self.len, self.flags, self.buf_group, RECV_MULTISHOT)
    }
}

/// Receives once into as many provided buffers of `buf_group` as the
/// queued data needs, in a single CQE
/// (`IORING_OP_RECV` with `IORING_RECVSEND_BUNDLE`, 6.10;
/// `io_uring_prep_recv(3)` for the receive, which predates bundles).
///
/// The CQE names the first buffer; the result spans that buffer and the
/// ones after it in provision order; the kernel decides how many buffers
/// to take (6.18 takes two on a socket's first bundle), and
/// `F_SOCK_NONEMPTY` in the CQE says data is left. Works with buffer rings
/// and legacy provided buffers. Needs `FEAT_RECVSEND_BUNDLE`
/// ([`Parameters::is_feature_recvsend_bundle`](crate::Parameters::is_feature_recvsend_bundle)).
#[derive(Debug)]
pub struct RecvBundle {
    fd: Target,
    buf_group: u16,
    flags: RecvFlags,
}

impl RecvBundle {
    /// The opcode number, `IORING_OP_RECV`.
    pub const CODE: u8 = 27;

    /// Receives from socket `fd` into buffers of group `buf_group`.
    #[inline]
    pub fn new(fd: impl UseFixed, buf_group: u16) -> Self {
        RecvBundle { fd: fd.into_target(), buf_group, flags: RecvFlags::empty() }
    }

    setters! {
        /// `MSG_*` flags, as for `recv(2)` (default none).
        flags: RecvFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        recv_select(self.fd, 0, self.flags, self.buf_group, RECVSEND_BUNDLE)
    }
}

/// [`RecvMulti`] whose every CQE may span several provided buffers, as
/// [`RecvBundle`] (`IORING_OP_RECV` with `IORING_RECV_MULTISHOT |
/// IORING_RECVSEND_BUNDLE`, 6.10; `io_uring_prep_recv_multishot(3)` for
/// the multishot receive, which predates bundles).
#[derive(Debug)]
pub struct RecvMultiBundle {
    fd: Target,
    buf_group: u16,
    flags: RecvFlags,
}

impl RecvMultiBundle {
    /// The opcode number, `IORING_OP_RECV`.
    pub const CODE: u8 = 27;

    /// Receives from socket `fd` into buffers of group `buf_group`.
    #[inline]
    pub fn new(fd: impl UseFixed, buf_group: u16) -> Self {
        RecvMultiBundle { fd: fd.into_target(), buf_group, flags: RecvFlags::empty() }
    }

    setters! {
        /// `MSG_*` flags, as for `recv(2)` (default none).
        flags: RecvFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        recv_select(self.fd, 0, self.flags, self.buf_group, RECV_MULTISHOT | RECVSEND_BUNDLE)
    }
}

/// Receives one message described by `msg`, like `recvmsg(2)`
/// (`IORING_OP_RECVMSG`, 5.3; `io_uring_prep_recvmsg(3)`).
///
/// The kernel fills the iovecs, the name (sender address) and control
/// buffers of `msg` and updates its lengths and `msg_flags`; `msg` and all
/// it points to must stay valid until the CQE. Completes with the payload
/// length.
#[derive(Debug)]
pub struct RecvMsg {
    fd: Target,
    msg: *mut MsgHdr,
    ioprio: u16,
    flags: RecvFlags,
    buf_group: u16,
}

impl RecvMsg {
    /// The opcode number, `IORING_OP_RECVMSG`.
    pub const CODE: u8 = 10;

    /// Receives a message on socket `fd` as `msg` describes.
    #[inline]
    pub fn new(fd: impl UseFixed, msg: *mut MsgHdr) -> Self {
        RecvMsg { fd: fd.into_target(), msg, ioprio: 0, flags: RecvFlags::empty(), buf_group: 0 }
    }

    setters! {
        /// io_uring receive flags, e.g. `IoringRecvFlags::POLL_FIRST.bits()`
        /// (`IORING_RECVSEND_POLL_FIRST`, 5.19; default 0).
        ioprio: u16;
        /// `MSG_*` flags, as for `recvmsg(2)` (default none).
        flags: RecvFlags;
        /// The provided-buffer group to pick from with `BUFFER_SELECT`
        /// (`IOSQE_BUFFER_SELECT`, 5.7; default 0); `msg` then needs exactly
        /// one iovec.
        buf_group: u16;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.msg as u64, 1, 0);
        sqe.ioprio = self.ioprio;
        sqe.op_flags = self.flags.bits();
        sqe.buf_index = self.buf_group;
        entry(sqe)
    }
}

/// Receives messages repeatedly, each into its own provided buffer of
/// `buf_group` (`IORING_OP_RECVMSG` with `IORING_RECV_MULTISHOT`, 6.0;
/// `io_uring_prep_recvmsg_multishot(3)`).
///
/// `msg` is read at submission only, for the sizes of the name and control
/// areas (`msg_namelen`, `msg_controllen`) and the flags; its iovecs are
/// not used. Each buffer then holds a header, the name and control areas
/// and the payload: parse it with [`RecvMsgOut`](crate::types::RecvMsgOut).
/// CQE flags behave as for [`RecvMulti`].
#[derive(Debug)]
pub struct RecvMsgMulti {
    fd: Target,
    msg: *const MsgHdr,
    buf_group: u16,
    ioprio: IoringRecvFlags,
    flags: RecvFlags,
}

impl RecvMsgMulti {
    /// The opcode number, `IORING_OP_RECVMSG`.
    pub const CODE: u8 = 10;

    /// Receives messages on socket `fd` into buffers of group `buf_group`,
    /// laid out per `msg`.
    #[inline]
    pub fn new(fd: impl UseFixed, msg: *const MsgHdr, buf_group: u16) -> Self {
        RecvMsgMulti {
            fd: fd.into_target(),
            msg,
            buf_group,
            ioprio: IoringRecvFlags::empty(),
            flags: RecvFlags::empty(),
        }
    }

    setters! {
        /// More io_uring receive flags, e.g. `IoringRecvFlags::POLL_FIRST`
        /// (default none; `MULTISHOT` is always set).
        ioprio: IoringRecvFlags;
        /// `MSG_*` flags, as for `recvmsg(2)` (default none).
        flags: RecvFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.msg as u64, 1, 0);
        sqe.flags |= Flags::BUFFER_SELECT.bits();
        sqe.ioprio = self.ioprio.bits() | RECV_MULTISHOT;
        sqe.op_flags = self.flags.bits();
        sqe.buf_index = self.buf_group;
        entry(sqe)
    }
}

/// Zero-copy receive: the NIC writes packet data straight into a memory
/// area registered with a zcrx interface queue, and each CQE says where
/// (`IORING_OP_RECV_ZC`, 6.15; no man page; kernel: `io_uring/net.c`).
///
/// Always multishot. The ring must be set up with `DEFER_TASKRUN` and
/// 32-byte CQEs, and an ifq registered
/// ([`register_ifq`](crate::Submitter)) on a NIC queue with header split,
/// or without a device (`ZCRX_REG_NODEV`, 7.1: the data is copied into the
/// area); the big half of each CQE is an `io_uring_zcrx_cqe` (area
/// offset). `len` caps the bytes to receive (0 = no cap); the last
/// completion, without `F_MORE`, has result 0 once `len` bytes came.
#[derive(Debug)]
pub struct RecvZc {
    fd: Target,
    len: u32,
    ifq: u32,
    ioprio: u16,
}

impl RecvZc {
    /// The opcode number, `IORING_OP_RECV_ZC`.
    pub const CODE: u8 = 58;

    /// Receives from socket `fd` through the zcrx queue, at most `len` bytes.
    #[inline]
    pub fn new(fd: impl UseFixed, len: u32) -> Self {
        RecvZc { fd: fd.into_target(), len, ifq: 0, ioprio: 0 }
    }

    setters! {
        /// The registered zcrx ifq to receive through (`zcrx_id`; default 0).
        ifq: u32;
        /// More io_uring receive flags, e.g. `IoringRecvFlags::POLL_FIRST.bits()`
        /// (default 0; `IORING_RECV_MULTISHOT` is always set).
        ioprio: u16;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        set_target(&mut sqe, self.fd);
        sqe.len = self.len;
        sqe.ioprio = self.ioprio | RECV_MULTISHOT;
        sqe.file_index = self.ifq;
        entry(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Sqe;
    use crate::types::{Fd, Fixed};

    const SELECT: u8 = 32;
    const FIXED: u8 = 1;

    #[test]
    fn recv_encodes_every_field() {
        let mut buf = [0u8; 32];
        let e = Recv::new(Fd(5), buf.as_mut_ptr(), 32)
            .flags(RecvFlags::PEEK | RecvFlags::WAITALL)
            .buf_group(6)
            .ioprio(IoringRecvFlags::POLL_FIRST.bits())
            .build();
        let want = Sqe {
            opcode: 27,
            fd: 5,
            addr: buf.as_ptr() as u64,
            len: 32,
            op_flags: (RecvFlags::PEEK | RecvFlags::WAITALL).bits(),
            buf_index: 6,
            ioprio: 1,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }

    #[test]
    fn recv_defaults_and_fixed_file() {
        let e = Recv::new(Fixed(2), core::ptr::null_mut(), 8).build();
        assert_eq!(e.0, Sqe { opcode: 27, flags: FIXED, fd: 2, len: 8, ..Sqe::default() });
    }

    #[test]
    fn recv_multi_encodes_every_field() {
        let e = RecvMulti::new(Fixed(4), 11).flags(RecvFlags::DONTWAIT).len(5).build();
        let want = Sqe {
            opcode: 27,
            flags: SELECT | FIXED,
            fd: 4,
            ioprio: 2,
            len: 5,
            op_flags: RecvFlags::DONTWAIT.bits(),
            buf_index: 11,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let d = RecvMulti::new(Fd(3), 1).build();
        assert_eq!(d.0, Sqe { opcode: 27, flags: SELECT, fd: 3, ioprio: 2, buf_index: 1, ..Sqe::default() });
    }

    #[test]
    fn recv_bundle_encodes_every_field() {
        let e = RecvBundle::new(Fd(3), 8).flags(RecvFlags::TRUNC).build();
        let want = Sqe {
            opcode: 27,
            flags: SELECT,
            fd: 3,
            ioprio: 16,
            op_flags: RecvFlags::TRUNC.bits(),
            buf_index: 8,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let d = RecvBundle::new(Fixed(0), 0).build();
        assert_eq!(d.0, Sqe { opcode: 27, flags: SELECT | FIXED, ioprio: 16, ..Sqe::default() });
    }

    #[test]
    fn recv_multi_bundle_encodes_every_field() {
        let e = RecvMultiBundle::new(Fd(3), 8).flags(RecvFlags::OOB).build();
        let want = Sqe {
            opcode: 27,
            flags: SELECT,
            fd: 3,
            ioprio: 2 | 16,
            op_flags: RecvFlags::OOB.bits(),
            buf_index: 8,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }

    #[test]
    fn recvmsg_encodes_every_field() {
        let mut hdr = core::mem::MaybeUninit::<MsgHdr>::uninit();
        let e = RecvMsg::new(Fd(9), hdr.as_mut_ptr()).ioprio(1).flags(RecvFlags::CMSG_CLOEXEC).buf_group(3).build();
        let want = Sqe {
            opcode: 10,
            fd: 9,
            addr: hdr.as_ptr() as u64,
            len: 1,
            ioprio: 1,
            op_flags: RecvFlags::CMSG_CLOEXEC.bits(),
            buf_index: 3,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let d = RecvMsg::new(Fixed(1), hdr.as_mut_ptr()).build();
        let want = Sqe { opcode: 10, flags: FIXED, fd: 1, addr: hdr.as_ptr() as u64, len: 1, ..Sqe::default() };
        assert_eq!(d.0, want);
    }

    #[test]
    fn recvmsg_multi_encodes_every_field() {
        let hdr = core::mem::MaybeUninit::<MsgHdr>::uninit();
        let e = RecvMsgMulti::new(Fixed(6), hdr.as_ptr(), 12)
            .ioprio(IoringRecvFlags::POLL_FIRST)
            .flags(RecvFlags::TRUNC)
            .build();
        let want = Sqe {
            opcode: 10,
            flags: SELECT | FIXED,
            fd: 6,
            addr: hdr.as_ptr() as u64,
            len: 1,
            ioprio: 1 | 2,
            op_flags: RecvFlags::TRUNC.bits(),
            buf_index: 12,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let d = RecvMsgMulti::new(Fd(6), hdr.as_ptr(), 0).build();
        let want =
            Sqe { opcode: 10, flags: SELECT, fd: 6, addr: hdr.as_ptr() as u64, len: 1, ioprio: 2, ..Sqe::default() };
        assert_eq!(d.0, want);
    }

    #[test]
    fn recv_zc_encodes_every_field() {
        let e = RecvZc::new(Fd(7), 4096).ifq(3).ioprio(1).build();
        let want = Sqe { opcode: 58, fd: 7, len: 4096, ioprio: 1 | 2, file_index: 3, ..Sqe::default() };
        assert_eq!(e.0, want);
        let d = RecvZc::new(Fixed(1), 0).build();
        assert_eq!(d.0, Sqe { opcode: 58, flags: FIXED, fd: 1, ioprio: 2, ..Sqe::default() });
    }
}
