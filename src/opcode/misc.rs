//! Operations on the ring itself and small odds and ends: [`Nop`],
//! [`Nop128`], [`WaitId`], [`FilesUpdate`], [`FixedFdInstall`].

use core::ffi::c_void;

use rustix::fd::RawFd;
use rustix::io_uring::IoringFixedFdFlags;

use super::{entry, sqe};
use crate::squeue::{Entry, Entry128, Flags};
use crate::sys::{self, Sqe};
use crate::types::sealed::{Target, UseFixed};
use crate::types::Fixed;

/// Does nothing and completes with result 0: for measuring the ring and
/// waking a waiter (`IORING_OP_NOP`, 5.1; `io_uring_prep_nop(3)`).
///
/// The optional setters turn on the kernel's test hooks (`nop_flags`,
/// 6.10 and later, `CQE32` 6.18): a chosen result, a file or fixed buffer
/// lookup, and a 32-byte completion payload. Kernels without a hook fail
/// the request with `EINVAL`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nop {
    result: Option<i32>,
    file: Option<Target>,
    buf_index: Option<u16>,
    cqe32: Option<(u64, u64)>,
}

impl Nop {
    /// The opcode number, `IORING_OP_NOP`.
    pub const CODE: u8 = 0;

    /// A no-op.
    #[inline]
    pub const fn new() -> Self {
        Nop { result: None, file: None, buf_index: None, cqe32: None }
    }

    /// Completes with `result` instead of 0 (`IORING_NOP_INJECT_RESULT`,
    /// 6.10). A negative value is posted as that error (e.g. `-EAGAIN`)
    /// and breaks a link like a real failure.
    #[inline]
    pub const fn inject_result(mut self, result: i32) -> Self {
        self.result = Some(result);
        self
    }

    /// Looks up `fd` as the request's file first (`IORING_NOP_FILE`, plus
    /// `IORING_NOP_FIXED_FILE` for a registered [`Fixed`] index); a
    /// missing file completes with `EBADF`. The fixed form names the slot
    /// in `nop_flags` only, not with `IOSQE_FIXED_FILE`.
    #[inline]
    pub fn fd(mut self, fd: impl UseFixed) -> Self {
        self.file = Some(fd.into_target());
        self
    }

    /// Looks up registered buffer `buf_index` (`IORING_NOP_FIXED_BUFFER`);
    /// an empty or out-of-range slot completes with `EFAULT`.
    #[inline]
    pub const fn buf_index(mut self, buf_index: u16) -> Self {
        self.buf_index = Some(buf_index);
        self
    }

    /// Posts a 32-byte completion whose extra words are `big_cqe[0]` and
    /// `big_cqe[1]` (`IORING_NOP_CQE32`, 6.18). The ring must have 32-byte
    /// (or mixed-size) completions, else the request fails with `EINVAL`.
    #[inline]
    pub const fn cqe32_payload(mut self, first: u64, second: u64) -> Self {
        self.cqe32 = Some((first, second));
        self
    }

    /// The SQE of a NOP (or NOP128) with these options.
    #[inline]
    const fn encode(self, code: u8) -> Sqe {
        let mut sqe = sqe(code, -1);
        let mut flags = 0;
        if let Some(result) = self.result {
            flags |= sys::NOP_INJECT_RESULT;
            sqe.len = result as u32;
        }
        match self.file {
            Some(Target::Fd(fd)) => {
                flags |= sys::NOP_FILE;
                sqe.fd = fd;
            }
            Some(Target::Fixed(index)) => {
                flags |= sys::NOP_FILE | sys::NOP_FIXED_FILE;
                sqe.fd = index as i32;
            }
            None => {}
        }
        if let Some(index) = self.buf_index {
            flags |= sys::NOP_FIXED_BUFFER;
            sqe.buf_index = index;
        }
        if let Some((first, second)) = self.cqe32 {
            flags |= sys::NOP_CQE32;
            sqe.off = first;
            sqe.addr = second;
        }
        sqe.op_flags = flags;
        sqe
    }

    /// The submission entry.
    #[inline]
    pub const fn build(self) -> Entry {
        entry(self.encode(Self::CODE))
    }
}

/// A NOP carried in a 128-byte submission entry (`IORING_OP_NOP128`, 6.19;
/// no man page; kernel: `io_uring/nop.c`), for exercising rings that mix
/// 64- and 128-byte entries. It takes the same options as [`Nop`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Nop128 {
    nop: Nop,
}

impl Nop128 {
    /// The opcode number, `IORING_OP_NOP128`.
    pub const CODE: u8 = 63;

    /// A 128-byte no-op.
    #[inline]
    pub const fn new() -> Self {
        Nop128 { nop: Nop::new() }
    }

    /// Completes with `result` instead of 0, as [`Nop::inject_result`].
    #[inline]
    pub const fn inject_result(mut self, result: i32) -> Self {
        self.nop = self.nop.inject_result(result);
        self
    }

    /// Looks up a file first, as [`Nop::fd`].
    #[inline]
    pub fn fd(mut self, fd: impl UseFixed) -> Self {
        self.nop = self.nop.fd(fd);
        self
    }

    /// Looks up a registered buffer, as [`Nop::buf_index`].
    #[inline]
    pub const fn buf_index(mut self, buf_index: u16) -> Self {
        self.nop = self.nop.buf_index(buf_index);
        self
    }

    /// Posts a 32-byte completion payload, as [`Nop::cqe32_payload`].
    #[inline]
    pub const fn cqe32_payload(mut self, first: u64, second: u64) -> Self {
        self.nop = self.nop.cqe32_payload(first, second);
        self
    }

    /// The 128-byte submission entry; its second half is zero.
    #[inline]
    pub const fn build(self) -> Entry128 {
        Entry128(entry(self.nop.encode(Self::CODE)), [0u8; 64])
    }
}

/// Waits for a child process to change state, like `waitid(2)`
/// (`IORING_OP_WAITID`, 6.7; no man page; kernel: `io_uring/waitid.c`).
///
/// `idtype` is `P_PID`, `P_PGID`, `P_PIDFD` or `P_ALL`, `id` the process,
/// group or pidfd, `options` the `WEXITED`/`WSTOPPED`/`WNOHANG`/... mask.
/// The result is 0; the state lands in the `siginfo_t` at `infop`.
#[derive(Debug)]
pub struct WaitId {
    idtype: u32,
    id: u32,
    options: i32,
    infop: *mut c_void,
    flags: u32,
}

impl WaitId {
    /// The opcode number, `IORING_OP_WAITID`.
    pub const CODE: u8 = 50;

    /// Waits for the children selected by `idtype` and `id`.
    #[inline]
    pub fn new(idtype: u32, id: u32, options: i32) -> Self {
        WaitId { idtype, id, options, infop: core::ptr::null_mut(), flags: 0 }
    }

    setters! {
        /// Where the kernel writes a `siginfo_t` (128 bytes) describing the
        /// child (default null: not reported).
        infop: *mut c_void;
        /// `waitid_flags`; no flag is defined, and the kernel fails the
        /// request with `EINVAL` unless this is 0 (default 0).
        flags: u32;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, self.id as i32);
        sqe.len = self.idtype;
        sqe.file_index = self.options as u32;
        sqe.off = self.infop as u64;
        sqe.op_flags = self.flags;
        entry(sqe)
    }
}

/// Replaces slots of the registered-file table from within the ring
/// (`IORING_OP_FILES_UPDATE`, 5.6; `io_uring_prep_files_update(3)`).
///
/// Slots `offset..offset + len` get the fds of `fds[..len]`; -1 empties a
/// slot and `IORING_REGISTER_FILES_SKIP` (-2) keeps it. `offset` may be
/// `IORING_FILE_INDEX_ALLOC` (-1): the kernel then installs each fd in a
/// free slot and writes the chosen slots back into `fds`. The result is
/// the number of slots updated.
#[derive(Debug)]
pub struct FilesUpdate {
    fds: *const RawFd,
    len: u32,
    offset: i32,
}

impl FilesUpdate {
    /// The opcode number, `IORING_OP_FILES_UPDATE`.
    pub const CODE: u8 = 20;

    /// Puts `fds[..len]` into the table, starting at slot 0 unless
    /// [`offset`](Self::offset) says otherwise.
    #[inline]
    pub fn new(fds: *const RawFd, len: u32) -> Self {
        FilesUpdate { fds, len, offset: 0 }
    }

    setters! {
        /// The first slot to replace (default 0).
        offset: i32;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, -1);
        sqe.addr = self.fds as u64;
        sqe.len = self.len;
        sqe.off = self.offset as i64 as u64;
        entry(sqe)
    }
}

/// Turns a registered file into a regular fd of the process
/// (`IORING_OP_FIXED_FD_INSTALL`, 6.8; no man page; kernel:
/// `io_uring/openclose.c`).
///
/// The result is the new fd, which has `O_CLOEXEC` unless `file_flags`
/// holds `NO_CLOEXEC`. The slot stays registered.
#[derive(Debug)]
pub struct FixedFdInstall {
    fd: Fixed,
    file_flags: IoringFixedFdFlags,
}

impl FixedFdInstall {
    /// The opcode number, `IORING_OP_FIXED_FD_INSTALL`.
    pub const CODE: u8 = 54;

    /// Installs registered file `fd` with `file_flags`.
    #[inline]
    pub fn new(fd: Fixed, file_flags: IoringFixedFdFlags) -> Self {
        FixedFdInstall { fd, file_flags }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, self.fd.0 as i32);
        // The kernel insists on IOSQE_FIXED_FILE here: only registered files
        // can be installed.
        sqe.flags = Flags::FIXED_FILE.bits();
        sqe.op_flags = self.file_flags.bits();
        entry(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Fd;

    #[test]
    fn nop_encodes_opcode_zero_and_fd_minus_one() {
        let e = Nop::new().build();
        assert_eq!(e.0, Sqe { opcode: 0, fd: -1, ..Sqe::default() }, "every other field must be zero");
        let d = Nop::default().build();
        assert_eq!(d.0, e.0, "Default is new()");
    }

    #[test]
    fn nop_build_is_const() {
        const E: Entry = Nop::new().inject_result(3).build();
        assert_eq!(E.0.len, 3);
    }

    #[test]
    fn nop_encodes_every_option() {
        let e = Nop::new().inject_result(-11).fd(Fd(9)).buf_index(4).cqe32_payload(0xdead, 0xbeef).build();
        let want = Sqe {
            opcode: 0,
            fd: 9,
            len: (-11i32) as u32,
            buf_index: 4,
            off: 0xdead,
            addr: 0xbeef,
            op_flags: 1 | 2 | 8 | 32,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
    }

    #[test]
    fn nop_fixed_file_is_named_in_nop_flags_only() {
        let e = Nop::new().fd(Fixed(5)).build();
        assert_eq!(e.0, Sqe { opcode: 0, fd: 5, op_flags: 2 | 4, ..Sqe::default() });
    }

    #[test]
    fn nop_zero_result_is_still_injected() {
        let e = Nop::new().inject_result(0).build();
        assert_eq!(e.0, Sqe { opcode: 0, fd: -1, op_flags: 1, ..Sqe::default() });
    }

    #[test]
    fn nop128_fills_the_first_half_and_zeroes_the_tail() {
        let e = Nop128::new().build();
        assert_eq!(e.0 .0, Sqe { opcode: 63, fd: -1, ..Sqe::default() });
        assert_eq!(e.1, [0u8; 64]);
        let e = Nop128::new().inject_result(7).fd(Fixed(2)).buf_index(1).cqe32_payload(5, 6).build();
        let want = Sqe {
            opcode: 63,
            fd: 2,
            len: 7,
            buf_index: 1,
            off: 5,
            addr: 6,
            op_flags: 1 | 2 | 4 | 8 | 32,
            ..Sqe::default()
        };
        assert_eq!(e.0 .0, want);
        assert_eq!(e.1, [0u8; 64]);
        assert_eq!(Nop128::default().build().0 .0, Nop128::new().build().0 .0);
    }

    #[test]
    fn waitid_encodes_every_field() {
        let mut info = [0u8; 128];
        let p = info.as_mut_ptr().cast::<c_void>();
        let e = WaitId::new(1, 4242, 4).infop(p).flags(3).build();
        let want = Sqe { opcode: 50, fd: 4242, len: 1, file_index: 4, off: p as u64, op_flags: 3, ..Sqe::default() };
        assert_eq!(e.0, want);
        let d = WaitId::new(0, 0, 4).build();
        assert_eq!(d.0, Sqe { opcode: 50, file_index: 4, ..Sqe::default() });
    }

    #[test]
    fn files_update_encodes_every_field() {
        let fds = [3, 4, 5];
        let e = FilesUpdate::new(fds.as_ptr(), 3).offset(7).build();
        let want = Sqe { opcode: 20, fd: -1, addr: fds.as_ptr() as u64, len: 3, off: 7, ..Sqe::default() };
        assert_eq!(e.0, want);
        // A negative offset (FILE_INDEX_ALLOC) is sign-extended to 64 bits.
        let e = FilesUpdate::new(fds.as_ptr(), 1).offset(-1).build();
        assert_eq!(e.0.off, u64::MAX);
        let d = FilesUpdate::new(fds.as_ptr(), 2).build();
        assert_eq!(d.0, Sqe { opcode: 20, fd: -1, addr: fds.as_ptr() as u64, len: 2, ..Sqe::default() });
    }

    #[test]
    fn fixed_fd_install_sets_fixed_file() {
        let e = FixedFdInstall::new(Fixed(6), IoringFixedFdFlags::NO_CLOEXEC).build();
        assert_eq!(e.0, Sqe { opcode: 54, flags: 1, fd: 6, op_flags: 1, ..Sqe::default() });
        let d = FixedFdInstall::new(Fixed(0), IoringFixedFdFlags::empty()).build();
        assert_eq!(d.0, Sqe { opcode: 54, flags: 1, fd: 0, ..Sqe::default() });
    }
}
