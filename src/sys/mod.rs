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
