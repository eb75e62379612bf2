//! [`EntryMixed`]: the submission slots of a ring whose SQ holds both 64-
//! and 128-byte entries (`IORING_SETUP_SQE_MIXED`, 6.19).
//!
//! Layout, as the kernel reads it (`io_uring/io_uring.c`,
//! `include/uapi/linux/io_uring.h`): the SQE array has 64-byte slots; an
//! entry whose opcode is a 128-byte one (`IORING_OP_NOP128`,
//! `IORING_OP_URING_CMD128`) takes two consecutive slots and must not
//! start in the last slot (the kernel fails it with `EINVAL`: it would
//! wrap). [`SubmissionQueue::push_128`] pads such a wrap with a NOP flagged
//! `IOSQE_CQE_SKIP_SUCCESS`, which posts no completion.

use core::fmt;
use core::ptr;

use rustix::io_uring::{io_uring_user_data, IoringSetupFlags};

use super::{private, Entry, Entry128, EntryMarker, Flags, PushError, SubmissionQueue};
use crate::opcode::{Nop, Nop128, UringCmd128};
use crate::sys;

/// One 64-byte slot of a mixed-size SQ (`IoUring<EntryMixed, _>`, set up
/// with `IORING_SETUP_SQE_MIXED`, 6.19; `io_uring_setup(2)`).
///
/// Any 64-byte [`Entry`] converts into one (`entry.into()`) and is pushed
/// with the usual [`push`](SubmissionQueue::push) family; 128-byte
/// entries ([`Nop128`], [`UringCmd128`]) go in with
/// [`push_128`](SubmissionQueue::push_128), which places them in two
/// slots. No builder makes a 64-byte `Entry` with a 128-byte opcode, so
/// a slot pushed on its own is never read by the kernel as half of a
/// bigger entry.
#[repr(transparent)]
#[derive(Clone)]
pub struct EntryMixed(pub(crate) Entry);

impl EntryMixed {
    /// The 64-byte entry this slot holds.
    #[inline]
    pub fn entry(&self) -> &Entry {
        &self.0
    }
}

impl From<Entry> for EntryMixed {
    #[inline]
    fn from(entry: Entry) -> EntryMixed {
        EntryMixed(entry)
    }
}

impl fmt::Debug for EntryMixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EntryMixed").field(&self.0).finish()
    }
}

impl private::Sealed for EntryMixed {
    #[inline]
    fn slots(&self) -> u32 {
        if is_128(self.0 .0.opcode) {
            2
        } else {
            1
        }
    }

    /// A 128-byte entry shows as one (its fields the first slot holds).
    fn fmt_slots(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.slots() == 2 {
            f.debug_struct("EntryMixed128")
                .field("op_code", &self.0 .0.opcode)
                .field("flags", &Flags::from_bits_retain(self.0 .0.flags))
                .field("user_data", &self.0 .0.user_data)
                .finish()
        } else {
            fmt::Debug::fmt(self, f)
        }
    }
}

impl EntryMarker for EntryMixed {
    /// `IORING_SETUP_SQE_MIXED` (6.19).
    const BUILD_FLAGS: IoringSetupFlags = IoringSetupFlags::from_bits_retain(sys::SETUP_SQE_MIXED);

    #[inline]
    fn set_user_data(&mut self, user_data: io_uring_user_data) {
        self.0.set_user_data(user_data);
    }

    #[inline]
    fn get_user_data(&self) -> io_uring_user_data {
        self.0.get_user_data()
    }
}

/// Why [`push_128`](SubmissionQueue::push_128) pushed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushMixedError {
    /// Not enough free slots (two, three with the padding NOP) as of the
    /// last sync: submit, sync and push again.
    Full(PushError),
    /// The entry's opcode (given) is not a 128-byte one: on a mixed ring
    /// the kernel would read its second half as a separate entry. Build
    /// it with [`Nop128`] or [`UringCmd128`].
    Not128(u8),
}

impl fmt::Display for PushMixedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushMixedError::Full(e) => e.fmt(f),
            PushMixedError::Not128(op) => write!(f, "opcode {op} is not a 128-byte operation"),
        }
    }
}

impl core::error::Error for PushMixedError {}

/// Whether the kernel reads an entry with opcode `op` as 128 bytes on a
/// mixed SQ (the `is_128` opcodes of `io_uring/opdef.c`, 7.3).
#[inline]
const fn is_128(op: u8) -> bool {
    op == Nop128::CODE || op == UringCmd128::CODE
}

impl SubmissionQueue<'_, EntryMixed> {
    /// Pushes a 128-byte entry into two consecutive slots of a mixed-size
    /// SQ (`IORING_SETUP_SQE_MIXED`, 6.19; no man page; kernel:
    /// `io_uring/io_uring.c`).
    ///
    /// A 128-byte entry must not wrap: when the next free slot is the last
    /// one of the array, a NOP flagged `IOSQE_CQE_SKIP_SUCCESS` (5.17)
    /// fills it first (it posts no completion) and the entry goes to slots
    /// 0 and 1. The room check counts that NOP; the kernel's head is
    /// reloaded once before failing, as in
    /// [`push_multiple`](Self::push_multiple). On a ring of two slots an
    /// entry that needs the NOP never fits: keep such rings at 4 slots or
    /// more.
    ///
    /// # Errors
    /// [`PushMixedError::Not128`] for an entry whose opcode is not a
    /// 128-byte one (an `Entry128` made from a 64-byte entry, or
    /// `UringCmd80`), [`PushMixedError::Full`] when the slots are not free.
    /// Nothing is pushed either way.
    ///
    /// # Safety
    /// As for [`push`](Self::push).
    #[inline]
    pub unsafe fn push_128(&mut self, entry: &Entry128) -> Result<(), PushMixedError> {
        let op = entry.0 .0.opcode;
        if !is_128(op) {
            return Err(PushMixedError::Not128(op));
        }
        let pad = self.tail & self.ring_mask == self.ring_mask;
        let want = 2 + usize::from(pad);
        if want > self.capacity() || !self.room_for(want) {
            return Err(PushMixedError::Full(PushError));
        }
        if pad {
            let nop = EntryMixed(Nop::new().build().flags(Flags::SKIP_SUCCESS));
            // SAFETY: (R5) room_for(want) found the slots free.
            unsafe { self.write_next(&nop) };
        }
        let slot = (self.tail & self.ring_mask) as usize;
        // SAFETY: room_for found two free slots from the tail on (R5);
        // `slot` is not the last one (padded above), so `slot + 1` is in
        // the array too and the 128 bytes fit (R2). `EntryMixed` slots are
        // 64 bytes and 64-byte aligned, `Entry128` needs 8.
        unsafe { ptr::write(self.sqes.add(slot).cast::<Entry128>(), entry.clone()) };
        self.tail = self.tail.wrapping_add(2);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, size_of};

    #[test]
    fn a_slot_is_one_plain_entry() {
        assert_eq!((size_of::<EntryMixed>(), align_of::<EntryMixed>()), (size_of::<Entry>(), align_of::<Entry>()));
        assert_eq!(EntryMixed::BUILD_FLAGS.bits(), 1 << 19);
        let e: EntryMixed = Nop::new().build().user_data(7).into();
        assert_eq!((e.get_user_data().u64_(), e.entry().get_opcode()), (7, 0));
    }

    #[test]
    fn only_128_byte_opcodes_are_128() {
        assert!(is_128(63) && is_128(64));
        assert!(!is_128(0) && !is_128(46));
    }
}
