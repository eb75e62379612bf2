//! Cancellation: [`AsyncCancel`], [`AsyncCancel2`].

use rustix::io_uring::io_uring_user_data;

use super::{entry, sqe};
use crate::squeue::Entry;
use crate::sys;
use crate::types::CancelBuilder;

/// Cancels the in-flight operation submitted with `user_data`
/// (`IORING_OP_ASYNC_CANCEL`, 5.5; `io_uring_prep_cancel64(3)`).
///
/// Completes with 0 when it was cancelled (the operation then completes,
/// usually with `-ECANCELED`), `-ENOENT` when nothing matched, or
/// `-EALREADY` when the operation was already running and was only
/// signalled.
#[derive(Debug)]
pub struct AsyncCancel {
    user_data: u64,
}

impl AsyncCancel {
    /// The opcode number, `IORING_OP_ASYNC_CANCEL`.
    pub const CODE: u8 = 14;

    /// Cancels the operation whose `user_data` is `user_data`, an
    /// [`io_uring_user_data`]: `AsyncCancel::new(7u64.into())`.
    #[inline]
    pub fn new(user_data: io_uring_user_data) -> Self {
        AsyncCancel { user_data: user_data.u64_() }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, -1);
        sqe.addr = self.user_data;
        entry(sqe)
    }
}

/// Cancels in-flight operations chosen by a [`CancelBuilder`]: by
/// `user_data`, file (a registered one: 6.0), opcode (6.6) or any, the
/// first match or all of them
/// (`IORING_OP_ASYNC_CANCEL` with `IORING_ASYNC_CANCEL_*`, 5.19;
/// `io_uring_prep_cancel(3)`, which also describes `io_uring_prep_cancel_fd`).
///
/// Completes like [`AsyncCancel`] when it targets the first match; with
/// [`CancelBuilder::all`] or [`CancelBuilder::any`] the result is the
/// number of operations cancelled, 0 (not `-ENOENT`) when none matched.
/// A registered file that does not exist gives `-EBADF`.
#[derive(Debug)]
pub struct AsyncCancel2 {
    builder: CancelBuilder,
}

impl AsyncCancel2 {
    /// The opcode number, `IORING_OP_ASYNC_CANCEL` (shared with
    /// [`AsyncCancel`]).
    pub const CODE: u8 = 14;

    /// Cancels what `builder` selects.
    #[inline]
    pub fn new(builder: CancelBuilder) -> Self {
        AsyncCancel2 { builder }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let b = self.builder;
        let mut sqe = sqe(Self::CODE, b.raw_fd());
        sqe.addr = b.user_data;
        sqe.op_flags = b.flags;
        if b.flags & sys::ASYNC_CANCEL_OP != 0 {
            sqe.len = b.opcode as u32;
        }
        entry(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Sqe;
    use crate::types::{Fd, Fixed};

    #[test]
    fn async_cancel_names_the_user_data() {
        let e = AsyncCancel::new(2002u64.into()).build();
        assert_eq!(e.0, Sqe { opcode: 14, fd: -1, addr: 2002, ..Sqe::default() });
    }

    #[test]
    fn async_cancel2_by_user_data() {
        let e = AsyncCancel2::new(CancelBuilder::user_data(9u64).all()).build();
        assert_eq!(e.0, Sqe { opcode: 14, fd: -1, addr: 9, op_flags: 16 | 1, ..Sqe::default() });
    }

    #[test]
    fn async_cancel2_by_fd_and_fixed_fd() {
        let e = AsyncCancel2::new(CancelBuilder::fd(Fd(12))).build();
        assert_eq!(e.0, Sqe { opcode: 14, fd: 12, op_flags: 2, ..Sqe::default() });
        // A registered file travels in `cancel_flags`, not in IOSQE_FIXED_FILE.
        let e = AsyncCancel2::new(CancelBuilder::fd(Fixed(4)).all()).build();
        assert_eq!(e.0, Sqe { opcode: 14, fd: 4, op_flags: 2 | 8 | 1, ..Sqe::default() });
    }

    #[test]
    fn async_cancel2_by_opcode_and_any() {
        let e = AsyncCancel2::new(CancelBuilder::opcode(11).all()).build();
        assert_eq!(e.0, Sqe { opcode: 14, fd: -1, len: 11, op_flags: 32 | 1, ..Sqe::default() });
        let e = AsyncCancel2::new(CancelBuilder::any()).build();
        assert_eq!(e.0, Sqe { opcode: 14, fd: -1, op_flags: 4, ..Sqe::default() });
    }
}
