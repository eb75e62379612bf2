//! Registering resources and querying the kernel: `io_uring_register(2)`.
//!
//! Each family lives in its own file and adds its calls to
//! [`Submitter`](crate::Submitter).

mod buf_ring;
mod buffers;
mod clock;
mod eventfd;
mod files;
mod iowq;
mod napi;
mod personality;
mod probe;
mod restrictions;
mod ring_fd;
mod sync_cancel;

pub use files::SKIP_FILE;
pub use probe::{Opcode, Probe};
pub use restrictions::{RegisterOpcode, Restriction};
