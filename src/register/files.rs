//! Registered files ("fixed files"): a table of fds the ring holds, named
//! by index with [`Fixed`](crate::types::Fixed) (`io_uring_register_files(3)`).

use core::mem::size_of;
use core::ptr;

use rustix::fd::RawFd;
use rustix::io::Result;

use super::buffers::{count_with_tags, tags_addr};
use crate::submit::RingHandle;
use crate::sys::{self, FileIndexRange, RsrcRegister, RsrcUpdate, RsrcUpdate2};
use crate::Submitter;

impl<H: RingHandle> Submitter<'_, H> {
    /// Registers `fds` as the file table; -1 leaves a slot empty
    /// (`IORING_REGISTER_FILES`, 5.1; `io_uring_register_files(3)`).
    pub fn register_files(&self, fds: &[RawFd]) -> Result<()> {
        let nr = u32::try_from(fds.len()).map_err(|_| rustix::io::Errno::INVAL)?;
        // SAFETY: (S1) the kernel reads `nr` i32s from `fds`, which is that long.
        unsafe { self.register_raw(sys::REGISTER_FILES, fds.as_ptr().cast(), nr) }?;
        Ok(())
    }

    /// Registers a table of `nr` empty slots, to be filled by updates or by
    /// operations that create direct descriptors
    /// (`IORING_REGISTER_FILES2` with `IORING_RSRC_REGISTER_SPARSE`, 5.19;
    /// `io_uring_register_files_sparse(3)`).
    pub fn register_files_sparse(&self, nr: u32) -> Result<()> {
        let reg = RsrcRegister { nr, flags: sys::RSRC_REGISTER_SPARSE, ..Default::default() };
        // SAFETY: (S1) `reg` is a valid io_uring_rsrc_register; nr_args is its size.
        unsafe {
            self.register_raw(sys::REGISTER_FILES2, ptr::from_ref(&reg).cast(), size_of::<RsrcRegister>() as u32)
        }?;
        Ok(())
    }

    /// Replaces slots `offset..offset + fds.len()`; -1 empties a slot and
    /// [`SKIP_FILE`](crate::register::SKIP_FILE) keeps it
    /// (`IORING_REGISTER_FILES_UPDATE`, 5.5; `io_uring_register(2)`).
    /// Returns the number updated.
    pub fn register_files_update(&self, offset: u32, fds: &[RawFd]) -> Result<usize> {
        let nr = u32::try_from(fds.len()).map_err(|_| rustix::io::Errno::INVAL)?;
        let up = RsrcUpdate { offset, resv: 0, data: fds.as_ptr() as u64 };
        // SAFETY: (S1) `up` names `nr` readable i32s.
        let n = unsafe { self.register_raw(sys::REGISTER_FILES_UPDATE, ptr::from_ref(&up).cast(), nr) }?;
        Ok(n as usize)
    }

    /// Registers `fds` with one tag each (`IORING_REGISTER_FILES2`, 5.13;
    /// `io_uring_register(2)`).
    /// When a tagged file leaves the table and the kernel is done with it,
    /// a CQE with `user_data` = its tag and result 0 is posted; tag 0 posts
    /// nothing. `EINVAL` if the lengths differ.
    pub fn register_files2(&self, fds: &[RawFd], tags: &[u64]) -> Result<()> {
        let nr = count_with_tags(fds, Some(tags))?;
        let reg = RsrcRegister { nr, flags: 0, resv2: 0, data: fds.as_ptr() as u64, tags: tags.as_ptr() as u64 };
        // SAFETY: (S1) `reg` names `nr` i32s and `nr` tags.
        unsafe {
            self.register_raw(sys::REGISTER_FILES2, ptr::from_ref(&reg).cast(), size_of::<RsrcRegister>() as u32)
        }?;
        Ok(())
    }

    /// Replaces slots `offset..offset + fds.len()`, optionally tagging the
    /// new files (`IORING_REGISTER_FILES_UPDATE2`, 5.13;
    /// `io_uring_register(2)`). Returns the number updated. `EINVAL` if the
    /// lengths differ.
    pub fn register_files_update2(&self, offset: u32, fds: &[RawFd], tags: Option<&[u64]>) -> Result<usize> {
        let nr = count_with_tags(fds, tags)?;
        let up = RsrcUpdate2 { offset, resv: 0, data: fds.as_ptr() as u64, tags: tags_addr(tags), nr, resv2: 0 };
        // SAFETY: (S1) `up` names `nr` i32s (and tags).
        let n = unsafe {
            self.register_raw(sys::REGISTER_FILES_UPDATE2, ptr::from_ref(&up).cast(), size_of::<RsrcUpdate2>() as u32)
        }?;
        Ok(n as usize)
    }

    /// Limits the slots the kernel picks for
    /// [`DestinationSlot::auto_target`](crate::types::DestinationSlot::auto_target)
    /// to `offset..offset + len` (`IORING_REGISTER_FILE_ALLOC_RANGE`, 6.0;
    /// `io_uring_register_file_alloc_range(3)`).
    pub fn register_file_alloc_range(&self, offset: u32, len: u32) -> Result<()> {
        let range = FileIndexRange { off: offset, len, resv: 0 };
        // SAFETY: (S1) `range` is a valid io_uring_file_index_range; the kernel
        // wants nr_args 0 (KERNEL-ABI.md table (b)).
        unsafe { self.register_raw(sys::REGISTER_FILE_ALLOC_RANGE, ptr::from_ref(&range).cast(), 0) }?;
        Ok(())
    }

    /// Drops the file table (`IORING_UNREGISTER_FILES`, 5.1;
    /// `io_uring_unregister_files(3)`).
    pub fn unregister_files(&self) -> Result<()> {
        // SAFETY: (S1) no argument.
        unsafe { self.register_raw(sys::UNREGISTER_FILES, ptr::null(), 0) }?;
        Ok(())
    }
}

/// The fd value that leaves a slot unchanged in
/// [`register_files_update`](Submitter::register_files_update)
/// (`IORING_REGISTER_FILES_SKIP`, 5.12).
pub const SKIP_FILE: RawFd = -2;
// Written out so that the docs show the number, not a private name.
static_assertions::const_assert_eq!(SKIP_FILE, sys::REGISTER_FILES_SKIP);
