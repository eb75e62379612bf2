//! Operations that touch no file: [`Nop`].

use super::{entry, sqe};
use crate::squeue::Entry;

/// Does nothing and completes with result 0: for measuring the ring and
/// waking a waiter (`IORING_OP_NOP`, 5.1; `io_uring_prep_nop(3)`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Nop {}

impl Nop {
    /// The opcode number, `IORING_OP_NOP`.
    pub const CODE: u8 = 0;

    /// A no-op.
    #[inline]
    pub const fn new() -> Self {
        Nop {}
    }

    /// The submission entry.
    #[inline]
    pub const fn build(self) -> Entry {
        entry(sqe(Self::CODE, -1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nop_encodes_opcode_zero_and_fd_minus_one() {
        let e = Nop::new().build();
        assert_eq!(e.0.opcode, 0);
        assert_eq!(e.0.fd, -1);
        let rest = crate::sys::Sqe { opcode: 0, fd: -1, ..Default::default() };
        assert_eq!(e.0, rest, "every other field must be zero");
    }
}
