//! Zero-copy receive (zcrx, 6.15) structures, as the kernel lays them out
//! (`include/uapi/linux/io_uring.h`). Registering an interface queue needs
//! a NIC with header split and flow steering; see
//! [`Submitter::register_ifq`](crate::Submitter::register_ifq).

#![allow(non_camel_case_types)]

/// `struct io_uring_zcrx_rqe`: a refill queue entry handing a buffer back.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct io_uring_zcrx_rqe {
    /// Area offset of the buffer (area id in the bits from
    /// `IORING_ZCRX_AREA_SHIFT` up).
    pub off: u64,
    /// Its length.
    pub len: u32,
    /// Must be 0.
    pub __pad: u32,
}

/// `struct io_uring_zcrx_cqe`: the second half of a `RECV_ZC` 32-byte CQE.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct io_uring_zcrx_cqe {
    /// Where the data is: area id (high bits) and offset in the area.
    pub off: u64,
    /// Unused.
    pub __pad: u64,
}

/// `struct io_uring_zcrx_offsets`: refill-queue layout, written back by
/// the kernel.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct io_uring_zcrx_offsets {
    /// Offset of the head word.
    pub head: u32,
    /// Offset of the tail word.
    pub tail: u32,
    /// Offset of the entries.
    pub rqes: u32,
    /// Reserved.
    pub __resv2: u32,
    /// Reserved.
    pub __resv: [u64; 2],
}

/// `struct io_uring_zcrx_area_reg`: the memory packets are received into.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct io_uring_zcrx_area_reg {
    /// First byte (page-aligned), or offset into a dmabuf.
    pub addr: u64,
    /// Length in bytes.
    pub len: u64,
    /// Written by the kernel: the token that names the area in CQEs.
    pub rq_area_token: u64,
    /// `IORING_ZCRX_AREA_DMABUF` (1, 6.16) or 0.
    pub flags: u32,
    /// The dmabuf fd with `IORING_ZCRX_AREA_DMABUF`.
    pub dmabuf_fd: u32,
    /// Reserved.
    pub __resv2: [u64; 2],
}

/// `struct io_uring_zcrx_ifq_reg`: an interface queue to receive from.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct io_uring_zcrx_ifq_reg {
    /// Interface index.
    pub if_idx: u32,
    /// Receive queue of that interface.
    pub if_rxq: u32,
    /// Refill queue entries.
    pub rq_entries: u32,
    /// Registration flags.
    pub flags: u32,
    /// Address of an [`io_uring_zcrx_area_reg`].
    pub area_ptr: u64,
    /// Address of an [`io_uring_region_desc`](crate::types::io_uring_region_desc)
    /// for the refill queue.
    pub region_ptr: u64,
    /// Written by the kernel: the refill queue layout.
    pub offsets: io_uring_zcrx_offsets,
    /// Written by the kernel: the id `RecvZc::ifq` names.
    pub zcrx_id: u32,
    /// Receive buffer length (newer kernels; 0 = default).
    pub rx_buf_len: u32,
    /// Reserved.
    pub __resv: [u64; 3],
}

/// `struct zcrx_ctrl` (`IORING_REGISTER_ZCRX_CTRL`, 6.19): an operation on a
/// registered zcrx instance.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZcrxCtrl {
    zcrx_id: u32,
    op: u32,
    resv: [u64; 2],
    /// `zcrx_ctrl_export { zcrx_fd, resv[11] }` or `zcrx_ctrl_flush_rq { resv[6] }`.
    arg: [u32; 12],
}

impl ZcrxCtrl {
    /// `ZCRX_CTRL_FLUSH_RQ` (0): return every buffer in the refill queue.
    pub const fn flush_rq(zcrx_id: u32) -> Self {
        ZcrxCtrl { zcrx_id, op: crate::sys::ZCRX_CTRL_FLUSH_RQ, resv: [0; 2], arg: [0; 12] }
    }

    /// `ZCRX_CTRL_EXPORT` (1): make an fd for the instance, to share it
    /// with another ring; read it with [`zcrx_fd`](Self::zcrx_fd).
    pub const fn export(zcrx_id: u32) -> Self {
        ZcrxCtrl { zcrx_id, op: crate::sys::ZCRX_CTRL_EXPORT, resv: [0; 2], arg: [0; 12] }
    }

    /// The fd an export wrote back.
    pub const fn zcrx_fd(&self) -> u32 {
        self.arg[0]
    }

    /// The `ZCRX_CTRL_*` op.
    pub const fn op(&self) -> u32 {
        self.op
    }
}

static_assertions::assert_eq_size!(io_uring_zcrx_rqe, [u8; 16]);
static_assertions::assert_eq_size!(io_uring_zcrx_cqe, [u8; 16]);
static_assertions::assert_eq_size!(io_uring_zcrx_offsets, [u8; 32]);
static_assertions::assert_eq_size!(io_uring_zcrx_area_reg, [u8; 48]);
static_assertions::assert_eq_size!(io_uring_zcrx_ifq_reg, [u8; 96]);
static_assertions::assert_eq_size!(ZcrxCtrl, [u8; 72]);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_area_reg, flags), 24);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_ifq_reg, offsets), 32);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_ifq_reg, zcrx_id), 64);
static_assertions::const_assert_eq!(core::mem::offset_of!(ZcrxCtrl, arg), 24);
