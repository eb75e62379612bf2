//! Memory regions shared with the kernel (`IORING_REGISTER_MEM_REGION`,
//! 6.13) and the wait arguments that live in them ([`RegWait`]).

use crate::sys::KernelTimespec;
use crate::types::Timespec;

/// `struct io_uring_region_desc`: where a memory region is, or (for
/// kernel-allocated memory) where to map it. Used by
/// [`Submitter::register_mem_region`](crate::Submitter::register_mem_region)
/// and zero-copy receive.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct io_uring_region_desc {
    /// With `IORING_MEM_REGION_TYPE_USER`: the region's first byte
    /// (page-aligned).
    pub user_addr: u64,
    /// The region's size in bytes (a multiple of the page size).
    pub size: u64,
    /// `IORING_MEM_REGION_TYPE_USER` or 0 (the kernel allocates).
    pub flags: u32,
    /// Must be 0.
    pub id: u32,
    /// Written by the kernel for kernel-allocated memory: the offset at
    /// which to `mmap` the ring fd.
    pub mmap_offset: u64,
    /// Must be 0.
    pub __resv: [u64; 4],
}

bitflags::bitflags! {
    /// `io_uring_mem_region_reg` flags: what a region is for.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct MemRegionFlags: u64 {
        /// `IORING_MEM_REGION_REG_WAIT_ARG`: the region holds [`RegWait`]
        /// entries for [`Submitter::submit_with_reg_wait`](crate::Submitter::submit_with_reg_wait).
        /// Only a ring still disabled (`setup_r_disabled`) accepts it.
        const REG_WAIT_ARG = crate::sys::MEM_REGION_REG_WAIT_ARG;
    }
}

/// `struct io_uring_reg_wait`: the arguments of one wait, kept in a
/// registered region so that a wait passes only an index
/// (`IORING_ENTER_EXT_ARG_REG`, 6.13).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegWait {
    ts: KernelTimespec,
    min_wait_usec: u32,
    flags: u32,
    sigmask: u64,
    sigmask_sz: u32,
    pad: [u32; 3],
    pad2: [u64; 2],
}

impl RegWait {
    /// No timeout, no minimum wait, no signal mask.
    #[inline]
    pub const fn new() -> Self {
        RegWait {
            ts: KernelTimespec { tv_sec: 0, tv_nsec: 0 },
            min_wait_usec: 0,
            flags: 0,
            sigmask: 0,
            sigmask_sz: 0,
            pad: [0; 3],
            pad2: [0; 2],
        }
    }

    /// Waits at most `timeout` (`IORING_REG_WAIT_TS`); the wait then ends
    /// with `ETIME`.
    #[inline]
    pub const fn timeout(mut self, timeout: Timespec) -> Self {
        self.ts = timeout.0;
        self.flags |= crate::sys::REG_WAIT_TS;
        self
    }

    /// Waits at least this long for the wanted number of completions before
    /// returning with fewer (FEAT_MIN_TIMEOUT, 6.12).
    #[inline]
    pub const fn min_wait_usec(mut self, usec: u32) -> Self {
        self.min_wait_usec = usec;
        self
    }

    /// The signal mask during the wait, as the address of a kernel sigset
    /// that must be readable whenever a wait uses this entry (the kernel
    /// reads it then; a bad address gives `EFAULT`).
    #[inline]
    pub fn sigmask(mut self, set: *const rustix::io_uring::KernelSigSet) -> Self {
        self.sigmask = set as u64;
        self.sigmask_sz = crate::sys::KERNEL_SIGSET_SIZE;
        self
    }
}

static_assertions::assert_eq_size!(io_uring_region_desc, [u8; 64]);
static_assertions::assert_eq_size!(RegWait, [u8; 64]);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_region_desc, mmap_offset), 24);
static_assertions::const_assert_eq!(core::mem::offset_of!(RegWait, min_wait_usec), 16);
static_assertions::const_assert_eq!(core::mem::offset_of!(RegWait, sigmask), 24);
static_assertions::const_assert_eq!(core::mem::offset_of!(RegWait, sigmask_sz), 32);
