//! The three io_uring system calls.
//!
//! rustix's wrappers cannot express everything the kernel accepts: `fd = -1`
//! (`IORING_REGISTER_SEND_MSG_RING`, ring-less `QUERY`) and an `argsz` other
//! than 0, 8 or 24 (`IORING_ENTER_EXT_ARG_REG`, io-uring's generic
//! `enter<T>`); a registered ring index and register opcodes its enum lacks
//! need workarounds (a borrowed raw number; the opcode passed as flag
//! bits). So on x86_64, aarch64, riscv64 and 32-bit ARM (EABI) the calls
//! are made here, with the architecture's system-call convention (the one
//! rustix's `linux_raw` backend also follows). On any other architecture
//! (i686, powerpc64le, ...) they go through rustix, and the
//! forms rustix cannot express fail with `ENOSYS`; building with
//! `--cfg urix_rustix_fallback` selects that path on any architecture
//! so it can be tested.
//!
//! Everything else (mmap, munmap, madvise, errno decoding) is rustix's.

use core::ffi::c_void;
use rustix::io::{Errno, Result};

use super::abi::Params;

/// `io_uring_setup(entries, params)`: returns the new fd (or ring index).
///
/// # Safety
/// `params` must point to a writable `Params`; with `ATTACH_WQ` its `wq_fd`
/// must be an open fd; with `NO_MMAP` its `user_addr`s must point to memory
/// large enough for the rings the kernel will lay out there.
#[inline]
pub(crate) unsafe fn setup(entries: u32, params: *mut Params) -> Result<u32> {
    // SAFETY: (S1) forwarded from the caller.
    unsafe { imp::setup(entries, params) }
}

/// `io_uring_enter(fd, to_submit, min_complete, flags, arg, argsz)`.
///
/// # Safety
/// `arg`/`argsz` must be what `flags` tells the kernel to expect, and every
/// SQE published to the ring must be valid for the kernel to act on.
#[inline]
pub(crate) unsafe fn enter(
    fd: u32,
    to_submit: u32,
    min_complete: u32,
    flags: u32,
    arg: *const c_void,
    argsz: usize,
) -> Result<u32> {
    // SAFETY: (S1) forwarded from the caller.
    unsafe { imp::enter(fd, to_submit, min_complete, flags, arg, argsz) }
}

/// `io_uring_register(fd, opcode, arg, nr_args)`.
///
/// # Safety
/// `arg` must be valid for what `opcode` makes the kernel read and write.
#[inline]
pub(crate) unsafe fn register(fd: i32, opcode: u32, arg: *const c_void, nr_args: u32) -> Result<u32> {
    // SAFETY: (S1) forwarded from the caller.
    unsafe { imp::register(fd, opcode, arg, nr_args) }
}

#[cfg(all(
    not(urix_rustix_fallback),
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64",
        all(target_arch = "arm", any(target_abi = "eabi", target_abi = "eabihf"))
    )
))]
mod imp {
    use super::{Errno, Params, Result};
    use core::arch::asm;
    use core::ffi::c_void;

    /// Turns a raw syscall return into `Result`, as the kernel ABI defines it:
    /// values in `-4095..=-1` are negated errnos, everything else is success.
    #[inline(always)]
    fn decode(ret: isize) -> Result<u32> {
        // As unsigned numbers, the error values are the top 4095.
        if (ret as usize) < (-4095isize) as usize {
            Ok(ret as u32)
        } else {
            Err(errno(ret))
        }
    }

    /// The `Errno` of an error return; out of line, off the hot path.
    #[cold]
    #[inline(never)]
    fn errno(ret: isize) -> Errno {
        Errno::from_raw_os_error(-ret as i32)
    }

    // The io_uring syscalls have the same numbers on every architecture that
    // uses the generic table, on x86_64, and on 32-bit ARM's EABI
    // (arch/arm/tools/syscall.tbl; only the old ABI, which no Rust target
    // uses and the cfg above excludes, adds 0x900000).
    const NR_SETUP: usize = 425;
    const NR_ENTER: usize = 426;
    const NR_REGISTER: usize = 427;

    // Checked against the kernel's tables for the target being built
    // (`cargo test`, and `.ci/cross-check` for aarch64, riscv64 and armv7).
    #[cfg(test)]
    const _: () = {
        use linux_raw_sys::general as nr;
        assert!(NR_SETUP == nr::__NR_io_uring_setup as usize);
        assert!(NR_ENTER == nr::__NR_io_uring_enter as usize);
        assert!(NR_REGISTER == nr::__NR_io_uring_register as usize);
    };

    /// A six-argument Linux syscall.
    ///
    /// # Safety
    /// The syscall `nr` with these arguments must be safe to make.
    #[inline(always)]
    unsafe fn syscall6(nr: usize, a: [usize; 6]) -> isize {
        let ret: isize;
        // SAFETY: (S6) the kernel's syscall convention for this architecture; the
        // clobbered registers are declared, the stack is not touched and the
        // flags are restored by the kernel. What the syscall does is the
        // caller's promise.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            asm!(
                "syscall",
                inlateout("rax") nr as isize => ret,
                in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
                in("r10") a[3], in("r8") a[4], in("r9") a[5],
                lateout("rcx") _, lateout("r11") _,
                options(nostack, preserves_flags),
            );
        }
        // SAFETY: (S6) as above, for aarch64 (`svc 0`, number in x8).
        #[cfg(target_arch = "aarch64")]
        unsafe {
            asm!(
                "svc 0",
                in("x8") nr,
                inlateout("x0") a[0] as isize => ret,
                in("x1") a[1], in("x2") a[2], in("x3") a[3], in("x4") a[4], in("x5") a[5],
                options(nostack, preserves_flags),
            );
        }
        // SAFETY: (S6) as above, for riscv64 (`ecall`, number in a7).
        #[cfg(target_arch = "riscv64")]
        unsafe {
            asm!(
                "ecall",
                in("a7") nr,
                inlateout("a0") a[0] as isize => ret,
                in("a1") a[1], in("a2") a[2], in("a3") a[3], in("a4") a[4], in("a5") a[5],
                options(nostack, preserves_flags),
            );
        }
        // SAFETY: (S6) as above, for 32-bit ARM EABI (`svc 0`, number in
        // r7, arguments in r0-r5, result in r0). r7 is the frame pointer in
        // Thumb code, where `asm!` refuses it as an operand: the number
        // travels in a scratch register, r7 is saved in another one, and
        // both moves around the `svc` leave r7 as it was before the block.
        // Nothing between them touches the stack or the frame pointer.
        #[cfg(all(target_arch = "arm", any(target_abi = "eabi", target_abi = "eabihf")))]
        unsafe {
            asm!(
                "mov {saved}, r7",
                "mov r7, {nr}",
                "svc 0",
                "mov r7, {saved}",
                nr = in(reg) nr,
                saved = out(reg) _,
                inlateout("r0") a[0] as isize => ret,
                in("r1") a[1], in("r2") a[2], in("r3") a[3], in("r4") a[4], in("r5") a[5],
                options(nostack, preserves_flags),
            );
        }
        ret
    }

    #[inline]
    pub(super) unsafe fn setup(entries: u32, params: *mut Params) -> Result<u32> {
        // SAFETY: (S1) the caller upholds `super::setup`'s contract.
        decode(unsafe { syscall6(NR_SETUP, [entries as usize, params as usize, 0, 0, 0, 0]) })
    }

    #[inline]
    pub(super) unsafe fn enter(
        fd: u32,
        to_submit: u32,
        min_complete: u32,
        flags: u32,
        arg: *const c_void,
        argsz: usize,
    ) -> Result<u32> {
        let a = [fd as usize, to_submit as usize, min_complete as usize, flags as usize, arg as usize, argsz];
        // SAFETY: (S1) the caller upholds `super::enter`'s contract.
        decode(unsafe { syscall6(NR_ENTER, a) })
    }

    #[inline]
    pub(super) unsafe fn register(fd: i32, opcode: u32, arg: *const c_void, nr_args: u32) -> Result<u32> {
        // The kernel reads `fd` as an `unsigned int`, so -1 must reach it as
        // 0xffff_ffff, not sign-extended.
        let a = [fd as u32 as usize, opcode as usize, arg as usize, nr_args as usize, 0, 0];
        // SAFETY: (S1) the caller upholds `super::register`'s contract.
        decode(unsafe { syscall6(NR_REGISTER, a) })
    }
}

#[cfg(any(
    urix_rustix_fallback,
    not(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64",
        all(target_arch = "arm", any(target_abi = "eabi", target_abi = "eabihf"))
    ))
))]
mod imp {
    use super::{Errno, Params, Result};
    use crate::sys::consts::ENTER_EXT_ARG;
    use core::ffi::c_void;
    use rustix::fd::{BorrowedFd, IntoRawFd};
    use rustix::io_uring as rio;

    #[inline]
    pub(super) unsafe fn setup(entries: u32, params: *mut Params) -> Result<u32> {
        // SAFETY: (S4, S1) `Params` has the layout of `io_uring_params` (asserted in
        // `abi.rs`) and every bit pattern is valid for both; the caller
        // upholds the rest.
        let fd = unsafe { rio::io_uring_setup(entries, &mut *params.cast::<rio::io_uring_params>()) }?;
        Ok(fd.into_raw_fd() as u32)
    }

    #[inline]
    pub(super) unsafe fn enter(
        fd: u32,
        to_submit: u32,
        min_complete: u32,
        flags: u32,
        arg: *const c_void,
        argsz: usize,
    ) -> Result<u32> {
        if fd as i32 == -1 {
            return Err(Errno::NOSYS);
        }
        // SAFETY: (S3) `fd` is the ring's open fd or, with REGISTERED_RING, a
        // registered ring index (0..16): either way not -1, and rustix only
        // passes the number on, it never closes or dups a BorrowedFd.
        let fd = unsafe { BorrowedFd::borrow_raw(fd as i32) };
        let f = rio::IoringEnterFlags::from_bits_retain(flags);
        // SAFETY: (S1) the caller's promises cover the kernel side; the casts
        // below only happen when `argsz` says the pointee has that type.
        unsafe {
            match argsz {
                0 => rio::io_uring_enter(fd, to_submit, min_complete, f),
                8 if flags & ENTER_EXT_ARG == 0 => {
                    let set = arg.cast::<rustix::io_uring::KernelSigSet>().as_ref();
                    rio::io_uring_enter_sigmask(fd, to_submit, min_complete, f, set)
                }
                24 if flags & ENTER_EXT_ARG != 0 => {
                    let ext = arg.cast::<rio::io_uring_getevents_arg>().as_ref();
                    rio::io_uring_enter_arg(fd, to_submit, min_complete, f, ext)
                }
                _ => Err(Errno::NOSYS),
            }
        }
    }

    #[inline]
    pub(super) unsafe fn register(fd: i32, opcode: u32, arg: *const c_void, nr_args: u32) -> Result<u32> {
        if fd < 0 {
            return Err(Errno::NOSYS);
        }
        // SAFETY: (S3) `fd` is a ring fd supplied by the crate, not negative
        // (checked above); rustix only passes the number on.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        // rustix ORs the opcode and the flag bits, so opcode 0 plus the whole
        // value as "flags" reaches the kernel as `opcode`, including opcodes
        // its enum does not name.
        let flags = rio::IoringRegisterFlags::from_bits_retain(opcode);
        // SAFETY: (S1) the caller upholds `super::register`'s contract.
        unsafe { rio::io_uring_register_with(fd, rio::IoringRegisterOp::RegisterBuffers, flags, arg, nr_args) }
    }
}
