//! Our own `#[repr(C)]` copies of the kernel structs whose rustix versions
//! either hold enums the kernel can outgrow (`IoringOp` in the SQE and the
//! probe) or hold pointers that would make the public types `!Send`.
//!
//! Every struct here is plain old data: any bit pattern is a valid value, so
//! whatever the kernel writes into them can be read without undefined
//! behaviour. Layouts are checked against KERNEL-ABI.md §f at compile time.

use static_assertions::{assert_eq_size, const_assert_eq};

/// `struct io_uring_sqe` (64 bytes), with the unions flattened to the
/// members this crate writes. Overlapping kernel names are noted per field.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct Sqe {
    /// `opcode`: a raw `u8`, never an enum.
    pub opcode: u8,
    /// `flags`: `IOSQE_*`.
    pub flags: u8,
    /// `ioprio`, also the per-op flag word of send/recv/accept.
    pub ioprio: u16,
    /// `fd`.
    pub fd: i32,
    /// `off` / `addr2` / `cmd_op` + `__pad1`.
    pub off: u64,
    /// `addr` / `splice_off_in` / `level` + `optname`.
    pub addr: u64,
    /// `len`.
    pub len: u32,
    /// The op-flags word (`rw_flags`, `fsync_flags`, `nop_flags`, ...).
    pub op_flags: u32,
    /// `user_data`, echoed into the CQE.
    pub user_data: u64,
    /// `buf_index` / `buf_group`.
    pub buf_index: u16,
    /// `personality`.
    pub personality: u16,
    /// `splice_fd_in` / `file_index` / `optlen` / `addr_len` + `__pad3`.
    pub file_index: u32,
    /// `addr3` / `optval` / `attr_ptr` / start of `cmd`.
    pub addr3: u64,
    /// `__pad2[0]` / `attr_type_mask` / rest of `cmd`.
    pub pad2: u64,
}

/// `struct io_uring_cqe` without the trailing big-CQE words.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct Cqe {
    pub user_data: u64,
    pub res: i32,
    pub flags: u32,
}

/// `struct io_sqring_offsets`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct SqOffsets {
    pub head: u32,
    pub tail: u32,
    pub ring_mask: u32,
    pub ring_entries: u32,
    pub flags: u32,
    pub dropped: u32,
    pub array: u32,
    pub resv1: u32,
    pub user_addr: u64,
}

/// `struct io_cqring_offsets`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct CqOffsets {
    pub head: u32,
    pub tail: u32,
    pub ring_mask: u32,
    pub ring_entries: u32,
    pub overflow: u32,
    pub cqes: u32,
    pub flags: u32,
    pub resv1: u32,
    pub user_addr: u64,
}

/// `struct io_uring_params`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct Params {
    pub sq_entries: u32,
    pub cq_entries: u32,
    pub flags: u32,
    pub sq_thread_cpu: u32,
    pub sq_thread_idle: u32,
    pub features: u32,
    pub wq_fd: u32,
    pub resv: [u32; 3],
    pub sq_off: SqOffsets,
    pub cq_off: CqOffsets,
}

/// `struct io_uring_probe` header; the ops array follows it.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct ProbeHeader {
    pub last_op: u8,
    pub ops_len: u8,
    pub resv: u16,
    pub resv2: [u32; 3],
}

/// `struct io_uring_probe_op`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct ProbeOp {
    pub op: u8,
    pub resv: u8,
    pub flags: u16,
    pub resv2: u32,
}

/// `struct __kernel_timespec`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct KernelTimespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

/// `struct io_uring_getevents_arg`, with integer pointers so that
/// [`SubmitArgs`](crate::types::SubmitArgs) stays `Send + Sync`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct GeteventsArg {
    pub sigmask: u64,
    pub sigmask_sz: u32,
    pub min_wait_usec: u32,
    pub ts: u64,
}

macro_rules! assert_offsets {
    ($ty:ty { $($field:ident @ $off:expr),* $(,)? }) => {
        $( const_assert_eq!(core::mem::offset_of!($ty, $field), $off); )*
    };
}

assert_eq_size!(Sqe, [u8; 64]);
const_assert_eq!(core::mem::align_of::<Sqe>(), 8);
assert_offsets!(Sqe {
    opcode @ 0, flags @ 1, ioprio @ 2, fd @ 4, off @ 8, addr @ 16, len @ 24,
    op_flags @ 28, user_data @ 32, buf_index @ 40, personality @ 42,
    file_index @ 44, addr3 @ 48, pad2 @ 56,
});
assert_eq_size!(Cqe, [u8; 16]);
assert_offsets!(Cqe { user_data @ 0, res @ 8, flags @ 12 });
assert_eq_size!(SqOffsets, [u8; 40]);
assert_offsets!(SqOffsets {
    head @ 0, tail @ 4, ring_mask @ 8, ring_entries @ 12, flags @ 16,
    dropped @ 20, array @ 24, resv1 @ 28, user_addr @ 32,
});
assert_eq_size!(CqOffsets, [u8; 40]);
assert_offsets!(CqOffsets {
    head @ 0, tail @ 4, ring_mask @ 8, ring_entries @ 12, overflow @ 16,
    cqes @ 20, flags @ 24, resv1 @ 28, user_addr @ 32,
});
assert_eq_size!(Params, [u8; 120]);
assert_offsets!(Params {
    sq_entries @ 0, cq_entries @ 4, flags @ 8, sq_thread_cpu @ 12,
    sq_thread_idle @ 16, features @ 20, wq_fd @ 24, resv @ 28, sq_off @ 40,
    cq_off @ 80,
});
assert_eq_size!(ProbeHeader, [u8; 16]);
assert_offsets!(ProbeHeader { last_op @ 0, ops_len @ 1, resv @ 2, resv2 @ 4 });
assert_eq_size!(ProbeOp, [u8; 8]);
assert_offsets!(ProbeOp { op @ 0, resv @ 1, flags @ 2, resv2 @ 4 });
assert_eq_size!(KernelTimespec, [u8; 16]);
assert_eq_size!(GeteventsArg, [u8; 24]);
assert_offsets!(GeteventsArg { sigmask @ 0, sigmask_sz @ 8, min_wait_usec @ 12, ts @ 16 });

// Our structs must match rustix's where both exist, so that values can be
// passed between them (`enter_arg`) without translation.
assert_eq_size!(GeteventsArg, rustix::io_uring::io_uring_getevents_arg);
assert_eq_size!(Params, rustix::io_uring::io_uring_params);
assert_eq_size!(Cqe, rustix::io_uring::io_uring_cqe);
