//! Memory regions shared with the kernel (`IORING_REGISTER_MEM_REGION`,
//! 6.13) and waits whose arguments live in one
//! (`IORING_ENTER_EXT_ARG_REG`): an executor that waits often writes its
//! timeout once and then passes only an index.
//!
//! A ring has at most one region and cannot unregister it (`EBUSY` for a
//! second); a region for wait arguments can only be registered while the
//! ring is still disabled (`Builder::setup_r_disabled`, then
//! `register_enable_rings`).

use core::mem::size_of;
use core::ptr;

use rustix::fd::AsFd;
use rustix::io::{Errno, Result};

use crate::submit::RingHandle;
use crate::sys::mmap::Mmap;
use crate::sys::{self, MemRegionReg};
use crate::types::{io_uring_region_desc, MemRegionFlags, RegWait};
use crate::Submitter;

/// A region of [`RegWait`] entries the kernel allocated and we mapped;
/// made by [`Submitter::register_wait_region`]. Dropping it unmaps our
/// view; the kernel keeps the region until the ring goes.
#[derive(Debug)]
pub struct WaitRegion {
    map: Mmap,
    entries: u32,
}

impl WaitRegion {
    /// How many entries fit.
    #[inline]
    pub fn len(&self) -> u32 {
        self.entries
    }

    /// Whether it holds no entry (never, for a registered region).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Writes entry `index`; `EINVAL` if out of range. The next wait with
    /// that index uses it.
    pub fn set(&mut self, index: u32, wait: RegWait) -> Result<()> {
        if index >= self.entries {
            return Err(Errno::INVAL);
        }
        // SAFETY: (S5, S4) `index` is inside the mapping (checked), which is
        // page-aligned, so every 64-byte entry is aligned. The kernel only
        // reads the region, during waits; a torn read by a wait on another
        // thread is the caller's race on plain data, not ours.
        unsafe { self.map.as_ptr().cast::<RegWait>().add(index as usize).write_volatile(wait) };
        Ok(())
    }

    /// Reads entry `index` back.
    pub fn get(&self, index: u32) -> Option<RegWait> {
        if index >= self.entries {
            return None;
        }
        // SAFETY: (S5, S4) as in `set`; every bit pattern is a valid `RegWait`.
        Some(unsafe { self.map.as_ptr().cast::<RegWait>().add(index as usize).read_volatile() })
    }
}

impl<H: RingHandle> Submitter<'_, H> {
    /// Registers a memory region (`IORING_REGISTER_MEM_REGION`, 6.13; no
    /// man page; kernel: `io_uring/register.c`).
    /// With `IORING_MEM_REGION_TYPE_USER` in `region.flags` the memory is
    /// the caller's; otherwise the kernel allocates it and writes
    /// `region.mmap_offset`, where the ring fd maps it (so a
    /// [`RegisteredRing`](crate::ring::RegisteredRing), which has no fd,
    /// can use only caller memory).
    ///
    /// # Safety
    /// Caller memory must stay valid, and not be unmapped, for as long as
    /// the ring lives: a region cannot be unregistered.
    pub unsafe fn register_mem_region(&self, region: &mut io_uring_region_desc, flags: MemRegionFlags) -> Result<()> {
        let reg = MemRegionReg { region_uptr: ptr::from_mut(region) as u64, flags: flags.bits(), resv: [0; 2] };
        // SAFETY: (S1, S2) `reg` points at `region`, which the kernel reads and
        // writes back during the call; the memory it names is the
        // caller's promise.
        unsafe { self.register_raw(sys::REGISTER_MEM_REGION, ptr::from_ref(&reg).cast(), 1) }?;
        Ok(())
    }
}

/// Mapping the kernel's region and waiting with it need the ring fd.
impl Submitter<'_> {
    /// Has the kernel allocate a region for `entries` wait arguments,
    /// registers it for waits (`MemRegionFlags::REG_WAIT_ARG`) and maps it
    /// (`IORING_REGISTER_MEM_REGION` with `IORING_MEM_REGION_REG_WAIT_ARG`,
    /// 6.13; no man page; kernel: `io_uring/register.c`). The ring must
    /// still be disabled (`EINVAL` otherwise).
    pub fn register_wait_region(&self, entries: u32) -> Result<WaitRegion> {
        let page = rustix::param::page_size();
        let bytes = (entries as usize).checked_mul(size_of::<RegWait>()).ok_or(Errno::INVAL)?;
        let size = bytes.checked_next_multiple_of(page).ok_or(Errno::INVAL)?;
        if size == 0 {
            return Err(Errno::INVAL);
        }
        let mut region = io_uring_region_desc { size: size as u64, ..Default::default() };
        // SAFETY: (S1) kernel-allocated memory: nothing of ours to keep alive.
        unsafe { self.register_mem_region(&mut region, MemRegionFlags::REG_WAIT_ARG) }?;
        let map = Mmap::new(self.handle.fd.as_fd(), region.mmap_offset, size)?;
        Ok(WaitRegion { map, entries: (size / size_of::<RegWait>()) as u32 })
    }

    /// Submits and waits for `want` completions with the wait arguments of
    /// entry `index` of the ring's wait region (`IORING_ENTER_EXT_ARG_REG`,
    /// 6.13; no man page; kernel: `io_uring/io_uring.c`).
    ///
    /// An index outside the region gives `EFAULT`, and so does a ring
    /// without a wait region (the kernel checks the index against a region
    /// of size 0); a timeout that expires, `ETIME`. A kernel before 6.13
    /// does not know the flag and answers `EINVAL`.
    pub fn submit_with_reg_wait(&self, want: usize, index: u32) -> Result<usize> {
        let offset = (index as usize).checked_mul(size_of::<RegWait>()).ok_or(Errno::FAULT)?;
        let extra = sys::ENTER_EXT_ARG | sys::ENTER_EXT_ARG_REG;
        // SAFETY: (S1) with EXT_ARG_REG the "pointer" is a byte offset into the
        // registered region, which the kernel bounds-checks; nothing of
        // ours is read. Entries in the SQ were pushed under `push`'s contract.
        unsafe { self.submit_inner(want, extra, offset as *const _, size_of::<RegWait>()) }
    }
}
