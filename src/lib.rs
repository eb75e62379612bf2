// The crate documentation, a tour of the API with runnable examples, is
// kept as Markdown in src/docs/tour.md.
#![doc = include_str!("docs/tour.md")]
#![no_std]
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

#[cfg(feature = "alloc")]
extern crate alloc;

mod auto_traits;
pub mod buf_ring;
pub mod cqueue;
#[cfg(feature = "fuzz-hooks")]
#[doc(hidden)]
pub mod fuzz_hooks;
pub mod opcode;
pub mod owned;
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
