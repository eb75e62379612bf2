//! Raw kernel constants (KERNEL-ABI.md §c, §d, §e), as plain integers.
//! rustix names only some of them; keeping all in one place avoids mixing
//! two sources for the same number.

// The whole kernel table is kept, so that a number is looked up here rather
// than retyped; not every value has a user in every build.
#![allow(dead_code)]

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
pub(crate) const SETUP_REGISTERED_FD_ONLY: u32 = 1 << 15;
pub(crate) const SETUP_NO_SQARRAY: u32 = 1 << 16;
pub(crate) const SETUP_HYBRID_IOPOLL: u32 = 1 << 17;
pub(crate) const SETUP_CQE_MIXED: u32 = 1 << 18;
pub(crate) const SETUP_SQE_MIXED: u32 = 1 << 19;
/// `IORING_SETUP_SQ_REWIND` (7.0): the kernel reads each enter's entries
/// from SQ slot 0 (R7).
pub(crate) const SETUP_SQ_REWIND: u32 = 1 << 20;

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
pub(crate) const ENTER_REGISTERED_RING: u32 = 1 << 4;
pub(crate) const ENTER_ABS_TIMER: u32 = 1 << 5;
pub(crate) const ENTER_EXT_ARG_REG: u32 = 1 << 6;

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

// IORING_(UN)REGISTER_* opcodes (KERNEL-ABI.md table (b)); 0..=35 exist on 6.18.
pub(crate) const REGISTER_BUFFERS: u32 = 0;
pub(crate) const UNREGISTER_BUFFERS: u32 = 1;
pub(crate) const REGISTER_FILES: u32 = 2;
pub(crate) const UNREGISTER_FILES: u32 = 3;
pub(crate) const REGISTER_EVENTFD: u32 = 4;
pub(crate) const UNREGISTER_EVENTFD: u32 = 5;
pub(crate) const REGISTER_FILES_UPDATE: u32 = 6;
pub(crate) const REGISTER_EVENTFD_ASYNC: u32 = 7;
pub(crate) const REGISTER_PROBE: u32 = 8;
pub(crate) const REGISTER_PERSONALITY: u32 = 9;
pub(crate) const UNREGISTER_PERSONALITY: u32 = 10;
pub(crate) const REGISTER_RESTRICTIONS: u32 = 11;
pub(crate) const REGISTER_ENABLE_RINGS: u32 = 12;
pub(crate) const REGISTER_FILES2: u32 = 13;
pub(crate) const REGISTER_FILES_UPDATE2: u32 = 14;
pub(crate) const REGISTER_BUFFERS2: u32 = 15;
pub(crate) const REGISTER_BUFFERS_UPDATE: u32 = 16;
pub(crate) const REGISTER_IOWQ_AFF: u32 = 17;
pub(crate) const UNREGISTER_IOWQ_AFF: u32 = 18;
pub(crate) const REGISTER_IOWQ_MAX_WORKERS: u32 = 19;
pub(crate) const REGISTER_RING_FDS: u32 = 20;
pub(crate) const UNREGISTER_RING_FDS: u32 = 21;
pub(crate) const REGISTER_PBUF_RING: u32 = 22;
pub(crate) const UNREGISTER_PBUF_RING: u32 = 23;
pub(crate) const REGISTER_SYNC_CANCEL: u32 = 24;
pub(crate) const REGISTER_FILE_ALLOC_RANGE: u32 = 25;
pub(crate) const REGISTER_PBUF_STATUS: u32 = 26;
pub(crate) const REGISTER_NAPI: u32 = 27;
pub(crate) const UNREGISTER_NAPI: u32 = 28;
pub(crate) const REGISTER_CLOCK: u32 = 29;
pub(crate) const REGISTER_CLONE_BUFFERS: u32 = 30;
pub(crate) const REGISTER_SEND_MSG_RING: u32 = 31;
pub(crate) const REGISTER_ZCRX_IFQ: u32 = 32;
pub(crate) const REGISTER_RESIZE_RINGS: u32 = 33;
pub(crate) const REGISTER_MEM_REGION: u32 = 34;
pub(crate) const REGISTER_QUERY: u32 = 35;
pub(crate) const REGISTER_ZCRX_CTRL: u32 = 36;
pub(crate) const REGISTER_BPF_FILTER: u32 = 37;
// io_uring/bpf_filter.h (7.0).
pub(crate) const BPF_CMD_FILTER: u16 = 1;
pub(crate) const BPF_FILTER_DENY_REST: u32 = 1;
pub(crate) const BPF_FILTER_SZ_STRICT: u32 = 2;
/// `IORING_REGISTER_USE_REGISTERED_RING`: OR-ed into the opcode, `fd` is a registered ring index.
pub(crate) const REGISTER_USE_REGISTERED_RING: u32 = 1 << 31;

/// `IO_URING_OP_SUPPORTED` in `io_uring_probe_op.flags`.
pub(crate) const IO_URING_OP_SUPPORTED: u16 = 1;

/// Size of the kernel's `sigset_t` (`_NSIG / 8`), the only `sigmask_sz` it
/// takes (8 on x86_64 and aarch64; glibc's 128-byte `sigset_t` is refused).
pub(crate) const KERNEL_SIGSET_SIZE: u32 = core::mem::size_of::<rustix::io_uring::KernelSigSet>() as u32;

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static_assertions::const_assert_eq!(KERNEL_SIGSET_SIZE, 8);

// ---------------------------------------------------------------------------
// Per-operation flag words (KERNEL-ABI.md table (e)). Builders take rustix's
// or our own typed flags; these are the raw numbers they encode to.

/// `IORING_FSYNC_DATASYNC` (`fsync_flags`).
pub(crate) const FSYNC_DATASYNC: u32 = 1;

// `timeout_flags`.
pub(crate) const TIMEOUT_ABS: u32 = 1 << 0;
pub(crate) const TIMEOUT_UPDATE: u32 = 1 << 1;
pub(crate) const TIMEOUT_BOOTTIME: u32 = 1 << 2;
pub(crate) const TIMEOUT_REALTIME: u32 = 1 << 3;
pub(crate) const TIMEOUT_LINK_TIMEOUT_UPDATE: u32 = 1 << 4;
pub(crate) const TIMEOUT_ETIME_SUCCESS: u32 = 1 << 5;
pub(crate) const TIMEOUT_MULTISHOT: u32 = 1 << 6;
pub(crate) const TIMEOUT_IMMEDIATE_ARG: u32 = 1 << 7;

/// `SPLICE_F_FD_IN_FIXED` (`splice_flags`): `splice_fd_in` is a registered file.
pub(crate) const SPLICE_F_FD_IN_FIXED: u32 = 1 << 31;

// POLL_ADD / POLL_REMOVE `len`.
pub(crate) const POLL_ADD_MULTI: u32 = 1 << 0;
pub(crate) const POLL_UPDATE_EVENTS: u32 = 1 << 1;
pub(crate) const POLL_UPDATE_USER_DATA: u32 = 1 << 2;
pub(crate) const POLL_ADD_LEVEL: u32 = 1 << 3;

// `cancel_flags` (also `io_uring_sync_cancel_reg.flags`).
pub(crate) const ASYNC_CANCEL_ALL: u32 = 1 << 0;
pub(crate) const ASYNC_CANCEL_FD: u32 = 1 << 1;
pub(crate) const ASYNC_CANCEL_ANY: u32 = 1 << 2;
pub(crate) const ASYNC_CANCEL_FD_FIXED: u32 = 1 << 3;
pub(crate) const ASYNC_CANCEL_USERDATA: u32 = 1 << 4;
pub(crate) const ASYNC_CANCEL_OP: u32 = 1 << 5;

// send/recv `ioprio`.
pub(crate) const RECVSEND_POLL_FIRST: u16 = 1 << 0;
pub(crate) const RECV_MULTISHOT: u16 = 1 << 1;
pub(crate) const RECVSEND_FIXED_BUF: u16 = 1 << 2;
pub(crate) const SEND_ZC_REPORT_USAGE: u16 = 1 << 3;
pub(crate) const RECVSEND_BUNDLE: u16 = 1 << 4;
pub(crate) const SEND_VECTORIZED: u16 = 1 << 5;

/// `IORING_NOTIF_USAGE_ZC_COPIED`: a zero-copy notification's `res` when
/// the kernel had to copy after all.
pub(crate) const NOTIF_USAGE_ZC_COPIED: u32 = 1 << 31;

// accept `ioprio`.
pub(crate) const ACCEPT_MULTISHOT: u16 = 1 << 0;
pub(crate) const ACCEPT_DONTWAIT: u16 = 1 << 1;
pub(crate) const ACCEPT_POLL_FIRST: u16 = 1 << 2;

// MSG_RING command (`addr`) and `msg_ring_flags`.
pub(crate) const MSG_DATA: u64 = 0;
pub(crate) const MSG_SEND_FD: u64 = 1;
pub(crate) const MSG_RING_CQE_SKIP: u32 = 1 << 0;
pub(crate) const MSG_RING_FLAGS_PASS: u32 = 1 << 1;

/// `IORING_FIXED_FD_NO_CLOEXEC` (`install_fd_flags`).
pub(crate) const FIXED_FD_NO_CLOEXEC: u32 = 1;

// `nop_flags`.
pub(crate) const NOP_INJECT_RESULT: u32 = 1 << 0;
pub(crate) const NOP_FILE: u32 = 1 << 1;
pub(crate) const NOP_FIXED_FILE: u32 = 1 << 2;
pub(crate) const NOP_FIXED_BUFFER: u32 = 1 << 3;
pub(crate) const NOP_TW: u32 = 1 << 4;
pub(crate) const NOP_CQE32: u32 = 1 << 5;

/// `IORING_URING_CMD_FIXED` (`uring_cmd_flags`): `buf_index` names a
/// registered buffer.
pub(crate) const URING_CMD_FIXED: u32 = 1;

/// `IORING_RW_ATTR_FLAG_PI` (`attr_type_mask`).
pub(crate) const RW_ATTR_FLAG_PI: u64 = 1;

// Socket commands over URING_CMD (`cmd_op`).
pub(crate) const SOCKET_URING_OP_SIOCINQ: u32 = 0;
pub(crate) const SOCKET_URING_OP_SIOCOUTQ: u32 = 1;
pub(crate) const SOCKET_URING_OP_GETSOCKOPT: u32 = 2;
pub(crate) const SOCKET_URING_OP_SETSOCKOPT: u32 = 3;
pub(crate) const SOCKET_URING_OP_TX_TIMESTAMP: u32 = 4;
pub(crate) const SOCKET_URING_OP_GETSOCKNAME: u32 = 5;
// `BLOCK_URING_CMD_ZONE_RESET_ALL` = `_IO(0x12, 1)` (7.3, linux/blkzoned.h).
pub(crate) const BLOCK_URING_CMD_ZONE_RESET_ALL: u32 = (0x12 << 8) | 1;

// Special values.
/// `IORING_FILE_INDEX_ALLOC`: "the kernel picks a free direct-descriptor slot".
pub(crate) const FILE_INDEX_ALLOC: u32 = u32::MAX;
/// `IORING_REGISTER_FILES_SKIP`: leave this slot as it is in a files update.
pub(crate) const REGISTER_FILES_SKIP: i32 = -2;
/// `IORING_RSRC_REGISTER_SPARSE`.
pub(crate) const RSRC_REGISTER_SPARSE: u32 = 1;

// io_uring_restriction.opcode.
pub(crate) const RESTRICTION_REGISTER_OP: u16 = 0;
pub(crate) const RESTRICTION_SQE_OP: u16 = 1;
pub(crate) const RESTRICTION_SQE_FLAGS_ALLOWED: u16 = 2;
pub(crate) const RESTRICTION_SQE_FLAGS_REQUIRED: u16 = 3;

// NAPI (io_uring_napi.opcode and .op_param).
pub(crate) const NAPI_REGISTER_OP: u8 = 0;
pub(crate) const NAPI_STATIC_ADD_ID: u8 = 1;
pub(crate) const NAPI_STATIC_DEL_ID: u8 = 2;
pub(crate) const NAPI_TRACKING_DYNAMIC: u32 = 0;
pub(crate) const NAPI_TRACKING_STATIC: u32 = 1;
pub(crate) const NAPI_TRACKING_INACTIVE: u32 = 255;

// Provided-buffer rings: io_uring_buf_reg.flags and the mmap offset of a
// kernel-allocated ring.
pub(crate) const IOU_PBUF_RING_MMAP: u16 = 1;
pub(crate) const IOU_PBUF_RING_INC: u16 = 2;
pub(crate) const OFF_PBUF_RING: u64 = 0x8000_0000;
pub(crate) const OFF_PBUF_SHIFT: u32 = 16;

// io_uring_clone_buffers.flags.
pub(crate) const REGISTER_SRC_REGISTERED: u32 = 1;
pub(crate) const REGISTER_DST_REPLACE: u32 = 2;

// Memory regions (6.13).
pub(crate) const MEM_REGION_TYPE_USER: u32 = 1;
pub(crate) const MEM_REGION_REG_WAIT_ARG: u64 = 1;
pub(crate) const REG_WAIT_TS: u32 = 1;

// zcrx (`include/uapi/linux/io_uring/zcrx.h`).
pub(crate) const ZCRX_AREA_SHIFT: u32 = 48;
pub(crate) const ZCRX_AREA_DMABUF: u32 = 1;
pub(crate) const ZCRX_REG_IMPORT: u32 = 1;
pub(crate) const ZCRX_REG_NODEV: u32 = 2;
pub(crate) const ZCRX_FEATURE_RX_PAGE_SIZE: u32 = 1;
pub(crate) const ZCRX_FEATURE_EVENT: u32 = 2;
pub(crate) const ZCRX_EVENT_ALLOC_FAIL: u32 = 0;
pub(crate) const ZCRX_EVENT_COPY: u32 = 1;
pub(crate) const ZCRX_EVENT_DESC_FLAG_STATS: u32 = 1;

// IORING_REGISTER_QUERY ops.
pub(crate) const QUERY_OPCODES: u32 = 0;
pub(crate) const QUERY_ZCRX: u32 = 1;
pub(crate) const QUERY_SCQ: u32 = 2;

// IORING_REGISTER_ZCRX_CTRL ops (6.19).
pub(crate) const ZCRX_CTRL_FLUSH_RQ: u32 = 0;
pub(crate) const ZCRX_CTRL_EXPORT: u32 = 1;
pub(crate) const ZCRX_CTRL_ARM_EVENT: u32 = 2;
pub(crate) const ZCRX_CTRL_ADD_AREA: u32 = 3;
