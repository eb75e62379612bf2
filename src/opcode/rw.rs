//! Reading and writing files: [`Read`], [`Write`].

use super::{entry, prep_rw};
use crate::squeue::Entry;
use crate::types::sealed::{Target, UseFixed};
use crate::types::RwFlags;

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
        /// The provided-buffer group to pick from with `BUFFER_SELECT` (default 0).
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
}
