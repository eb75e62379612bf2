//! [`Submitter`]: entering the kernel to submit and to wait.

use core::ffi::c_void;
use core::marker::PhantomData;
use core::mem::size_of;
use core::ptr;
use core::sync::atomic::{self, AtomicU64, Ordering};

use rustix::fd::{AsRawFd, OwnedFd};
use rustix::io::Result;
use rustix::io_uring::{io_uring_getevents_arg, IoringEnterFlags, KernelSigSet};

use crate::squeue::{Batch, SqWords};
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
///
/// `H` is how the submitter names its ring to the kernel: [`ByFd`], the
/// default, for an [`IoUring`](crate::IoUring) (its fd, or the index it
/// registered with [`register_ring_fd`](Self::register_ring_fd)), or
/// [`ByIndex`] for a [`RegisteredRing`](crate::ring::RegisteredRing),
/// which has no fd (that flavour is
/// [`RegisteredSubmitter`](crate::ring::RegisteredSubmitter)). The
/// `register_*` calls of every family work through either, the kernel
/// finding the ring by its index with
/// `IORING_REGISTER_USE_REGISTERED_RING` (6.3); what needs the fd itself
/// (registering it, mapping from it, the raw `enter*`) is only offered
/// by `ByFd`.
pub struct Submitter<'a, H: RingHandle = ByFd<'a>> {
    /// How the ring is named.
    pub(crate) handle: H,
    /// The SQ head, tail and flags words.
    pub(crate) sq: &'a SqWords,
    /// The SQE array: an SQ_REWIND ring's submit moves what the kernel
    /// left of a batch down to slot 0 (R7).
    pub(crate) batch: &'a Batch,
}

// SAFETY: a Submitter is shared references into the ring, among them the
// pointers to three SQ words that live as long as the ring it borrows (R1, R2). It only
// loads those words atomically (R3) and makes syscalls, which the kernel
// serialises; it never writes ring memory. `&IoUring` is already Sync, so
// any thread can make its own Submitter: moving or sharing one adds nothing.
// Only the fd flavour: an index (`ByIndex`) names a ring on one thread only.
unsafe impl Send for Submitter<'_> {}
// SAFETY: as above; every method takes `&self` or (registering the ring fd,
// which writes only the atomic `EnterTarget`) `&mut self`.
unsafe impl Sync for Submitter<'_> {}

// The fd flavour kept its layout when the handle became a parameter: the
// fd and the enter target, the SQ words and the batch, four pointers.
const _: () = assert!(size_of::<Submitter<'static>>() == 4 * size_of::<usize>());

/// How a [`Submitter`] names its ring to the kernel: [`ByFd`] or
/// [`ByIndex`]. Sealed: the crate's two are the only ones.
pub trait RingHandle: handle::Sealed {}

pub(crate) mod handle {
    /// What `io_uring_register` needs from a handle.
    pub trait Sealed {
        /// The `fd` argument of `io_uring_register` and the bits to OR
        /// into its opcode.
        fn register_target(&self) -> (i32, u32);
    }
}

/// A ring named by its fd (the default [`Submitter`]): the ring's own
/// fd, entered through its registered index when
/// [`register_ring_fd`](Submitter::register_ring_fd) made one.
#[derive(Clone, Copy)]
pub struct ByFd<'a> {
    pub(crate) fd: &'a OwnedFd,
    /// How this ring is entered: fd or registered index, and the ring's
    /// mode (decided at setup).
    pub(crate) ring_index: &'a EnterTarget,
}

impl RingHandle for ByFd<'_> {}
impl handle::Sealed for ByFd<'_> {
    #[inline]
    fn register_target(&self) -> (i32, u32) {
        (self.fd.as_raw_fd(), 0)
    }
}

impl core::fmt::Debug for ByFd<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ByFd").field("fd", &self.fd.as_raw_fd()).finish_non_exhaustive()
    }
}

/// A ring named only by its index in the creating thread's
/// registered-ring table: a [`RegisteredRing`](crate::ring::RegisteredRing)
/// (`IORING_SETUP_REGISTERED_FD_ONLY`, 6.5). Every enter passes
/// `IORING_ENTER_REGISTERED_RING` and every register call
/// `IORING_REGISTER_USE_REGISTERED_RING` (6.3; `io_uring_register(2)`).
///
/// Neither `Send` nor `Sync`: on another thread the index names that
/// thread's slot, which is empty or holds another ring, so a buffer or a
/// buffer ring registered there would be handed to the wrong ring.
#[derive(Clone, Copy)]
pub struct ByIndex {
    pub(crate) index: u32,
    /// The ring's `SQPOLL | IOPOLL | SQ_REWIND | SQE128` bits.
    pub(crate) mode: u32,
    /// `!Send + !Sync`: the index is only valid on the creating thread.
    pub(crate) _thread: PhantomData<*const ()>,
}

impl RingHandle for ByIndex {}
impl handle::Sealed for ByIndex {
    #[inline]
    fn register_target(&self) -> (i32, u32) {
        // Indices are below the kernel's 16 slots, never -1 (the ringless
        // form of io_uring_register).
        (self.index as i32, sys::REGISTER_USE_REGISTERED_RING)
    }
}

impl core::fmt::Debug for ByIndex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ByIndex").field("index", &self.index).finish_non_exhaustive()
    }
}

/// How a ring is entered, decided once: at setup (the ring's mode) and
/// when its fd is registered or unregistered (the number passed as `fd`).
/// Shared by every [`Submitter`] of the ring.
///
/// `target` packs what every `io_uring_enter` of this ring passes, so that
/// the submit path loads one word and tests nothing: the low 32 bits are
/// the `fd` argument (the ring fd, or its registered index) and the high
/// 32 bits the enter flags every call carries (`REGISTERED_RING` with an
/// index; `GETEVENTS` on an IOPOLL ring, whose completions are only reaped
/// by polling in the kernel).
///
/// Registered ring indices are per thread in the kernel. An index used on
/// another thread names that thread's slot: empty (the kernel answers
/// `EBADF`/`EINVAL`, and the enter is retried through the fd) or another
/// ring that thread registered. See
/// [`Submitter::register_ring_fd`](crate::Submitter::register_ring_fd).
#[derive(Debug)]
pub(crate) struct EnterTarget {
    target: AtomicU64,
    /// The ring fd, as the `fd` argument when no index is registered.
    fd: u32,
    /// The ring's `IORING_SETUP_SQPOLL | IORING_SETUP_IOPOLL |
    /// IORING_SETUP_SQ_REWIND | IORING_SETUP_SQE128` bits.
    mode: u32,
}

impl EnterTarget {
    /// The target of a ring with fd `fd` set up with `setup_flags`.
    pub(crate) fn new(fd: &OwnedFd, setup_flags: u32) -> Self {
        let mode = setup_flags & (sys::SETUP_SQPOLL | sys::SETUP_IOPOLL | sys::SETUP_SQ_REWIND | sys::SETUP_SQE128);
        let fd = fd.as_raw_fd() as u32;
        let t = EnterTarget { target: AtomicU64::new(0), fd, mode };
        t.set(None);
        t
    }

    /// The size of one SQE of this ring.
    fn entry_size(&self) -> usize {
        if self.mode & sys::SETUP_SQE128 != 0 {
            128
        } else {
            64
        }
    }

    /// Flags every enter of a ring in this mode carries.
    const fn base_flags(mode: u32) -> u32 {
        if mode & sys::SETUP_IOPOLL != 0 {
            sys::ENTER_GETEVENTS
        } else {
            0
        }
    }

    /// The `fd` argument and the flags every enter carries.
    #[inline(always)]
    fn load(&self) -> (u32, u32) {
        // Relaxed: the value is only ever a hint for which name to pass; a
        // stale read enters through the other, equally valid, name.
        let t = self.target.load(Ordering::Relaxed);
        (t as u32, (t >> 32) as u32)
    }

    /// The registered index, if one is registered.
    pub(crate) fn get(&self) -> Option<u32> {
        match self.load() {
            (index, flags) if flags & sys::ENTER_REGISTERED_RING != 0 => Some(index),
            _ => None,
        }
    }

    /// Records `index` as registered (or, with `None`, that none is).
    pub(crate) fn set(&self, index: Option<u32>) {
        let base = Self::base_flags(self.mode);
        let (fd, flags) = match index {
            Some(i) => (i, base | sys::ENTER_REGISTERED_RING),
            None => (self.fd, base),
        };
        self.target.store(u64::from(flags) << 32 | u64::from(fd), Ordering::Relaxed);
    }
}

impl<'a> Submitter<'a> {
    #[inline]
    pub(crate) fn new<E>(fd: &'a OwnedFd, ring_index: &'a EnterTarget, sq: &'a crate::squeue::Inner<E>) -> Self {
        Submitter { handle: ByFd { fd, ring_index }, sq: &sq.words, batch: &sq.batch }
    }

    /// `io_uring_enter` on this ring, through its registered index when
    /// it has one.
    ///
    /// # Safety
    /// `arg` and `argsz` must match what `flags` tells the kernel; the
    /// published SQ entries were pushed under `push`'s contract.
    #[inline(always)]
    pub(crate) unsafe fn enter_raw(
        &self,
        to_submit: u32,
        min_complete: u32,
        flags: u32,
        arg: *const c_void,
        argsz: usize,
    ) -> Result<usize> {
        // SAFETY: (S1, P1-P3) forwarded from the caller.
        unsafe { enter_ring_result(self.handle.fd, self.handle.ring_index, to_submit, min_complete, flags, arg, argsz) }
    }

    /// Raw `io_uring_enter` with an optional kernel signal mask.
    ///
    /// # Safety
    /// Entries in the SQ must be valid (see `SubmissionQueue::push`), and
    /// `flag` must not contain `EXT_ARG` or `EXT_ARG_REG`. On a ring set
    /// up with [`setup_sq_rewind`](crate::Builder::setup_sq_rewind),
    /// `to_submit` must be 0: the kernel would submit the batch at slot 0
    /// without the ring knowing, and the next `submit*` would submit it
    /// again.
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
    /// As for [`enter_sigmask`](Self::enter_sigmask) (`to_submit` 0 on an
    /// SQ_REWIND ring); pointers inside `arg` must be valid.
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
    /// Exactly one system call: unlike [`submit_and_wait`](Self::submit_and_wait),
    /// it returns whatever the kernel returned, also when the kernel
    /// submitted fewer than `to_submit` entries and therefore did not wait.
    ///
    /// # Safety
    /// `arg` must be what `flag` tells the kernel to expect (nothing, a
    /// kernel sigset, an `io_uring_getevents_arg`), and entries in the SQ
    /// must be valid; on an SQ_REWIND ring `to_submit` must be 0 (see
    /// [`enter_sigmask`](Self::enter_sigmask)).
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
    /// how many the kernel consumed (under SQPOLL, how many were still
    /// waiting for its thread when the call looked, which may be 0).
    ///
    /// When the kernel flags a CQ overflow or pending task work, the call
    /// enters with `IORING_ENTER_GETEVENTS` (waiting for nothing) so that
    /// the kernel moves those completions into the CQ. See
    /// [`submit_and_wait`](Self::submit_and_wait) for the errors.
    #[inline]
    pub fn submit(&self) -> Result<usize> {
        self.submit_and_wait(0)
    }

    /// Submits the entries published to the SQ and waits until at least
    /// `want` completions are in the CQ. Returns how many entries the kernel
    /// consumed (under SQPOLL, how many were still waiting for its thread
    /// when the call looked: fewer than were pushed, even 0, when the
    /// thread had taken them already).
    ///
    /// The kernel waits only when it submitted every entry it was asked
    /// to: it stops early at an entry it refuses at submission (that entry
    /// is consumed and its error posted as its completion), and it finds
    /// fewer entries than asked when another thread submitted them first.
    /// Then this call enters again, submitting what is left and waiting,
    /// until one enter has submitted everything in the SQ and waited. The
    /// count returned adds up every enter's.
    ///
    /// `Ok` means the wait ended with at least `want` completions in the
    /// CQ, with one exception the kernel makes: a signal that interrupts
    /// the wait of an enter that also submitted entries ends the call with
    /// that enter's count, not with `EINTR` (`io_uring_enter(2)`).
    ///
    /// # Errors
    /// The kernel's, from `io_uring_enter(2)`; an error from an enter
    /// after the first leaves the entries earlier enters consumed
    /// submitted (the SQ head shows them). Among them:
    /// - `EINTR`: a signal arrived while waiting (nothing submitted in that
    ///   enter); call again to go on waiting.
    /// - `EAGAIN`, `EBUSY`: the kernel could not take more entries now
    ///   (out of request memory, or too many completions not yet reaped):
    ///   reap completions, then call again.
    /// - `EBADR` (rings with `IORING_FEAT_NODROP`, 5.5): the kernel could
    ///   not allocate memory to keep an overflowing completion, so at least
    ///   one completion was lost for good (the CQ's overflow counter,
    ///   [`CompletionQueue::overflow`](crate::CompletionQueue::overflow),
    ///   counts them). The kernel reports it once, from an enter that waits
    ///   for completions and submitted nothing, then clears the condition:
    ///   calling again waits normally. What the lost completions were
    ///   cannot be learned; an application that must account for every
    ///   operation should treat the ring as broken. A [`submit`](Self::submit)
    ///   (no wait) does not report it. Kernel: `io_cqring_wait` and
    ///   `io_uring_enter` in `io_uring/io_uring.c`; `io_uring_enter(2)`.
    #[inline(always)]
    pub fn submit_and_wait(&self, want: usize) -> Result<usize> {
        // SAFETY: (S1) no extra argument; the SQ holds entries pushed under
        // `push`'s contract (P1-P3).
        unsafe { self.submit_inner(want, 0, ptr::null(), 0) }
    }

    /// As [`submit_and_wait`](Self::submit_and_wait), with a timeout, a
    /// signal mask and/or a minimum wait time (`IORING_ENTER_EXT_ARG`,
    /// 5.11). A timeout that expires returns `Err(ETIME)`, unless the
    /// enter that timed out also submitted entries (then its count, as the
    /// kernel reports it). When the kernel stops short and the call enters
    /// again, the timeout starts again with that enter.
    pub fn submit_with_args(&self, want: usize, args: &SubmitArgs<'_, '_>) -> Result<usize> {
        let arg: *const GeteventsArg = &args.args;
        // SAFETY: (S1) `arg` is an io_uring_getevents_arg whose pointers borrow
        // from values that outlive `args` (SubmitArgs' lifetimes).
        unsafe { self.submit_inner(want, sys::ENTER_EXT_ARG, arg.cast(), size_of::<GeteventsArg>()) }
    }

    /// The submit of every `submit*`: `extra` flags and the argument they
    /// describe (`extra == 0`: none, and under SQPOLL no syscall when
    /// there is nothing to do).
    ///
    /// # Safety
    /// `arg` and `argsz` must be what `extra` tells the kernel to expect.
    #[inline(always)]
    pub(crate) unsafe fn submit_inner(
        &self,
        want: usize,
        extra: u32,
        arg: *const c_void,
        argsz: usize,
    ) -> Result<usize> {
        // SAFETY: (S1, P1-P3) forwarded from the caller.
        unsafe { submit_ring(self.handle.fd, self.handle.ring_index, self.sq, self.batch, want, extra, arg, argsz) }
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
}

impl<H: RingHandle> Submitter<'_, H> {
    /// Issues `io_uring_register` on this ring: through its fd, or through
    /// its index with `IORING_REGISTER_USE_REGISTERED_RING`.
    ///
    /// # Safety
    /// `arg` must be valid for what `opcode` makes the kernel read and write.
    #[inline]
    pub(crate) unsafe fn register_raw(&self, opcode: u32, arg: *const c_void, nr_args: u32) -> Result<u32> {
        let (fd, bits) = self.handle.register_target();
        // SAFETY: (S1) `fd` is this ring's fd (R1), or its index on the
        // thread that registered it (`ByIndex` is neither Send nor Sync);
        // `arg` is the caller's promise.
        unsafe { sys::syscall::register(fd, opcode | bits, arg, nr_args) }
    }
}

/// The result of an enter as the kernel gives it: a count, or a negated
/// errno. The paths below pass it around as one register, so that the
/// common case never builds a `Result` in memory; [`decode`] makes the
/// `Result` once, at the end.
pub(crate) type Raw = isize;

/// `Raw` as a `Result`.
#[inline(always)]
pub(crate) fn decode(raw: Raw) -> Result<usize> {
    if raw < 0 {
        Err(rustix::io::Errno::from_raw_os_error(-raw as i32))
    } else {
        Ok(raw as usize)
    }
}

/// Entries published in the shared SQ and not yet consumed.
#[inline(always)]
fn sq_len(sq: &SqWords) -> u32 {
    // SAFETY: live shared words (R1-R3); Acquire on both so that a tail
    // published elsewhere (a SubmissionQueue) is seen (R4).
    unsafe { (*sq.tail).load(Ordering::Acquire).wrapping_sub((*sq.head).load(Ordering::Acquire)) }
}

/// The kernel-written SQ flags word's value.
#[inline(always)]
fn sq_flags(sq: &SqWords) -> u32 {
    // SAFETY: a live shared word (R1-R3).
    unsafe { (*sq.flags).load(Ordering::Relaxed) }
}

/// One `io_uring_enter` on the ring, through its registered index when it
/// has one (retried through the fd where the index is not valid).
///
/// # Safety
/// `arg` and `argsz` must match what `flags` tells the kernel; `fd` and
/// `target` are one ring's, whose published SQ entries were pushed under
/// `push`'s contract.
#[inline(always)]
unsafe fn enter_ring(
    fd: &OwnedFd,
    target: &EnterTarget,
    to_submit: u32,
    min_complete: u32,
    flags: u32,
    arg: *const c_void,
    argsz: usize,
) -> Raw {
    let (name, always) = target.load();
    let flags = flags | always;
    // SAFETY: `name` is this ring's fd (R1) or its registered index; the
    // rest is the caller's promise.
    match unsafe { sys::syscall::enter(name, to_submit, min_complete, flags, arg, argsz) } {
        Ok(n) => n as Raw,
        // SAFETY: (S1, P1-P3) forwarded from the caller.
        Err(e) => unsafe { enter_retry_by_fd(e, fd, to_submit, min_complete, flags, arg, argsz) },
    }
}

/// [`enter_ring`] as a `Result`, for the paths that return it: the
/// kernel's count goes straight from the syscall's success into `Ok`, so
/// that the caller tests no sign (a count and an errno in one register
/// would need that test where the paths meet).
///
/// # Safety
/// As for [`enter_ring`].
#[inline(always)]
unsafe fn enter_ring_result(
    fd: &OwnedFd,
    target: &EnterTarget,
    to_submit: u32,
    min_complete: u32,
    flags: u32,
    arg: *const c_void,
    argsz: usize,
) -> Result<usize> {
    let (name, always) = target.load();
    let flags = flags | always;
    // SAFETY: `name` is this ring's fd (R1) or its registered index; the
    // rest is the caller's promise.
    match unsafe { sys::syscall::enter(name, to_submit, min_complete, flags, arg, argsz) } {
        Ok(n) => Ok(n as usize),
        // SAFETY: (S1, P1-P3) forwarded from the caller.
        Err(e) => decode(unsafe { enter_retry_by_fd(e, fd, to_submit, min_complete, flags, arg, argsz) }),
    }
}

/// After an enter failed with `e`: if it went through the registered
/// index, then on another thread the kernel finds no ring at that index
/// (EBADF, or EINVAL without any registered ring) and nothing was
/// submitted, so the call is repeated through the fd; so it is when the
/// rustix fallback cannot pass an index (ENOSYS). Other errors, and every
/// error of an enter through the fd, are the call's.
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
) -> Raw {
    use rustix::io::Errno;
    if flags & sys::ENTER_REGISTERED_RING == 0 || !matches!(e, Errno::BADF | Errno::INVAL | Errno::NOSYS) {
        return -(e.raw_os_error() as Raw);
    }
    let flags = flags & !sys::ENTER_REGISTERED_RING;
    // SAFETY: the fd is this ring's (R1); `arg` and the published entries
    // are the caller's promise.
    match unsafe { sys::syscall::enter(fd.as_raw_fd() as u32, to_submit, min_complete, flags, arg, argsz) } {
        Ok(n) => n as Raw,
        Err(e) => -(e.raw_os_error() as Raw),
    }
}

/// The submit of every `Submitter::submit*`, given the few values it
/// needs rather than the `Submitter`, so that the out-of-line paths
/// (SQPOLL, the kernel stopping short) take them in registers and the
/// inlined common case never stores a `Submitter` to memory.
///
/// # Safety
/// As for [`Submitter::submit_inner`]; `fd`, `target` and `sq` are one
/// ring's.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn submit_ring(
    fd: &OwnedFd,
    target: &EnterTarget,
    sq: &SqWords,
    batch: &Batch,
    want: usize,
    extra: u32,
    arg: *const c_void,
    argsz: usize,
) -> Result<usize> {
    // One test for both modes that submit differently (decided at setup),
    // then SQ_REWIND's own flag, a different word: so that the plain path
    // tests the mode in memory, without loading it for the second test.
    if target.mode & (sys::SETUP_SQPOLL | sys::SETUP_SQ_REWIND) != 0 {
        if batch.rewind {
            // SAFETY: (S1, P1-P3) forwarded from the caller.
            return decode(unsafe { submit_rewind(fd, target, sq, batch, want, extra, arg, argsz) });
        }
        // SAFETY: (S1, P1-P3) forwarded from the caller.
        return unsafe { submit_sqpoll(fd, target, sq, want, extra, arg, argsz) };
    }
    let len = sq_len(sq);
    // GETEVENTS when waiting, and whenever the kernel flags a CQ overflow
    // or pending task work: with FEAT_NODROP overflowed completions move
    // into the CQ only during a GETEVENTS entry, so they must be flushed
    // even when nothing is waited for. When waiting, the flag is set
    // anyway and the SQ flags are not read.
    let flags = if want > 0 || sq_flags(sq) & (sys::SQ_CQ_OVERFLOW | sys::SQ_TASKRUN) != 0 {
        extra | sys::ENTER_GETEVENTS
    } else {
        extra
    };
    // SAFETY: (S1, P1-P3) `arg` is the caller's promise; the SQ holds entries pushed
    // under `push`'s contract.
    let r = unsafe { enter_ring_result(fd, target, len, saturate(want), flags, arg, argsz) };
    // Short of the SQ: one compare, in 32 bits as the kernel counts; the
    // out-of-line path then tells whether the call waits (`want > 0`).
    if let Ok(n) = r {
        if (n as u32) < len {
            // SAFETY: (S1, P1-P3) forwarded from the caller.
            return decode(unsafe { wait_after_short_submit(fd, target, sq, n as u32, want, extra, arg, argsz) });
        }
    }
    r
}

/// A submit on an SQPOLL ring: the kernel thread consumes
/// the entries, so the syscall is needed only to wake it, to wait, or to
/// pass an argument (see [`flags_for_submit`]).
///
/// A `SeqCst` fence separates the tail the caller published from the read
/// of NEED_WAKEUP (R4): without it the store may be ordered after the
/// load, and the kernel thread may go to sleep on an SQ it saw as empty
/// while we see it awake.
///
/// # Safety
/// As for [`submit_ring`].
#[inline(always)]
unsafe fn submit_sqpoll(
    fd: &OwnedFd,
    target: &EnterTarget,
    sq: &SqWords,
    want: usize,
    extra: u32,
    arg: *const c_void,
    argsz: usize,
) -> Result<usize> {
    atomic::fence(Ordering::SeqCst);
    let len = sq_len(sq);
    // flags_for_submit, with what this path knows: the ring is SQPOLL,
    // and an IOPOLL ring's GETEVENTS comes with the target's flags.
    let sq_flags = sq_flags(sq);
    // SQ_WAKEUP when the thread sleeps, by a shift rather than a branch
    // (NEED_WAKEUP is bit 0 of the SQ flags, SQ_WAKEUP bit 1 of the enter
    // flags).
    const { assert!(sys::SQ_NEED_WAKEUP << 1 == sys::ENTER_SQ_WAKEUP) };
    let wake = (sq_flags & sys::SQ_NEED_WAKEUP) << 1;
    let flags = if want > 0 {
        // Waiting: GETEVENTS whatever the SQ flags say.
        extra | sys::ENTER_GETEVENTS | wake
    } else {
        let mut flags = extra | wake;
        if sq_flags & (sys::SQ_CQ_OVERFLOW | sys::SQ_TASKRUN) != 0 {
            flags |= sys::ENTER_GETEVENTS;
        }
        if flags == 0 && target.mode & sys::SETUP_IOPOLL == 0 {
            return Ok(len as usize);
        }
        flags
    };
    // SAFETY: (S1, P1-P3) forwarded from the caller. Under SQPOLL the kernel answers
    // `to_submit` (its thread consumes the entries) and then waits, so it
    // never stops short as a plain ring's enter does (`io_uring_enter` in
    // io_uring/io_uring.c).
    unsafe { enter_ring_result(fd, target, len, saturate(want), flags, arg, argsz) }
}

/// A submit on an SQ_REWIND ring (R7): the batch is the entries from
/// slot 0 that `Batch::tail` counts, passed as `to_submit`; what the kernel consumed
/// leaves the batch ([`rewind_consumed`]). As on a plain ring, when the
/// kernel stops short of the batch and the call waits, it enters again
/// with what is left (moved down to slot 0).
///
/// Out of line, so that the plain ring's inlined submit keeps its
/// registers; the mode test that leads here is the one SQPOLL shares.
///
/// # Safety
/// As for [`submit_ring`].
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn submit_rewind(
    fd: &OwnedFd,
    target: &EnterTarget,
    sq: &SqWords,
    batch: &Batch,
    want: usize,
    extra: u32,
    arg: *const c_void,
    argsz: usize,
) -> Raw {
    // SAFETY: (S1, R7) `enter_ring` enters this ring, whose `sq` and
    // `batch` these are; the caller's promise for `arg` and for R7.
    unsafe {
        rewind_submit_with(sq, batch, target.entry_size(), want, extra, |len, flags| {
            enter_ring(fd, target, len, saturate(want), flags, arg, argsz)
        })
    }
}

/// The SQ_REWIND submit loop (R7), whatever names the ring: `enter(len,
/// flags)` enters it with the batch's length as `to_submit` and `flags`
/// (`extra`, plus `GETEVENTS` when waiting or when the kernel asks for
/// it); what the kernel consumed leaves the batch ([`rewind_consumed`]),
/// and a waiting submit the kernel stopped short of the batch enters
/// again for the rest. Shared by [`Submitter`] and
/// [`RegisteredSubmitter`](crate::ring::RegisteredSubmitter).
///
/// # Safety
/// `enter` enters the ring whose SQ words and batch `sq` and `batch` are
/// (`entry_size` its SQE size), with `want` as `min_complete`; slots
/// `0..len` hold entries pushed under `push`'s contract (P1-P3); and no
/// other submit of this ring runs meanwhile (R7).
#[inline(always)]
pub(crate) unsafe fn rewind_submit_with(
    sq: &SqWords,
    batch: &Batch,
    entry_size: usize,
    want: usize,
    extra: u32,
    mut enter: impl FnMut(u32, u32) -> Raw,
) -> Raw {
    let mut done: Raw = 0;
    loop {
        // Acquire: the entries a SubmissionQueue published (R4, R7).
        let len = batch.len().load(Ordering::Acquire);
        let flags = if want > 0 || sq_flags(sq) & (sys::SQ_CQ_OVERFLOW | sys::SQ_TASKRUN) != 0 {
            extra | sys::ENTER_GETEVENTS
        } else {
            extra
        };
        let n = enter(len, flags);
        if n < 0 {
            return n;
        }
        if n > 0 {
            // SAFETY: (R7) the kernel consumed the first `n` of the `len`
            // entries of the batch, on this ring.
            unsafe { rewind_consumed(batch, entry_size, n as u32) };
        }
        done += n;
        if want == 0 || n >= len as Raw {
            return done;
        }
    }
}

/// Takes the first `consumed` entries out of an SQ_REWIND ring's batch
/// (R7): moves the rest down to slot 0, then shortens the batch. A
/// SubmissionQueue may lengthen it meanwhile (its entries go to the slots
/// after the batch's end); the compare-and-swap then fails and the new
/// entries move down too.
///
/// # Safety
/// The kernel consumed the first `consumed` entries of the batch, and no
/// other submit of this ring runs (R7).
#[inline(always)]
unsafe fn rewind_consumed(batch: &Batch, entry_size: usize, consumed: u32) {
    let word = batch.len();
    let mut len = word.load(Ordering::Acquire);
    // Slots below `moved` are in place.
    let mut moved = consumed;
    loop {
        if len < consumed {
            // Cannot happen while R7 holds; leave the batch alone rather
            // than wrap.
            return;
        }
        if len > moved {
            // SAFETY: (R7, R2) slots `moved..len` belong to the batch and
            // `moved - consumed..len - consumed` lie below its end, inside
            // the SQE array; no SubmissionQueue writes below the batch's
            // end and the kernel reads only during an enter, which this
            // thread alone makes. `copy` allows the overlap.
            unsafe { rewind_move(batch.sqes, entry_size, moved, len, consumed) };
            moved = len;
        }
        match word.compare_exchange_weak(len, len - consumed, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return,
            Err(now) => len = now,
        }
    }
}

/// Moves the SQEs at slots `from..to` down by `by` slots.
///
/// # Safety
/// As in [`rewind_consumed`]: `by <= from <= to <= ring_entries`, and
/// nothing else reads or writes those slots meanwhile.
#[cold]
#[inline(never)]
unsafe fn rewind_move(sqes: *mut u8, size: usize, from: u32, to: u32, by: u32) {
    // SAFETY: (R2, R7) the caller's promise; the SQE array holds `ring_entries`
    // entries of `entry_size` bytes (R2).
    unsafe {
        crate::squeue::move_down(
            sqes.add(from as usize * size),
            sqes.add((from - by) as usize * size),
            (to - from) as usize * size,
        )
    };
}

/// The kernel submitted fewer entries than asked (`done` of them) and so
/// did not wait: enter again, submitting what the SQ now holds and waiting
/// for `want`, until an enter submits all it was asked to. Every round
/// consumes at least one entry or waits, so this ends. Without a wait
/// (`want == 0`) the call is over: `done` is its count.
///
/// # Safety
/// As for [`submit_ring`].
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn wait_after_short_submit(
    fd: &OwnedFd,
    target: &EnterTarget,
    sq: &SqWords,
    done: u32,
    want: usize,
    extra: u32,
    arg: *const c_void,
    argsz: usize,
) -> Raw {
    let mut done = done as Raw;
    if want == 0 {
        return done;
    }
    loop {
        if target.mode & sys::SETUP_SQPOLL != 0 {
            atomic::fence(Ordering::SeqCst);
        }
        let len = sq_len(sq);
        let flags = flags_for_submit(want, target.mode, sq_flags(sq), extra).unwrap_or(extra);
        // SAFETY: (S1, P1-P3) forwarded from the caller.
        let n = unsafe { enter_ring(fd, target, len, saturate(want), flags, arg, argsz) };
        if n < 0 {
            return n;
        }
        done += n;
        if n >= len as Raw {
            return done;
        }
    }
}

/// Decides the `io_uring_enter` flags of a submit, from the ring's mode
/// (`SETUP_SQPOLL | SETUP_IOPOLL` bits) and the SQ flags word as just
/// read; `None` means "no syscall". (The IOPOLL `GETEVENTS` is also in the
/// ring's [`EnterTarget`]; setting it twice is harmless.)
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
        f.debug_struct("Submitter").field("fd", &self.handle.fd.as_raw_fd()).finish_non_exhaustive()
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
