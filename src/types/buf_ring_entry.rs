//! [`BufRingEntry`]: one descriptor of a provided-buffer ring.

use core::ffi::c_void;
use core::mem::offset_of;

use crate::sys::RawBuf;

/// One entry of a provided-buffer ring (`struct io_uring_buf`): where a
/// buffer is, how long it is, and its id, which completions report.
///
/// The ring's tail is not a field of its own: it overlays the reserved
/// last two bytes of entry 0 (see [`tail`](Self::tail)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct BufRingEntry(pub(crate) RawBuf);

impl BufRingEntry {
    /// Sets the buffer's address.
    #[inline]
    pub fn set_addr(&mut self, addr: *mut c_void) {
        self.0.addr = addr as u64;
    }

    /// The buffer's address.
    #[inline]
    pub fn addr(&self) -> *mut c_void {
        self.0.addr as *mut c_void
    }

    /// Sets the buffer's length.
    #[inline]
    pub fn set_len(&mut self, len: u32) {
        self.0.len = len;
    }

    /// The buffer's length.
    #[inline]
    pub fn len(&self) -> u32 {
        self.0.len
    }

    /// Whether the buffer is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// Sets the buffer id reported by completions that use this buffer.
    #[inline]
    pub fn set_bid(&mut self, bid: u16) {
        self.0.bid = bid;
    }

    /// The buffer id.
    #[inline]
    pub fn bid(&self) -> u16 {
        self.0.bid
    }

    /// The ring's tail: the `u16` in the reserved bytes of entry 0.
    ///
    /// # Safety
    /// `ring_base` must point to entry 0 of a buffer ring.
    #[inline]
    pub unsafe fn tail(ring_base: *const BufRingEntry) -> *const u16 {
        // SAFETY: (B3) the tail lies inside entry 0 (at byte 14), which the
        // caller promises is there.
        unsafe { ring_base.cast::<u8>().add(offset_of!(RawBuf, resv)).cast() }
    }
}
