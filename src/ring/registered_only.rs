//! [`RegisteredRing`]: a ring set up with `IORING_SETUP_REGISTERED_FD_ONLY`
//! (6.5), whose only handle is an index in the creating thread's
//! registered-ring table: no file descriptor exists for it.
//!
//! The kernel needs `IORING_SETUP_NO_MMAP` with it (there is no fd to map
//! the rings from), so the ring lives in memory the crate maps itself
//! (anonymous, private) or that the caller gave with
//! [`Builder::setup_no_mmap`]. Every enter passes the index with
//! `IORING_ENTER_REGISTERED_RING`, every register call with
//! `IORING_REGISTER_USE_REGISTERED_RING`; dropping the ring unregisters the index
//! (`IORING_UNREGISTER_RING_FDS`), which drops the kernel's last reference
//! and frees the ring.
//!
//! The ring-memory invariants R1-R6 of `ring/mod.rs` hold as stated there,
//! with "the ring fd stays open" read as "the index stays registered":
//! `Drop` unregisters first, and unmaps afterwards.

use core::ffi::c_void;
use core::marker::PhantomData;
use core::mem::size_of;
use core::ptr;
use core::sync::atomic::{self, AtomicU32, Ordering};

use rustix::io::{Errno, Result};

use super::{Builder, Parameters};
use crate::submit::ByIndex;
use crate::sys::mmap::Mmap;
use crate::sys::{self, GeteventsArg, RsrcUpdate};
use crate::types::SubmitArgs;
use crate::{cqueue, squeue, CompletionQueue, SubmissionQueue, Submitter};

/// A ring whose handle is a registered ring index instead of a file
/// descriptor (`IORING_SETUP_REGISTERED_FD_ONLY`, 6.5;
/// `io_uring_setup(2)`). Built with
/// [`Builder::build_registered_fd_only`].
///
/// The index belongs to the thread that built the ring (the kernel keeps
/// the table per task), so the ring is neither `Send` nor `Sync`: on
/// another thread the same index names that thread's slot. Nothing else
/// can reach the ring: it has no fd to pass, `dup`, or inherit, which is
/// the point of the flag (no fd-table entry, no fd lookup on enter).
///
/// What it offers is the queues, entering and registering:
/// [`submission`](Self::submission), [`completion`](Self::completion),
/// [`submit_and_wait`](Self::submit_and_wait), [`split`](Self::split),
/// and [`submitter`](Self::submitter), a [`RegisteredSubmitter`] whose
/// `register_*` calls (files, buffers, buffer rings, eventfd, ...) reach
/// the ring through its index (`IORING_REGISTER_USE_REGISTERED_RING`,
/// 6.3). The calls that need an fd (registering the ring fd, mapping a
/// wait region from it) are not offered.
///
/// ```
/// use urix::{cqueue, opcode, squeue, IoUring};
/// # fn main() -> urix::Result<()> {
/// let mut ring = IoUring::<squeue::Entry, cqueue::Entry>::builder().build_registered_fd_only(8)?;
/// // SAFETY: (P1) a NOP names no memory.
/// unsafe { ring.submission().push(&opcode::Nop::new().build().user_data(7)) }.expect("room");
/// ring.submit_and_wait(1)?;
/// assert_eq!(ring.completion().next().map(|c| c.user_data_u64()), Some(7));
/// ring.close()?; // or drop it: either unregisters the index, freeing the ring
/// # Ok(())
/// # }
/// ```
pub struct RegisteredRing<S = squeue::Entry, C = cqueue::Entry>
where
    S: squeue::EntryMarker,
    C: cqueue::EntryMarker,
{
    sq: squeue::Inner<S>,
    cq: cqueue::Inner<C>,
    params: Parameters,
    index: u32,
    /// The ring's `SQPOLL | IOPOLL | SQ_REWIND | SQE128` bits.
    mode: u32,
    /// `None` when the caller provided the memory. Dropped after `Drop`
    /// has unregistered the index.
    _memory: Option<(Mmap, Mmap)>,
    /// `!Send + !Sync`: the index is only valid on the creating thread.
    _thread: PhantomData<*const ()>,
}

impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> Builder<S, C> {
    /// Sets up a ring with (at least) `entries` SQ slots whose handle is
    /// a registered ring index, not an fd (`IORING_SETUP_REGISTERED_FD_ONLY`,
    /// 6.5, with `IORING_SETUP_NO_MMAP`; `io_uring_setup(2)`).
    ///
    /// The ring memory is the caller's when
    /// [`setup_no_mmap`](Self::setup_no_mmap) gave some (same rules as
    /// [`build`](Self::build)), otherwise anonymous memory this call maps
    /// and the ring unmaps when it drops. Kernels before 6.5 answer
    /// `EINVAL`; `ENXIO`/`EBUSY` from the kernel when the thread's
    /// registered-ring table (16 slots) is full. As with `build`,
    /// [`setup_sq_rewind`](Self::setup_sq_rewind) needs
    /// [`setup_single_issuer`](Self::setup_single_issuer) (`EINVAL`
    /// without).
    pub fn build_registered_fd_only(&self, entries: u32) -> Result<RegisteredRing<S, C>> {
        let mut p = self.params;
        // R7: as in `build`, SQ_REWIND only with SINGLE_ISSUER.
        if p.flags & (sys::SETUP_SQ_REWIND | sys::SETUP_SINGLE_ISSUER) == sys::SETUP_SQ_REWIND {
            return Err(Errno::INVAL);
        }
        p.flags |= sys::SETUP_NO_MMAP | sys::SETUP_REGISTERED_FD_ONLY;
        let (rings_len, sqes_len) = self.no_mmap_sizes(entries);
        let (rings, rings_len, sqes, sqes_len, memory) = match self.caller_memory {
            Some(mem) => {
                if mem.rings_len < rings_len || mem.sqes_len < sqes_len {
                    return Err(Errno::INVAL);
                }
                // Claimed before the kernel sees the memory, as in `build`.
                if self.memory_used.swap(true, Ordering::AcqRel) {
                    return Err(Errno::BUSY);
                }
                (mem.rings as *mut u8, mem.rings_len, mem.sqes as *mut u8, mem.sqes_len, None)
            }
            None => {
                let (r, s) = (Mmap::anonymous(rings_len)?, Mmap::anonymous(sqes_len)?);
                (r.as_ptr(), rings_len, s.as_ptr(), sqes_len, Some((r, s)))
            }
        };
        p.cq_off.user_addr = rings as u64;
        p.sq_off.user_addr = sqes as u64;
        // SAFETY: (S1, S2) `p` is a valid params struct; the memory is at
        // least as large as the kernel will use (checked, or mapped at
        // that size here) and is either ours, kept in the ring, or the
        // caller's under `setup_no_mmap`'s contract, claimed for this ring.
        let index = match unsafe { sys::syscall::setup(entries, &mut p) } {
            Ok(index) => index,
            Err(e) => {
                if memory.is_none() {
                    self.memory_used.store(false, Ordering::Release);
                }
                return Err(e);
            }
        };
        // From here on the ring exists: `ring` unregisters it on every
        // path out, the errors below included.
        let (sq_len, cq_len, sqes_need) = super::ring_sizes::<S, C>(&p);
        // SAFETY: (R1, R2) the views are built over the memory the kernel
        // laid the rings out in; they are only used if the sizes check
        // below passes (the ring is dropped otherwise, touching nothing).
        let (sq, cq) = unsafe { super::IoUring::<S, C>::views(&p, rings, rings, sqes) }?;
        let ring = RegisteredRing {
            sq,
            cq,
            params: Parameters(p),
            index,
            mode: p.flags & (sys::SETUP_SQPOLL | sys::SETUP_IOPOLL | sys::SETUP_SQ_REWIND | sys::SETUP_SQE128),
            _memory: memory,
            _thread: PhantomData,
        };
        if sq_len.max(cq_len) > rings_len || sqes_need > sqes_len {
            return Err(Errno::INVAL);
        }
        Ok(ring)
    }
}

impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> RegisteredRing<S, C> {
    /// The ring's index in this thread's registered-ring table.
    #[inline]
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The parameters the kernel returned at setup.
    #[inline]
    pub fn params(&self) -> &Parameters {
        &self.params
    }

    /// Enters the ring and registers resources with it, through its
    /// index: submit, wait, `register_*`.
    #[inline]
    pub fn submitter(&self) -> RegisteredSubmitter<'_> {
        Submitter {
            handle: ByIndex { index: self.index, mode: self.mode, _thread: PhantomData },
            sq: &self.sq.words,
            batch: &self.sq.batch,
        }
    }

    /// Submits what has been pushed and synced, without waiting; see
    /// [`RegisteredSubmitter::submit_and_wait`].
    #[inline]
    pub fn submit(&self) -> Result<usize> {
        self.submitter().submit_and_wait(0)
    }

    /// Submits and waits for `want` completions; see
    /// [`RegisteredSubmitter::submit_and_wait`].
    #[inline]
    pub fn submit_and_wait(&self, want: usize) -> Result<usize> {
        self.submitter().submit_and_wait(want)
    }

    /// The submission queue, as a snapshot (as [`IoUring::submission`](crate::IoUring::submission)).
    #[inline]
    pub fn submission(&mut self) -> SubmissionQueue<'_, S> {
        // SAFETY: `&mut self` guarantees no other SubmissionQueue exists (R6).
        unsafe { SubmissionQueue::new(&self.sq) }
    }

    /// The completion queue, as a snapshot iterator (as
    /// [`IoUring::completion`](crate::IoUring::completion)).
    #[inline]
    pub fn completion(&mut self) -> CompletionQueue<'_, C> {
        // SAFETY: `&mut self` guarantees no other CompletionQueue exists (R6).
        unsafe { CompletionQueue::new(&self.cq) }
    }

    /// The submitter and both queues at once (as [`IoUring::split`](crate::IoUring::split)).
    #[inline]
    pub fn split(&mut self) -> (RegisteredSubmitter<'_>, SubmissionQueue<'_, S>, CompletionQueue<'_, C>) {
        let submitter = self.submitter();
        // SAFETY: `&mut self` guarantees no other queue view exists (R6).
        let sq = unsafe { SubmissionQueue::new(&self.sq) };
        // SAFETY: (R6) as above.
        let cq = unsafe { CompletionQueue::new(&self.cq) };
        (submitter, sq, cq)
    }

    /// Unregisters the ring's index (`IORING_UNREGISTER_RING_FDS`, 5.18;
    /// `io_uring_unregister_ring_fd(3)`), which frees the ring, and reports
    /// whether the kernel agreed. Dropping the ring does the same and
    /// ignores the answer.
    pub fn close(mut self) -> Result<()> {
        let r = self.unregister();
        if r.is_err() {
            // As in Drop: the ring may live on, so its memory does too.
            core::mem::forget(self._memory.take());
        }
        // Nothing left for Drop to do.
        self.index = u32::MAX;
        r
    }

    /// `IORING_UNREGISTER_RING_FDS` for our index, through the index.
    fn unregister(&mut self) -> Result<()> {
        let up = RsrcUpdate { offset: self.index, resv: 0, data: 0 };
        let opcode = sys::UNREGISTER_RING_FDS | sys::REGISTER_USE_REGISTERED_RING;
        // SAFETY: (S1) one io_uring_rsrc_update naming the index; the
        // index is this thread's (the type is !Send) and names this ring.
        let n = unsafe { sys::syscall::register(self.index as i32, opcode, ptr::from_ref(&up).cast(), 1) }?;
        if n != 1 {
            return Err(Errno::IO);
        }
        Ok(())
    }
}

impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> Drop for RegisteredRing<S, C> {
    fn drop(&mut self) {
        if self.index != u32::MAX {
            // On failure the ring lives until the thread exits; its
            // memory, if ours, is leaked rather than unmapped under it
            // (the kernel pins NO_MMAP pages, so this is belt and braces).
            if self.unregister().is_err() {
                core::mem::forget(self._memory.take());
            }
        }
    }
}

impl<S: squeue::EntryMarker, C: cqueue::EntryMarker> core::fmt::Debug for RegisteredRing<S, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RegisteredRing")
            .field("index", &self.index)
            .field("params", &self.params)
            .field("caller_memory", &self._memory.is_none())
            .finish_non_exhaustive()
    }
}

/// A [`Submitter`] of a [`RegisteredRing`]: enters the ring through its
/// index (`IORING_ENTER_REGISTERED_RING`, 5.18; `io_uring_enter(2)`) and
/// registers resources through it (`IORING_REGISTER_USE_REGISTERED_RING`,
/// 6.3; `io_uring_register(2)`).
///
/// Besides [`submit`](Submitter::submit),
/// [`submit_and_wait`](Submitter::submit_and_wait) and
/// [`submit_with_args`](Submitter::submit_with_args) it has every
/// `register_*` call of [`Submitter`] that does not need an fd: files,
/// buffers, buffer rings, eventfds, personalities, probes, restrictions
/// and the rest of [`register`](crate::register). What needs the fd is not
/// offered: registering the ring fd, the wait region (mapped from the fd),
/// the raw `enter*` calls.
///
/// ```
/// # use urix::{cqueue, opcode, squeue, IoUring};
/// # use urix::types::Fixed;
/// # fn main() -> urix::Result<()> {
/// let mut ring = IoUring::<squeue::Entry, cqueue::Entry>::builder().build_registered_fd_only(8)?;
/// let (r, w) = rustix::pipe::pipe()?;
/// # use rustix::fd::AsRawFd;
/// ring.submitter().register_files(&[w.as_raw_fd()])?;
/// let msg = b"hi";
/// let e = opcode::Write::new(Fixed(0), msg.as_ptr(), 2).build();
/// // SAFETY: (P1) `msg` outlives the write, which completes below.
/// unsafe { ring.submission().push(&e) }.expect("room");
/// ring.submit_and_wait(1)?;
/// assert_eq!(ring.completion().next().map(|c| c.result()), Some(Ok(2)));
/// let mut got = [0u8; 2];
/// rustix::io::read(&r, &mut got)?;
/// assert_eq!(&got, msg);
/// # Ok(())
/// # }
/// ```
///
/// The index is this thread's, so the submitter stays on it, as the ring
/// does (neither `Send` nor `Sync`):
///
/// ```compile_fail,E0277
/// # use urix::{cqueue, squeue, IoUring};
/// let ring = IoUring::<squeue::Entry, cqueue::Entry>::builder().build_registered_fd_only(8).unwrap();
/// let submitter = ring.submitter();
/// std::thread::scope(|s| {
///     s.spawn(move || submitter.submit());
/// });
/// ```
///
/// The same with an [`IoUring`](crate::IoUring)'s `Submitter` compiles:
/// that one names the ring by its fd, valid on every thread.
///
/// ```
/// # use urix::{cqueue, squeue, IoUring};
/// let ring = IoUring::<squeue::Entry, cqueue::Entry>::new(8).unwrap();
/// let submitter = ring.submitter();
/// std::thread::scope(|s| {
///     s.spawn(move || submitter.submit());
/// });
/// ```
///
/// Nor does it offer what needs the fd:
///
/// ```compile_fail,E0599
/// # use urix::{cqueue, squeue, IoUring};
/// let ring = IoUring::<squeue::Entry, cqueue::Entry>::builder().build_registered_fd_only(8).unwrap();
/// let _ = ring.submitter().register_wait_region(1);
/// ```
pub type RegisteredSubmitter<'a> = Submitter<'a, ByIndex>;

impl Submitter<'_, ByIndex> {
    /// The ring's index in this thread's registered-ring table.
    #[inline]
    pub fn index(&self) -> u32 {
        self.handle.index
    }

    /// Submits the entries published to the SQ without waiting.
    #[inline]
    pub fn submit(&self) -> Result<usize> {
        self.submit_and_wait(0)
    }

    /// Submits the entries published to the SQ and waits until at least
    /// `want` completions are in the CQ; as
    /// [`Submitter::submit_and_wait`](crate::Submitter::submit_and_wait)
    /// (which see for the errors), with every enter through the index.
    #[inline]
    pub fn submit_and_wait(&self, want: usize) -> Result<usize> {
        // SAFETY: (S1) no extra argument; the SQ holds entries pushed under
        // `push`'s contract (P1-P3).
        unsafe { self.submit_inner(want, 0, ptr::null(), 0) }
    }

    /// As [`submit_and_wait`](Self::submit_and_wait), with a timeout, a
    /// signal mask and/or a minimum wait time (`IORING_ENTER_EXT_ARG`,
    /// 5.11; `io_uring_enter(2)`); as
    /// [`Submitter::submit_with_args`](crate::Submitter::submit_with_args),
    /// through the index. A timeout that expires returns `Err(ETIME)`,
    /// unless the enter that timed out also submitted entries.
    pub fn submit_with_args(&self, want: usize, args: &SubmitArgs<'_, '_>) -> Result<usize> {
        let arg: *const GeteventsArg = &args.args;
        // SAFETY: (S1) `arg` is an io_uring_getevents_arg whose pointers
        // borrow from values that outlive `args` (SubmitArgs' lifetimes).
        unsafe { self.submit_inner(want, sys::ENTER_EXT_ARG, arg.cast(), size_of::<GeteventsArg>()) }
    }

    /// The submit of every `submit*` of the index flavour: `extra` flags
    /// and the argument they describe (`extra == 0`: none, and under
    /// SQPOLL no syscall when there is nothing to do).
    ///
    /// # Safety
    /// `arg` and `argsz` must be what `extra` tells the kernel to expect;
    /// the SQ holds entries pushed under `push`'s contract (P1-P3).
    unsafe fn submit_inner(&self, want: usize, extra: u32, arg: *const c_void, argsz: usize) -> Result<usize> {
        let mode = self.handle.mode;
        if mode & sys::SETUP_SQ_REWIND != 0 {
            // SAFETY: (S1, P1-P3) forwarded from the caller.
            return unsafe { self.submit_rewind(want, extra, arg, argsz) };
        }
        let want32 = crate::submit::saturate(want);
        let base = sys::ENTER_REGISTERED_RING | extra;
        let sqpoll = mode & sys::SETUP_SQPOLL != 0;
        let mut done = 0;
        loop {
            if sqpoll {
                // Publishing the tail before reading NEED_WAKEUP (R4).
                atomic::fence(Ordering::SeqCst);
            }
            // SAFETY: live shared words of this ring (R1-R3); Acquire (R4).
            let (len, sq_flags) = unsafe {
                let (head, tail, flags) = (&*self.sq.head, &*self.sq.tail, &*self.sq.flags);
                (tail.load(Ordering::Acquire).wrapping_sub(head.load(Ordering::Acquire)), load(flags))
            };
            let mut flags = base;
            if want > 0 || mode & sys::SETUP_IOPOLL != 0 || sq_flags & (sys::SQ_CQ_OVERFLOW | sys::SQ_TASKRUN) != 0 {
                flags |= sys::ENTER_GETEVENTS;
            }
            if sqpoll {
                if sq_flags & sys::SQ_NEED_WAKEUP != 0 {
                    flags |= sys::ENTER_SQ_WAKEUP;
                } else if flags == sys::ENTER_REGISTERED_RING {
                    return Ok(done + len as usize);
                }
            }
            // SAFETY: (S1) `arg` is what `extra` describes (the caller's
            // promise); the index names this ring on this thread (the type
            // is !Send); the SQ holds entries pushed under `push`'s
            // contract (P1-P3).
            let n = unsafe { sys::syscall::enter(self.handle.index, len, want32, flags, arg, argsz) }?;
            done += n as usize;
            // Under SQPOLL the kernel answers `len` and waits; on a plain
            // ring it stops short (and does not wait) at an entry it
            // refuses: enter again for the rest, as `Submitter` does.
            if want == 0 || sqpoll || n >= len {
                return Ok(done);
            }
        }
    }

    /// [`submit_inner`](Self::submit_inner) on an SQ_REWIND ring (R7): the
    /// batch's length is `to_submit` (the kernel's head and tail stay 0
    /// and are never read here), and what the kernel consumed leaves the
    /// batch, the rest moving down to slot 0.
    ///
    /// # Safety
    /// As for [`submit_inner`](Self::submit_inner).
    #[cold]
    unsafe fn submit_rewind(&self, want: usize, extra: u32, arg: *const c_void, argsz: usize) -> Result<usize> {
        let want32 = crate::submit::saturate(want);
        let mode = self.handle.mode;
        let entry_size = if mode & sys::SETUP_SQE128 != 0 { 128 } else { 64 };
        let mut extra = extra | sys::ENTER_REGISTERED_RING;
        if mode & sys::SETUP_IOPOLL != 0 {
            extra |= sys::ENTER_GETEVENTS;
        }
        let enter = |len: u32, flags: u32| {
            // SAFETY: (S1) `arg` is what `extra` describes (the caller's
            // promise); the index names this ring on this thread (the type
            // is !Send); slots `0..len` hold the batch, pushed under
            // `push`'s contract (P1-P3, R7).
            match unsafe { sys::syscall::enter(self.handle.index, len, want32, flags, arg, argsz) } {
                Ok(n) => n as crate::submit::Raw,
                Err(e) => -(e.raw_os_error() as crate::submit::Raw),
            }
        };
        // SAFETY: (R7) `enter` enters this ring, whose SQ words and batch
        // these are; no other submit of it runs: the ring and this
        // submitter are neither Send nor Sync, and a submit does not
        // re-enter itself.
        crate::submit::decode(unsafe {
            crate::submit::rewind_submit_with(self.sq, self.batch, entry_size, want, extra, enter)
        })
    }
}

impl core::fmt::Debug for Submitter<'_, ByIndex> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RegisteredSubmitter").field("index", &self.handle.index).finish_non_exhaustive()
    }
}

/// A Relaxed load of a kernel-written word, as `Submitter` reads SQ flags.
#[inline(always)]
fn load(word: &AtomicU32) -> u32 {
    word.load(Ordering::Relaxed)
}
