//! Hooks that let `fuzz/` play the kernel against a [`BufRing`] without
//! one: register on paper, read the ring entries and the tail the way the
//! kernel reads them, and write received bytes into a buffer. Only built
//! with the `fuzz-hooks` feature; not part of the API.

use core::ptr;
use core::sync::atomic::Ordering;

use super::{tail_word, BufRing};
use crate::types::BufRingEntry;

#[doc(hidden)]
impl BufRing<'_> {
    /// `register` without a kernel: the bookkeeping starts a registration
    /// (every unread buffer added and published) as group `bgid`, in
    /// incremental mode when `inc`. `false` when already registered.
    pub fn fuzz_register(&mut self, bgid: u16, inc: bool) -> bool {
        if self.registered.is_some() {
            return false;
        }
        self.begin(bgid, -1, inc);
        true
    }

    /// `unregister` without a kernel.
    pub fn fuzz_unregister(&mut self) {
        self.end();
    }

    /// The ring entry at position `pos` (slot `pos & mask`), as the kernel
    /// would read it; `None` while not registered.
    pub fn fuzz_kernel_entry(&self, pos: u16) -> Option<BufRingEntry> {
        let base = self.ring_base()?;
        let index = usize::from(pos & self.mask);
        let mut out = BufRingEntry::default();
        // SAFETY: (B3) registered, so `base` is live ring memory with `entries`
        // slots and `index < entries`. Field-wise raw reads, as `push`
        // writes; no kernel is there to write concurrently, and the tail
        // bytes of entry 0 are not read here.
        unsafe {
            let entry = base.as_ptr().add(index);
            out.0.addr = ptr::addr_of!((*entry).0.addr).read();
            out.0.len = ptr::addr_of!((*entry).0.len).read();
            out.0.bid = ptr::addr_of!((*entry).0.bid).read();
        }
        Some(out)
    }

    /// The tail the kernel sees (read from ring memory) and the local tail;
    /// `None` while not registered.
    pub fn fuzz_tails(&self) -> Option<(u16, u16)> {
        let base = self.ring_base()?;
        // SAFETY: (B3) registered, so `base` is entry 0 of live ring memory.
        let published = unsafe { tail_word(base) }.load(Ordering::Acquire);
        Some((published, self.tail))
    }

    /// Plays the kernel's copy into a buffer it took from the ring: writes
    /// `data` at address `addr`. Panics unless the range lies inside one
    /// buffer. Whether the kernel was allowed to write there (B1) is what
    /// the caller checks, by watching the bytes of its live `Picked`s.
    pub fn fuzz_kernel_write(&mut self, addr: u64, data: &[u8]) {
        let base = self.bufs.as_ptr() as u64;
        let len = u64::from(self.buf_len);
        let total = u64::from(self.entries()) * len;
        let start = addr.checked_sub(base).filter(|&s| s < total).expect("address inside the buffers");
        let end = start + data.len() as u64;
        assert!(end <= (start / len + 1) * len, "write stays inside one buffer");
        // SAFETY: (B1, B2) `start..end` lies inside `bufs` (checked above), which this
        // BufRing borrows mutably for `'a`; `&mut self` means no `Chunks`
        // (the only readers) is alive.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), self.bufs.as_ptr().add(start as usize), data.len()) };
    }
}
