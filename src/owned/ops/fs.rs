//! Files: OpenAt, Close, Statx, Fsync, Fallocate, Splice.

use core::ffi::CStr;
use core::mem::ManuallyDrop;

use super::{res, unit, FileResult};
use crate::opcode;
use crate::owned::table::Resolved;
use crate::owned::{Completion, FixedFile, Operation, Prep, Target};
use crate::squeue::Entry;
use crate::types::{self, AtFlags, FsyncFlags, Mode, OFlags, StatxFlags};
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;

/// `AT_FDCWD`: the working directory.
const AT_FDCWD: i32 = -100;

/// The directory a path is looked up from.
fn dirfd<D: Target>(dir: &Option<D>, prep: &Prep<'_>) -> Result<types::Fd, Errno> {
    match dir {
        None => Ok(types::Fd(AT_FDCWD)),
        Some(d) => match prep.file(d)? {
            Resolved(crate::types::sealed::Target::Fd(fd)) => Ok(types::Fd(fd)),
            Resolved(crate::types::sealed::Target::Fixed(_)) => Err(Errno::INVAL),
        },
    }
}

/// Opens a file (`IORING_OP_OPENAT`, 5.6); the path lives in the
/// operation (any owned `AsRef<CStr>`: `&'static CStr`, with `alloc` a
/// `CString`), the new fd comes back as an `OwnedFd`.
#[derive(Debug)]
pub struct OpenAt<P, D = OwnedFd> {
    path: P,
    dir: Option<D>,
    flags: OFlags,
    mode: Mode,
}

impl<P: AsRef<CStr> + Send + 'static> OpenAt<P> {
    /// Opens `path` relative to the current directory, with `flags`
    /// (`O_CLOEXEC` added) and `mode`.
    pub fn new(path: P, flags: OFlags, mode: Mode) -> Self {
        OpenAt { path, dir: None, flags: flags | OFlags::CLOEXEC, mode }
    }
}

impl<P: AsRef<CStr> + Send + 'static, D: Target> OpenAt<P, D> {
    /// Looks `path` up from directory `dir` (a plain descriptor).
    pub fn in_dir<E: Target>(self, dir: E) -> OpenAt<P, E> {
        OpenAt { path: self.path, dir: Some(dir), flags: self.flags, mode: self.mode }
    }
}

// SAFETY: O2: names the bytes of `self.path` (owned, never moved or
// touched while in the slot) and `self.dir`; FD_RESULT: a new fd.
unsafe impl<P: AsRef<CStr> + Send + 'static, D: Target> Operation for OpenAt<P, D> {
    type Output = FileResult<P, OwnedFd>;
    const FD_RESULT: bool = true;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let path = self.path.as_ref().as_ptr();
        Ok(opcode::OpenAt::new(dirfd(&self.dir, prep)?, path).flags(self.flags).mode(self.mode).build())
    }
    fn complete(self, mut done: Completion) -> Self::Output {
        FileResult { result: done.take_fd(), file: self.path }
    }
}

/// Closes a descriptor it owns (`IORING_OP_CLOSE`, 5.6). Once pushed,
/// the descriptor is the kernel's to close: it is never closed again by
/// the layer, whatever happens to the operation (abandoned, torn down).
#[derive(Debug)]
pub struct Close {
    fd: ManuallyDrop<OwnedFd>,
}

impl Close {
    /// Closes `fd`.
    pub fn new(fd: OwnedFd) -> Self {
        Close { fd: ManuallyDrop::new(fd) }
    }
    /// The descriptor back, from an operation that was refused.
    pub fn into_fd(self) -> OwnedFd {
        ManuallyDrop::into_inner(self.fd)
    }
}

// SAFETY: O2: names only `self.fd`, which the kernel closes; it is never
// dropped (ManuallyDrop), so never closed twice.
unsafe impl Operation for Close {
    type Output = Result<(), Errno>;
    fn build(&mut self, _: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(opcode::Close::new(Resolved::fd(self.fd.as_fd())).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        unit(done.result())
    }
}

/// Empties a slot of the driver's registered-file table, closing what it
/// holds (`IORING_OP_CLOSE` with a file index, 5.15;
/// `io_uring_prep_close_direct(3)`); `EBADF` for an empty slot or another
/// driver's handle.
#[derive(Debug)]
pub struct CloseFixed {
    file: FixedFile,
}

impl CloseFixed {
    /// Empties slot `file`.
    pub fn new(file: FixedFile) -> Self {
        CloseFixed { file }
    }
}

// SAFETY: O2: names no memory, only a slot checked against the driver.
unsafe impl Operation for CloseFixed {
    type Output = Result<(), Errno>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(opcode::Close::new(prep.file(&self.file)?).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        unit(done.result())
    }
}

/// `statx` (`IORING_OP_STATX`, 5.6); the path and the result buffer live
/// in the operation.
#[derive(Debug)]
pub struct Statx<P, D = OwnedFd> {
    path: P,
    dir: Option<D>,
    flags: AtFlags,
    mask: StatxFlags,
    buf: types::Statx,
}

impl<P: AsRef<CStr> + Send + 'static> Statx<P> {
    /// Statx of `path` from the current directory, for the fields in `mask`.
    pub fn new(path: P, flags: AtFlags, mask: StatxFlags) -> Self {
        let buf = crate::owned::table::zeroed_statx();
        Statx { path, dir: None, flags, mask, buf }
    }
}

impl<P: AsRef<CStr> + Send + 'static, D: Target> Statx<P, D> {
    /// Looks `path` up from directory `dir` (with `AT_EMPTY_PATH` and an
    /// empty path: `dir` itself).
    pub fn in_dir<E: Target>(self, dir: E) -> Statx<P, E> {
        Statx { path: self.path, dir: Some(dir), flags: self.flags, mask: self.mask, buf: self.buf }
    }
}

// SAFETY: O2: names `self.path` and `self.buf` (fields), and `self.dir`.
unsafe impl<P: AsRef<CStr> + Send + 'static, D: Target> Operation for Statx<P, D> {
    type Output = FileResult<P, types::Statx>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let path = self.path.as_ref().as_ptr();
        let buf: *mut types::Statx = &mut self.buf;
        Ok(opcode::Statx::new(dirfd(&self.dir, prep)?, path, buf).flags(self.flags).mask(self.mask).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        FileResult { result: done.result().map(|_| self.buf), file: self.path }
    }
}

/// `fsync` (`IORING_OP_FSYNC`, 5.1).
#[derive(Debug)]
pub struct Fsync<F> {
    file: F,
    flags: FsyncFlags,
}

impl<F: Target> Fsync<F> {
    /// Syncs `file` (data and metadata).
    pub fn new(file: F) -> Self {
        Fsync { file, flags: FsyncFlags::empty() }
    }
    /// `IORING_FSYNC_DATASYNC`: as `fdatasync`.
    #[must_use]
    pub fn datasync(mut self) -> Self {
        self.flags = FsyncFlags::DATASYNC;
        self
    }
}

// SAFETY: O2: names only `self.file`.
unsafe impl<F: Target> Operation for Fsync<F> {
    type Output = FileResult<F, ()>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(opcode::Fsync::new(prep.file(&self.file)?).flags(self.flags).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        FileResult { result: unit(done.result()), file: self.file }
    }
}

/// `fallocate` (`IORING_OP_FALLOCATE`, 5.6).
#[derive(Debug)]
pub struct Fallocate<F> {
    file: F,
    offset: u64,
    len: u64,
    mode: i32,
}

impl<F: Target> Fallocate<F> {
    /// Allocates `len` bytes of `file` at `offset`, with `mode` (0: extend).
    pub fn new(file: F, offset: u64, len: u64, mode: i32) -> Self {
        Fallocate { file, offset, len, mode }
    }
}

// SAFETY: O2: names only `self.file`.
unsafe impl<F: Target> Operation for Fallocate<F> {
    type Output = FileResult<F, ()>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        Ok(opcode::Fallocate::new(prep.file(&self.file)?, self.len).offset(self.offset).mode(self.mode).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        FileResult { result: unit(done.result()), file: self.file }
    }
}

/// `splice` (`IORING_OP_SPLICE`, 5.7): moves up to `len` bytes from one
/// file to another, one of them a pipe; `-1` offsets use the position.
#[derive(Debug)]
pub struct Splice<I, O> {
    src: I,
    src_off: i64,
    dst: O,
    dst_off: i64,
    len: u32,
}

impl<I: Target, O: Target> Splice<I, O> {
    /// Splices `len` bytes from `src` (at `src_off`) to `dst` (at `dst_off`).
    pub fn new(src: I, src_off: i64, dst: O, dst_off: i64, len: u32) -> Self {
        Splice { src, src_off, dst, dst_off, len }
    }
}

/// What a splice gives back.
#[derive(Debug)]
pub struct Spliced<I, O> {
    /// Bytes moved, or the error.
    pub result: Result<usize, Errno>,
    /// The source.
    pub src: I,
    /// The destination.
    pub dst: O,
}

// SAFETY: O2: names only `self.src` and `self.dst`.
unsafe impl<I: Target, O: Target> Operation for Splice<I, O> {
    type Output = Spliced<I, O>;
    fn build(&mut self, prep: &Prep<'_>) -> Result<Entry, Errno> {
        let (i, o) = (prep.file(&self.src)?, prep.file(&self.dst)?);
        Ok(opcode::Splice::new(i, self.src_off, o, self.dst_off, self.len).build())
    }
    fn complete(self, done: Completion) -> Self::Output {
        Spliced { result: res(done.result()), src: self.src, dst: self.dst }
    }
}
