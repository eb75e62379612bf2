//! Ring-to-ring messages: [`MsgRingData`], [`MsgRingSendFd`].

use rustix::io_uring::{io_uring_user_data, IoringMsgringFlags};

use super::{entry, sqe};
use crate::squeue::Entry;
use crate::sys;
use crate::types::sealed::UseFd;
use crate::types::{DestinationSlot, Fixed};

/// Posts a completion into another ring, to wake or notify whoever waits
/// on it (`IORING_OP_MSG_RING` with `IORING_MSG_DATA`, 5.18;
/// `io_uring_prep_msg_ring(3)`).
///
/// The target ring gets a CQE with `res = result` and `user_data`; with
/// `user_flags` its CQE flags are those bits (`IORING_MSG_RING_FLAGS_PASS`,
/// 6.3). The sending request completes with 0.
#[derive(Debug)]
pub struct MsgRingData {
    ring_fd: i32,
    result: i32,
    user_data: u64,
    user_flags: Option<u32>,
    opcode_flags: IoringMsgringFlags,
}

impl MsgRingData {
    /// The opcode number, `IORING_OP_MSG_RING`.
    pub const CODE: u8 = 40;

    /// A message to the ring `ring_fd`, arriving as a CQE with `result`,
    /// `user_data` (an [`io_uring_user_data`], e.g.
    /// `7u64.into()`) and, if given, the CQE flags `user_flags`.
    #[inline]
    pub fn new(ring_fd: impl UseFd, result: i32, user_data: io_uring_user_data, user_flags: Option<u32>) -> Self {
        MsgRingData {
            ring_fd: ring_fd.into_raw(),
            result,
            user_data: user_data.u64_(),
            user_flags,
            opcode_flags: IoringMsgringFlags::empty(),
        }
    }

    setters! {
        /// `IORING_MSG_RING_*` flags (default none). `FLAGS_PASS` is added
        /// by itself when `user_flags` is given; the kernel fails a data
        /// message with any other flag (`CQE_SKIP` is for fd passing) with
        /// `EINVAL`. To post no CQE in the sending ring, use
        /// [`Flags::SKIP_SUCCESS`](crate::squeue::Flags::SKIP_SUCCESS).
        opcode_flags: IoringMsgringFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, self.ring_fd);
        sqe.addr = sys::MSG_DATA;
        sqe.len = self.result as u32;
        sqe.off = self.user_data;
        sqe.op_flags = self.opcode_flags.bits();
        if let Some(flags) = self.user_flags {
            sqe.file_index = flags;
            sqe.op_flags |= sys::MSG_RING_FLAGS_PASS;
        }
        entry(sqe)
    }
}

/// Moves a registered file of this ring into another ring's file table
/// (`IORING_OP_MSG_RING` with `IORING_MSG_SEND_FD`, 6.0;
/// `io_uring_prep_msg_ring(3)` describes only data messages, and fd passing
/// has no man page; kernel: `io_uring/msg_ring.c`).
///
/// The file stays registered here too. Unless `CQE_SKIP` is set, the
/// target ring gets a CQE with `user_data`. Its result, like that of the
/// sending request, is 0, or for [`DestinationSlot::auto_target`] the slot
/// the kernel chose. The target must have a file table (else `ENXIO`) and
/// must not be this ring (`EINVAL`).
#[derive(Debug)]
pub struct MsgRingSendFd {
    ring_fd: i32,
    fixed_slot_src: Fixed,
    dest_slot_index: DestinationSlot,
    user_data: u64,
    opcode_flags: IoringMsgringFlags,
}

impl MsgRingSendFd {
    /// The opcode number, `IORING_OP_MSG_RING`.
    pub const CODE: u8 = 40;

    /// Sends this ring's registered file `fixed_slot_src` to slot
    /// `dest_slot_index` of the ring `ring_fd`; the target's CQE carries
    /// `user_data`, an [`io_uring_user_data`]
    /// (e.g. `7u64.into()`).
    #[inline]
    pub fn new(
        ring_fd: impl UseFd,
        fixed_slot_src: Fixed,
        dest_slot_index: DestinationSlot,
        user_data: io_uring_user_data,
    ) -> Self {
        MsgRingSendFd {
            ring_fd: ring_fd.into_raw(),
            fixed_slot_src,
            dest_slot_index,
            user_data: user_data.u64_(),
            opcode_flags: IoringMsgringFlags::empty(),
        }
    }

    setters! {
        /// `IORING_MSG_RING_*` flags, e.g. `CQE_SKIP` to post no CQE in the
        /// target ring; the sender's CQE still comes (default none).
        opcode_flags: IoringMsgringFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, self.ring_fd);
        sqe.addr = sys::MSG_SEND_FD;
        sqe.off = self.user_data;
        sqe.addr3 = self.fixed_slot_src.0 as u64;
        sqe.file_index = self.dest_slot_index.kernel_index();
        sqe.op_flags = self.opcode_flags.bits();
        entry(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Sqe;
    use crate::types::Fd;

    #[test]
    fn msg_ring_data_encodes_every_field() {
        let e =
            MsgRingData::new(Fd(5), -7, 0x1234.into(), Some(0xabc0)).opcode_flags(IoringMsgringFlags::CQE_SKIP).build();
        let want = Sqe {
            opcode: 40,
            fd: 5,
            addr: 0,
            len: (-7i32) as u32,
            off: 0x1234,
            op_flags: 1 | 2,
            file_index: 0xabc0,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }

    #[test]
    fn msg_ring_data_defaults() {
        let e = MsgRingData::new(Fd(3), 42, 9.into(), None).build();
        assert_eq!(e.0, Sqe { opcode: 40, fd: 3, len: 42, off: 9, ..Sqe::default() });
        // Zero flags are still passed when asked for.
        let e = MsgRingData::new(Fd(3), 0, 0.into(), Some(0)).build();
        assert_eq!(e.0, Sqe { opcode: 40, fd: 3, op_flags: 2, ..Sqe::default() });
    }

    #[test]
    fn msg_ring_send_fd_encodes_every_field() {
        let slot = DestinationSlot::try_from_slot_target(4).unwrap();
        let e = MsgRingSendFd::new(Fd(8), Fixed(2), slot, 77.into()).opcode_flags(IoringMsgringFlags::CQE_SKIP).build();
        let want = Sqe { opcode: 40, fd: 8, addr: 1, off: 77, addr3: 2, file_index: 5, op_flags: 1, ..Sqe::default() };
        assert_eq!(e.0, want);
    }

    #[test]
    fn msg_ring_send_fd_auto_target() {
        let e = MsgRingSendFd::new(Fd(8), Fixed(0), DestinationSlot::auto_target(), 1.into()).build();
        let want = Sqe { opcode: 40, fd: 8, addr: 1, off: 1, file_index: u32::MAX, ..Sqe::default() };
        assert_eq!(e.0, want);
    }
}
