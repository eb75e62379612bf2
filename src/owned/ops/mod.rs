//! The built-in owned operations. Each is a plain struct that owns what
//! the kernel uses, implements [`Operation`](super::Operation), and gives
//! everything back in its output. No `unsafe` block here: each `unsafe
//! impl Operation` is the promise O2, kept by building SQEs only from the
//! operation's own fields and buffers.

mod fs;
mod misc;
mod net;
mod rw;

pub use fs::{Close, CloseFixed, Fallocate, Fsync, OpenAt, Splice, Spliced, Statx};
pub use misc::{AsyncCancel, LinkTimeout, Nop, PollAdd, PollMulti, Timeout};
pub use net::{
    Accept, AcceptFixed, AcceptMulti, AcceptMultiFixed, Connect, Recv, RecvFixed, RecvMulti, Send, SendFixed,
    SendReceived, SendZc, SendZcFixed, Shutdown, Socket,
};
pub use rw::{FileBuf, Read, ReadFixed, Readv, Write, WriteFixed, Writev};

use rustix::io::Errno;

use super::buf::kernel_wrote;
use super::{Completion, IoBufMut};

/// What a buffer operation gives back: the result (bytes moved), the
/// buffer and the file.
#[derive(Debug)]
pub struct BufResult<B, F> {
    /// Bytes read or written, or the error.
    pub result: Result<usize, Errno>,
    /// The buffer; for a read, its initialised length is the bytes read.
    pub buf: B,
    /// The file the operation named.
    pub file: F,
}

/// What a file operation gives back: its result and the file.
#[derive(Debug)]
pub struct FileResult<F, T = u32> {
    /// The result, or the error.
    pub result: Result<T, Errno>,
    /// The file the operation named.
    pub file: F,
}

/// What a read into `buf` gives back: its initialised length set to the
/// byte count the kernel reported (O7).
fn filled<B: IoBufMut, F>(mut buf: B, file: F, done: &Completion) -> BufResult<B, F> {
    let result = res(done.result());
    if let Ok(n) = result {
        kernel_wrote(&mut buf, n);
    }
    BufResult { result, buf, file }
}

fn res(r: Result<u32, Errno>) -> Result<usize, Errno> {
    r.map(|n| n as usize)
}

fn unit(r: Result<u32, Errno>) -> Result<(), Errno> {
    r.map(|_| ())
}
