//! Read, Write, their vectored and fixed-buffer forms.

use super::{filled, res, BufResult};
use crate::opcode;
use crate::owned::buf::{kernel_wrote, len32};
use crate::owned::{Completion, IoBuf, IoBufMut, Operation, Prep, Resolved, Target};
use crate::squeue::Entry;
use crate::types::iovec;
use rustix::io::Errno;

/// Reads into a buffer it owns (`IORING_OP_READ`, 5.6).
///
/// The buffer is filled from its start, up to its full size
/// (`bytes_total`: a `Vec`'s capacity); its initialised length is then
/// the byte count. The offset defaults to the file position (`-1`).
#[derive(Debug)]
pub struct Read<F, B> {
    file: F,
    buf: B,
    offset: u64,
}

impl<F: Target, B: IoBufMut> Read<F, B> {
    /// Reads from `file` into `buf`.
    pub fn new(file: F, buf: B) -> Self {
        Read { file, buf, offset: u64::MAX }
    }
    /// Reads at `offset` instead of the file position.
    #[must_use]
    pub fn at(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }
    /// The file and the buffer back (e.g. from a [`Refused`](crate::owned::Refused)).
    pub fn into_parts(self) -> (F, B) {
        (self.file, self.buf)
    }
}

// SAFETY: O2: the SQE names `self.buf` (an IoBufMut, stable while owned)
// and `self.file` (owned).
unsafe impl<F: Target, B: IoBufMut> Operation for Read<F, B> {
    type Output = BufResult<B, F>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let len = len32(self.buf.bytes_total());
        Ok(opcode::Read::new(prep.file(&self.file)?, self.buf.stable_mut_ptr(), len).offset(self.offset).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        filled(self.buf, self.file, &done)
    }
}

/// Writes the initialised bytes of a buffer it owns (`IORING_OP_WRITE`,
/// 5.6). The offset defaults to the file position (`-1`).
#[derive(Debug)]
pub struct Write<F, B> {
    file: F,
    buf: B,
    offset: u64,
}

impl<F: Target, B: IoBuf> Write<F, B> {
    /// Writes `buf` to `file`.
    pub fn new(file: F, buf: B) -> Self {
        Write { file, buf, offset: u64::MAX }
    }
    /// Writes at `offset` instead of the file position.
    #[must_use]
    pub fn at(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }
    /// The file and the buffer back (e.g. from a [`Refused`](crate::owned::Refused)).
    pub fn into_parts(self) -> (F, B) {
        (self.file, self.buf)
    }
}

// SAFETY: O2: the SQE names `self.buf` (an IoBuf) and `self.file`.
unsafe impl<F: Target, B: IoBuf> Operation for Write<F, B> {
    type Output = BufResult<B, F>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let len = len32(self.buf.bytes_init());
        Ok(opcode::Write::new(prep.file(&self.file)?, self.buf.stable_ptr(), len).offset(self.offset).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        BufResult { result: res(done.result()), buf: self.buf, file: self.file }
    }
}

/// An `iovec` the operation owns; `Send`, unlike a raw pointer.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
struct Iov {
    base: usize,
    len: usize,
}

/// What Readv and Writev own: the file, `K` buffers, their iovecs (which
/// the SQE names) and the offset.
#[derive(Debug)]
struct Vectored<F, B, const K: usize> {
    file: F,
    bufs: [B; K],
    iov: [Iov; K],
    offset: u64,
}

impl<F: Target, B: IoBuf, const K: usize> Vectored<F, B, K> {
    fn new(file: F, bufs: [B; K]) -> Self {
        Vectored { file, bufs, iov: [Iov::default(); K], offset: u64::MAX }
    }

    /// Points the iovecs at the buffers (`span` gives each one's address
    /// and length) and returns the file, the array and its length.
    fn iovecs(
        &mut self,
        prep: &Prep<'_>,
        span: impl Fn(&mut B) -> (*const u8, usize),
    ) -> Result<(Resolved, *const iovec, u32), Errno> {
        for (v, b) in self.iov.iter_mut().zip(self.bufs.iter_mut()) {
            let (base, len) = span(b);
            *v = Iov { base: base as usize, len };
        }
        Ok((prep.file(&self.file)?, self.iov.as_ptr().cast(), len32(K)))
    }
}

/// Reads into `K` buffers in turn (`IORING_OP_READV`, 5.1). The iovec
/// array lives in the operation. Each buffer's initialised length is set
/// to what landed in it.
#[derive(Debug)]
pub struct Readv<F, B, const K: usize>(Vectored<F, B, K>);

impl<F: Target, B: IoBufMut, const K: usize> Readv<F, B, K> {
    /// Reads from `file` into `bufs`.
    pub fn new(file: F, bufs: [B; K]) -> Self {
        Readv(Vectored::new(file, bufs))
    }
    /// Reads at `offset` instead of the file position.
    #[must_use]
    pub fn at(mut self, offset: u64) -> Self {
        self.0.offset = offset;
        self
    }
}

// SAFETY: O2: the iovecs are fields of `self` and name `self.bufs`.
unsafe impl<F: Target, B: IoBufMut, const K: usize> Operation for Readv<F, B, K> {
    type Output = BufResult<[B; K], F>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let (file, iov, n) = self.0.iovecs(prep, |b| (b.stable_mut_ptr().cast_const(), b.bytes_total()))?;
        Ok(opcode::Readv::new(file, iov, n).offset(self.0.offset).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        let Vectored { file, mut bufs, .. } = self.0;
        let result = res(done.result());
        if let Ok(mut n) = result {
            for b in &mut bufs {
                let here = n.min(b.bytes_total());
                kernel_wrote(b, here);
                n -= here;
            }
        }
        BufResult { result, buf: bufs, file }
    }
}

/// Writes `K` buffers in turn (`IORING_OP_WRITEV`, 5.1).
#[derive(Debug)]
pub struct Writev<F, B, const K: usize>(Vectored<F, B, K>);

impl<F: Target, B: IoBuf, const K: usize> Writev<F, B, K> {
    /// Writes `bufs` to `file`.
    pub fn new(file: F, bufs: [B; K]) -> Self {
        Writev(Vectored::new(file, bufs))
    }
    /// Writes at `offset` instead of the file position.
    #[must_use]
    pub fn at(mut self, offset: u64) -> Self {
        self.0.offset = offset;
        self
    }
}

// SAFETY: O2: the iovecs are fields of `self` and name `self.bufs`.
unsafe impl<F: Target, B: IoBuf, const K: usize> Operation for Writev<F, B, K> {
    type Output = BufResult<[B; K], F>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let (file, iov, n) = self.0.iovecs(prep, |b| (b.stable_ptr(), b.bytes_init()))?;
        Ok(opcode::Writev::new(file, iov, n).offset(self.0.offset).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        let Vectored { file, bufs, .. } = self.0;
        BufResult { result: res(done.result()), buf: bufs, file }
    }
}

/// Reads into registered buffer `index` (`IORING_OP_READ_FIXED`, 5.1):
/// the buffer must be one the driver registered
/// ([`Driver::register_buffers`](crate::owned::Driver::register_buffers)),
/// which owns its memory; the bytes are read with
/// [`Driver::fixed_bytes`](crate::owned::Driver::fixed_bytes).
#[derive(Debug)]
pub struct ReadFixed<F> {
    file: F,
    buf: crate::owned::FixedBuf,
    offset: u64,
}

impl<F: Target> ReadFixed<F> {
    /// Reads from `file` into the driver's registered buffer `buf`.
    pub fn new(file: F, buf: crate::owned::FixedBuf) -> Self {
        ReadFixed { file, buf, offset: u64::MAX }
    }
    /// Reads at `offset` instead of the file position.
    #[must_use]
    pub fn at(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }
}

// SAFETY: O2: the buffer is `'static` memory the driver registered and
// keeps (O10), checked by `prep.fixed_buf`.
unsafe impl<F: Target> Operation for ReadFixed<F> {
    type Output = FileBuf<F>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let (ptr, len, index) = prep.fixed_buf(&self.buf)?;
        Ok(opcode::ReadFixed::new(prep.file(&self.file)?, ptr, len, index).offset(self.offset).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        FileBuf { result: res(done.result()), buf: self.buf, file: self.file }
    }
}

/// Writes the first `len` bytes of registered buffer `index`
/// (`IORING_OP_WRITE_FIXED`, 5.1).
#[derive(Debug)]
pub struct WriteFixed<F> {
    file: F,
    buf: crate::owned::FixedBuf,
    len: u32,
    offset: u64,
}

impl<F: Target> WriteFixed<F> {
    /// Writes `len` bytes of the driver's registered buffer `buf` to `file`.
    pub fn new(file: F, buf: crate::owned::FixedBuf, len: u32) -> Self {
        WriteFixed { file, buf, len, offset: u64::MAX }
    }
    /// Writes at `offset` instead of the file position.
    #[must_use]
    pub fn at(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }
}

// SAFETY: O2: as for ReadFixed; the length is clamped to the buffer.
unsafe impl<F: Target> Operation for WriteFixed<F> {
    type Output = FileBuf<F>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let (ptr, len, index) = prep.fixed_buf(&self.buf)?;
        let len = self.len.min(len);
        Ok(opcode::WriteFixed::new(prep.file(&self.file)?, ptr, len, index).offset(self.offset).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        FileBuf { result: res(done.result()), buf: self.buf, file: self.file }
    }
}

/// What a fixed-buffer operation gives back.
#[derive(Debug)]
pub struct FileBuf<F> {
    /// Bytes moved, or the error.
    pub result: Result<usize, Errno>,
    /// The registered-buffer handle.
    pub buf: crate::owned::FixedBuf,
    /// The file.
    pub file: F,
}
