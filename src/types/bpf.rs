//! io_uring BPF filters (`IORING_REGISTER_BPF_FILTER`, 7.0), as the kernel
//! lays them out (`include/uapi/linux/io_uring/bpf_filter.h`): a classic BPF
//! program run for every submission of one opcode, over an
//! [`io_uring_bpf_ctx`]-shaped context. The program's return value decides:
//! 0 denies the request (it completes with `-EACCES`), anything else lets it
//! run.

#![allow(non_camel_case_types)]

use core::marker::PhantomData;

use bitflags::bitflags;

// Classic BPF instruction classes and modes (<linux/bpf_common.h>).
const BPF_LD: u16 = 0x00;
const BPF_ALU: u16 = 0x04;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_W: u16 = 0x00;
const BPF_ABS: u16 = 0x20;
const BPF_AND: u16 = 0x50;
const BPF_JEQ: u16 = 0x10;
const BPF_K: u16 = 0x00;

/// One classic BPF instruction (`struct sock_filter`, as for seccomp):
/// opcode, jump offsets if true / if false, and a constant.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BpfInsn {
    /// `BPF_LD | BPF_W | BPF_ABS`, `BPF_JMP | BPF_JEQ | BPF_K`, ...
    pub code: u16,
    /// Instructions to skip when a jump's condition holds.
    pub jt: u8,
    /// Instructions to skip when it does not.
    pub jf: u8,
    /// The constant operand.
    pub k: u32,
}

impl BpfInsn {
    /// `BPF_LD | BPF_W | BPF_ABS`: load the 32-bit word at byte `offset` of
    /// the context (4-aligned; native byte order) into the accumulator.
    pub const fn load_word(offset: u32) -> Self {
        BpfInsn { code: BPF_LD | BPF_W | BPF_ABS, jt: 0, jf: 0, k: offset }
    }

    /// `BPF_ALU | BPF_AND | BPF_K`: accumulator &= `mask`.
    pub const fn and(mask: u32) -> Self {
        BpfInsn { code: BPF_ALU | BPF_AND | BPF_K, jt: 0, jf: 0, k: mask }
    }

    /// `BPF_JMP | BPF_JEQ | BPF_K`: skip `jt` instructions if the accumulator
    /// equals `k`, else `jf`.
    pub const fn jump_eq(k: u32, jt: u8, jf: u8) -> Self {
        BpfInsn { code: BPF_JMP | BPF_JEQ | BPF_K, jt, jf, k }
    }

    /// `BPF_RET | BPF_K`: end with `value` (0 denies, anything else allows).
    pub const fn ret(value: u32) -> Self {
        BpfInsn { code: BPF_RET | BPF_K, jt: 0, jf: 0, k: value }
    }
}

/// Byte offsets of the fields of `struct io_uring_bpf_ctx`, the context a
/// filter loads from. Only 4-aligned words can be loaded: mask a word for
/// the byte fields (`opcode`, `sqe_flags`, `pdu_size` share the word at 8).
pub mod bpf_ctx {
    /// `user_data` (`u64`).
    pub const USER_DATA: u32 = 0;
    /// The word holding `opcode`, `sqe_flags`, `pdu_size` and a pad byte,
    /// in memory order (so on a little-endian machine `opcode` is its low
    /// byte).
    pub const OPCODE_WORD: u32 = 8;
    /// Start of the per-opcode data: `socket { family, type, protocol }`,
    /// `open { flags, mode, resolve }`, `connect { family, port, .., addr }`.
    pub const PDU: u32 = 16;
    /// Size of the whole context.
    pub const SIZE: usize = 48;
}

bitflags! {
    /// `io_uring_bpf_filter.flags`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
    pub struct BpfFilterFlags: u32 {
        /// Every opcode that has no filter yet gets one that denies it
        /// (`IO_URING_BPF_FILTER_DENY_REST`).
        const DENY_REST = crate::sys::BPF_FILTER_DENY_REST;
        /// Fail the registration (`EMSGSIZE`, with the kernel's size written
        /// back) if `pdu_size` is not the kernel's for this opcode
        /// (`IO_URING_BPF_FILTER_SZ_STRICT`).
        const SZ_STRICT = crate::sys::BPF_FILTER_SZ_STRICT;
    }
}

/// `struct io_uring_bpf_filter`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct io_uring_bpf_filter {
    /// The opcode the program runs for.
    pub opcode: u32,
    /// [`BpfFilterFlags`] bits.
    pub flags: u32,
    /// Number of instructions at `filter_ptr`.
    pub filter_len: u32,
    /// Expected size of the opcode's context data.
    pub pdu_size: u8,
    /// Reserved.
    pub resv: [u8; 3],
    /// Address of the [`BpfInsn`] array.
    pub filter_ptr: u64,
    /// Reserved.
    pub resv2: [u64; 5],
}

/// `struct io_uring_bpf`: the argument of `IORING_REGISTER_BPF_FILTER`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct io_uring_bpf {
    /// `IO_URING_BPF_CMD_FILTER` (1).
    pub cmd_type: u16,
    /// None defined.
    pub cmd_flags: u16,
    /// Reserved.
    pub resv: u32,
    /// The filter.
    pub filter: io_uring_bpf_filter,
}

/// A filter for one opcode, ready to register: the program is borrowed, so
/// it outlives the registration call (the kernel copies it).
#[derive(Debug, Clone, Copy)]
#[repr(transparent)]
pub struct BpfFilter<'a> {
    raw: io_uring_bpf,
    _program: PhantomData<&'a [BpfInsn]>,
}

impl<'a> BpfFilter<'a> {
    /// Runs `program` for every submission of `opcode`. A program longer
    /// than `u32::MAX` instructions is refused by the kernel (its length is
    /// sent as `u32::MAX`).
    pub fn new(opcode: u8, program: &'a [BpfInsn]) -> Self {
        let len = u32::try_from(program.len()).unwrap_or(u32::MAX);
        let filter = io_uring_bpf_filter {
            opcode: u32::from(opcode),
            filter_len: len,
            filter_ptr: program.as_ptr() as u64,
            ..Default::default()
        };
        BpfFilter {
            raw: io_uring_bpf { cmd_type: crate::sys::BPF_CMD_FILTER, filter, ..Default::default() },
            _program: PhantomData,
        }
    }

    /// Sets [`BpfFilterFlags`] (default none).
    pub const fn flags(mut self, flags: BpfFilterFlags) -> Self {
        self.raw.filter.flags = flags.bits();
        self
    }

    /// The size of the opcode's context data the program expects (default
    /// 0; checked with [`BpfFilterFlags::SZ_STRICT`]).
    pub const fn pdu_size(mut self, size: u8) -> Self {
        self.raw.filter.pdu_size = size;
        self
    }

    /// The kernel's `pdu_size`, as written back by a refused
    /// `SZ_STRICT` registration.
    pub const fn kernel_pdu_size(&self) -> u8 {
        self.raw.filter.pdu_size
    }

    /// The raw argument.
    pub const fn as_raw(&self) -> &io_uring_bpf {
        &self.raw
    }
}

static_assertions::assert_eq_size!(BpfInsn, [u8; 8]);
static_assertions::assert_eq_size!(io_uring_bpf_filter, [u8; 64]);
static_assertions::assert_eq_size!(io_uring_bpf, [u8; 72]);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_bpf_filter, pdu_size), 12);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_bpf_filter, filter_ptr), 16);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_bpf_filter, resv2), 24);
static_assertions::const_assert_eq!(core::mem::offset_of!(io_uring_bpf, filter), 8);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_names_its_opcode_and_program() {
        let prog = [BpfInsn::ret(0)];
        let f = BpfFilter::new(0, &prog).flags(BpfFilterFlags::DENY_REST).pdu_size(12);
        let r = f.as_raw();
        assert_eq!((r.cmd_type, r.cmd_flags, r.resv), (1, 0, 0));
        assert_eq!((r.filter.opcode, r.filter.flags, r.filter.filter_len, r.filter.pdu_size), (0, 1, 1, 12));
        assert_eq!(r.filter.filter_ptr, prog.as_ptr() as u64);
    }

    #[test]
    fn instructions_have_the_classic_encodings() {
        // As <linux/filter.h> spells them: BPF_LD|BPF_W|BPF_ABS = 0x20,
        // BPF_ALU|BPF_AND|BPF_K = 0x54, BPF_JMP|BPF_JEQ|BPF_K = 0x15,
        // BPF_RET|BPF_K = 0x06.
        assert_eq!(BpfInsn::load_word(8), BpfInsn { code: 0x20, jt: 0, jf: 0, k: 8 });
        assert_eq!(BpfInsn::and(0xff).code, 0x54);
        assert_eq!(BpfInsn::jump_eq(5, 1, 2), BpfInsn { code: 0x15, jt: 1, jf: 2, k: 5 });
        assert_eq!(BpfInsn::ret(1), BpfInsn { code: 0x06, jt: 0, jf: 0, k: 1 });
    }
}
