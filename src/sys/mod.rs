//! The kernel ABI as this crate needs it, and the only module that talks to
//! rustix's io_uring layer.
//!
//! - [`abi`]: our `#[repr(C)]` structs where rustix lacks or mis-types them,
//!   each with size and offset assertions.
//! - [`consts`]: the kernel's numbers.
//! - [`syscall`]: `io_uring_setup`, `io_uring_enter`, `io_uring_register`.
//! - [`rsrc`]: argument structs of file and buffer registration.
//! - [`mmap`]: mapping and unmapping ring memory, through rustix.
//!
//! # System-call invariants
//!
//! An `unsafe` block that touches neither ring memory (`R1`..`R6` in
//! `ring/mod.rs`) nor a buffer ring (`B1`..`B6` in `buf_ring/mod.rs`)
//! names one of these (doc examples name `P1`..`P3`, push's contract in
//! the crate docs):
//!
//! - **S1 (call arguments)**: a pointer given to `io_uring_setup`,
//!   `io_uring_enter` or `io_uring_register` points to memory of the
//!   layout that the opcode and `nr_args`/`argsz` call for (the sizes and
//!   offsets of our structs are asserted in `abi.rs`), valid for what the
//!   kernel reads or writes during the call. An argument the crate builds
//!   for the call, or a null pointer with a count of 0, meets this by
//!   construction; otherwise the caller of the `unsafe fn` promised it and
//!   the block passes the promise on unchanged.
//! - **S2 (memory the kernel keeps)**: memory the kernel goes on using
//!   after the call returns (what queued entries point at, registered
//!   buffers, buffer rings, memory regions, zcrx areas, `NO_MMAP` rings)
//!   is the promise of the public `unsafe fn` that took it (`push`,
//!   `register_buffers`, `BufRing::register`, `setup_no_mmap`, ...), as
//!   its `# Safety` says; the crate only passes it on.
//! - **S3 (fds)**: the fd a successful `io_uring_setup` returns is new and
//!   owned by nobody else, as is one a caller hands over with a promise of
//!   ownership; a ring fd or registered ring index lent to rustix as a
//!   `BorrowedFd` is never closed or duplicated by it, and stays open
//!   while the ring lives (R1).
//! - **S4 (plain data)**: the ABI structs (ours, and rustix's
//!   `io_uring_params`, `MsgHdr`, `SocketAddrStorage`, ...) are `repr(C)`
//!   integers and pointers: all-zero bytes, and any bytes the kernel
//!   writes, are valid values of them, and a struct of ours without
//!   padding (asserted in `abi.rs`) has every byte initialised. A
//!   `MaybeUninit<T>` has the layout of `T`.
//! - **S5 (mappings)**: an `Mmap` comes from `mmap` at an address the
//!   kernel chose, so it aliases no Rust object; it is advised and
//!   unmapped only as a whole, and unmapped once, in its `Drop`, after
//!   everything that borrowed it (R1 ties every view to the ring).
//! - **S6 (the syscall instruction)**: the inline `asm!` follows the
//!   architecture's system-call convention: number and arguments in the
//!   documented registers, every register the kernel clobbers declared, no
//!   stack use; a register the compiler reserves but the convention needs
//!   (r7, the frame pointer of 32-bit ARM's Thumb code) is saved in a
//!   declared scratch register and restored within the same block.

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
