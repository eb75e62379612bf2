//! Our own `#[repr(C)]` copies of the kernel structs whose rustix versions
//! either hold enums the kernel can outgrow (`IoringOp` in the SQE and the
//! probe) or hold pointers that would make the public types `!Send`.
//!
//! Every struct here is plain old data: any bit pattern is a valid value, so
//! whatever the kernel writes into them can be read without undefined
//! behaviour. Layouts are checked against KERNEL-ABI.md §f at compile time.
//!
//! On 32-bit targets (`u64` is 4-aligned on i386, 8-aligned on arm and
//! riscv32; `usize` is 4 bytes) the kernel's structs copied here keep the
//! same sizes and offsets: each `__u64` in them sits at a multiple of 8 and
//! each struct's size is a multiple of 8, so that one layout serves native
//! and compat tasks. The assertions below are of sizes and offsets, which must
//! hold on every target (CI checks i686, armv7, aarch64, riscv64 and
//! powerpc64le: `.ci/cross-check`); alignment is asserted only where the
//! kernel's header says `__aligned_u64` (`rsrc.rs`) or this crate relies on
//! it (`Sqe`).

use static_assertions::{assert_eq_size, const_assert_eq};

/// `struct io_uring_sqe` (64 bytes), with the unions flattened to the
/// members this crate writes. Overlapping kernel names are noted per field.
///
/// `align(8)`: the kernel declares the u64 fields as plain `__u64`, which is
/// only 4-aligned on i386 (and 8-aligned everywhere else), but every slot of
/// the SQ array it maps sits at a multiple of 64 bytes from a page, so an
/// SQE is always 8-aligned there. Saying so on every target keeps the
/// word-wise copy into a slot (`squeue::copy_entry`) one code path; the
/// layout itself (size and offsets, asserted below) is the kernel's on
/// 32- and 64-bit targets alike.
#[repr(C, align(8))]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct Sqe {
    /// `opcode`: a raw `u8`, never an enum.
    pub opcode: u8,
    /// `flags`: `IOSQE_*`.
    pub flags: u8,
    /// `ioprio`, also the per-op flag word of send/recv/accept.
    pub ioprio: u16,
    /// `fd`.
    pub fd: i32,
    /// `off` / `addr2` / `cmd_op` + `__pad1`.
    pub off: u64,
    /// `addr` / `splice_off_in` / `level` + `optname`.
    pub addr: u64,
    /// `len`.
    pub len: u32,
    /// The op-flags word (`rw_flags`, `fsync_flags`, `nop_flags`, ...).
    pub op_flags: u32,
    /// `user_data`, echoed into the CQE.
    pub user_data: u64,
    /// `buf_index` / `buf_group`.
    pub buf_index: u16,
    /// `personality`.
    pub personality: u16,
    /// `splice_fd_in` / `file_index` / `optlen` / `addr_len` + `__pad3`.
    pub file_index: u32,
    /// `addr3` / `optval` / `attr_ptr` / start of `cmd`.
    pub addr3: u64,
    /// `__pad2[0]` / `attr_type_mask` / rest of `cmd`.
    pub pad2: u64,
}

impl Sqe {
    /// `cmd_op` (u32 at byte 8) with `__pad1` zero: the `off` word's first
    /// four bytes in memory order, whatever the byte order.
    #[inline]
    pub(crate) const fn set_cmd_op(&mut self, cmd_op: u32) {
        self.off = join_u32s(cmd_op, 0);
    }

    /// `level` (u32 at byte 16) and `optname` (u32 at byte 20), the socket
    /// option view of the `addr` word.
    #[inline]
    pub(crate) const fn set_level_optname(&mut self, level: u32, optname: u32) {
        self.addr = join_u32s(level, optname);
    }

    /// `addr_len` (u16 at byte 44) with `__pad3` zero, the destination
    /// length of a `sendto`-style send.
    #[inline]
    pub(crate) const fn set_addr_len(&mut self, addr_len: u16) {
        let b = addr_len.to_ne_bytes();
        self.file_index = u32::from_ne_bytes([b[0], b[1], 0, 0]);
    }

    /// The first 16 bytes of `cmd` (byte 48 on), as the kernel lays them
    /// out in memory.
    #[inline]
    pub(crate) const fn set_cmd16(&mut self, cmd: &[u8; 16]) {
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        let mut i = 0;
        while i < 8 {
            lo[i] = cmd[i];
            hi[i] = cmd[i + 8];
            i += 1;
        }
        self.addr3 = u64::from_ne_bytes(lo);
        self.pad2 = u64::from_ne_bytes(hi);
    }

    /// `poll32_events`: the kernel reads the 32-bit mask with its 16-bit
    /// halves swapped on big-endian machines (legacy of the u16 field).
    #[inline]
    pub(crate) const fn set_poll32_events(&mut self, events: u32) {
        self.op_flags = if cfg!(target_endian = "big") { events.rotate_left(16) } else { events };
    }
}

#[cfg(test)]
impl Sqe {
    /// The SQE as the kernel sees it: its 64 bytes in memory order.
    pub(crate) fn bytes(&self) -> [u8; 64] {
        // SAFETY: (S4) Sqe is 64 bytes of plain integers without padding
        // (size and offsets asserted below), so every byte is initialised.
        unsafe { core::mem::transmute_copy(self) }
    }
}

/// Two u32 that sit next to each other in memory (`first` at the lower
/// address), as one u64.
#[inline]
const fn join_u32s(first: u32, second: u32) -> u64 {
    let a = first.to_ne_bytes();
    let b = second.to_ne_bytes();
    u64::from_ne_bytes([a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]])
}

/// `struct io_uring_cqe` without the trailing big-CQE words.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct Cqe {
    pub user_data: u64,
    pub res: i32,
    pub flags: u32,
}

/// `struct io_sqring_offsets`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct SqOffsets {
    pub head: u32,
    pub tail: u32,
    pub ring_mask: u32,
    pub ring_entries: u32,
    pub flags: u32,
    pub dropped: u32,
    pub array: u32,
    pub resv1: u32,
    pub user_addr: u64,
}

/// `struct io_cqring_offsets`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct CqOffsets {
    pub head: u32,
    pub tail: u32,
    pub ring_mask: u32,
    pub ring_entries: u32,
    pub overflow: u32,
    pub cqes: u32,
    pub flags: u32,
    pub resv1: u32,
    pub user_addr: u64,
}

/// `struct io_uring_params`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct Params {
    pub sq_entries: u32,
    pub cq_entries: u32,
    pub flags: u32,
    pub sq_thread_cpu: u32,
    pub sq_thread_idle: u32,
    pub features: u32,
    pub wq_fd: u32,
    pub resv: [u32; 3],
    pub sq_off: SqOffsets,
    pub cq_off: CqOffsets,
}

/// `struct io_uring_probe` header; the ops array follows it.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct ProbeHeader {
    pub last_op: u8,
    pub ops_len: u8,
    pub resv: u16,
    pub resv2: [u32; 3],
}

/// `struct io_uring_probe_op`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct ProbeOp {
    pub op: u8,
    pub resv: u8,
    pub flags: u16,
    pub resv2: u32,
}

/// `struct __kernel_timespec`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct KernelTimespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

/// `struct io_uring_getevents_arg`, with integer pointers so that
/// [`SubmitArgs`](crate::types::SubmitArgs) stays `Send + Sync`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct GeteventsArg {
    pub sigmask: u64,
    pub sigmask_sz: u32,
    pub min_wait_usec: u32,
    pub ts: u64,
}

/// `struct open_how` (`openat2(2)`).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct RawOpenHow {
    pub flags: u64,
    pub mode: u64,
    pub resolve: u64,
}

/// `struct futex_waitv`, with the address as an integer so that the public
/// wrapper stays `Send + Sync`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct RawFutexWaitv {
    pub val: u64,
    pub uaddr: u64,
    pub flags: u32,
    pub reserved: u32,
}

macro_rules! assert_offsets {
    ($ty:ty { $($field:ident @ $off:expr),* $(,)? }) => {
        $( const_assert_eq!(core::mem::offset_of!($ty, $field), $off); )*
    };
}

assert_eq_size!(Sqe, [u8; 64]);
// Our own choice (see `Sqe`), not the C type's: it is 4 on i386.
const_assert_eq!(core::mem::align_of::<Sqe>(), 8);
assert_offsets!(Sqe {
    opcode @ 0, flags @ 1, ioprio @ 2, fd @ 4, off @ 8, addr @ 16, len @ 24,
    op_flags @ 28, user_data @ 32, buf_index @ 40, personality @ 42,
    file_index @ 44, addr3 @ 48, pad2 @ 56,
});
assert_eq_size!(Cqe, [u8; 16]);
assert_offsets!(Cqe { user_data @ 0, res @ 8, flags @ 12 });
assert_eq_size!(SqOffsets, [u8; 40]);
assert_offsets!(SqOffsets {
    head @ 0, tail @ 4, ring_mask @ 8, ring_entries @ 12, flags @ 16,
    dropped @ 20, array @ 24, resv1 @ 28, user_addr @ 32,
});
assert_eq_size!(CqOffsets, [u8; 40]);
assert_offsets!(CqOffsets {
    head @ 0, tail @ 4, ring_mask @ 8, ring_entries @ 12, overflow @ 16,
    cqes @ 20, flags @ 24, resv1 @ 28, user_addr @ 32,
});
assert_eq_size!(Params, [u8; 120]);
assert_offsets!(Params {
    sq_entries @ 0, cq_entries @ 4, flags @ 8, sq_thread_cpu @ 12,
    sq_thread_idle @ 16, features @ 20, wq_fd @ 24, resv @ 28, sq_off @ 40,
    cq_off @ 80,
});
assert_eq_size!(ProbeHeader, [u8; 16]);
assert_offsets!(ProbeHeader { last_op @ 0, ops_len @ 1, resv @ 2, resv2 @ 4 });
assert_eq_size!(ProbeOp, [u8; 8]);
assert_offsets!(ProbeOp { op @ 0, resv @ 1, flags @ 2, resv2 @ 4 });
assert_eq_size!(KernelTimespec, [u8; 16]);
assert_eq_size!(GeteventsArg, [u8; 24]);
assert_offsets!(GeteventsArg { sigmask @ 0, sigmask_sz @ 8, min_wait_usec @ 12, ts @ 16 });

assert_eq_size!(RawOpenHow, [u8; 24]);
assert_offsets!(RawOpenHow { flags @ 0, mode @ 8, resolve @ 16 });
assert_eq_size!(RawFutexWaitv, [u8; 24]);
assert_offsets!(RawFutexWaitv { val @ 0, uaddr @ 8, flags @ 16, reserved @ 20 });

// Our structs must match rustix's where both exist, so that values can be
// passed between them (`enter_arg`) without translation.
assert_eq_size!(GeteventsArg, rustix::io_uring::io_uring_getevents_arg);
assert_eq_size!(Params, rustix::io_uring::io_uring_params);
assert_eq_size!(Cqe, rustix::io_uring::io_uring_cqe);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_views_land_at_their_kernel_offsets() {
        let mut sqe = Sqe::default();
        sqe.set_cmd_op(0x0403_0201);
        sqe.set_level_optname(0x1413_1211, 0x1817_1615);
        sqe.set_addr_len(0x2221);
        let mut cmd = [0u8; 16];
        for (i, b) in cmd.iter_mut().enumerate() {
            *b = 0x30 + i as u8;
        }
        sqe.set_cmd16(&cmd);
        let b = sqe.bytes();
        let ne = |v: u32| v.to_ne_bytes();
        assert_eq!(b[8..12], ne(0x0403_0201), "cmd_op @8");
        assert_eq!(b[12..16], [0; 4], "__pad1 @12");
        assert_eq!(b[16..20], ne(0x1413_1211), "level @16");
        assert_eq!(b[20..24], ne(0x1817_1615), "optname @20");
        assert_eq!(b[44..46], 0x2221u16.to_ne_bytes(), "addr_len @44");
        assert_eq!(b[46..48], [0; 2], "__pad3 @46");
        assert_eq!(b[48..64], cmd, "cmd @48");
    }

    #[test]
    fn poll32_events_is_the_plain_mask_on_little_endian() {
        let mut sqe = Sqe::default();
        sqe.set_poll32_events(0x8000_0001);
        let want = if cfg!(target_endian = "big") { 0x0001_8000 } else { 0x8000_0001 };
        assert_eq!(sqe.op_flags, want);
    }
}
