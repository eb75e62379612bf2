//! Posting a completion to a ring without owning one
//! (`IORING_REGISTER_SEND_MSG_RING`, 6.13).

use core::ptr;

use rustix::io::Result;

use crate::{squeue, sys};

/// Runs a [`MsgRingData`](crate::opcode::MsgRingData) entry synchronously,
/// without a ring of one's own: the target ring gets the completion at once
/// (`IORING_REGISTER_SEND_MSG_RING`, 6.13, issued on fd -1; no man page;
/// kernel: `io_uring/msg_ring.c`).
///
/// Only `MSG_RING` entries that send data are accepted; anything else, and
/// a fixed target, gives `EINVAL`. The entry's own `user_data` is ignored.
pub fn send_msg_ring(entry: &squeue::Entry) -> Result<()> {
    // SAFETY: (S1) the kernel reads one 64-byte SQE from `entry` (nr_args 1) and
    // nothing else: MSG_RING data names no memory. fd -1 is what the kernel
    // wants here (a ring fd gives EINVAL).
    unsafe { sys::syscall::register(-1, sys::REGISTER_SEND_MSG_RING, ptr::from_ref(entry).cast(), 1) }?;
    Ok(())
}
