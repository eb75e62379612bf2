//! Mixed-size rings and the fd-less ring: `IORING_SETUP_CQE_MIXED` (6.18),
//! `IORING_SETUP_SQE_MIXED` (6.19), the `IORING_CQE_F_SKIP` fillers every
//! CQ reader skips, and `IORING_SETUP_REGISTERED_FD_ONLY` (6.5).

use std::collections::BTreeSet;
use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::time::Instant;

use anyhow::{bail, ensure, Context};
use urix::cqueue::EntryMixed as Cqe;
use urix::squeue::{self, Entry128, PushMixedError};
use urix::types::{Fd, SubmitArgs, Timespec};
use urix::{cqueue, opcode, Errno, IoUring};

use super::recv::wait_inq;
use crate::harness::{setup, Req, Test};
use crate::test_once;
use crate::util::{needs_kernel, tcp_pair, Rng, PATIENCE};

const NOP: Req = Req::Op(opcode::Nop::CODE, "NOP");
const NOP128: Req = Req::Op(opcode::Nop128::CODE, "NOP128");
const CMD128: Req = Req::Op(opcode::UringCmd128::CODE, "URING_CMD128");

pub fn tests() -> Vec<Test> {
    vec![
        test_once!(
            cqe_mixed_ring_yields_both_sizes_and_skips_the_wrap_filler,
            requires = [NOP, setup::CQE_MIXED, setup::CQSIZE]
        ),
        test_once!(cqe_mixed_ring_random_sizes_across_many_wraps, requires = [NOP, setup::CQE_MIXED]),
        test_once!(big_completion_refused_on_a_16_byte_ring, requires = [NOP]),
        test_once!(cqe32_ring_reader_skips_fillers, requires = [NOP, setup::CQE32]),
        test_once!(sqe_mixed_ring_pads_the_wrap, requires = [NOP, NOP128, setup::SQE_MIXED]),
        test_once!(
            sqe_mixed_ring_random_sizes_across_many_wraps,
            requires = [NOP, NOP128, CMD128, setup::SQE_MIXED, setup::CQE_MIXED]
        ),
        test_once!(registered_fd_only_ring_has_no_fd, requires = [NOP, setup::REGISTERED_FD_ONLY, setup::NO_MMAP]),
    ]
}

/// Collects exactly `n` completions of any entry type, waiting (with a
/// timeout per wait) as needed.
fn collect<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    n: usize,
) -> anyhow::Result<Vec<C>> {
    let deadline = Instant::now() + PATIENCE;
    let mut out = Vec::with_capacity(n);
    loop {
        out.extend(ring.completion().take(n - out.len()));
        if out.len() == n {
            return Ok(out);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let got: Vec<u64> = out.iter().map(|c| c.user_data().u64_()).collect();
            bail!("only {} of {n} completions arrived: {got:?}", out.len());
        }
        let ts = Timespec::new().sec(left.as_secs()).nsec(left.subsec_nanos());
        match ring.submitter().submit_with_args(1, &SubmitArgs::new().timespec(&ts)) {
            Ok(_) | Err(Errno::TIME) => {}
            Err(e) => return Err(e).context("wait"),
        }
    }
}

/// A mixed-CQ ring of `sq` SQ and `cq` CQ slots, or a skip on kernels
/// before 6.18.
fn cqe_mixed_ring(sq: u32, cq: u32) -> anyhow::Result<IoUring<squeue::Entry, Cqe>> {
    needs_kernel(6, 18, "IORING_SETUP_CQE_MIXED")?;
    let mut b = IoUring::<squeue::Entry, cqueue::Entry>::builder().setup_cqe_mixed();
    b.setup_cqsize(cq);
    let ring = b.build(sq).context("CQE_MIXED setup")?;
    ensure!(ring.params().is_setup_cqe_mixed(), "CQE_MIXED not in force: {:?}", ring.params());
    ensure!(ring.params().cq_entries() == cq, "cq_entries {}", ring.params().cq_entries());
    Ok(ring)
}

/// The payload of the big NOP with `user_data`.
fn payload(user_data: u64) -> [u64; 2] {
    [user_data.wrapping_mul(0x9e37_79b9_7f4a_7c15), !user_data]
}

fn small_nop(user_data: u64) -> squeue::Entry {
    opcode::Nop::new().build().user_data(user_data)
}

fn big_nop(user_data: u64) -> squeue::Entry {
    let [a, b] = payload(user_data);
    opcode::Nop::new().cqe32_payload(a, b).build().user_data(user_data)
}

/// Pushes `entries` (which fit the SQ), submits and waits for them all.
fn run_batch<C: cqueue::EntryMarker>(
    ring: &mut IoUring<squeue::Entry, C>,
    entries: &[squeue::Entry],
) -> anyhow::Result<()> {
    // SAFETY: NOPs name no memory.
    unsafe { ring.submission().push_multiple(entries) }.map_err(|_| anyhow::anyhow!("SQ full"))?;
    let n = ring.submit().context("submit")?;
    ensure!(n == entries.len(), "submitted {n} of {}", entries.len());
    Ok(())
}

/// Runs `batch` (user data, big?) as NOPs and returns its completions,
/// after checking that the reader's `len()` counted exactly them (no
/// filler) and that nothing is left behind.
fn nops_through<C: cqueue::EntryMarker + std::fmt::Debug>(
    ring: &mut IoUring<squeue::Entry, C>,
    batch: &[(u64, bool)],
) -> anyhow::Result<Vec<C>> {
    let n = batch.len();
    let entries: Vec<_> = batch.iter().map(|&(ud, big)| if big { big_nop(ud) } else { small_nop(ud) }).collect();
    run_batch(ring, &entries)?;
    let deadline = Instant::now() + PATIENCE;
    while ring.completion().len() < n {
        ensure!(Instant::now() < deadline, "batch of {n} did not complete");
        ring.submitter().submit_and_wait(1)?;
    }
    let mut cq = ring.completion();
    ensure!(cq.len() == n, "len {} for a batch of {n}", cq.len());
    let got: Vec<C> = cq.by_ref().collect();
    let left = cq.len();
    ensure!(left == 0 && cq.is_empty(), "after the batch: {left} left");
    drop(cq);
    ensure!(got.len() == n, "{} of {n} yielded", got.len());
    Ok(got)
}

/// Checks one mixed completion against the NOP that made it.
fn check_mixed(c: &Cqe, user_data: u64, big: bool) -> anyhow::Result<()> {
    ensure!(c.user_data_u64() == user_data, "user_data {} where {user_data} was next", c.user_data_u64());
    ensure!(c.result() == Ok(0), "{user_data}: result {:?}", c.result());
    ensure!(!c.flags().contains(cqueue::Flags::SKIP), "{user_data}: a filler was yielded");
    match (big, c) {
        (true, Cqe::Big(e)) => {
            ensure!(e.big_cqe() == &payload(user_data), "{user_data}: big_cqe {:?}", e.big_cqe());
            ensure!(c.flags().contains(cqueue::Flags::F_32), "{user_data}: F_32 clear on a big completion");
        }
        (false, Cqe::Small(_)) => ensure!(!c.flags().contains(cqueue::Flags::F_32), "{user_data}: F_32 on a small one"),
        _ => bail!("{user_data}: expected a {} completion, got {c:?}", if big { "32-byte" } else { "16-byte" }),
    }
    Ok(())
}

/// CQ of 8 slots: 7 small completions put the tail in the last slot; a
/// big one then cannot start there, so the kernel posts a filler in slot 7
/// and the big one in slots 0-1. Five small ones after it fill the CQ
/// exactly (8 slots: proof that the filler is there), while the reader
/// yields 6 completions and counts 6.
fn cqe_mixed_ring_yields_both_sizes_and_skips_the_wrap_filler(_: &crate::harness::Ctx) -> anyhow::Result<()> {
    let mut ring = cqe_mixed_ring(8, 8)?;
    let first: Vec<_> = (0..7).map(small_nop).collect();
    run_batch(&mut ring, &first)?;
    for (i, c) in collect(&mut ring, 7)?.iter().enumerate() {
        check_mixed(c, i as u64, false)?;
    }
    // A big one ending exactly at the last slot needs no filler: slots 7-0
    // would wrap, so start over at position 8 instead: here the tail is 7.
    let mut second = vec![big_nop(100)];
    second.extend((101..106).map(small_nop));
    run_batch(&mut ring, &second)?;
    let deadline = Instant::now() + PATIENCE;
    while ring.completion().len() < 6 {
        ensure!(Instant::now() < deadline, "the 6 completions did not arrive");
        ring.submitter().submit_and_wait(1)?;
    }
    let mut cq = ring.completion();
    ensure!(cq.is_full(), "8 slots taken (a filler, a big completion, 5 small ones): {cq:?}");
    ensure!(cq.len() == 6, "len {} (fillers are not completions)", cq.len());
    let got: Vec<Cqe> = cq.by_ref().collect();
    drop(cq);
    ensure!(got.len() == 6, "{} completions yielded", got.len());
    check_mixed(&got[0], 100, true)?;
    for (c, ud) in got[1..].iter().zip(101..) {
        check_mixed(c, ud, false)?;
    }
    // A big completion that ends in the last slot: tail is 15 (slot 7)...
    // after one small one it is 16 (slot 0): 6 small ones put it at slot
    // 6, and the big one takes 6-7 with no filler.
    let third: Vec<_> = (200..207).map(small_nop).chain([big_nop(207)]).collect();
    run_batch(&mut ring, &third[..7])?;
    collect(&mut ring, 7)?;
    run_batch(&mut ring, &third[7..])?;
    let c = collect(&mut ring, 1)?;
    check_mixed(&c[0], 207, true)?;
    ensure!(ring.completion().is_empty(), "nothing else in the CQ");
    Ok(())
}

/// 400 NOPs, each big or small at random, in batches of 1-4, through a
/// CQ of 16 slots (a batch takes at most 9): every completion in order
/// with its size and payload,
/// `len()` exact after every batch, and the wrap filler met many times
/// (counted with a model of the kernel's tail).
fn cqe_mixed_ring_random_sizes_across_many_wraps(_: &crate::harness::Ctx) -> anyhow::Result<()> {
    let mut ring = cqe_mixed_ring(4, 16)?;
    let mut rng = Rng(0x5eed_cafe);
    let (mut next, mut pos, mut fillers) = (1u64, 0u32, 0);
    while next <= 400 {
        let n = 1 + rng.below(4) as usize;
        let batch: Vec<(u64, bool)> = (0..n as u64).map(|i| (next + i, rng.below(2) == 1)).collect();
        next += n as u64;
        for &(_, big) in &batch {
            if big && pos % 16 == 15 {
                fillers += 1;
                pos += 1;
            }
            pos += if big { 2 } else { 1 };
        }
        let got = nops_through(&mut ring, &batch)?;
        for (c, &(ud, big)) in got.iter().zip(&batch) {
            check_mixed(c, ud, big)?;
        }
    }
    ensure!(fillers >= 10, "the run met only {fillers} wrap fillers");
    Ok(())
}

/// The reason the 16-byte CQ reader needs no filler check: on a ring
/// without CQE32 or CQE_MIXED the kernel refuses a big completion, so it
/// never has to pad a wrap there.
fn big_completion_refused_on_a_16_byte_ring(_: &crate::harness::Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 18, "IORING_NOP_CQE32")?;
    let mut ring = IoUring::new(4)?;
    // The kernel refuses it while preparing it: its error is its completion.
    run_batch(&mut ring, &[big_nop(1)])?;
    let got = collect(&mut ring, 1)?;
    ensure!(got[0].user_data_u64() == 1 && got[0].result() == Err(Errno::INVAL), "big NOP: {:?}", got[0]);
    run_batch(&mut ring, &[small_nop(2)])?;
    let got = collect(&mut ring, 1)?;
    ensure!(got[0].user_data_u64() == 2 && got[0].result() == Ok(0), "small NOP: {:?}", got[0]);
    Ok(())
}

/// A plain CQE32 ring through many wraps, big-payload NOPs among plain
/// ones: kernels up to 7.2 may post an `F_SKIP` filler in the last slot
/// (fixed in the 7.3 cycle); the reader never yields one, and `len()`
/// matches what it yields.
fn cqe32_ring_reader_skips_fillers(_: &crate::harness::Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 18, "IORING_NOP_CQE32")?;
    let mut b = IoUring::<squeue::Entry, cqueue::Entry32>::builder();
    b.setup_cqsize(4);
    let mut ring = b.build(2)?;
    let mut rng = Rng(0xfeed);
    let mut next = 1u64;
    while next <= 300 {
        let n = 1 + rng.below(2) as usize;
        let batch: Vec<(u64, bool)> = (0..n as u64).map(|i| (next + i, rng.below(2) == 1)).collect();
        next += n as u64;
        let got = nops_through(&mut ring, &batch)?;
        for (c, &(ud, big)) in got.iter().zip(&batch) {
            ensure!(c.user_data_u64() == ud, "user_data {} where {ud} was next (a filler?)", c.user_data_u64());
            ensure!(!c.flags().contains(cqueue::Flags::SKIP), "{ud}: a filler was yielded");
            ensure!(c.result() == Ok(0), "{ud}: {:?}", c.result());
            if big {
                ensure!(c.big_cqe() == &payload(ud), "{ud}: big_cqe {:?}", c.big_cqe());
            }
        }
    }
    Ok(())
}

/// A mixed-SQ ring (64- and 128-byte SQEs), or a skip on kernels before
/// 6.19.
fn sqe_mixed_ring() -> anyhow::Result<IoUring<squeue::EntryMixed, cqueue::Entry>> {
    needs_kernel(6, 19, "IORING_SETUP_SQE_MIXED")?;
    let ring =
        IoUring::<squeue::Entry, cqueue::Entry>::builder().setup_sqe_mixed().build(8).context("SQE_MIXED setup")?;
    ensure!(ring.params().is_setup_sqe_mixed(), "SQE_MIXED not in force: {:?}", ring.params());
    ensure!(ring.params().sq_entries() == 8, "sq_entries {}", ring.params().sq_entries());
    Ok(ring)
}

fn nop128(user_data: u64, result: i32) -> Entry128 {
    opcode::Nop128::new().inject_result(result).build().user_data(user_data)
}

/// SQ of 8 slots: 7 small NOPs put the tail in the last slot; a NOP128
/// there would wrap, so `push_128` pads slot 7 with a NOP flagged
/// CQE_SKIP_SUCCESS and places the NOP128 in slots 0-1 (3 slots taken).
/// The pad posts nothing: exactly the NOP128's and the next NOP's
/// completions arrive. Entries whose opcode is not a 128-byte one are
/// refused before anything is pushed.
fn sqe_mixed_ring_pads_the_wrap(_: &crate::harness::Ctx) -> anyhow::Result<()> {
    let mut ring = sqe_mixed_ring()?;
    {
        let mut sq = ring.submission();
        // SAFETY: NOPs name no memory.
        let r = unsafe { sq.push_128(&Entry128::from(small_nop(1))) };
        ensure!(r == Err(PushMixedError::Not128(0)), "a 64-byte NOP as 128 bytes: {r:?}");
        let cmd80 = opcode::UringCmd80::new(Fd(0), 0).build();
        // SAFETY: refused before the kernel could see it.
        let r = unsafe { sq.push_128(&cmd80) };
        ensure!(r == Err(PushMixedError::Not128(46)), "UringCmd80 (URING_CMD): {r:?}");
        ensure!(sq.is_empty(), "nothing pushed");
    }
    let mut sq = ring.submission();
    for ud in 0..7 {
        // SAFETY: NOPs name no memory.
        unsafe { sq.push(&small_nop(ud).into()) }.map_err(|_| anyhow::anyhow!("SQ full"))?;
    }
    drop(sq);
    ensure!(ring.submit()? == 7, "7 NOPs submitted");
    let got = collect(&mut ring, 7)?;
    ensure!(got.iter().map(|c| c.user_data_u64()).eq(0..7), "first round: {got:?}");
    let mut sq = ring.submission();
    // SAFETY: NOPs name no memory.
    unsafe { sq.push_128(&nop128(100, 128)) }.map_err(|e| anyhow::anyhow!("push_128: {e}"))?;
    ensure!(sq.len() == 3, "the pad and both halves: {} slots", sq.len());
    // SAFETY: as above.
    unsafe { sq.push(&small_nop(101).into()) }.map_err(|_| anyhow::anyhow!("SQ full"))?;
    // Debug lists three entries for the four slots: the pad, the NOP128
    // (as one entry) and the NOP.
    let shown = format!("{sq:?}");
    ensure!(
        shown.matches("user_data").count() == 3 && shown.matches("EntryMixed128").count() == 1,
        "Debug of the pad, the NOP128 and the NOP: {shown}"
    );
    drop(sq);
    let n = ring.submit()?;
    ensure!(n == 4, "the kernel consumed {n} slots, expected 4 (pad, 2 halves, NOP)");
    let got = collect(&mut ring, 2)?;
    ensure!(got[0].user_data_u64() == 100 && got[0].result() == Ok(128), "NOP128: {:?}", got[0]);
    ensure!(got[1].user_data_u64() == 101 && got[1].result() == Ok(0), "NOP after it: {:?}", got[1]);
    // The pad posted nothing: the next completion is the next NOP's.
    let mut sq = ring.submission();
    // SAFETY: as above.
    unsafe { sq.push(&small_nop(102).into()) }.map_err(|_| anyhow::anyhow!("SQ full"))?;
    drop(sq);
    ring.submit()?;
    let got = collect(&mut ring, 1)?;
    ensure!(got[0].user_data_u64() == 102, "a completion from the pad? {:?}", got[0]);
    ensure!(ring.completion().is_empty(), "nothing else in the CQ");
    Ok(())
}

/// A ring with both mixed SQ and mixed CQ: 300 entries in random batches,
/// 64-byte NOPs, NOP128s (some with a 32-byte completion) and
/// URING_CMD128 SIOCINQs on a TCP socket holding 13 bytes, through an SQ of
/// 8 slots: every completion with its result, size and payload; the pads
/// (counted with a model of the SQ tail) post nothing.
fn sqe_mixed_ring_random_sizes_across_many_wraps(_: &crate::harness::Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 19, "IORING_SETUP_SQE_MIXED")?;
    let b = IoUring::<squeue::Entry, cqueue::Entry>::builder().setup_sqe_mixed().setup_cqe_mixed();
    let mut ring = b.build(8).context("SQE_MIXED + CQE_MIXED setup")?;
    let (mut client, server) = tcp_pair()?;
    client.write_all(b"one-two-eight")?;
    wait_inq(server.as_raw_fd(), 13)?;
    let mut rng = Rng(0x0001_2864);
    let (mut next, mut tail, mut pads) = (1u64, 0u32, 0);
    while next <= 300 {
        // (user_data, kind): 0 NOP, 1 NOP128, 2 NOP128 with a big CQE, 3 URING_CMD128.
        let n = 1 + rng.below(3) as usize;
        let batch: Vec<(u64, u64)> = (0..n as u64).map(|i| (next + i, rng.below(4))).collect();
        next += n as u64;
        let mut sq = ring.submission();
        for &(ud, kind) in &batch {
            // SAFETY: NOPs name no memory; the socket outlives the command.
            let r = unsafe {
                match kind {
                    0 => sq.push(&small_nop(ud).into()).map_err(PushMixedError::Full),
                    1 => sq.push_128(&nop128(ud, ud as i32)),
                    2 => {
                        let [a, c] = payload(ud);
                        sq.push_128(&opcode::Nop128::new().cqe32_payload(a, c).build().user_data(ud))
                    }
                    _ => sq.push_128(&opcode::UringCmd128::new(Fd(server.as_raw_fd()), 0).build().user_data(ud)),
                }
            };
            r.map_err(|e| anyhow::anyhow!("push {ud} (kind {kind}): {e}"))?;
            if kind != 0 && tail % 8 == 7 {
                pads += 1;
                tail += 1;
            }
            tail += if kind == 0 { 1 } else { 2 };
        }
        drop(sq);
        ring.submit()?;
        let got = collect(&mut ring, n)?;
        for (c, &(ud, kind)) in got.iter().zip(&batch) {
            ensure!(
                c.user_data_u64() == ud,
                "user_data {} where {ud} was next (a pad's completion?)",
                c.user_data_u64()
            );
            let want = match kind {
                0 | 2 => Ok(0),
                1 => Ok(ud as u32),
                _ => Ok(13),
            };
            ensure!(c.result() == want, "{ud} (kind {kind}): {:?}, want {want:?}", c.result());
            match (kind, c.big_cqe()) {
                (2, Some(p)) => ensure!(p == &payload(ud), "{ud}: big_cqe {p:?}"),
                (2, None) => bail!("{ud}: a 16-byte completion for a big NOP128"),
                (_, Some(p)) => bail!("{ud} (kind {kind}): unexpected 32-byte completion {p:?}"),
                (_, None) => {}
            }
        }
        ensure!(ring.completion().is_empty(), "completions left after the batch");
    }
    ensure!(pads >= 10, "the run met only {pads} wraps");
    Ok(())
}

/// The fd numbers open in this process.
fn open_fds() -> anyhow::Result<BTreeSet<i32>> {
    let mut fds = BTreeSet::new();
    for e in std::fs::read_dir("/proc/self/fd")? {
        if let Ok(n) = e?.file_name().to_string_lossy().parse() {
            fds.insert(n);
        }
    }
    Ok(fds)
}

/// A raw `io_uring_enter(index, 0, 0, REGISTERED_RING)` on this thread.
fn enter_index(index: u32) -> Result<(), Errno> {
    // SAFETY: no argument; nothing is submitted or waited for.
    let r = unsafe { libc::syscall(libc::SYS_io_uring_enter, index, 0, 0, 1u32 << 4, 0usize, 0usize) };
    if r < 0 {
        Err(Errno::from_raw_os_error(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)))
    } else {
        Ok(())
    }
}

/// A ring made with REGISTERED_FD_ONLY: no new fd in /proc/self/fd; NOPs
/// and an injected result go through its index and come back; another
/// thread's table does not have the index; `close` unregisters it (after
/// which the index names nothing: `EBADF`, and the fd table is as before),
/// and so does dropping the ring.
fn registered_fd_only_ring_has_no_fd(_: &crate::harness::Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 5, "IORING_SETUP_REGISTERED_FD_ONLY")?;
    let before = open_fds()?;
    let mut ring = IoUring::<squeue::Entry, cqueue::Entry>::builder().build_registered_fd_only(8).context("setup")?;
    let p = ring.params();
    ensure!(p.is_setup_registered_fd_only() && p.is_setup_no_mmap(), "flags in force: {p:?}");
    let during = open_fds()?;
    ensure!(during == before, "fds before {before:?}, with the ring {during:?}");
    let index = ring.index();
    let mut next = 0u64;
    for round in 0..10u64 {
        let n = 1 + round % 8;
        let mut sq = ring.submission();
        for i in 0..n {
            let e = opcode::Nop::new().inject_result((next + i) as i32).build().user_data(next + i);
            // SAFETY: NOPs name no memory.
            unsafe { sq.push(&e) }.map_err(|_| anyhow::anyhow!("SQ full"))?;
        }
        drop(sq);
        let submitted = ring.submit_and_wait(n as usize)?;
        ensure!(submitted == n as usize, "submitted {submitted} of {n}");
        let got: Vec<cqueue::Entry> = ring.completion().collect();
        ensure!(got.len() == n as usize, "{} of {n} completions", got.len());
        for (c, ud) in got.iter().zip(next..) {
            ensure!(c.user_data_u64() == ud && c.result() == Ok(ud as u32), "{ud}: {c:?}");
        }
        next += n;
    }
    let other =
        std::thread::spawn(move || enter_index(index)).join().map_err(|_| anyhow::anyhow!("thread panicked"))?;
    ensure!(matches!(other, Err(Errno::BADF | Errno::INVAL)), "index {index} on another thread: {other:?}");
    ensure!(enter_index(index).is_ok(), "the index is registered on this thread");
    ring.close().context("close (IORING_UNREGISTER_RING_FDS)")?;
    ensure!(enter_index(index) == Err(Errno::BADF), "after close the index names nothing");
    ensure!(open_fds()? == before, "fds after close");
    // Dropping unregisters too; the slot is free for the next ring.
    let ring = IoUring::<squeue::Entry, cqueue::Entry>::builder().build_registered_fd_only(4)?;
    let index = ring.index();
    ensure!(enter_index(index).is_ok(), "the second ring's index");
    drop(ring);
    ensure!(enter_index(index) == Err(Errno::BADF), "after drop the index names nothing");
    Ok(())
}
