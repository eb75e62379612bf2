//! Registered buffers ("fixed buffers"): memory the kernel pins once and
//! operations name by index (`io_uring_register_buffers(3)`).

use core::mem::size_of;
use core::ptr;

use rustix::io::Result;
use rustix::io_uring::iovec;

use rustix::fd::RawFd;

use crate::submit::RingHandle;
use crate::sys::{self, CloneBuffers, RsrcRegister, RsrcUpdate2};
use crate::types::CloneBuffersFlags;
use crate::Submitter;

/// `nr` for a table and its optional tags: the tags, when given, must be
/// as many as the entries.
pub(super) fn count_with_tags<T>(items: &[T], tags: Option<&[u64]>) -> Result<u32> {
    if tags.is_some_and(|t| t.len() != items.len()) {
        return Err(rustix::io::Errno::INVAL);
    }
    u32::try_from(items.len()).map_err(|_| rustix::io::Errno::INVAL)
}

/// The tag array pointer of an optional tag slice (0 = untagged).
pub(super) fn tags_addr(tags: Option<&[u64]>) -> u64 {
    tags.map_or(0, |t| t.as_ptr() as u64)
}

impl<H: RingHandle> Submitter<'_, H> {
    /// Registers `bufs` as the buffer table (`IORING_REGISTER_BUFFERS`, 5.1;
    /// `io_uring_register_buffers(3)`).
    ///
    /// # Safety
    /// Each buffer must stay valid (not freed, not unmapped) until it is
    /// unregistered or the ring is dropped, and beyond that until every
    /// fixed read or write using it has completed (see
    /// [`SubmissionQueue::push`](crate::SubmissionQueue::push)): they
    /// access it through the kernel's pinned pages.
    pub unsafe fn register_buffers(&self, bufs: &[iovec]) -> Result<()> {
        let nr = u32::try_from(bufs.len()).map_err(|_| rustix::io::Errno::INVAL)?;
        // SAFETY: (S1, S2) the kernel reads `nr` iovecs; their memory is the caller's
        // promise.
        unsafe { self.register_raw(sys::REGISTER_BUFFERS, bufs.as_ptr().cast(), nr) }?;
        Ok(())
    }

    /// Registers `bufs` with one tag each (`IORING_REGISTER_BUFFERS2`,
    /// 5.13; `io_uring_register(2)`). When a tagged buffer leaves the table
    /// (update, unregister) and the kernel is done with it, a CQE with
    /// `user_data` = its tag and result 0 is posted; tag 0 posts nothing.
    /// `EINVAL` if the lengths differ.
    ///
    /// # Safety
    /// As for [`register_buffers`](Self::register_buffers).
    pub unsafe fn register_buffers2(&self, bufs: &[iovec], tags: &[u64]) -> Result<()> {
        let nr = count_with_tags(bufs, Some(tags))?;
        let reg = RsrcRegister { nr, flags: 0, resv2: 0, data: bufs.as_ptr() as u64, tags: tags.as_ptr() as u64 };
        // SAFETY: (S1, S2) `reg` names `nr` iovecs and tags; the buffers' lifetime
        // is the caller's promise.
        unsafe {
            self.register_raw(sys::REGISTER_BUFFERS2, ptr::from_ref(&reg).cast(), size_of::<RsrcRegister>() as u32)
        }?;
        Ok(())
    }

    /// Replaces buffer slots `offset..offset + bufs.len()`, optionally
    /// tagging the new ones (`IORING_REGISTER_BUFFERS_UPDATE`, 5.13;
    /// `io_uring_register(2)`). An iovec with a null base empties its slot.
    /// `EINVAL` if the lengths differ.
    ///
    /// # Safety
    /// As for [`register_buffers`](Self::register_buffers).
    pub unsafe fn register_buffers_update(&self, offset: u32, bufs: &[iovec], tags: Option<&[u64]>) -> Result<()> {
        let nr = count_with_tags(bufs, tags)?;
        let up = RsrcUpdate2 { offset, resv: 0, data: bufs.as_ptr() as u64, tags: tags_addr(tags), nr, resv2: 0 };
        // SAFETY: (S1, S2) `up` names `nr` iovecs (and tags); the buffers' lifetime
        // is the caller's promise.
        unsafe {
            self.register_raw(sys::REGISTER_BUFFERS_UPDATE, ptr::from_ref(&up).cast(), size_of::<RsrcUpdate2>() as u32)
        }?;
        Ok(())
    }

    /// Copies the whole buffer table of the ring `src_fd` into this ring's
    /// empty table (`IORING_REGISTER_CLONE_BUFFERS`, 6.12; no man page;
    /// kernel: `io_uring/rsrc.c`).
    pub fn register_buffers_clone(&self, src_fd: RawFd) -> Result<()> {
        self.register_buffers_clone_offset(src_fd, 0, 0, 0, CloneBuffersFlags::empty())
    }

    /// Copies `nr` buffers (0 = all) from slot `src_off` of ring `src_fd`
    /// to slot `dst_off` of this ring (`IORING_REGISTER_CLONE_BUFFERS`,
    /// ranges 6.13; no man page; kernel: `io_uring/rsrc.c`). With
    /// [`CloneBuffersFlags::DST_REPLACE`] (6.13) existing destination slots
    /// may be replaced; with [`CloneBuffersFlags::SRC_REGISTERED`] (6.12)
    /// `src_fd` is a registered ring index.
    pub fn register_buffers_clone_offset(
        &self,
        src_fd: RawFd,
        src_off: u32,
        dst_off: u32,
        nr: u32,
        flags: CloneBuffersFlags,
    ) -> Result<()> {
        let arg = CloneBuffers { src_fd: src_fd as u32, flags: flags.bits(), src_off, dst_off, nr, pad: [0; 3] };
        // SAFETY: (S1) `arg` is a valid io_uring_clone_buffers; nr_args is 1.
        unsafe { self.register_raw(sys::REGISTER_CLONE_BUFFERS, ptr::from_ref(&arg).cast(), 1) }?;
        Ok(())
    }

    /// Registers a table of `nr` empty buffer slots
    /// (`IORING_REGISTER_BUFFERS2` with `IORING_RSRC_REGISTER_SPARSE`, 5.19;
    /// `io_uring_register_buffers(3)`, which describes
    /// `io_uring_register_buffers_sparse`).
    pub fn register_buffers_sparse(&self, nr: u32) -> Result<()> {
        let reg = RsrcRegister { nr, flags: sys::RSRC_REGISTER_SPARSE, ..Default::default() };
        // SAFETY: (S1) `reg` is a valid io_uring_rsrc_register; nr_args is its size.
        unsafe {
            self.register_raw(sys::REGISTER_BUFFERS2, ptr::from_ref(&reg).cast(), size_of::<RsrcRegister>() as u32)
        }?;
        Ok(())
    }

    /// Drops the buffer table (`IORING_UNREGISTER_BUFFERS`, 5.1;
    /// `io_uring_unregister_buffers(3)`).
    pub fn unregister_buffers(&self) -> Result<()> {
        // SAFETY: (S1) no argument.
        unsafe { self.register_raw(sys::UNREGISTER_BUFFERS, ptr::null(), 0) }?;
        Ok(())
    }
}
