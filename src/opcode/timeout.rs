//! Timeouts: [`Timeout`], [`TimeoutRemove`], [`TimeoutUpdate`],
//! [`LinkTimeout`].

use core::marker::PhantomData;

use rustix::io_uring::io_uring_user_data;

use super::{entry, sqe};
use crate::squeue::Entry;
use crate::sys;
use crate::types::{TimeoutFlags, Timespec};

/// Completes after a time, or after a number of other completions,
/// whichever comes first (`IORING_OP_TIMEOUT`, 5.4;
/// `io_uring_prep_timeout(3)`).
///
/// The result is `-ETIME` when the time ran out, 0 when `count` other
/// completions were posted first, and `-ECANCELED` when it was removed.
/// An expiry fails a link chain (the linked entries get `-ECANCELED`)
/// unless [`TimeoutFlags::ETIME_SUCCESS`] is set; the result is `-ETIME`
/// either way (Linux 6.18). The timespec is read
/// at submission. With [`TimeoutFlags::MULTISHOT`] (6.4) it fires every
/// period with `F_MORE`, `count` times (0 = until removed).
#[derive(Debug)]
pub struct Timeout {
    /// The timespec's address, or the nanoseconds when `immediate`.
    addr: u64,
    immediate: bool,
    count: u32,
    flags: TimeoutFlags,
    /// Holds a pointer like every builder that may (not `Send`).
    _ptr: PhantomData<*const Timespec>,
}

impl Timeout {
    /// The opcode number, `IORING_OP_TIMEOUT`.
    pub const CODE: u8 = 11;

    /// A timeout of `timespec` (a duration, or a point in time with
    /// [`TimeoutFlags::ABS`]).
    #[inline]
    pub fn new(timespec: *const Timespec) -> Self {
        Timeout { addr: timespec as u64, immediate: false, count: 0, flags: TimeoutFlags::empty(), _ptr: PhantomData }
    }

    /// A timeout of `nanos` nanoseconds carried in the entry itself
    /// (`IORING_TIMEOUT_IMMEDIATE_ARG`, 7.1; `-EINVAL` in the CQE before;
    /// kernel: `io_uring/timeout.c`): no timespec to keep alive. With
    /// [`TimeoutFlags::ABS`] it is a point in time of the timeout's clock.
    #[inline]
    pub fn nanos(nanos: u64) -> Self {
        Timeout { addr: nanos, immediate: true, count: 0, flags: TimeoutFlags::empty(), _ptr: PhantomData }
    }

    setters! {
        /// Complete early, with 0, once this many other completions were
        /// posted (default 0: time only). With `MULTISHOT`, the number of
        /// expirations (0: until removed).
        count: u32;
        /// Clock (`BOOTTIME`/`REALTIME`, 5.15), absolute time,
        /// `ETIME_SUCCESS` (5.16), `MULTISHOT` (6.4) (default none).
        flags: TimeoutFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, -1);
        sqe.addr = self.addr;
        sqe.len = 1;
        sqe.off = self.count as u64;
        sqe.op_flags = immediate(self.flags, self.immediate).bits();
        entry(sqe)
    }
}

/// Removes the pending [`Timeout`] submitted with `user_data`
/// (`IORING_OP_TIMEOUT_REMOVE`, 5.5; `io_uring_prep_timeout_remove(3)`).
///
/// Completes with 0 (the timeout then completes with `-ECANCELED`),
/// `-ENOENT` when no such timeout is pending, or `-EBUSY` when it is
/// already firing.
#[derive(Debug)]
pub struct TimeoutRemove {
    user_data: u64,
}

impl TimeoutRemove {
    /// The opcode number, `IORING_OP_TIMEOUT_REMOVE`.
    pub const CODE: u8 = 12;

    /// Removes the timeout whose `user_data` is `user_data`, an
    /// [`io_uring_user_data`]: `TimeoutRemove::new(7u64.into())`.
    #[inline]
    pub fn new(user_data: io_uring_user_data) -> Self {
        TimeoutRemove { user_data: user_data.u64_() }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, -1);
        sqe.addr = self.user_data;
        entry(sqe)
    }
}

/// Restarts the pending timeout submitted with `user_data` with a new
/// time (`IORING_OP_TIMEOUT_REMOVE` with `IORING_TIMEOUT_UPDATE`, 5.11;
/// `io_uring_prep_timeout_update(3)`).
///
/// The new `timespec` counts from now (or is absolute with
/// [`TimeoutFlags::ABS`]); it is read at submission. With
/// [`TimeoutFlags::LINK_TIMEOUT_UPDATE`] (5.15) the target is a
/// [`LinkTimeout`] instead. Completes with 0 or `-ENOENT`.
#[derive(Debug)]
pub struct TimeoutUpdate {
    user_data: u64,
    timespec: *const Timespec,
    flags: TimeoutFlags,
}

impl TimeoutUpdate {
    /// The opcode number, `IORING_OP_TIMEOUT_REMOVE` (shared with
    /// [`TimeoutRemove`]).
    pub const CODE: u8 = 12;

    /// Sets the timeout named by `user_data` (an [`io_uring_user_data`],
    /// e.g. `7u64.into()`) to `timespec`.
    #[inline]
    pub fn new(user_data: io_uring_user_data, timespec: *const Timespec) -> Self {
        TimeoutUpdate { user_data: user_data.u64_(), timespec, flags: TimeoutFlags::empty() }
    }

    setters! {
        /// `ABS`, a clock (5.15), or `LINK_TIMEOUT_UPDATE` (5.15) (default
        /// none); `IORING_TIMEOUT_UPDATE` is always added.
        flags: TimeoutFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, -1);
        sqe.addr = self.user_data;
        sqe.off = self.timespec as u64;
        sqe.op_flags = self.flags.bits() | sys::TIMEOUT_UPDATE;
        entry(sqe)
    }
}

/// Bounds the time of the operation it is linked to: submitted right after
/// an entry carrying `IO_LINK`, it cancels that operation if it has not
/// completed within `timespec` (`IORING_OP_LINK_TIMEOUT`, 5.5;
/// `io_uring_enter(2)`).
///
/// Completes with `-ETIME` when it fired (the operation then gets
/// `-ECANCELED`, or `-EINTR` if it could not be stopped cleanly) and with
/// `-ECANCELED` when the operation finished first.
///
/// The kernel copies the timespec when it takes this entry from the
/// submission queue: during the `io_uring_enter` that submits it (the
/// [`submit`](crate::Submitter::submit) call that returns having
/// submitted it), or, with SQPOLL, whenever the kernel thread gets to it.
/// After that the memory may be reused; without SQPOLL that is once
/// `submit` returns, and keeping it until this entry's completion is
/// always enough. The time counts from when the linked operation is
/// started, not from the copy.
#[derive(Debug)]
pub struct LinkTimeout {
    /// The timespec's address, or the nanoseconds when `immediate`.
    addr: u64,
    immediate: bool,
    flags: TimeoutFlags,
    /// As in [`Timeout`].
    _ptr: PhantomData<*const Timespec>,
}

impl LinkTimeout {
    /// The opcode number, `IORING_OP_LINK_TIMEOUT`.
    pub const CODE: u8 = 15;

    /// A linked timeout of `timespec`.
    #[inline]
    pub fn new(timespec: *const Timespec) -> Self {
        LinkTimeout { addr: timespec as u64, immediate: false, flags: TimeoutFlags::empty(), _ptr: PhantomData }
    }

    /// A linked timeout of `nanos` nanoseconds carried in the entry itself
    /// (`IORING_TIMEOUT_IMMEDIATE_ARG`, 7.1; `-EINVAL` before; kernel:
    /// `io_uring/timeout.c`).
    #[inline]
    pub fn nanos(nanos: u64) -> Self {
        LinkTimeout { addr: nanos, immediate: true, flags: TimeoutFlags::empty(), _ptr: PhantomData }
    }

    setters! {
        /// `ABS` or a clock (`BOOTTIME`/`REALTIME`, 5.15) (default none).
        flags: TimeoutFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, -1);
        sqe.addr = self.addr;
        sqe.len = 1;
        sqe.op_flags = immediate(self.flags, self.immediate).bits();
        entry(sqe)
    }
}

/// `flags`, with `IMMEDIATE_ARG` set when the entry carries nanoseconds
/// (a `flags` setter called after `nanos` must not turn it into a pointer).
#[inline]
fn immediate(flags: TimeoutFlags, immediate: bool) -> TimeoutFlags {
    if immediate {
        flags.union(TimeoutFlags::IMMEDIATE_ARG)
    } else {
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Sqe;

    #[test]
    fn immediate_timeouts_carry_nanoseconds() {
        let e = Timeout::nanos(15_000_000).count(2).flags(TimeoutFlags::ETIME_SUCCESS).build();
        let want =
            Sqe { opcode: 11, fd: -1, addr: 15_000_000, len: 1, off: 2, op_flags: 0x80 | 0x20, ..Sqe::default() };
        assert_eq!(e.0, want);
        let e = LinkTimeout::nanos(7).flags(TimeoutFlags::BOOTTIME).build();
        assert_eq!(e.0, Sqe { opcode: 15, fd: -1, addr: 7, len: 1, op_flags: 0x80 | 0x4, ..Sqe::default() });
        // A pointer timeout never gets the flag by itself.
        let ts = Timespec::new();
        assert_eq!(Timeout::new(&ts).build().0.op_flags, 0);
    }

    #[test]
    fn timeout_defaults() {
        let ts = Timespec::new().nsec(10_000_000);
        let e = Timeout::new(&ts).build();
        assert_eq!(e.0, Sqe { opcode: 11, fd: -1, addr: &ts as *const _ as u64, len: 1, ..Sqe::default() });
    }

    #[test]
    fn timeout_every_setter() {
        let ts = Timespec::new().sec(1);
        let flags = TimeoutFlags::MULTISHOT | TimeoutFlags::BOOTTIME | TimeoutFlags::ETIME_SUCCESS;
        let e = Timeout::new(&ts).count(3).flags(flags).build();
        let want = Sqe {
            opcode: 11,
            fd: -1,
            addr: &ts as *const _ as u64,
            len: 1,
            off: 3,
            op_flags: 64 | 4 | 32,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }

    #[test]
    fn timeout_remove_names_the_user_data() {
        let e = TimeoutRemove::new(77u64.into()).build();
        assert_eq!(e.0, Sqe { opcode: 12, fd: -1, addr: 77, ..Sqe::default() });
    }

    #[test]
    fn timeout_update_always_sets_update() {
        let ts = Timespec::new().nsec(5);
        let e = TimeoutUpdate::new(8u64.into(), &ts).build();
        let want = Sqe { opcode: 12, fd: -1, addr: 8, off: &ts as *const _ as u64, op_flags: 2, ..Sqe::default() };
        assert_eq!(e.0, want);
        let e =
            TimeoutUpdate::new(8u64.into(), &ts).flags(TimeoutFlags::LINK_TIMEOUT_UPDATE | TimeoutFlags::ABS).build();
        let want =
            Sqe { opcode: 12, fd: -1, addr: 8, off: &ts as *const _ as u64, op_flags: 16 | 2 | 1, ..Sqe::default() };
        assert_eq!(e.0, want);
    }

    #[test]
    fn link_timeout_encodes_every_field() {
        let ts = Timespec::new().nsec(1);
        let e = LinkTimeout::new(&ts).build();
        assert_eq!(e.0, Sqe { opcode: 15, fd: -1, addr: &ts as *const _ as u64, len: 1, ..Sqe::default() });
        let e = LinkTimeout::new(&ts).flags(TimeoutFlags::REALTIME).build();
        let want = Sqe { opcode: 15, fd: -1, addr: &ts as *const _ as u64, len: 1, op_flags: 8, ..Sqe::default() };
        assert_eq!(e.0, want);
    }
}
