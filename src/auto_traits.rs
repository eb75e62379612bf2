//! The auto traits (`Send`, `Sync`) of every public type, asserted at
//! compile time so that none changes by accident (a new raw-pointer field
//! silently removes both; a careless `unsafe impl` adds them). Each line
//! says why the answer is the right one. Types re-exported from rustix are
//! rustix's business and not listed.

use static_assertions::{assert_impl_all, assert_not_impl_any};

use crate::buf_ring::{BufRing, BufSlot, Chunks, Picked};
use crate::register::{QueryOpcodes, QueryScq, QueryZcrx, Restriction, WaitRegion};
use crate::ring::Unavailable;
use crate::types::*;
use crate::{cqueue, opcode, squeue};
use crate::{Builder, CompletionQueue, CompletionStatus, EnterFlags, IoUring, Parameters, Probe};
use crate::{SubmissionQueue, Submitter};

// The ring: mappings plus an fd; mutation needs `&mut` or an unsafe promise
// (R6), shared words are atomic (R3), nothing is tied to a thread.
assert_impl_all!(IoUring: Send, Sync);
assert_impl_all!(IoUring<squeue::Entry128, cqueue::Entry32>: Send, Sync);

// The queue views: the one producer / consumer role can move to another
// thread (that is what `split` is for), but `&SubmissionQueue` must not be
// shared: a view's local head and tail are its own.
assert_impl_all!(SubmissionQueue<'static>: Send);
assert_impl_all!(SubmissionQueue<'static, squeue::Entry128>: Send);
assert_not_impl_any!(SubmissionQueue<'static>: Sync);
assert_impl_all!(CompletionQueue<'static>: Send);
assert_impl_all!(CompletionQueue<'static, cqueue::Entry32>: Send);
assert_not_impl_any!(CompletionQueue<'static>: Sync);
// Only atomic loads of two shared words, valid while the ring lives (the
// promise of the unsafe `status`).
assert_impl_all!(CompletionStatus: Send, Sync);

// Atomic loads of SQ words and syscalls only, borrowed from a Sync ring:
// `&IoUring` is Sync, so any thread can already make its own Submitter.
// rustix-uring 0.6 and io-uring have it !Send (API contract A8); Send + Sync
// is a compatible widening, and lets an executor keep one in a Send future.
assert_impl_all!(Submitter<'static>: Send, Sync);
assert_impl_all!(crate::ring::ByFd<'static>: Send, Sync);
// A registered-ring index names a ring on one thread only: on another it
// names that thread's slot (empty, or another ring), so the ring and
// whatever enters or registers through its index stay on their thread.
assert_not_impl_any!(crate::ring::RegisteredRing: Send, Sync);
assert_not_impl_any!(crate::ring::RegisteredSubmitter<'static>: Send, Sync);
assert_not_impl_any!(crate::ring::ByIndex: Send, Sync);

// Entries are plain bytes: pointers in them are addresses for the kernel,
// only dereferenced under `push`'s contract.
assert_impl_all!(squeue::Entry: Send, Sync);
assert_impl_all!(squeue::Entry128: Send, Sync);
assert_impl_all!(cqueue::Entry: Send, Sync);
assert_impl_all!(cqueue::Entry32: Send, Sync);
// Bit sets and a unit error.
assert_impl_all!(squeue::Flags: Send, Sync);
assert_impl_all!(cqueue::Flags: Send, Sync);
assert_impl_all!(EnterFlags: Send, Sync);
assert_impl_all!(squeue::PushError: Send, Sync);

// Kernel answers and settings held by value.
assert_impl_all!(Probe: Send, Sync);
assert_impl_all!(Parameters: Send, Sync);
assert_impl_all!(QueryOpcodes: Send, Sync);
assert_impl_all!(QueryScq: Send, Sync);
assert_impl_all!(QueryZcrx: Send, Sync);
assert_impl_all!(Restriction: Send, Sync);
assert_impl_all!(Unavailable: Send, Sync);
// Caller memory for NO_MMAP is kept as addresses, so a Builder can be made
// on one thread and built on another.
assert_impl_all!(Builder: Send, Sync);
assert_impl_all!(Builder<squeue::Entry128, cqueue::Entry32>: Send, Sync);
// A mapping we own; `set` needs `&mut`, `get` only reads.
assert_impl_all!(WaitRegion: Send, Sync);

// Provided-buffer rings: pointers to borrowed memory plus bookkeeping that
// `&self` only reads (the `unsafe impl`s in buf_ring say why).
assert_impl_all!(BufRing<'static>: Send, Sync);
// An id plus a borrow of the slots: reading goes through the BufRing.
assert_impl_all!(Picked<'static>: Send, Sync);
// Each Picked is one reader; a copy would let a buffer go back while read (B2).
assert_not_impl_any!(Picked<'static>: Clone, Copy);
assert_impl_all!(BufSlot: Send, Sync);
// Shared slices of bytes nobody writes while it lives (B1, B2).
assert_impl_all!(Chunks<'static>: Send, Sync);

// types: plain values, kernel ABI structs whose addresses are `u64`s, and
// borrows of shared data.
assert_impl_all!(Fd: Send, Sync);
assert_impl_all!(Fixed: Send, Sync);
assert_impl_all!(DestinationSlot: Send, Sync);
assert_impl_all!(Timespec: Send, Sync);
assert_impl_all!(SubmitArgs<'static, 'static>: Send, Sync);
assert_impl_all!(RecvMsgOut<'static>: Send, Sync);
assert_impl_all!(CancelBuilder: Send, Sync);
assert_impl_all!(BufRingEntry: Send, Sync);
assert_impl_all!(OpenHow: Send, Sync);
assert_impl_all!(FutexWaitV: Send, Sync);
assert_impl_all!(Napi: Send, Sync);
assert_impl_all!(NapiTracking: Send, Sync);
assert_impl_all!(RegWait: Send, Sync);
assert_impl_all!(io_uring_region_desc: Send, Sync);
assert_impl_all!(io_uring_zcrx_area_reg: Send, Sync);
assert_impl_all!(io_uring_zcrx_cqe: Send, Sync);
assert_impl_all!(io_uring_zcrx_ifq_reg: Send, Sync);
assert_impl_all!(io_uring_zcrx_offsets: Send, Sync);
assert_impl_all!(io_uring_zcrx_rqe: Send, Sync);
assert_impl_all!(ZcrxCtrl: Send, Sync);
assert_impl_all!(ZcrxEventDesc: Send, Sync);
assert_impl_all!(ZcrxStats: Send, Sync);
assert_impl_all!(ZcrxEvent: Send, Sync);
assert_impl_all!(ZcrxEvents: Send, Sync);
assert_impl_all!(ZcrxRegFlags: Send, Sync);
assert_impl_all!(ZcrxAreaFlags: Send, Sync);
assert_impl_all!(ZcrxFeatures: Send, Sync);
// The refill queue's one producer may move to another thread (Z3), but
// `&ZcrxRefillQueue` is not shared: its local tail is its own.
assert_impl_all!(crate::register::ZcrxRefillQueue: Send);
assert_not_impl_any!(crate::register::ZcrxRefillQueue: Sync);
// A filter borrows its program (`&[BpfInsn]`), which is Send + Sync.
assert_impl_all!(crate::types::BpfFilter<'static>: Send, Sync);
assert_impl_all!(crate::types::BpfInsn: Send, Sync);
assert_impl_all!(crate::types::io_uring_bpf: Send, Sync);
assert_impl_all!(crate::register::TaskRestrictions<1>: Send, Sync);
assert_impl_all!(CloneBuffersFlags: Send, Sync);
assert_impl_all!(FsyncFlags: Send, Sync);
assert_impl_all!(TimeoutFlags: Send, Sync);
assert_impl_all!(MemRegionFlags: Send, Sync);

/// Asserts `Send + Sync` for each builder: it holds only numbers (fds,
/// offsets, flags, ids).
macro_rules! plain_builders {
    ($($t:ident),* $(,)?) => { $( assert_impl_all!(opcode::$t: Send, Sync); )* };
}

/// Asserts `!Send` and `!Sync` for each builder: it holds a raw pointer
/// (buffer, path, iovec, msghdr, timespec ...), as in rustix-uring 0.6
/// (API contract A8). The `Entry` it builds is Send + Sync, so widening
/// these would be sound too; not decided yet.
macro_rules! pointer_builders {
    ($($t:ident),* $(,)?) => { $( assert_not_impl_any!(opcode::$t: Send, Sync); )* };
}

plain_builders!(
    AcceptMulti,
    AsyncCancel,
    AsyncCancel2,
    Close,
    Fadvise,
    Fallocate,
    FixedFdInstall,
    Fsync,
    Ftruncate,
    Listen,
    MsgRingData,
    MsgRingSendFd,
    Nop,
    Nop128,
    PollAdd,
    PollRemove,
    PollUpdate,
    ReadMulti,
    RecvBundle,
    RecvMulti,
    RecvMultiBundle,
    RecvZc,
    RemoveBuffers,
    SendBundle,
    Shutdown,
    SiocInq,
    SiocOutq,
    Socket,
    Splice,
    SyncFileRange,
    Tee,
    TimeoutRemove,
    UringCmd16,
    UringCmd80,
    UringCmd128,
    ZoneResetAll,
);

pointer_builders!(
    Accept,
    GetSockName,
    Bind,
    Connect,
    EpollCtl,
    EpollWait,
    FGetXattr,
    FSetXattr,
    FilesUpdate,
    FutexWait,
    FutexWaitV,
    FutexWake,
    GetSockOpt,
    GetXattr,
    LinkAt,
    LinkTimeout,
    Madvise,
    MkDirAt,
    OpenAt,
    OpenAt2,
    Pipe,
    ProvideBuffers,
    Read,
    ReadFixed,
    Readv,
    ReadvFixed,
    Recv,
    RecvMsg,
    RecvMsgMulti,
    RenameAt,
    Send,
    SendMsg,
    SendMsgZc,
    SendZc,
    SetSockOpt,
    SetXattr,
    Statx,
    SymlinkAt,
    Timeout,
    TimeoutUpdate,
    UnlinkAt,
    WaitId,
    Write,
    WriteFixed,
    Writev,
    WritevFixed,
);
