//! [`Parameters`]: what the kernel chose and supports for a ring.

use crate::sys::{self, Params};

/// The `io_uring_params` the kernel filled in at setup: the sizes it
/// chose, the setup flags in force and the features it supports.
///
/// Each `is_feature_*` names an `IORING_FEAT_*` bit and the kernel that
/// introduced it; an older kernel reports the bit clear.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Parameters(pub(crate) Params);

macro_rules! bit_getters {
    ($field:ident: $($(#[$doc:meta])* $name:ident = $bit:path;)*) => {
        $(
            $(#[$doc])*
            #[inline]
            pub fn $name(&self) -> bool {
                self.0.$field & $bit != 0
            }
        )*
    };
}

impl Parameters {
    bit_getters! { flags:
        /// `IORING_SETUP_SQPOLL` is in force.
        is_setup_sqpoll = sys::SETUP_SQPOLL;
        /// `IORING_SETUP_IOPOLL` is in force.
        is_setup_iopoll = sys::SETUP_IOPOLL;
        /// `IORING_SETUP_SINGLE_ISSUER` is in force.
        is_setup_single_issuer = sys::SETUP_SINGLE_ISSUER;
        /// `IORING_SETUP_DEFER_TASKRUN` is in force.
        is_setup_defer_taskrun = sys::SETUP_DEFER_TASKRUN;
        /// `IORING_SETUP_NO_SQARRAY` is in force.
        is_setup_no_sqarray = sys::SETUP_NO_SQARRAY;
        /// `IORING_SETUP_SQ_REWIND` (7.0) is in force: each submission is
        /// a batch written from SQ slot 0.
        is_setup_sq_rewind = sys::SETUP_SQ_REWIND;
        /// `IORING_SETUP_NO_MMAP` is in force.
        is_setup_no_mmap = sys::SETUP_NO_MMAP;
        /// `IORING_SETUP_SQE128` is in force.
        is_setup_sqe128 = sys::SETUP_SQE128;
        /// `IORING_SETUP_CQE32` is in force.
        is_setup_cqe32 = sys::SETUP_CQE32;
        /// `IORING_SETUP_CQE_MIXED` (6.18) is in force.
        is_setup_cqe_mixed = sys::SETUP_CQE_MIXED;
        /// `IORING_SETUP_SQE_MIXED` (6.19) is in force.
        is_setup_sqe_mixed = sys::SETUP_SQE_MIXED;
        /// `IORING_SETUP_REGISTERED_FD_ONLY` (6.5) is in force.
        is_setup_registered_fd_only = sys::SETUP_REGISTERED_FD_ONLY;
    }

    bit_getters! { features:
        /// `IORING_FEAT_SINGLE_MMAP` (5.4): SQ and CQ rings share one mapping.
        is_feature_single_mmap = sys::FEAT_SINGLE_MMAP;
        /// `IORING_FEAT_NODROP` (5.5): overflowing completions are kept, not dropped.
        is_feature_nodrop = sys::FEAT_NODROP;
        /// `IORING_FEAT_SUBMIT_STABLE` (5.5): SQE data is consumed at submit time.
        is_feature_submit_stable = sys::FEAT_SUBMIT_STABLE;
        /// `IORING_FEAT_RW_CUR_POS` (5.6): offset -1 means the file position.
        is_feature_rw_cur_pos = sys::FEAT_RW_CUR_POS;
        /// `IORING_FEAT_CUR_PERSONALITY` (5.6): requests run with the submitter's credentials.
        is_feature_cur_personality = sys::FEAT_CUR_PERSONALITY;
        /// `IORING_FEAT_FAST_POLL` (5.7): internal polling instead of worker threads.
        is_feature_fast_poll = sys::FEAT_FAST_POLL;
        /// `IORING_FEAT_POLL_32BITS` (5.9): 32-bit poll masks.
        is_feature_poll_32bits = sys::FEAT_POLL_32BITS;
        /// `IORING_FEAT_SQPOLL_NONFIXED` (5.11): SQPOLL works with plain fds.
        is_feature_sqpoll_nonfixed = sys::FEAT_SQPOLL_NONFIXED;
        /// `IORING_FEAT_EXT_ARG` (5.11): `io_uring_getevents_arg` for waits.
        is_feature_ext_arg = sys::FEAT_EXT_ARG;
        /// `IORING_FEAT_NATIVE_WORKERS` (5.12): workers are threads of the task.
        is_feature_native_workers = sys::FEAT_NATIVE_WORKERS;
        /// `IORING_FEAT_RSRC_TAGS` (5.13): tagged, updatable resources.
        is_feature_resource_tagging = sys::FEAT_RSRC_TAGS;
        /// `IORING_FEAT_CQE_SKIP` (5.17): `IOSQE_CQE_SKIP_SUCCESS`.
        is_feature_skip_cqe_on_success = sys::FEAT_CQE_SKIP;
        /// `IORING_FEAT_LINKED_FILE` (5.17): file assignment deferred in links.
        is_feature_linked_file = sys::FEAT_LINKED_FILE;
        /// `IORING_FEAT_REG_REG_RING` (6.3): register through a registered ring fd.
        is_feature_reg_reg_ring = sys::FEAT_REG_REG_RING;
        /// `IORING_FEAT_RECVSEND_BUNDLE` (6.10): bundled send and receive.
        is_feature_recvsend_bundle = sys::FEAT_RECVSEND_BUNDLE;
        /// `IORING_FEAT_MIN_TIMEOUT` (6.12): `min_wait_usec` is honoured.
        is_feature_min_timeout = sys::FEAT_MIN_TIMEOUT;
        /// `IORING_FEAT_RW_ATTR` (6.15): read/write attributes (PI metadata).
        is_feature_rw_attr = sys::FEAT_RW_ATTR;
        /// `IORING_FEAT_NO_IOWAIT` (6.15): `IORING_ENTER_NO_IOWAIT` is accepted.
        is_feature_no_iowait = sys::FEAT_NO_IOWAIT;
    }

    /// Number of SQ slots the kernel allocated.
    #[inline]
    pub fn sq_entries(&self) -> u32 {
        self.0.sq_entries
    }

    /// Number of CQ slots the kernel allocated.
    #[inline]
    pub fn cq_entries(&self) -> u32 {
        self.0.cq_entries
    }

    /// SQPOLL idle time in milliseconds, as set up.
    #[inline]
    pub fn sq_thread_idle(&self) -> u32 {
        self.0.sq_thread_idle
    }

    /// The raw `IORING_SETUP_*` flags in force.
    #[inline]
    pub fn setup_flags(&self) -> u32 {
        self.0.flags
    }

    /// The raw `IORING_FEAT_*` bits the kernel reported.
    #[inline]
    pub fn features(&self) -> u32 {
        self.0.features
    }
}

impl core::fmt::Debug for Parameters {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Parameters")
            .field("sq_entries", &self.0.sq_entries)
            .field("cq_entries", &self.0.cq_entries)
            .field("setup_flags", &format_args!("{:#x}", self.0.flags))
            .field("features", &format_args!("{:#x}", self.0.features))
            .field("is_setup_sqpoll", &self.is_setup_sqpoll())
            .field("is_setup_iopoll", &self.is_setup_iopoll())
            .field("is_setup_single_issuer", &self.is_setup_single_issuer())
            .field("is_feature_single_mmap", &self.is_feature_single_mmap())
            .field("is_feature_nodrop", &self.is_feature_nodrop())
            .field("is_feature_submit_stable", &self.is_feature_submit_stable())
            .field("is_feature_rw_cur_pos", &self.is_feature_rw_cur_pos())
            .field("is_feature_cur_personality", &self.is_feature_cur_personality())
            .field("is_feature_poll_32bits", &self.is_feature_poll_32bits())
            .finish()
    }
}
