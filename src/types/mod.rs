//! Value types shared by the builders, the queues and the submitter, and
//! the rustix types that builder signatures use.

mod cancel;
mod fd;
mod flags;
mod futex;
mod open_how;
mod recvmsg_out;
mod slot;
mod submit_args;
mod timespec;

pub use cancel::CancelBuilder;
pub use fd::{Fd, Fixed};
pub use flags::{FsyncFlags, TimeoutFlags};
pub use futex::FutexWaitV;
pub use open_how::OpenHow;
pub use recvmsg_out::RecvMsgOut;
pub use slot::DestinationSlot;
pub use submit_args::SubmitArgs;
pub use timespec::Timespec;

pub(crate) use fd::sealed;
pub use rustix::io::ReadWriteFlags as RwFlags;

pub use rustix::io_uring::{
    iovec, Advice, AtFlags, EpollEvent, IoringEnterFlags, IoringOp, KernelSigSet, Mode, MsgHdr, OFlags, RenameFlags,
    ResolveFlags, SocketAddrLen, SocketAddrOpaque, Statx, StatxFlags,
};
