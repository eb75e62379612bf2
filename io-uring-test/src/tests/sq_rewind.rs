//! `IORING_SETUP_SQ_REWIND` (7.0): a submission queue whose every batch
//! is written from slot 0 and submitted by count.

use std::io::Write as _;
use std::os::fd::AsRawFd;

use anyhow::{ensure, Context};
use urix::squeue::Flags;
use urix::types::Fd;
use urix::{cqueue, opcode, squeue, Errno, IoUring};

use crate::harness::{reg, setup, Ctx, Test};
use crate::test_once;
use crate::util::{needs_kernel, nop, reap, tempfile};

pub fn tests() -> Vec<Test> {
    vec![
        test_once!(
            sq_rewind_runs_batches_of_nops,
            requires = [setup::SQ_REWIND, setup::NO_SQARRAY, setup::SINGLE_ISSUER]
        ),
        test_once!(sq_rewind_reads_a_file, requires = [setup::SQ_REWIND, setup::NO_SQARRAY, setup::SINGLE_ISSUER]),
        test_once!(
            sq_rewind_split_view_publishes_after_a_submit,
            requires = [setup::SQ_REWIND, setup::NO_SQARRAY, setup::SINGLE_ISSUER]
        ),
        test_once!(
            sq_rewind_moves_what_the_kernel_left,
            requires = [setup::SQ_REWIND, setup::NO_SQARRAY, setup::SINGLE_ISSUER]
        ),
        test_once!(
            sq_rewind_ring_resizes,
            requires = [setup::SQ_REWIND, setup::NO_SQARRAY, setup::SINGLE_ISSUER, reg::RESIZE_RINGS]
        ),
        test_once!(
            sq_rewind_on_a_registered_fd_only_ring,
            requires = [setup::SQ_REWIND, setup::NO_SQARRAY, setup::SINGLE_ISSUER, setup::REGISTERED_FD_ONLY]
        ),
        test_once!(sq_rewind_refused_where_the_kernel_or_urix_says_so),
        test_once!(fast_preset_has_sq_rewind),
    ]
}

/// A ring of `entries` with SINGLE_ISSUER + NO_SQARRAY + SQ_REWIND
/// (+ DEFER_TASKRUN when `defer`), after checking the kernel has it.
fn rewind_ring<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    entries: u32,
    defer: bool,
) -> anyhow::Result<IoUring<S, C>> {
    needs_kernel(7, 0, "IORING_SETUP_SQ_REWIND")?;
    let mut b = IoUring::<S, C>::builder();
    b.setup_single_issuer().setup_no_sqarray().setup_sq_rewind();
    if defer {
        b.setup_defer_taskrun();
    }
    let ring = b.build(entries).context("SQ_REWIND setup")?;
    ensure!(ring.params().is_setup_sq_rewind(), "SQ_REWIND not in force: {:#x}", ring.params().setup_flags());
    Ok(ring)
}

/// Batches of several sizes (1, a full SQ, odd ones), through `push`,
/// `push_multiple` and `push_with`, each submitted and reaped: every NOP
/// completes once with 0, none twice (a batch submitted again would show
/// its user data twice), and the SQ is empty after each submit.
fn sq_rewind_runs_batches_of_nops(_: &Ctx) -> anyhow::Result<()> {
    for (defer, big) in [(false, false), (true, false), (true, true)] {
        if big {
            let mut ring = rewind_ring::<squeue::Entry128, cqueue::Entry>(8, defer)?;
            run_batches(&mut ring)?;
        } else {
            let mut ring = rewind_ring::<squeue::Entry, cqueue::Entry>(8, defer)?;
            run_batches(&mut ring)?;
        }
    }
    Ok(())
}

fn run_batches<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ring: &mut IoUring<S, C>) -> anyhow::Result<()> {
    let mut next = 0u64;
    let mut seen = Vec::new();
    for (round, size) in [3usize, 8, 1, 5, 8, 2, 7].into_iter().enumerate() {
        let ud: Vec<u64> = (next..next + size as u64).collect();
        {
            let mut sq = ring.submission();
            ensure!(sq.is_empty(), "round {round}: {} entries left from the last batch", sq.len());
            match round % 3 {
                // SAFETY: NOPs name no memory.
                0 => unsafe { sq.push_with(size, |i| nop(ud[i])) }.context("push_with")?,
                1 => {
                    let batch: Vec<S> = ud.iter().map(|&u| nop(u)).collect();
                    // SAFETY: as above.
                    unsafe { sq.push_multiple(&batch) }.context("push_multiple")?;
                }
                _ => {
                    for &u in &ud {
                        // SAFETY: as above.
                        unsafe { sq.push(&nop(u)) }.context("push")?;
                    }
                }
            }
            ensure!(sq.len() == size, "round {round}: len {} after pushing {size}", sq.len());
            if size == 8 {
                ensure!(sq.is_full(), "round {round}: a batch of 8 fills a ring of 8");
                // SAFETY: as above.
                ensure!(unsafe { sq.push(&nop(999)) }.is_err(), "a push past the full batch succeeded");
            }
        }
        let n = ring.submit_and_wait(size).with_context(|| format!("round {round}: submit_and_wait({size})"))?;
        ensure!(n == size, "round {round}: the kernel took {n} of {size}");
        ensure!(ring.submission().is_empty(), "round {round}: the batch is still pending after its submit");
        for c in reap(ring, size)? {
            ensure!(c.result() == Ok(0), "round {round}: NOP result {:?}", c.result());
            seen.push(c.user_data_u64());
        }
        next += size as u64;
        // Nothing was submitted twice: no completion arrives unasked.
        ensure!(ring.submit()? == 0, "round {round}: an empty submit took entries");
        ensure!(ring.completion().next().is_none(), "round {round}: a completion nobody submitted");
    }
    let want: Vec<u64> = (0..next).collect();
    ensure!(seen == want, "completions {seen:?}, expected {want:?}");
    Ok(())
}

/// `resize_rings` on an SQ_REWIND ring: refused with `EBUSY` while a
/// batch waits (the kernel would drop it), then, after the submit, the
/// resized ring (whose batch length starts over in a word of its own)
/// runs batches through every push form as before, with no entry lost
/// or submitted twice.
fn sq_rewind_ring_resizes(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = rewind_ring::<squeue::Entry, cqueue::Entry>(8, true)?;
    run_batches(&mut ring)?;
    // SAFETY: NOPs name no memory.
    unsafe { ring.submission().push(&nop(500)) }?;
    let r = ring.resize_rings(16, 0);
    ensure!(r == Err(Errno::BUSY), "resize with a pending batch: {r:?}");
    ensure!(ring.submit_and_wait(1)? == 1, "the pending NOP was not submitted");
    ensure!(reap(&mut ring, 1)?[0].user_data_u64() == 500, "the pending NOP's completion");
    ring.resize_rings(16, 0).context("resize_rings(16) of an SQ_REWIND ring")?;
    ensure!(ring.params().sq_entries() == 16, "{} SQ entries after the resize", ring.params().sq_entries());
    ensure!(ring.submission().is_empty(), "the resized ring starts with a batch");
    // Batches of 12 (push_with) and 16 (push, a full SQ), then 5.
    let mut next = 1000u64;
    for size in [12usize, 16, 5] {
        {
            let mut sq = ring.submission();
            if size == 12 {
                // SAFETY: as above.
                unsafe { sq.push_with(size, |i| nop(next + i as u64)) }.context("push_with after the resize")?;
            } else {
                for i in 0..size as u64 {
                    // SAFETY: as above.
                    unsafe { sq.push(&nop(next + i)) }.context("push after the resize")?;
                }
            }
            ensure!(sq.len() == size && (size < 16 || sq.is_full()), "len {} after pushing {size}", sq.len());
        }
        ensure!(ring.submit_and_wait(size)? == size, "batch of {size} not taken whole");
        let got: Vec<u64> = reap(&mut ring, size)?.iter().map(|c| c.user_data_u64()).collect();
        let want: Vec<u64> = (next..next + size as u64).collect();
        ensure!(got == want, "after the resize: {got:?}, expected {want:?}");
        ensure!(ring.completion().next().is_none(), "a completion nobody submitted");
        next += size as u64;
    }
    Ok(())
}

/// Reads of a file whose blocks hold known bytes, in batches of several
/// sizes, each read into its own buffer: the bytes read are the file's.
fn sq_rewind_reads_a_file(_: &Ctx) -> anyhow::Result<()> {
    const BLOCK: usize = 512;
    const BLOCKS: usize = 24;
    let mut ring = rewind_ring::<squeue::Entry, cqueue::Entry>(8, true)?;
    let mut file = tempfile()?;
    let data: Vec<u8> = (0..BLOCK * BLOCKS).map(|i| (i / BLOCK * 7 + i % 251) as u8).collect();
    file.write_all(&data)?;
    let fd = Fd(file.as_raw_fd());
    let mut bufs = vec![vec![0u8; BLOCK]; BLOCKS];
    // Blocks in an order unlike the file's, in batches of 5, 8, 3, 8.
    let order: Vec<usize> = (0..BLOCKS).map(|i| (i * 7 + 3) % BLOCKS).collect();
    let mut at = 0;
    for size in [5usize, 8, 3, 8] {
        let batch = &order[at..at + size];
        {
            let mut sq = ring.submission();
            for &b in batch {
                let read = opcode::Read::new(fd, bufs[b].as_mut_ptr(), BLOCK as u32)
                    .offset((b * BLOCK) as u64)
                    .build()
                    .user_data(b as u64);
                // SAFETY: each buffer is read into by one read, and neither
                // it nor the file is touched before its completion is reaped.
                unsafe { sq.push(&read) }.context("push read")?;
            }
        }
        ensure!(ring.submit_and_wait(size)? == size, "batch of {size} reads not all submitted");
        for c in reap(&mut ring, size)? {
            let b = c.user_data_u64() as usize;
            ensure!(batch.contains(&b), "completion for block {b}, not in this batch {batch:?}");
            ensure!(c.result() == Ok(BLOCK as u32), "read of block {b}: {:?}", c.result());
        }
        at += size;
    }
    for (b, buf) in bufs.iter().enumerate() {
        ensure!(buf[..] == data[b * BLOCK..(b + 1) * BLOCK], "block {b} read wrong bytes");
    }
    Ok(())
}

const SPLIT_SIZES: [usize; 6] = [3, 2, 4, 3, 1, 4];

/// With `split`, one SubmissionQueue view lives across submits: entries it
/// pushes after a submit (at slots past the old batch, as far as it knows)
/// must go to slot 0 when it syncs, and nothing is submitted twice.
fn sq_rewind_split_view_publishes_after_a_submit(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = rewind_ring::<squeue::Entry, cqueue::Entry>(8, false)?;
    let mut seen = Vec::new();
    {
        let (submitter, mut sq, mut cq) = ring.split();
        // After a sync the view's tail is the batch's end, and a submit
        // empties the batch: each round pushes at slots past the previous
        // round's entries (sizes chosen so that two rounds fit the SQ), and
        // its sync moves them to slot 0.
        for (round, size) in SPLIT_SIZES.into_iter().enumerate() {
            let round = round as u64;
            for i in 0..size as u64 {
                // SAFETY: NOPs name no memory.
                unsafe { sq.push(&nop(round * 100 + i)) }.with_context(|| format!("round {round}: push {i}"))?;
            }
            sq.sync();
            let n = submitter.submit_and_wait(size).with_context(|| format!("round {round}: submit_and_wait"))?;
            ensure!(n == size, "round {round}: submitted {n} of {size}");
            cq.sync();
            seen.extend(cq.by_ref().map(|c| c.user_data_u64()));
        }
        // The last entries pushed are published when the view syncs, not
        // before: a submit in between submits nothing.
        // SAFETY: as above.
        unsafe { sq.push(&nop(900)) }?;
        ensure!(submitter.submit()? == 0, "an unsynced push was submitted");
        sq.sync();
        ensure!(submitter.submit_and_wait(1)? == 1, "the synced push was not submitted");
        cq.sync();
        seen.extend(cq.by_ref().map(|c| c.user_data_u64()));
    }
    let mut want: Vec<u64> =
        SPLIT_SIZES.iter().enumerate().flat_map(|(r, &n)| (0..n as u64).map(move |i| r as u64 * 100 + i)).collect();
    want.push(900);
    ensure!(seen == want, "completions {seen:?}, expected {want:?}");
    Ok(())
}

/// The kernel stops a submission at an entry it refuses (here: an unknown
/// SQE flag, EINVAL), after consuming it. The entries behind it stay in
/// the batch, moved down to slot 0, and the waiting submit enters again
/// for them: every entry completes once.
fn sq_rewind_moves_what_the_kernel_left(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = rewind_ring::<squeue::Entry, cqueue::Entry>(8, false)?;
    let bad = Flags::from_bits_retain(0x80);
    for round in 0..3u64 {
        let base = round * 10;
        {
            let mut sq = ring.submission();
            for i in 0..6 {
                let mut e = opcode::Nop::new().build().user_data(base + i);
                if i == 2 {
                    e = e.flags(bad);
                }
                // SAFETY: NOPs name no memory.
                unsafe { sq.push(&e) }?;
            }
        }
        // Submit without waiting: the kernel stops after the bad entry.
        let n = ring.submit()?;
        ensure!(n == 3, "round {round}: the kernel took {n} entries, expected 3 (up to the refused one)");
        ensure!(ring.submission().len() == 3, "round {round}: {} left in the batch", ring.submission().len());
        // The rest, now from slot 0.
        ensure!(ring.submit_and_wait(6)? == 3, "round {round}: the rest of the batch");
        ensure!(ring.submission().is_empty(), "round {round}: batch not empty");
        let mut got: Vec<(u64, i32)> =
            reap(&mut ring, 6)?.iter().map(|c| (c.user_data_u64(), c.raw_result())).collect();
        got.sort_unstable();
        let want: Vec<(u64, i32)> =
            (0..6).map(|i| (base + i, if i == 2 { -(Errno::INVAL.raw_os_error()) } else { 0 })).collect();
        ensure!(got == want, "round {round}: completions {got:?}, expected {want:?}");
    }
    // The same through one submit_and_wait, which enters again by itself.
    {
        let mut sq = ring.submission();
        for i in 0..5 {
            let e = opcode::Nop::new().build().user_data(100 + i);
            let e = if i == 1 { e.flags(bad) } else { e };
            // SAFETY: as above.
            unsafe { sq.push(&e) }?;
        }
    }
    ensure!(ring.submit_and_wait(5)? == 5, "submit_and_wait over a refused entry");
    let mut got: Vec<u64> = reap(&mut ring, 5)?.iter().map(|c| c.user_data_u64()).collect();
    got.sort_unstable();
    ensure!(got == [100, 101, 102, 103, 104], "completions {got:?}");
    Ok(())
}

/// The kernel refuses SQ_REWIND with SQPOLL and without NO_SQARRAY
/// (EINVAL), urix without SINGLE_ISSUER (EINVAL, before the kernel sees
/// it); a kernel before 7.0 refuses the flag (skipped with the reason).
fn sq_rewind_refused_where_the_kernel_or_urix_says_so(_: &Ctx) -> anyhow::Result<()> {
    needs_kernel(7, 0, "IORING_SETUP_SQ_REWIND")?;
    let err = |r: urix::Result<IoUring>| r.err();
    let b = || {
        let mut b = IoUring::builder();
        b.setup_single_issuer().setup_sq_rewind();
        b
    };
    let e = err(b().build(8));
    ensure!(e == Some(Errno::INVAL), "SQ_REWIND without NO_SQARRAY: {e:?}, expected EINVAL");
    let e = err(b().setup_no_sqarray().setup_sqpoll(100).build(8));
    ensure!(e == Some(Errno::INVAL), "SQ_REWIND with SQPOLL: {e:?}, expected EINVAL");
    let e = err(IoUring::builder().setup_no_sqarray().setup_sq_rewind().build(8));
    ensure!(e == Some(Errno::INVAL), "SQ_REWIND without SINGLE_ISSUER: {e:?}, expected EINVAL");
    // And the same flags with what each lacked work.
    let ring = b().setup_no_sqarray().build(8).context("SINGLE_ISSUER + NO_SQARRAY + SQ_REWIND")?;
    ensure!(ring.params().is_setup_sq_rewind(), "not in force");
    Ok(())
}

/// SQ_REWIND on a ring entered only through its registered index:
/// batches of several sizes (the SQ filled once) are submitted by their
/// length, each NOP completes once, and nothing is submitted twice; then
/// a batch the kernel stops in (at an entry with an unknown flag) has its
/// rest moved down to slot 0 and submitted by the next call, and
/// `submit_and_wait` enters again by itself; `submit_with_args` submits a
/// batch and times out an empty wait. Without SINGLE_ISSUER urix
/// refuses the ring, as `build` does.
fn sq_rewind_on_a_registered_fd_only_ring(_: &Ctx) -> anyhow::Result<()> {
    needs_kernel(7, 0, "IORING_SETUP_SQ_REWIND")?;
    let mut b = IoUring::<squeue::Entry, cqueue::Entry>::builder();
    b.setup_no_sqarray().setup_sq_rewind();
    let e = b.build_registered_fd_only(8).err();
    ensure!(e == Some(Errno::INVAL), "SQ_REWIND without SINGLE_ISSUER: {e:?}, expected EINVAL");
    b.setup_single_issuer();
    let mut ring = b.build_registered_fd_only(8).context("REGISTERED_FD_ONLY + SQ_REWIND setup")?;
    ensure!(ring.params().is_setup_sq_rewind(), "SQ_REWIND not in force: {:#x}", ring.params().setup_flags());
    let mut next = 0u64;
    for (round, size) in [3usize, 8, 1, 5, 2].into_iter().enumerate() {
        {
            let mut sq = ring.submission();
            ensure!(sq.is_empty(), "round {round}: {} entries left from the last batch", sq.len());
            for i in 0..size as u64 {
                // SAFETY: NOPs name no memory.
                unsafe { sq.push(&nop(next + i)) }.context("push")?;
            }
        }
        let n = ring.submit_and_wait(size).with_context(|| format!("round {round}: submit_and_wait({size})"))?;
        ensure!(n == size, "round {round}: the kernel took {n} of {size}");
        ensure!(ring.submission().is_empty(), "round {round}: the batch is still pending after its submit");
        let got: Vec<(u64, i32)> = ring.completion().map(|c| (c.user_data_u64(), c.raw_result())).collect();
        let want: Vec<(u64, i32)> = (next..next + size as u64).map(|u| (u, 0)).collect();
        ensure!(got == want, "round {round}: completions {got:?}, expected {want:?}");
        ensure!(ring.submit()? == 0, "round {round}: an empty submit took entries");
        ensure!(ring.completion().next().is_none(), "round {round}: a completion nobody submitted");
        next += size as u64;
    }
    let bad = Flags::from_bits_retain(0x80);
    let push_six = |ring: &mut urix::ring::RegisteredRing, base: u64| -> anyhow::Result<()> {
        let mut sq = ring.submission();
        for i in 0..6 {
            let e: squeue::Entry = nop(base + i);
            let e = if i == 2 { e.flags(bad) } else { e };
            // SAFETY: as above.
            unsafe { sq.push(&e) }?;
        }
        Ok(())
    };
    let sorted = |ring: &mut urix::ring::RegisteredRing| {
        let mut got: Vec<(u64, i32)> = ring.completion().map(|c| (c.user_data_u64(), c.raw_result())).collect();
        got.sort_unstable();
        got
    };
    let want = |base: u64| -> Vec<(u64, i32)> {
        (0..6).map(|i| (base + i, if i == 2 { -(Errno::INVAL.raw_os_error()) } else { 0 })).collect()
    };
    push_six(&mut ring, 100)?;
    let n = ring.submit()?;
    ensure!(n == 3, "the kernel took {n} entries, expected 3 (up to the refused one)");
    ensure!(ring.submission().len() == 3, "{} left in the batch, expected 3", ring.submission().len());
    ensure!(ring.submit_and_wait(6)? == 3, "the rest of the batch, from slot 0");
    ensure!(ring.submission().is_empty(), "batch not empty after the rest was submitted");
    let got = sorted(&mut ring);
    ensure!(got == want(100), "completions {got:?}, expected {:?}", want(100));
    push_six(&mut ring, 200)?;
    ensure!(ring.submit_and_wait(6)? == 6, "submit_and_wait over a refused entry");
    let got = sorted(&mut ring);
    ensure!(got == want(200), "completions {got:?}, expected {:?}", want(200));
    // A wait with a timeout through the index: the batch goes first, and
    // with nothing left to complete the timeout ends the wait.
    {
        let mut sq = ring.submission();
        for i in 0..2 {
            // SAFETY: as above.
            unsafe { sq.push(&nop(300 + i)) }.context("push")?;
        }
    }
    let long = urix::types::Timespec::new().sec(60);
    let args = urix::types::SubmitArgs::new().timespec(&long);
    ensure!(ring.submitter().submit_with_args(2, &args)? == 2, "a batch of 2 with args");
    ensure!(ring.submission().is_empty(), "the batch is still pending after submit_with_args");
    let got = sorted(&mut ring);
    ensure!(got == [(300, 0), (301, 0)], "completions {got:?}, expected 300 and 301");
    let short = urix::types::Timespec::new().nsec(1_000_000);
    let r = ring.submitter().submit_with_args(1, &urix::types::SubmitArgs::new().timespec(&short));
    ensure!(r == Err(Errno::TIME), "an empty wait with a 1 ms timeout: {r:?}");
    ring.close().context("unregistering the ring")?;
    Ok(())
}

/// `IoUring::fast` on 7.0 and later includes SQ_REWIND (and runs NOPs);
/// before, it falls back to the rest of the preset.
fn fast_preset_has_sq_rewind(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = IoUring::fast(8).context("IoUring::fast")?;
    let has = crate::util::kernel_version() >= (7, 0);
    ensure!(
        ring.params().is_setup_sq_rewind() == has,
        "fast preset SQ_REWIND {} on this kernel",
        ring.params().is_setup_sq_rewind()
    );
    for round in 0..3u64 {
        // SAFETY: NOPs name no memory.
        unsafe { ring.submission().push_with(6, |i| nop(round * 10 + i as u64)) }?;
        ensure!(ring.submit_and_wait(6)? == 6, "round {round}");
        let got: Vec<u64> = ring.completion().map(|c| c.user_data_u64()).collect();
        let want: Vec<u64> = (0..6).map(|i| round * 10 + i).collect();
        ensure!(got == want, "round {round}: {got:?}");
    }
    let _ = ring.submitter().unregister_ring_fd();
    Ok(())
}
