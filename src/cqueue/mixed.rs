//! [`EntryMixed`]: the completions of a ring whose CQ holds both 16- and
//! 32-byte entries (`IORING_SETUP_CQE_MIXED`, 6.18).
//!
//! Layout, as the kernel writes it (`io_uring/io_uring.c`,
//! `include/uapi/linux/io_uring.h`): the CQE array has 16-byte slots; a
//! 32-byte completion carries `IORING_CQE_F_32` and takes two consecutive
//! slots (its extra 16 bytes in the second); it never wraps: when only the
//! last slot is left before the end of the array, the kernel first posts a
//! filler with `IORING_CQE_F_SKIP` there and the big completion at slot 0.
//! The tail moves past both slots of a big completion at once.

use core::fmt;

use rustix::io::Errno;
use rustix::io_uring::{io_uring_user_data, IoringSetupFlags};

use super::{private, Entry, Entry32, EntryMarker, Flags};
use crate::sys::{self, Cqe};

/// One completion of a mixed-size CQ (`IoUring<_, EntryMixed>`, set up
/// with `IORING_SETUP_CQE_MIXED`, 6.18; `io_uring_setup(2)`): a 16-byte
/// [`Entry`] or a 32-byte [`Entry32`], as the kernel posted it.
///
/// A request gets a 32-byte completion when it asks for one (a NOP with
/// [`cqe32_payload`](crate::opcode::Nop::cqe32_payload), commands whose
/// driver fills `big_cqe`); everything else completes in 16 bytes. The
/// reader skips the kernel's `IORING_CQE_F_SKIP` fillers, so they are
/// never yielded.
#[derive(Clone)]
pub enum EntryMixed {
    /// A 16-byte completion.
    Small(Entry),
    /// A 32-byte completion (`IORING_CQE_F_32` set): two CQ slots.
    Big(Entry32),
}

impl EntryMixed {
    /// The 16-byte head every completion has.
    #[inline]
    fn head(&self) -> &Entry {
        match self {
            EntryMixed::Small(e) => e,
            EntryMixed::Big(e) => &e.0,
        }
    }

    /// The result: the operation's return value, or the error it failed
    /// with (as [`Entry::result`]).
    #[inline]
    pub fn result(&self) -> Result<u32, Errno> {
        self.head().result()
    }

    /// The raw `res` field.
    #[inline]
    pub fn raw_result(&self) -> i32 {
        self.head().raw_result()
    }

    /// The `user_data` of the request this entry completes.
    #[inline]
    pub fn user_data(&self) -> io_uring_user_data {
        self.head().user_data()
    }

    /// The `user_data` as a `u64`.
    #[inline]
    pub fn user_data_u64(&self) -> u64 {
        self.head().user_data_u64()
    }

    /// The completion's flags (`F_32` set on a [`Big`](Self::Big) one).
    #[inline]
    pub fn flags(&self) -> Flags {
        self.head().flags()
    }

    /// The 16 extra bytes of a 32-byte completion; `None` for a 16-byte one.
    #[inline]
    pub fn big_cqe(&self) -> Option<&[u64; 2]> {
        match self {
            EntryMixed::Small(_) => None,
            EntryMixed::Big(e) => Some(e.big_cqe()),
        }
    }

    /// Whether this is a 32-byte completion.
    #[inline]
    pub fn is_big(&self) -> bool {
        matches!(self, EntryMixed::Big(_))
    }

    /// Overwrites the `user_data`.
    #[inline]
    pub fn set_user_data(&mut self, user_data: impl Into<io_uring_user_data>) {
        match self {
            EntryMixed::Small(e) => e.set_user_data(user_data),
            EntryMixed::Big(e) => e.set_user_data(user_data),
        }
    }
}

impl From<EntryMixed> for Entry {
    /// The 16-byte head (a big completion's extra words are dropped).
    #[inline]
    fn from(entry: EntryMixed) -> Entry {
        match entry {
            EntryMixed::Small(e) => e,
            EntryMixed::Big(e) => e.0,
        }
    }
}

impl fmt::Debug for EntryMixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryMixed::Small(e) => f.debug_tuple("Small").field(e).finish(),
            EntryMixed::Big(e) => f.debug_tuple("Big").field(e).finish(),
        }
    }
}

impl EntryMarker for EntryMixed {
    /// `IORING_SETUP_CQE_MIXED` (6.18).
    const BUILD_FLAGS: IoringSetupFlags = IoringSetupFlags::from_bits_retain(sys::SETUP_CQE_MIXED);

    #[inline]
    fn user_data(&self) -> io_uring_user_data {
        EntryMixed::user_data(self)
    }

    #[inline]
    fn set_user_data(&mut self, user_data: io_uring_user_data) {
        EntryMixed::set_user_data(self, user_data);
    }
}

/// What the slot at `pos` starts: a filler, a big completion, a small one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Slot {
    Filler,
    Big,
    Small,
}

/// Classifies the slot at ring position `pos`.
///
/// # Safety
/// `cqes` is the 16-byte-slot CQE array of a live mixed ring (R1, R2),
/// `pos` a published position (R4, R5).
#[inline(always)]
unsafe fn slot_at(cqes: *const Cqe, pos: u32, mask: u32) -> Slot {
    // SAFETY: masked index inside the array (R2), published (caller).
    let flags = unsafe { (*cqes.add((pos & mask) as usize)).flags };
    if flags & sys::CQE_F_SKIP != 0 {
        Slot::Filler
    } else if flags & sys::CQE_F_32 != 0 {
        Slot::Big
    } else {
        Slot::Small
    }
}

/// The mixed ring's reader: the CQE array is read as 16-byte slots
/// whatever `Self`'s size (the array pointer is only ever cast, never
/// indexed as `EntryMixed`).
impl private::Sealed for EntryMixed {
    const SLOT_BYTES: usize = 16;

    #[inline]
    unsafe fn take(cqes: *const Self, head: &mut u32, tail: u32, mask: u32) -> Option<Self> {
        let cqes = cqes.cast::<Cqe>();
        while *head != tail {
            let pos = *head;
            // SAFETY: pos is in head..tail (caller: published, R4, R5).
            match unsafe { slot_at(cqes, pos, mask) } {
                Slot::Filler => *head = pos.wrapping_add(1),
                Slot::Small => {
                    // SAFETY: as above; the slot is in the array (R2).
                    let cqe = unsafe { cqes.add((pos & mask) as usize).read() };
                    *head = pos.wrapping_add(1);
                    return Some(EntryMixed::Small(Entry(cqe)));
                }
                Slot::Big => {
                    // The kernel publishes both halves with one tail
                    // store; a first half alone is not a completion yet.
                    if tail.wrapping_sub(pos) < 2 {
                        return None;
                    }
                    // SAFETY: (R2, R4, R5) both positions are in head..tail (checked
                    // just above; R4, R5); masked, so inside the array
                    // even if a first half sat in the last slot, which
                    // the kernel never does (R2).
                    // The second slot's 16 bytes are `big_cqe[0..2]`.
                    let (cqe, big) = unsafe {
                        let second = cqes.add((pos.wrapping_add(1) & mask) as usize);
                        (cqes.add((pos & mask) as usize).read(), second.cast::<[u64; 2]>().read())
                    };
                    *head = pos.wrapping_add(2);
                    return Some(EntryMixed::Big(Entry32(Entry(cqe), big)));
                }
            }
        }
        None
    }

    #[inline]
    unsafe fn count(cqes: *const Self, head: u32, tail: u32, mask: u32, limit: u32) -> u32 {
        let cqes = cqes.cast::<Cqe>();
        let (mut pos, mut n) = (head, 0);
        while pos != tail && n < limit {
            // SAFETY: pos is in head..tail (caller: published, R4, R5).
            pos = pos.wrapping_add(match unsafe { slot_at(cqes, pos, mask) } {
                Slot::Filler => 1,
                Slot::Small => {
                    n += 1;
                    1
                }
                // As in `take`: a first half alone is not counted.
                Slot::Big if tail.wrapping_sub(pos) < 2 => break,
                Slot::Big => {
                    n += 1;
                    2
                }
            });
        }
        n
    }
}
