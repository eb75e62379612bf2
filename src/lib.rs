//! A `#![no_std]` interface to Linux io_uring, built on [rustix]: no libc,
//! no allocation, every kernel feature, and a hot path that costs a handful
//! of instructions per operation.
//!
//! It is meant as the layer under async executors and runtimes, and for
//! programs on no_std Linux. Code written for `rustix-uring` 0.6 compiles
//! against it with the crate name changed.
//!
//! # A first ring
//!
//! ```
//! use uring_core::{opcode, IoUring};
//!
//! # fn main() -> uring_core::Result<()> {
//! let mut ring = IoUring::new(8)?;
//! let nop = opcode::Nop::new().build().user_data(42);
//! // SAFETY: a NOP names no buffer or fd.
//! unsafe { ring.submission().push(&nop).expect("queue has room") };
//! ring.submit_and_wait(1)?;
//! let cqe = ring.completion().next().expect("one completion");
//! assert_eq!(cqe.user_data_u64(), 42);
//! assert_eq!(cqe.result(), Ok(0));
//! # Ok(())
//! # }
//! ```
//!
//! # The pieces
//!
//! - [`IoUring`] owns the ring fd and its mapped memory; [`Builder`]
//!   chooses the setup flags; [`Parameters`] says what the kernel chose.
//! - [`SubmissionQueue`] takes [`squeue::Entry`] values made by the
//!   [`opcode`] builders. Pushing is `unsafe`: the kernel will read and
//!   write the buffers an entry names, so they must outlive its completion.
//! - [`Submitter`] enters the kernel: submit, wait, register.
//! - [`CompletionQueue`] yields [`cqueue::Entry`] results.
//! - [`buf_ring::BufRing`] is a provided-buffer ring: the kernel picks its
//!   buffers for receives, and completions turn into safe reads of them.
//! - [`Probe`] tells which operations the running kernel supports.
//! - [`ring::Unavailable`] tells why io_uring cannot be used here, when it
//!   cannot, so an executor can fall back.
//!
//! The queues are snapshots of the shared rings: `sync()` publishes what
//! was pushed or consumed and loads what the kernel did since.
//!
//! [rustix]: https://docs.rs/rustix

#![no_std]
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod auto_traits;
pub mod buf_ring;
pub mod cqueue;
#[cfg(feature = "fuzz-hooks")]
#[doc(hidden)]
pub mod fuzz_hooks;
pub mod opcode;
pub mod register;
pub mod ring;
pub mod squeue;
mod submit;
mod sys;
pub mod types;

pub use cqueue::{CompletionQueue, CompletionStatus};
pub use register::Probe;
pub use ring::{Builder, IoUring, Parameters};
pub use rustix::io::{Errno, Result};
pub use squeue::SubmissionQueue;
pub use submit::{EnterFlags, Submitter};

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctest;
