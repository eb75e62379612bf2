//! NAPI busy polling of network receive queues while waiting for
//! completions (`IORING_REGISTER_NAPI`, 6.9).

use core::ptr;

use rustix::io::Result;

use crate::submit::RingHandle;
use crate::sys;
use crate::types::Napi;
use crate::Submitter;

impl<H: RingHandle> Submitter<'_, H> {
    /// Turns NAPI busy polling on with `napi`'s settings; the previous
    /// settings are written back into `napi` (`IORING_REGISTER_NAPI`, 6.9;
    /// no man page; kernel: `io_uring/napi.c`).
    pub fn register_napi(&self, napi: &mut Napi) -> Result<()> {
        // SAFETY: (S1) the kernel reads and writes one io_uring_napi at `napi`.
        unsafe { self.register_raw(sys::REGISTER_NAPI, ptr::from_mut(napi).cast_const().cast(), 1) }?;
        Ok(())
    }

    /// Turns NAPI busy polling off; the settings it had are written into
    /// `napi` (`IORING_UNREGISTER_NAPI`, 6.9; no man page; kernel:
    /// `io_uring/napi.c`).
    pub fn unregister_napi(&self, napi: &mut Napi) -> Result<()> {
        // SAFETY: (S1) as for register_napi.
        unsafe { self.register_raw(sys::UNREGISTER_NAPI, ptr::from_mut(napi).cast_const().cast(), 1) }?;
        Ok(())
    }

    /// Adds NAPI id `napi_id` to a ring in static tracking mode
    /// (`IORING_REGISTER_NAPI` with `IO_URING_NAPI_STATIC_ADD_ID`, 6.13; no
    /// man page; kernel: `io_uring/napi.c`).
    pub fn register_napi_add_id(&self, napi_id: u32) -> Result<()> {
        self.napi_static(sys::NAPI_STATIC_ADD_ID, napi_id)
    }

    /// Removes NAPI id `napi_id` from a ring in static tracking mode
    /// (`IORING_REGISTER_NAPI` with `IO_URING_NAPI_STATIC_DEL_ID`, 6.13; no
    /// man page; kernel: `io_uring/napi.c`).
    pub fn register_napi_del_id(&self, napi_id: u32) -> Result<()> {
        self.napi_static(sys::NAPI_STATIC_DEL_ID, napi_id)
    }

    fn napi_static(&self, opcode: u8, napi_id: u32) -> Result<()> {
        let mut napi = Napi::new();
        napi.0.opcode = opcode;
        napi.0.op_param = napi_id;
        // SAFETY: (S1) as for register_napi.
        unsafe { self.register_raw(sys::REGISTER_NAPI, ptr::from_mut(&mut napi).cast_const().cast(), 1) }?;
        Ok(())
    }
}
