//! The owned layer: io_uring operations with no `unsafe` at the call site.
//!
//! A [`Driver`] owns an [`IoUring`](crate::IoUring) and a fixed table of
//! `N` slots. An operation ([`Read`], [`Timeout`], [`Accept`], ...) is
//! *moved* into a slot with [`Driver::push`]; the driver builds the SQE
//! from memory the slot owns, and hands everything back with the result
//! ([`Driver::poll`], [`Driver::wait`]). What the kernel reads or writes
//! (buffers, timespecs, paths, socket addresses) stays in the slot until
//! the operation's **last** completion, whatever the caller does: drop
//! interest ([`Driver::abandon`]), forget the [`Ticket`], or drop the
//! driver.
//!
//! ```
//! use urix::owned::{Driver, Nop, SlotStore};
//!
//! // Slot memory the kernel may use must be `'static` (O1): a store in a
//! // `static`, or with the `alloc` feature `Driver::new`.
//! static SLOTS: SlotStore<8> = SlotStore::new();
//! # fn main() -> urix::Result<()> {
//! let slots = SLOTS.take().expect("not in use");
//! let mut driver = Driver::with_slots(urix::IoUring::new(8)?, slots);
//! let ticket = driver.push(Nop::new()).map_err(|r| r.errno())?;
//! assert_eq!(driver.wait(ticket)?, Ok(0));
//! # Ok(())
//! # }
//! ```
//!
//! # What the layer guarantees
//!
//! 1. Safe to call: the built-in operations need no `unsafe`.
//! 2. Ownership until the last completion: the one without `F_MORE`
//!    (a single completion; a multishot's end; a zero-copy send's
//!    notification). A cancel's own completion frees nothing.
//! 3. Abandoning keeps the resources until that completion, then frees
//!    them (an unclaimed new fd is closed, an unread provided buffer goes
//!    back to the ring, an unclaimed registered-file slot the kernel
//!    filled, [`AcceptFixed`]'s or an unread item of
//!    [`AcceptMultiFixed`], is emptied at once with a register call,
//!    `IORING_REGISTER_FILES_UPDATE` with -1: O12).
//! 4. Dropping the driver flushes, cancels every operation in flight and
//!    reaps until every slot is free, for at most
//!    [`Driver::set_teardown_timeout`] milliseconds; what is left is
//!    **leaked**, never freed (the slot memory is `'static`, see O1).
//! 5. Completions carry `generation | tag | ring id | index`; anything
//!    else (stale, duplicated, another ring's, the raw layer's) is
//!    reported as foreign and touches no slot.
//! 6. Capacity is `N`; a full table (or SQ) refuses and gives the
//!    operation back ([`Refused`]).
//! 7. Each slot keeps a [`Waker`](core::task::Waker); [`Driver::poll`]
//!    returns `Poll<Output>`.
//! 8. [`Driver::provide_buffers`] gives the driver a buffer ring for
//!    [`RecvMulti`]; only that ring's own operations' completions reach it.
//!    A [`Received`] moved into a [`SendReceived`] keeps its buffer out of
//!    the ring until the send's last completion (B2); if nobody claims
//!    the send, the layer puts the buffer back then
//!    ([`Operation::unclaimed`]).
//! 9. Registered files and buffers are [`FixedFile`] and [`FixedBuf`]
//!    handles carrying the driver's id and checked against what is
//!    registered.
//!
//! # Multishot results
//!
//! A multishot operation's results wait in its slot until they are read,
//! in a queue of `Q` entries (the last const parameter of [`Driver`] and
//! [`SlotStore`], default [`QUEUE`] = 8). The kernel does not wait for the
//! reader, so what happens when a queue is full depends on the operation:
//!
//! - [`RecvMulti`]: it cannot be full. Each result holds a buffer of the
//!   driver's ring until the caller recycles it, and
//!   [`Driver::provide_buffers`] refuses a ring of more than `Q` buffers
//!   (`EINVAL`). A reader that falls behind makes the ring run dry: the
//!   kernel ends the receive with `ENOBUFS` after the results already
//!   queued, which are all delivered; recycle and push it again. No byte
//!   is dropped. For more buffers, use a bigger `Q`
//!   (`Driver<N, 320, squeue::Entry, cqueue::Entry, 32>`).
//! - [`AcceptMulti`], [`PollMulti`], and [`Multishot`] operations of your
//!   own that carry no buffer: a result that finds the queue full is
//!   released (a new connection's fd is **closed**; a poll event is
//!   dropped), counted in [`Stats::lost`], and the operation is cancelled:
//!   its results already queued stay readable, then its end (`ECANCELED`)
//!   tells the caller to push it again. Read them often, or use a bigger
//!   `Q`, to keep `lost` at 0.
//!
//! # Cost
//!
//! Measured in user-space instructions per operation (cachegrind, fat
//! LTO; `io-uring-bench/src/bin/owned_cost.rs`, guarded by
//! `.ci/instr-guard`): a NOP in batches of 32 costs 94.1 against the raw
//! ring's 48.4, one NOP per submit 158 against 93, a 4 KiB read 148
//! against 93. A push takes the free list's head, an entry pointer (O11:
//! a null test, no index, no state check), writes the operation, then
//! its type and state in one word (the type's table address with the
//! state in its low byte), and the slot's user data into the SQE; the SQ
//! is checked for room once, by the SQE's own push. The one completion of
//! a plain operation (`Shots::One`, no fd or file slot, no provided
//! buffer) is a test of its flags, a mask of its index, one comparison of
//! the user data (O4), one of the state byte (in flight, plain, no cancel
//! to push, no waker), and three stores (result, flags, state); one with
//! a waker to wake takes one call out of line. Taking the output checks
//! the ticket's user data, then type (O5) and state in one comparison,
//! moves the operation out, and pushes the slot back on the free list
//! under its next generation (one add) with its word cleared (one store).
//! No count of slots in use is kept ([`Driver::in_use`] counts them).
//! Multishot, zero-copy, fd- or file-slot-returning and provided-buffer
//! completions take the general path.
//!
//! Reaping and taking in one step ([`Driver::reap_outputs`]) skips the
//! store and the second look-up: a plain operation's completion is checked
//! as above (flags, index, user data, then type and state in one
//! comparison with the word of a `T` in flight), the operation is moved
//! out, the slot goes back on the free list, and the output goes straight
//! to a closure. A NOP in batches of 32 then costs 71.9, one per submit
//! 132, a read 142 (its file and buffer have to leave the closure, where
//! `try_take` returns them).
//!
//! # When to use the raw layer instead
//!
//! Operations the layer does not wrap, SQE flags it does not expose
//! (`IOSQE_ASYNC`, personalities, `SKIP_SUCCESS`), hot loops that reuse
//! one pre-built SQE, or a ring shared with code that reaps it: use
//! [`IoUring`](crate::IoUring) and `unsafe push` directly. The owned
//! layer's CQEs must only be reaped by the [`Driver`]; a completion the
//! driver does not recognise is handed to [`Driver::reap_with`]'s callback.
//!
//! # A slot's lifecycle
//!
//! | state \\ event | push | CQE with `F_MORE` | last CQE | poll | abandon | teardown |
//! |---|---|---|---|---|---|---|
//! | Free | build: Reserved (refused: stays Free, op back) | foreign | foreign | stale: Pending | nothing | nothing |
//! | Reserved | - | foreign | foreign | Pending | nothing | op dropped, Free |
//! | InFlight | - | queued (full: released, counted, cancel) | Completed, wake | Pending, waker kept | Abandoned, queue released, cancel | cancel, wait; else Leaked |
//! | Abandoned | - | released | released, Free | Pending | nothing | cancel, wait; else Leaked |
//! | Completed | - | foreign | foreign (duplicate) | output, Free | released, Free | released, Free |
//! | Leaked | - | foreign | foreign | Pending | nothing | nothing (never reused) |
//!
//! `Reserved` lasts from building the SQE to pushing it (both inside one
//! [`Driver::push`]). [`Driver::reap_outputs`] applies the last CQE of an
//! `InFlight` operation of the type it takes (not multishot) as "last
//! CQE" then "poll" at once: the output goes to its closure, the slot is
//! Free, the ticket stale; every other cell is as in `reap`. "Released" means dropped: buffers freed, new fds
//! closed, provided buffers recycled, filled registered-file slots emptied. A `Shots::One` operation treats a
//! CQE with `F_MORE` as foreign; `Shots::Notif` accepts one (the
//! zero-copy send's result) before its last. A stale ticket (its output
//! already taken) polls `Pending` for ever and its `poll_next` is
//! `Ready(None)`.
//!
//! # Invariants
//!
//! Every `unsafe` block of this module names the one it relies on.
//!
//! - **O1 (storage)**: the slots live in `'static` memory (a [`SlotStore`]
//!   taken once, or, with `alloc`, a leaked `Box`) that never moves. A
//!   slot's operation is moved out or dropped only when the slot becomes
//!   free; a slot still awaiting a completion when teardown gives up is
//!   never touched again (leaked with everything it owns). Storage goes
//!   back to its store (or heap) only when every slot is free.
//! - **O2 (operations)**: an [`Operation`]'s `build` names only memory the
//!   operation owns, at addresses that stay valid and unmoved while the
//!   operation sits in its slot (the [`IoBuf`] promise for buffers; fields
//!   of the operation itself, which never moves, O1), or memory that is
//!   `'static`. This is the promise of `unsafe impl Operation`.
//! - **O3 (slot contents)**: a slot's storage holds an initialised
//!   operation exactly when the slot is not `Free` and its `vt` is
//!   `Some`; `vt` names the operation's own type (its `TypeId` and drop
//!   function). `vt` is the pointer part of the slot's word, whose low
//!   byte holds the state (the type tables are aligned to 256, so the
//!   byte is free): only `place` and `set_vt` write a pointer there, made
//!   from a `&'static` table, and the state writers change the low byte
//!   only. `release` clears the whole word (a `Free` slot has no type);
//!   the paths that hand a plain operation's output over move it out
//!   while the word still names it, with no code that could unwind
//!   before the release.
//! - **O4 (user data)**: an SQE the driver pushes carries the user data of
//!   its slot, built by the table; a completion changes a slot only when
//!   tag, ring id, index and generation match and the slot awaits a
//!   completion. The generation changes whenever a slot is freed, so each
//!   completion is applied at most once, and only to its own operation.
//! - **O5 (tickets)**: a [`Ticket<T>`] is made only for a slot holding a
//!   `T`; the table checks the `TypeId` before reading a `T` out.
//! - **O6 (fd results)**: a completion's result is turned into an
//!   `OwnedFd` only for an operation whose `FD_RESULT` says it returns a
//!   new descriptor, and only once (O4).
//! - **O7 (initialised length)**: only the layer sets a buffer's
//!   initialised length, to the byte count the kernel reported writing
//!   into it from its start.
//! - **O9 (plain data)**: structures the kernel fills (`statx`) are plain
//!   integers: any bytes, zero included, are a valid value.
//! - **O10 (registered buffers)**: a buffer registered through the driver is
//!   `'static` memory the driver owns from then on; it is reached only
//!   through its one [`FixedBuf`] handle (not `Clone`), held either by the
//!   caller (who may read and write it) or by one operation in flight.
//! - **O8 (store)**: a [`SlotStore`] hands its slots out to one owner at a
//!   time (an atomic flag).
//! - **O11 (free list)**: the table's free list links exactly its `Free`
//!   slots, each once, by pointers to their entries in the table's own
//!   array (null ends it). A slot leaves it only by a push that takes the
//!   head, and joins it only when it turns `Free` (`release`), so a push
//!   needs no index and no state check.
//! - **O12 (filled file slots)**: the table asks the driver to empty a
//!   registered-file slot only for a non-negative result of an operation
//!   whose `FIXED_FILE_RESULT` says it is the slot the kernel filled for
//!   it, only when that result is released unclaimed (no handle to it
//!   was made, and none will be: O4 applies it once), and only if the
//!   driver's files were not registered or unregistered since the
//!   operation was pushed (`Table::files_changed` marks its slot), so
//!   that the index names a slot of the table the kernel filled. So the
//!   layer empties no slot a live `FixedFile` names, unless the caller
//!   itself emptied a slot it holds no result for (a handle made with
//!   `FixedFiles::get`) while the kernel's result for it was unreaped,
//!   or changed the files through the ring behind the driver's back.

mod buf;
mod driver;
#[cfg(feature = "fuzz-hooks")]
#[doc(hidden)]
pub mod fuzz_hooks;
mod ops;
mod table;
#[cfg(test)]
mod tests;

pub use buf::{IoBuf, IoBufMut};
pub use driver::{Driver, FixedBuf, FixedFile, FixedFiles, Received, MAX_FIXED_BUFS};
pub use ops::*;

pub use table::{
    Chain, Completion, Multishot, Operation, Prep, Refused, Resolved, Shots, SlotArray, SlotStore, Slots, Stats,
    Target, Ticket, QUEUE,
};
