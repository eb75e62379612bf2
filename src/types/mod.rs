//! Value types shared by the builders, the queues and the submitter.

mod fd;
mod submit_args;
mod timespec;

pub use fd::{Fd, Fixed};
pub use submit_args::SubmitArgs;
pub use timespec::Timespec;

pub(crate) use fd::sealed;
pub use rustix::io::ReadWriteFlags as RwFlags;

pub use rustix::io_uring::{IoringEnterFlags, IoringOp, KernelSigSet};
