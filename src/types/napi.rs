//! [`Napi`]: NAPI busy-poll settings for
//! [`Submitter::register_napi`](crate::Submitter::register_napi).

use crate::sys::{self, RawNapi};

/// NAPI busy-poll settings (`struct io_uring_napi`, 6.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Napi(pub(crate) RawNapi);

/// How the ring finds the NAPI instances to poll (6.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NapiTracking {
    /// Learned from the sockets the ring's operations use.
    Dynamic,
    /// Only ids added with
    /// [`Submitter::register_napi_add_id`](crate::Submitter::register_napi_add_id).
    Static,
    /// No tracking.
    Inactive,
}

impl Napi {
    /// Busy polling off, dynamic tracking.
    #[inline]
    pub const fn new() -> Self {
        Napi(RawNapi {
            busy_poll_to: 0,
            prefer_busy_poll: 0,
            opcode: sys::NAPI_REGISTER_OP,
            pad: [0; 2],
            op_param: sys::NAPI_TRACKING_DYNAMIC,
            resv: 0,
        })
    }

    /// Busy-poll for up to `micros` microseconds.
    #[inline]
    pub const fn set_busy_poll_timeout(mut self, micros: u32) -> Self {
        self.0.busy_poll_to = micros;
        self
    }

    /// Prefer busy polling over interrupts (`SO_PREFER_BUSY_POLL`).
    #[inline]
    pub const fn set_prefer_busy_poll(mut self, enabled: bool) -> Self {
        self.0.prefer_busy_poll = enabled as u8;
        self
    }

    /// How NAPI ids are found (6.13).
    #[inline]
    pub const fn set_tracking(mut self, strategy: NapiTracking) -> Self {
        self.0.op_param = match strategy {
            NapiTracking::Dynamic => sys::NAPI_TRACKING_DYNAMIC,
            NapiTracking::Static => sys::NAPI_TRACKING_STATIC,
            NapiTracking::Inactive => sys::NAPI_TRACKING_INACTIVE,
        };
        self
    }

    /// The busy-poll timeout in microseconds.
    #[inline]
    pub const fn busy_poll_timeout(&self) -> u32 {
        self.0.busy_poll_to
    }

    /// Whether busy polling is preferred.
    #[inline]
    pub const fn prefer_busy_poll(&self) -> bool {
        self.0.prefer_busy_poll != 0
    }
}

impl Default for Napi {
    fn default() -> Self {
        Self::new()
    }
}
