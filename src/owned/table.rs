//! The table of slots: user data encoding, the lifecycle of one slot, and
//! the operation trait. No ring here: [`Driver`](super::Driver) pairs a
//! table with one, and the unit tests drive it with a stand-in kernel.

use core::any::TypeId;
use core::cell::UnsafeCell;
use core::fmt;
use core::marker::PhantomData;
use core::mem::{ManuallyDrop, MaybeUninit};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Poll, Waker};

use rustix::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use rustix::io::Errno;

use crate::buf_ring::{BufRing, Picked};
use crate::types::sealed;
use crate::{cqueue, squeue};

/// The default number of results of a multishot operation (or a
/// zero-copy send's first result) kept per slot until they are read: the
/// last const parameter `Q` of [`Driver`](super::Driver) and
/// [`SlotStore`]. A driver's provided-buffer ring holds at most `Q`
/// buffers ([`Driver::provide_buffers`](super::Driver::provide_buffers)
/// refuses more), so a [`RecvMulti`](super::RecvMulti) never loses a
/// result; see "Multishot results" in the [module docs](super).
pub const QUEUE: usize = 8;

pub(crate) const GEN_SHIFT: u32 = 34;
pub(crate) const TAG_SHIFT: u32 = 32;
pub(crate) const RING_SHIFT: u32 = 16;
const TAG_OP: u64 = 1;
const TAG_CANCEL: u64 = 2;
const GEN_MASK: u32 = (1 << 30) - 1;
const GEN_FIELD: u64 = (GEN_MASK as u64) << GEN_SHIFT;

/// `generation (30 bits) | tag (2) | ring id (16) | index (16)`. Tags 0
/// and 3 are never produced, so 0 and `u64::MAX` are always foreign. The
/// generation is on top so that the next one is a plain add that wraps
/// (`next_gen`).
#[inline]
pub(crate) const fn encode(tag: u64, ring: u16, gen: u32, index: u16) -> u64 {
    (((gen & GEN_MASK) as u64) << GEN_SHIFT) | ((tag & 3) << TAG_SHIFT) | ((ring as u64) << RING_SHIFT) | index as u64
}

/// The user data of the same slot's next generation (O4): the generation
/// plus one, wrapping inside its 30 bits (it is the top of the word);
/// tag, ring id and index kept.
#[cfg(test)]
pub(crate) const fn next_gen(ud: u64) -> u64 {
    ud.wrapping_add(1 << GEN_SHIFT)
}

/// What a slot holding `ud` holds after [`Slot::next_gen`] (for the
/// tests: it must be [`next_gen`]).
#[cfg(test)]
pub(crate) fn slot_next_gen(ud: u64) -> u64 {
    let mut s = Slot::<1>::new();
    s.set_ud(ud);
    s.next_gen();
    s.ud()
}

#[inline]
const fn decode(ud: u64) -> (u64, u16, u32, usize) {
    ((ud >> TAG_SHIFT) & 3, (ud >> RING_SHIFT) as u16, (ud >> GEN_SHIFT) as u32, (ud & 0xffff) as usize)
}

/// How many completions an operation gets, and which is the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shots {
    /// Exactly one; a completion with `F_MORE` for it is foreign.
    One,
    /// A result with `F_MORE`, then the notification (`SEND_ZC`), or a
    /// single completion without `F_MORE` when it failed early.
    Notif,
    /// Any number with `F_MORE`, then one without (multishot).
    Many,
}

/// The memory and arguments of one owned operation, moved into a slot.
///
/// The built-in operations ([`Read`](super::Read), [`Accept`](super::Accept),
/// ...) implement it; implement it for an operation of your own.
///
/// # Safety
/// [`build`](Self::build) must return an SQE that names only memory owned
/// by `self` and valid, at the same address, for as long as `self` is not
/// dropped or moved (fields of `self`: the layer never moves an operation
/// between `build` and its last completion; or memory behind an
/// [`IoBuf`](super::IoBuf) it owns), or `'static` memory; and only files
/// `self` keeps open (through a [`Target`] it owns). `FD_RESULT` must be
/// true only if a non-negative result is a new file descriptor that the
/// caller owns (`accept`, `openat`, `socket`). The SQE must not set
/// `IOSQE_CQE_SKIP_SUCCESS` (the slot would wait for ever).
/// `FIXED_FILE_RESULT` must be true only if a non-negative result is the
/// index of a registered-file slot the kernel has just filled for this
/// operation and nobody else (`IORING_FILE_INDEX_ALLOC`: an accept, open
/// or socket into a slot the kernel picks). If the type
/// also implements [`Multishot`], its `item` must not write memory the
/// SQE names (the kernel may still read or write it).
pub unsafe trait Operation: Send + Sized + 'static {
    /// What the operation gives back: its result and its resources.
    type Output;
    /// A non-negative result is a new descriptor: the table wraps it in an
    /// `OwnedFd` as soon as the completion is reaped (closed if nobody
    /// claims it).
    const FD_RESULT: bool = false;
    /// A non-negative result is the index of the registered-file slot the
    /// kernel filled for this operation (`IORING_FILE_INDEX_ALLOC`): when
    /// nobody claims that result (abandoned, torn down, or a multishot
    /// item released unread), the driver empties the slot
    /// (`IORING_REGISTER_FILES_UPDATE` with -1), closing what the kernel
    /// put there; a claimed one is the caller's to close.
    const FIXED_FILE_RESULT: bool = false;
    /// The operation picks a buffer from the driver's buffer ring.
    const BUF_SELECT: bool = false;
    /// How many completions the operation gets.
    const SHOTS: Shots = Shots::One;

    /// The SQE for this operation, or an error to refuse it (the operation
    /// is given back). Called once per push, with `self` already in its
    /// slot; a push that then finds no room in the SQ gives the operation
    /// back after its `build` (`EBUSY`), and pushing it again builds again.
    fn build(&mut self, prep: &Prep<'_>) -> Result<squeue::Entry, Errno>;

    /// Turns the last completion into the output. For `Shots::Many`
    /// operations, results not read through
    /// [`Driver::poll_next`](super::Driver::poll_next) were released
    /// before, and `done` holds none.
    fn complete(self, done: Completion) -> Self::Output;

    /// Drops the operation when nobody claims its output (abandoned, or
    /// completed and torn down), after its last completion. An operation
    /// that owns a [`Received`](super::Received) (e.g.
    /// [`SendReceived`](super::SendReceived)) returns it, and the layer
    /// puts its buffer back into the driver's ring rather than leaving it
    /// out for good.
    fn unclaimed(self) -> Option<super::Received> {
        None
    }
}

/// An operation with a stream of results ([`Shots::Many`]).
///
/// [`item`](Self::item) gets `&mut self` while the operation may still be
/// running: it must not write memory the SQE names (O2).
pub trait Multishot: Operation {
    /// One result of the stream.
    type Item;
    /// Turns one completion into an item.
    fn item(&mut self, c: Completion) -> Self::Item;
}

/// One completion, with what the layer turned its result into.
#[derive(Debug)]
pub struct Completion {
    /// The kernel's result; `-ECANCELED` when there is no completion to
    /// report (so `result` and `take_fd` say `ECANCELED`, `flags` none).
    res: i32,
    flags: u32,
    fd: Option<OwnedFd>,
    buf: Option<Picked<'static>>,
    more: Option<i32>,
}

impl Completion {
    /// A completion with result `res` and `flags`, owning `fd` and `buf`.
    #[inline(always)]
    pub(crate) fn new(res: i32, flags: u32, fd: Option<OwnedFd>, buf: Option<Picked<'static>>) -> Self {
        Completion { res, flags, fd, buf, more: None }
    }

    /// No completion to report (a multishot's results were read).
    #[inline(always)]
    pub(crate) fn none() -> Self {
        Completion::new(-Errno::CANCELED.raw_os_error(), 0, None, None)
    }

    /// One queued result.
    #[inline]
    pub(crate) fn from_item(item: Item) -> Self {
        Completion::new(item.res, item.flags, item.fd, item.buf)
    }

    /// The kernel's result: `Ok(res)` or the error. `ECANCELED` when there
    /// is no completion to report (a multishot's results were read).
    #[inline]
    pub fn result(&self) -> Result<u32, Errno> {
        to_result(self.res)
    }

    /// The completion's flags (empty when there is none).
    #[inline]
    pub fn flags(&self) -> cqueue::Flags {
        cqueue::Flags::from_bits_retain(self.flags)
    }

    /// The new descriptor, for an operation with `FD_RESULT`; or the error.
    #[inline]
    pub fn take_fd(&mut self) -> Result<OwnedFd, Errno> {
        match self.fd.take() {
            Some(fd) => Ok(fd),
            // An error, or the fd was taken already (or none to report:
            // `res` is then `-ECANCELED`).
            None => to_result(self.res).and(Err(Errno::BADF)),
        }
    }

    /// The buffer the kernel picked from the driver's ring, if any.
    #[inline]
    pub(crate) fn take_buf(&mut self) -> Option<Picked<'static>> {
        self.buf.take()
    }

    /// For [`Shots::Notif`]: the result of the first completion (the one
    /// with `F_MORE`), if there was one.
    #[inline]
    pub fn first_result(&self) -> Option<Result<u32, Errno>> {
        self.more.map(to_result)
    }
}

/// A CQE's `res` as `cqueue::Entry::result` reads it: non-negative is the
/// value, -1..=-4095 the errno, anything below (no errno; a kernel never
/// posts it, a stand-in or a bug might) `EINVAL`, never a panic.
#[inline]
fn to_result(res: i32) -> Result<u32, Errno> {
    match res {
        0.. => Ok(res as u32),
        -4095..=-1 => Err(Errno::from_raw_os_error(-res)),
        _ => Err(Errno::INVAL),
    }
}

/// A tuple of 2 to 6 operations for
/// [`Driver::push_chain`](super::Driver::push_chain), each linked to the
/// next. Implemented for tuples only.
#[allow(private_interfaces)]
pub trait Chain: Sized {
    /// A ticket for each operation, in order.
    type Tickets;
    #[doc(hidden)]
    const LEN: usize;
    #[doc(hidden)]
    #[allow(clippy::type_complexity)]
    fn prepare<const N: usize, const B: usize, const Q: usize>(
        self,
        t: &mut Table<N, B, Q>,
        prep: &Prep<'_>,
    ) -> Result<([u64; 6], [squeue::Entry; 6]), (Self, Errno)>;
    #[doc(hidden)]
    fn unprepare<const N: usize, const B: usize, const Q: usize>(
        t: &mut Table<N, B, Q>,
        uds: &[u64; 6],
    ) -> Option<Self>;
    #[doc(hidden)]
    fn tickets(uds: &[u64; 6]) -> Self::Tickets;
}

macro_rules! chain {
    ($len:literal; $($T:ident $v:ident $i:tt),+) => {
        #[allow(private_interfaces)]
        impl<$($T: Operation),+> Chain for ($($T,)+) {
            type Tickets = ($(Ticket<$T>,)+);
            const LEN: usize = $len;
            fn prepare<const N: usize, const B: usize, const Q: usize>(
                self,
                t: &mut Table<N, B, Q>,
                prep: &Prep<'_>,
            ) -> Result<([u64; 6], [squeue::Entry; 6]), (Self, Errno)> {
                let ($($v,)+) = self;
                let mut uds = [0u64; 6];
                let mut sqes: [squeue::Entry; 6] = core::array::from_fn(|_| crate::opcode::Nop::new().build());
                let mut err = None;
                $(
                    let $v: Result<u64, $T> = if err.is_some() {
                        Err($v)
                    } else {
                        match t.prepare($v, prep) {
                            Ok((ud, sqe)) => {
                                uds[$i] = ud;
                                sqes[$i] = sqe;
                                Ok(ud)
                            }
                            Err(r) => {
                                err = Some(r.errno);
                                Err(r.op)
                            }
                        }
                    };
                )+
                match err {
                    None => Ok((uds, sqes)),
                    Some(e) => Err((
                        ($(match $v {
                            // SAFETY: (O4, O5) `ud` came from `prepare::<$T>` just
                            // above, and only prepares and take-backs ran
                            // on the table since.
                            Ok(ud) => unsafe { t.take_prepared::<$T>(ud) },
                            Err(op) => op,
                        },)+),
                        e,
                    )),
                }
            }
            fn unprepare<const N: usize, const B: usize, const Q: usize>(
                t: &mut Table<N, B, Q>,
                uds: &[u64; 6],
            ) -> Option<Self> {
                Some(($(t.unprepare::<$T>(uds[$i])?,)+))
            }
            fn tickets(uds: &[u64; 6]) -> Self::Tickets {
                ($(Ticket::new(uds[$i]),)+)
            }
        }
    };
}

chain!(2; A a 0, C c 1);
chain!(3; A a 0, C c 1, D d 2);
chain!(4; A a 0, C c 1, D d 2, E e 3);
chain!(5; A a 0, C c 1, D d 2, E e 3, F f 4);
chain!(6; A a 0, C c 1, D d 2, E e 3, F f 4, G g 5);

/// What [`Operation::build`] may consult: the driver's buffer group and
/// registered files.
#[derive(Debug, Clone, Copy)]
pub struct Prep<'a> {
    pub(crate) uid: usize,
    pub(crate) files: u32,
    pub(crate) bgid: Option<u16>,
    pub(crate) fixed: &'a [(usize, u32)],
    /// The driver's buffer ring and its id, to find the bytes of a
    /// [`Received`](super::Received).
    pub(crate) ring: Option<(&'a BufRing<'static>, usize)>,
}

impl Prep<'_> {
    /// The driver's buffer group, or `ENOBUFS` when it has none
    /// ([`Driver::provide_buffers`](super::Driver::provide_buffers)).
    pub fn buf_group(&self) -> Result<u16, Errno> {
        self.bgid.ok_or(Errno::NOBUFS)
    }

    /// The memory of registered buffer `b`: its address, length and index;
    /// `EBADF` when `b` is not this driver's.
    pub fn fixed_buf(&self, b: &super::FixedBuf) -> Result<(*mut u8, u32, u16), Errno> {
        match self.fixed.get(usize::from(b.index)) {
            Some(&(ptr, len)) if b.uid == self.uid => Ok((ptr as *mut u8, len, b.index)),
            _ => Err(Errno::BADF),
        }
    }

    /// The bytes of `r` in the driver's buffer ring: their address and
    /// length. `ENOBUFS` when the driver has no ring; `EINVAL` when `r` is
    /// another driver's, or of a ring this driver had before.
    pub(crate) fn received(&self, r: &super::Received) -> Result<(*const u8, usize), Errno> {
        let (ring, id) = self.ring.ok_or(Errno::NOBUFS)?;
        if r.ring != id {
            return Err(Errno::INVAL);
        }
        let bytes = ring.bytes(&r.picked);
        if bytes.len() != r.len() {
            return Err(Errno::INVAL);
        }
        Ok((bytes.as_ptr(), bytes.len()))
    }

    /// The file `t` names, as the raw builders take it.
    pub fn file<T: Target + ?Sized>(&self, t: &T) -> Result<Resolved, Errno> {
        t.resolve(self)
    }
}

/// A file as an SQE names it: a descriptor, or a registered index checked
/// against the driver. Pass it to a raw builder's `new`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved(pub(crate) sealed::Target);

impl sealed::UseFixed for Resolved {
    fn into_target(self) -> sealed::Target {
        self.0
    }
}

impl Resolved {
    /// A plain descriptor.
    pub fn fd(fd: BorrowedFd<'_>) -> Resolved {
        Resolved(sealed::Target::Fd(fd.as_raw_fd()))
    }
}

/// Something an operation owns that names a file: an `OwnedFd` (given
/// back with the result), a `BorrowedFd<'static>`, a `&'static` file, a
/// [`FixedFile`](super::FixedFile) of the same driver, or with `alloc` an
/// `Arc` of a file. Owning it keeps the descriptor from being closed and
/// reused while the kernel may still look it up.
pub trait Target: Send + 'static {
    /// How the SQE names the file; an error refuses the operation.
    fn resolve(&self, prep: &Prep<'_>) -> Result<Resolved, Errno>;
}

impl Target for OwnedFd {
    fn resolve(&self, _: &Prep<'_>) -> Result<Resolved, Errno> {
        Ok(Resolved(sealed::Target::Fd(self.as_raw_fd())))
    }
}

impl Target for BorrowedFd<'static> {
    fn resolve(&self, _: &Prep<'_>) -> Result<Resolved, Errno> {
        Ok(Resolved(sealed::Target::Fd(self.as_raw_fd())))
    }
}

impl<T: rustix::fd::AsFd + Sync + ?Sized> Target for &'static T {
    fn resolve(&self, _: &Prep<'_>) -> Result<Resolved, Errno> {
        Ok(Resolved(sealed::Target::Fd(self.as_fd().as_raw_fd())))
    }
}

#[cfg(feature = "alloc")]
impl<T: rustix::fd::AsFd + Send + Sync + ?Sized + 'static> Target for alloc::sync::Arc<T> {
    fn resolve(&self, _: &Prep<'_>) -> Result<Resolved, Errno> {
        Ok(Resolved(sealed::Target::Fd(self.as_fd().as_raw_fd())))
    }
}

/// An operation the table refused, given back with the reason: `EBUSY`
/// (no free slot, or no room in the SQ) or the operation's own error.
pub struct Refused<T> {
    /// The operation, untouched.
    pub op: T,
    /// Why.
    pub errno: Errno,
}

impl<T> Refused<T> {
    /// The reason.
    pub fn errno(&self) -> Errno {
        self.errno
    }
    /// The operation back.
    pub fn into_inner(self) -> T {
        self.op
    }
}

impl<T> fmt::Debug for Refused<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refused").field("errno", &self.errno).finish_non_exhaustive()
    }
}

/// The claim on one submitted operation of type `T`: poll it, wait for
/// it, or abandon it. Not `Clone`; forgetting it keeps its slot (and what
/// the slot owns) until the driver drops.
#[must_use = "a forgotten ticket keeps its slot until the driver drops"]
pub struct Ticket<T> {
    pub(crate) ud: u64,
    _op: PhantomData<fn() -> T>,
}

impl<T> Ticket<T> {
    pub(crate) fn new(ud: u64) -> Self {
        Ticket { ud, _op: PhantomData }
    }
    /// The user data of the operation's SQE (for a raw cancel, or logs).
    pub fn user_data(&self) -> u64 {
        self.ud
    }
}

impl<T> fmt::Debug for Ticket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ticket({:#x})", self.ud)
    }
}

/// Counters of what the table saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Completions that matched no waiting slot (stale, duplicated, the
    /// raw layer's, another ring's).
    pub foreign: u64,
    /// Completions of the layer's own cancels (they free nothing).
    pub cancel_cqes: u64,
    /// Multishot results released because their slot's queue was full
    /// (never a [`RecvMulti`](super::RecvMulti)'s: see "Multishot results"
    /// in the [module docs](super)).
    pub lost: u64,
    /// Slots given up at teardown (leaked with what they own).
    pub leaked: u32,
}

/// A reaped completion, once applied to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reaped {
    /// It belonged to a slot.
    Op,
    /// The completion of one of the layer's own cancels.
    Cancel,
    /// Not ours, or not awaited: nothing was touched.
    Foreign,
}

/// One completion as kept in a slot, its result already turned into what
/// it owns.
#[derive(Debug)]
pub(crate) struct Item {
    pub(crate) res: i32,
    pub(crate) flags: u32,
    pub(crate) fd: Option<OwnedFd>,
    pub(crate) buf: Option<Picked<'static>>,
}

/// Where the table releases what a completion nobody claims holds (see
/// [`Operation::unclaimed`], guarantee 3): the driver's buffer ring, for a
/// provided buffer, and the ring's registered-file table, for a slot the
/// kernel filled ([`Operation::FIXED_FILE_RESULT`]).
pub(crate) trait Release {
    /// The driver's buffer ring.
    fn bufs(&mut self) -> &mut Option<BufRing<'static>>;
    /// Empties registered-file slot `index`, which the kernel filled for a
    /// result nobody will claim (no handle to it was ever made).
    fn empty_file(&mut self, index: u32);
}

/// A buffer ring alone (the table's unit tests and fuzz hooks, which have
/// no file table): a slot to empty is ignored.
impl Release for Option<BufRing<'static>> {
    #[inline(always)]
    fn bufs(&mut self) -> &mut Option<BufRing<'static>> {
        self
    }
    #[inline(always)]
    fn empty_file(&mut self, _: u32) {}
}

/// The lifecycle of a slot. Every (state, event) pair is handled in
/// [`Table`]; see the table in the module docs of `owned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum State {
    /// Empty; on the free list.
    Free,
    /// Holds an operation whose SQE is built but not yet in the SQ.
    Reserved,
    /// The SQE is in the SQ (or the kernel): waiting for completions.
    InFlight,
    /// Nobody wants the result; freed at the last completion.
    Abandoned,
    /// The last completion arrived; waiting to be polled.
    Completed,
    /// Given up at teardown: never touched again (O1).
    Leaked,
}

/// What a slot knows of its operation's type. Aligned to 256 so that a
/// pointer to it has a zero low byte, where [`Slot::word`] keeps the
/// slot's state: one comparison of the word then checks the type and the
/// state at once, and the state alone is one byte (256 bytes of
/// read-only data per operation type a program uses).
#[repr(C, align(256))]
struct VTable {
    type_id: fn() -> TypeId,
    drop: unsafe fn(*mut u8) -> Option<super::Received>,
    fd_result: bool,
    fixed_result: bool,
    buf_select: bool,
    shots: Shots,
    /// `Shots::One`, no `FD_RESULT`, `FIXED_FILE_RESULT` or `BUF_SELECT`
    /// (see [`PLAIN`]).
    plain: bool,
}

// The state byte fits below the table's alignment.
const _: () = assert!(align_of::<VTable>() > 0xff);

struct Vt<T>(PhantomData<T>);

impl<T: Operation> Vt<T> {
    const V: VTable = VTable {
        type_id: TypeId::of::<T>,
        drop: drop_op::<T>,
        fd_result: T::FD_RESULT,
        fixed_result: T::FIXED_FILE_RESULT,
        buf_select: T::BUF_SELECT,
        shots: T::SHOTS,
        plain: matches!(T::SHOTS, Shots::One) && !T::FD_RESULT && !T::FIXED_FILE_RESULT && !T::BUF_SELECT,
    };
    /// [`PLAIN`] for a plain `T`, else 0.
    const PLAIN: u8 = if Self::V.plain { PLAIN } else { 0 };

    /// The [`Slot::word`] of a slot holding a `T` with state bits `hot`.
    #[inline(always)]
    fn word(hot: u8) -> *const VTable {
        word_of(&Self::V, hot)
    }
}

/// A [`Slot::word`]: `vt` (null for none) with the state bits `hot` in
/// its low byte (zero in `vt`: [`VTable`]'s alignment).
#[inline(always)]
const fn word_of(vt: *const VTable, hot: u8) -> *const VTable {
    vt.cast::<u8>().wrapping_add(hot as usize).cast()
}

/// Whether `vt` describes a `T` (O5). The address of `T`'s own table says
/// yes at once (the tables of two types differ in their `type_id`
/// function, so they are never one object); an equal table at another
/// address (the compiler may duplicate a constant) is checked by `TypeId`.
#[inline(always)]
fn holds<T: Operation>(vt: Option<&'static VTable>) -> bool {
    // An empty slot (`None`, a null pointer) is never equal to a table.
    let ptr = vt.map_or(core::ptr::null(), core::ptr::from_ref);
    core::ptr::eq(ptr, &Vt::<T>::V) || vt.is_some_and(holds_slow::<T>)
}

#[cold]
fn holds_slow<T: Operation>(vt: &'static VTable) -> bool {
    (vt.type_id)() == TypeId::of::<T>()
}

/// Drops the `T` at `p` ([`Operation::unclaimed`]); returns the buffer
/// of the driver's ring it held, if any.
///
/// # Safety
/// `p` must point to an initialised `T` that is not used again.
unsafe fn drop_op<T: Operation>(p: *mut u8) -> Option<super::Received> {
    // SAFETY: forwarded from the caller (O3): moved out once, never used
    // again.
    let op = unsafe { p.cast::<T>().read() };
    op.unclaimed()
}

#[repr(C, align(16))]
struct Storage<const B: usize>(MaybeUninit<[u8; B]>);

/// One slot's bookkeeping. Its operation's storage is apart, in
/// [`SlotArray::storage`], reached only through raw pointers: the kernel
/// writes it while the slot awaits completions, so no `&`/`&mut` to it may
/// be live then (not even one to the whole array).
///
/// The fields a NOP or a read touches (user data, type and state, result,
/// free list) come first, in one cache line; the multishot queue last.
#[repr(C)]
struct Slot<const Q: usize> {
    /// The user data of this slot's current generation (O4): `tag |
    /// ring id | gen | index`, kept so that matching a completion is one
    /// comparison; the generation lives only here. In two halves (read
    /// as one word, [`Slot::ud`]): the low one is ring id and index, the
    /// high one generation and tag, so that the next generation is one
    /// add to the high half ([`Slot::next_gen`]).
    ud_lo: u32,
    ud_hi: u32,
    /// The operation's type and the slot's state in one word (O3): a
    /// pointer to the operation's [`VTable`] (null: none), with the state
    /// in its low byte ([`Slot::hot`]): the [`State`] (bits 0-2),
    /// [`PLAIN`], [`CANCEL`], [`LAST`], [`WAKER`] and [`OLD_FILES`]. So one comparison
    /// says "a `T`, in flight, plain, no cancel, no waker" (a one-step
    /// take) or "a `T`, completed" (a take by ticket), and a push writes
    /// type and state in one store.
    word: *const VTable,
    /// The last completion's result and flags (while [`LAST`]).
    res: i32,
    flags: u32,
    /// While `Free`: the next free slot's entry (an `Entry<B, Q>` of
    /// the same array, type-erased here), or null at the end (O11).
    next_free: *mut (),
    qhead: u8,
    qlen: u8,
    waker: Option<Waker>,
    /// The new descriptor of the last completion (`FD_RESULT` only, O6).
    last_fd: Option<OwnedFd>,
    /// The provided buffer of the last completion (`BUF_SELECT` only).
    last_buf: Option<Picked<'static>>,
    queue: [Option<Item>; Q],
}

/// In [`Slot::hot`], bits 0-2: the [`State`].
const STATE: u8 = 0x07;
/// In [`Slot::hot`]: the operation is `Shots::One`, without `FD_RESULT`,
/// `FIXED_FILE_RESULT` or `BUF_SELECT` (set with its type at `place`): its last completion
/// is two integers, applied without the `vt`.
const PLAIN: u8 = 0x08;
/// In [`Slot::hot`]: a cancel of the operation is still to be pushed
/// (counted in `Table::pending_cancels`).
const CANCEL: u8 = 0x10;
/// In [`Slot::hot`]: the last completion (`res`, `flags`, `last_fd`,
/// `last_buf`) is here and not yet handed out, set when the slot turns
/// `Completed`.
const LAST: u8 = 0x20;
/// In [`Slot::hot`]: `waker` is `Some` (kept with it by
/// [`Slot::set_waker`] and [`Slot::take_waker`], the only writers of
/// `waker` but `new`), so that the state tells a completion whether it
/// has a waker to wake.
const WAKER: u8 = 0x40;
/// In [`Slot::hot`]: the driver's registered files changed while the
/// operation was in the slot ([`Table::files_changed`], set only on slots
/// of a `FIXED_FILE_RESULT` operation, never plain): a slot index among
/// its results may name a slot of another table, or one emptied and
/// given to someone else since, so none is emptied (O12).
const OLD_FILES: u8 = 0x80;

/// [`Slot::hot`] of a slot in flight with a plain operation, no cancel to
/// push and no waker: what the one completion of a NOP or a read finds.
const HOT_PLAIN_IN_FLIGHT: u8 = State::InFlight as u8 | PLAIN;
/// The same with a waker to wake (an operation a future polled).
const HOT_PLAIN_IN_FLIGHT_WAKER: u8 = HOT_PLAIN_IN_FLIGHT | WAKER;

impl<const Q: usize> Slot<Q> {
    /// The state bits of [`word`](Self::word): its low byte.
    #[inline(always)]
    fn hot(&self) -> u8 {
        self.word.addr() as u8
    }

    /// Sets the state bits, keeping the type (one byte store).
    #[inline(always)]
    fn set_hot(&mut self, hot: u8) {
        self.word = self.word.map_addr(|a| (a & !0xff) | usize::from(hot));
    }

    #[inline(always)]
    fn set_bit(&mut self, bit: u8, on: bool) {
        let hot = self.hot();
        self.set_hot(if on { hot | bit } else { hot & !bit });
    }

    #[inline(always)]
    fn state(&self) -> State {
        match self.hot() & STATE {
            0 => State::Free,
            1 => State::Reserved,
            2 => State::InFlight,
            3 => State::Abandoned,
            4 => State::Completed,
            // Only `set_state` and `place` write it.
            _ => State::Leaked,
        }
    }

    #[inline(always)]
    fn set_state(&mut self, state: State) {
        self.set_hot((self.hot() & !STATE) | state as u8);
    }

    /// The operation's type (O3: meaningful only while not `Free`).
    #[inline(always)]
    fn vt(&self) -> Option<&'static VTable> {
        // SAFETY: O3: the word's pointer part (the state bits masked off)
        // is null or was made from a `&'static VTable` by `place` or
        // `set_vt`, its only writers but `release` and `new` (null).
        unsafe { self.word.map_addr(|a| a & !0xff).as_ref() }
    }

    /// Sets the type, keeping the state bits.
    #[inline(always)]
    fn set_vt(&mut self, vt: Option<&'static VTable>) {
        self.word = word_of(vt.map_or(core::ptr::null(), core::ptr::from_ref), self.hot());
    }

    /// Whether a cancel is still to be pushed ([`CANCEL`]).
    #[inline(always)]
    fn cancel_pending(&self) -> bool {
        self.hot() & CANCEL != 0
    }

    #[inline(always)]
    fn set_cancel_pending(&mut self, on: bool) {
        self.set_bit(CANCEL, on);
    }

    /// Whether the last completion is kept here ([`LAST`]).
    #[inline(always)]
    fn has_last(&self) -> bool {
        self.hot() & LAST != 0
    }

    #[inline(always)]
    fn set_last(&mut self, on: bool) {
        self.set_bit(LAST, on);
    }

    /// Keeps `waker` (unless the one kept already wakes the same task),
    /// and marks that there is one ([`WAKER`]).
    #[inline]
    fn set_waker(&mut self, waker: Option<&Waker>) {
        if let Some(w) = waker {
            // Marked first: should the old waker's drop unwind, the mark
            // errs on the safe side (a mark without a waker only sends
            // the completion down the general path).
            self.set_bit(WAKER, true);
            match &self.waker {
                Some(old) if old.will_wake(w) => {}
                _ => self.waker = Some(w.clone()),
            }
        }
    }

    /// The waker, if any; the slot has none after.
    #[inline(always)]
    fn take_waker(&mut self) -> Option<Waker> {
        self.set_bit(WAKER, false);
        self.waker.take()
    }

    /// The user data of the slot's current generation (O4).
    #[inline(always)]
    fn ud(&self) -> u64 {
        u64::from(self.ud_lo) | (u64::from(self.ud_hi) << 32)
    }

    #[inline(always)]
    fn set_ud(&mut self, ud: u64) {
        (self.ud_lo, self.ud_hi) = (ud as u32, (ud >> 32) as u32);
    }

    /// The user data of the slot's next generation (O4): [`next_gen`],
    /// on the high half only (the generation is its top 30 bits, so the
    /// add wraps inside them; the tag below is kept).
    #[inline(always)]
    fn next_gen(&mut self) {
        self.ud_hi = self.ud_hi.wrapping_add(1 << (GEN_SHIFT - 32));
    }

    const fn new() -> Self {
        Slot {
            ud_lo: 0,
            ud_hi: 0,
            word: core::ptr::null(),
            res: 0,
            flags: 0,
            next_free: core::ptr::null_mut(),
            qhead: 0,
            qlen: 0,
            waker: None,
            last_fd: None,
            last_buf: None,
            queue: [const { None }; Q],
        }
    }

    fn push_item(&mut self, item: Item) -> Result<(), Item> {
        if usize::from(self.qlen) == Q {
            return Err(item);
        }
        let at = (usize::from(self.qhead) + usize::from(self.qlen)) % Q;
        self.queue[at] = Some(item);
        self.qlen += 1;
        Ok(())
    }

    fn pop_item(&mut self) -> Option<Item> {
        if self.qlen == 0 {
            return None;
        }
        let item = self.queue[usize::from(self.qhead)].take();
        self.qhead = ((usize::from(self.qhead) + 1) % Q) as u8;
        self.qlen -= 1;
        item
    }
}

/// One slot: its bookkeeping and, apart (its own `UnsafeCell`, never
/// under a reference to the bookkeeping), its operation's storage. Side
/// by side, so that one address leads to both.
#[repr(C)]
struct Entry<const B: usize, const Q: usize> {
    meta: UnsafeCell<Slot<Q>>,
    storage: UnsafeCell<Storage<B>>,
}

/// The slot array of a [`Driver`](super::Driver) with `N` slots of `B`
/// bytes of operation storage each.
pub struct SlotArray<const N: usize, const B: usize, const Q: usize = QUEUE> {
    entries: [Entry<B, Q>; N],
}

impl<const N: usize, const B: usize, const Q: usize> SlotArray<N, B, Q> {
    const fn new() -> Self {
        SlotArray {
            entries: [const {
                Entry { meta: UnsafeCell::new(Slot::new()), storage: UnsafeCell::new(Storage(MaybeUninit::uninit())) }
            }; N],
        }
    }
}

/// `'static` storage for the slots of one driver at a time (O1, O8): put
/// it in a `static` and [`take`](Self::take) it.
///
/// ```
/// use urix::owned::{Driver, SlotStore};
/// static SLOTS: SlotStore<16> = SlotStore::new();
/// # fn main() -> urix::Result<()> {
/// let slots = SLOTS.take().expect("not in use");
/// let driver = Driver::with_slots(urix::IoUring::new(8)?, slots);
/// drop(driver); // every slot free: SLOTS can be taken again
/// assert!(SLOTS.take().is_some());
/// # Ok(())
/// # }
/// ```
pub struct SlotStore<const N: usize, const B: usize = 320, const Q: usize = QUEUE> {
    taken: AtomicBool,
    array: SlotArray<N, B, Q>,
}

// SAFETY: O8: the array is reached only through the one `Slots` that
// `take` hands out while `taken` is set; operations in it are `Send`.
unsafe impl<const N: usize, const B: usize, const Q: usize> Sync for SlotStore<N, B, Q> {}

impl<const N: usize, const B: usize, const Q: usize> SlotStore<N, B, Q> {
    /// Empty storage, for a `static`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        SlotStore { taken: AtomicBool::new(false), array: SlotArray::new() }
    }

    /// The slots, unless a driver holds them (or leaked them at teardown).
    pub fn take(&'static self) -> Option<Slots<N, B, Q>> {
        if self.taken.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            return None;
        }
        // O8: we just set `taken`, so no other `Slots` of this store exists
        // until it is given back; all its mutable parts are `UnsafeCell`s.
        Some(Slots { base: NonNull::from(&self.array), origin: Origin::Store(&self.taken) })
    }
}

#[derive(Debug)]
enum Origin {
    Store(&'static AtomicBool),
    #[cfg(feature = "alloc")]
    Heap,
}

/// Slot storage for one driver: from a [`SlotStore`], or with `alloc`
/// from `Slots::boxed`.
pub struct Slots<const N: usize, const B: usize = 320, const Q: usize = QUEUE> {
    base: NonNull<SlotArray<N, B, Q>>,
    origin: Origin,
}

// SAFETY: O8: a `Slots` is the only way to its array; the operations in
// it are `Send`, and wakers, fds and picked buffers are too.
unsafe impl<const N: usize, const B: usize, const Q: usize> Send for Slots<N, B, Q> {}

impl<const N: usize, const B: usize, const Q: usize> fmt::Debug for Slots<N, B, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slots").field("n", &N).field("bytes", &B).field("origin", &self.origin).finish()
    }
}

#[cfg(feature = "alloc")]
impl<const N: usize, const B: usize, const Q: usize> Slots<N, B, Q> {
    /// Slots on the heap, leaked while a driver uses them (O1) and freed
    /// when the driver drops with every slot free.
    pub fn boxed() -> Self {
        let array = alloc::boxed::Box::into_raw(alloc::boxed::Box::new(SlotArray::new()));
        // `into_raw` never returns null.
        let base = NonNull::new(array).unwrap_or(NonNull::dangling());
        Slots { base, origin: Origin::Heap }
    }
}

impl<const N: usize, const B: usize, const Q: usize> Drop for Slots<N, B, Q> {
    /// Gives the storage back: the store's flag is cleared, or the box
    /// freed. A `Slots` drops only with every slot free (a table that
    /// gives up on a slot forgets its `Slots`, O1).
    fn drop(&mut self) {
        match self.origin {
            Origin::Store(flag) => flag.store(false, Ordering::Release),
            #[cfg(feature = "alloc")]
            Origin::Heap => {
                // SAFETY: O1: the array came from `Box::into_raw` in
                // `boxed`; every slot is free (no operation, nothing the
                // kernel uses), and this `Slots`, its only owner, is going.
                let _freed = unsafe { alloc::boxed::Box::from_raw(self.base.as_ptr()) };
            }
        }
    }
}

/// One slot's bookkeeping and storage, with the table's free list: what
/// handing an output over needs, borrowed at once ([`Table::parts`]).
struct Parts<'a, const B: usize, const Q: usize> {
    slot: &'a mut Slot<Q>,
    ptr: *mut u8,
    /// The slot's entry, for the free list.
    entry: *mut Entry<B, Q>,
    free_head: &'a mut *mut Entry<B, Q>,
}

/// A table's slot array ([`Table::base`]): made only from the table's own
/// `Slots`, so that the methods that take one reach that array (checked
/// in debug builds).
#[derive(Clone, Copy)]
pub(crate) struct Base<const N: usize, const B: usize, const Q: usize>(NonNull<SlotArray<N, B, Q>>);

/// The table: `N` slots, a free list, the ring id for user data.
pub(crate) struct Table<const N: usize, const B: usize, const Q: usize = QUEUE> {
    /// Given back (dropped) or forgotten only in `Drop`, so that every
    /// other method may use it without a check.
    slots: ManuallyDrop<Slots<N, B, Q>>,
    ring_id: u16,
    /// The first free slot's entry, null when none is free (O11): a
    /// push takes it with no index to mask or multiply.
    free_head: *mut Entry<B, Q>,
    pending_cancels: u32,
    pub(crate) stats: Stats,
    /// The id of the driver's current buffer ring (0: none yet), which
    /// its [`Received`](super::Received)s carry.
    pub(crate) bufs_uid: usize,
}

const NONE: u16 = u16::MAX;

// SAFETY: O8, O11: the only raw pointers a table holds beyond its `Slots`
// (`Send`) are the free list's, into that same array, used only through
// `&mut self`.
unsafe impl<const N: usize, const B: usize, const Q: usize> Send for Table<N, B, Q> {}

impl<const N: usize, const B: usize, const Q: usize> Drop for Table<N, B, Q> {
    /// Gives the storage back if every slot is free; otherwise it is
    /// leaked, never handed back (O1).
    fn drop(&mut self) {
        if self.used() == 0 {
            // SAFETY: O1: every slot is free (nothing the kernel may still
            // use); `slots` is dropped here once, and the table is going.
            unsafe { ManuallyDrop::drop(&mut self.slots) };
        }
    }
}

impl<const N: usize, const B: usize, const Q: usize> Table<N, B, Q> {
    const CHECK: () = {
        assert!(N > 0 && N < NONE as usize, "1..65535 slots");
        assert!(Q > 0 && Q <= u8::MAX as usize, "a queue of 1..255 results");
    };

    pub(crate) fn new(slots: Slots<N, B, Q>, ring_id: u16) -> Self {
        let () = Self::CHECK;
        let mut t = Table {
            slots: ManuallyDrop::new(slots),
            ring_id,
            free_head: core::ptr::null_mut(),
            pending_cancels: 0,
            stats: Stats::default(),
            bufs_uid: 0,
        };
        // Slots come in free (O1: storage goes back only when all are
        // free); link them, lowest index first.
        let mut head: *mut Entry<B, Q> = core::ptr::null_mut();
        for i in (0..N).rev() {
            let s = t.at_mut(i);
            // The generation an earlier driver of the store left goes on.
            let (_, _, gen, _) = decode(s.ud());
            s.set_ud(encode(TAG_OP, ring_id, gen, i as u16));
            s.next_free = head.cast();
            head = t.entry(i);
        }
        t.free_head = head;
        t
    }

    /// The slot array, for a reaping loop to keep at hand (a local, not
    /// a field read again after every store to a slot).
    #[inline(always)]
    pub(crate) fn base(&self) -> Base<N, B, Q> {
        Base(self.slots.base)
    }

    /// Entry `i` (`i < N`), as a raw pointer: never turned into a
    /// reference to the whole array, nor to the storage (O1).
    #[inline(always)]
    fn entry(&self, i: usize) -> *mut Entry<B, Q> {
        Self::entry_in(self.base(), i)
    }

    /// [`entry`](Self::entry) in the array `base` (this table's).
    #[inline(always)]
    fn entry_in(base: Base<N, B, Q>, i: usize) -> *mut Entry<B, Q> {
        debug_assert!(i < N);
        let base = base.0.as_ptr();
        // SAFETY: O1: `base` points to the live `'static` array (the table
        // holds its `Slots`; a `Base` is made only from them); `&raw`
        // takes the field's address without a reference.
        let first = unsafe { (&raw mut (*base).entries).cast::<Entry<B, Q>>() };
        // SAFETY: O1: the callers pass `i < N`, inside the array.
        unsafe { first.add(i) }
    }

    /// The bookkeeping of slot `i`, if `i < N`.
    #[inline(always)]
    fn get(&self, i: usize) -> Option<&Slot<Q>> {
        if i >= N {
            return None;
        }
        // SAFETY: O8: the table owns the only `Slots` of this array, and
        // `&self` allows no `&mut` to a slot meanwhile; the reference
        // covers the bookkeeping only, not the storage beside it.
        Some(unsafe { &*UnsafeCell::raw_get(&raw const (*self.entry(i)).meta) })
    }

    /// The bookkeeping of slot `i`, if `i < N`.
    #[inline(always)]
    fn get_mut(&mut self, i: usize) -> Option<&mut Slot<Q>> {
        self.get_mut_ptr(i).map(|(s, _)| s)
    }

    /// The bookkeeping of slot `i` and the storage of its operation (as
    /// a raw pointer), if `i < N`.
    #[inline(always)]
    fn get_mut_ptr(&mut self, i: usize) -> Option<(&mut Slot<Q>, *mut u8)> {
        if i >= N {
            return None;
        }
        let e = self.entry(i);
        // SAFETY: O8: as in `get`; `&mut self` makes this the only view of
        // slot `i`'s bookkeeping. The storage stays behind a raw pointer
        // (the kernel may write it).
        unsafe {
            Some((&mut *UnsafeCell::raw_get(&raw const (*e).meta), UnsafeCell::raw_get(&raw const (*e).storage).cast()))
        }
    }

    /// Slot `i`'s bookkeeping, for an `i` known to be below `N`.
    #[inline(always)]
    fn at(&self, i: usize) -> &Slot<Q> {
        match self.get(i) {
            Some(s) => s,
            None => unreachable!("slot index {i} out of range"),
        }
    }

    /// Slot `i`'s bookkeeping, for an `i` known to be below `N`.
    #[inline(always)]
    fn at_mut(&mut self, i: usize) -> &mut Slot<Q> {
        match self.get_mut(i) {
            Some(s) => s,
            None => unreachable!("slot index {i} out of range"),
        }
    }

    /// The storage of slot `i` (`i < N`), as a raw pointer; null for
    /// `i >= N`.
    #[inline(always)]
    fn ptr(&self, i: usize) -> *mut u8 {
        if i >= N {
            return core::ptr::null_mut();
        }
        // SAFETY: O1: `i < N`, an entry of the live array; no reference.
        UnsafeCell::raw_get(unsafe { &raw const (*self.entry(i)).storage }).cast()
    }

    pub(crate) fn ring_id(&self) -> u16 {
        self.ring_id
    }

    /// Slots not free (in use, or leaked): counted, O(N). No count is
    /// kept, so that a push and a release do not pay to update one.
    pub(crate) fn used(&self) -> u32 {
        (0..N).filter(|&i| self.at(i).state() != State::Free).count() as u32
    }

    pub(crate) fn has_free(&self) -> bool {
        !self.free_head.is_null()
    }

    /// Whether a provided-buffer ring of `count` buffers fits the queue
    /// of every slot (`EINVAL` otherwise): results that carry a buffer can
    /// then never overflow a queue.
    pub(crate) fn check_buffers(count: usize) -> Result<(), Errno> {
        if count == 0 || count > Q {
            return Err(Errno::INVAL);
        }
        Ok(())
    }

    pub(crate) fn pending_cancels(&self) -> u32 {
        self.pending_cancels
    }

    /// The user data of a cancel aimed at slot `index`.
    pub(crate) fn cancel_ud(&self, target: u64) -> u64 {
        let (_, _, gen, index) = decode(target);
        encode(TAG_CANCEL, self.ring_id, gen, index as u16)
    }

    /// The slot index to look `ud` up at, for a caller that then compares
    /// the slot's user data with `ud` in full (O4: it holds the slot's own
    /// index, so a slot reached by another index never matches). With `N`
    /// a power of two the index is masked into range (an `and`, no
    /// branch); otherwise it is `ud`'s index, bounds-checked by the caller.
    #[inline(always)]
    fn lookup_index(ud: u64) -> usize {
        let i = (ud & 0xffff) as usize;
        if N.is_power_of_two() {
            i & (N - 1)
        } else {
            i
        }
    }

    /// The slot `ud` names, if it is one of ours, of the current
    /// generation.
    #[inline]
    fn find(&self, ud: u64) -> Option<usize> {
        // `slot.ud` holds tag, ring id, generation and index: one
        // comparison checks them all.
        let index = (ud & 0xffff) as usize;
        let slot = self.get(index)?;
        (slot.ud() == ud).then_some(index)
    }

    /// Moves `op` into a free slot and builds its SQE (with the slot's
    /// user data). The slot is `Reserved` until [`commit`](Self::commit)
    /// or [`unprepare`](Self::unprepare).
    pub(crate) fn prepare<T: Operation>(&mut self, op: T, prep: &Prep<'_>) -> Result<(u64, squeue::Entry), Refused<T>> {
        self.place(op, prep, State::Reserved).map(|sqe| (sqe.get_user_data().u64_(), sqe))
    }

    /// As [`prepare`](Self::prepare), for an SQE that goes into an SQ
    /// known to have room: the slot is `InFlight` at once. Should the
    /// push fail all the same, [`take_prepared`](Self::take_prepared)
    /// gives the operation back.
    #[inline]
    pub(crate) fn prepare_in_flight<T: Operation>(
        &mut self,
        op: T,
        prep: &Prep<'_>,
    ) -> Result<squeue::Entry, Refused<T>> {
        self.place(op, prep, State::InFlight)
    }

    /// Prepares `a` and `b` in two slots, or neither.
    #[allow(clippy::type_complexity)]
    pub(crate) fn prepare2<A: Operation, X: Operation>(
        &mut self,
        a: A,
        b: X,
        prep: &Prep<'_>,
    ) -> Result<(u64, squeue::Entry, u64, squeue::Entry), (A, X, Errno)> {
        if !self.has_free_slots(2) {
            return Err((a, b, Errno::BUSY));
        }
        let sa = match self.place(a, prep, State::Reserved) {
            Ok(sqe) => sqe,
            Err(r) => return Err((r.op, b, r.errno)),
        };
        let ua = sa.get_user_data().u64_();
        match self.place(b, prep, State::Reserved) {
            Ok(sb) => Ok((ua, sa, sb.get_user_data().u64_(), sb)),
            Err(r) => {
                // SAFETY: O3, O5: `ua` came from placing the `A` just
                // above (never pushed), and only the failed place ran
                // since.
                let a = unsafe { self.take_prepared::<A>(ua) };
                Err((a, r.op, r.errno))
            }
        }
    }

    /// Writes `op` into the slot at the head of the free list, builds its
    /// SQE, and takes the slot off the list in `state`.
    #[inline]
    fn place<T: Operation>(&mut self, op: T, prep: &Prep<'_>, state: State) -> Result<squeue::Entry, Refused<T>> {
        let () = const { assert!(size_of::<T>() <= B && align_of::<T>() <= 16, "operation too big for the slot") };
        let ring_id = self.ring_id;
        // The head is null when no slot is free; otherwise a `Free`
        // slot's entry (O11): no index, no state check.
        let e = self.free_head;
        if e.is_null() {
            return Err(Refused { op, errno: Errno::BUSY });
        }
        // SAFETY: O11: a non-null head is an entry of the table's own
        // array; O8: `&mut self` makes this the only view of its
        // bookkeeping, and the storage stays behind a raw pointer.
        let (slot, ptr) = unsafe {
            (&mut *UnsafeCell::raw_get(&raw const (*e).meta), UnsafeCell::raw_get(&raw const (*e).storage).cast::<T>())
        };
        debug_assert!(slot.state() == State::Free);
        // SAFETY: O3: the slot is free, so its storage holds nothing; it
        // is big and aligned enough for `T` (checked above) and `'static`
        // (O1).
        unsafe { ptr.write(op) };
        // SAFETY: O3: the storage now holds a `T`, and nothing else refers
        // to it; O1: it stays at this address until the slot is freed.
        let built = T::build(unsafe { &mut *ptr }, prep);
        match built {
            Ok(mut sqe) => {
                debug_assert_eq!(self.entry((slot.ud() & 0xffff) as usize), e);
                debug_assert_eq!(slot.ud() & !GEN_FIELD, encode(TAG_OP, ring_id, 0, slot.ud() as u16));
                sqe.set_user_data(slot.ud());
                // Type and state in one store: no cancel, no last
                // completion, and no waker: every way to `Free` took it
                // (a `WAKER` mark cleared here must not hide one).
                debug_assert!(slot.waker.is_none());
                slot.word = Vt::<T>::word(state as u8 | Vt::<T>::PLAIN);
                self.free_head = slot.next_free.cast();
                Ok(sqe)
            }
            Err(errno) => {
                // SAFETY: O3: the `T` written above, read out once; the
                // slot stays `Free`, so nothing drops it again.
                let op = unsafe { ptr.read() };
                Err(Refused { op, errno })
            }
        }
    }

    /// The SQE of a `Reserved` slot is now in the SQ.
    #[inline]
    pub(crate) fn commit(&mut self, ud: u64) {
        // `ud` was just made by `prepare`: its index is in range and the
        // state check below is all that is needed.
        self.commit_at((ud & 0xffff) as usize);
    }

    fn commit_at(&mut self, i: usize) {
        if let Some(s) = self.get_mut(i) {
            if s.state() == State::Reserved {
                s.set_state(State::InFlight);
            }
        }
    }

    /// Whether at least `k` slots are free: the first `k` of the free
    /// list (every slot on it is `Free`).
    pub(crate) fn has_free_slots(&self, k: usize) -> bool {
        let mut at = self.free_head;
        for _ in 0..k {
            if at.is_null() {
                return false;
            }
            // SAFETY: O11: a non-null link is an entry of the table's own
            // array; O8: `&self` allows no `&mut` to it meanwhile.
            at = unsafe { (*UnsafeCell::raw_get(&raw const (*at).meta)).next_free.cast() };
        }
        true
    }

    /// Takes back the operation that [`prepare`](Self::prepare) just
    /// placed under `ud` (its SQE never pushed), and frees the slot.
    ///
    /// # Safety
    /// `ud` must come from `prepare::<T>` on this table, with no other
    /// call on the table since but other `prepare`s and `take_prepared`s.
    pub(crate) unsafe fn take_prepared<T: Operation>(&mut self, ud: u64) -> T {
        let i = (ud & 0xffff) as usize;
        let p = self.ptr(i).cast::<T>();
        if let Some(s) = self.get_mut(i) {
            s.set_vt(None);
        }
        // SAFETY: O3, O5: per the caller, slot `i` (in range: `prepare`
        // made `ud`) holds the `T` placed there, never pushed; `vt` is
        // cleared so it is read out once.
        let op = unsafe { p.read() };
        self.free_slot(i, &mut None);
        op
    }

    /// Takes the operation back out of a `Reserved` slot (its SQE was not
    /// pushed) and frees the slot.
    pub(crate) fn unprepare<T: Operation>(&mut self, ud: u64) -> Option<T> {
        let i = self.find(ud)?;
        let p = self.ptr(i).cast::<T>();
        let s = self.at_mut(i);
        if s.state() != State::Reserved || !holds::<T>(s.vt()) {
            return None;
        }
        s.set_vt(None);
        // SAFETY: O3, O5: the slot holds a `T` (checked) whose SQE never
        // reached the kernel; `vt` is cleared so it is read out once.
        let op = unsafe { p.read() };
        self.free_slot(i, &mut None);
        Some(op)
    }

    /// Applies one completion. `cqe` is the same completion, for the
    /// buffer ring. (The driver calls the two halves itself.)
    #[cfg(any(test, feature = "fuzz-hooks"))]
    pub(crate) fn complete(&mut self, cqe: &cqueue::Entry, ring: &mut impl Release) -> Reaped {
        if self.complete_plain(cqe.user_data_u64(), cqe.raw_result(), cqe.flags().bits()) {
            return Reaped::Op;
        }
        self.complete_slow(cqe.clone(), ring)
    }

    /// The common case of [`complete`](Self::complete), in a straight
    /// line: the one completion (no `F_MORE`, no `F_SKIP`) of a plain
    /// operation (`Shots::One`, nothing to turn into an fd or a buffer)
    /// that its slot awaits (O4: the user data of the current
    /// generation), with no cancel of it to push. Returns false, having
    /// touched nothing, for anything else: then call `complete_slow`.
    #[cfg(any(test, feature = "fuzz-hooks"))]
    #[inline(always)]
    pub(crate) fn complete_plain(&mut self, ud: u64, res: i32, flags: u32) -> bool {
        self.complete_plain_in(self.base(), ud, res, flags)
    }

    /// [`complete_plain`](Self::complete_plain) in the array `base` (this
    /// table's, kept at hand by the caller's loop).
    #[inline(always)]
    pub(crate) fn complete_plain_in(&mut self, base: Base<N, B, Q>, ud: u64, res: i32, flags: u32) -> bool {
        const NOT_PLAIN: u32 = cqueue::Flags::MORE.bits() | cqueue::Flags::SKIP.bits();
        let Some(Parts { slot: s, .. }) = self.parts_in(base, Self::lookup_index(ud)) else { return false };
        if s.ud() != ud || flags & NOT_PLAIN != 0 {
            return false;
        }
        if s.hot() != HOT_PLAIN_IN_FLIGHT {
            // The check for a waker goes with it, out of line: here it
            // would be a second compare on every completion. (It reads
            // the word again: passing it would keep it in a register,
            // a load and a compare where a compare with memory does.)
            return Self::complete_waking(s, res, flags);
        }
        // No waker (`WAKER` clear: `waker` is `None`).
        debug_assert!(s.waker.is_none());
        s.res = res;
        s.flags = flags;
        // The state bits, in one store (`PLAIN` as it was checked).
        s.set_hot(State::Completed as u8 | PLAIN | LAST);
        true
    }

    /// [`complete_plain`](Self::complete_plain) of a slot whose hot word
    /// is not that of a plain operation in flight without a waker:
    /// the same with a waker (`InFlight`, plain, no cancel pending,
    /// `WAKER`; the user data checked by the caller) is applied and the
    /// waker woken; anything else is left to the general path (false).
    #[cold]
    #[inline(never)]
    fn complete_waking(s: &mut Slot<Q>, res: i32, flags: u32) -> bool {
        if s.hot() != HOT_PLAIN_IN_FLIGHT_WAKER {
            return false;
        }
        s.res = res;
        s.flags = flags;
        s.set_hot(State::Completed as u8 | PLAIN | LAST | WAKER);
        if let Some(w) = s.take_waker() {
            w.wake();
        }
        true
    }

    /// The one-step form of [`complete_plain`](Self::complete_plain) then
    /// [`poll_slot`](Self::poll_slot), for [`Driver::reap_outputs`](super::Driver::reap_outputs):
    /// when `ud` is the one completion (no `F_MORE`, no `F_SKIP`) of a
    /// plain operation of type `T` that its slot awaits (O4), still
    /// claimed (`InFlight`, not abandoned) and with no cancel to push,
    /// moves the operation out, frees the slot under its next generation
    /// and returns the output; the result never goes through the slot. A
    /// waker left by a poll is dropped, not woken (the output is not the
    /// poller's any more), and the output goes straight to `out`.
    /// Returns false, having touched nothing, for anything else (another
    /// type, not plain, not awaited, foreign).
    #[inline(always)]
    pub(crate) fn take_plain<T: Operation>(
        &mut self,
        base: Base<N, B, Q>,
        ud: u64,
        res: i32,
        flags: u32,
        out: &mut impl FnMut(u64, T::Output),
    ) -> bool {
        self.take_plain_as::<T, false>(base, ud, res, flags, out)
    }

    /// [`take_plain`](Self::take_plain) of a slot whose word is not that
    /// of a `T` in flight without a waker (a waker left by a poll, a copy
    /// of `T`'s table at another address, another type, another state):
    /// out of the straight line.
    #[cold]
    #[inline(never)]
    fn take_plain_slow<T: Operation>(
        &mut self,
        ud: u64,
        res: i32,
        flags: u32,
        out: &mut impl FnMut(u64, T::Output),
    ) -> bool {
        self.take_plain_as::<T, true>(self.base(), ud, res, flags, out)
    }

    /// [`take_plain`](Self::take_plain): `SLOW` false checks the slot's
    /// word against the one case of the straight line (anything else
    /// goes to [`take_plain_slow`](Self::take_plain_slow)); `SLOW` true
    /// checks state bits and type apart, and takes a waker.
    #[inline(always)]
    fn take_plain_as<T: Operation, const SLOW: bool>(
        &mut self,
        base: Base<N, B, Q>,
        ud: u64,
        res: i32,
        flags: u32,
        out: &mut impl FnMut(u64, T::Output),
    ) -> bool {
        const NOT_PLAIN: u32 = cqueue::Flags::MORE.bits() | cqueue::Flags::SKIP.bits();
        if !const { Vt::<T>::V.plain } {
            return false;
        }
        let i = Self::lookup_index(ud);
        let Some(Parts { slot: s, ptr: p, entry, free_head }) = self.parts_in(base, i) else { return false };
        // O4: the current generation of this slot (tag, ring id, index
        // and generation in one comparison).
        if s.ud() != ud || flags & NOT_PLAIN != 0 {
            return false;
        }
        if !SLOW {
            // O5 and the state in one comparison: `T`'s own table, in
            // flight, plain, no cancel, no waker.
            if !core::ptr::eq(s.word, Vt::<T>::word(HOT_PLAIN_IN_FLIGHT)) {
                return self.take_plain_slow::<T>(ud, res, flags, out);
            }
        } else if !matches!(s.hot(), HOT_PLAIN_IN_FLIGHT | HOT_PLAIN_IN_FLIGHT_WAKER) || !holds::<T>(s.vt()) {
            // O5: the `TypeId` decides for a table at another address.
            return false;
        }
        // A plain `InFlight` slot with no cancel pending holds nothing
        // but the operation and maybe a waker: no queued item
        // (`Shots::One`), no last fd or buffer (not `FD_RESULT` or
        // `BUF_SELECT`).
        debug_assert!(s.qlen == 0 && s.last_fd.is_none() && s.last_buf.is_none());
        // SAFETY: O3, O5: `vt` was `T`'s table, so the storage holds a
        // `T`; it is moved out once: the slot turns `Free` just below,
        // before any code that could unwind (a waker's drop), and a
        // `Free` slot's stale `vt` means nothing (O3). O1: this is the
        // operation's one and last completion (`Shots::One`, no
        // `F_MORE`), so the kernel is done with its memory.
        let op = unsafe { p.cast::<T>().read() };
        if !SLOW {
            // No waker (`WAKER` clear).
            debug_assert!(s.waker.is_none());
            Self::release(s, entry, free_head);
        } else {
            // A waker is rare here (one-step reaping keeps no tickets to
            // poll): dropped once the slot is free.
            let w = s.take_waker();
            Self::release(s, entry, free_head);
            drop(w);
        }
        out(ud, op.complete(Completion::new(res, flags, None, None)));
        true
    }

    /// Applies one completion for
    /// [`Driver::reap_outputs`](super::Driver::reap_outputs): a plain `T`
    /// still claimed goes straight to `out` ([`take_plain`](Self::take_plain));
    /// anything else is applied as `reap` applies it, and a `T` (not
    /// multishot) that this made `Completed` goes to `out` as well. `None`
    /// for a completion with `F_SKIP` that no slot took (ignored, as
    /// `reap` does).
    #[cfg(any(test, feature = "fuzz-hooks"))]
    #[inline(always)]
    pub(crate) fn complete_take<T: Operation>(
        &mut self,
        cqe: &cqueue::Entry,
        ring: &mut impl Release,
        out: &mut impl FnMut(u64, T::Output),
    ) -> Option<Reaped> {
        if self.complete_take_plain::<T>(self.base(), cqe, out) {
            return Some(Reaped::Op);
        }
        self.complete_take_rest::<T>(cqe, ring, out)
    }

    /// The first half of [`complete_take`](Self::complete_take), in the
    /// array `base` (this table's, kept at hand by the caller's loop):
    /// the one completion of a plain operation, taken if a `T`, applied
    /// otherwise (true); false, having touched nothing, for anything else.
    #[inline(always)]
    pub(crate) fn complete_take_plain<T: Operation>(
        &mut self,
        base: Base<N, B, Q>,
        cqe: &cqueue::Entry,
        out: &mut impl FnMut(u64, T::Output),
    ) -> bool {
        let (ud, res, flags) = (cqe.user_data_u64(), cqe.raw_result(), cqe.flags().bits());
        self.take_plain::<T>(base, ud, res, flags, out) || self.complete_plain_in(base, ud, res, flags)
    }

    /// The second half of [`complete_take`](Self::complete_take),
    /// for a completion `complete_take_plain` left: the general path, and
    /// a `T` it completed goes to `out`.
    #[inline(always)]
    pub(crate) fn complete_take_rest<T: Operation>(
        &mut self,
        cqe: &cqueue::Entry,
        ring: &mut impl Release,
        out: &mut impl FnMut(u64, T::Output),
    ) -> Option<Reaped> {
        let (ud, flags) = (cqe.user_data_u64(), cqe.flags().bits());
        if flags & cqueue::Flags::SKIP.bits() != 0 {
            return None;
        }
        let r = self.complete_slow(cqe.clone(), ring);
        if r == Reaped::Op {
            if let Some(o) = self.take_completed::<T>(ud, ring) {
                out(ud, o);
            }
        }
        Some(r)
    }

    /// For [`Driver::reap_outputs`](super::Driver::reap_outputs), after
    /// the general path applied a completion of `ud`: if that made the
    /// slot `Completed` with an operation of type `T` that is not
    /// multishot (whose unread results stay for `poll_next`), its output
    /// (the slot is then free); `None` otherwise.
    #[inline(never)]
    pub(crate) fn take_completed<T: Operation>(&mut self, ud: u64, ring: &mut impl Release) -> Option<T::Output> {
        if matches!(T::SHOTS, Shots::Many) {
            return None;
        }
        match self.poll_slot::<T>(ud, None, ring) {
            Poll::Ready(out) => Some(out),
            Poll::Pending => None,
        }
    }

    /// [`complete`](Self::complete) for everything but a plain operation's
    /// one completion.
    #[inline(never)]
    pub(crate) fn complete_slow(&mut self, cqe: cqueue::Entry, ring: &mut impl Release) -> Reaped {
        let ud = cqe.user_data_u64();
        let (res, flags) = (cqe.raw_result(), cqe.flags().bits());
        let Some(i) = self.find(ud) else {
            // Not an operation's: one of our cancels, or foreign.
            let (tag, ring_id, _, _) = decode(ud);
            if tag == TAG_CANCEL && ring_id == self.ring_id {
                self.stats.cancel_cqes += 1;
                return Reaped::Cancel;
            }
            self.stats.foreign += 1;
            return Reaped::Foreign;
        };
        let more = flags & cqueue::Flags::MORE.bits() != 0;
        let s = self.at(i);
        let state = s.state();
        let (Some(vt), State::InFlight | State::Abandoned) = (s.vt(), state) else {
            // Free (stale), Reserved (not submitted yet), Completed (a
            // duplicate of the last), Leaked: not awaited.
            self.stats.foreign += 1;
            return Reaped::Foreign;
        };
        let allowed = match vt.shots {
            Shots::One => !more,
            Shots::Notif => !more || s.qlen == 0,
            Shots::Many => true,
        };
        if !allowed {
            self.stats.foreign += 1;
            return Reaped::Foreign;
        }
        // Whether a result released here is a slot to empty (O12).
        let fixed = vt.fixed_result && s.hot() & OLD_FILES == 0;
        let mut item = Item { res, flags, fd: None, buf: None };
        if vt.fd_result && res >= 0 {
            // SAFETY: O6: the operation declared that a non-negative
            // result is a new descriptor the kernel made for it, and O4
            // applies this completion once, so nobody else owns it.
            item.fd = Some(unsafe { OwnedFd::from_raw_fd(res as RawFd) });
        }
        if vt.buf_select && flags & cqueue::Flags::BUFFER.bits() != 0 {
            if let Some(r) = ring.bufs().as_mut() {
                // Only this driver's operations with BUF_SELECT name its
                // group, and each completion is passed once (O4): the
                // promise of `BufRing::register`. A failed completion
                // leaves the buffer in the ring (take's error).
                item.buf = r.take(&cqe).ok().flatten();
            }
        }
        match (state, more) {
            (State::InFlight, true) => {
                let s = self.at_mut(i);
                if let Err(item) = s.push_item(item) {
                    release_item(item, fixed, ring);
                    self.stats.lost += 1;
                    self.want_cancel(i);
                }
                self.wake(i);
            }
            (State::InFlight, false) => {
                let s = self.at_mut(i);
                s.res = item.res;
                s.flags = item.flags;
                s.last_fd = item.fd;
                s.last_buf = item.buf;
                s.set_last(true);
                s.set_state(State::Completed);
                if s.cancel_pending() {
                    s.set_cancel_pending(false);
                    self.pending_cancels -= 1;
                }
                self.wake(i);
            }
            (_, true) => release_item(item, fixed, ring),
            (_, false) => {
                release_item(item, fixed, ring);
                self.free_slot(i, ring);
            }
        }
        Reaped::Op
    }

    fn wake(&mut self, i: usize) {
        if let Some(w) = self.at_mut(i).take_waker() {
            w.wake();
        }
    }

    fn want_cancel(&mut self, i: usize) {
        let s = self.at_mut(i);
        if !s.cancel_pending() {
            s.set_cancel_pending(true);
            self.pending_cancels += 1;
        }
    }

    /// Frees slot `i`: drops its operation (if still there), releases
    /// queued results and an unclaimed last one, then
    /// [`recycle`](Self::recycle)s it.
    fn free_slot(&mut self, i: usize, ring: &mut impl Release) {
        let vt = self.at(i).vt();
        self.free_slot_as(i, vt.is_some_and(|vt| vt.fixed_result), ring);
    }

    /// [`free_slot`](Self::free_slot) of a slot whose operation may be gone
    /// already (`vt` cleared), `fixed` saying whether its results are
    /// slots of the file table (`FIXED_FILE_RESULT`).
    fn free_slot_as(&mut self, i: usize, fixed: bool, ring: &mut impl Release) {
        let (p, bufs_uid) = (self.ptr(i), self.bufs_uid);
        let s = self.at_mut(i);
        // Only a slot in use is freed: a `Free` slot's `vt` is stale (O3).
        debug_assert!(s.state() != State::Free);
        // O12: not slots of a table that changed since.
        let fixed = fixed && s.hot() & OLD_FILES == 0;
        let vt = s.vt();
        s.set_vt(None);
        if let Some(vt) = vt {
            // SAFETY: O3: `vt` was set, so the storage holds the operation
            // `vt` describes; `vt` is now cleared, so it is dropped once.
            // O1: the slot is freed only after its last completion (or
            // before its SQE was pushed), so the kernel is done with it.
            // A buffer of the driver's ring it held goes back.
            if let Some(held) = unsafe { (vt.drop)(p) } {
                if held.ring == bufs_uid {
                    release_buf(held.picked, ring);
                }
            }
        }
        // Release what the slot still holds (nothing, usually): an
        // unclaimed fd closes as it drops, an unclaimed slot of the file
        // table is emptied.
        while let Some(item) = s.pop_item() {
            release_item(item, fixed, ring);
        }
        if fixed && s.has_last() && s.res >= 0 {
            ring.empty_file(s.res as u32);
        }
        s.set_last(false);
        s.last_fd = None;
        if let Some(b) = s.last_buf.take() {
            release_buf(b, ring);
        }
        drop(s.take_waker());
        self.recycle(i);
    }

    /// Puts slot `i`, emptied (no operation, result, queued item or
    /// waker), back on the free list under its next generation (O4).
    #[inline(always)]
    fn recycle(&mut self, i: usize) {
        let s = self.at_mut(i);
        if s.cancel_pending() {
            s.set_cancel_pending(false);
            self.pending_cancels -= 1;
        }
        self.recycle_no_cancel(i);
    }

    /// [`recycle`](Self::recycle) for a slot with no cancel pending.
    #[inline(always)]
    fn recycle_no_cancel(&mut self, i: usize) {
        if let Some(Parts { slot, entry, free_head, .. }) = self.parts(i) {
            Self::release(slot, entry, free_head);
        }
    }

    /// [`recycle_no_cancel`](Self::recycle_no_cancel) of the slot at
    /// `entry`, given as `slot` (already at hand: no second look-up)
    /// with the free list's head (O11: the only way onto the list, for a
    /// slot turning `Free`).
    #[inline(always)]
    fn release(slot: &mut Slot<Q>, entry: *mut Entry<B, Q>, free_head: &mut *mut Entry<B, Q>) {
        debug_assert!(slot.state() != State::Free && !slot.cancel_pending() && slot.waker.is_none());
        slot.next_gen();
        // `Free`, no marks, no type (a `Free` slot's type means nothing,
        // O3): one store.
        slot.word = core::ptr::null();
        slot.next_free = (*free_head).cast();
        *free_head = entry;
    }

    /// Slot `i`'s bookkeeping and storage (as [`get_mut_ptr`](Self::get_mut_ptr))
    /// with the free list, borrowed apart, if `i < N`.
    #[inline(always)]
    fn parts(&mut self, i: usize) -> Option<Parts<'_, B, Q>> {
        self.parts_in(self.base(), i)
    }

    /// [`parts`](Self::parts) in the array `base` (this table's).
    #[inline(always)]
    fn parts_in(&mut self, base: Base<N, B, Q>, i: usize) -> Option<Parts<'_, B, Q>> {
        debug_assert_eq!(base.0, self.slots.base);
        if i >= N {
            return None;
        }
        let e = Self::entry_in(base, i);
        // SAFETY: O8: as in `get_mut_ptr`; the slot is reached through the
        // array's raw pointer, not through a field of `self`, so the free
        // list's fields can be lent beside it.
        let (slot, ptr) = unsafe {
            (&mut *UnsafeCell::raw_get(&raw const (*e).meta), UnsafeCell::raw_get(&raw const (*e).storage).cast())
        };
        Some(Parts { slot, ptr, entry: e, free_head: &mut self.free_head })
    }

    /// The result of `ud` if it is complete (the slot is then free);
    /// otherwise stores `waker`. A ticket that is stale (already
    /// returned Ready) stays `Pending` for ever.
    #[inline]
    pub(crate) fn poll_slot<T: Operation>(
        &mut self,
        ud: u64,
        waker: Option<&Waker>,
        ring: &mut impl Release,
    ) -> Poll<T::Output> {
        let i = Self::lookup_index(ud);
        let Some(Parts { slot: s, ptr: p, entry, free_head }) = self.parts(i) else { return Poll::Pending };
        let p = p.cast::<T>();
        // O4: the current generation of the slot.
        if s.ud() != ud {
            return Poll::Pending;
        }
        // O5 and the state in one comparison: `T`'s own table, completed,
        // its last completion kept, no cancel, no waker (as every
        // completed `T` is, but a multishot whose last result was read).
        // Anything else is checked apart.
        if !core::ptr::eq(s.word, Vt::<T>::word(State::Completed as u8 | Vt::<T>::PLAIN | LAST)) {
            // O5: the `TypeId` decides for a table at another address.
            if !holds::<T>(s.vt()) {
                return Poll::Pending;
            }
            match s.state() {
                State::InFlight => {
                    s.set_waker(waker);
                    return Poll::Pending;
                }
                State::Completed => {}
                State::Free | State::Reserved | State::Abandoned | State::Leaked => return Poll::Pending,
            }
        }
        if matches!(T::SHOTS, Shots::One) {
            // See below: nothing else is left in the slot once
            // the last fd and buffer a `T` can have are taken
            // (checked here, before the operation is moved out:
            // nothing may unwind between that and `release`).
            debug_assert!(s.qlen == 0 && s.waker.is_none() && !s.cancel_pending());
            debug_assert!(T::FD_RESULT || s.last_fd.is_none());
            debug_assert!(T::BUF_SELECT || s.last_buf.is_none());
        } else {
            // `free` below reads `vt` to drop what is still there.
            s.set_vt(None);
        }
        // SAFETY: O3, O5: the slot holds a `T` (type checked
        // above); it is moved out once: a `Shots::One` slot turns
        // `Free` below with no code in between that could unwind
        // (its stale `vt` then means nothing, O3), any other has
        // its `vt` cleared just above. The last completion
        // arrived: the kernel is done with it.
        let op = unsafe { p.read() };
        // `vt` describes `T`: its constants decide, at compile time,
        // what the slot can hold (an fd only with FD_RESULT, a
        // buffer only with BUF_SELECT).
        let done = match T::SHOTS {
            Shots::One | Shots::Notif => {
                let fd = if T::FD_RESULT { s.last_fd.take() } else { None };
                let buf = if T::BUF_SELECT { s.last_buf.take() } else { None };
                let mut done = Completion::new(s.res, s.flags, fd, buf);
                if matches!(T::SHOTS, Shots::Notif) {
                    done.more = s.pop_item().map(|i| i.res);
                }
                done
            }
            Shots::Many => Completion::none(),
        };
        if matches!(T::SHOTS, Shots::One) {
            // Nothing else is left in the slot: a `Shots::One`
            // operation queues nothing (a completion with F_MORE
            // is foreign to it), its last fd or buffer was taken
            // just above (or never set), and its waker went with
            // the completion (a `Completed` slot stores none).
            // No cancel is pending either: a slot turns `Completed`
            // with none, and gets none after. (`release` clears the
            // state bits and the type in one store.)
            Self::release(s, entry, free_head);
        } else {
            self.free_slot_as(i, T::FIXED_FILE_RESULT, ring);
        }
        Poll::Ready(op.complete(done))
    }

    /// The next result of a multishot `ud`: `Ready(Some)` for each,
    /// `Ready(None)` once the last was read (then [`poll_slot`](Self::poll_slot) gives
    /// the output) or for a stale ticket.
    pub(crate) fn poll_next<T: Multishot>(&mut self, ud: u64, waker: Option<&Waker>) -> Poll<Option<T::Item>> {
        let Some(i) = self.find(ud) else { return Poll::Ready(None) };
        let p = self.ptr(i).cast::<T>();
        let s = self.at_mut(i);
        if !holds::<T>(s.vt()) {
            return Poll::Ready(None);
        }
        let done = match s.state() {
            State::InFlight | State::Completed => match s.pop_item() {
                Some(item) => Completion::from_item(item),
                None if s.state() == State::Completed => {
                    if !s.has_last() {
                        return Poll::Ready(None);
                    }
                    s.set_last(false);
                    Completion::new(s.res, s.flags, s.last_fd.take(), s.last_buf.take())
                }
                None => {
                    s.set_waker(waker);
                    return Poll::Pending;
                }
            },
            State::Free | State::Reserved | State::Abandoned | State::Leaked => return Poll::Ready(None),
        };
        // SAFETY: O3, O5: the slot holds a `T` (type checked above); this
        // `&mut` lives for the call only, and `item` does not touch what
        // the kernel may still write (it reads the operation's own fields).
        let op = unsafe { &mut *p };
        Poll::Ready(Some(op.item(done)))
    }

    /// Drops interest in `ud`. Returns the user data to cancel when the
    /// operation is still running.
    pub(crate) fn abandon_slot(&mut self, ud: u64, ring: &mut impl Release) -> Option<u64> {
        let i = self.find(ud)?;
        let s = self.at_mut(i);
        match s.state() {
            State::InFlight => {
                let fixed = s.vt().is_some_and(|vt| vt.fixed_result) && s.hot() & OLD_FILES == 0;
                s.set_state(State::Abandoned);
                drop(s.take_waker());
                while let Some(item) = s.pop_item() {
                    release_item(item, fixed, ring);
                }
                Some(ud)
            }
            State::Completed => {
                self.free_slot(i, ring);
                None
            }
            State::Free | State::Reserved | State::Abandoned | State::Leaked => None,
        }
    }

    /// Marks `ud`'s cancel as still to be pushed (the SQ was full).
    pub(crate) fn defer_cancel(&mut self, ud: u64) {
        if let Some(i) = self.find(ud) {
            if matches!(self.at(i).state(), State::InFlight | State::Abandoned) {
                self.want_cancel(i);
            }
        }
    }

    /// Calls `push` with the user data of each slot whose cancel is still
    /// to be pushed, until it returns false (SQ full).
    pub(crate) fn flush_cancels(&mut self, mut push: impl FnMut(u64) -> bool) {
        if self.pending_cancels == 0 {
            return;
        }
        for i in 0..N {
            let s = self.at(i);
            if !s.cancel_pending() {
                continue;
            }
            if !matches!(s.state(), State::InFlight | State::Abandoned) {
                self.at_mut(i).set_cancel_pending(false);
                self.pending_cancels -= 1;
                continue;
            }
            let ud = s.ud();
            if !push(ud) {
                return;
            }
            self.at_mut(i).set_cancel_pending(false);
            self.pending_cancels -= 1;
        }
    }

    /// The user data of slot `i` if it still awaits a completion.
    pub(crate) fn live_at(&self, i: usize) -> Option<u64> {
        let s = self.get(i)?;
        matches!(s.state(), State::InFlight | State::Abandoned).then_some(s.ud())
    }

    /// The user data of every slot still awaiting a completion.
    #[cfg(test)]
    pub(crate) fn for_each_live(&self, mut f: impl FnMut(u64)) {
        for s in (0..N).map(|i| self.at(i)) {
            if matches!(s.state(), State::InFlight | State::Abandoned) {
                f(s.ud());
            }
        }
    }

    /// Whether some slot still awaits a completion.
    pub(crate) fn any_live(&self) -> bool {
        (0..N).any(|i| matches!(self.at(i).state(), State::InFlight | State::Abandoned))
    }

    /// Teardown: frees completed slots, marks the ones still awaiting a
    /// completion as leaked (O1). Returns whether the storage can go back.
    pub(crate) fn teardown(&mut self, ring: &mut impl Release) -> bool {
        for i in 0..N {
            match self.at(i).state() {
                State::Completed | State::Reserved => self.free_slot(i, ring),
                State::InFlight | State::Abandoned => {
                    self.at_mut(i).set_state(State::Leaked);
                    drop(self.at_mut(i).take_waker());
                    self.stats.leaked += 1;
                }
                State::Free | State::Leaked => {}
            }
        }
        self.used() == 0
    }

    /// The driver's registered files are about to change (registered,
    /// updated or unregistered): every slot of a `FIXED_FILE_RESULT`
    /// operation still in use is marked [`OLD_FILES`], so that none of
    /// its results is emptied later (O12).
    pub(crate) fn files_changed(&mut self) {
        for i in 0..N {
            let s = self.at_mut(i);
            if s.state() != State::Free && s.vt().is_some_and(|vt| vt.fixed_result) {
                s.set_bit(OLD_FILES, true);
            }
        }
    }

    /// The number of results lost by slot `ud`'s full queue is in
    /// [`Stats::lost`]; this says whether `ud` is still waiting.
    pub(crate) fn is_pending(&self, ud: u64) -> bool {
        self.find(ud).is_some_and(|i| self.at(i).state() == State::InFlight)
    }
}

/// Releases what a completion owns: the fd closes when dropped, a buffer
/// goes back to the ring.
fn release_item(item: Item, fixed: bool, ring: &mut impl Release) {
    if let Some(p) = item.buf {
        release_buf(p, ring);
    }
    if fixed && item.res >= 0 {
        ring.empty_file(item.res as u32);
    }
}

/// Gives a provided buffer back to the ring.
fn release_buf(p: Picked<'static>, ring: &mut impl Release) {
    if let Some(r) = ring.bufs().as_mut() {
        if r.recycle(p).is_ok() {
            r.advance();
        }
    }
}

/// An all-zero `statx`, for the kernel to fill.
pub(crate) fn zeroed_statx() -> crate::types::Statx {
    // SAFETY: O9: `struct statx` is plain integers (and flag words that
    // keep unknown bits); all-zero is a valid value.
    unsafe { core::mem::zeroed() }
}
