//! Register calls that act on the ring itself or need none: query,
//! send-msg-ring, resize, memory regions and registered waits, and the BPF
//! filter op of 7.0 (zcrx has its own file, `zcrx.rs`).

use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use urix::register;
use urix::types::{io_uring_region_desc, Fd, MemRegionFlags, RegWait, Timespec, IORING_MEM_REGION_TYPE_USER};
use urix::{cqueue, opcode, squeue, Errno, IoUring};

use crate::harness::{reg, Ctx, Req, Test};
use crate::test_once;
use crate::util::{nop, pipe, push_all, reap, unless_inexpressible, Pages};

pub fn tests() -> Vec<Test> {
    vec![
        test_once!(query_answers_with_and_without_a_ring, requires = [reg::QUERY]),
        test_once!(
            send_msg_ring_posts_without_a_ring,
            requires = [reg::SEND_MSG_RING, Req::Op(opcode::MsgRingData::CODE, "MSG_RING")]
        ),
        test_once!(
            resize_keeps_queued_inflight_and_unreaped_work,
            requires = [reg::RESIZE_RINGS, Req::Op(opcode::Read::CODE, "READ")]
        ),
        test_once!(regression_resize_cqe32_ring_with_sq_array, requires = [reg::RESIZE_RINGS]),
        test_once!(wait_region_carries_the_timeout, requires = [reg::MEM_REGION]),
        test_once!(user_memory_wait_region, requires = [reg::MEM_REGION]),
        test_once!(regression_submit_with_reg_wait_after_failed_entry, requires = [reg::MEM_REGION]),
        test_once!(bpf_filter_rejects_a_null_descriptor, requires = [reg::BPF_FILTER]),
        test_once!(bpf_filter_denies_one_opcode_and_allows_the_rest, requires = [reg::BPF_FILTER]),
        test_once!(task_bpf_filter_is_inherited_by_a_forked_child, requires = [reg::BPF_FILTER]),
        test_once!(task_restrictions_hold_in_a_forked_child, requires = [reg::RESTRICTIONS, reg::BPF_FILTER]),
    ]
}

fn query_answers_with_and_without_a_ring(ctx: &Ctx) -> anyhow::Result<()> {
    let bare = unless_inexpressible(register::query_opcodes(), "query on fd -1")?;
    let ring = IoUring::new(4)?;
    let through_ring = ring.submitter().register_query_opcodes().context("query on the ring fd")?;
    ensure!(bare == through_ring, "the two forms disagree: {bare:?} vs {through_ring:?}");
    // Cross-check with what the probe and the ring parameters say.
    let probe_ops = u32::from(ctx.probe.last_op()) + 1;
    ensure!(bare.nr_request_opcodes == probe_ops, "query says {} SQE ops, probe {probe_ops}", bare.nr_request_opcodes);
    ensure!(bare.nr_register_opcodes >= 36, "6.18 has register ops 0..35, query says {}", bare.nr_register_opcodes);
    let features = u64::from(ring.params().features());
    ensure!(
        bare.feature_flags & features == features,
        "ring features {features:#x} not all in the query's {:#x}",
        bare.feature_flags
    );
    ensure!(bare.sqe_flags & 0x7f == 0x7f, "IOSQE flags 0..6 all exist: {:#x}", bare.sqe_flags);
    ensure!(bare.nr_query_opcodes >= 1);
    // The other two queries exist as ops only on newer kernels: each entry
    // carries its own result.
    for (name, r) in [("zcrx", register::query_zcrx().map(drop)), ("scq", register::query_scq().map(drop))] {
        match r {
            Ok(()) => ensure!(bare.nr_query_opcodes >= 2, "{name} answered though only 1 query op"),
            Err(Errno::OPNOTSUPP) => {}
            Err(e) => bail!("query {name}: {e}"),
        }
    }
    Ok(())
}

fn send_msg_ring_posts_without_a_ring(_: &Ctx) -> anyhow::Result<()> {
    let mut target = IoUring::new(4)?;
    let msg = opcode::MsgRingData::new(Fd(target.as_raw_fd()), 1234, 0xfeed.into(), None).build();
    unless_inexpressible(register::send_msg_ring(&msg), "send_msg_ring")?;
    // The completion is there at once, without anyone entering the target.
    let cqes: Vec<cqueue::Entry> = target.completion().collect();
    ensure!(cqes.len() == 1, "target has {} completions", cqes.len());
    ensure!(cqes[0].user_data_u64() == 0xfeed && cqes[0].raw_result() == 1234, "got {:?}", cqes[0]);
    // Only MSG_RING data entries are accepted.
    let err = register::send_msg_ring(&opcode::Nop::new().build()).expect_err("a NOP is not a message");
    ensure!(err == Errno::INVAL, "NOP: {err}");
    let fixed = opcode::MsgRingData::new(Fd(0), 1, 1.into(), None).build().flags(squeue::Flags::FIXED_FILE);
    ensure!(register::send_msg_ring(&fixed) == Err(Errno::INVAL), "a fixed target needs a ring");
    Ok(())
}

fn resize_keeps_queued_inflight_and_unreaped_work(_: &Ctx) -> anyhow::Result<()> {
    // Only DEFER_TASKRUN rings can be resized.
    let mut plain = IoUring::new(8)?;
    ensure!(plain.resize_rings(16, 0) == Err(Errno::INVAL), "resize of a plain ring");
    let mut ring: IoUring = IoUring::builder().setup_single_issuer().setup_defer_taskrun().setup_cqsize(16).build(8)?;
    let (rd, mut wr) = pipe()?;
    let mut bufs = [[0u8; 4]; 3];
    // In flight: three reads of an empty pipe.
    let reads: Vec<squeue::Entry> = bufs
        .iter_mut()
        .enumerate()
        .map(|(i, b)| opcode::Read::new(Fd(rd.as_raw_fd()), b.as_mut_ptr(), 4).build().user_data(100 + i as u64))
        .collect();
    push_all(&mut ring, &reads)?;
    // Completed but not reaped: four NOPs.
    push_all(&mut ring, &[nop(1), nop(2), nop(3), nop(4)])?;
    // Queued but not submitted: two NOPs.
    {
        let mut sq = ring.submission();
        for ud in [5, 6] {
            // SAFETY: NOPs name no memory.
            unsafe { sq.push(&nop(ud)) }.map_err(|_| anyhow::anyhow!("SQ full"))?;
        }
    }
    // The unreaped completions do not fit a CQ of 2.
    ensure!(ring.resize_rings(2, 2) == Err(Errno::OVERFLOW), "shrinking below the unreaped completions");
    ring.resize_rings(64, 256).context("resize to 64/256")?;
    ensure!(ring.params().sq_entries() == 64 && ring.params().cq_entries() == 256, "{:?}", ring.params());
    let sq_cap = ring.submission().capacity();
    let caps = (sq_cap, ring.completion().capacity());
    ensure!(caps == (64, 256), "queue capacities after resize: {caps:?}");
    ensure!(ring.submission().len() == 2, "queued entries kept: {}", ring.submission().len());
    // Now fill more than the old SQ held, then let the reads finish.
    let more: Vec<squeue::Entry> = (7..27).map(nop).collect();
    push_all(&mut ring, &more)?;
    wr.write_all(b"abcdefghijkl")?;
    let cqes = reap(&mut ring, 3 + 4 + 2 + 20)?;
    let mut seen: Vec<u64> = cqes.iter().map(|c| c.user_data_u64()).collect();
    seen.sort_unstable();
    let mut want: Vec<u64> = (1..27).chain(100..103).collect();
    want.sort_unstable();
    ensure!(seen == want, "completions after resize: {seen:?}");
    let mut got: Vec<u8> = Vec::new();
    for c in cqes.iter().filter(|c| c.user_data_u64() >= 100) {
        ensure!(c.result() == Ok(4), "read {}: {:?}", c.user_data_u64(), c.result());
        got.extend_from_slice(&bufs[(c.user_data_u64() - 100) as usize]);
    }
    // The reads may finish in any order, but together they saw every byte once.
    got.sort_unstable();
    ensure!(got == b"abcdefghijkl", "read bytes {got:?}");

    // Rings without an SQ index array and with 32-byte CQEs lay out
    // differently; queued work survives there too.
    let mut ring: IoUring<squeue::Entry, cqueue::Entry32> =
        IoUring::builder().setup_single_issuer().setup_defer_taskrun().setup_no_sqarray().build(4)?;
    push_all(&mut ring, &[nop(1), nop(2), nop(3)])?;
    ring.resize_rings(32, 0).context("resize a NO_SQARRAY/CQE32 ring")?;
    ensure!(ring.params().cq_entries() == 64, "CQ defaults to twice the SQ: {}", ring.params().cq_entries());
    let more: Vec<squeue::Entry> = (4..40).map(nop).collect();
    push_all(&mut ring, &more)?;
    let seen: Vec<u64> = reap(&mut ring, 39)?.iter().map(|c| c.user_data_u64()).collect();
    crate::util::check_each_once(40, seen.iter().copied().chain([0]))?;
    Ok(())
}

/// Issue 15, item 5: a CQE32 ring with an SQ index array could not be
/// resized (`EOPNOTSUPP`: the crate's layout rule put the array 64 bytes
/// short of where the kernel had it). Queued, unreaped and later work
/// survive a grow and a shrink.
fn regression_resize_cqe32_ring_with_sq_array(_: &Ctx) -> anyhow::Result<()> {
    let mut ring: IoUring<squeue::Entry, cqueue::Entry32> =
        IoUring::builder().setup_single_issuer().setup_defer_taskrun().build(4)?;
    ensure!(!ring.params().is_setup_no_sqarray(), "the ring has an SQ index array");
    // Completed, not reaped: two NOPs; queued, not submitted: two more.
    push_all(&mut ring, &[nop(1), nop(2)])?;
    {
        let mut sq = ring.submission();
        for ud in [3, 4] {
            // SAFETY: NOPs name no memory.
            unsafe { sq.push(&nop(ud)) }.map_err(|_| anyhow::anyhow!("SQ full"))?;
        }
    }
    ring.resize_rings(16, 0).context("grow a CQE32 ring with an SQ array")?;
    ensure!((ring.params().sq_entries(), ring.params().cq_entries()) == (16, 32), "{:?}", ring.params());
    ensure!(ring.submission().len() == 2, "queued entries kept: {}", ring.submission().len());
    let more: Vec<squeue::Entry> = (5..17).map(nop).collect();
    push_all(&mut ring, &more)?;
    let first: Vec<u64> = reap(&mut ring, 16)?.iter().map(|c| c.user_data_u64()).collect();
    crate::util::check_each_once(17, first.iter().copied().chain([0]))?;
    // Shrink, with work queued again, then run more than fits at once.
    {
        let mut sq = ring.submission();
        // SAFETY: NOPs name no memory.
        unsafe { sq.push(&nop(17)) }.map_err(|_| anyhow::anyhow!("SQ full"))?;
    }
    ring.resize_rings(2, 4).context("shrink a CQE32 ring with an SQ array")?;
    ensure!(ring.submission().len() == 1, "queued entry kept: {}", ring.submission().len());
    let more: Vec<squeue::Entry> = (18..30).map(nop).collect();
    let mut seen = Vec::new();
    for chunk in std::iter::once(&[][..]).chain(more.chunks(2)) {
        push_all(&mut ring, chunk)?;
        let n = if chunk.is_empty() { 1 } else { chunk.len() };
        seen.extend(reap(&mut ring, n)?.iter().map(|c| c.user_data_u64()));
    }
    seen.sort_unstable();
    ensure!(seen == (17..30).collect::<Vec<u64>>(), "after the shrink: {seen:?}");
    Ok(())
}

/// A ring that starts disabled, so a wait region can be registered.
fn disabled_ring() -> anyhow::Result<IoUring> {
    Ok(IoUring::builder().setup_r_disabled().build(8)?)
}

/// Checks that a wait with entry `index` times out after about `ms`, and
/// that a wait with entry `ready` (whose timeout is far longer) returns at
/// once when a completion is ready. Only lower bounds and wide upper ones:
/// a short upper bound would race a loaded or emulated machine.
fn check_reg_wait(ring: &mut IoUring, index: u32, ms: u64, ready: u32) -> anyhow::Result<()> {
    let start = Instant::now();
    let r = ring.submitter().submit_with_reg_wait(1, index);
    if r == Err(Errno::NOSYS) {
        unless_inexpressible(r, "submit_with_reg_wait")?;
    }
    let took = start.elapsed();
    ensure!(r == Err(Errno::TIME), "empty wait with a {ms} ms timeout: {r:?}");
    ensure!(
        took >= Duration::from_millis(ms * 3 / 4) && took < Duration::from_secs(30),
        "timed out after {took:?}, wanted {ms} ms"
    );
    push_all(ring, &[nop(9)])?;
    let start = Instant::now();
    ring.submitter().submit_with_reg_wait(1, ready).context("wait with a completion ready")?;
    ensure!(start.elapsed() < Duration::from_secs(30), "a ready completion still waited {:?}", start.elapsed());
    let c = ring.completion().next().context("no completion")?;
    ensure!(c.user_data_u64() == 9);
    Ok(())
}

fn wait_region_carries_the_timeout(_: &Ctx) -> anyhow::Result<()> {
    // An enabled ring refuses a wait region.
    let live = IoUring::new(4)?;
    let e = live.submitter().register_wait_region(4).expect_err("enabled ring");
    ensure!(e == Errno::INVAL, "enabled ring: {e}");

    let mut ring = disabled_ring()?;
    let mut region = ring.submitter().register_wait_region(4).context("register_wait_region")?;
    // One page of 64-byte entries: 64 of them with 4 KiB pages, 256 with 16 KiB.
    let per_page = u32::try_from(crate::util::page_size() / 64)?;
    ensure!(region.len() == per_page, "a page holds {per_page} entries, got {}", region.len());
    // One region per ring.
    ensure!(ring.submitter().register_wait_region(4).map(drop) == Err(Errno::BUSY), "second region");
    ring.submitter().register_enable_rings()?;
    region.set(0, RegWait::new().timeout(Timespec::new().nsec(200_000_000)))?;
    region.set(3, RegWait::new().timeout(Timespec::new().nsec(30_000_000)))?;
    region.set(5, RegWait::new().timeout(Timespec::new().sec(60)))?;
    ensure!(region.set(per_page, RegWait::new()) == Err(Errno::INVAL), "index past the region");
    ensure!(region.get(3) == Some(RegWait::new().timeout(Timespec::new().nsec(30_000_000))));
    // Each index carries its own timeout.
    check_reg_wait(&mut ring, 3, 30, 5)?;
    check_reg_wait(&mut ring, 0, 200, 5)?;
    // Past the end of the region the kernel refuses.
    let r = ring.submitter().submit_with_reg_wait(1, per_page);
    ensure!(r == Err(Errno::FAULT), "index past the region: {r:?}");
    // A ring without a region: the kernel (6.13 on, which this test
    // requires) bounds-checks the index against a region of size 0.
    let r = live.submitter().submit_with_reg_wait(1, 0);
    ensure!(r == Err(Errno::FAULT), "ring without a region: {r:?}");
    Ok(())
}

fn user_memory_wait_region(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = disabled_ring()?;
    // The kernel wants whole pages of user memory.
    let page = crate::util::page_size();
    let mut mem = Pages::new(page)?;
    let mut desc = io_uring_region_desc {
        user_addr: mem.ptr as u64,
        size: page as u64,
        flags: IORING_MEM_REGION_TYPE_USER,
        ..Default::default()
    };
    // SAFETY: `mem` stays mapped until after the ring is dropped (the
    // explicit `drop(ring)` below comes first).
    unsafe { ring.submitter().register_mem_region(&mut desc, MemRegionFlags::REG_WAIT_ARG) }
        .context("register_mem_region (user memory)")?;
    ring.submitter().register_enable_rings()?;
    let wait = RegWait::new().timeout(Timespec::new().nsec(40_000_000));
    // SAFETY: entry 2 lies inside the page; the kernel reads it only
    // during waits on this thread.
    unsafe { mem.ptr.cast::<RegWait>().add(2).write(wait) };
    // SAFETY: as above, entry 4.
    unsafe { mem.ptr.cast::<RegWait>().add(4).write(RegWait::new().timeout(Timespec::new().sec(60))) };
    check_reg_wait(&mut ring, 2, 40, 4)?;
    drop(ring);
    let _ = mem.bytes();
    Ok(())
}

fn bpf_filter_rejects_a_null_descriptor(_: &Ctx) -> anyhow::Result<()> {
    let ring = IoUring::new(4)?;
    // SAFETY: a null descriptor: the kernel reads nothing and refuses.
    let r = unsafe { ring.submitter().register_bpf_filter(std::ptr::null(), 1) };
    ensure!(matches!(r, Err(Errno::FAULT | Errno::INVAL)), "null BPF filter: {r:?}");
    Ok(())
}

/// Issue 15 item 3b for `submit_with_reg_wait`: an entry the kernel
/// refuses at submission (a personality nobody registered) ahead of a good
/// NOP; waiting for 2 must see both completions, not return after the
/// kernel stopped at the first. The region entry carries a 10 s timeout,
/// so a wait that never ends fails instead of hanging.
fn regression_submit_with_reg_wait_after_failed_entry(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = disabled_ring()?;
    let mut region = ring.submitter().register_wait_region(1).context("register_wait_region")?;
    ring.submitter().register_enable_rings()?;
    region.set(0, RegWait::new().timeout(Timespec::new().sec(10)))?;
    let bad = opcode::Nop::new().build().user_data(1).personality(u16::MAX);
    // SAFETY: NOPs name no memory.
    unsafe { ring.submission().push_multiple(&[bad, nop(2)]) }.context("push")?;
    let r = ring.submitter().submit_with_reg_wait(2, 0);
    if r == Err(Errno::NOSYS) {
        unless_inexpressible(r, "submit_with_reg_wait")?;
    }
    let n = r.context("submit_with_reg_wait(2)")?;
    let got: Vec<cqueue::Entry> = ring.completion().collect();
    ensure!(got.len() == 2, "submit_with_reg_wait(2) returned Ok({n}) with {} completion(s): {got:?}", got.len());
    ensure!(n == 2, "submit_with_reg_wait(2) returned Ok({n}); both entries were consumed");
    ensure!(got[0].user_data_u64() == 1 && got[0].result() == Err(Errno::INVAL), "first {:?}", got[0]);
    ensure!(got[1].user_data_u64() == 2 && got[1].result() == Ok(0), "second {:?}", got[1]);
    Ok(())
}

/// Index of the low 32 bits of `user_data` in the BPF context.
const USER_DATA_LOW: u32 = urix::types::bpf_ctx::USER_DATA + if cfg!(target_endian = "little") { 0 } else { 4 };

/// The result of one entry on `ring` (submit and wait).
fn run_one(ring: &mut IoUring, e: squeue::Entry) -> Result<u32, Errno> {
    // SAFETY: the callers' entries name memory that outlives the wait.
    unsafe { ring.submission().push(&e) }.map_err(|_| Errno::AGAIN)?;
    ring.submit_and_wait(1)?;
    let c = ring.completion().next().ok_or(Errno::AGAIN)?;
    c.result()
}

fn bpf_filter_denies_one_opcode_and_allows_the_rest(_: &Ctx) -> anyhow::Result<()> {
    use urix::types::{BpfFilter, BpfFilterFlags, BpfInsn};
    crate::util::needs_kernel(7, 0, "IORING_REGISTER_BPF_FILTER")?;
    // NOPs whose user_data is 666 are denied; the program reads the context.
    let prog = [BpfInsn::load_word(USER_DATA_LOW), BpfInsn::jump_eq(666, 0, 1), BpfInsn::ret(0), BpfInsn::ret(1)];
    let mut ring = IoUring::new(8)?;
    ring.submitter().register_bpf(&mut BpfFilter::new(opcode::Nop::CODE, &prog)).context("register_bpf")?;
    let r = run_one(&mut ring, opcode::Nop::new().build().user_data(666));
    ensure!(r == Err(Errno::ACCESS), "NOP the filter denies: {r:?}");
    let r = run_one(&mut ring, opcode::Nop::new().build().user_data(7));
    ensure!(r == Ok(0), "NOP the filter allows: {r:?}");
    // Another opcode has no filter: it runs (a read of what is in a pipe).
    let (rx, mut tx) = pipe()?;
    tx.write_all(b"bpf")?;
    let mut buf = [0u8; 8];
    let r = run_one(&mut ring, opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 8).build());
    ensure!(r == Ok(3) && &buf[..3] == b"bpf", "unfiltered READ: {r:?}");

    // DENY_REST: an allow-all filter on NOP, every other opcode denied.
    let allow = [BpfInsn::ret(1)];
    let mut strict = IoUring::new(8)?;
    let mut f = BpfFilter::new(opcode::Nop::CODE, &allow).flags(BpfFilterFlags::DENY_REST);
    strict.submitter().register_bpf(&mut f).context("register_bpf DENY_REST")?;
    ensure!(run_one(&mut strict, opcode::Nop::new().build()) == Ok(0), "NOP with DENY_REST");
    tx.write_all(b"x")?;
    let r = run_one(&mut strict, opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 8).build());
    ensure!(r == Err(Errno::ACCESS), "READ under DENY_REST: {r:?}");
    // The byte is still in the pipe: the denied read never ran.
    let r = run_one(&mut ring, opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 8).build());
    ensure!(r == Ok(1) && buf[0] == b'x', "the byte the denied read left: {r:?}");
    Ok(())
}

/// Runs `child` in a forked process and returns its exit code (`child`
/// must not allocate: the harness has other threads).
fn in_child(child: fn() -> i32) -> anyhow::Result<i32> {
    // SAFETY: the child only makes system calls (through urix, which does
    // not allocate) and leaves with _exit.
    let pid = unsafe { libc::fork() };
    ensure!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = child();
        // SAFETY: ends the forked child without running the parent's
        // destructors or atexit handlers.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    ensure!(unsafe { libc::waitpid(pid, &mut status, 0) } == pid, "waitpid");
    ensure!(libc::WIFEXITED(status), "child ended by signal, status {status:#x}");
    Ok(libc::WEXITSTATUS(status))
}

/// A NOP's result on a fresh ring: 0 if it ran, 1 if denied with EACCES,
/// 2 for anything else.
fn nop_on_new_ring() -> i32 {
    let Ok(mut ring) = IoUring::new(4) else { return 2 };
    match run_one(&mut ring, opcode::Nop::new().build()) {
        Ok(0) => 0,
        Err(Errno::ACCESS) => 1,
        _ => 2,
    }
}

/// A write of one byte to a fresh pipe through a fresh ring: 0 if it ran
/// (the byte is read back), 1 if denied, 2 otherwise.
fn write_on_new_ring() -> i32 {
    let Ok(mut ring) = IoUring::new(4) else { return 2 };
    let mut fds = [0; 2];
    // SAFETY: room for two fds.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return 2;
    }
    let r = run_one(&mut ring, opcode::Write::new(Fd(fds[1]), b"w".as_ptr(), 1).build());
    let mut b = [0u8; 1];
    match r {
        // SAFETY: reads one byte into `b`.
        Ok(1) if unsafe { libc::read(fds[0], b.as_mut_ptr().cast(), 1) } == 1 && b[0] == b'w' => 0,
        Err(Errno::ACCESS) => 1,
        _ => 2,
    }
}

/// Forks a grandchild that runs `f`; its exit code, or 9.
fn in_grandchild(f: fn() -> i32) -> i32 {
    // SAFETY: as in `in_child`.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: as in `in_child`.
        unsafe { libc::_exit(f()) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    if pid < 0 || unsafe { libc::waitpid(pid, &mut status, 0) } != pid || !libc::WIFEXITED(status) {
        return 9;
    }
    libc::WEXITSTATUS(status)
}

fn task_bpf_filter_is_inherited_by_a_forked_child(_: &Ctx) -> anyhow::Result<()> {
    crate::util::needs_kernel(7, 0, "task-wide IORING_REGISTER_BPF_FILTER")?;
    // A task-wide filter cannot be removed: install it in a child.
    fn child() -> i32 {
        use urix::types::{BpfFilter, BpfInsn};
        let deny = [BpfInsn::ret(0)];
        if register::register_task_bpf(&mut BpfFilter::new(opcode::Nop::CODE, &deny)).is_err() {
            return 10;
        }
        // Denied in this task's new rings, other ops still run ...
        match (nop_on_new_ring(), write_on_new_ring()) {
            (1, 0) => {}
            (n, w) => return 20 + n * 3 + w,
        }
        // ... and in a child it forks.
        match in_grandchild(|| nop_on_new_ring() * 3 + write_on_new_ring()) {
            3 => 0,
            g => 40 + g,
        }
    }
    let code = in_child(child)?;
    let what = match code {
        0 => "",
        10 => "register_task_bpf failed",
        20..=28 => "in the task: NOP/WRITE results (want denied/ran)",
        _ => "in the forked grandchild: NOP/WRITE results (want denied/ran)",
    };
    ensure!(code == 0, "child exit {code}: {what} (codes: 0 ran, 1 EACCES, 2 other)");
    // This process has no filter.
    ensure!(nop_on_new_ring() == 0, "the parent's NOP was filtered");
    Ok(())
}

fn task_restrictions_hold_in_a_forked_child(_: &Ctx) -> anyhow::Result<()> {
    crate::util::needs_kernel(7, 0, "task-wide IORING_REGISTER_RESTRICTIONS")?;
    fn child() -> i32 {
        use urix::register::{register_task_restrictions, Restriction, TaskRestrictions};
        let only_nop = TaskRestrictions::new([Restriction::sqe_op(opcode::Nop::CODE)]);
        if let Err(e) = register_task_restrictions(&only_nop) {
            return 100 + e.raw_os_error().min(100);
        }
        match (nop_on_new_ring(), write_on_new_ring()) {
            (0, 1) => {}
            (n, w) => return 20 + n * 3 + w,
        }
        match in_grandchild(|| nop_on_new_ring() * 3 + write_on_new_ring()) {
            1 => 0,
            g => 40 + g,
        }
    }
    let code = in_child(child)?;
    let what = match code {
        0 => String::new(),
        100.. => format!("register_task_restrictions failed with errno {}", code - 100),
        20..=28 => "in the task: NOP/WRITE results (want ran/denied)".into(),
        _ => "in the forked grandchild: NOP/WRITE results (want ran/denied)".into(),
    };
    ensure!(code == 0, "child exit {code}: {what} (codes: 0 ran, 1 EACCES, 2 other)");
    ensure!(write_on_new_ring() == 0, "the parent's WRITE was restricted");
    Ok(())
}
