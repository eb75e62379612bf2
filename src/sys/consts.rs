//! Raw kernel constants (KERNEL-ABI.md §c, §d, §e), as plain integers.
//! rustix names only some of them; keeping all in one place avoids mixing
//! two sources for the same number.

// IORING_SETUP_* (io_uring_params.flags).
pub(crate) const SETUP_IOPOLL: u32 = 1 << 0;
pub(crate) const SETUP_SQPOLL: u32 = 1 << 1;
pub(crate) const SETUP_SQ_AFF: u32 = 1 << 2;
pub(crate) const SETUP_CQSIZE: u32 = 1 << 3;
pub(crate) const SETUP_CLAMP: u32 = 1 << 4;
pub(crate) const SETUP_ATTACH_WQ: u32 = 1 << 5;
pub(crate) const SETUP_R_DISABLED: u32 = 1 << 6;
pub(crate) const SETUP_SUBMIT_ALL: u32 = 1 << 7;
pub(crate) const SETUP_COOP_TASKRUN: u32 = 1 << 8;
pub(crate) const SETUP_TASKRUN_FLAG: u32 = 1 << 9;
pub(crate) const SETUP_SQE128: u32 = 1 << 10;
pub(crate) const SETUP_CQE32: u32 = 1 << 11;
pub(crate) const SETUP_SINGLE_ISSUER: u32 = 1 << 12;
pub(crate) const SETUP_DEFER_TASKRUN: u32 = 1 << 13;
pub(crate) const SETUP_NO_MMAP: u32 = 1 << 14;
pub(crate) const SETUP_NO_SQARRAY: u32 = 1 << 16;
pub(crate) const SETUP_HYBRID_IOPOLL: u32 = 1 << 17;

// IORING_FEAT_* (io_uring_params.features).
pub(crate) const FEAT_SINGLE_MMAP: u32 = 1 << 0;
pub(crate) const FEAT_NODROP: u32 = 1 << 1;
pub(crate) const FEAT_SUBMIT_STABLE: u32 = 1 << 2;
pub(crate) const FEAT_RW_CUR_POS: u32 = 1 << 3;
pub(crate) const FEAT_CUR_PERSONALITY: u32 = 1 << 4;
pub(crate) const FEAT_FAST_POLL: u32 = 1 << 5;
pub(crate) const FEAT_POLL_32BITS: u32 = 1 << 6;
pub(crate) const FEAT_SQPOLL_NONFIXED: u32 = 1 << 7;
pub(crate) const FEAT_EXT_ARG: u32 = 1 << 8;
pub(crate) const FEAT_NATIVE_WORKERS: u32 = 1 << 9;
pub(crate) const FEAT_RSRC_TAGS: u32 = 1 << 10;
pub(crate) const FEAT_CQE_SKIP: u32 = 1 << 11;
pub(crate) const FEAT_LINKED_FILE: u32 = 1 << 12;
pub(crate) const FEAT_REG_REG_RING: u32 = 1 << 13;
pub(crate) const FEAT_RECVSEND_BUNDLE: u32 = 1 << 14;
pub(crate) const FEAT_MIN_TIMEOUT: u32 = 1 << 15;
pub(crate) const FEAT_RW_ATTR: u32 = 1 << 16;
pub(crate) const FEAT_NO_IOWAIT: u32 = 1 << 17;

// IORING_ENTER_*.
pub(crate) const ENTER_GETEVENTS: u32 = 1 << 0;
pub(crate) const ENTER_SQ_WAKEUP: u32 = 1 << 1;
pub(crate) const ENTER_SQ_WAIT: u32 = 1 << 2;
pub(crate) const ENTER_EXT_ARG: u32 = 1 << 3;

// SQ ring flags (kernel-written) and CQ ring flags (application-written).
pub(crate) const SQ_NEED_WAKEUP: u32 = 1 << 0;
pub(crate) const SQ_CQ_OVERFLOW: u32 = 1 << 1;
pub(crate) const SQ_TASKRUN: u32 = 1 << 2;
pub(crate) const CQ_EVENTFD_DISABLED: u32 = 1 << 0;

// CQE flags.
pub(crate) const CQE_F_BUFFER: u32 = 1 << 0;
pub(crate) const CQE_F_MORE: u32 = 1 << 1;
pub(crate) const CQE_F_SOCK_NONEMPTY: u32 = 1 << 2;
pub(crate) const CQE_F_NOTIF: u32 = 1 << 3;
pub(crate) const CQE_F_BUF_MORE: u32 = 1 << 4;
pub(crate) const CQE_F_SKIP: u32 = 1 << 5;
pub(crate) const CQE_F_32: u32 = 1 << 15;
pub(crate) const CQE_BUFFER_SHIFT: u32 = 16;

// mmap offsets.
pub(crate) const OFF_SQ_RING: u64 = 0;
pub(crate) const OFF_CQ_RING: u64 = 0x800_0000;
pub(crate) const OFF_SQES: u64 = 0x1000_0000;

// IORING_REGISTER_* used by the core ring.
pub(crate) const REGISTER_PROBE: u32 = 8;

/// `IO_URING_OP_SUPPORTED` in `io_uring_probe_op.flags`.
pub(crate) const IO_URING_OP_SUPPORTED: u16 = 1;

/// Size of the kernel's `sigset_t` (`_NSIG / 8`), the only `sigmask_sz` it
/// takes (8 on x86_64 and aarch64; glibc's 128-byte `sigset_t` is refused).
pub(crate) const KERNEL_SIGSET_SIZE: u32 = core::mem::size_of::<rustix::io_uring::KernelSigSet>() as u32;

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static_assertions::const_assert_eq!(KERNEL_SIGSET_SIZE, 8);
