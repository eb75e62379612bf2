//! The benchmark workloads, once per library.
//!
//! Every workload is a value that does its setup in its constructor (ring,
//! buffers, test file) and then runs `ops` operations in
//! [`Workload::run`], timing only that loop. The code of a workload is
//! written once, in the [`workloads!`] macro, and expanded in three modules
//! ([`on_urix`], [`on_io_uring`], [`on_rustix_uring`]) that differ only in which crate
//! `uring` names and in one adapter, `cqe_parts`, because `io-uring` returns
//! the raw `i32` result and the `u64` user data from other methods than
//! `rustix-uring` 0.6 and `urix` (which are source compatible).
//!
//! The measured loops do no allocation and no std I/O; a failed check
//! returns an error (allocating then is fine, the run is over).

use std::fmt::Display;
use std::time::Duration;

pub mod testfile;

/// The library names, as `bench-one --lib` takes them.
pub const LIBS: [&str; 3] = ["urix", "io-uring", "rustix-uring"];

/// The workload names, as `bench-one --workload` takes them. The
/// `nop-batch-api` and `nop-batch-fold` ones and the `-fast` ones exist
/// for urix only: the first is nop-batch through
/// [`urix::SubmissionQueue::push_with`], the second also drains the CQ
/// through the batch form of the completion side (the iterator's `fold`),
/// the others are workloads on urix's fast preset ([`urix::IoUring::fast`]).
pub const WORKLOADS: [&str; 16] = [
    "nop-batch",
    "nop-batch-api",
    "nop-batch-fold",
    "nop-single",
    "read-4k",
    "sqpoll-nop",
    "nop-batch-fast",
    "nop-batch-api-fast",
    "nop-single-fast",
    "read-4k-fast",
    "nop-batch-noarray",
    "nop-single-noarray",
    "read-4k-noarray",
    "nop-batch-rewind",
    "nop-single-rewind",
    "read-4k-rewind",
];

/// The workloads that exist for urix only. The `-noarray` and `-rewind`
/// ones compare SQ_REWIND (7.0) with the ring it changes: both rings have
/// SINGLE_ISSUER and NO_SQARRAY (which SQ_REWIND needs, urix and the
/// kernel respectively), the `-rewind` ones SQ_REWIND too.
pub const URIX_ONLY: [&str; 12] = [
    "nop-batch-api",
    "nop-batch-fold",
    "nop-batch-fast",
    "nop-batch-api-fast",
    "nop-single-fast",
    "read-4k-fast",
    "nop-batch-noarray",
    "nop-single-noarray",
    "read-4k-noarray",
    "nop-batch-rewind",
    "nop-single-rewind",
    "read-4k-rewind",
];

/// NOPs per submission in nop-batch (on a ring of [`NOP_BATCH_RING`]).
pub const NOP_BATCH: u32 = 32;
/// SQ size of the nop-batch ring.
pub const NOP_BATCH_RING: u32 = 64;
/// SQ size of the nop-single ring.
pub const NOP_SINGLE_RING: u32 = 8;
/// NOPs per submission in sqpoll-nop (on a ring of [`SQPOLL_RING`]).
pub const SQPOLL_BATCH: u32 = 64;
/// SQ size of the sqpoll-nop ring.
pub const SQPOLL_RING: u32 = 256;
/// How long the SQPOLL thread spins without work before it sleeps.
pub const SQPOLL_IDLE_MS: u32 = 1000;
/// Reads kept in flight by read-4k; also its SQ size.
pub const READ_DEPTH: u32 = 32;
/// The seed of read-4k's offset sequence.
pub const READ_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// One benchmark workload, set up and ready to run.
pub trait Workload {
    /// Runs exactly `ops` operations, checking each, and returns the time
    /// the loop took (setup excluded).
    fn run(&mut self, ops: u64) -> Result<Duration, String>;
}

/// Sets up workload `name` for library `lib` (names from [`LIBS`] and
/// [`WORKLOADS`]).
pub fn workload(lib: &str, name: &str) -> Result<Box<dyn Workload>, String> {
    Ok(match (lib, name) {
        ("urix", "nop-batch-api") => Box::new(on_urix::NopBatchApi::<false>::new(on_urix::plain_ring(NOP_BATCH_RING)?)),
        ("urix", "nop-batch-fold") => Box::new(on_urix::NopBatchApi::<true>::new(on_urix::plain_ring(NOP_BATCH_RING)?)),
        ("urix", "nop-batch-fast") => {
            Box::new(on_urix::Registered(on_urix::NopBatch::new(on_urix::fast_ring(NOP_BATCH_RING)?, NOP_BATCH)?))
        }
        ("urix", "nop-batch-api-fast") => {
            Box::new(on_urix::Registered(on_urix::NopBatchApi::<false>::new(on_urix::fast_ring(NOP_BATCH_RING)?)))
        }
        ("urix", "nop-single-fast") => Box::new(on_urix::fast_nop_single()?),
        ("urix", "read-4k-fast") => Box::new(on_urix::fast_read_4k()?),
        ("urix", w) if w.ends_with("-noarray") || w.ends_with("-rewind") => {
            let rewind = w.ends_with("-rewind");
            let base = w.rsplit_once('-').map_or(w, |(b, _)| b);
            let ring = |entries| on_urix::rewind_ring(entries, rewind);
            match base {
                "nop-batch" => Box::new(on_urix::NopBatch::new(ring(NOP_BATCH_RING)?, NOP_BATCH)?),
                "nop-single" => Box::new(on_urix::NopSingle::new(ring(NOP_SINGLE_RING)?)?),
                _ => Box::new(on_urix::Read4k::new(ring(READ_DEPTH)?)?),
            }
        }
        (_, w) if URIX_ONLY.contains(&w) => {
            return Err(format!("{name} exists for urix only (its batch API or its fast preset)"))
        }
        ("urix", _) => on_urix::workload(name)?,
        ("io-uring", _) => on_io_uring::workload(name)?,
        ("rustix-uring", _) => on_rustix_uring::workload(name)?,
        _ => return Err(format!("unknown library {lib:?}; one of {LIBS:?}")),
    })
}

/// xorshift64 (Marsaglia's 13/7/17 triple): a cheap, fixed sequence of
/// pseudo-random numbers, the same for every library.
#[derive(Debug, Clone)]
pub struct XorShift64(u64);

impl XorShift64 {
    /// A generator starting from `seed` (a zero seed is replaced, since
    /// zero is a fixed point).
    pub const fn new(seed: u64) -> Self {
        XorShift64(if seed == 0 { 1 } else { seed })
    }

    /// The next number.
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Formats an error of a library call; kept out of line so the hot loops
/// carry only a call on their error edge.
#[cold]
#[inline(never)]
fn call_failed(what: &str, e: impl Display) -> String {
    format!("{what} failed: {e}")
}

/// Formats a failed check; out of line as [`call_failed`].
#[cold]
#[inline(never)]
fn check_failed(what: &str, res: i32, user_data: u64, detail: u64) -> String {
    format!("check failed: {what} (res {res}, user_data {user_data}, detail {detail})")
}

/// The workloads, written once against whatever `uring` names in the
/// expanding module. That module provides `cqe_parts(&cqe) -> (i32, u64)`,
/// the raw result and the user data of a completion.
macro_rules! workloads {
    () => {
        use std::time::{Duration, Instant};

        use std::os::fd::AsRawFd;
        use uring::{opcode, types, IoUring};

        use $crate::{call_failed, check_failed, testfile, Workload, XorShift64};

        /// Sets up one of the library-neutral workloads.
        pub fn workload(name: &str) -> Result<Box<dyn Workload>, String> {
            Ok(match name {
                "nop-batch" => Box::new(NopBatch::new(
                    IoUring::new($crate::NOP_BATCH_RING).map_err(|e| call_failed("ring setup", e))?,
                    $crate::NOP_BATCH,
                )?),
                "nop-single" => Box::new(NopSingle::new(
                    IoUring::new($crate::NOP_SINGLE_RING).map_err(|e| call_failed("ring setup", e))?,
                )?),
                "read-4k" => {
                    Box::new(Read4k::new(IoUring::new($crate::READ_DEPTH).map_err(|e| call_failed("ring setup", e))?)?)
                }
                "sqpoll-nop" => Box::new(NopBatch::new(
                    IoUring::builder()
                        .setup_sqpoll($crate::SQPOLL_IDLE_MS)
                        .build($crate::SQPOLL_RING)
                        .map_err(|e| call_failed("SQPOLL ring setup", e))?,
                    $crate::SQPOLL_BATCH,
                )?),
                _ => return Err(format!("unknown workload {name:?}; one of {:?}", $crate::WORKLOADS)),
            })
        }

        /// Batches of NOPs: push `batch` (distinct user data) one `push` at
        /// a time, submit and wait for all of them, drain, check every
        /// result and that every user data came back once, in order.
        /// nop-batch and sqpoll-nop.
        pub struct NopBatch {
            ring: IoUring,
            batch: u32,
            /// The user data of the next NOP (never reused in a run).
            next: u64,
        }

        impl NopBatch {
            /// Batches of `batch` NOPs on `ring` (at most 64 per batch).
            pub fn new(ring: IoUring, batch: u32) -> Result<Self, String> {
                if batch == 0 || batch > 64 {
                    return Err(format!("batch {batch} outside 1..=64"));
                }
                Ok(NopBatch { ring, batch, next: 0 })
            }
        }

        impl AsMut<IoUring> for NopBatch {
            fn as_mut(&mut self) -> &mut IoUring {
                &mut self.ring
            }
        }

        impl Workload for NopBatch {
            fn run(&mut self, ops: u64) -> Result<Duration, String> {
                let start = Instant::now();
                let mut left = ops;
                while left > 0 {
                    let n = left.min(u64::from(self.batch)) as u32;
                    let base = self.next;
                    {
                        let mut sq = self.ring.submission();
                        for i in 0..n {
                            let nop = opcode::Nop::new().build().user_data(base + u64::from(i));
                            // SAFETY: a NOP names no buffer and no fd.
                            unsafe { sq.push(&nop) }.map_err(|e| call_failed("push", format_args!("{e:?}")))?;
                        }
                    }
                    self.ring.submit_and_wait(n as usize).map_err(|e| call_failed("submit_and_wait", e))?;
                    check_nops(&mut self.ring, base, n)?;
                    self.next = base + u64::from(n);
                    left -= u64::from(n);
                }
                Ok(start.elapsed())
            }
        }

        /// Drains the CQ after a batch of `n` NOPs with user data `base..`
        /// and checks, without a branch per completion, that they completed
        /// with 0, each once, in submission order (NOPs complete inline, so
        /// the kernel posts them in order; a stronger check than "each once"
        /// and the same for every library).
        #[inline(always)]
        fn check_nops(ring: &mut IoUring, base: u64, n: u32) -> Result<(), String> {
            let (mut expect, mut bad) = (base, 0u64);
            for cqe in ring.completion() {
                let (res, user_data) = cqe_parts(&cqe);
                bad |= u64::from(res as u32) | (user_data ^ expect);
                expect += 1;
            }
            if bad != 0 || expect != base + u64::from(n) {
                return Err(check_failed("NOPs complete with 0, each once, in order", 0, expect, base));
            }
            Ok(())
        }

        /// One NOP at a time: push, submit_and_wait(1), pop, check.
        pub struct NopSingle {
            ring: IoUring,
            next: u64,
        }

        impl NopSingle {
            /// Single NOPs on `ring`.
            pub fn new(ring: IoUring) -> Result<Self, String> {
                Ok(NopSingle { ring, next: 0 })
            }
        }

        impl AsMut<IoUring> for NopSingle {
            fn as_mut(&mut self) -> &mut IoUring {
                &mut self.ring
            }
        }

        impl Workload for NopSingle {
            fn run(&mut self, ops: u64) -> Result<Duration, String> {
                let start = Instant::now();
                let end = self.next + ops;
                while self.next < end {
                    let want = self.next;
                    let nop = opcode::Nop::new().build().user_data(want);
                    // SAFETY: a NOP names no buffer and no fd.
                    unsafe { self.ring.submission().push(&nop) }
                        .map_err(|e| call_failed("push", format_args!("{e:?}")))?;
                    self.ring.submit_and_wait(1).map_err(|e| call_failed("submit_and_wait", e))?;
                    let Some(cqe) = self.ring.completion().next() else {
                        return Err(check_failed("a completion after submit_and_wait(1)", 0, want, 0));
                    };
                    let (res, user_data) = cqe_parts(&cqe);
                    if res != 0 || user_data != want {
                        return Err(check_failed("NOP result 0 and its own user data", res, user_data, want));
                    }
                    self.next += 1;
                }
                Ok(start.elapsed())
            }
        }

        /// 4 KiB reads at pseudo-random block offsets of the 64 MiB test
        /// file (in page cache), `READ_DEPTH` in flight: each completion is
        /// checked (4096 bytes, and the block starts with its number) and its
        /// slot refilled with the next read.
        pub struct Read4k {
            // Dropped first: no read may outlive the buffers or the file.
            ring: IoUring,
            slots: ReadSlots,
        }

        /// read-4k's buffers and what each slot's read asked for.
        struct ReadSlots {
            file: std::fs::File,
            /// READ_DEPTH buffers of one block each, written by the kernel
            /// and only ever accessed through `base`.
            _bufs: Box<[[u8; testfile::BLOCK]]>,
            base: *mut u8,
            /// The block each slot's read asked for.
            block_of: [u64; $crate::READ_DEPTH as usize],
            rng: XorShift64,
        }

        impl Read4k {
            /// Reads on `ring` (at least READ_DEPTH SQ slots); opens, and
            /// if need be creates, the test file and reads it once.
            pub fn new(ring: IoUring) -> Result<Self, String> {
                let file = testfile::open()?;
                let mut bufs = vec![[0u8; testfile::BLOCK]; $crate::READ_DEPTH as usize].into_boxed_slice();
                let base = bufs.as_mut_ptr().cast::<u8>();
                let slots = ReadSlots {
                    file,
                    _bufs: bufs,
                    base,
                    block_of: [0; $crate::READ_DEPTH as usize],
                    rng: XorShift64::new($crate::READ_SEED),
                };
                Ok(Read4k { ring, slots })
            }
        }

        impl ReadSlots {
            /// The first 8 bytes of `slot`'s buffer.
            #[inline]
            fn header(&self, slot: usize) -> u64 {
                // SAFETY: slot < READ_DEPTH, inside `_bufs`; no read of
                // this slot is in flight (its completion was reaped).
                unsafe { self.base.add(slot * testfile::BLOCK).cast::<u64>().read_unaligned() }
            }

            /// Queues the next read into `slot` (marking its header first,
            /// so that a read that wrote nothing cannot pass the check).
            #[inline]
            fn queue(&mut self, sq: &mut uring::SubmissionQueue<'_>, slot: usize) -> Result<(), String> {
                let block = self.rng.next() & (testfile::BLOCKS - 1);
                self.block_of[slot] = block;
                let buf = self.base.wrapping_add(slot * testfile::BLOCK);
                // SAFETY: as in `header`; the slot is idle.
                unsafe { buf.cast::<u64>().write_unaligned(u64::MAX) };
                let read = opcode::Read::new(types::Fd(self.file.as_raw_fd()), buf, testfile::BLOCK as u32)
                    .offset(block * testfile::BLOCK as u64)
                    .build()
                    .user_data(slot as u64);
                // SAFETY: the buffer is one block inside `_bufs`, owned by
                // this slot until its completion is reaped; the ring is
                // dropped before the buffers and the file (field order of
                // Read4k).
                unsafe { sq.push(&read) }.map_err(|e| call_failed("push", format_args!("{e:?}")))
            }
        }

        impl AsMut<IoUring> for Read4k {
            fn as_mut(&mut self) -> &mut IoUring {
                &mut self.ring
            }
        }

        impl Workload for Read4k {
            fn run(&mut self, ops: u64) -> Result<Duration, String> {
                let start = Instant::now();
                let first = ops.min(u64::from($crate::READ_DEPTH));
                {
                    let mut sq = self.ring.submission();
                    for slot in 0..first as usize {
                        self.slots.queue(&mut sq, slot)?;
                    }
                }
                let mut issued = first;
                let mut completed = 0u64;
                while completed < ops {
                    self.ring.submit_and_wait(1).map_err(|e| call_failed("submit_and_wait", e))?;
                    let mut idle = 0u64;
                    for cqe in self.ring.completion() {
                        let (res, user_data) = cqe_parts(&cqe);
                        let slot = user_data as usize;
                        if res != testfile::BLOCK as i32 || slot >= $crate::READ_DEPTH as usize {
                            return Err(check_failed("read of 4096 bytes into a known slot", res, user_data, 0));
                        }
                        let (got, block) = (self.slots.header(slot), self.slots.block_of[slot]);
                        if got != block {
                            return Err(check_failed("block starts with its number", res, got, block));
                        }
                        idle |= 1 << slot;
                        completed += 1;
                    }
                    if issued < ops && idle != 0 {
                        let mut sq = self.ring.submission();
                        while idle != 0 && issued < ops {
                            let slot = idle.trailing_zeros() as usize;
                            idle &= idle - 1;
                            self.slots.queue(&mut sq, slot)?;
                            issued += 1;
                        }
                    }
                }
                Ok(start.elapsed())
            }
        }
    };
}

/// urix.
pub mod on_urix {
    use urix as uring;

    /// The raw result and the user data of a completion.
    #[inline(always)]
    fn cqe_parts(cqe: &uring::cqueue::Entry) -> (i32, u64) {
        (cqe.raw_result(), cqe.user_data_u64())
    }

    workloads!();

    /// A ring with urix's default settings.
    pub fn plain_ring(entries: u32) -> Result<IoUring, String> {
        IoUring::new(entries).map_err(|e| call_failed("ring setup", e))
    }

    /// A ring with urix's fast preset, [`IoUring::fast`]: SINGLE_ISSUER,
    /// DEFER_TASKRUN, NO_SQARRAY, and the ring fd registered (so every
    /// enter passes an index instead of an fd). Fails unless the kernel
    /// gave all of them (6.18 does), so that the rows mean what they say.
    pub fn fast_ring(entries: u32) -> Result<IoUring, String> {
        let ring = IoUring::fast(entries).map_err(|e| call_failed("fast ring setup", e))?;
        let p = ring.params();
        if !(p.is_setup_single_issuer() && p.is_setup_defer_taskrun() && p.is_setup_no_sqarray()) {
            return Err(format!("the kernel refused part of the fast preset: {p:?}"));
        }
        if ring.submitter().registered_ring_index().is_none() {
            return Err("the fast preset left no registered ring index".into());
        }
        Ok(ring)
    }

    /// A ring with SINGLE_ISSUER and NO_SQARRAY, and SQ_REWIND when
    /// `rewind` (7.0): the pair of rings that measures what SQ_REWIND
    /// changes. Fails unless the kernel gave all of it.
    pub fn rewind_ring(entries: u32, rewind: bool) -> Result<IoUring, String> {
        let mut b = IoUring::builder();
        b.setup_single_issuer().setup_no_sqarray();
        if rewind {
            b.setup_sq_rewind();
        }
        let ring = b.build(entries).map_err(|e| call_failed("SINGLE_ISSUER + NO_SQARRAY (+ SQ_REWIND) setup", e))?;
        if ring.params().is_setup_sq_rewind() != rewind {
            return Err("SQ_REWIND not as asked".into());
        }
        Ok(ring)
    }

    /// nop-batch through the batch API: each batch of [`NOP_BATCH`](crate::NOP_BATCH)
    /// NOPs is written in place by one `push_with`, then checked like
    /// nop-batch: drained by a `for` loop (`FOLD` false), or by the
    /// completion iterator's `fold`, which walks the CQE array by pointer
    /// (`FOLD` true, nop-batch-fold).
    pub struct NopBatchApi<const FOLD: bool = false> {
        ring: IoUring,
        next: u64,
    }

    impl<const FOLD: bool> NopBatchApi<FOLD> {
        /// Batches on `ring` (at least NOP_BATCH SQ slots).
        pub fn new(ring: IoUring) -> Self {
            NopBatchApi { ring, next: 0 }
        }
    }

    impl<const FOLD: bool> AsMut<IoUring> for NopBatchApi<FOLD> {
        fn as_mut(&mut self) -> &mut IoUring {
            &mut self.ring
        }
    }

    impl<const FOLD: bool> Workload for NopBatchApi<FOLD> {
        fn run(&mut self, ops: u64) -> Result<Duration, String> {
            let start = Instant::now();
            let mut left = ops;
            while left > 0 {
                let n = left.min(u64::from(crate::NOP_BATCH)) as u32;
                let base = self.next;
                let make = |i: usize| opcode::Nop::new().build().user_data(base + i as u64);
                // SAFETY: NOPs name no buffer and no fd.
                unsafe { self.ring.submission().push_with(n as usize, make) }
                    .map_err(|e| call_failed("push_with", format_args!("{e:?}")))?;
                self.ring.submit_and_wait(n as usize).map_err(|e| call_failed("submit_and_wait", e))?;
                if FOLD {
                    // As check_nops, through fold.
                    let (expect, bad) = self.ring.completion().fold((base, 0u64), |(expect, bad), cqe| {
                        let (res, user_data) = cqe_parts(&cqe);
                        (expect + 1, bad | u64::from(res as u32) | (user_data ^ expect))
                    });
                    if bad != 0 || expect != base + u64::from(n) {
                        return Err(check_failed("NOPs complete with 0, each once, in order", 0, expect, base));
                    }
                } else {
                    check_nops(&mut self.ring, base, n)?;
                }
                self.next = base + u64::from(n);
                left -= u64::from(n);
            }
            Ok(start.elapsed())
        }
    }

    /// nop-single on the fast preset.
    pub fn fast_nop_single() -> Result<Registered<NopSingle>, String> {
        Ok(Registered(NopSingle::new(fast_ring(crate::NOP_SINGLE_RING)?)?))
    }

    /// read-4k on the fast preset.
    pub fn fast_read_4k() -> Result<Registered<Read4k>, String> {
        Ok(Registered(Read4k::new(fast_ring(crate::READ_DEPTH)?)?))
    }

    /// A workload on a ring whose fd is registered; unregisters it on drop
    /// (the kernel would otherwise keep the ring until the thread exits).
    /// Use it on the thread that created it: the registration is per thread.
    pub struct Registered<W: AsMut<IoUring>>(pub W);

    impl<W: AsMut<IoUring> + Workload> Workload for Registered<W> {
        fn run(&mut self, ops: u64) -> Result<Duration, String> {
            self.0.run(ops)
        }
    }

    impl<W: AsMut<IoUring>> Drop for Registered<W> {
        fn drop(&mut self) {
            let _ = self.0.as_mut().submitter().unregister_ring_fd();
        }
    }
}

/// io-uring 0.7.14.
pub mod on_io_uring {
    use io_uring as uring;

    /// The raw result and the user data of a completion.
    #[inline(always)]
    fn cqe_parts(cqe: &uring::cqueue::Entry) -> (i32, u64) {
        (cqe.result(), cqe.user_data())
    }

    workloads!();
}

/// rustix-uring 0.6.0.
pub mod on_rustix_uring {
    use rustix_uring as uring;

    /// The raw result and the user data of a completion.
    #[inline(always)]
    fn cqe_parts(cqe: &uring::cqueue::Entry) -> (i32, u64) {
        (cqe.raw_result(), cqe.user_data_u64())
    }

    workloads!();
}
