//! Readiness: [`PollAdd`], [`PollRemove`], [`PollUpdate`], [`EpollCtl`],
//! [`EpollWait`].

use rustix::io_uring::io_uring_user_data;

use super::{entry, set_target, sqe};
use crate::squeue::Entry;
use crate::sys;
use crate::types::sealed::{Target, UseFd, UseFixed};
use crate::types::EpollEvent;

/// Waits until `fd` is ready for any of the `poll(2)` events in `flags`
/// (`IORING_OP_POLL_ADD`, 5.1; `io_uring_prep_poll_add(3)`).
///
/// The completion's result is the mask of events that are ready. By default
/// the poll is one-shot; with [`multi`](Self::multi) it stays armed and
/// posts one completion (with `F_MORE`) per readiness event until it is
/// removed or fails. `flags` is a 32-bit mask, so `EPOLLEXCLUSIVE` and the
/// like fit (FEAT_POLL_32BITS, 5.9).
///
/// There is no level-triggered setter: Linux 6.18 fails a POLL_ADD whose
/// `len` holds anything but `IORING_POLL_ADD_MULTI` (such as
/// `IORING_POLL_ADD_LEVEL`) with `-EINVAL`.
#[derive(Debug)]
pub struct PollAdd {
    fd: Target,
    flags: u32,
    multi: bool,
}

impl PollAdd {
    /// The opcode number, `IORING_OP_POLL_ADD`.
    pub const CODE: u8 = 6;

    /// Polls `fd` for the events in `flags` (`POLLIN`, `POLLOUT`, ...).
    #[inline]
    pub fn new(fd: impl UseFixed, flags: u32) -> Self {
        PollAdd { fd: fd.into_target(), flags, multi: false }
    }

    setters! {
        /// Stay armed after the first event: every readiness event posts a
        /// completion with `F_MORE`; the last one lacks it
        /// (`IORING_POLL_ADD_MULTI`, 5.13; default false).
        multi: bool;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        set_target(&mut sqe, self.fd);
        sqe.set_poll32_events(self.flags);
        if self.multi {
            sqe.len |= sys::POLL_ADD_MULTI;
        }
        entry(sqe)
    }
}

/// Removes the armed poll that was submitted with `user_data`
/// (`IORING_OP_POLL_REMOVE`, 5.1; `io_uring_prep_poll_remove(3)`).
///
/// Completes with 0 (the poll then completes with `-ECANCELED`), `-ENOENT`
/// when no such poll is armed, or `-EALREADY` when it is completing anyway.
#[derive(Debug)]
pub struct PollRemove {
    user_data: u64,
}

impl PollRemove {
    /// The opcode number, `IORING_OP_POLL_REMOVE`.
    pub const CODE: u8 = 7;

    /// Removes the poll whose `user_data` is `user_data`, an
    /// [`io_uring_user_data`]: `PollRemove::new(7u64.into())`.
    #[inline]
    pub fn new(user_data: io_uring_user_data) -> Self {
        PollRemove { user_data: user_data.u64_() }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, -1);
        sqe.addr = self.user_data;
        entry(sqe)
    }
}

/// Changes the events and/or the `user_data` of a poll that is still
/// armed, without tearing it down (`IORING_OP_POLL_REMOVE` with
/// `IORING_POLL_UPDATE_*`, 5.13; `io_uring_prep_poll_update(3)`).
///
/// `old_user_data` names the poll. Completes with 0 when the poll was
/// updated, `-ENOENT` when no such poll is armed. With a new mask the poll
/// is re-checked at once, so it may complete right away. With neither
/// [`events`](Self::events) nor [`new_user_data`](Self::new_user_data)
/// this is a plain [`PollRemove`].
#[derive(Debug)]
pub struct PollUpdate {
    old_user_data: u64,
    events: Option<u32>,
    new_user_data: Option<u64>,
    multi: bool,
}

impl PollUpdate {
    /// The opcode number, `IORING_OP_POLL_REMOVE` (shared with [`PollRemove`]).
    pub const CODE: u8 = 7;

    /// Updates the poll submitted with `old_user_data`, an
    /// [`io_uring_user_data`]: `PollUpdate::new(7u64.into())`.
    #[inline]
    pub fn new(old_user_data: io_uring_user_data) -> Self {
        PollUpdate { old_user_data: old_user_data.u64_(), events: None, new_user_data: None, multi: false }
    }

    /// Replaces the event mask (`IORING_POLL_UPDATE_EVENTS`; default:
    /// mask unchanged). The poll becomes one-shot unless
    /// [`multi`](Self::multi) is also set.
    #[inline]
    pub const fn events(mut self, events: u32) -> Self {
        self.events = Some(events);
        self
    }

    /// Replaces the `user_data` that the poll's completions carry
    /// (`IORING_POLL_UPDATE_USER_DATA`; default: unchanged), e.g.
    /// `.new_user_data(8u64.into())`.
    #[inline]
    pub const fn new_user_data(mut self, user_data: io_uring_user_data) -> Self {
        self.new_user_data = Some(user_data.u64_());
        self
    }

    setters! {
        /// With [`events`](Self::events): keep the poll multishot
        /// (`IORING_POLL_ADD_MULTI`; default false = one-shot). Without a
        /// new mask the kernel rejects it (`-EINVAL`).
        multi: bool;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, -1);
        sqe.addr = self.old_user_data;
        if let Some(events) = self.events {
            sqe.len |= sys::POLL_UPDATE_EVENTS;
            sqe.set_poll32_events(events);
        }
        if let Some(user_data) = self.new_user_data {
            sqe.len |= sys::POLL_UPDATE_USER_DATA;
            sqe.off = user_data;
        }
        if self.multi {
            sqe.len |= sys::POLL_ADD_MULTI;
        }
        entry(sqe)
    }
}

/// Adds, modifies or removes `fd` in the epoll set `epfd`, like
/// `epoll_ctl(2)` (`IORING_OP_EPOLL_CTL`, 5.6; `io_uring_enter(2)`).
///
/// `op` is `EPOLL_CTL_ADD`, `EPOLL_CTL_MOD` or `EPOLL_CTL_DEL`; `ev` is read
/// at submission (it may be null for `EPOLL_CTL_DEL`).
///
/// Pass `epfd` as [`Fd`](crate::types::Fd). A [`Fixed`](crate::types::Fixed)
/// index is accepted for compatibility but the kernel does not look it up:
/// Linux 6.18 ignores `IOSQE_FIXED_FILE` for this operation and uses the
/// index as a plain descriptor number, so it acts on whatever fd has that
/// number.
#[derive(Debug)]
pub struct EpollCtl {
    epfd: Target,
    fd: i32,
    op: i32,
    ev: *const EpollEvent,
}

impl EpollCtl {
    /// The opcode number, `IORING_OP_EPOLL_CTL`.
    pub const CODE: u8 = 29;

    /// Applies `op` with event `ev` to `fd` in the epoll set `epfd`.
    #[inline]
    pub fn new(epfd: impl UseFixed, fd: impl UseFd, op: i32, ev: *const EpollEvent) -> Self {
        EpollCtl { epfd: epfd.into_target(), fd: fd.into_raw(), op, ev }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        set_target(&mut sqe, self.epfd);
        sqe.addr = self.ev as u64;
        sqe.len = self.op as u32;
        sqe.off = self.fd as u64;
        entry(sqe)
    }
}

/// Waits for events on the epoll set `fd`, like `epoll_wait(2)` with no
/// timeout (`IORING_OP_EPOLL_WAIT`, 6.15; no man page; kernel:
/// `io_uring/epoll.c`).
///
/// Up to `max_events` ready events are written to `events`; the result is
/// their number. The completion comes when at least one event is ready.
#[derive(Debug)]
pub struct EpollWait {
    fd: Target,
    events: *mut EpollEvent,
    max_events: u32,
    flags: u32,
}

impl EpollWait {
    /// The opcode number, `IORING_OP_EPOLL_WAIT`.
    pub const CODE: u8 = 59;

    /// Waits on the epoll set `fd`, for at most `max_events` events into
    /// `events`.
    #[inline]
    pub fn new(fd: impl UseFixed, events: *mut EpollEvent, max_events: u32) -> Self {
        EpollWait { fd: fd.into_target(), events, max_events, flags: 0 }
    }

    setters! {
        /// The op-flags word (default 0). Kept for io-uring compatibility:
        /// Linux 6.18 defines no flag here and fails the request with
        /// `-EINVAL` for anything but 0.
        flags: u32;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        set_target(&mut sqe, self.fd);
        sqe.addr = self.events as u64;
        sqe.len = self.max_events;
        sqe.op_flags = self.flags;
        entry(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Sqe;
    use crate::types::{Fd, Fixed};

    const POLLIN: u32 = 0x1;
    const POLLOUT: u32 = 0x4;
    const EPOLLEXCLUSIVE: u32 = 1 << 28;

    fn events_word(events: u32) -> u32 {
        if cfg!(target_endian = "big") {
            events.rotate_left(16)
        } else {
            events
        }
    }

    #[test]
    fn poll_add_defaults() {
        let e = PollAdd::new(Fd(5), POLLIN).build();
        assert_eq!(e.0, Sqe { opcode: 6, fd: 5, op_flags: events_word(POLLIN), ..Sqe::default() });
    }

    #[test]
    fn poll_add_every_setter_and_fixed_file() {
        let mask = POLLIN | POLLOUT | EPOLLEXCLUSIVE;
        let e = PollAdd::new(Fixed(2), mask).multi(true).build();
        let want = Sqe { opcode: 6, flags: 1, fd: 2, len: 1, op_flags: events_word(mask), ..Sqe::default() };
        assert_eq!(e.0, want);
        let e = PollAdd::new(Fd(3), POLLIN).multi(true).build();
        assert_eq!(e.0, Sqe { opcode: 6, fd: 3, len: 1, op_flags: events_word(POLLIN), ..Sqe::default() });
    }

    #[test]
    fn poll_remove_names_the_user_data() {
        let e = PollRemove::new(0xdead_beef_u64.into()).build();
        assert_eq!(e.0, Sqe { opcode: 7, fd: -1, addr: 0xdead_beef, ..Sqe::default() });
    }

    #[test]
    fn poll_update_encodings() {
        let e = PollUpdate::new(11u64.into()).events(POLLOUT).new_user_data(22u64.into()).multi(true).build();
        let want = Sqe {
            opcode: 7,
            fd: -1,
            addr: 11,
            off: 22,
            len: 2 | 4 | 1,
            op_flags: events_word(POLLOUT),
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = PollUpdate::new(11u64.into()).events(POLLIN).build();
        assert_eq!(e.0, Sqe { opcode: 7, fd: -1, addr: 11, len: 2, op_flags: events_word(POLLIN), ..Sqe::default() });
        // A new user_data of 0 still sets the flag.
        let e = PollUpdate::new(11u64.into()).new_user_data(0u64.into()).build();
        assert_eq!(e.0, Sqe { opcode: 7, fd: -1, addr: 11, len: 4, ..Sqe::default() });
        // Nothing to update: a plain remove.
        assert_eq!(PollUpdate::new(11u64.into()).build().0, PollRemove::new(11u64.into()).build().0);
    }

    #[test]
    fn epoll_ctl_encodes_every_field() {
        let ev = core::mem::MaybeUninit::<EpollEvent>::uninit();
        let e = EpollCtl::new(Fd(4), Fd(9), 3, ev.as_ptr()).build();
        let want = Sqe { opcode: 29, fd: 4, addr: ev.as_ptr() as u64, len: 3, off: 9, ..Sqe::default() };
        assert_eq!(e.0, want);
        let e = EpollCtl::new(Fixed(1), Fd(9), 2, core::ptr::null()).build();
        assert_eq!(e.0, Sqe { opcode: 29, flags: 1, fd: 1, len: 2, off: 9, ..Sqe::default() });
    }

    #[test]
    fn epoll_wait_encodes_every_field() {
        let mut evs = core::mem::MaybeUninit::<[EpollEvent; 4]>::uninit();
        let p = evs.as_mut_ptr().cast::<EpollEvent>();
        let e = EpollWait::new(Fd(6), p, 4).build();
        assert_eq!(e.0, Sqe { opcode: 59, fd: 6, addr: p as u64, len: 4, ..Sqe::default() });
        let e = EpollWait::new(Fixed(7), p, 4).flags(5).build();
        let want = Sqe { opcode: 59, flags: 1, fd: 7, addr: p as u64, len: 4, op_flags: 5, ..Sqe::default() };
        assert_eq!(e.0, want);
    }
}
