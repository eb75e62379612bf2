//! [`CancelBuilder`]: which in-flight operations a cancellation targets.

use core::ffi::c_void;

use rustix::io_uring::io_uring_user_data;

use super::sealed::{Target, UseFixed};
use crate::sys;

/// Selects the operations that [`AsyncCancel2`](crate::opcode::AsyncCancel2)
/// or [`Submitter::register_sync_cancel`](crate::Submitter) cancel: by
/// `user_data`, by file, by opcode, or any; the first match only, or with
/// [`all`](Self::all) every match (`io_uring_prep_cancel(3)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelBuilder {
    pub(crate) flags: u32,
    pub(crate) user_data: u64,
    pub(crate) fd: Option<Target>,
    pub(crate) opcode: u8,
}

impl CancelBuilder {
    const fn with(flags: u32) -> Self {
        CancelBuilder { flags, user_data: 0, fd: None, opcode: 0 }
    }

    /// Any operation at all (`IORING_ASYNC_CANCEL_ANY`, 5.19); implies
    /// [`all`](Self::all), so the result is the number cancelled.
    #[inline]
    pub const fn any() -> Self {
        Self::with(sys::ASYNC_CANCEL_ANY)
    }

    /// The operation submitted with this `user_data`.
    #[inline]
    pub fn user_data(user_data: impl Into<io_uring_user_data>) -> Self {
        Self::user_data_u64(user_data.into().u64_())
    }

    /// The operation submitted with this `user_data`, as an integer.
    #[inline]
    pub const fn user_data_u64(u64_: u64) -> Self {
        CancelBuilder { user_data: u64_, ..Self::with(sys::ASYNC_CANCEL_USERDATA) }
    }

    /// The operation submitted with this `user_data`, as a pointer.
    #[inline]
    pub fn user_data_ptr(ptr: *mut c_void) -> Self {
        Self::user_data_u64(ptr as u64)
    }

    /// Operations on this file (`IORING_ASYNC_CANCEL_FD`, 5.19; a
    /// registered file adds `IORING_ASYNC_CANCEL_FD_FIXED`, 6.0).
    #[inline]
    pub fn fd(fd: impl UseFixed) -> Self {
        let fd = fd.into_target();
        let flags = match fd {
            Target::Fd(_) => sys::ASYNC_CANCEL_FD,
            Target::Fixed(_) => sys::ASYNC_CANCEL_FD | sys::ASYNC_CANCEL_FD_FIXED,
        };
        CancelBuilder { fd: Some(fd), ..Self::with(flags) }
    }

    /// Operations with this opcode, e.g. `opcode::Timeout::CODE`
    /// (`IORING_ASYNC_CANCEL_OP`, 6.6).
    #[inline]
    pub const fn opcode(opcode: u8) -> Self {
        CancelBuilder { opcode, ..Self::with(sys::ASYNC_CANCEL_OP) }
    }

    /// Every match, not only the first (`IORING_ASYNC_CANCEL_ALL`, 5.19);
    /// the result is then the number cancelled, 0 when nothing matched
    /// (a first-match cancel gives `ENOENT` instead).
    #[inline]
    pub const fn all(mut self) -> Self {
        self.flags |= sys::ASYNC_CANCEL_ALL;
        self
    }

    /// The SQE / `io_uring_sync_cancel_reg` `fd` field: the file, or -1.
    #[inline]
    pub(crate) const fn raw_fd(&self) -> i32 {
        match self.fd {
            Some(Target::Fd(fd)) => fd,
            Some(Target::Fixed(i)) => i as i32,
            None => -1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Fd, Fixed};

    #[test]
    fn each_target_sets_its_flag_and_field() {
        let c = CancelBuilder::user_data(7u64);
        assert_eq!((c.flags, c.user_data, c.raw_fd()), (sys::ASYNC_CANCEL_USERDATA, 7, -1));
        let c = CancelBuilder::fd(Fd(5)).all();
        assert_eq!((c.flags, c.raw_fd()), (sys::ASYNC_CANCEL_FD | sys::ASYNC_CANCEL_ALL, 5));
        let c = CancelBuilder::fd(Fixed(3));
        assert_eq!((c.flags, c.raw_fd()), (sys::ASYNC_CANCEL_FD | sys::ASYNC_CANCEL_FD_FIXED, 3));
        let c = CancelBuilder::opcode(11);
        assert_eq!((c.flags, c.opcode), (sys::ASYNC_CANCEL_OP, 11));
        assert_eq!(CancelBuilder::any().flags, sys::ASYNC_CANCEL_ANY);
    }
}
