//! Registering resources and querying the kernel: `io_uring_register(2)`.
//!
//! Each family lives in its own file and adds its calls to
//! [`Submitter`](crate::Submitter).

mod buffers;
mod files;
mod probe;

pub use files::SKIP_FILE;
pub use probe::{Opcode, Probe};
