//! [`DestinationSlot`]: where a direct descriptor lands in the
//! registered-file table.

use core::num::NonZeroU32;

use crate::sys;

/// A slot of the registered-file table that an operation creating a file
/// (accept, open, socket, pipe, MSG_RING fd passing) fills instead of
/// returning a plain fd ("direct descriptors", 5.15).
///
/// Holds the kernel's encoding: slot + 1, or `IORING_FILE_INDEX_ALLOC`
/// (the kernel picks a free slot and returns it as the result).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestinationSlot {
    encoded: NonZeroU32,
}

impl DestinationSlot {
    /// Let the kernel pick a free slot (`IORING_FILE_INDEX_ALLOC`); the
    /// completion's result is the slot it chose.
    #[inline]
    pub const fn auto_target() -> Self {
        DestinationSlot { encoded: NonZeroU32::MAX }
    }

    /// Slot `target` (0-based). Fails, returning `target`, for the two
    /// highest values, which the encoding cannot express.
    #[inline]
    pub fn try_from_slot_target(target: u32) -> Result<Self, u32> {
        match target.checked_add(1).and_then(NonZeroU32::new) {
            Some(encoded) if encoded.get() != sys::FILE_INDEX_ALLOC => Ok(DestinationSlot { encoded }),
            _ => Err(target),
        }
    }

    /// The value the SQE's `file_index` field takes.
    #[inline]
    pub(crate) const fn kernel_index(self) -> u32 {
        self.encoded.get()
    }

    /// The `file_index` of an optional slot: 0 means "a plain fd".
    #[inline]
    pub(crate) const fn encode(slot: Option<Self>) -> u32 {
        match slot {
            Some(s) => s.kernel_index(),
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_encode_as_slot_plus_one() {
        assert_eq!(DestinationSlot::try_from_slot_target(0).unwrap().kernel_index(), 1);
        assert_eq!(DestinationSlot::try_from_slot_target(41).unwrap().kernel_index(), 42);
        assert_eq!(DestinationSlot::try_from_slot_target(u32::MAX - 2).unwrap().kernel_index(), u32::MAX - 1);
        assert_eq!(DestinationSlot::auto_target().kernel_index(), u32::MAX);
        assert_eq!(DestinationSlot::encode(None), 0);
    }

    #[test]
    fn the_two_unencodable_slots_are_refused() {
        assert_eq!(DestinationSlot::try_from_slot_target(u32::MAX - 1), Err(u32::MAX - 1));
        assert_eq!(DestinationSlot::try_from_slot_target(u32::MAX), Err(u32::MAX));
    }
}
