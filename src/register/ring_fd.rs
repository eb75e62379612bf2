//! Registered ring fds: enter the ring through an index in the calling
//! thread's table instead of an fd, which skips the kernel's fd lookup
//! (`io_uring_register_ring_fd(3)`).

use core::ptr;

use rustix::fd::AsRawFd;
use rustix::io::{Errno, Result};

use crate::sys::{self, RsrcUpdate};
use crate::Submitter;

impl Submitter<'_> {
    /// Registers the ring fd in the calling thread's registered-ring table
    /// (`IORING_REGISTER_RING_FDS`, 5.18; `io_uring_register_ring_fd(3)`).
    /// From then on every `Submitter`
    /// of this ring enters through the index. `EEXIST` if the ring already
    /// has one.
    ///
    /// The table belongs to the calling thread: use the ring from this
    /// thread until [`unregister_ring_fd`](Self::unregister_ring_fd). On
    /// another thread the index names that thread's slot, which is usually
    /// empty (the enter then falls back to the fd) but may hold another
    /// ring that thread registered, which would then be entered instead.
    /// The kernel keeps the ring alive while it is registered, until the
    /// thread exits: unregister before dropping the ring.
    pub fn register_ring_fd(&mut self) -> Result<()> {
        if self.handle.ring_index.get().is_some() {
            return Err(Errno::EXIST);
        }
        let mut up = RsrcUpdate { offset: u32::MAX, resv: 0, data: self.handle.fd.as_raw_fd() as u64 };
        // SAFETY: (S1) one io_uring_rsrc_update that the kernel reads and writes
        // (the chosen index lands in `offset`).
        let n = unsafe { self.register_raw(sys::REGISTER_RING_FDS, ptr::from_mut(&mut up).cast_const().cast(), 1) }?;
        if n != 1 {
            return Err(Errno::IO);
        }
        self.handle.ring_index.set(Some(up.offset));
        Ok(())
    }

    /// Removes the ring from the calling thread's registered-ring table
    /// (`IORING_UNREGISTER_RING_FDS`, 5.18;
    /// `io_uring_unregister_ring_fd(3)`); enters go through the fd
    /// again. `EINVAL` if none is registered.
    pub fn unregister_ring_fd(&mut self) -> Result<()> {
        let index = self.handle.ring_index.get().ok_or(Errno::INVAL)?;
        let up = RsrcUpdate { offset: index, resv: 0, data: 0 };
        // SAFETY: (S1) one io_uring_rsrc_update naming the index.
        unsafe { self.register_raw(sys::UNREGISTER_RING_FDS, ptr::from_ref(&up).cast(), 1) }?;
        self.handle.ring_index.set(None);
        Ok(())
    }

    /// The registered ring index every enter uses, if one is registered.
    pub fn registered_ring_index(&self) -> Option<u32> {
        self.handle.ring_index.get()
    }
}
