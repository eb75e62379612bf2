//! Restrictions: limit which register calls, opcodes and SQE flags a ring
//! accepts, set once while the ring is still disabled
//! (`IORING_SETUP_R_DISABLED`; `IORING_REGISTER_RESTRICTIONS` in
//! `io_uring_register(2)`).

use core::ptr;

use rustix::io::Result;
use rustix::io_uring::{IoringRegisterOp, IoringSqeFlags};

use super::Opcode;
use crate::submit::RingHandle;
use crate::sys::{self, RawRestriction};
use crate::Submitter;

/// One rule of a restriction set (`struct io_uring_restriction`).
///
/// Once restrictions are registered, everything not allowed by some rule
/// fails with `EACCES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Restriction(RawRestriction);

mod private {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for rustix::io_uring::IoringRegisterOp {}
}

/// Something that names a register opcode: a raw `u8` (for opcodes
/// rustix's enum lacks, e.g. 32 and up) or rustix's `IoringRegisterOp`.
/// Sealed.
pub trait RegisterOpcode: private::Sealed + Copy {
    /// The register opcode number.
    fn number(self) -> u8;
}

impl RegisterOpcode for u8 {
    #[inline]
    fn number(self) -> u8 {
        self
    }
}

impl RegisterOpcode for IoringRegisterOp {
    #[inline]
    fn number(self) -> u8 {
        self as u8
    }
}

impl Restriction {
    const fn rule(kind: u16, arg: u8) -> Self {
        Restriction(RawRestriction { opcode: kind, arg, resv: 0, resv2: [0; 3] })
    }

    /// Allows the register call `op` (`IORING_RESTRICTION_REGISTER_OP`).
    #[inline]
    pub fn register_op(op: impl RegisterOpcode) -> Self {
        Self::rule(sys::RESTRICTION_REGISTER_OP, op.number())
    }

    /// Allows submitting opcode `op`, e.g. `opcode::Read::CODE`
    /// (`IORING_RESTRICTION_SQE_OP`).
    #[inline]
    pub fn sqe_op(op: impl Opcode) -> Self {
        Self::rule(sys::RESTRICTION_SQE_OP, op.number())
    }

    /// Allows these SQE flags (`IORING_RESTRICTION_SQE_FLAGS_ALLOWED`).
    #[inline]
    pub fn sqe_flags_allowed(flags: IoringSqeFlags) -> Self {
        Self::rule(sys::RESTRICTION_SQE_FLAGS_ALLOWED, flags.bits())
    }

    /// Requires these SQE flags on every submission
    /// (`IORING_RESTRICTION_SQE_FLAGS_REQUIRED`).
    #[inline]
    pub fn sqe_flags_required(flags: IoringSqeFlags) -> Self {
        Self::rule(sys::RESTRICTION_SQE_FLAGS_REQUIRED, flags.bits())
    }
}

/// `struct io_uring_task_restriction` with its `N` rules: restrictions
/// for every ring a task creates (7.0). The header and the rules lie in one
/// block, as the kernel reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct TaskRestrictions<const N: usize> {
    flags: u16,
    nr_res: u16,
    resv: [u32; 3],
    rules: [Restriction; N],
}

impl<const N: usize> TaskRestrictions<N> {
    /// The rules `rules` (at most 65,535; more are refused with `EINVAL`
    /// when registered).
    pub const fn new(rules: [Restriction; N]) -> Self {
        let nr_res = if N > u16::MAX as usize { u16::MAX } else { N as u16 };
        TaskRestrictions { flags: 0, nr_res, resv: [0; 3], rules }
    }

    /// The rules.
    pub const fn rules(&self) -> &[Restriction; N] {
        &self.rules
    }
}

/// Restricts every ring the calling task creates from now on, and those of
/// the children it forks, to `res` (`IORING_REGISTER_RESTRICTIONS` with fd
/// -1, 7.0; `EINVAL` before; `io_uring_register(2)` describes the rules,
/// not yet the task-wide form; kernel: `io_uring/register.c`).
/// Rings created afterwards refuse what the rules do not allow with
/// `EACCES`. It cannot be undone.
pub fn register_task_restrictions<const N: usize>(res: &TaskRestrictions<N>) -> Result<()> {
    if N > usize::from(u16::MAX) {
        return Err(rustix::io::Errno::INVAL);
    }
    // SAFETY: (S1) the kernel reads the header and `nr_res` rules that follow it,
    // all inside `res`; fd -1 is the task-wide form, nr_args 1.
    unsafe { sys::syscall::register(-1, sys::REGISTER_RESTRICTIONS, ptr::from_ref(res).cast(), 1) }?;
    Ok(())
}

static_assertions::assert_eq_size!(TaskRestrictions<0>, [u8; 16]);
static_assertions::assert_eq_size!(TaskRestrictions<2>, [u8; 48]);

impl<H: RingHandle> Submitter<'_, H> {
    /// Installs `res` as the ring's only permitted operations
    /// (`IORING_REGISTER_RESTRICTIONS`, 5.10; `io_uring_register(2)`). Only
    /// on a ring built with
    /// [`setup_r_disabled`](crate::Builder::setup_r_disabled), and only once.
    pub fn register_restrictions(&self, res: &mut [Restriction]) -> Result<()> {
        let nr = u32::try_from(res.len()).map_err(|_| rustix::io::Errno::INVAL)?;
        // SAFETY: (S1) the kernel reads `nr` io_uring_restriction structs
        // (Restriction is repr(transparent) over that layout).
        unsafe { self.register_raw(sys::REGISTER_RESTRICTIONS, res.as_ptr().cast(), nr) }?;
        Ok(())
    }

    /// Starts a ring built with
    /// [`setup_r_disabled`](crate::Builder::setup_r_disabled)
    /// (`IORING_REGISTER_ENABLE_RINGS`, 5.10; `io_uring_register(2)`).
    pub fn register_enable_rings(&self) -> Result<()> {
        // SAFETY: (S1) no argument.
        unsafe { self.register_raw(sys::REGISTER_ENABLE_RINGS, ptr::null(), 0) }?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_encode_kind_and_argument() {
        let r = Restriction::sqe_op(22u8);
        assert_eq!((r.0.opcode, r.0.arg), (1, 22));
        let r = Restriction::register_op(IoringRegisterOp::RegisterBuffers);
        assert_eq!((r.0.opcode, r.0.arg), (0, 0));
        let r = Restriction::register_op(35u8);
        assert_eq!((r.0.opcode, r.0.arg), (0, 35));
        let r = Restriction::sqe_flags_allowed(IoringSqeFlags::IO_LINK);
        assert_eq!((r.0.opcode, r.0.arg), (2, 4));
        let r = Restriction::sqe_flags_required(IoringSqeFlags::FIXED_FILE);
        assert_eq!((r.0.opcode, r.0.arg, r.0.resv, r.0.resv2), (3, 1, 0, [0; 3]));
    }
}
