//! Argument structs of the resource registration calls (files, buffers),
//! KERNEL-ABI.md §f.

use static_assertions::{assert_eq_size, const_assert_eq};

/// `struct io_uring_rsrc_register` (FILES2, BUFFERS2).
///
/// `data` and `tags` are `__aligned_u64` in the kernel's header, which makes
/// the struct 8-aligned on i386 too; `align(8)` says the same here.
#[repr(C, align(8))]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct RsrcRegister {
    pub nr: u32,
    pub flags: u32,
    pub resv2: u64,
    pub data: u64,
    pub tags: u64,
}

/// `struct io_uring_files_update` (FILES_UPDATE) and, same layout,
/// `struct io_uring_rsrc_update` (RING_FDS). `data` is `__aligned_u64`.
#[repr(C, align(8))]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct RsrcUpdate {
    pub offset: u32,
    pub resv: u32,
    pub data: u64,
}

/// `struct io_uring_rsrc_update2` (FILES_UPDATE2, BUFFERS_UPDATE). `data`
/// and `tags` are `__aligned_u64`.
#[repr(C, align(8))]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct RsrcUpdate2 {
    pub offset: u32,
    pub resv: u32,
    pub data: u64,
    pub tags: u64,
    pub nr: u32,
    pub resv2: u32,
}

/// `struct io_uring_file_index_range` (FILE_ALLOC_RANGE).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct FileIndexRange {
    pub off: u32,
    pub len: u32,
    pub resv: u64,
}

/// `struct io_uring_restriction`, with the union as a raw byte.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct RawRestriction {
    pub opcode: u16,
    pub arg: u8,
    pub resv: u8,
    pub resv2: [u32; 3],
}

/// `struct io_uring_sync_cancel_reg`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct SyncCancelReg {
    pub addr: u64,
    pub fd: i32,
    pub flags: u32,
    pub timeout: super::KernelTimespec,
    pub opcode: u8,
    pub pad: [u8; 7],
    pub pad2: [u64; 3],
}

/// `struct io_uring_clock_register`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct ClockRegister {
    pub clockid: u32,
    pub resv: [u32; 3],
}

/// `struct io_uring_napi` (6.13 layout).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct RawNapi {
    pub busy_poll_to: u32,
    pub prefer_busy_poll: u8,
    pub opcode: u8,
    pub pad: [u8; 2],
    pub op_param: u32,
    pub resv: u32,
}

/// `struct io_uring_clone_buffers`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct CloneBuffers {
    pub src_fd: u32,
    pub flags: u32,
    pub src_off: u32,
    pub dst_off: u32,
    pub nr: u32,
    pub pad: [u32; 3],
}

/// `struct io_uring_buf_reg` (7.1 form: `min_left` in what was reserved).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct BufReg {
    pub ring_addr: u64,
    pub ring_entries: u32,
    pub bgid: u16,
    pub flags: u16,
    pub min_left: u32,
    pub resv: [u32; 5],
}

static_assertions::assert_eq_size!(BufReg, [u8; 40]);
static_assertions::const_assert_eq!(core::mem::offset_of!(BufReg, min_left), 16);

/// `struct io_uring_buf_status`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct BufStatus {
    pub buf_group: u32,
    pub head: u32,
    pub resv: [u32; 8],
}

/// `struct io_uring_buf`: one entry of a provided-buffer ring; entry 0's
/// `resv` is the ring's tail.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct RawBuf {
    pub addr: u64,
    pub len: u32,
    pub bid: u16,
    pub resv: u16,
}

assert_eq_size!(BufReg, [u8; 40]);
const_assert_eq!(core::mem::offset_of!(BufReg, bgid), 12);
const_assert_eq!(core::mem::offset_of!(BufReg, flags), 14);
assert_eq_size!(BufStatus, [u8; 40]);
assert_eq_size!(RawBuf, [u8; 16]);
const_assert_eq!(core::mem::offset_of!(RawBuf, bid), 12);
const_assert_eq!(core::mem::offset_of!(RawBuf, resv), 14);
assert_eq_size!(SyncCancelReg, [u8; 64]);
const_assert_eq!(core::mem::offset_of!(SyncCancelReg, fd), 8);
const_assert_eq!(core::mem::offset_of!(SyncCancelReg, flags), 12);
const_assert_eq!(core::mem::offset_of!(SyncCancelReg, timeout), 16);
const_assert_eq!(core::mem::offset_of!(SyncCancelReg, opcode), 32);
const_assert_eq!(core::mem::offset_of!(SyncCancelReg, pad2), 40);
assert_eq_size!(ClockRegister, [u8; 16]);
assert_eq_size!(RawNapi, [u8; 16]);
const_assert_eq!(core::mem::offset_of!(RawNapi, opcode), 5);
const_assert_eq!(core::mem::offset_of!(RawNapi, op_param), 8);
assert_eq_size!(CloneBuffers, [u8; 32]);
const_assert_eq!(core::mem::offset_of!(CloneBuffers, nr), 16);
assert_eq_size!(RawRestriction, [u8; 16]);
const_assert_eq!(core::mem::offset_of!(RawRestriction, arg), 2);
assert_eq_size!(RsrcRegister, [u8; 32]);
const_assert_eq!(core::mem::offset_of!(RsrcRegister, data), 16);
const_assert_eq!(core::mem::offset_of!(RsrcRegister, tags), 24);
assert_eq_size!(RsrcUpdate, [u8; 16]);
const_assert_eq!(core::mem::offset_of!(RsrcUpdate, data), 8);
assert_eq_size!(RsrcUpdate2, [u8; 32]);
const_assert_eq!(core::mem::offset_of!(RsrcUpdate2, tags), 16);
const_assert_eq!(core::mem::offset_of!(RsrcUpdate2, nr), 24);
assert_eq_size!(FileIndexRange, [u8; 16]);
// `__aligned_u64` members: 8-aligned on every target, i386 included.
const_assert_eq!(core::mem::align_of::<RsrcRegister>(), 8);
const_assert_eq!(core::mem::align_of::<RsrcUpdate>(), 8);
const_assert_eq!(core::mem::align_of::<RsrcUpdate2>(), 8);

/// `struct io_uring_query_hdr` (QUERY, 6.18): one link of a query chain.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct QueryHdr {
    pub next_entry: u64,
    pub query_data: u64,
    pub query_op: u32,
    pub size: u32,
    pub result: i32,
    pub resv: [u32; 3],
}
assert_eq_size!(QueryHdr, [u8; 40]);
const_assert_eq!(core::mem::offset_of!(QueryHdr, result), 24);

/// `struct io_uring_mem_region_reg` (MEM_REGION, 6.13).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct MemRegionReg {
    pub region_uptr: u64,
    pub flags: u64,
    pub resv: [u64; 2],
}
assert_eq_size!(MemRegionReg, [u8; 32]);
