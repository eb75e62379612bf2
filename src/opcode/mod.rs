//! Operation builders: one plain struct per kernel operation, each with
//! `new(required...)`, optional setters and `build()` into a submission
//! [`Entry`].
//!
//! Every builder starts from an all-zero SQE, sets its opcode and writes
//! only the fields its operation reads (KERNEL-ABI.md table (a)), so the
//! builder files need no `unsafe`. Each builder's `CODE` is the raw opcode
//! number, which [`Probe::is_supported`](crate::Probe::is_supported) takes.

/// Generates the optional setters of a builder: one `const fn` per field,
/// taking and returning the builder by value, with the given doc lines.
macro_rules! setters {
    ($($(#[$doc:meta])* $field:ident: $ty:ty;)*) => {
        $(
            $(#[$doc])*
            #[inline]
            pub const fn $field(mut self, $field: $ty) -> Self {
                self.$field = $field;
                self
            }
        )*
    };
}

mod buffers;
mod cancel;
mod cmd;
mod file;
mod fs;
mod futex;
mod misc;
mod msg_ring;
mod net;
mod pipe;
mod poll;
mod recv;
mod rw;
mod send;
mod timeout;
mod xattr;

pub use buffers::*;
pub use cancel::*;
pub use cmd::*;
pub use file::*;
pub use fs::*;
pub use futex::*;
pub use misc::*;
pub use msg_ring::*;
pub use net::*;
pub use pipe::*;
pub use poll::*;
pub use recv::*;
pub use rw::*;
pub use send::*;
pub use timeout::*;
pub use xattr::*;

use crate::squeue::{Entry, Flags};
use crate::sys::Sqe;
use crate::types::sealed::Target;

/// An all-zero SQE for `opcode`, with `fd` set: the start of every build.
#[inline]
pub(crate) const fn sqe(opcode: u8, fd: i32) -> Sqe {
    Sqe {
        opcode,
        flags: 0,
        ioprio: 0,
        fd,
        off: 0,
        addr: 0,
        len: 0,
        op_flags: 0,
        user_data: 0,
        buf_index: 0,
        personality: 0,
        file_index: 0,
        addr3: 0,
        pad2: 0,
    }
}

/// Wraps a finished SQE.
#[inline]
pub(crate) const fn entry(sqe: Sqe) -> Entry {
    Entry(sqe)
}

/// Writes the file an operation targets: `fd`, plus `IOSQE_FIXED_FILE`
/// for a registered-file index.
#[inline]
pub(crate) const fn set_target(sqe: &mut Sqe, target: Target) {
    match target {
        Target::Fd(fd) => sqe.fd = fd,
        Target::Fixed(index) => {
            sqe.fd = index as i32;
            sqe.flags |= Flags::FIXED_FILE.bits();
        }
    }
}

/// The common encoding of read/write-shaped operations: the file, a buffer
/// (or iovec array) address and length, and a file offset.
#[inline]
pub(crate) const fn prep_rw(opcode: u8, target: Target, addr: u64, len: u32, offset: u64) -> Sqe {
    let mut sqe = sqe(opcode, 0);
    set_target(&mut sqe, target);
    sqe.addr = addr;
    sqe.len = len;
    sqe.off = offset;
    sqe
}
