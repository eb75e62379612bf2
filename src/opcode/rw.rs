//! Reading and writing files: [`Read`], [`Write`], the vectored
//! [`Readv`]/[`Writev`], the registered-buffer forms [`ReadFixed`],
//! [`WriteFixed`], [`ReadvFixed`], [`WritevFixed`], and the multishot
//! [`ReadMulti`].

use super::{entry, prep_rw};
use crate::squeue::{Entry, Flags};
use crate::types::sealed::{Target, UseFixed};
use crate::types::{iovec, RwFlags};

/// Reads into the `len` buffers of the `iovec` array, like `preadv2(2)`
/// (`IORING_OP_READV`, 5.1; `io_uring_prep_readv(3)`).
///
/// `offset` is the file offset; `u64::MAX` (-1) reads at the file position.
/// With `buf_group` and `IOSQE_BUFFER_SELECT` the kernel picks one provided
/// buffer instead (the array then has to hold a single iovec).
#[derive(Debug)]
pub struct Readv {
    fd: Target,
    iovec: *const iovec,
    len: u32,
    ioprio: u16,
    offset: u64,
    rw_flags: RwFlags,
    buf_group: u16,
}

impl Readv {
    /// The opcode number, `IORING_OP_READV`.
    pub const CODE: u8 = 1;

    /// Reads from `fd` into the `len` iovecs starting at `iovec`.
    #[inline]
    pub fn new(fd: impl UseFixed, iovec: *const iovec, len: u32) -> Self {
        Readv { fd: fd.into_target(), iovec, len, ioprio: 0, offset: 0, rw_flags: RwFlags::empty(), buf_group: 0 }
    }

    setters! {
        /// The I/O priority (default 0).
        ioprio: u16;
        /// The file offset to read at (default 0).
        offset: u64;
        /// `RWF_*` flags, as for `preadv2(2)` (default none).
        rw_flags: RwFlags;
        /// The provided-buffer group to pick from with `BUFFER_SELECT`
        /// (`IOSQE_BUFFER_SELECT`, 5.7; default 0).
        buf_group: u16;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.iovec as u64, self.len, self.offset);
        sqe.ioprio = self.ioprio;
        sqe.op_flags = self.rw_flags.bits();
        sqe.buf_index = self.buf_group;
        entry(sqe)
    }
}

/// Writes the `len` buffers of the `iovec` array, like `pwritev2(2)`
/// (`IORING_OP_WRITEV`, 5.1; `io_uring_prep_writev(3)`).
///
/// `offset` is the file offset; `u64::MAX` (-1) writes at the file position.
#[derive(Debug)]
pub struct Writev {
    fd: Target,
    iovec: *const iovec,
    len: u32,
    ioprio: u16,
    offset: u64,
    rw_flags: RwFlags,
}

impl Writev {
    /// The opcode number, `IORING_OP_WRITEV`.
    pub const CODE: u8 = 2;

    /// Writes the `len` iovecs starting at `iovec` to `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, iovec: *const iovec, len: u32) -> Self {
        Writev { fd: fd.into_target(), iovec, len, ioprio: 0, offset: 0, rw_flags: RwFlags::empty() }
    }

    setters! {
        /// The I/O priority (default 0).
        ioprio: u16;
        /// The file offset to write at (default 0).
        offset: u64;
        /// `RWF_*` flags, as for `pwritev2(2)` (default none).
        rw_flags: RwFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.iovec as u64, self.len, self.offset);
        sqe.ioprio = self.ioprio;
        sqe.op_flags = self.rw_flags.bits();
        entry(sqe)
    }
}

/// Reads into part of a registered buffer, like `pread(2)`
/// (`IORING_OP_READ_FIXED`, 5.1; `io_uring_prep_read_fixed(3)`).
///
/// `buf[..len]` must lie inside the buffer registered at `buf_index`
/// (`Submitter::register_buffers`); otherwise, or for an index past the
/// table, the completion fails with `EFAULT`.
#[derive(Debug)]
pub struct ReadFixed {
    fd: Target,
    buf: *mut u8,
    len: u32,
    buf_index: u16,
    ioprio: u16,
    offset: u64,
    rw_flags: RwFlags,
}

impl ReadFixed {
    /// The opcode number, `IORING_OP_READ_FIXED`.
    pub const CODE: u8 = 4;

    /// Reads from `fd` into `buf[..len]`, inside registered buffer `buf_index`.
    #[inline]
    pub fn new(fd: impl UseFixed, buf: *mut u8, len: u32, buf_index: u16) -> Self {
        ReadFixed { fd: fd.into_target(), buf, len, buf_index, ioprio: 0, offset: 0, rw_flags: RwFlags::empty() }
    }

    setters! {
        /// The I/O priority (default 0).
        ioprio: u16;
        /// The file offset to read at (default 0; `u64::MAX` = file position).
        offset: u64;
        /// `RWF_*` flags, as for `preadv2(2)` (default none).
        rw_flags: RwFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.buf as u64, self.len, self.offset);
        sqe.ioprio = self.ioprio;
        sqe.op_flags = self.rw_flags.bits();
        sqe.buf_index = self.buf_index;
        entry(sqe)
    }
}

/// Writes from part of a registered buffer, like `pwrite(2)`
/// (`IORING_OP_WRITE_FIXED`, 5.1; `io_uring_prep_write_fixed(3)`).
///
/// `buf[..len]` must lie inside the buffer registered at `buf_index`.
#[derive(Debug)]
pub struct WriteFixed {
    fd: Target,
    buf: *const u8,
    len: u32,
    buf_index: u16,
    ioprio: u16,
    offset: u64,
    rw_flags: RwFlags,
}

impl WriteFixed {
    /// The opcode number, `IORING_OP_WRITE_FIXED`.
    pub const CODE: u8 = 5;

    /// Writes `buf[..len]`, inside registered buffer `buf_index`, to `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, buf: *const u8, len: u32, buf_index: u16) -> Self {
        WriteFixed { fd: fd.into_target(), buf, len, buf_index, ioprio: 0, offset: 0, rw_flags: RwFlags::empty() }
    }

    setters! {
        /// The I/O priority (default 0).
        ioprio: u16;
        /// The file offset to write at (default 0; `u64::MAX` = file position).
        offset: u64;
        /// `RWF_*` flags, as for `pwritev2(2)` (default none).
        rw_flags: RwFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.buf as u64, self.len, self.offset);
        sqe.ioprio = self.ioprio;
        sqe.op_flags = self.rw_flags.bits();
        sqe.buf_index = self.buf_index;
        entry(sqe)
    }
}

/// Reads repeatedly from a pollable file into provided buffers, posting one
/// completion per chunk (`IORING_OP_READ_MULTISHOT`, 6.7; no man page;
/// kernel: `io_uring/rw.c`).
///
/// Always sets `IOSQE_BUFFER_SELECT` (and keeps `IOSQE_FIXED_FILE` for a
/// [`Fixed`](crate::types::Fixed) file). Each completion names its buffer
/// (`cqueue::buffer_select`) and has `F_MORE` while the read stays armed.
/// The file must support polling (pipes, sockets, eventfds ...; a regular
/// file fails with `EBADFD`). An empty buffer group ends it with
/// `ENOBUFS`, the end of input with a result of 0 and no `F_MORE`.
/// Linux 6.18 rejects any `len` other than 0 with `EINVAL`; 0 fills whole
/// buffers.
#[derive(Debug)]
pub struct ReadMulti {
    fd: Target,
    len: u32,
    buf_group: u16,
    offset: u64,
}

impl ReadMulti {
    /// The opcode number, `IORING_OP_READ_MULTISHOT`.
    pub const CODE: u8 = 49;

    /// Reads from `fd` into buffers of group `buf_group`, at most `len`
    /// bytes per completion (pass 0).
    #[inline]
    pub fn new(fd: impl UseFixed, len: u32, buf_group: u16) -> Self {
        ReadMulti { fd: fd.into_target(), len, buf_group, offset: 0 }
    }

    setters! {
        /// The file offset (default 0; `u64::MAX` = file position).
        offset: u64;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, 0, self.len, self.offset);
        sqe.flags |= Flags::BUFFER_SELECT.bits();
        sqe.buf_index = self.buf_group;
        entry(sqe)
    }
}

/// Reads into `len` iovecs that all lie inside one registered buffer,
/// like `preadv2(2)` (`IORING_OP_READV_FIXED`, 6.15; no man page; kernel:
/// `io_uring/rw.c`).
///
/// Every iovec must lie inside the buffer registered at `buf_index`;
/// otherwise the completion fails with `EFAULT`.
#[derive(Debug)]
pub struct ReadvFixed {
    fd: Target,
    iovec: *const iovec,
    len: u32,
    buf_index: u16,
    ioprio: u16,
    offset: u64,
    rw_flags: RwFlags,
}

impl ReadvFixed {
    /// The opcode number, `IORING_OP_READV_FIXED`.
    pub const CODE: u8 = 60;

    /// Reads from `fd` into the `len` iovecs at `iovec`, inside registered
    /// buffer `buf_index`.
    #[inline]
    pub fn new(fd: impl UseFixed, iovec: *const iovec, len: u32, buf_index: u16) -> Self {
        ReadvFixed { fd: fd.into_target(), iovec, len, buf_index, ioprio: 0, offset: 0, rw_flags: RwFlags::empty() }
    }

    setters! {
        /// The I/O priority (default 0).
        ioprio: u16;
        /// The file offset to read at (default 0; `u64::MAX` = file position).
        offset: u64;
        /// `RWF_*` flags, as for `preadv2(2)` (default none).
        rw_flags: RwFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.iovec as u64, self.len, self.offset);
        sqe.ioprio = self.ioprio;
        sqe.op_flags = self.rw_flags.bits();
        sqe.buf_index = self.buf_index;
        entry(sqe)
    }
}

/// Writes `len` iovecs that all lie inside one registered buffer, like
/// `pwritev2(2)` (`IORING_OP_WRITEV_FIXED`, 6.15; no man page; kernel:
/// `io_uring/rw.c`).
///
/// Every iovec must lie inside the buffer registered at `buf_index`.
#[derive(Debug)]
pub struct WritevFixed {
    fd: Target,
    iovec: *const iovec,
    len: u32,
    buf_index: u16,
    ioprio: u16,
    offset: u64,
    rw_flags: RwFlags,
}

impl WritevFixed {
    /// The opcode number, `IORING_OP_WRITEV_FIXED`.
    pub const CODE: u8 = 61;

    /// Writes the `len` iovecs at `iovec`, inside registered buffer
    /// `buf_index`, to `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, iovec: *const iovec, len: u32, buf_index: u16) -> Self {
        WritevFixed { fd: fd.into_target(), iovec, len, buf_index, ioprio: 0, offset: 0, rw_flags: RwFlags::empty() }
    }

    setters! {
        /// The I/O priority (default 0).
        ioprio: u16;
        /// The file offset to write at (default 0; `u64::MAX` = file position).
        offset: u64;
        /// `RWF_*` flags, as for `pwritev2(2)` (default none).
        rw_flags: RwFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.iovec as u64, self.len, self.offset);
        sqe.ioprio = self.ioprio;
        sqe.op_flags = self.rw_flags.bits();
        sqe.buf_index = self.buf_index;
        entry(sqe)
    }
}

/// Reads up to `len` bytes into `buf`, like `pread(2)`
/// (`IORING_OP_READ`, 5.6; `io_uring_prep_read(3)`).
///
/// `offset` is the file offset; `u64::MAX` (-1) reads at the file position
/// (FEAT_RW_CUR_POS). With `buf_group` and `IOSQE_BUFFER_SELECT` the kernel
/// picks a provided buffer instead of `buf`.
#[derive(Debug)]
pub struct Read {
    fd: Target,
    buf: *mut u8,
    len: u32,
    offset: u64,
    ioprio: u16,
    rw_flags: RwFlags,
    buf_group: u16,
}

impl Read {
    /// The opcode number, `IORING_OP_READ`.
    pub const CODE: u8 = 22;

    /// Reads into `buf[..len]` from `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, buf: *mut u8, len: u32) -> Self {
        Read { fd: fd.into_target(), buf, len, offset: 0, ioprio: 0, rw_flags: RwFlags::empty(), buf_group: 0 }
    }

    setters! {
        /// The file offset to read at (default 0).
        offset: u64;
        /// The I/O priority (default 0).
        ioprio: u16;
        /// `RWF_*` flags, as for `preadv2(2)` (default none).
        rw_flags: RwFlags;
        /// The provided-buffer group to pick from with `BUFFER_SELECT`
        /// (`IOSQE_BUFFER_SELECT`, 5.7; default 0).
        buf_group: u16;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.buf as u64, self.len, self.offset);
        sqe.ioprio = self.ioprio;
        sqe.op_flags = self.rw_flags.bits();
        sqe.buf_index = self.buf_group;
        entry(sqe)
    }
}

/// Writes `len` bytes from `buf`, like `pwrite(2)`
/// (`IORING_OP_WRITE`, 5.6; `io_uring_prep_write(3)`).
///
/// `offset` is the file offset; `u64::MAX` (-1) writes at the file position.
#[derive(Debug)]
pub struct Write {
    fd: Target,
    buf: *const u8,
    len: u32,
    offset: u64,
    ioprio: u16,
    rw_flags: RwFlags,
}

impl Write {
    /// The opcode number, `IORING_OP_WRITE`.
    pub const CODE: u8 = 23;

    /// Writes `buf[..len]` to `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed, buf: *const u8, len: u32) -> Self {
        Write { fd: fd.into_target(), buf, len, offset: 0, ioprio: 0, rw_flags: RwFlags::empty() }
    }

    setters! {
        /// The file offset to write at (default 0).
        offset: u64;
        /// The I/O priority (default 0).
        ioprio: u16;
        /// `RWF_*` flags, as for `pwritev2(2)` (default none).
        rw_flags: RwFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.buf as u64, self.len, self.offset);
        sqe.ioprio = self.ioprio;
        sqe.op_flags = self.rw_flags.bits();
        entry(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::squeue;
    use crate::sys::Sqe;
    use crate::types::{Fd, Fixed};

    #[test]
    fn read_encodes_every_field() {
        let mut buf = [0u8; 16];
        let e = Read::new(Fd(7), buf.as_mut_ptr(), 16)
            .offset(4096)
            .ioprio(3)
            .rw_flags(RwFlags::NOWAIT)
            .buf_group(9)
            .build();
        let want = Sqe {
            opcode: 22,
            fd: 7,
            ioprio: 3,
            off: 4096,
            addr: buf.as_ptr() as u64,
            len: 16,
            op_flags: RwFlags::NOWAIT.bits(),
            buf_index: 9,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }

    #[test]
    fn write_with_fixed_file_sets_fixed_flag() {
        let buf = [1u8; 8];
        let e = Write::new(Fixed(3), buf.as_ptr(), 8).offset(u64::MAX).build();
        let want =
            Sqe { opcode: 23, flags: 1, fd: 3, off: u64::MAX, addr: buf.as_ptr() as u64, len: 8, ..Sqe::default() };
        assert_eq!(e.0, want);
    }

    /// Two iovecs to point builders at.
    fn iovecs() -> [iovec; 2] {
        let z = iovec { iov_base: core::ptr::null_mut(), iov_len: 0 };
        [z, z]
    }

    #[test]
    fn readv_encodes_every_field() {
        let iov = iovecs();
        let e = Readv::new(Fd(5), iov.as_ptr(), 2).ioprio(1).offset(512).rw_flags(RwFlags::HIPRI).buf_group(4).build();
        let want = Sqe {
            opcode: 1,
            fd: 5,
            ioprio: 1,
            off: 512,
            addr: iov.as_ptr() as u64,
            len: 2,
            op_flags: RwFlags::HIPRI.bits(),
            buf_index: 4,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }

    #[test]
    fn readv_defaults() {
        let iov = iovecs();
        let e = Readv::new(Fixed(2), iov.as_ptr(), 1).build();
        let want = Sqe { opcode: 1, flags: 1, fd: 2, addr: iov.as_ptr() as u64, len: 1, ..Sqe::default() };
        assert_eq!(e.0, want);
    }

    #[test]
    fn writev_encodes_every_field() {
        let iov = iovecs();
        let e = Writev::new(Fixed(6), iov.as_ptr(), 2).ioprio(2).offset(u64::MAX).rw_flags(RwFlags::DSYNC).build();
        let want = Sqe {
            opcode: 2,
            flags: 1,
            fd: 6,
            ioprio: 2,
            off: u64::MAX,
            addr: iov.as_ptr() as u64,
            len: 2,
            op_flags: RwFlags::DSYNC.bits(),
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = Writev::new(Fd(3), iov.as_ptr(), 2).build();
        assert_eq!(e.0, Sqe { opcode: 2, fd: 3, addr: iov.as_ptr() as u64, len: 2, ..Sqe::default() });
    }

    #[test]
    fn read_fixed_encodes_every_field() {
        let mut buf = [0u8; 32];
        let e = ReadFixed::new(Fd(9), buf.as_mut_ptr(), 32, 7).ioprio(5).offset(8).rw_flags(RwFlags::NOWAIT).build();
        let want = Sqe {
            opcode: 4,
            fd: 9,
            ioprio: 5,
            off: 8,
            addr: buf.as_ptr() as u64,
            len: 32,
            op_flags: RwFlags::NOWAIT.bits(),
            buf_index: 7,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = ReadFixed::new(Fixed(1), buf.as_mut_ptr(), 4, 0).build();
        assert_eq!(e.0, Sqe { opcode: 4, flags: 1, fd: 1, addr: buf.as_ptr() as u64, len: 4, ..Sqe::default() });
    }

    #[test]
    fn write_fixed_encodes_every_field() {
        let buf = [0u8; 32];
        let e = WriteFixed::new(Fixed(4), buf.as_ptr(), 16, 3).ioprio(6).offset(64).rw_flags(RwFlags::APPEND).build();
        let want = Sqe {
            opcode: 5,
            flags: 1,
            fd: 4,
            ioprio: 6,
            off: 64,
            addr: buf.as_ptr() as u64,
            len: 16,
            op_flags: RwFlags::APPEND.bits(),
            buf_index: 3,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = WriteFixed::new(Fd(2), buf.as_ptr(), 1, 0).build();
        assert_eq!(e.0, Sqe { opcode: 5, fd: 2, addr: buf.as_ptr() as u64, len: 1, ..Sqe::default() });
    }

    #[test]
    fn read_multi_sets_buffer_select() {
        let e = ReadMulti::new(Fd(8), 0, 12).build();
        let want = Sqe { opcode: 49, flags: 1 << 5, fd: 8, buf_index: 12, ..Sqe::default() };
        assert_eq!(e.0, want);
        let e = ReadMulti::new(Fd(8), 100, 12).offset(u64::MAX).build();
        let want = Sqe { opcode: 49, flags: 1 << 5, fd: 8, off: u64::MAX, len: 100, buf_index: 12, ..Sqe::default() };
        assert_eq!(e.0, want);
    }

    #[test]
    fn read_multi_keeps_fixed_file() {
        let e = ReadMulti::new(Fixed(3), 0, 1).offset(16).build();
        let want = Sqe { opcode: 49, flags: 1 | (1 << 5), fd: 3, off: 16, buf_index: 1, ..Sqe::default() };
        assert_eq!(e.0, want);
        // Flags the caller adds later are OR-ed on top.
        let e = ReadMulti::new(Fixed(3), 0, 1).build().flags(squeue::Flags::IO_LINK);
        assert_eq!(e.0.flags, 1 | (1 << 5) | squeue::Flags::IO_LINK.bits());
    }

    #[test]
    fn readv_fixed_encodes_every_field() {
        let iov = iovecs();
        let e = ReadvFixed::new(Fd(10), iov.as_ptr(), 2, 5).ioprio(3).offset(4096).rw_flags(RwFlags::NOWAIT).build();
        let want = Sqe {
            opcode: 60,
            fd: 10,
            ioprio: 3,
            off: 4096,
            addr: iov.as_ptr() as u64,
            len: 2,
            op_flags: RwFlags::NOWAIT.bits(),
            buf_index: 5,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = ReadvFixed::new(Fixed(0), iov.as_ptr(), 1, 0).build();
        assert_eq!(e.0, Sqe { opcode: 60, flags: 1, addr: iov.as_ptr() as u64, len: 1, ..Sqe::default() });
    }

    #[test]
    fn writev_fixed_encodes_every_field() {
        let iov = iovecs();
        let e = WritevFixed::new(Fixed(11), iov.as_ptr(), 2, 1).ioprio(4).offset(7).rw_flags(RwFlags::SYNC).build();
        let want = Sqe {
            opcode: 61,
            flags: 1,
            fd: 11,
            ioprio: 4,
            off: 7,
            addr: iov.as_ptr() as u64,
            len: 2,
            op_flags: RwFlags::SYNC.bits(),
            buf_index: 1,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = WritevFixed::new(Fd(1), iov.as_ptr(), 2, 0).build();
        assert_eq!(e.0, Sqe { opcode: 61, fd: 1, addr: iov.as_ptr() as u64, len: 2, ..Sqe::default() });
    }
}
