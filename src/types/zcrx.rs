//! Zero-copy receive (zcrx, 6.15) structures, as the kernel lays them out
//! (`include/uapi/linux/io_uring/zcrx.h` of 7.3), with typed flags and
//! constructors.
//!
//! An interface queue (ifq) hands the kernel an *area* of memory to receive
//! into and a *refill queue* through which the application returns the
//! buffers it has read. With a NIC that splits headers from payload the
//! payload lands in the area without a copy; with
//! [`ZcrxRegFlags::NODEV`] (7.1) there is no device and every byte is
//! copied into the area, which makes the whole protocol usable on any TCP
//! socket. See [`Submitter::register_ifq`](crate::Submitter::register_ifq)
//! and [`ZcrxRefillQueue`](crate::register::ZcrxRefillQueue).

#![allow(non_camel_case_types)]

use bitflags::bitflags;
use rustix::fd::{AsRawFd, BorrowedFd};

use crate::sys;

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

impl io_uring_zcrx_rqe {
    /// Returns the buffer a `RECV_ZC` completion named: its offset (area id
    /// included) and the completion's length.
    #[inline]
    pub const fn from_cqe(cqe: io_uring_zcrx_cqe, len: u32) -> Self {
        io_uring_zcrx_rqe { off: cqe.off, len, __pad: 0 }
    }
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

impl io_uring_zcrx_cqe {
    /// The zcrx half of a 32-byte completion
    /// ([`cqueue::Entry32::big_cqe`](crate::cqueue::Entry32::big_cqe)).
    #[inline]
    pub const fn from_big_cqe(big: &[u64; 2]) -> Self {
        io_uring_zcrx_cqe { off: big[0], __pad: big[1] }
    }

    /// The area the data is in: 0 for the area given at registration, then
    /// 1, 2, ... in the order `ZCRX_CTRL_ADD_AREA` added them.
    #[inline]
    pub const fn area_index(&self) -> u16 {
        (self.off >> sys::ZCRX_AREA_SHIFT) as u16
    }

    /// The data's byte offset from the start of its area.
    #[inline]
    pub const fn area_offset(&self) -> u64 {
        self.off & !crate::types::IORING_ZCRX_AREA_MASK
    }
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

bitflags! {
    /// `io_uring_zcrx_area_reg` flags (`enum io_uring_zcrx_area_flags`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct ZcrxAreaFlags: u32 {
        /// `IORING_ZCRX_AREA_DMABUF` (6.16): the area is a dmabuf
        /// (`dmabuf_fd`), `addr` an offset into it. Needs a device: a
        /// `NODEV` queue cannot read it to copy into.
        const DMABUF = sys::ZCRX_AREA_DMABUF;
    }
}

/// `struct io_uring_zcrx_area_reg`: the memory packets are received into.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct io_uring_zcrx_area_reg {
    /// First byte (page-aligned), or offset into a dmabuf.
    pub addr: u64,
    /// Length in bytes.
    pub len: u64,
    /// Written by the kernel: the token that names the area in CQEs and
    /// refill entries (its index shifted up by `IORING_ZCRX_AREA_SHIFT`).
    pub rq_area_token: u64,
    /// `IORING_ZCRX_AREA_DMABUF` (1, 6.16) or 0.
    pub flags: u32,
    /// The dmabuf fd with `IORING_ZCRX_AREA_DMABUF`.
    pub dmabuf_fd: u32,
    /// Reserved.
    pub __resv2: [u64; 2],
}

impl io_uring_zcrx_area_reg {
    /// An area of the caller's memory: `len` bytes at `addr`, both
    /// multiples of the page size. Nothing is handed to the kernel until
    /// [`register_ifq`](crate::Submitter::register_ifq) or
    /// [`register_zcrx_add_area`](crate::Submitter::register_zcrx_add_area),
    /// which are `unsafe` for that reason.
    #[inline]
    pub fn user(addr: *mut u8, len: u64) -> Self {
        io_uring_zcrx_area_reg { addr: addr as u64, len, ..Default::default() }
    }

    /// The typed `flags`.
    #[inline]
    pub const fn area_flags(&self) -> ZcrxAreaFlags {
        ZcrxAreaFlags::from_bits_retain(self.flags)
    }

    /// The area's index, from the token the kernel wrote back (what
    /// [`io_uring_zcrx_cqe::area_index`] says for data in this area).
    #[inline]
    pub const fn area_index(&self) -> u16 {
        (self.rq_area_token >> sys::ZCRX_AREA_SHIFT) as u16
    }
}

bitflags! {
    /// `io_uring_zcrx_ifq_reg` flags (`enum zcrx_reg_flags`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct ZcrxRegFlags: u32 {
        /// `ZCRX_REG_IMPORT` (6.19): share the queue another ring exported
        /// (`if_idx` holds the fd `ZCRX_CTRL_EXPORT` made); everything else
        /// must be 0.
        const IMPORT = sys::ZCRX_REG_IMPORT;
        /// `ZCRX_REG_NODEV` (7.1): no network device; every byte received
        /// is copied into the area. `if_idx` and `if_rxq` must be 0, and
        /// returned buffers are only taken back by `ZCRX_CTRL_FLUSH_RQ`.
        const NODEV = sys::ZCRX_REG_NODEV;
    }
}

bitflags! {
    /// `ZCRX_FEATURE_*` bits of the zcrx query
    /// ([`QueryZcrx::features`](crate::register::QueryZcrx)).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct ZcrxFeatures: u32 {
        /// `ZCRX_FEATURE_RX_PAGE_SIZE` (7.0): `rx_buf_len` is honoured.
        const RX_PAGE_SIZE = sys::ZCRX_FEATURE_RX_PAGE_SIZE;
        /// `ZCRX_FEATURE_EVENT` (7.2): event descriptors and stats.
        const EVENT = sys::ZCRX_FEATURE_EVENT;
    }
}

/// A zcrx event (`enum zcrx_event_type`, 7.2): the `res` of the completion
/// the kernel posts with the descriptor's `user_data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u32)]
pub enum ZcrxEvent {
    /// `ZCRX_EVENT_ALLOC_FAIL`: a device's page pool found no free buffer.
    /// Only a NIC queue allocates that way; a `NODEV` queue never posts it.
    AllocFail = sys::ZCRX_EVENT_ALLOC_FAIL,
    /// `ZCRX_EVENT_COPY`: data took the copy path instead of arriving in
    /// the area directly (always so on a `NODEV` queue).
    Copy = sys::ZCRX_EVENT_COPY,
}

impl ZcrxEvent {
    /// The event an event completion's result names, if this crate knows it.
    #[inline]
    pub const fn from_raw(res: i32) -> Option<Self> {
        match res {
            0 => Some(ZcrxEvent::AllocFail),
            1 => Some(ZcrxEvent::Copy),
            _ => None,
        }
    }

    /// Its bit in [`ZcrxEvents`].
    #[inline]
    pub const fn mask(self) -> ZcrxEvents {
        ZcrxEvents::from_bits_retain(1 << self as u32)
    }
}

bitflags! {
    /// The events a queue reports (`type_mask` of `struct zcrx_event_desc`,
    /// bit `1 << ZCRX_EVENT_*`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct ZcrxEvents: u32 {
        /// `1 << ZCRX_EVENT_ALLOC_FAIL`.
        const ALLOC_FAIL = 1 << sys::ZCRX_EVENT_ALLOC_FAIL;
        /// `1 << ZCRX_EVENT_COPY`.
        const COPY = 1 << sys::ZCRX_EVENT_COPY;
    }
}

/// `struct zcrx_event_desc` (7.2): which events a queue posts, with what
/// `user_data`, and where in the refill region the kernel keeps its
/// [`ZcrxStats`]. Each event is posted once, then again only after
/// `ZCRX_CTRL_ARM_EVENT` ([`Submitter::register_zcrx_arm_event`](crate::Submitter::register_zcrx_arm_event)).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZcrxEventDesc {
    user_data: u64,
    type_mask: u32,
    flags: u32,
    stats_offset: u64,
    resv2: [u64; 9],
}

impl ZcrxEventDesc {
    /// Post a completion with `user_data` (and the [`ZcrxEvent`] as its
    /// result) when one of `events` happens; no stats.
    #[inline]
    pub const fn new(user_data: u64, events: ZcrxEvents) -> Self {
        ZcrxEventDesc { user_data, type_mask: events.bits(), flags: 0, stats_offset: 0, resv2: [0; 9] }
    }

    /// Also keep [`ZcrxStats`] at byte `offset` of the refill region
    /// (`ZCRX_EVENT_DESC_FLAG_STATS`): 8-byte aligned, past the refill
    /// entries and inside the region, or registration fails (`EINVAL`,
    /// `ERANGE`). The kernel zeroes them at registration.
    #[inline]
    pub const fn stats_at(mut self, offset: u64) -> Self {
        self.flags |= sys::ZCRX_EVENT_DESC_FLAG_STATS;
        self.stats_offset = offset;
        self
    }

    /// The events asked for.
    #[inline]
    pub const fn events(&self) -> ZcrxEvents {
        ZcrxEvents::from_bits_retain(self.type_mask)
    }

    /// Where the stats are, if asked for.
    #[inline]
    pub const fn stats_offset(&self) -> Option<u64> {
        if self.flags & sys::ZCRX_EVENT_DESC_FLAG_STATS != 0 {
            Some(self.stats_offset)
        } else {
            None
        }
    }
}

/// `struct zcrx_stats` (7.2): counters the kernel keeps in the refill
/// region; read them with
/// [`ZcrxRefillQueue::stats`](crate::register::ZcrxRefillQueue::stats).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZcrxStats {
    /// Completions whose data took the copy path.
    pub copy_count: u64,
    /// Bytes copied.
    pub copy_bytes: u64,
}

/// `struct io_uring_zcrx_ifq_reg`: an interface queue to receive from.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct io_uring_zcrx_ifq_reg {
    /// Interface index (with `ZCRX_REG_IMPORT`: the exported fd).
    pub if_idx: u32,
    /// Receive queue of that interface.
    pub if_rxq: u32,
    /// Refill queue entries (the kernel rounds up to a power of two and
    /// writes the count back).
    pub rq_entries: u32,
    /// Registration flags ([`ZcrxRegFlags`]).
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
    /// Receive buffer length (7.0; 0 = default); the kernel writes back the
    /// length it uses.
    pub rx_buf_len: u32,
    /// Address of a [`ZcrxEventDesc`] (7.2), or 0.
    pub event_desc: u64,
    /// Reserved.
    pub __resv: [u64; 2],
}

impl io_uring_zcrx_ifq_reg {
    /// A queue on receive queue `if_rxq` of interface `if_idx` (a NIC with
    /// header split and flow steering), receiving into `area`, returning
    /// buffers through the refill queue of `rq_entries` in `region`.
    #[inline]
    pub fn netdev(
        if_idx: u32,
        if_rxq: u32,
        rq_entries: u32,
        area: &mut io_uring_zcrx_area_reg,
        region: &mut crate::types::io_uring_region_desc,
    ) -> Self {
        io_uring_zcrx_ifq_reg {
            if_idx,
            if_rxq,
            rq_entries,
            area_ptr: core::ptr::from_mut(area) as u64,
            region_ptr: core::ptr::from_mut(region) as u64,
            ..Default::default()
        }
    }

    /// A queue without a device (`ZCRX_REG_NODEV`, 7.1): data from any TCP
    /// socket a `RECV_ZC` names is copied into `area`.
    #[inline]
    pub fn nodev(
        rq_entries: u32,
        area: &mut io_uring_zcrx_area_reg,
        region: &mut crate::types::io_uring_region_desc,
    ) -> Self {
        let mut reg = Self::netdev(0, 0, rq_entries, area, region);
        reg.flags = ZcrxRegFlags::NODEV.bits();
        reg
    }

    /// Shares the queue behind `zcrx_fd`, which another ring exported
    /// (`ZCRX_REG_IMPORT`, 6.19); see
    /// [`Submitter::register_zcrx_import`](crate::Submitter::register_zcrx_import).
    #[inline]
    pub fn import(zcrx_fd: BorrowedFd<'_>) -> Self {
        io_uring_zcrx_ifq_reg {
            if_idx: zcrx_fd.as_raw_fd() as u32,
            flags: ZcrxRegFlags::IMPORT.bits(),
            ..Default::default()
        }
    }

    /// Reports events as `desc` says (7.2).
    #[inline]
    pub fn with_event_desc(mut self, desc: &mut ZcrxEventDesc) -> Self {
        self.event_desc = core::ptr::from_mut(desc) as u64;
        self
    }

    /// The typed `flags`.
    #[inline]
    pub const fn reg_flags(&self) -> ZcrxRegFlags {
        ZcrxRegFlags::from_bits_retain(self.flags)
    }
}

/// `struct zcrx_ctrl` (`IORING_REGISTER_ZCRX_CTRL`, 6.19): an operation on a
/// registered zcrx instance. 72 bytes, as 7.3's header lays it out (two
/// reserved words, then a 48-byte union).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZcrxCtrl {
    zcrx_id: u32,
    op: u32,
    resv: [u64; 2],
    /// `zcrx_ctrl_export { zcrx_fd, resv[11] }`, `zcrx_ctrl_flush_rq
    /// { resv[6] }`, `zcrx_ctrl_arm_event { event_type, resv[11] }` or
    /// `zcrx_ctrl_add_area { area_ptr, resv[5] }`.
    arg: [u32; 12],
}

impl ZcrxCtrl {
    const fn with(zcrx_id: u32, op: u32) -> Self {
        ZcrxCtrl { zcrx_id, op, resv: [0; 2], arg: [0; 12] }
    }

    /// `ZCRX_CTRL_FLUSH_RQ` (0): take back every buffer in the refill queue
    /// (a `NODEV` queue takes them back only so).
    pub const fn flush_rq(zcrx_id: u32) -> Self {
        Self::with(zcrx_id, sys::ZCRX_CTRL_FLUSH_RQ)
    }

    /// `ZCRX_CTRL_EXPORT` (1): make an fd for the instance, to share it
    /// with another ring; read it with [`zcrx_fd`](Self::zcrx_fd).
    pub const fn export(zcrx_id: u32) -> Self {
        Self::with(zcrx_id, sys::ZCRX_CTRL_EXPORT)
    }

    /// `ZCRX_CTRL_ARM_EVENT` (2, 7.2): post `event` again the next time it
    /// happens. The kernel refuses (`EINVAL`) to arm an event that has not
    /// been posted since it was last armed.
    pub const fn arm_event(zcrx_id: u32, event: ZcrxEvent) -> Self {
        let mut c = Self::with(zcrx_id, sys::ZCRX_CTRL_ARM_EVENT);
        c.arg[0] = event as u32;
        c
    }

    /// `ZCRX_CTRL_ADD_AREA` (3, 7.3) with the area descriptor at `area_ptr`.
    /// Not public: the kernel keeps the memory it describes, so only the
    /// `unsafe` [`register_zcrx_add_area`](crate::Submitter::register_zcrx_add_area)
    /// builds one.
    pub(crate) const fn add_area(zcrx_id: u32, area_ptr: u64) -> Self {
        let mut c = Self::with(zcrx_id, sys::ZCRX_CTRL_ADD_AREA);
        // The u64 at offset 24, in the machine's byte order.
        let b = area_ptr.to_ne_bytes();
        c.arg[0] = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
        c.arg[1] = u32::from_ne_bytes([b[4], b[5], b[6], b[7]]);
        c
    }

    /// The fd an export wrote back.
    pub const fn zcrx_fd(&self) -> u32 {
        self.arg[0]
    }

    /// The `ZCRX_CTRL_*` op.
    pub const fn op(&self) -> u32 {
        self.op
    }

    /// The instance it acts on.
    pub const fn zcrx_id(&self) -> u32 {
        self.zcrx_id
    }
}

// Sizes and offsets from 7.3's `include/uapi/linux/io_uring/zcrx.h`.
// (KERNEL-7.3.md's table says 64 bytes for zcrx_ctrl; the header's
// `u32, u32, u64[2], union { 48 bytes }` is 72, and the header is the
// authority.)
static_assertions::assert_eq_size!(io_uring_zcrx_rqe, [u8; 16]);
static_assertions::assert_eq_size!(io_uring_zcrx_cqe, [u8; 16]);
static_assertions::assert_eq_size!(io_uring_zcrx_offsets, [u8; 32]);
static_assertions::assert_eq_size!(io_uring_zcrx_area_reg, [u8; 48]);
static_assertions::assert_eq_size!(io_uring_zcrx_ifq_reg, [u8; 96]);
static_assertions::assert_eq_size!(ZcrxEventDesc, [u8; 96]);
static_assertions::assert_eq_size!(ZcrxStats, [u8; 16]);
static_assertions::assert_eq_size!(ZcrxCtrl, [u8; 72]);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_rqe, len), 8);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_offsets, rqes), 8);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_area_reg, rq_area_token), 16);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_area_reg, flags), 24);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_area_reg, dmabuf_fd), 28);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_ifq_reg, area_ptr), 16);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_ifq_reg, region_ptr), 24);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_ifq_reg, offsets), 32);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_ifq_reg, zcrx_id), 64);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_ifq_reg, rx_buf_len), 68);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_zcrx_ifq_reg, event_desc), 72);
static_assertions::const_assert_eq!(core::mem::offset_of!(ZcrxEventDesc, type_mask), 8);
static_assertions::const_assert_eq!(core::mem::offset_of!(ZcrxEventDesc, flags), 12);
static_assertions::const_assert_eq!(core::mem::offset_of!(ZcrxEventDesc, stats_offset), 16);
static_assertions::const_assert_eq!(core::mem::offset_of!(ZcrxEventDesc, resv2), 24);
static_assertions::const_assert_eq!(core::mem::offset_of!(ZcrxStats, copy_bytes), 8);
static_assertions::const_assert_eq!(core::mem::offset_of!(ZcrxCtrl, op), 4);
static_assertions::const_assert_eq!(core::mem::offset_of!(ZcrxCtrl, arg), 24);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_ops_encode_their_argument() {
        let f = ZcrxCtrl::flush_rq(3);
        assert_eq!((f.zcrx_id(), f.op(), f.arg), (3, 0, [0; 12]));
        assert_eq!(ZcrxCtrl::export(4).op(), 1);
        let a = ZcrxCtrl::arm_event(5, ZcrxEvent::Copy);
        assert_eq!((a.op(), a.arg[0], a.arg[1]), (2, 1, 0));
        let ptr = 0x1122_3344_5566_7788u64;
        let add = ZcrxCtrl::add_area(6, ptr);
        assert_eq!(add.op(), 3);
        // The pointer sits where a u64 at offset 24 would.
        // SAFETY: (S4) ZcrxCtrl is repr(C) plain integers, 72 bytes, no padding.
        let bytes: [u8; 72] = unsafe { core::mem::transmute(add) };
        assert_eq!(u64::from_ne_bytes(bytes[24..32].try_into().unwrap()), ptr);
        assert_eq!(bytes[32..], [0; 40]);
    }

    #[test]
    fn cqe_and_area_tokens_split_id_and_offset() {
        let cqe = io_uring_zcrx_cqe::from_big_cqe(&[(2 << 48) | 0x3000, 0]);
        assert_eq!((cqe.area_index(), cqe.area_offset()), (2, 0x3000));
        let rqe = io_uring_zcrx_rqe::from_cqe(cqe, 100);
        assert_eq!(rqe, io_uring_zcrx_rqe { off: (2 << 48) | 0x3000, len: 100, __pad: 0 });
        let area = io_uring_zcrx_area_reg { rq_area_token: 1 << 48, ..Default::default() };
        assert_eq!(area.area_index(), 1);
    }

    #[test]
    fn registrations_set_their_flags_and_pointers() {
        let mut area = io_uring_zcrx_area_reg::user(0x10000 as *mut u8, 8192);
        let mut region = crate::types::io_uring_region_desc::default();
        let mut desc = ZcrxEventDesc::new(9, ZcrxEvents::COPY).stats_at(4096);
        let reg = io_uring_zcrx_ifq_reg::nodev(64, &mut area, &mut region).with_event_desc(&mut desc);
        assert_eq!(reg.reg_flags(), ZcrxRegFlags::NODEV);
        assert_eq!((reg.if_idx, reg.if_rxq, reg.rq_entries), (0, 0, 64));
        assert_eq!(reg.area_ptr, core::ptr::from_mut(&mut area) as u64);
        assert_eq!(reg.region_ptr, core::ptr::from_mut(&mut region) as u64);
        assert_eq!(reg.event_desc, core::ptr::from_mut(&mut desc) as u64);
        assert_eq!((desc.events(), desc.stats_offset()), (ZcrxEvents::COPY, Some(4096)));
        assert_eq!(ZcrxEventDesc::new(1, ZcrxEvents::empty()).stats_offset(), None);
        assert_eq!(ZcrxEvent::Copy.mask(), ZcrxEvents::COPY);
        assert_eq!(ZcrxEvent::AllocFail.mask(), ZcrxEvents::ALLOC_FAIL);
        assert_eq!(ZcrxEvent::from_raw(1), Some(ZcrxEvent::Copy));
        assert_eq!(ZcrxEvent::from_raw(2), None);
    }
}
