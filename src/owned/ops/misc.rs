//! Nop, Timeout, LinkTimeout, AsyncCancel, PollAdd (single and multishot).

use super::FileResult;
use crate::opcode;
use crate::owned::table::Shots;
use crate::owned::{Completion, Multishot, Operation, Prep, Target, Ticket};
use crate::squeue::Entry;
use crate::types::{TimeoutFlags, Timespec};
use rustix::io::Errno;

/// Does nothing (`IORING_OP_NOP`, 5.1); with [`result`](Self::result),
/// completes with a chosen result (6.14, `IORING_NOP_INJECT_RESULT`).
#[derive(Debug, Default)]
pub struct Nop {
    inject: Option<i32>,
}

impl Nop {
    /// A NOP.
    pub fn new() -> Self {
        Nop { inject: None }
    }
    /// Complete with `res` (negative: an error) instead of 0.
    #[must_use]
    pub fn result(mut self, res: i32) -> Self {
        self.inject = Some(res);
        self
    }
}

// SAFETY: O2: names no memory.
unsafe impl Operation for Nop {
    type Output = Result<u32, Errno>;
    #[inline]
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(match self.inject {
            Some(r) => opcode::Nop::new().inject_result(r).build(),
            None => opcode::Nop::new().build(),
        })
    }
    #[inline]
    fn complete(self, done: Completion) -> Self::Output {
        done.result()
    }
}

/// A timer (`IORING_OP_TIMEOUT`, 5.4); the timespec lives in the
/// operation. `Err(ETIME)` when the time passed; `Ok(0)` when `count`
/// other completions came first; `ECANCELED` when cancelled.
#[derive(Debug)]
pub struct Timeout {
    ts: Timespec,
    /// The immediate form: nanoseconds carried in the SQE.
    nanos: Option<u64>,
    count: u32,
    flags: TimeoutFlags,
}

impl Timeout {
    /// Fires after `ts` (relative).
    pub fn new(ts: Timespec) -> Self {
        Timeout { ts, nanos: None, count: 0, flags: TimeoutFlags::empty() }
    }
    /// Fires after `nanos` nanoseconds, carried in the SQE itself
    /// (`IORING_TIMEOUT_IMMEDIATE_ARG`, 7.1; kernel: `io_uring/timeout.c`;
    /// older kernels end it with `EINVAL`): no timespec for the kernel to
    /// read. With [`TimeoutFlags::ABS`], a point in time of its clock.
    pub fn nanos(nanos: u64) -> Self {
        Timeout { nanos: Some(nanos), ..Timeout::new(Timespec::new()) }
    }
    /// Also ends once `count` other completions have been posted.
    #[must_use]
    pub fn count(mut self, count: u32) -> Self {
        self.count = count;
        self
    }
    /// `IORING_TIMEOUT_*` flags (`ABS`, clocks, ...).
    #[must_use]
    pub fn flags(mut self, flags: TimeoutFlags) -> Self {
        self.flags = flags;
        self
    }
}

// SAFETY: O2: names `self.ts`, a field, or no memory (the immediate form).
unsafe impl Operation for Timeout {
    type Output = Result<u32, Errno>;
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        let raw = match self.nanos {
            Some(n) => opcode::Timeout::nanos(n),
            None => opcode::Timeout::new(&self.ts),
        };
        Ok(raw.count(self.count).flags(self.flags).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        done.result()
    }
}

/// The timeout of a linked pair ([`Driver::push_with_timeout`](crate::owned::Driver::push_with_timeout),
/// `IORING_OP_LINK_TIMEOUT`, 5.5); its timespec lives in the operation
/// until its own completion. `Err(ETIME)` when it fired (and cancelled the
/// other), `ECANCELED` when the other finished first.
#[derive(Debug)]
pub struct LinkTimeout {
    ts: Timespec,
    /// The immediate form: nanoseconds carried in the SQE.
    nanos: Option<u64>,
}

impl LinkTimeout {
    /// Fires after `ts`.
    pub fn new(ts: Timespec) -> Self {
        LinkTimeout { ts, nanos: None }
    }
    /// Fires after `nanos` nanoseconds, carried in the SQE itself
    /// (`IORING_TIMEOUT_IMMEDIATE_ARG`, 7.1; kernel: `io_uring/timeout.c`;
    /// older kernels end it with `EINVAL`, and the linked operation with
    /// `ECANCELED`).
    pub fn nanos(nanos: u64) -> Self {
        LinkTimeout { ts: Timespec::new(), nanos: Some(nanos) }
    }
}

// SAFETY: O2: names `self.ts`, a field, or no memory (the immediate form).
unsafe impl Operation for LinkTimeout {
    type Output = Result<u32, Errno>;
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(match self.nanos {
            Some(n) => opcode::LinkTimeout::nanos(n).build(),
            None => opcode::LinkTimeout::new(&self.ts).build(),
        })
    }
    fn complete(self, done: Completion) -> Self::Output {
        done.result()
    }
}

/// Cancels another operation of the same driver (`IORING_OP_ASYNC_CANCEL`,
/// 5.5): `Ok(0)` when found and cancelled, `ENOENT` when not found,
/// `EALREADY` when it was running and was told to stop. The cancelled
/// operation still gets its own completion.
#[derive(Debug)]
pub struct AsyncCancel {
    target: u64,
}

impl AsyncCancel {
    /// Cancels the operation of `ticket`.
    pub fn new<T>(ticket: &Ticket<T>) -> Self {
        AsyncCancel { target: ticket.user_data() }
    }
}

// SAFETY: O2: names no memory, only a user data.
unsafe impl Operation for AsyncCancel {
    type Output = Result<u32, Errno>;
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(opcode::AsyncCancel::new(self.target.into()).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        done.result()
    }
}

/// Waits once for `events` (`POLLIN`, ...) on a file (`IORING_OP_POLL_ADD`,
/// 5.1); the result is the events that fired.
#[derive(Debug)]
pub struct PollAdd<F> {
    file: F,
    events: u32,
}

impl<F: Target> PollAdd<F> {
    /// Polls `file` for `events` (`poll(2)` bits).
    pub fn new(file: F, events: u32) -> Self {
        PollAdd { file, events }
    }
}

// SAFETY: O2: names only `self.file`.
unsafe impl<F: Target> Operation for PollAdd<F> {
    type Output = FileResult<F>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(opcode::PollAdd::new(prep.file(&self.file)?, self.events).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        FileResult { result: done.result(), file: self.file }
    }
}

/// Polls until cancelled (`IORING_OP_POLL_ADD` multishot, 5.13); each
/// readiness is an item.
#[derive(Debug)]
pub struct PollMulti<F> {
    file: F,
    events: u32,
}

impl<F: Target> PollMulti<F> {
    /// Polls `file` for `events` repeatedly.
    pub fn new(file: F, events: u32) -> Self {
        PollMulti { file, events }
    }
}

// SAFETY: O2: names only `self.file`.
unsafe impl<F: Target> Operation for PollMulti<F> {
    type Output = F;
    const SHOTS: Shots = Shots::Many;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(opcode::PollAdd::new(prep.file(&self.file)?, self.events).multi(true).build())
    }
    fn complete(self, _: Completion) -> F {
        self.file
    }
}

impl<F: Target> Multishot for PollMulti<F> {
    type Item = Result<u32, Errno>;
    fn item(&mut self, c: Completion) -> Self::Item {
        c.result()
    }
}
