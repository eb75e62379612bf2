//! Value types shared by the builders, the queues and the submitter, and
//! the rustix types that builder signatures use.

mod cancel;
mod fd;
mod flags;
mod futex;
mod napi;
mod open_how;
mod slot;
mod submit_args;
mod timespec;

pub use cancel::CancelBuilder;
pub use fd::{Fd, Fixed};
pub use flags::{CloneBuffersFlags, FsyncFlags, TimeoutFlags};
pub use futex::FutexWaitV;
pub use napi::{Napi, NapiTracking};
pub use open_how::OpenHow;
pub use slot::DestinationSlot;
pub use submit_args::SubmitArgs;
pub use timespec::Timespec;

pub(crate) use fd::sealed;
pub use rustix::io::ReadWriteFlags as RwFlags;

pub use rustix::io_uring::{
    iovec, Advice, AtFlags, EpollEvent, FutexWaitFlags, FutexWaitvFlags, IoringAcceptFlags, IoringEnterFlags,
    IoringFixedFdFlags, IoringMsgringFlags, IoringOp, IoringRecvFlags, IoringSendFlags, KernelSigSet, Mode, MsgHdr,
    OFlags, RecvFlags, RenameFlags, ResolveFlags, SendFlags, SocketAddrLen, SocketAddrOpaque, SocketAddrStorage,
    SocketFlags, SpliceFlags, Statx, StatxFlags, XattrFlags,
};
