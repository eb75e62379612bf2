//! [`SubmitArgs`]: the extended wait arguments of `io_uring_enter`.

use core::marker::PhantomData;
use core::ptr;

use rustix::io_uring::KernelSigSet;

use super::Timespec;
use crate::sys::{self, GeteventsArg};

/// A timeout, signal mask and minimum wait for
/// [`Submitter::submit_with_args`](crate::Submitter::submit_with_args)
/// (`struct io_uring_getevents_arg`, `IORING_ENTER_EXT_ARG`, 5.11).
///
/// The lifetimes make the referenced mask and timeout outlive the value.
#[derive(Debug, Clone, Copy, Default)]
pub struct SubmitArgs<'prev: 'now, 'now> {
    pub(crate) args: GeteventsArg,
    prev: PhantomData<&'prev ()>,
    now: PhantomData<&'now ()>,
}

impl<'prev: 'now, 'now> SubmitArgs<'prev, 'now> {
    /// No timeout, no signal mask.
    #[inline]
    pub const fn new() -> SubmitArgs<'static, 'static> {
        SubmitArgs {
            args: GeteventsArg { sigmask: 0, sigmask_sz: 0, min_wait_usec: 0, ts: 0 },
            prev: PhantomData,
            now: PhantomData,
        }
    }

    /// Blocks the signals in `sigmask` while waiting (the kernel's 8-byte
    /// sigset, as `io_uring_enter(2)` requires).
    #[inline]
    pub fn sigmask<'new>(mut self, sigmask: &'new KernelSigSet) -> SubmitArgs<'now, 'new> {
        self.args.sigmask = ptr::from_ref(sigmask) as u64;
        self.args.sigmask_sz = sys::KERNEL_SIGSET_SIZE;
        SubmitArgs { args: self.args, prev: PhantomData, now: PhantomData }
    }

    /// Waits at most `timespec`; the call then fails with `ETIME`.
    #[inline]
    pub fn timespec<'new>(mut self, timespec: &'new Timespec) -> SubmitArgs<'now, 'new> {
        self.args.ts = ptr::from_ref(timespec) as u64;
        SubmitArgs { args: self.args, prev: PhantomData, now: PhantomData }
    }

    /// Returns once `min_wait_usec` microseconds have passed with at least
    /// one completion, even if fewer than `want` arrived
    /// (FEAT_MIN_TIMEOUT, 6.12).
    #[inline]
    pub fn min_wait_usec(mut self, min_wait_usec: u32) -> Self {
        self.args.min_wait_usec = min_wait_usec;
        self
    }
}
