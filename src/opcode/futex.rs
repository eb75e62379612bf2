//! Futexes: [`FutexWait`], [`FutexWake`], [`FutexWaitV`].

use rustix::io_uring::{FutexWaitFlags, FutexWaitvFlags};

use super::{entry, sqe};
use crate::squeue::Entry;
use crate::sys::Sqe;
use crate::types;

/// The SQE shared by FUTEX_WAIT and FUTEX_WAKE: the `FUTEX2_*` flags go in
/// `fd`, the futex in `addr`, the value in `off`, the mask in `addr3`.
#[inline]
fn futex_sqe(
    code: u8,
    futex: *const u32,
    val: u64,
    mask: u64,
    futex_flags: FutexWaitFlags,
    flags: FutexWaitvFlags,
) -> Sqe {
    let mut sqe = sqe(code, futex_flags.bits() as i32);
    sqe.addr = futex as u64;
    sqe.off = val;
    sqe.addr3 = mask;
    sqe.op_flags = flags.bits();
    sqe
}

/// Sleeps until the futex at `futex` is woken, like `futex_wait(2)`
/// (`IORING_OP_FUTEX_WAIT`, 6.7; no man page; kernel: `io_uring/futex.c`).
///
/// If the futex no longer holds `val` when the request is armed it
/// completes at once with `EAGAIN`. Only wakes whose bitset shares a bit
/// with `mask` count (`FUTEX_BITSET_MATCH_ANY`, all ones, for any).
/// `futex_flags` are the `FUTEX2_*` flags: the size (`SIZE_U32`) and
/// usually `PRIVATE`. The result is 0 once woken.
#[derive(Debug)]
pub struct FutexWait {
    futex: *const u32,
    val: u64,
    mask: u64,
    futex_flags: FutexWaitFlags,
    flags: FutexWaitvFlags,
}

impl FutexWait {
    /// The opcode number, `IORING_OP_FUTEX_WAIT`.
    pub const CODE: u8 = 51;

    /// Waits on `futex` while it holds `val`.
    #[inline]
    pub fn new(futex: *const u32, val: u64, mask: u64, futex_flags: FutexWaitFlags) -> Self {
        FutexWait { futex, val, mask, futex_flags, flags: FutexWaitvFlags::empty() }
    }

    setters! {
        /// The SQE's `futex_flags`; none are defined and the kernel fails
        /// the request with `EINVAL` unless empty (default empty).
        flags: FutexWaitvFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        entry(futex_sqe(Self::CODE, self.futex, self.val, self.mask, self.futex_flags, self.flags))
    }
}

/// Wakes up to `val` waiters of the futex at `futex`, like
/// `futex_wake(2)` (`IORING_OP_FUTEX_WAKE`, 6.7; no man page; kernel:
/// `io_uring/futex.c`).
///
/// Only waiters whose bitset shares a bit with `mask` are woken.
/// `futex_flags` must match the waiters' (`FUTEX2_*`). The result is the
/// number woken.
#[derive(Debug)]
pub struct FutexWake {
    futex: *const u32,
    val: u64,
    mask: u64,
    futex_flags: FutexWaitFlags,
    flags: FutexWaitvFlags,
}

impl FutexWake {
    /// The opcode number, `IORING_OP_FUTEX_WAKE`.
    pub const CODE: u8 = 52;

    /// Wakes at most `val` waiters of `futex`.
    #[inline]
    pub fn new(futex: *const u32, val: u64, mask: u64, futex_flags: FutexWaitFlags) -> Self {
        FutexWake { futex, val, mask, futex_flags, flags: FutexWaitvFlags::empty() }
    }

    setters! {
        /// The SQE's `futex_flags`; none are defined and the kernel fails
        /// the request with `EINVAL` unless empty (default empty).
        flags: FutexWaitvFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        entry(futex_sqe(Self::CODE, self.futex, self.val, self.mask, self.futex_flags, self.flags))
    }
}

/// Sleeps until any futex of a vector is woken, like `futex_waitv(2)`
/// (`IORING_OP_FUTEX_WAITV`, 6.7; no man page; kernel: `io_uring/futex.c`).
///
/// `futexv` points at `nr_futex` (1 to 128) [`types::FutexWaitV`] entries,
/// each with its futex, expected value and `FUTEX2_*` flags. If one no
/// longer holds its value the request completes at once with `EAGAIN`;
/// otherwise the result is the index of the futex that was woken.
#[derive(Debug)]
pub struct FutexWaitV {
    futexv: *const types::FutexWaitV,
    nr_futex: u32,
    flags: FutexWaitvFlags,
}

impl FutexWaitV {
    /// The opcode number, `IORING_OP_FUTEX_WAITV`.
    pub const CODE: u8 = 53;

    /// Waits on the `nr_futex` futexes at `futexv`.
    #[inline]
    pub fn new(futexv: *const types::FutexWaitV, nr_futex: u32) -> Self {
        FutexWaitV { futexv, nr_futex, flags: FutexWaitvFlags::empty() }
    }

    setters! {
        /// The SQE's `futex_flags`; none are defined and the kernel fails
        /// the request with `EINVAL` unless empty (default empty).
        flags: FutexWaitvFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        // fd stays 0: the kernel rejects anything else for WAITV.
        let mut sqe = sqe(Self::CODE, 0);
        sqe.addr = self.futexv as u64;
        sqe.len = self.nr_futex;
        sqe.op_flags = self.flags.bits();
        entry(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U32_PRIVATE: FutexWaitFlags = FutexWaitFlags::SIZE_U32.union(FutexWaitFlags::PRIVATE);

    #[test]
    fn futex_wait_encodes_every_field() {
        let word = 0u32;
        let p = &word as *const u32;
        let e = FutexWait::new(p, 5, 0xff, U32_PRIVATE).flags(FutexWaitvFlags::from_bits_retain(4)).build();
        let want = Sqe { opcode: 51, fd: 2 | 128, addr: p as u64, off: 5, addr3: 0xff, op_flags: 4, ..Sqe::default() };
        assert_eq!(e.0, want);
        let d = FutexWait::new(p, 0, u64::from(u32::MAX), FutexWaitFlags::SIZE_U32).build();
        assert_eq!(d.0, Sqe { opcode: 51, fd: 2, addr: p as u64, addr3: 0xffff_ffff, ..Sqe::default() });
    }

    #[test]
    fn futex_wake_encodes_every_field() {
        let word = 0u32;
        let p = &word as *const u32;
        let e = FutexWake::new(p, 3, 0x0f, U32_PRIVATE).flags(FutexWaitvFlags::from_bits_retain(1)).build();
        let want = Sqe { opcode: 52, fd: 130, addr: p as u64, off: 3, addr3: 0x0f, op_flags: 1, ..Sqe::default() };
        assert_eq!(e.0, want);
        let d = FutexWake::new(p, 1, 1, U32_PRIVATE).build();
        assert_eq!(d.0, Sqe { opcode: 52, fd: 130, addr: p as u64, off: 1, addr3: 1, ..Sqe::default() });
    }

    #[test]
    fn futex_waitv_encodes_every_field() {
        let v = [types::FutexWaitV::new(); 2];
        let e = FutexWaitV::new(v.as_ptr(), 2).flags(FutexWaitvFlags::from_bits_retain(8)).build();
        let want = Sqe { opcode: 53, fd: 0, addr: v.as_ptr() as u64, len: 2, op_flags: 8, ..Sqe::default() };
        assert_eq!(e.0, want);
        let d = FutexWaitV::new(v.as_ptr(), 1).build();
        assert_eq!(d.0, Sqe { opcode: 53, addr: v.as_ptr() as u64, len: 1, ..Sqe::default() });
    }
}
