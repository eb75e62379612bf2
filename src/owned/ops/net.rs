//! Sockets: Accept (single and multishot), Recv, RecvMulti, Send, SendZc,
//! Connect, Socket, Shutdown.

use core::net::SocketAddr;

use super::{filled, res, unit, BufResult, FileBuf, FileResult};
use crate::opcode;
use crate::owned::buf::len32;
use crate::owned::table::Shots;
use crate::owned::{Completion, FixedBuf, FixedFile, IoBuf, IoBufMut, Multishot, Operation, Prep, Received, Target};
use crate::squeue::Entry;
use crate::types::{DestinationSlot, RecvFlags, SendFlags, SocketFlags};
use rustix::fd::OwnedFd;
use rustix::io::Errno;

/// Accepts one connection (`IORING_OP_ACCEPT`, 5.5); the new socket comes
/// back as an `OwnedFd` (closed by the layer if abandoned).
#[derive(Debug)]
pub struct Accept<F> {
    file: F,
    flags: SocketFlags,
}

impl<F: Target> Accept<F> {
    /// Accepts on listening socket `file`, with `SOCK_CLOEXEC`.
    pub fn new(file: F) -> Self {
        Accept { file, flags: SocketFlags::CLOEXEC }
    }
}

// SAFETY: O2: names only `self.file`; FD_RESULT: accept's result is a new fd.
unsafe impl<F: Target> Operation for Accept<F> {
    type Output = FileResult<F, OwnedFd>;
    const FD_RESULT: bool = true;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let (addr, len) = (core::ptr::null_mut(), core::ptr::null_mut());
        Ok(opcode::Accept::new(prep.file(&self.file)?, addr, len).flags(self.flags).build())
    }
    fn complete(self, mut done: Completion) -> Self::Output {
        FileResult { result: done.take_fd(), file: self.file }
    }
}

/// Accepts one connection into a free slot of the driver's registered-file
/// table (`IORING_OP_ACCEPT` with `IORING_FILE_INDEX_ALLOC`, 5.19;
/// `io_uring_prep_accept_direct(3)`): no descriptor is made, and the
/// result is a [`FixedFile`] handle of this driver for the slot the kernel
/// chose (`ENFILE` when none is free). The table comes from
/// [`Driver::register_files_sparse`](crate::owned::Driver::register_files_sparse).
///
/// The slot stays taken until [`CloseFixed`](crate::owned::CloseFixed)
/// empties it, or the files are unregistered or the driver is gone (the
/// kernel then closes what the table holds). An abandoned `AcceptFixed`
/// that got a connection (or one completed and never taken, at teardown)
/// has its slot emptied by the driver when the result is released
/// (`IORING_REGISTER_FILES_UPDATE` with -1, 5.5; `io_uring_register(2)`):
/// the connection is closed and the slot free for the next accept. Not
/// if the files were registered or unregistered through the driver
/// meanwhile (the index may then name another table's slot): that slot
/// is left as it is.
#[derive(Debug)]
pub struct AcceptFixed<F> {
    file: F,
    uid: usize,
}

impl<F: Target> AcceptFixed<F> {
    /// Accepts on listening socket `file`.
    pub fn new(file: F) -> Self {
        AcceptFixed { file, uid: 0 }
    }
}

// SAFETY: O2: names only `self.file`; the result is a slot index, not a
// descriptor (no FD_RESULT): the slot the kernel picked and filled for
// this accept (FIXED_FILE_RESULT).
unsafe impl<F: Target> Operation for AcceptFixed<F> {
    type Output = FileResult<F, FixedFile>;
    const FIXED_FILE_RESULT: bool = true;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        self.uid = prep.uid;
        let (addr, len) = (core::ptr::null_mut(), core::ptr::null_mut());
        let slot = Some(DestinationSlot::auto_target());
        Ok(opcode::Accept::new(prep.file(&self.file)?, addr, len).file_index(slot).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        let result = done.result().map(|index| FixedFile { uid: self.uid, index });
        FileResult { result, file: self.file }
    }
}

/// Accepts connections until cancelled (`IORING_OP_ACCEPT` multishot,
/// 5.19); each is an item ([`Driver::poll_next`](crate::owned::Driver::poll_next)).
#[derive(Debug)]
pub struct AcceptMulti<F> {
    file: F,
}

impl<F: Target> AcceptMulti<F> {
    /// Accepts on listening socket `file`, with `SOCK_CLOEXEC`.
    pub fn new(file: F) -> Self {
        AcceptMulti { file }
    }
}

// SAFETY: O2: names only `self.file`; each result is a new fd.
unsafe impl<F: Target> Operation for AcceptMulti<F> {
    type Output = F;
    const FD_RESULT: bool = true;
    const SHOTS: Shots = Shots::Many;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(opcode::AcceptMulti::new(prep.file(&self.file)?).flags(SocketFlags::CLOEXEC).build())
    }
    fn complete(self, _: Completion) -> F {
        self.file
    }
}

impl<F: Target> Multishot for AcceptMulti<F> {
    type Item = Result<OwnedFd, Errno>;
    fn item(&mut self, mut c: Completion) -> Self::Item {
        c.take_fd()
    }
}

/// Accepts connections until cancelled, each into a free slot of the
/// driver's registered-file table (`IORING_OP_ACCEPT` multishot with
/// `IORING_FILE_INDEX_ALLOC`, 5.19; `io_uring_prep_multishot_accept_direct(3)`):
/// each item is a [`FixedFile`] handle of this driver (`ENFILE` ends the
/// stream when no slot is free). As for [`AcceptFixed`], a slot stays
/// taken until [`CloseFixed`](crate::owned::CloseFixed) empties it, the
/// files are unregistered or the driver is gone; an item released unread
/// (abandoned, a full queue, or left when the output was taken) has its
/// slot emptied by the driver (`IORING_REGISTER_FILES_UPDATE`, 5.5;
/// `io_uring_register(2)`), unless the files were registered or
/// unregistered through the driver since the push.
#[derive(Debug)]
pub struct AcceptMultiFixed<F> {
    file: F,
    uid: usize,
}

impl<F: Target> AcceptMultiFixed<F> {
    /// Accepts on listening socket `file`.
    pub fn new(file: F) -> Self {
        AcceptMultiFixed { file, uid: 0 }
    }
}

// SAFETY: O2: names only `self.file`; results are slot indexes, not
// descriptors (no FD_RESULT): each the slot the kernel picked and filled
// for that connection (FIXED_FILE_RESULT).
unsafe impl<F: Target> Operation for AcceptMultiFixed<F> {
    type Output = F;
    const FIXED_FILE_RESULT: bool = true;
    const SHOTS: Shots = Shots::Many;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        self.uid = prep.uid;
        Ok(opcode::AcceptMulti::new(prep.file(&self.file)?).allocate_file_index(true).build())
    }
    fn complete(self, _: Completion) -> F {
        self.file
    }
}

impl<F: Target> Multishot for AcceptMultiFixed<F> {
    type Item = Result<FixedFile, Errno>;
    fn item(&mut self, c: Completion) -> Self::Item {
        c.result().map(|index| FixedFile { uid: self.uid, index })
    }
}

/// Receives into a buffer it owns (`IORING_OP_RECV`, 5.6). A result of 0
/// is the end of the stream; an error is never taken for it.
#[derive(Debug)]
pub struct Recv<F, B> {
    file: F,
    buf: B,
    flags: RecvFlags,
}

impl<F: Target, B: IoBufMut> Recv<F, B> {
    /// Receives from socket `file` into `buf`.
    pub fn new(file: F, buf: B) -> Self {
        Recv { file, buf, flags: RecvFlags::empty() }
    }
    /// `MSG_*` flags.
    #[must_use]
    pub fn flags(mut self, flags: RecvFlags) -> Self {
        self.flags = flags;
        self
    }
}

// SAFETY: O2: names `self.buf` and `self.file`.
unsafe impl<F: Target, B: IoBufMut> Operation for Recv<F, B> {
    type Output = BufResult<B, F>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let len = len32(self.buf.bytes_total());
        Ok(opcode::Recv::new(prep.file(&self.file)?, self.buf.stable_mut_ptr(), len).flags(self.flags).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        filled(self.buf, self.file, &done)
    }
}

/// Receives until the stream ends, into buffers the kernel picks from the
/// driver's ring (`IORING_OP_RECV` multishot with buffer select, 6.0;
/// needs [`Driver::provide_buffers`](crate::owned::Driver::provide_buffers),
/// `ENOBUFS` otherwise). Items: `Ok(Some(bytes))`, `Ok(None)` at the end
/// of the stream, or the error that ended it (`ENOBUFS` when the ring ran
/// dry: recycle and push again).
#[derive(Debug)]
pub struct RecvMulti<F> {
    file: F,
    /// The id of the driver's ring its buffers come from.
    ring: usize,
}

impl<F: Target> RecvMulti<F> {
    /// Receives from socket `file`.
    pub fn new(file: F) -> Self {
        RecvMulti { file, ring: 0 }
    }
}

// SAFETY: O2: names only `self.file`; the buffers are the driver's ring's
// (O9).
unsafe impl<F: Target> Operation for RecvMulti<F> {
    type Output = F;
    const BUF_SELECT: bool = true;
    const SHOTS: Shots = Shots::Many;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        self.ring = prep.ring.map_or(0, |(_, id)| id);
        Ok(opcode::RecvMulti::new(prep.file(&self.file)?, prep.buf_group()?).build())
    }
    fn complete(self, _: Completion) -> F {
        self.file
    }
}

impl<F: Target> Multishot for RecvMulti<F> {
    type Item = Result<Option<Received>, Errno>;
    fn item(&mut self, mut c: Completion) -> Self::Item {
        let buf = c.take_buf();
        match (c.result(), buf) {
            (Err(e), _) => Err(e),
            (Ok(_), Some(picked)) => Ok(Some(Received { picked, ring: self.ring })),
            (Ok(_), None) => Ok(None),
        }
    }
}

/// Sends the initialised bytes of a buffer it owns (`IORING_OP_SEND`, 5.6).
#[derive(Debug)]
pub struct Send<F, B> {
    file: F,
    buf: B,
    flags: SendFlags,
}

impl<F: Target, B: IoBuf> Send<F, B> {
    /// Sends `buf` on socket `file`.
    pub fn new(file: F, buf: B) -> Self {
        Send { file, buf, flags: SendFlags::empty() }
    }
    /// `MSG_*` flags.
    #[must_use]
    pub fn flags(mut self, flags: SendFlags) -> Self {
        self.flags = flags;
        self
    }
}

// SAFETY: O2: names `self.buf` and `self.file`.
unsafe impl<F: Target, B: IoBuf> Operation for Send<F, B> {
    type Output = BufResult<B, F>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let len = len32(self.buf.bytes_init());
        Ok(opcode::Send::new(prep.file(&self.file)?, self.buf.stable_ptr(), len).flags(self.flags).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        BufResult { result: res(done.result()), buf: self.buf, file: self.file }
    }
}

/// Sends the bytes of a [`Received`] straight from the driver's buffer
/// ring, without copying them (`IORING_OP_SEND`, 5.6): what an echo or a
/// proxy does with what a [`RecvMulti`] got. The `Received` moves into
/// the operation and comes back with the result (then
/// [`Driver::recycle`](crate::owned::Driver::recycle) it, or send the
/// rest after a short send with [`from`](Self::from)).
///
/// While the operation holds it, its buffer cannot go back into the ring
/// (only `recycle` of the `Received` itself puts it there, B2), so no
/// receive can write into bytes the send is reading. If the operation is
/// abandoned, the layer puts the buffer back into the ring at its last
/// completion. Refused with `EINVAL` for another driver's `Received`, or
/// one of a ring this driver had before (even if the new ring's memory
/// sits where the old one's was).
#[derive(Debug)]
pub struct SendReceived<F> {
    file: F,
    buf: Received,
    from: usize,
    flags: SendFlags,
}

impl<F: Target> SendReceived<F> {
    /// Sends the bytes of `buf` on socket `file`.
    pub fn new(file: F, buf: Received) -> Self {
        SendReceived { file, buf, from: 0, flags: SendFlags::empty() }
    }
    /// The socket and the `Received` back (e.g. from a
    /// [`Refused`](crate::owned::Refused)).
    pub fn into_parts(self) -> (F, Received) {
        (self.file, self.buf)
    }
    /// Sends the bytes from `from` on (what a short send left).
    #[must_use]
    pub fn from(mut self, from: usize) -> Self {
        self.from = from;
        self
    }
    /// `MSG_*` flags.
    #[must_use]
    pub fn flags(mut self, flags: SendFlags) -> Self {
        self.flags = flags;
        self
    }
}

// SAFETY: O2: the SQE names bytes of a buffer of the driver's ring
// (`'static` memory, O1) that `self.buf` reads: a buffer with a live
// reader is not re-added to the ring (B2), and `self.buf` is held until
// the last completion (then handed back, or recycled by the table through
// `unclaimed`); and `self.file`.
unsafe impl<F: Target> Operation for SendReceived<F> {
    type Output = BufResult<Received, F>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let (ptr, len) = prep.received(&self.buf)?;
        let from = self.from.min(len);
        let data = ptr.wrapping_add(from);
        Ok(opcode::Send::new(prep.file(&self.file)?, data, len32(len - from)).flags(self.flags).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        BufResult { result: res(done.result()), buf: self.buf, file: self.file }
    }
    fn unclaimed(self) -> Option<Received> {
        Some(self.buf)
    }
}

/// Zero-copy send (`IORING_OP_SEND_ZC`, 6.0): the buffer comes back only
/// after the kernel's notification (`F_NOTIF`), when the network stack no
/// longer reads it. The result is the send's (first completion); if the
/// send failed before it started, its only completion.
#[derive(Debug)]
pub struct SendZc<F, B> {
    file: F,
    buf: B,
}

impl<F: Target, B: IoBuf> SendZc<F, B> {
    /// Sends `buf` on socket `file` without copying it.
    pub fn new(file: F, buf: B) -> Self {
        SendZc { file, buf }
    }
}

// SAFETY: O2: names `self.buf` and `self.file`; the buffer is held until
// the notification (Shots::Notif: the completion without F_MORE).
unsafe impl<F: Target, B: IoBuf> Operation for SendZc<F, B> {
    type Output = BufResult<B, F>;
    const SHOTS: Shots = Shots::Notif;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let len = len32(self.buf.bytes_init());
        Ok(opcode::SendZc::new(prep.file(&self.file)?, self.buf.stable_ptr(), len).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        BufResult { result: zc_result(&done), buf: self.buf, file: self.file }
    }
}

/// Sends the first `len` bytes of a registered buffer of the driver
/// (`IORING_OP_SEND` with `IORING_RECVSEND_FIXED_BUF`, 7.2; older kernels
/// end it with `EINVAL`; kernel: `io_uring/net.c`). The buffer is filled
/// through [`Driver::fixed_bytes_mut`](crate::owned::Driver::fixed_bytes_mut)
/// and comes back with the result.
#[derive(Debug)]
pub struct SendFixed<F> {
    file: F,
    buf: FixedBuf,
    len: u32,
    flags: SendFlags,
}

impl<F: Target> SendFixed<F> {
    /// Sends `len` bytes of the driver's registered buffer `buf` on socket
    /// `file` (clamped to the buffer's size).
    pub fn new(file: F, buf: FixedBuf, len: u32) -> Self {
        SendFixed { file, buf, len, flags: SendFlags::empty() }
    }
    /// `MSG_*` flags.
    #[must_use]
    pub fn flags(mut self, flags: SendFlags) -> Self {
        self.flags = flags;
        self
    }
}

// SAFETY: O2: the buffer is `'static` memory the driver registered and
// keeps (O10), checked by `prep.fixed_buf`; the length is clamped to it.
unsafe impl<F: Target> Operation for SendFixed<F> {
    type Output = FileBuf<F>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let (ptr, len, index) = prep.fixed_buf(&self.buf)?;
        let file = prep.file(&self.file)?;
        Ok(opcode::Send::new(file, ptr, self.len.min(len)).flags(self.flags).buf_index(Some(index)).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        FileBuf { result: res(done.result()), buf: self.buf, file: self.file }
    }
}

/// Receives into a registered buffer of the driver (`IORING_OP_RECV` with
/// `IORING_RECVSEND_FIXED_BUF`, 7.2; older kernels end it with `EINVAL`;
/// kernel: `io_uring/net.c`); the bytes are read with
/// [`Driver::fixed_bytes`](crate::owned::Driver::fixed_bytes). A result
/// of 0 is the end of the stream.
#[derive(Debug)]
pub struct RecvFixed<F> {
    file: F,
    buf: FixedBuf,
    flags: RecvFlags,
}

impl<F: Target> RecvFixed<F> {
    /// Receives from socket `file` into the driver's registered buffer
    /// `buf`, up to its size.
    pub fn new(file: F, buf: FixedBuf) -> Self {
        RecvFixed { file, buf, flags: RecvFlags::empty() }
    }
    /// `MSG_*` flags.
    #[must_use]
    pub fn flags(mut self, flags: RecvFlags) -> Self {
        self.flags = flags;
        self
    }
}

// SAFETY: O2: as for SendFixed; the kernel writes at most the buffer's
// registered length from its start.
unsafe impl<F: Target> Operation for RecvFixed<F> {
    type Output = FileBuf<F>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let (ptr, len, index) = prep.fixed_buf(&self.buf)?;
        let file = prep.file(&self.file)?;
        Ok(opcode::Recv::new(file, ptr, len).flags(self.flags).buf_index(Some(index)).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        FileBuf { result: res(done.result()), buf: self.buf, file: self.file }
    }
}

/// Zero-copy send from a registered buffer of the driver
/// (`IORING_OP_SEND_ZC` with `IORING_RECVSEND_FIXED_BUF`, 6.0;
/// kernel: `io_uring/net.c`): no page pinning per send. As for
/// [`SendZc`], the handle comes back only after the notification.
#[derive(Debug)]
pub struct SendZcFixed<F> {
    file: F,
    buf: FixedBuf,
    len: u32,
}

impl<F: Target> SendZcFixed<F> {
    /// Sends `len` bytes of the driver's registered buffer `buf` on socket
    /// `file` without copying them (clamped to the buffer's size).
    pub fn new(file: F, buf: FixedBuf, len: u32) -> Self {
        SendZcFixed { file, buf, len }
    }
}

// SAFETY: O2: as for SendFixed; the handle (and so the only access to
// the memory, O10) is held until the notification (Shots::Notif).
unsafe impl<F: Target> Operation for SendZcFixed<F> {
    type Output = FileBuf<F>;
    const SHOTS: Shots = Shots::Notif;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let (ptr, len, index) = prep.fixed_buf(&self.buf)?;
        let file = prep.file(&self.file)?;
        Ok(opcode::SendZc::new(file, ptr, self.len.min(len)).buf_index(Some(index)).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        FileBuf { result: zc_result(&done), buf: self.buf, file: self.file }
    }
}

/// A zero-copy send's result: the first completion's, or the only one's
/// when the send failed before it started.
fn zc_result(done: &Completion) -> Result<usize, Errno> {
    res(done.first_result().unwrap_or_else(|| done.result()))
}

/// A socket address as the kernel reads it, kept in the operation.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(8))]
struct RawAddr {
    bytes: [u8; 28],
    len: u32,
}

impl RawAddr {
    /// `sockaddr_in` / `sockaddr_in6`, native-endian family, network-order
    /// port and address.
    fn new(addr: SocketAddr) -> Self {
        let mut bytes = [0u8; 28];
        let len = match addr {
            SocketAddr::V4(a) => {
                bytes[..2].copy_from_slice(&2u16.to_ne_bytes());
                bytes[2..4].copy_from_slice(&a.port().to_be_bytes());
                bytes[4..8].copy_from_slice(&a.ip().octets());
                16
            }
            SocketAddr::V6(a) => {
                bytes[..2].copy_from_slice(&10u16.to_ne_bytes());
                bytes[2..4].copy_from_slice(&a.port().to_be_bytes());
                bytes[4..8].copy_from_slice(&a.flowinfo().to_be_bytes());
                bytes[8..24].copy_from_slice(&a.ip().octets());
                bytes[24..28].copy_from_slice(&a.scope_id().to_ne_bytes());
                28
            }
        };
        RawAddr { bytes, len }
    }
}

/// Connects a socket (`IORING_OP_CONNECT`, 5.5); the address lives in
/// the operation.
#[derive(Debug)]
pub struct Connect<F> {
    file: F,
    addr: RawAddr,
}

impl<F: Target> Connect<F> {
    /// Connects socket `file` to `addr`.
    pub fn new(file: F, addr: SocketAddr) -> Self {
        Connect { file, addr: RawAddr::new(addr) }
    }
}

// SAFETY: O2: names `self.addr` (a field) and `self.file`.
unsafe impl<F: Target> Operation for Connect<F> {
    type Output = FileResult<F, ()>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let addr = self.addr.bytes.as_ptr().cast();
        Ok(opcode::Connect::new(prep.file(&self.file)?, addr, self.addr.len).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        FileResult { result: unit(done.result()), file: self.file }
    }
}

/// Creates a socket (`IORING_OP_SOCKET`, 5.19), returned as an `OwnedFd`.
#[derive(Debug)]
pub struct Socket {
    domain: i32,
    ty: i32,
    protocol: i32,
}

impl Socket {
    /// `socket(domain, ty, protocol)`; add `SOCK_CLOEXEC` to `ty` as usual.
    pub fn new(domain: i32, ty: i32, protocol: i32) -> Self {
        Socket { domain, ty, protocol }
    }
}

// SAFETY: O2: names no memory; FD_RESULT: the result is a new socket.
unsafe impl Operation for Socket {
    type Output = Result<OwnedFd, Errno>;
    const FD_RESULT: bool = true;
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(opcode::Socket::new(self.domain, self.ty, self.protocol).build())
    }
    fn complete(self, mut done: Completion) -> Self::Output {
        done.take_fd()
    }
}

/// Shuts a socket down (`IORING_OP_SHUTDOWN`, 5.11).
#[derive(Debug)]
pub struct Shutdown<F> {
    file: F,
    how: i32,
}

impl<F: Target> Shutdown<F> {
    /// `shutdown(file, how)` (`SHUT_RD` 0, `SHUT_WR` 1, `SHUT_RDWR` 2).
    pub fn new(file: F, how: i32) -> Self {
        Shutdown { file, how }
    }
}

// SAFETY: O2: names only `self.file`.
unsafe impl<F: Target> Operation for Shutdown<F> {
    type Output = FileResult<F, ()>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(opcode::Shutdown::new(prep.file(&self.file)?, self.how).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        FileResult { result: unit(done.result()), file: self.file }
    }
}
