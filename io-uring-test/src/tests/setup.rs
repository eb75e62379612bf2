//! Ring setup: every flag, bad input, and "can io_uring be used here?".

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use urix::ring::Unavailable;
use urix::{cqueue, squeue, Errno, IoUring};

use crate::harness::{setup, Ctx, Test};
use crate::util::{check_each_once, needs_kernel, nop, push_all, reap, PATIENCE};
use crate::{skip, test, test_once};

pub fn tests() -> Vec<Test> {
    vec![
        test!(setup_rejects_bad_input, requires = [setup::CLAMP]),
        test!(
            setup_flags_are_in_force,
            requires = [
                setup::CQSIZE,
                setup::SUBMIT_ALL,
                setup::COOP_TASKRUN,
                setup::TASKRUN_FLAG,
                setup::SINGLE_ISSUER,
                setup::R_DISABLED
            ]
        ),
        test!(no_sqarray_ring_runs_batches, requires = [setup::NO_SQARRAY]),
        test!(no_mmap_with_caller_memory, requires = [setup::NO_MMAP]),
        test!(regression_no_mmap_memory_serves_one_ring),
        test_once!(regression_no_mmap_sizes_cover_the_kernel_layout),
        test!(iopoll_ring_completes_nop, requires = [setup::IOPOLL, setup::HYBRID_IOPOLL]),
        test!(attach_wq_shares_workers, requires = [setup::ATTACH_WQ]),
        test_once!(sq_aff_pins_the_sqpoll_thread, requires = [setup::SQ_AFF, setup::SQPOLL]),
        test!(dontfork_ring_runs),
        test_once!(unavailable_when_disabled_by_sysctl),
        test_once!(unavailable_under_seccomp_enosys),
    ]
}

/// Runs `n` NOPs through `ring` and checks every completion.
fn run_nops<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ring: &mut IoUring<S, C>, n: usize) -> anyhow::Result<()> {
    let entries: Vec<S> = (0..n as u64).map(nop).collect();
    let mut seen = Vec::new();
    for chunk in entries.chunks(ring.params().sq_entries() as usize) {
        push_all(ring, chunk)?;
        let got = reap(ring, chunk.len())?;
        for c in &got {
            ensure!(c.result() == Ok(0), "NOP result {:?}", c.result());
        }
        seen.extend(got.iter().map(|c| c.user_data_u64()));
    }
    check_each_once(n, seen)
}

fn expect_err<T>(what: &str, r: urix::Result<T>, want: Errno) -> anyhow::Result<()> {
    match r {
        Ok(_) => bail!("{what}: setup succeeded, expected {want:?}"),
        Err(e) => ensure!(e == want, "{what}: got {e:?}, expected {want:?}"),
    }
    Ok(())
}

fn setup_rejects_bad_input<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    expect_err("0 entries", ctx.builder::<S, C>().build(0), Errno::INVAL)?;
    expect_err("u32::MAX entries", ctx.builder::<S, C>().build(u32::MAX), Errno::INVAL)?;
    expect_err("CQSIZE 4 < SQ 8", ctx.builder::<S, C>().setup_cqsize(4).build(8), Errno::INVAL)?;
    expect_err(
        "DEFER_TASKRUN without SINGLE_ISSUER",
        IoUring::<S, C>::builder().setup_defer_taskrun().build(8),
        Errno::INVAL,
    )?;
    expect_err("TASKRUN_FLAG alone", IoUring::<S, C>::builder().setup_taskrun_flag().build(8), Errno::INVAL)?;
    expect_err("SQ_AFF without SQPOLL", IoUring::<S, C>::builder().setup_sqpoll_cpu(0).build(8), Errno::INVAL)?;
    expect_err(
        "HYBRID_IOPOLL without IOPOLL",
        IoUring::<S, C>::builder().setup_hybrid_iopoll().build(8),
        Errno::INVAL,
    )?;
    // CLAMP turns the oversized request into the maximum instead.
    // The clamped ring is large (32768 SQEs, up to 4 MiB of them with
    // SQE128); the kernel wants its memory in one piece and says ENOMEM
    // when it has none at that moment (seen with QEMU VMs and compilers
    // running beside the harness), so ENOMEM is retried for a while.
    let deadline = Instant::now() + PATIENCE;
    let ring = loop {
        match ctx.builder::<S, C>().setup_clamp().build(u32::MAX) {
            Err(Errno::NOMEM) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            r => break r.context("CLAMP with u32::MAX entries")?,
        }
    };
    ensure!(ring.params().sq_entries() == 32768, "clamped to {}", ring.params().sq_entries());
    Ok(())
}

fn setup_flags_are_in_force<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut b = ctx.builder::<S, C>();
    b.setup_cqsize(64).setup_submit_all();
    // 6.18 refuses COOP_TASKRUN (and so TASKRUN_FLAG) together with SQPOLL.
    if !ctx.flavour.defer_taskrun && !ctx.flavour.sqpoll {
        b.setup_coop_taskrun();
    }
    if !ctx.flavour.sqpoll {
        b.setup_taskrun_flag();
    }
    let mut ring = b.build(8).context("CQSIZE + SUBMIT_ALL + TASKRUN_FLAG")?;
    let p = ring.params();
    ensure!(p.sq_entries() == 8 && p.cq_entries() == 64, "sizes {} / {}", p.sq_entries(), p.cq_entries());
    ensure!(p.setup_flags() & (1 << 7) != 0, "SUBMIT_ALL not in force: {:#x}", p.setup_flags());
    ensure!(ring.submission().capacity() == 8 && ring.completion().capacity() == 64, "queue capacities");
    ensure!(!ring.submission().taskrun(), "TASKRUN set on an idle ring");
    run_nops(&mut ring, 40)?;
    if !ctx.flavour.sqpoll && !ctx.flavour.defer_taskrun {
        let ring = IoUring::<S, C>::builder().setup_single_issuer().build(8).context("SINGLE_ISSUER")?;
        ensure!(ring.params().is_setup_single_issuer(), "SINGLE_ISSUER not reported");
        let ring = IoUring::<S, C>::builder().setup_r_disabled().build(8).context("R_DISABLED")?;
        // SAFETY: NOPs name no memory.
        unsafe { IoUring::submission_shared(&ring).push(&nop(1)) }?;
        ensure!(ring.submit() == Err(Errno::BADFD), "a disabled ring accepted a submit");
    }
    Ok(())
}

fn no_sqarray_ring_runs_batches<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 6, "IORING_SETUP_NO_SQARRAY")?;
    let mut ring = ctx.builder::<S, C>().setup_no_sqarray().build(8).context("NO_SQARRAY setup")?;
    ensure!(ring.params().is_setup_no_sqarray(), "NO_SQARRAY not in force");
    // If the (absent) index array were filled at its offset 0, the ring
    // head and tail words would be overwritten and phantom SQEs appear.
    ensure!(ring.submission().is_empty(), "fresh NO_SQARRAY ring has queued entries");
    run_nops(&mut ring, 3 * 8 + 5)?;
    ensure!(ring.completion().next().is_none(), "phantom completion");
    Ok(())
}

/// Page-aligned anonymous memory, unmapped on drop.
struct AnonMap {
    ptr: *mut u8,
    len: usize,
}

impl AnonMap {
    fn new(len: usize) -> anyhow::Result<AnonMap> {
        // SAFETY: a fresh private anonymous mapping; checked for failure.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        ensure!(ptr != libc::MAP_FAILED, "mmap {len}: {}", std::io::Error::last_os_error());
        Ok(AnonMap { ptr: ptr.cast(), len })
    }
}

impl Drop for AnonMap {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer used (the ring dropped first).
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

fn no_mmap_with_caller_memory<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 5, "IORING_SETUP_NO_MMAP")?;
    let (rings_len, sqes_len) = ctx.builder::<S, C>().no_mmap_sizes(16);
    let rings = AnonMap::new(rings_len)?;
    let sqes = AnonMap::new(sqes_len)?;
    let mut b = ctx.builder::<S, C>();
    // Too small: refused before the kernel could write past it.
    // SAFETY: the regions outlive every ring built here (dropped last).
    unsafe { b.setup_no_mmap(rings.ptr, rings_len - 1, sqes.ptr, sqes_len) };
    expect_err("NO_MMAP with a short region", b.build(16), Errno::INVAL)?;
    let mut b = ctx.builder::<S, C>();
    // SAFETY: as above.
    unsafe { b.setup_no_mmap(rings.ptr, rings_len, sqes.ptr, sqes_len) };
    let mut ring = match b.build(16) {
        Ok(r) => r,
        Err(e) => bail!("NO_MMAP setup with {rings_len} + {sqes_len} bytes: {e}"),
    };
    ensure!(ring.params().is_setup_no_mmap(), "NO_MMAP not in force");
    run_nops(&mut ring, 50)?;
    drop(ring);
    Ok(())
}

/// Issue 15, item 2: `build` takes `&self` and `Builder` is `Clone`, so
/// one `setup_no_mmap` could set up two kernel rings over the same memory
/// (an entry pushed once to one ran twice). The second `build`, and a
/// clone's, are refused; the first ring is unharmed; new memory re-arms.
fn regression_no_mmap_memory_serves_one_ring<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    needs_kernel(6, 5, "IORING_SETUP_NO_MMAP")?;
    let (rings_len, sqes_len) = ctx.builder::<S, C>().no_mmap_sizes(16);
    let (rings, sqes) = (AnonMap::new(rings_len)?, AnonMap::new(sqes_len)?);
    let (rings2, sqes2) = (AnonMap::new(rings_len)?, AnonMap::new(sqes_len)?);
    let mut b = ctx.builder::<S, C>();
    // SAFETY: the regions outlive every ring built here (dropped last).
    unsafe { b.setup_no_mmap(rings.ptr, rings_len, sqes.ptr, sqes_len) };
    let early_clone = b.clone();
    let mut ring = b.build(16).context("the first build")?;
    expect_err("a second build over the same memory", b.build(16), Errno::BUSY)?;
    expect_err("a build of a clone made before", early_clone.build(16), Errno::BUSY)?;
    expect_err("a build of a clone made after", b.clone().build(16), Errno::BUSY)?;
    // The first ring is the memory's only ring: each entry runs once.
    run_nops(&mut ring, 100)?;
    // New memory: one more ring.
    // SAFETY: as above.
    unsafe { b.setup_no_mmap(rings2.ptr, rings_len, sqes2.ptr, sqes_len) };
    let mut second = b.build(16).context("a build with new memory")?;
    expect_err("a build over the new memory again", b.build(16), Errno::BUSY)?;
    run_nops(&mut second, 50)?;
    run_nops(&mut ring, 50)?;
    drop((ring, second));
    Ok(())
}

/// `struct io_uring_params` as the kernel fills it, for reading the
/// offsets the crate keeps to itself.
#[repr(C)]
#[derive(Default)]
struct RawParams {
    sq_entries: u32,
    cq_entries: u32,
    flags: u32,
    rest: [u32; 7],
    /// head, tail, ring_mask, ring_entries, flags, dropped, array, resv1, user_addr (2 words).
    sq_off: [u32; 10],
    /// head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1, user_addr (2 words).
    cq_off: [u32; 10],
}

/// (SQ index array offset, CQE offset) of a ring the kernel sets up with
/// `flags` (plus CQSIZE) for `sq` / `cq` entries.
fn kernel_offsets(sq: u32, cq: u32, flags: u32) -> anyhow::Result<(u32, u32)> {
    const SETUP_CQSIZE: u32 = 1 << 3;
    let mut p = RawParams { cq_entries: cq, flags: flags | SETUP_CQSIZE, ..Default::default() };
    // SAFETY: io_uring_setup reads and writes the 120-byte params struct.
    let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, sq, &mut p as *mut RawParams) };
    ensure!(fd >= 0, "io_uring_setup({sq}, {cq}, {flags:#x}): {}", std::io::Error::last_os_error());
    // SAFETY: the fd was just created and is ours.
    unsafe { libc::close(fd as i32) };
    ensure!((p.sq_entries, p.cq_entries) == (sq, cq), "sizes {} {}", p.sq_entries, p.cq_entries);
    Ok((p.sq_off[6], p.cq_off[5]))
}

/// Issue 15, item 5: the kernel doubles the whole header + CQE block of a
/// CQE32 ring, so its SQ index array lies further out than "header, then
/// 32-byte CQEs" says. Checks that rule against the kernel's own offsets
/// (the rule `resize_rings` and `no_mmap_sizes` now use; their unit tests
/// pin the numbers), and that `no_mmap_sizes` covers every byte the
/// kernel uses.
fn regression_no_mmap_sizes_cover_the_kernel_layout(_: &Ctx) -> anyhow::Result<()> {
    needs_kernel(5, 19, "IORING_SETUP_CQE32")?;
    const SETUP_CQE32: u32 = 1 << 11;
    const SETUP_NO_SQARRAY: u32 = 1 << 16;
    let no_sqarray = crate::util::kernel_version() >= (6, 6);
    for (sq, cq) in [(1, 2), (2, 4), (8, 16), (16, 16), (64, 1024), (4096, 8192), (32, 65536)] {
        for cqe32 in [false, true] {
            for no_array in [false, true] {
                if no_array && !no_sqarray {
                    continue;
                }
                let flags = if cqe32 { SETUP_CQE32 } else { 0 } | if no_array { SETUP_NO_SQARRAY } else { 0 };
                let (array, cqes) = kernel_offsets(sq, cq, flags)?;
                let block = (u64::from(cqes) + u64::from(cq) * 16) * if cqe32 { 2 } else { 1 };
                let end = if no_array {
                    block
                } else {
                    let want = block.next_multiple_of(64);
                    ensure!(
                        u64::from(array) == want,
                        "{sq}/{cq} cqe32 {cqe32}: the kernel's SQ array at {array}, the rule says {want}"
                    );
                    u64::from(array) + u64::from(sq) * 4
                };
                let rings = if cqe32 {
                    let mut b = IoUring::<squeue::Entry, cqueue::Entry32>::builder();
                    b.setup_cqsize(cq);
                    if no_array {
                        b.setup_no_sqarray();
                    }
                    b.no_mmap_sizes(sq).0
                } else {
                    let mut b = IoUring::<squeue::Entry, cqueue::Entry>::builder();
                    b.setup_cqsize(cq);
                    if no_array {
                        b.setup_no_sqarray();
                    }
                    b.no_mmap_sizes(sq).0
                };
                ensure!(
                    end <= rings as u64,
                    "{sq}/{cq} flags {flags:#x}: the kernel uses {end} bytes, no_mmap_sizes {rings}"
                );
            }
        }
    }
    Ok(())
}

fn iopoll_ring_completes_nop<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = match ctx.builder::<S, C>().setup_iopoll().build(8) {
        Ok(r) => r,
        Err(e) => skip!("IOPOLL with this flavour: {e}"),
    };
    ensure!(ring.params().is_setup_iopoll(), "IOPOLL not in force");
    // On an IOPOLL ring completions are only reaped by polling inside
    // io_uring_enter(GETEVENTS); submit() must therefore always poll.
    run_nops(&mut ring, 20)?;
    needs_kernel(6, 13, "IORING_SETUP_HYBRID_IOPOLL")?;
    let mut hybrid = ctx.builder::<S, C>();
    hybrid.setup_iopoll().setup_hybrid_iopoll();
    let mut ring = hybrid.build(8).context("HYBRID_IOPOLL")?;
    run_nops(&mut ring, 20)
}

fn attach_wq_shares_workers<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    use std::os::fd::AsRawFd;
    let first = ctx.ring::<S, C>(8)?;
    let mut b = ctx.builder::<S, C>();
    // SAFETY: `first` is open until the end of this function.
    unsafe { b.setup_attach_wq(first.as_raw_fd()) };
    let mut second = b.build(8).context("ATTACH_WQ to a live ring")?;
    run_nops(&mut second, 10)?;
    let mut b = ctx.builder::<S, C>();
    // SAFETY: a closed fd is what we test; the kernel only looks it up.
    unsafe { b.setup_attach_wq(1_000_000) };
    expect_err("ATTACH_WQ to a closed fd", b.build(8), Errno::NXIO)?;
    let mut b = ctx.builder::<S, C>();
    // SAFETY: stdin stays open; it is not a ring, which is what we test.
    unsafe { b.setup_attach_wq(0) };
    expect_err("ATTACH_WQ to a non-ring fd", b.build(8), Errno::INVAL)
}

fn dontfork_ring_runs<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.builder::<S, C>().dontfork().build(8).context("dontfork")?;
    run_nops(&mut ring, 10)
}

/// Restores `kernel.io_uring_disabled` when dropped.
struct SysctlGuard(String);

impl Drop for SysctlGuard {
    fn drop(&mut self) {
        let _ = std::fs::write(SYSCTL, &self.0);
    }
}

const SYSCTL: &str = "/proc/sys/kernel/io_uring_disabled";

/// `IORING_SETUP_SQ_AFF`: the ring's SQPOLL thread (its id as the ring
/// fd's fdinfo gives it, `SqThread`) may run on CPU 0 only, as
/// `/proc/self/task/<tid>/status` shows, and the ring works.
fn sq_aff_pins_the_sqpoll_thread(_: &Ctx) -> anyhow::Result<()> {
    use std::os::fd::AsRawFd;
    let before = sqpoll_threads()?;
    let mut b = IoUring::<squeue::Entry, cqueue::Entry>::builder();
    b.setup_sqpoll(50).setup_sqpoll_cpu(0);
    let mut ring = match b.build(8) {
        Ok(r) => r,
        Err(Errno::PERM) => skip!("SQPOLL needs privileges here"),
        Err(e) => bail!("SQPOLL + SQ_AFF on CPU 0: {e}"),
    };
    ensure!(ring.params().setup_flags() & (1 << 2) != 0, "SQ_AFF not in force");
    run_nops(&mut ring, 20)?;
    let fdinfo = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", ring.as_raw_fd()))?;
    let field = |name: &str| fdinfo.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_string());
    let tid = match field("SqThread:").and_then(|t| t.parse::<i32>().ok()).filter(|&t| t > 0) {
        Some(t) => t.to_string(),
        // 6.1's fdinfo may say -1 (it names the thread only when it can take
        // the ring's lock at once): the new `iou-sqp-` thread of this
        // process is the ring's.
        None => {
            let new: Vec<String> = sqpoll_threads()?.into_iter().filter(|t| !before.contains(t)).collect();
            ensure!(new.len() == 1, "fdinfo names no SqThread, and {} new SQPOLL threads appeared: {new:?}", new.len());
            new[0].clone()
        }
    };
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status"))
        .with_context(|| format!("the SQPOLL thread {tid}"))?;
    let cpus = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).map(str::trim);
    ensure!(cpus == Some("0"), "the SQPOLL thread {tid} may run on {cpus:?}, not just CPU 0");
    Ok(())
}

/// The ids of this process's SQPOLL threads (named `iou-sqp-PID`).
fn sqpoll_threads() -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc/self/task")? {
        let id = e?.file_name().to_string_lossy().into_owned();
        let comm = std::fs::read_to_string(format!("/proc/self/task/{id}/comm")).unwrap_or_default();
        if comm.starts_with("iou-sqp-") {
            out.push(id);
        }
    }
    Ok(out)
}

fn unavailable_when_disabled_by_sysctl(_: &Ctx) -> anyhow::Result<()> {
    let Ok(old) = std::fs::read_to_string(SYSCTL) else { skip!("{SYSCTL} does not exist (kernel older than 6.6)") };
    if std::fs::write(SYSCTL, "2").is_err() {
        skip!("cannot write {SYSCTL} (not root)");
    }
    let guard = SysctlGuard(old);
    let r = IoUring::new(8);
    drop(guard);
    match r {
        Ok(_) => bail!("setup succeeded with io_uring_disabled=2"),
        Err(e) => {
            ensure!(e == Errno::PERM, "got {e:?}, expected EPERM");
            ensure!(
                Unavailable::from_errno(e) == Some(Unavailable::Disabled),
                "classified as {:?}",
                Unavailable::from_errno(e)
            );
        }
    }
    ensure!(Unavailable::from_errno(Errno::INVAL).is_none(), "EINVAL classified as unavailability");
    IoUring::new(8).context("setup after restoring the sysctl")?;
    Ok(())
}

/// In a child process, a seccomp filter answers ENOSYS to
/// `io_uring_setup`, as container runtimes do; setup must say so.
fn unavailable_under_seccomp_enosys(_: &Ctx) -> anyhow::Result<()> {
    const NR_IO_URING_SETUP: u32 = 425;
    let filter = [
        bpf_stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0), // seccomp_data.nr
        bpf_jump(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, NR_IO_URING_SETUP, 0, 1),
        bpf_stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
        bpf_stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
    ];
    let prog = libc::sock_fprog { len: filter.len() as u16, filter: filter.as_ptr().cast_mut() };
    // SAFETY: the child only makes syscalls and exits; it touches no lock
    // another thread could hold (urix does not allocate).
    let pid = unsafe { libc::fork() };
    ensure!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // SAFETY: plain prctl calls with a valid filter program.
        let code = unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &prog) != 0
            {
                3
            } else {
                match IoUring::new(8) {
                    Err(e) if Unavailable::from_errno(e) == Some(Unavailable::NotSupported) => 0,
                    Err(_) => 1,
                    Ok(_) => 2,
                }
            }
        };
        // SAFETY: leave the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break;
        }
        ensure!(Instant::now() < deadline, "child did not exit");
        std::thread::sleep(Duration::from_millis(2));
    }
    ensure!(libc::WIFEXITED(status), "child died: status {status:#x}");
    match libc::WEXITSTATUS(status) {
        0 => Ok(()),
        1 => bail!("setup under seccomp failed, but not with ENOSYS"),
        2 => bail!("setup succeeded despite the seccomp filter"),
        3 => skip!("cannot install a seccomp filter here"),
        c => bail!("child exit code {c}"),
    }
}

fn bpf_stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt: 0, jf: 0, k }
}

fn bpf_jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt, jf, k }
}
