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

/// With the `std` feature, `?` turns an [`Errno`] into a `std::io::Error`
/// (rustix provides the conversion once its own `std` is on).
#[cfg(all(test, feature = "std"))]
mod std_interop {
    extern crate std;
    use crate::{opcode, types, IoUring};
    use std::io;

    /// A failure from the ring, carried by `?` into `io::Error`.
    fn read_closed_fd() -> io::Result<u32> {
        let mut ring = IoUring::new(2)?;
        let mut buf = [0u8; 8];
        // fd -1 is never open: the kernel completes the read with EBADF.
        let read = opcode::Read::new(types::Fd(-1), buf.as_mut_ptr(), 8).build().user_data(1);
        // SAFETY: (P1) `buf` outlives the completion reaped below (push's contract).
        unsafe { ring.submission().push(&read).map_err(|_| io::Error::other("queue full"))? };
        ring.submit_and_wait(1)?;
        let cqe = ring.completion().next().ok_or_else(|| io::Error::other("no completion"))?;
        Ok(cqe.result()?)
    }

    #[test]
    fn question_mark_turns_errno_into_io_error() {
        let err = read_closed_fd().expect_err("a read of fd -1 cannot succeed");
        assert_eq!(err.raw_os_error(), Some(rustix::io::Errno::BADF.raw_os_error()));
        // And `Errno` is a `std::error::Error`, so it boxes like any other.
        let boxed: std::boxed::Box<dyn std::error::Error> = rustix::io::Errno::AGAIN.into();
        assert_eq!(boxed.downcast_ref::<rustix::io::Errno>(), Some(&rustix::io::Errno::AGAIN));
    }
}
