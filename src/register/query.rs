//! What the running kernel's io_uring knows (`IORING_REGISTER_QUERY`, 6.18):
//! opcode counts and flag masks, asked with or without a ring.
//!
//! The kernel walks a chain of `io_uring_query_hdr`s; each names a query
//! op and a buffer, and gets its own `result`. These calls issue one query
//! each. Without a ring the call goes to fd `-1`, which rustix's
//! `BorrowedFd` cannot express; `sys::syscall::register` passes the raw
//! number (through the rustix fallback it fails with `ENOSYS`).

use core::mem::size_of;
use core::ptr;

use rustix::io::{Errno, Result};

use crate::submit::RingHandle;
use crate::sys::{self, QueryHdr};
use crate::Submitter;

/// What the kernel's io_uring supports (`struct io_uring_query_opcode`):
/// the answer of [`query_opcodes`] and
/// [`Submitter::register_query_opcodes`].
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryOpcodes {
    /// SQE opcodes: `0..nr_request_opcodes` exist.
    pub nr_request_opcodes: u32,
    /// `io_uring_register` opcodes: `0..nr_register_opcodes` exist.
    pub nr_register_opcodes: u32,
    /// Every `IORING_FEAT_*` bit the kernel can report.
    pub feature_flags: u64,
    /// Every `IORING_SETUP_*` flag the kernel accepts.
    pub ring_setup_flags: u64,
    /// Every `IORING_ENTER_*` flag the kernel accepts.
    pub enter_flags: u64,
    /// Every `IOSQE_*` flag the kernel accepts.
    pub sqe_flags: u64,
    /// Query ops: `0..nr_query_opcodes` exist.
    pub nr_query_opcodes: u32,
    pad: u32,
}

/// Zero-copy receive capabilities (`struct io_uring_query_zcrx`); the
/// kernel answers `EOPNOTSUPP` where it has none to report (6.18).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryZcrx {
    /// Flags `register_ifq` accepts.
    pub register_flags: u64,
    /// Flags a zcrx area accepts.
    pub area_flags: u64,
    /// Number of `IORING_REGISTER_ZCRX_CTRL` ops.
    pub nr_ctrl_opcodes: u32,
    /// `ZCRX_FEATURE_*` bits.
    pub features: u32,
    /// Size of the refill queue header.
    pub rq_hdr_size: u32,
    /// Alignment of the refill queue header.
    pub rq_hdr_alignment: u32,
    resv: u64,
}

impl QueryZcrx {
    /// [`register_flags`](Self::register_flags), typed: `NODEV` here means
    /// a queue without a device can be registered (7.1).
    #[inline]
    pub const fn zcrx_reg_flags(&self) -> crate::types::ZcrxRegFlags {
        crate::types::ZcrxRegFlags::from_bits_retain(self.register_flags as u32)
    }

    /// [`features`](Self::features), typed.
    #[inline]
    pub const fn zcrx_features(&self) -> crate::types::ZcrxFeatures {
        crate::types::ZcrxFeatures::from_bits_retain(self.features)
    }
}

/// Layout of the shared SQ/CQ header (`struct io_uring_query_scq`); the
/// kernel answers `EOPNOTSUPP` where it has none to report (6.18).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryScq {
    /// Size of the header in front of the SQ/CQ arrays.
    pub hdr_size: u64,
    /// Its alignment.
    pub hdr_alignment: u64,
}

static_assertions::assert_eq_size!(QueryOpcodes, [u8; 48]);
static_assertions::assert_eq_size!(QueryZcrx, [u8; 40]);
static_assertions::assert_eq_size!(QueryScq, [u8; 16]);

/// A query answer type: its `IO_URING_QUERY_*` op.
trait QueryOp: Default {
    const OP: u32;
}
impl QueryOp for QueryOpcodes {
    const OP: u32 = sys::QUERY_OPCODES;
}
impl QueryOp for QueryZcrx {
    const OP: u32 = sys::QUERY_ZCRX;
}
impl QueryOp for QueryScq {
    const OP: u32 = sys::QUERY_SCQ;
}

/// One query on `fd` (a ring fd, a registered ring index with `bits`
/// `IORING_REGISTER_USE_REGISTERED_RING`, or -1 for none). The syscall's
/// own error comes first; then the entry's `result` (negated errno).
fn query<T: QueryOp>(fd: i32, bits: u32) -> Result<T> {
    let mut out = T::default();
    let mut hdr = QueryHdr {
        query_data: ptr::from_mut(&mut out) as u64,
        query_op: T::OP,
        size: size_of::<T>() as u32,
        ..QueryHdr::default()
    };
    // SAFETY: (S1) `hdr` is a single-entry chain (next_entry 0) whose buffer is
    // `out`, `size` bytes of plain integers the kernel may fill; the kernel
    // writes `result` back into `hdr`. Both outlive the call.
    unsafe { sys::syscall::register(fd, sys::REGISTER_QUERY | bits, ptr::from_mut(&mut hdr).cast_const().cast(), 0) }?;
    match hdr.result {
        0 => Ok(out),
        e => Err(Errno::from_raw_os_error(e.wrapping_neg())),
    }
}

/// Asks the kernel what its io_uring supports, without a ring
/// (`IORING_REGISTER_QUERY` on fd -1, 6.18; `EINVAL` before; no man page;
/// kernel: `io_uring/query.c`).
pub fn query_opcodes() -> Result<QueryOpcodes> {
    query(-1, 0)
}

/// Asks the kernel for its zero-copy receive capabilities, without a ring
/// (`IORING_REGISTER_QUERY`, 6.18, with `IO_URING_QUERY_ZCRX` on fd -1,
/// which 6.18 itself answers with `EOPNOTSUPP`; no man page; kernel:
/// `io_uring/query.c`).
pub fn query_zcrx() -> Result<QueryZcrx> {
    query(-1, 0)
}

/// Asks the kernel for the layout of its SQ/CQ header, without a ring
/// (`IORING_REGISTER_QUERY`, 6.18, with `IO_URING_QUERY_SCQ` on fd -1,
/// which 6.18 itself answers with `EOPNOTSUPP`; no man page; kernel:
/// `io_uring/query.c`).
pub fn query_scq() -> Result<QueryScq> {
    query(-1, 0)
}

impl<H: RingHandle> Submitter<'_, H> {
    /// [`query_opcodes`] through this ring (`IORING_REGISTER_QUERY`,
    /// 6.18; no man page; kernel: `io_uring/query.c`).
    pub fn register_query_opcodes(&self) -> Result<QueryOpcodes> {
        let (fd, bits) = self.handle.register_target();
        query(fd, bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn answers_have_the_kernel_layout() {
        assert_eq!(offset_of!(QueryOpcodes, feature_flags), 8);
        assert_eq!(offset_of!(QueryOpcodes, sqe_flags), 32);
        assert_eq!(offset_of!(QueryOpcodes, nr_query_opcodes), 40);
        assert_eq!(offset_of!(QueryZcrx, nr_ctrl_opcodes), 16);
        assert_eq!(offset_of!(QueryZcrx, rq_hdr_alignment), 28);
        assert_eq!(offset_of!(QueryScq, hdr_alignment), 8);
    }
}
