//! Argument structs of the resource registration calls (files, buffers),
//! KERNEL-ABI.md §f.

use static_assertions::{assert_eq_size, const_assert_eq};

/// `struct io_uring_rsrc_register` (FILES2, BUFFERS2).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct RsrcRegister {
    pub nr: u32,
    pub flags: u32,
    pub resv2: u64,
    pub data: u64,
    pub tags: u64,
}

/// `struct io_uring_files_update` (FILES_UPDATE) and, same layout,
/// `struct io_uring_rsrc_update` (RING_FDS).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct RsrcUpdate {
    pub offset: u32,
    pub resv: u32,
    pub data: u64,
}

/// `struct io_uring_rsrc_update2` (FILES_UPDATE2, BUFFERS_UPDATE).
#[repr(C)]
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

assert_eq_size!(RsrcRegister, [u8; 32]);
const_assert_eq!(core::mem::offset_of!(RsrcRegister, data), 16);
const_assert_eq!(core::mem::offset_of!(RsrcRegister, tags), 24);
assert_eq_size!(RsrcUpdate, [u8; 16]);
const_assert_eq!(core::mem::offset_of!(RsrcUpdate, data), 8);
assert_eq_size!(RsrcUpdate2, [u8; 32]);
const_assert_eq!(core::mem::offset_of!(RsrcUpdate2, tags), 16);
const_assert_eq!(core::mem::offset_of!(RsrcUpdate2, nr), 24);
assert_eq_size!(FileIndexRange, [u8; 16]);
