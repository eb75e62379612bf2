//! [`Submitter`]: entering the kernel to submit and to wait.

use core::ffi::c_void;
use core::mem::size_of;
use core::ptr;
use core::sync::atomic::{self, AtomicU32, Ordering};

use rustix::fd::{AsRawFd, OwnedFd};
use rustix::io::Result;
use rustix::io_uring::{io_uring_getevents_arg, IoringEnterFlags, KernelSigSet};

use crate::ring::Parameters;
use crate::sys::{self, GeteventsArg};
use crate::types::SubmitArgs;

bitflags::bitflags! {
    /// `IORING_ENTER_*`: flags for the raw [`Submitter::enter`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    pub struct EnterFlags: u32 {
        /// `IORING_ENTER_GETEVENTS` (5.1): wait for `min_complete` completions.
        const GETEVENTS = 1 << 0;
        /// `IORING_ENTER_SQ_WAKEUP` (5.1): wake the SQPOLL thread.
        const SQ_WAKEUP = 1 << 1;
        /// `IORING_ENTER_SQ_WAIT` (5.10): wait until the SQ has room.
        const SQ_WAIT = 1 << 2;
        /// `IORING_ENTER_EXT_ARG` (5.11): `arg` is an `io_uring_getevents_arg`.
        const EXT_ARG = 1 << 3;
        /// `IORING_ENTER_REGISTERED_RING` (5.18): `fd` is a registered ring index.
        const REGISTERED_RING = 1 << 4;
        /// `IORING_ENTER_ABS_TIMER` (6.12): the timeout is absolute.
        const ABS_TIMER = 1 << 5;
        /// `IORING_ENTER_EXT_ARG_REG` (6.13): `arg` is an offset into the
        /// registered wait region.
        const EXT_ARG_REG = 1 << 6;
        /// `IORING_ENTER_NO_IOWAIT` (6.15): do not count the wait as iowait.
        const NO_IOWAIT = 1 << 7;
    }
}

/// Enters the kernel for a ring: submits, waits, and (see
/// [`register`](crate::register)) registers resources. Obtained from
/// [`IoUring::submitter`](crate::IoUring::submitter) or
/// [`IoUring::split`](crate::IoUring::split).
///
/// `submit*` submit what the ring's *shared* SQ tail covers: with
/// `split()`, call `SubmissionQueue::sync` first.
pub struct Submitter<'a> {
    pub(crate) fd: &'a OwnedFd,
    pub(crate) params: &'a Parameters,
    pub(crate) ring_index: &'a RingIndex,
    sq_head: *const AtomicU32,
    sq_tail: *const AtomicU32,
    sq_flags: *const AtomicU32,
}

// SAFETY: a Submitter is shared references into the ring plus pointers to
// three SQ words that live as long as the ring it borrows (R1, R2). It only
// loads those words atomically (R3) and makes syscalls, which the kernel
// serialises; it never writes ring memory. `&IoUring` is already Sync, so
// any thread can make its own Submitter: moving or sharing one adds nothing.
unsafe impl Send for Submitter<'_> {}
// SAFETY: as above; every method takes `&self` or (registering the ring fd,
// which writes only the atomic `RingIndex`) `&mut self`.
unsafe impl Sync for Submitter<'_> {}

/// The ring's index in the registering thread's registered-ring table
/// (`IORING_REGISTER_RING_FDS`), shared by every [`Submitter`] of the ring.
///
/// Registered ring indices are per thread in the kernel. An index used on
/// another thread names that thread's slot: empty (the kernel answers
/// `EBADF`/`EINVAL`, and the enter is retried through the fd) or another
/// ring that thread registered. See
/// [`Submitter::register_ring_fd`](crate::Submitter::register_ring_fd).
#[derive(Debug)]
pub(crate) struct RingIndex(AtomicU32);

impl RingIndex {
    /// No index registered.
    const NONE: u32 = u32::MAX;

    pub(crate) const fn new() -> Self {
        RingIndex(AtomicU32::new(Self::NONE))
    }

    #[inline]
    pub(crate) fn get(&self) -> Option<u32> {
        // Relaxed: the value is only ever a hint for which fd to pass; a
        // stale read enters through the other, equally valid, name.
        match self.0.load(Ordering::Relaxed) {
            Self::NONE => None,
            i => Some(i),
        }
    }

    pub(crate) fn set(&self, index: Option<u32>) {
        self.0.store(index.unwrap_or(Self::NONE), Ordering::Relaxed);
    }
}

impl<'a> Submitter<'a> {
    #[inline]
    pub(crate) fn new<E>(
        fd: &'a OwnedFd,
        params: &'a Parameters,
        ring_index: &'a RingIndex,
        sq: &'a crate::squeue::Inner<E>,
    ) -> Self {
        Submitter { fd, params, ring_index, sq_head: sq.head, sq_tail: sq.tail, sq_flags: sq.flags }
    }

    /// The kernel-written SQ flags word, as a reference for the length of
    /// the ring borrow.
    #[inline]
    fn sq_flags_word(&self) -> &'a AtomicU32 {
        // SAFETY: (R1, R2, R3) the word lies in the SQ ring, mapped for as long as the
        // ring borrowed for 'a lives (R1, R2), and is only ever accessed
        // atomically (R3).
        unsafe { &*self.sq_flags }
    }

    /// The kernel-written SQ flags word's value.
    #[inline]
    fn sq_flags(&self) -> u32 {
        self.sq_flags_word().load(Ordering::Relaxed)
    }

    /// Entries published in the shared SQ and not yet consumed.
    #[inline]
    fn sq_len(&self) -> u32 {
        // SAFETY: live shared words (R1-R3); Acquire on both so that a
        // tail published elsewhere (a SubmissionQueue) is seen (R4).
        unsafe { (*self.sq_tail).load(Ordering::Acquire).wrapping_sub((*self.sq_head).load(Ordering::Acquire)) }
    }

    /// The flags a submit needs beyond `extra`, or `None` when an SQPOLL
    /// ring needs no kernel entry at all (see [`enter_flags`]).
    #[inline]
    fn enter_flags(&self, want: usize, extra: u32) -> Option<u32> {
        enter_flags(self.params.setup_flags(), self.sq_flags_word(), want, extra)
    }

    /// `io_uring_enter` on this ring.
    ///
    /// # Safety
    /// `arg` and `argsz` must match what `flags` tells the kernel.
    #[inline(always)]
    pub(crate) unsafe fn enter_raw(
        &self,
        to_submit: u32,
        min_complete: u32,
        flags: u32,
        arg: *const c_void,
        argsz: usize,
    ) -> Result<usize> {
        // SAFETY: (S1) forwarded from the caller.
        unsafe { enter_ring(self.fd, self.ring_index, to_submit, min_complete, flags, arg, argsz) }
    }

    /// Raw `io_uring_enter` with an optional kernel signal mask.
    ///
    /// # Safety
    /// Entries in the SQ must be valid (see `SubmissionQueue::push`), and
    /// `flag` must not contain `EXT_ARG` or `EXT_ARG_REG`.
    pub unsafe fn enter_sigmask(
        &self,
        to_submit: u32,
        min_complete: u32,
        flag: IoringEnterFlags,
        arg: Option<&KernelSigSet>,
    ) -> Result<usize> {
        let (arg, argsz) = match arg {
            Some(set) => (ptr::from_ref(set).cast(), sys::KERNEL_SIGSET_SIZE as usize),
            None => (ptr::null(), 0),
        };
        // SAFETY: (S1) forwarded from the caller; argsz is the sigset's size.
        unsafe { self.enter_raw(to_submit, min_complete, flag.bits(), arg, argsz) }
    }

    /// Raw `io_uring_enter` with an `io_uring_getevents_arg` (the caller
    /// sets `EXT_ARG` in `flag`).
    ///
    /// # Safety
    /// As for [`enter_sigmask`](Self::enter_sigmask); pointers inside `arg`
    /// must be valid.
    pub unsafe fn enter_arg(
        &self,
        to_submit: u32,
        min_complete: u32,
        flag: IoringEnterFlags,
        arg: Option<&io_uring_getevents_arg>,
    ) -> Result<usize> {
        let ptr = arg.map_or(ptr::null(), |a| ptr::from_ref(a).cast());
        // SAFETY: (S1) forwarded from the caller.
        unsafe { self.enter_raw(to_submit, min_complete, flag.bits(), ptr, size_of::<io_uring_getevents_arg>()) }
    }

    /// Raw `io_uring_enter(fd, to_submit, min_complete, flag, arg, size_of::<T>())`.
    ///
    /// # Safety
    /// `arg` must be what `flag` tells the kernel to expect (nothing, a
    /// kernel sigset, an `io_uring_getevents_arg`), and entries in the SQ
    /// must be valid.
    pub unsafe fn enter<T: Sized>(
        &self,
        to_submit: u32,
        min_complete: u32,
        flag: u32,
        arg: Option<&T>,
    ) -> Result<usize> {
        let ptr = arg.map_or(ptr::null(), |a| ptr::from_ref(a).cast());
        let size = if arg.is_some() { size_of::<T>() } else { 0 };
        // SAFETY: (S1) forwarded from the caller.
        unsafe { self.enter_raw(to_submit, min_complete, flag, ptr, size) }
    }

    /// Submits the entries published to the SQ without waiting. Returns
    /// how many the kernel consumed.
    #[inline]
    pub fn submit(&self) -> Result<usize> {
        self.submit_and_wait(0)
    }

    /// Submits the entries published to the SQ and waits until at least
    /// `want` completions are in the CQ. Returns how many entries the kernel
    /// consumed (under SQPOLL, how many were waiting for it).
    #[inline(always)]
    pub fn submit_and_wait(&self, want: usize) -> Result<usize> {
        let len = self.sq_len();
        let (setup, sq_flags) = (self.params.setup_flags(), self.sq_flags());
        // The common case, inlined: a ring without SQPOLL or IOPOLL, and no
        // overflow or task work flagged. Then the flags depend on `want`
        // alone; everything else takes the general path, out of line.
        if (setup & (sys::SETUP_SQPOLL | sys::SETUP_IOPOLL)) | (sq_flags & (sys::SQ_CQ_OVERFLOW | sys::SQ_TASKRUN)) != 0
        {
            return submit_and_wait_general(self.fd, self.ring_index, setup, self.sq_flags_word(), len, want);
        }
        let flags = if want > 0 { sys::ENTER_GETEVENTS } else { 0 };
        // SAFETY: (S1, S2) no extra argument; the SQ holds entries pushed under
        // `push`'s contract.
        unsafe { self.enter_raw(len, saturate(want), flags, ptr::null(), 0) }
    }

    /// As [`submit_and_wait`](Self::submit_and_wait), with a timeout, a
    /// signal mask and/or a minimum wait time (`IORING_ENTER_EXT_ARG`,
    /// 5.11). A timeout that expires returns `Err(ETIME)`.
    pub fn submit_with_args(&self, want: usize, args: &SubmitArgs<'_, '_>) -> Result<usize> {
        let (len, flags) = self.submit_flags(want, sys::ENTER_EXT_ARG);
        let arg: *const GeteventsArg = &args.args;
        // SAFETY: (S1) `arg` is an io_uring_getevents_arg whose pointers borrow
        // from values that outlive `args` (SubmitArgs' lifetimes).
        unsafe { self.enter_raw(len, saturate(want), flags, arg.cast(), size_of::<GeteventsArg>()) }
    }

    /// What a submit with an argument passes: the SQ length and the flags,
    /// `extra` always included (an argument needs the syscall even when an
    /// SQPOLL ring would not).
    #[inline]
    pub(crate) fn submit_flags(&self, want: usize, extra: u32) -> (u32, u32) {
        (self.sq_len(), self.enter_flags(want, extra).unwrap_or(extra))
    }

    /// Waits until the SQ has a free slot (`IORING_ENTER_SQ_WAIT`, 5.10;
    /// meaningful with SQPOLL). The wait is interruptible: it can return
    /// while the SQ is still full (a signal, or task work queued for this
    /// thread; it returned early once in our runs on 6.18), so check for
    /// room and call again.
    pub fn squeue_wait(&self) -> Result<usize> {
        // SAFETY: (S1) no argument; nothing is submitted.
        unsafe { self.enter_raw(0, 0, sys::ENTER_SQ_WAIT, ptr::null(), 0) }
    }

    /// Issues `io_uring_register` on this ring.
    ///
    /// # Safety
    /// `arg` must be valid for what `opcode` makes the kernel read and write.
    #[inline]
    pub(crate) unsafe fn register_raw(&self, opcode: u32, arg: *const c_void, nr_args: u32) -> Result<u32> {
        // SAFETY: the fd is this ring's (R1); `arg` is the caller's promise.
        unsafe { sys::syscall::register(self.fd.as_raw_fd(), opcode, arg, nr_args) }
    }
}

/// The flags a submit needs beyond `extra`, or `None` when an SQPOLL ring
/// needs no kernel entry at all (see [`flags_for_submit`]); `sq_flags` is
/// the ring's shared SQ flags word.
///
/// Under SQPOLL a `SeqCst` fence separates the tail the caller published
/// from the read of NEED_WAKEUP (R4): without it the store may be ordered
/// after the load, and the kernel thread may go to sleep on an SQ it saw as
/// empty while we see it awake.
#[inline]
fn enter_flags(setup: u32, sq_flags: &AtomicU32, want: usize, extra: u32) -> Option<u32> {
    if setup & sys::SETUP_SQPOLL != 0 {
        atomic::fence(Ordering::SeqCst);
    }
    flags_for_submit(want, setup, sq_flags.load(Ordering::Relaxed), extra)
}

/// [`Submitter::submit_and_wait`] for SQPOLL and IOPOLL rings and flagged
/// overflow or task work. Out of line, and given the few values it needs
/// rather than the `Submitter`, so that the inlined common case neither
/// grows nor has to build a `Submitter` in memory.
#[inline(never)]
fn submit_and_wait_general(
    fd: &OwnedFd,
    ring_index: &RingIndex,
    setup: u32,
    sq_flags: &AtomicU32,
    len: u32,
    want: usize,
) -> Result<usize> {
    match enter_flags(setup, sq_flags, want, 0) {
        None => Ok(len as usize),
        // SAFETY: (S1, S2) no extra argument; the SQ holds entries pushed under
        // `push`'s contract.
        Some(flags) => unsafe { enter_ring(fd, ring_index, len, saturate(want), flags, ptr::null(), 0) },
    }
}

/// `io_uring_enter` on the ring `fd`, through its registered index when it
/// has one.
///
/// # Safety
/// `arg` and `argsz` must match what `flags` tells the kernel; `fd` and
/// `ring_index` are one ring's, whose published SQ entries were pushed under
/// `push`'s contract.
#[inline(always)]
unsafe fn enter_ring(
    fd: &OwnedFd,
    ring_index: &RingIndex,
    to_submit: u32,
    min_complete: u32,
    flags: u32,
    arg: *const c_void,
    argsz: usize,
) -> Result<usize> {
    let n = match ring_index.get() {
        // SAFETY: R1 and the caller's promise; the index names this ring in
        // the thread that registered it.
        Some(index) => match unsafe {
            sys::syscall::enter(index, to_submit, min_complete, flags | sys::ENTER_REGISTERED_RING, arg, argsz)
        } {
            Ok(n) => n,
            // SAFETY: (S1) forwarded from the caller.
            Err(e) => return unsafe { enter_retry_by_fd(e, fd, to_submit, min_complete, flags, arg, argsz) },
        },
        // SAFETY: (S1) forwarded from the caller.
        None => unsafe { enter_by_fd(fd, to_submit, min_complete, flags, arg, argsz) }?,
    };
    Ok(n as usize)
}

/// `io_uring_enter` through the ring's fd.
///
/// # Safety
/// As for [`enter_ring`].
#[inline(always)]
unsafe fn enter_by_fd(
    fd: &OwnedFd,
    to_submit: u32,
    min_complete: u32,
    flags: u32,
    arg: *const c_void,
    argsz: usize,
) -> Result<u32> {
    // SAFETY: the fd is this ring's (R1); `arg` and the published entries
    // are the caller's promise.
    unsafe { sys::syscall::enter(fd.as_raw_fd() as u32, to_submit, min_complete, flags, arg, argsz) }
}

/// After an enter through the registered index failed with `e`: on another
/// thread the kernel finds no ring at that index (EBADF, or EINVAL without
/// any registered ring) and nothing was submitted, so the call is repeated
/// through the fd; so it is when the rustix fallback cannot pass an index
/// (ENOSYS). Other errors are the call's.
///
/// # Safety
/// As for [`enter_ring`].
#[cold]
#[inline(never)]
unsafe fn enter_retry_by_fd(
    e: rustix::io::Errno,
    fd: &OwnedFd,
    to_submit: u32,
    min_complete: u32,
    flags: u32,
    arg: *const c_void,
    argsz: usize,
) -> Result<usize> {
    if !matches!(e, rustix::io::Errno::BADF | rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) {
        return Err(e);
    }
    // SAFETY: (S1) forwarded from the caller.
    unsafe { enter_by_fd(fd, to_submit, min_complete, flags, arg, argsz) }.map(|n| n as usize)
}

/// Decides the `io_uring_enter` flags of a submit, from the ring's setup
/// flags and the SQ flags word as just read; `None` means "no syscall".
///
/// - `GETEVENTS` when waiting; always on IOPOLL rings (their completions
///   are only reaped by polling inside the kernel); and whenever the kernel
///   flags a CQ overflow or pending task work: with FEAT_NODROP overflowed
///   completions move into the CQ only during a GETEVENTS entry, so they
///   must be flushed even when nothing is waited for.
/// - `SQ_WAKEUP` when the SQPOLL thread sleeps. An SQPOLL ring with nothing
///   else to do needs no syscall.
#[inline]
fn flags_for_submit(want: usize, setup: u32, sq_flags: u32, extra: u32) -> Option<u32> {
    let mut flags = extra;
    if want > 0 || setup & sys::SETUP_IOPOLL != 0 || sq_flags & (sys::SQ_CQ_OVERFLOW | sys::SQ_TASKRUN) != 0 {
        flags |= sys::ENTER_GETEVENTS;
    }
    if setup & sys::SETUP_SQPOLL != 0 {
        if sq_flags & sys::SQ_NEED_WAKEUP != 0 {
            flags |= sys::ENTER_SQ_WAKEUP;
        } else if flags == 0 {
            return None;
        }
    }
    Some(flags)
}

/// `want` as the kernel's `u32`, saturating.
#[inline]
pub(crate) fn saturate(want: usize) -> u32 {
    u32::try_from(want).unwrap_or(u32::MAX)
}

impl core::fmt::Debug for Submitter<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Submitter").field("fd", &self.fd.as_raw_fd()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::flags_for_submit as f;
    use crate::sys::*;

    #[test]
    fn plain_submit_enters_without_getevents() {
        assert_eq!(f(0, 0, 0, 0), Some(0));
        assert_eq!(f(3, 0, 0, 0), Some(ENTER_GETEVENTS));
    }

    #[test]
    fn iopoll_always_polls() {
        assert_eq!(f(0, SETUP_IOPOLL, 0, 0), Some(ENTER_GETEVENTS));
    }

    #[test]
    fn overflow_or_taskrun_flushes_even_without_waiting() {
        assert_eq!(f(0, 0, SQ_CQ_OVERFLOW, 0), Some(ENTER_GETEVENTS));
        assert_eq!(f(0, 0, SQ_TASKRUN, 0), Some(ENTER_GETEVENTS));
        assert_eq!(f(0, SETUP_SQPOLL, SQ_CQ_OVERFLOW, 0), Some(ENTER_GETEVENTS));
    }

    #[test]
    fn sqpoll_skips_the_syscall_only_when_idle_work_is_none() {
        assert_eq!(f(0, SETUP_SQPOLL, 0, 0), None);
        assert_eq!(f(0, SETUP_SQPOLL, SQ_NEED_WAKEUP, 0), Some(ENTER_SQ_WAKEUP));
        assert_eq!(f(1, SETUP_SQPOLL, SQ_NEED_WAKEUP, 0), Some(ENTER_SQ_WAKEUP | ENTER_GETEVENTS));
        assert_eq!(f(0, SETUP_SQPOLL, 0, ENTER_EXT_ARG), Some(ENTER_EXT_ARG));
    }
}
