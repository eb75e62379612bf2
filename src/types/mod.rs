//! Value types shared by the builders, the queues and the submitter, and
//! the rustix types that builder signatures use.

mod bpf;
mod buf_ring_entry;
mod cancel;
mod fd;
mod flags;
mod futex;
mod napi;
mod open_how;
mod recvmsg_out;
mod region;
mod slot;
mod submit_args;
mod timespec;
mod zcrx;

pub use bpf::{bpf_ctx, io_uring_bpf, io_uring_bpf_filter, BpfFilter, BpfFilterFlags, BpfInsn};
pub use buf_ring_entry::BufRingEntry;
pub use cancel::CancelBuilder;
pub use fd::{Fd, Fixed};
pub use flags::{CloneBuffersFlags, FsyncFlags, TimeoutFlags};
pub use futex::FutexWaitV;
pub use napi::{Napi, NapiTracking};
pub use open_how::OpenHow;
pub use recvmsg_out::RecvMsgOut;
pub use region::{io_uring_region_desc, MemRegionFlags, RegWait};
pub use slot::DestinationSlot;
pub use submit_args::SubmitArgs;
pub use timespec::Timespec;
pub use zcrx::{
    io_uring_zcrx_area_reg, io_uring_zcrx_cqe, io_uring_zcrx_ifq_reg, io_uring_zcrx_offsets, io_uring_zcrx_rqe,
    ZcrxAreaFlags, ZcrxCtrl, ZcrxEvent, ZcrxEventDesc, ZcrxEvents, ZcrxFeatures, ZcrxRegFlags, ZcrxStats,
};

pub(crate) use fd::sealed;
pub use fd::sealed::{UseFd, UseFixed};
pub use rustix::io::ReadWriteFlags as RwFlags;

/// The 64 bits a submission carries to its completion: a `u64` or a
/// pointer (`From<u64>`, `From<*mut c_void>`; read back with `u64_()` or
/// `ptr()`).
///
/// [`squeue::Entry::user_data`](crate::squeue::Entry::user_data) takes
/// `impl Into<io_uring_user_data>`, so `.user_data(7)` works. Builders
/// that name another operation by its user_data (`AsyncCancel`,
/// `PollRemove`, `PollUpdate`, `TimeoutRemove`, `TimeoutUpdate`,
/// `MsgRingData`, `MsgRingSendFd`) take this type itself, as rustix-uring
/// does: write `AsyncCancel::new(7u64.into())`. (A generic parameter there
/// would make that existing `.into()` call ambiguous.)
pub use rustix::io_uring::io_uring_user_data;

pub use rustix::io_uring::{
    iovec, Advice, AtFlags, EpollEvent, FutexWaitFlags, FutexWaitvFlags, IoringAcceptFlags, IoringEnterFlags,
    IoringFixedFdFlags, IoringMsgringFlags, IoringOp, IoringRecvFlags, IoringSendFlags, KernelSigSet, Mode, MsgHdr,
    OFlags, RecvFlags, RenameFlags, ResolveFlags, SendFlags, SocketAddrLen, SocketAddrOpaque, SocketAddrStorage,
    SocketFlags, SpliceFlags, Statx, StatxFlags, XattrFlags,
};

/// `io_uring_buf_reg` flag: the kernel allocates the buffer ring; map it at
/// `IORING_OFF_PBUF_RING | bgid << 16` (6.4).
pub const IOU_PBUF_RING_MMAP: u32 = 1;
/// `io_uring_buf_reg` flag: buffers are consumed incrementally (6.12).
pub const IOU_PBUF_RING_INC: u32 = 2;
/// The mmap offset of a kernel-allocated buffer ring (`IORING_OFF_PBUF_RING`);
/// OR in `bgid << IORING_OFF_PBUF_SHIFT`.
pub const IORING_OFF_PBUF_RING: u64 = 0x8000_0000;
/// `IORING_OFF_PBUF_SHIFT`: where the group id goes in the mmap offset.
pub const IORING_OFF_PBUF_SHIFT: u32 = 16;
/// `io_uring_region_desc` flag: the region's memory is the caller's (6.13).
pub const IORING_MEM_REGION_TYPE_USER: u32 = 1;
/// zcrx: the area id sits in the bits from here up of a CQE offset.
pub const IORING_ZCRX_AREA_SHIFT: u32 = 48;
/// zcrx: mask of the area id bits of a CQE offset.
pub const IORING_ZCRX_AREA_MASK: u64 = !((1u64 << IORING_ZCRX_AREA_SHIFT) - 1);

// The numbers above are written out so that the docs show them rather than
// the name of a private constant; they must stay the kernel's (sys/).
static_assertions::const_assert_eq!(IOU_PBUF_RING_MMAP, crate::sys::IOU_PBUF_RING_MMAP as u32);
static_assertions::const_assert_eq!(IOU_PBUF_RING_INC, crate::sys::IOU_PBUF_RING_INC as u32);
static_assertions::const_assert_eq!(IORING_OFF_PBUF_RING, crate::sys::OFF_PBUF_RING);
static_assertions::const_assert_eq!(IORING_OFF_PBUF_SHIFT, crate::sys::OFF_PBUF_SHIFT);
static_assertions::const_assert_eq!(IORING_MEM_REGION_TYPE_USER, crate::sys::MEM_REGION_TYPE_USER);
static_assertions::const_assert_eq!(IORING_ZCRX_AREA_SHIFT, crate::sys::ZCRX_AREA_SHIFT);
