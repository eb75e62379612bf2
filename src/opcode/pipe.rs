//! Pipes and moving data between fds: [`Pipe`], [`Splice`], [`Tee`].

use rustix::fd::RawFd;
use rustix::io_uring::SpliceFlags;

use super::{entry, set_target, sqe};
use crate::squeue::Entry;
use crate::sys;
use crate::types::sealed::{Target, UseFixed};
use crate::types::DestinationSlot;

/// Creates a pipe, like `pipe2(2)` (`IORING_OP_PIPE`, 6.16; no man page;
/// kernel: `io_uring/openclose.c`).
///
/// The kernel stores the read end in `fds[0]` and the write end in
/// `fds[1]`, so `fds` must point at two writable `RawFd`s that live until
/// the completion. With `file_index`, both ends become direct descriptors
/// instead: slot `n` gets the read end and slot `n + 1` the write end
/// (the pair must fit in the table, else `EINVAL`), and `fds` receives the
/// two slot numbers. With [`DestinationSlot::auto_target`] the kernel picks
/// any two free slots, not necessarily adjacent or in order (`ENFILE` when
/// none are left). The result is 0 on success.
#[derive(Debug)]
pub struct Pipe {
    fds: *mut RawFd,
    flags: u32,
    file_index: Option<DestinationSlot>,
}

impl Pipe {
    /// The opcode number, `IORING_OP_PIPE`.
    pub const CODE: u8 = 62;

    /// Creates a pipe whose two fds land in `fds[0]` (read) and `fds[1]` (write).
    #[inline]
    pub fn new(fds: *mut RawFd) -> Self {
        Pipe { fds, flags: 0, file_index: None }
    }

    setters! {
        /// `pipe2(2)` flags: `O_CLOEXEC`, `O_NONBLOCK`, `O_DIRECT`,
        /// `O_NOTIFICATION_PIPE` (default 0).
        flags: u32;
        /// Install both ends in the registered-file table, starting at this
        /// slot, instead of returning plain fds (default `None`).
        file_index: Option<DestinationSlot>;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        // The kernel requires `fd` to be 0 for this operation.
        let mut sqe = sqe(Self::CODE, 0);
        sqe.addr = self.fds as u64;
        sqe.op_flags = self.flags;
        sqe.file_index = DestinationSlot::encode(self.file_index);
        entry(sqe)
    }
}

/// Moves up to `len` bytes from `fd_in` to `fd_out` without copying
/// through user memory, like `splice(2)` (`IORING_OP_SPLICE`, 5.7;
/// `io_uring_prep_splice(3)`).
///
/// At least one side must be a pipe. An offset of -1 means "no offset":
/// the file position is used (and must be -1 for a pipe). A
/// [`Fixed`](crate::types::Fixed) `fd_in` sets `SPLICE_F_FD_IN_FIXED`; a
/// fixed `fd_out` sets `IOSQE_FIXED_FILE`. The result is the number of
/// bytes moved (0 at end of input).
#[derive(Debug)]
pub struct Splice {
    fd_in: Target,
    off_in: i64,
    fd_out: Target,
    off_out: i64,
    len: u32,
    flags: SpliceFlags,
}

impl Splice {
    /// The opcode number, `IORING_OP_SPLICE`.
    pub const CODE: u8 = 30;

    /// Moves `len` bytes from `fd_in` at `off_in` to `fd_out` at `off_out`.
    #[inline]
    pub fn new(fd_in: impl UseFixed, off_in: i64, fd_out: impl UseFixed, off_out: i64, len: u32) -> Self {
        Splice {
            fd_in: fd_in.into_target(),
            off_in,
            fd_out: fd_out.into_target(),
            off_out,
            len,
            flags: SpliceFlags::empty(),
        }
    }

    setters! {
        /// `SPLICE_F_*` flags, as for `splice(2)` (default none).
        flags: SpliceFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        set_target(&mut sqe, self.fd_out);
        sqe.off = self.off_out as u64;
        sqe.addr = self.off_in as u64;
        sqe.len = self.len;
        sqe.op_flags = self.flags.bits();
        set_input(&mut sqe, self.fd_in);
        entry(sqe)
    }
}

/// Duplicates up to `len` bytes from pipe `fd_in` into pipe `fd_out`
/// without consuming them, like `tee(2)` (`IORING_OP_TEE`, 5.8;
/// `io_uring_prep_tee(3)`).
///
/// Both ends must be pipes. A [`Fixed`](crate::types::Fixed) `fd_in` sets
/// `SPLICE_F_FD_IN_FIXED`. The result is the number of bytes duplicated.
#[derive(Debug)]
pub struct Tee {
    fd_in: Target,
    fd_out: Target,
    len: u32,
    flags: SpliceFlags,
}

impl Tee {
    /// The opcode number, `IORING_OP_TEE`.
    pub const CODE: u8 = 33;

    /// Duplicates `len` bytes from `fd_in` into `fd_out`.
    #[inline]
    pub fn new(fd_in: impl UseFixed, fd_out: impl UseFixed, len: u32) -> Self {
        Tee { fd_in: fd_in.into_target(), fd_out: fd_out.into_target(), len, flags: SpliceFlags::empty() }
    }

    setters! {
        /// `SPLICE_F_*` flags, as for `tee(2)` (default none).
        flags: SpliceFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        set_target(&mut sqe, self.fd_out);
        sqe.len = self.len;
        sqe.op_flags = self.flags.bits();
        set_input(&mut sqe, self.fd_in);
        entry(sqe)
    }
}

/// Encodes the input file of a splice or tee: `splice_fd_in`, plus
/// `SPLICE_F_FD_IN_FIXED` for a registered file.
#[inline]
const fn set_input(sqe: &mut sys::Sqe, fd_in: Target) {
    match fd_in {
        Target::Fd(fd) => sqe.file_index = fd as u32,
        Target::Fixed(index) => {
            sqe.file_index = index;
            sqe.op_flags |= sys::SPLICE_F_FD_IN_FIXED;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Sqe;
    use crate::types::{Fd, Fixed};

    #[test]
    fn pipe_defaults() {
        let mut fds = [0 as RawFd; 2];
        let e = Pipe::new(fds.as_mut_ptr()).build();
        assert_eq!(e.0, Sqe { opcode: 62, addr: fds.as_ptr() as u64, ..Sqe::default() });
    }

    #[test]
    fn pipe_encodes_every_field() {
        let mut fds = [0 as RawFd; 2];
        let slot = DestinationSlot::try_from_slot_target(4).unwrap();
        let e = Pipe::new(fds.as_mut_ptr()).flags(0o2000000).file_index(Some(slot)).build();
        let want = Sqe { opcode: 62, addr: fds.as_ptr() as u64, op_flags: 0o2000000, file_index: 5, ..Sqe::default() };
        assert_eq!(e.0, want);
        let e = Pipe::new(fds.as_mut_ptr()).file_index(Some(DestinationSlot::auto_target())).build();
        assert_eq!(e.0, Sqe { opcode: 62, addr: fds.as_ptr() as u64, file_index: u32::MAX, ..Sqe::default() });
    }

    #[test]
    fn splice_with_plain_fds() {
        let e = Splice::new(Fd(3), 100, Fd(4), -1, 4096).flags(SpliceFlags::from_bits_retain(2)).build();
        let want = Sqe {
            opcode: 30,
            fd: 4,
            off: u64::MAX,
            addr: 100,
            len: 4096,
            op_flags: 2,
            file_index: 3,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = Splice::new(Fd(3), -1, Fd(4), 0, 1).build();
        assert_eq!(e.0, Sqe { opcode: 30, fd: 4, addr: u64::MAX, len: 1, file_index: 3, ..Sqe::default() });
    }

    #[test]
    fn splice_with_fixed_files() {
        let e = Splice::new(Fixed(1), 8, Fixed(2), 16, 32).flags(SpliceFlags::from_bits_retain(1)).build();
        let want = Sqe {
            opcode: 30,
            flags: 1,
            fd: 2,
            off: 16,
            addr: 8,
            len: 32,
            op_flags: 1 | (1 << 31),
            file_index: 1,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        // Only the input is fixed: no IOSQE_FIXED_FILE.
        let e = Splice::new(Fixed(0), -1, Fd(9), -1, 2).build();
        let want =
            Sqe { opcode: 30, fd: 9, off: u64::MAX, addr: u64::MAX, len: 2, op_flags: 1 << 31, ..Sqe::default() };
        assert_eq!(e.0, want);
    }

    #[test]
    fn tee_encodes_every_field() {
        let e = Tee::new(Fd(5), Fd(6), 64).flags(SpliceFlags::from_bits_retain(2)).build();
        assert_eq!(e.0, Sqe { opcode: 33, fd: 6, len: 64, op_flags: 2, file_index: 5, ..Sqe::default() });
        let e = Tee::new(Fixed(7), Fixed(8), 1).build();
        let want = Sqe { opcode: 33, flags: 1, fd: 8, len: 1, op_flags: 1 << 31, file_index: 7, ..Sqe::default() };
        assert_eq!(e.0, want);
    }
}
