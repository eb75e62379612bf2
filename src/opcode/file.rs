//! File data: syncing, allocating, advising, truncating: [`Fsync`],
//! [`SyncFileRange`], [`Fallocate`], [`Fadvise`], [`Madvise`],
//! [`Ftruncate`].

use core::ffi::c_void;

use rustix::io_uring::Advice;

use super::{entry, prep_rw, sqe};
use crate::squeue::Entry;
use crate::types::sealed::{Target, UseFixed};
use crate::types::FsyncFlags;

/// Flushes a file's data and metadata to storage, like `fsync(2)`, or only
/// its data with [`FsyncFlags::DATASYNC`], like `fdatasync(2)`
/// (`IORING_OP_FSYNC`, 5.1; `io_uring_prep_fsync(3)`).
///
/// `offset` and `len` limit the flush to a byte range; both 0 (the
/// default) means the whole file.
#[derive(Debug)]
pub struct Fsync {
    fd: Target,
    flags: FsyncFlags,
    offset: u64,
    len: u32,
}

impl Fsync {
    /// The opcode number, `IORING_OP_FSYNC`.
    pub const CODE: u8 = 3;

    /// Syncs all of `fd`.
    #[inline]
    pub fn new(fd: impl UseFixed) -> Self {
        Fsync { fd: fd.into_target(), flags: FsyncFlags::empty(), offset: 0, len: 0 }
    }

    setters! {
        /// `DATASYNC` skips metadata not needed to read the data back
        /// (default none).
        flags: FsyncFlags;
        /// Start of the range to sync (default 0).
        offset: u64;
        /// Length of the range to sync; 0 with `offset` 0 is the whole file
        /// (default 0).
        len: u32;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, 0, self.len, self.offset);
        sqe.op_flags = self.flags.bits();
        entry(sqe)
    }
}

/// Starts or waits for write-out of a byte range, like `sync_file_range(2)`
/// (`IORING_OP_SYNC_FILE_RANGE`, 5.2; `io_uring_prep_sync_file_range(3)`).
///
/// `len` 0 means "to the end of the file".
#[derive(Debug)]
pub struct SyncFileRange {
    fd: Target,
    len: u32,
    offset: u64,
    flags: u32,
}

impl SyncFileRange {
    /// The opcode number, `IORING_OP_SYNC_FILE_RANGE`.
    pub const CODE: u8 = 8;

    /// Syncs `len` bytes of `fd` from offset 0 (see [`offset`](Self::offset)).
    #[inline]
    pub fn new(fd: impl UseFixed, len: u32) -> Self {
        SyncFileRange { fd: fd.into_target(), len, offset: 0, flags: 0 }
    }

    setters! {
        /// Start of the range (default 0).
        offset: u64;
        /// `SYNC_FILE_RANGE_WAIT_BEFORE` (1), `_WRITE` (2), `_WAIT_AFTER`
        /// (4) (default 0, which does nothing).
        flags: u32;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, 0, self.len, self.offset);
        sqe.op_flags = self.flags;
        entry(sqe)
    }
}

/// Allocates, deallocates or zeroes disk space for a byte range, like
/// `fallocate(2)` (`IORING_OP_FALLOCATE`, 5.6; `io_uring_prep_fallocate(3)`).
#[derive(Debug)]
pub struct Fallocate {
    fd: Target,
    len: u64,
    offset: u64,
    mode: i32,
}

impl Fallocate {
    /// The opcode number, `IORING_OP_FALLOCATE`.
    pub const CODE: u8 = 17;

    /// Allocates `len` bytes of `fd` from offset 0 (see
    /// [`offset`](Self::offset)).
    #[inline]
    pub fn new(fd: impl UseFixed, len: u64) -> Self {
        Fallocate { fd: fd.into_target(), len, offset: 0, mode: 0 }
    }

    setters! {
        /// Start of the range (default 0).
        offset: u64;
        /// `FALLOC_FL_*` mode: `KEEP_SIZE`, `PUNCH_HOLE`, `ZERO_RANGE`, ...
        /// (default 0: allocate and extend the file size).
        mode: i32;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let sqe = prep_rw(Self::CODE, self.fd, self.len, self.mode as u32, self.offset);
        entry(sqe)
    }
}

/// Declares how a byte range of a file will be accessed, like
/// `posix_fadvise(2)` (`IORING_OP_FADVISE`, 5.6; `io_uring_prep_fadvise(3)`).
///
/// `len` 0 means "to the end of the file". For ranges of 4 GiB or more,
/// [`len64`](Self::len64) carries a 64-bit length.
#[derive(Debug)]
pub struct Fadvise {
    fd: Target,
    len: u32,
    advice: Advice,
    offset: u64,
    len64: u64,
}

impl Fadvise {
    /// The opcode number, `IORING_OP_FADVISE`.
    pub const CODE: u8 = 24;

    /// Advises about `len` bytes of `fd` from offset 0 (see
    /// [`offset`](Self::offset)).
    #[inline]
    pub fn new(fd: impl UseFixed, len: u32, advice: Advice) -> Self {
        Fadvise { fd: fd.into_target(), len, advice, offset: 0, len64: 0 }
    }

    setters! {
        /// Start of the range (default 0).
        offset: u64;
        /// A 64-bit length, sent in the SQE's `addr` (as liburing's
        /// `*advise64` does). When it is non-zero the kernel uses it and
        /// ignores the 32-bit `len`; 0 (the default) leaves `len` in charge.
        /// Verified on 6.18; kernels from before this extension read only
        /// `len` and are expected to refuse a non-zero `addr` with EINVAL.
        len64: u64;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.len64, self.len, self.offset);
        sqe.op_flags = self.advice as u32;
        entry(sqe)
    }
}

/// Gives advice about a range of the caller's memory, like `madvise(2)`
/// (`IORING_OP_MADVISE`, 5.6; `io_uring_prep_madvise(3)`).
///
/// The advice number is passed as is: `Advice::Normal` ..
/// `Advice::DontNeed` equal `MADV_NORMAL` .. `MADV_DONTNEED` on most
/// architectures (`POSIX_FADV_*` and `MADV_*` share 0..=4; not on s390x,
/// where `POSIX_FADV_DONTNEED` is 6). For
/// regions of 4 GiB or more, [`len64`](Self::len64) carries a 64-bit
/// length.
#[derive(Debug)]
pub struct Madvise {
    addr: *const c_void,
    len: u32,
    advice: Advice,
    len64: u64,
}

impl Madvise {
    /// The opcode number, `IORING_OP_MADVISE`.
    pub const CODE: u8 = 25;

    /// Advises about `len` bytes at `addr` (page-aligned).
    #[inline]
    pub fn new(addr: *const c_void, len: u32, advice: Advice) -> Self {
        Madvise { addr, len, advice, len64: 0 }
    }

    setters! {
        /// A 64-bit length, sent in the SQE's `off` (as liburing's
        /// `*advise64` does). When it is non-zero the kernel uses it and
        /// ignores the 32-bit `len`; 0 (the default) leaves `len` in charge.
        /// Verified on 6.18; kernels from before this extension read only
        /// `len` and are expected to refuse a non-zero `off` with EINVAL.
        len64: u64;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, -1);
        sqe.addr = self.addr as u64;
        sqe.len = self.len;
        sqe.off = self.len64;
        sqe.op_flags = self.advice as u32;
        entry(sqe)
    }
}

/// Sets a file's size, like `ftruncate(2)` (`IORING_OP_FTRUNCATE`, 6.9;
/// no man page; kernel: `io_uring/truncate.c`).
#[derive(Debug)]
pub struct Ftruncate {
    fd: Target,
    len: u64,
}

impl Ftruncate {
    /// The opcode number, `IORING_OP_FTRUNCATE`.
    pub const CODE: u8 = 55;

    /// Truncates or extends `fd` to `len` bytes.
    #[inline]
    pub fn new(fd: impl UseFixed, len: u64) -> Self {
        Ftruncate { fd: fd.into_target(), len }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        entry(prep_rw(Self::CODE, self.fd, 0, 0, self.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Sqe;
    use crate::types::{Fd, Fixed};

    #[test]
    fn fsync_encodes_every_field() {
        let e = Fsync::new(Fd(4)).flags(FsyncFlags::DATASYNC).offset(8192).len(4096).build();
        let want = Sqe { opcode: 3, fd: 4, off: 8192, len: 4096, op_flags: 1, ..Sqe::default() };
        assert_eq!(e.0, want);
        assert_eq!(Fsync::new(Fd(4)).build().0, Sqe { opcode: 3, fd: 4, ..Sqe::default() });
        assert_eq!(Fsync::new(Fixed(2)).build().0, Sqe { opcode: 3, fd: 2, flags: 1, ..Sqe::default() });
    }

    #[test]
    fn sync_file_range_encodes_every_field() {
        let e = SyncFileRange::new(Fd(4), 100).offset(1 << 40).flags(7).build();
        let want = Sqe { opcode: 8, fd: 4, off: 1 << 40, len: 100, op_flags: 7, ..Sqe::default() };
        assert_eq!(e.0, want);
        assert_eq!(SyncFileRange::new(Fd(4), 100).build().0, Sqe { off: 0, op_flags: 0, ..want });
    }

    #[test]
    fn fallocate_puts_length_in_addr_and_mode_in_len() {
        let e = Fallocate::new(Fixed(1), 1 << 33).offset(4096).mode(3).build();
        let want = Sqe { opcode: 17, flags: 1, fd: 1, addr: 1 << 33, len: 3, off: 4096, ..Sqe::default() };
        assert_eq!(e.0, want);
        let e = Fallocate::new(Fd(5), 10).build();
        assert_eq!(e.0, Sqe { opcode: 17, fd: 5, addr: 10, ..Sqe::default() });
    }

    #[test]
    fn fadvise_encodes_every_field_len64_in_addr() {
        let e = Fadvise::new(Fd(4), 4096, Advice::DontNeed).offset(1 << 20).len64(5 << 30).build();
        let want = Sqe {
            opcode: 24,
            fd: 4,
            off: 1 << 20,
            addr: 5 << 30,
            len: 4096,
            op_flags: Advice::DontNeed as u32,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = Fadvise::new(Fd(4), 4096, Advice::Random).build();
        assert_eq!(e.0, Sqe { opcode: 24, fd: 4, len: 4096, op_flags: 1, ..Sqe::default() });
    }

    #[test]
    fn madvise_encodes_every_field_len64_in_off() {
        let p = 0x7000_f000usize as *const c_void;
        let e = Madvise::new(p, 8192, Advice::DontNeed).len64(6 << 30).build();
        let want =
            Sqe { opcode: 25, fd: -1, addr: 0x7000_f000, len: 8192, off: 6 << 30, op_flags: 4, ..Sqe::default() };
        assert_eq!(e.0, want);
        assert_eq!(Madvise::new(p, 8192, Advice::DontNeed).build().0, Sqe { off: 0, ..want });
    }

    #[test]
    fn ftruncate_puts_length_in_off() {
        let e = Ftruncate::new(Fd(4), 1 << 35).build();
        assert_eq!(e.0, Sqe { opcode: 55, fd: 4, off: 1 << 35, ..Sqe::default() });
        let e = Ftruncate::new(Fixed(7), 0).build();
        assert_eq!(e.0, Sqe { opcode: 55, flags: 1, fd: 7, ..Sqe::default() });
    }
}
