//! The kernel ABI as this crate needs it, and the only module that talks to
//! rustix's io_uring layer.
//!
//! - [`abi`]: our `#[repr(C)]` structs where rustix lacks or mis-types them,
//!   each with size and offset assertions.
//! - [`consts`]: the kernel's numbers.
//! - [`syscall`]: `io_uring_setup`, `io_uring_enter`, `io_uring_register`.
//! - [`rsrc`]: argument structs of file and buffer registration.
//! - [`mmap`]: mapping and unmapping ring memory, through rustix.

pub(crate) mod abi;
pub(crate) mod consts;
pub(crate) mod mmap;
pub(crate) mod rsrc;
pub(crate) mod syscall;

pub(crate) use abi::*;
pub(crate) use consts::*;
pub(crate) use rsrc::*;

// The ring's head and tail words are `AtomicU32`, a buffer ring's tail an
// `AtomicU16` (no 64-bit atomics anywhere, so armv7 and other 32-bit
// targets need nothing they lack): say so where a target cannot.
#[cfg(not(all(target_has_atomic = "32", target_has_atomic = "16")))]
compile_error!("urix needs native 16- and 32-bit atomics (the kernel shares ring indices through them)");
