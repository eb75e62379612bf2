//! Ring memory through rustix's `mmap`/`munmap`/`madvise`.

use core::ffi::c_void;
use core::ptr::NonNull;
use rustix::fd::BorrowedFd;
use rustix::io::Result;
use rustix::mm::{self, Advice, MapFlags, ProtFlags};

/// An owned shared mapping of part of a ring fd; unmapped on drop.
#[derive(Debug)]
pub(crate) struct Mmap {
    addr: NonNull<c_void>,
    len: usize,
}

impl Mmap {
    /// Maps `len` bytes of `fd` at `offset`, shared and read-write, with the
    /// pages populated up front so the hot path never faults them in.
    pub(crate) fn new(fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<Mmap> {
        // SAFETY: (S5) a new mapping at an address the kernel chooses cannot
        // alias any existing Rust object; the result is owned by `Mmap`.
        let ptr = unsafe {
            mm::mmap(
                core::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED | MapFlags::POPULATE,
                fd,
                offset,
            )
        }?;
        // mmap never returns NULL on success for a non-fixed mapping.
        let addr = NonNull::new(ptr).ok_or(rustix::io::Errno::NOMEM)?;
        Ok(Mmap { addr, len })
    }

    /// Maps `len` bytes of fresh zeroed memory, private and read-write,
    /// populated up front: ring memory for `IORING_SETUP_NO_MMAP` that the
    /// crate owns itself.
    pub(crate) fn anonymous(len: usize) -> Result<Mmap> {
        // SAFETY: (S5) a new mapping at an address the kernel chooses cannot
        // alias any existing Rust object; the result is owned by `Mmap`.
        let ptr = unsafe {
            mm::mmap_anonymous(
                core::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::POPULATE,
            )
        }?;
        let addr = NonNull::new(ptr).ok_or(rustix::io::Errno::NOMEM)?;
        Ok(Mmap { addr, len })
    }

    /// The first byte of the mapping.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.addr.as_ptr().cast()
    }

    /// `madvise(MADV_DONTFORK)`: a forked child does not inherit the ring.
    pub(crate) fn dontfork(&self) -> Result<()> {
        // SAFETY: (S5) the range is exactly this live mapping.
        unsafe { mm::madvise(self.addr.as_ptr(), self.len, Advice::LinuxDontFork) }
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: (S5) we own the mapping and nothing borrows it past our life
        // (the ring invariants in `ring/mod.rs` tie every view to the ring).
        // munmap of a valid mapping cannot fail; there is nothing to do if it did.
        let _ = unsafe { mm::munmap(self.addr.as_ptr(), self.len) };
    }
}

// SAFETY: `Mmap` is an address range plus a length; it hands out raw
// pointers only, whose use is governed by the ring invariants.
unsafe impl Send for Mmap {}
// SAFETY: as above; `&Mmap` gives nothing but the address.
unsafe impl Sync for Mmap {}
