//! [`Probe`]: which operations this kernel supports (`IORING_REGISTER_PROBE`, 5.6).

use core::fmt;

use rustix::io::Result;

use crate::submit::RingHandle;
use crate::sys::{self, ProbeHeader, ProbeOp};
use crate::Submitter;

/// The most entries a probe can hold (the kernel refuses more).
const PROBE_OPS: usize = 256;

/// The kernel's answer to "which opcodes do you support?".
///
/// Opcodes are kept as raw `u8`s, never as an enum: a newer kernel reports
/// numbers no enum of ours knows, and that must stay harmless.
/// See `io_uring_register(2)`, `IORING_REGISTER_PROBE`.
#[derive(Clone)]
#[repr(C)]
pub struct Probe {
    header: ProbeHeader,
    ops: [ProbeOp; PROBE_OPS],
}

mod private {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for rustix::io_uring::IoringOp {}
}

/// Something that names an opcode: a raw `u8` (as in every builder's
/// `CODE`) or rustix's `IoringOp`. Sealed.
pub trait Opcode: private::Sealed + Copy {
    /// The opcode number.
    fn number(self) -> u8;
}

impl Opcode for u8 {
    #[inline]
    fn number(self) -> u8 {
        self
    }
}

impl Opcode for rustix::io_uring::IoringOp {
    #[inline]
    fn number(self) -> u8 {
        self as u8
    }
}

impl Probe {
    /// An empty probe, ready for [`Submitter::register_probe`].
    pub const fn new() -> Probe {
        const OP: ProbeOp = ProbeOp { op: 0, resv: 0, flags: 0, resv2: 0 };
        Probe { header: ProbeHeader { last_op: 0, ops_len: 0, resv: 0, resv2: [0; 3] }, ops: [OP; PROBE_OPS] }
    }

    /// Whether the kernel supports `opcode`.
    #[inline]
    pub fn is_supported(&self, opcode: impl Opcode) -> bool {
        let op = usize::from(opcode.number());
        op < self.len() && self.ops[op].flags & sys::IO_URING_OP_SUPPORTED != 0
    }

    /// The highest opcode number the kernel knows (`last_op`).
    #[inline]
    pub fn last_op(&self) -> u8 {
        self.header.last_op
    }

    /// How many entries the kernel filled in (`ops_len`).
    #[inline]
    fn len(&self) -> usize {
        usize::from(self.header.ops_len).min(PROBE_OPS)
    }

    /// The supported opcode numbers, in ascending order.
    pub fn supported(&self) -> impl Iterator<Item = u8> + '_ {
        (0..self.len()).filter(|&i| self.ops[i].flags & sys::IO_URING_OP_SUPPORTED != 0).map(|i| i as u8)
    }
}

impl Default for Probe {
    fn default() -> Self {
        Probe::new()
    }
}

impl fmt::Debug for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Probe").field("last_op", &self.header.last_op).field("supported", &SupportedList(self)).finish()
    }
}

/// Prints the supported opcodes as a set of numbers.
struct SupportedList<'a>(&'a Probe);

impl fmt::Debug for SupportedList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.supported()).finish()
    }
}

impl<H: RingHandle> Submitter<'_, H> {
    /// Fills `probe` with the operations this kernel supports
    /// (`IORING_REGISTER_PROBE`, 5.6; `io_uring_register(2)`).
    ///
    /// The probe is cleared first, since the kernel refuses a buffer that is
    /// not all zero, so one `Probe` can be reused.
    pub fn register_probe(&self, probe: &mut Probe) -> Result<()> {
        *probe = Probe::new();
        let arg: *mut Probe = probe;
        // SAFETY: (S1) `arg` points to a zeroed io_uring_probe header followed by
        // PROBE_OPS entries, exactly `nr_args` as the kernel writes.
        unsafe { self.register_raw(sys::REGISTER_PROBE, arg.cast(), PROBE_OPS as u32) }?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_kernel_answer_is_harmless() {
        // A future kernel may report opcodes no enum knows, and a corrupt
        // answer may claim more entries than the buffer holds.
        let mut p = Probe::new();
        p.header.last_op = 255;
        p.header.ops_len = 255;
        for (i, op) in p.ops.iter_mut().enumerate() {
            op.op = i as u8;
            op.flags = if i % 3 == 0 { sys::IO_URING_OP_SUPPORTED } else { 0xfffe };
        }
        assert!(p.is_supported(0u8) && p.is_supported(252u8) && !p.is_supported(1u8));
        assert!(!p.is_supported(255u8), "entry 255 is beyond ops_len");
        assert_eq!(p.supported().count(), 85);
        let mut s = FmtBuf::default();
        core::fmt::write(&mut s, format_args!("{p:?}")).unwrap();
        assert!(s.len > 0);
    }

    #[test]
    fn empty_probe_supports_nothing() {
        let p = Probe::default();
        assert!(!p.is_supported(0u8));
        assert!(!p.is_supported(rustix::io_uring::IoringOp::Nop));
        assert_eq!(p.supported().count(), 0);
    }

    /// Counts formatted bytes without allocating.
    #[derive(Default)]
    struct FmtBuf {
        len: usize,
    }

    impl core::fmt::Write for FmtBuf {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            self.len += s.len();
            Ok(())
        }
    }
}
