//! Legacy provided buffers: [`ProvideBuffers`], [`RemoveBuffers`].
//!
//! A buffer group is a set of equally sized buffers, numbered by buffer id
//! (bid), that operations with `IOSQE_BUFFER_SELECT` pick from. Each buffer
//! is used once; the CQE's flags name it (see
//! [`cqueue::buffer_select`](crate::cqueue::buffer_select)), and it must be
//! provided again before it can be reused. Buffer rings
//! (`register_buf_ring`) are the faster successor.

use super::{entry, sqe};
use crate::squeue::Entry;

/// Hands `nbufs` buffers of `len` bytes each, laid out back to back from
/// `addr`, to buffer group `bgid`, numbering them `bid`, `bid + 1`, ...
/// (`IORING_OP_PROVIDE_BUFFERS`, 5.7; `io_uring_prep_provide_buffers(3)`).
///
/// Completes with result 0 on 6.18 (older kernels returned the count). The
/// memory must stay valid until every buffer has been used or removed.
#[derive(Debug)]
pub struct ProvideBuffers {
    addr: *mut u8,
    len: i32,
    nbufs: u16,
    bgid: u16,
    bid: u16,
}

impl ProvideBuffers {
    /// The opcode number, `IORING_OP_PROVIDE_BUFFERS`.
    pub const CODE: u8 = 31;

    /// Provides `addr[i * len..(i + 1) * len]` as buffer `bid + i` of group
    /// `bgid`, for `i` in `0..nbufs`.
    #[inline]
    pub fn new(addr: *mut u8, len: i32, nbufs: u16, bgid: u16, bid: u16) -> Self {
        ProvideBuffers { addr, len, nbufs, bgid, bid }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, i32::from(self.nbufs));
        sqe.addr = self.addr as u64;
        sqe.len = self.len as u32;
        sqe.off = u64::from(self.bid);
        sqe.buf_index = self.bgid;
        entry(sqe)
    }
}

/// Takes up to `nbufs` unused buffers out of buffer group `bgid`
/// (`IORING_OP_REMOVE_BUFFERS`, 5.7; `io_uring_prep_remove_buffers(3)`).
///
/// Completes with the number of buffers removed; `-ENOENT` if the group
/// does not exist (or is a buffer ring).
#[derive(Debug)]
pub struct RemoveBuffers {
    nbufs: u16,
    bgid: u16,
}

impl RemoveBuffers {
    /// The opcode number, `IORING_OP_REMOVE_BUFFERS`.
    pub const CODE: u8 = 32;

    /// Removes at most `nbufs` buffers of group `bgid`.
    #[inline]
    pub fn new(nbufs: u16, bgid: u16) -> Self {
        RemoveBuffers { nbufs, bgid }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, i32::from(self.nbufs));
        sqe.buf_index = self.bgid;
        entry(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Sqe;

    #[test]
    fn provide_buffers_encodes_every_field() {
        let mut mem = [0u8; 64];
        let e = ProvideBuffers::new(mem.as_mut_ptr(), 16, 4, 7, 100).build();
        let want =
            Sqe { opcode: 31, fd: 4, addr: mem.as_ptr() as u64, len: 16, off: 100, buf_index: 7, ..Sqe::default() };
        assert_eq!(e.0, want);
    }

    #[test]
    fn provide_buffers_keeps_large_counts_unsigned() {
        let e = ProvideBuffers::new(core::ptr::null_mut(), 1, u16::MAX, u16::MAX, u16::MAX).build();
        assert_eq!((e.0.fd, e.0.off, e.0.buf_index), (65535, 65535, u16::MAX));
    }

    #[test]
    fn remove_buffers_encodes_every_field() {
        let e = RemoveBuffers::new(3, 9).build();
        assert_eq!(e.0, Sqe { opcode: 32, fd: 3, buf_index: 9, ..Sqe::default() });
    }
}
