//! Constructors for values only the kernel makes, so that `fuzz/` can feed
//! hostile ones to the code that reads them. Only built with the
//! `fuzz-hooks` feature; not part of the API. (The `BufRing` hooks live in
//! `buf_ring/fuzz_hooks.rs`, next to the fields they need.)

use core::mem::size_of;
use core::ptr;

use crate::cqueue;
use crate::register::Probe;
use crate::sys::Cqe;

/// A completion as the kernel would post it.
pub fn cqe(user_data: u64, res: i32, flags: u32) -> cqueue::Entry {
    cqueue::Entry(Cqe { user_data, res, flags })
}

/// A 32-byte completion as the kernel would post it.
pub fn cqe32(user_data: u64, res: i32, flags: u32, big: [u64; 2]) -> cqueue::Entry32 {
    cqueue::Entry32(cqe(user_data, res, flags), big)
}

/// A probe whose first bytes are `bytes`, the way `IORING_REGISTER_PROBE`
/// fills one: header, then one 8-byte entry per opcode. The rest stays
/// zero; bytes beyond the probe's size are ignored.
pub fn probe(bytes: &[u8]) -> Probe {
    let mut probe = Probe::new();
    let n = bytes.len().min(size_of::<Probe>());
    // SAFETY: (S4) `Probe` is `repr(C)` and made of integers only (checked by the
    // layout assertions in `sys/abi.rs`), so any bytes form a valid one;
    // `n` is at most its size, and `bytes` cannot overlap a local.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), ptr::from_mut(&mut probe).cast::<u8>(), n) };
    probe
}
