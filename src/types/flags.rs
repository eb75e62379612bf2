//! Flag words of single operations that rustix has no type for:
//! [`TimeoutFlags`], [`FsyncFlags`], [`CloneBuffersFlags`].

use bitflags::bitflags;

use crate::sys;

bitflags! {
    /// How a timeout counts (`timeout_flags` of TIMEOUT, LINK_TIMEOUT and
    /// their updates; `io_uring_prep_timeout(3)`).
    ///
    /// `LINK_TIMEOUT_UPDATE` has the kernel's value, 16 (rustix-uring 0.6
    /// used 2, the bit every update sets anyway, so it could not work).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct TimeoutFlags: u32 {
        /// The timespec is an absolute time, not a duration.
        const ABS = sys::TIMEOUT_ABS;
        /// Count on `CLOCK_BOOTTIME` (5.15).
        const BOOTTIME = sys::TIMEOUT_BOOTTIME;
        /// Count on `CLOCK_REALTIME` (5.15).
        const REALTIME = sys::TIMEOUT_REALTIME;
        /// The update targets a linked timeout (5.15).
        const LINK_TIMEOUT_UPDATE = sys::TIMEOUT_LINK_TIMEOUT_UPDATE;
        /// Expiry does not count as a failure that breaks an `IO_LINK`
        /// chain; the result is still `-ETIME` (5.16).
        const ETIME_SUCCESS = sys::TIMEOUT_ETIME_SUCCESS;
        /// Fire repeatedly: every period posts a CQE with `F_MORE`; the
        /// count is the number of expirations, 0 for "until removed" (6.4).
        const MULTISHOT = sys::TIMEOUT_MULTISHOT;
        /// `addr` holds the timeout in nanoseconds, not a pointer to a
        /// timespec (7.1; older kernels fail the entry with `-EINVAL`).
        /// Set by [`Timeout::nanos`](crate::opcode::Timeout::nanos) and
        /// [`LinkTimeout::nanos`](crate::opcode::LinkTimeout::nanos), which
        /// keep it set whatever [`flags`](crate::opcode::Timeout::flags) says.
        const IMMEDIATE_ARG = sys::TIMEOUT_IMMEDIATE_ARG;
    }
}

bitflags! {
    /// `fsync_flags` of FSYNC (`io_uring_prep_fsync(3)`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct FsyncFlags: u32 {
        /// Like `fdatasync(2)`: skip metadata not needed to read the data.
        const DATASYNC = sys::FSYNC_DATASYNC;
    }
}

bitflags! {
    /// How [`register_buffers_clone_offset`](crate::Submitter::register_buffers_clone_offset)
    /// copies (`io_uring_clone_buffers.flags`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct CloneBuffersFlags: u32 {
        /// The source is a registered ring index, not an fd (6.12).
        const SRC_REGISTERED = sys::REGISTER_SRC_REGISTERED;
        /// Existing destination slots may be replaced (6.13).
        const DST_REPLACE = sys::REGISTER_DST_REPLACE;
    }
}
