//! Register calls of `src/register/` on the kernel: each registers, is used
//! by a real operation or checked through the kernel's own view, and is
//! unregistered.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use urix::register::Restriction;
use urix::types::{CancelBuilder, Fd, Napi, NapiTracking, Timespec};
use urix::{opcode, squeue, Errno, IoUring};

use crate::harness::{reg, Ctx, Test};
use crate::test_once;
use crate::util::{kernel_version, needs_kernel, nop, pipe, push_all, reap, Pages};

pub fn tests() -> Vec<Test> {
    vec![
        test_once!(eventfd_counts_each_completion, requires = [reg::EVENTFD, reg::UNREGISTER_EVENTFD]),
        test_once!(
            eventfd_async_signals_only_worker_completions,
            requires = [reg::EVENTFD_ASYNC, reg::UNREGISTER_EVENTFD]
        ),
        test_once!(
            personality_ids_are_checked_by_the_kernel,
            requires = [reg::PERSONALITY, reg::UNREGISTER_PERSONALITY]
        ),
        test_once!(
            restricted_ring_refuses_what_it_does_not_allow,
            requires = [reg::ENABLE_RINGS, reg::PERSONALITY, reg::PROBE, reg::RESTRICTIONS]
        ),
        test_once!(iowq_affinity_pins_the_workers, requires = [reg::IOWQ_AFF, reg::UNREGISTER_IOWQ_AFF]),
        test_once!(iowq_max_workers_reports_previous_limits, requires = [reg::IOWQ_MAX_WORKERS]),
        test_once!(sync_cancel_cancels_and_waits, requires = [reg::SYNC_CANCEL]),
        test_once!(clock_accepts_monotonic_and_boottime_only, requires = [reg::CLOCK]),
        test_once!(napi_settings_round_trip, requires = [reg::NAPI, reg::UNREGISTER_NAPI]),
        test_once!(
            tagged_files_post_their_tag_when_replaced,
            requires = [reg::FILES2, reg::FILES_UPDATE, reg::FILES_UPDATE2, reg::UNREGISTER_FILES]
        ),
        test_once!(registered_ring_fd_is_used_by_every_submitter, requires = [reg::RING_FDS, reg::UNREGISTER_RING_FDS]),
        test_once!(
            buf_ring_plain_mapped_and_incremental,
            requires = [reg::PBUF_RING, reg::PBUF_STATUS, reg::UNREGISTER_PBUF_RING]
        ),
    ]
}

/// A non-blocking eventfd.
pub(super) fn eventfd() -> anyhow::Result<OwnedFd> {
    // SAFETY: plain syscall; the fd is checked and owned below.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    ensure!(fd >= 0, "eventfd: {}", std::io::Error::last_os_error());
    // SAFETY: a fresh fd nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads and resets an eventfd's counter; 0 if it was never signalled.
pub(super) fn eventfd_take(fd: &OwnedFd) -> u64 {
    let mut v = 0u64;
    // SAFETY: reads 8 bytes into `v`.
    let n = unsafe { libc::read(fd.as_raw_fd(), (&raw mut v).cast(), 8) };
    if n == 8 {
        v
    } else {
        0
    }
}

fn eventfd_counts_each_completion(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = IoUring::new(8)?;
    let efd = eventfd()?;
    ring.submitter().register_eventfd(efd.as_raw_fd())?;
    // The kernel signals once per batch of completions it posts.
    push_all(&mut ring, &[nop(1), nop(2), nop(3)])?;
    reap(&mut ring, 3)?;
    let n = eventfd_take(&efd);
    ensure!((1..=3).contains(&n), "eventfd counted {n} for one batch of 3 completions");
    for i in 0..3 {
        push_all(&mut ring, &[nop(10 + i)])?;
        reap(&mut ring, 1)?;
    }
    let n = eventfd_take(&efd);
    ensure!(n == 3, "eventfd counted {n} for 3 separate completions");
    // Disabled through the CQ flag: no signal.
    ring.completion().set_eventfd_disabled(true);
    push_all(&mut ring, &[nop(4)])?;
    reap(&mut ring, 1)?;
    ensure!(eventfd_take(&efd) == 0, "signalled while disabled");
    ring.completion().set_eventfd_disabled(false);
    ring.submitter().unregister_eventfd()?;
    push_all(&mut ring, &[nop(5)])?;
    reap(&mut ring, 1)?;
    ensure!(eventfd_take(&efd) == 0, "signalled after unregister");
    ensure!(ring.submitter().unregister_eventfd() == Err(Errno::NXIO), "second unregister should be ENXIO");
    Ok(())
}

fn eventfd_async_signals_only_worker_completions(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = IoUring::new(8)?;
    let efd = eventfd()?;
    ring.submitter().register_eventfd_async(efd.as_raw_fd())?;
    push_all(&mut ring, &[nop(1)])?;
    reap(&mut ring, 1)?;
    ensure!(eventfd_take(&efd) == 0, "an inline NOP signalled the async eventfd");
    // IOSQE_ASYNC sends the NOP through an io-wq worker.
    let e: squeue::Entry = opcode::Nop::new().build().flags(squeue::Flags::ASYNC).user_data(2);
    push_all(&mut ring, &[e])?;
    reap(&mut ring, 1)?;
    // The worker posts the completion first and signals after it, so the
    // signal may trail the CQE we just reaped: wait for it.
    let deadline = Instant::now() + crate::util::PATIENCE;
    let mut signals = eventfd_take(&efd);
    while signals == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
        signals = eventfd_take(&efd);
    }
    ensure!(signals == 1, "a worker completion signalled {signals} times");
    ring.submitter().unregister_eventfd()?;
    Ok(())
}

fn personality_ids_are_checked_by_the_kernel(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = IoUring::new(8)?;
    let id = ring.submitter().register_personality()?;
    ensure!(id > 0, "personality id {id}");
    let id2 = ring.submitter().register_personality()?;
    ensure!(id2 != id, "two registrations gave the same id {id}");
    let ok: squeue::Entry = opcode::Nop::new().build().personality(id).user_data(1);
    let unknown: squeue::Entry = opcode::Nop::new().build().personality(id2 + 100).user_data(2);
    push_all(&mut ring, &[ok, unknown])?;
    let mut got = reap(&mut ring, 2)?;
    got.sort_by_key(|c| c.user_data_u64());
    ensure!(got[0].result() == Ok(0), "NOP under a registered personality: {:?}", got[0].result());
    ensure!(got[1].result() == Err(Errno::INVAL), "NOP under an unknown personality: {:?}", got[1].result());
    ring.submitter().unregister_personality(id)?;
    push_all(&mut ring, &[opcode::Nop::new().build().personality(id).user_data(3)])?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Err(Errno::INVAL), "NOP under an unregistered personality: {:?}", got[0].result());
    ensure!(ring.submitter().unregister_personality(id) == Err(Errno::INVAL), "double unregister");
    ring.submitter().unregister_personality(id2)?;
    Ok(())
}

fn restricted_ring_refuses_what_it_does_not_allow(_: &Ctx) -> anyhow::Result<()> {
    let mut ring: IoUring = IoUring::builder().setup_r_disabled().build(8)?;
    // A disabled ring does not run anything yet.
    let (rx, _tx) = pipe()?;
    let mut buf = [0u8; 8];
    let mut rules = [
        Restriction::sqe_op(opcode::Nop::CODE),
        Restriction::register_op(rustix::io_uring::IoringRegisterOp::RegisterPersonality),
    ];
    ring.submitter().register_restrictions(&mut rules)?;
    ensure!(
        ring.submitter().register_restrictions(&mut rules) == Err(Errno::BUSY),
        "restrictions could be registered twice"
    );
    ring.submitter().register_enable_rings()?;
    let read = opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 8).build().user_data(2);
    push_all(&mut ring, &[nop(1), read])?;
    let mut got = reap(&mut ring, 2)?;
    got.sort_by_key(|c| c.user_data_u64());
    ensure!(got[0].result() == Ok(0), "allowed NOP: {:?}", got[0].result());
    ensure!(got[1].result() == Err(Errno::ACCESS), "disallowed READ: {:?}", got[1].result());
    let id = ring.submitter().register_personality().context("allowed register op")?;
    ensure!(id > 0);
    let mut probe = urix::Probe::new();
    ensure!(
        ring.submitter().register_probe(&mut probe) == Err(Errno::ACCESS),
        "a register op outside the rules was allowed"
    );
    Ok(())
}

/// The io-wq worker threads of this process (`iou-wrk-*`), by tid.
fn iowq_workers() -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for t in std::fs::read_dir("/proc/self/task")? {
        let t = t?.path();
        let comm = std::fs::read_to_string(t.join("comm")).unwrap_or_default();
        if comm.starts_with("iou-wrk") {
            out.push(t.file_name().unwrap_or_default().to_string_lossy().into_owned());
        }
    }
    Ok(out)
}

fn iowq_affinity_pins_the_workers(_: &Ctx) -> anyhow::Result<()> {
    // io-wq belongs to the thread, and workers keep the affinity they were
    // created with: a fresh thread has no workers yet.
    std::thread::spawn(iowq_affinity_on_fresh_thread).join().map_err(|_| anyhow::anyhow!("thread panicked"))?
}

fn iowq_affinity_on_fresh_thread() -> anyhow::Result<()> {
    let before = iowq_workers()?;
    let mut ring = IoUring::new(8)?;
    let mut set = rustix::thread::CpuSet::new();
    set.set(0);
    ring.submitter().register_iowq_aff(&set)?;
    // A read on an empty pipe, forced into a worker, blocks there.
    let (rx, tx) = pipe()?;
    let mut buf = [0u8; 4];
    let e = opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 4).build().flags(squeue::Flags::ASYNC).user_data(1);
    push_all(&mut ring, &[e])?;
    let deadline = Instant::now() + crate::util::PATIENCE;
    let workers = loop {
        let mut w = iowq_workers()?;
        w.retain(|t| !before.contains(t));
        if !w.is_empty() || Instant::now() > deadline {
            break w;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    ensure!(!workers.is_empty(), "no io-wq worker appeared");
    for tid in &workers {
        let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status"))?;
        let cpus = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).unwrap_or("").trim();
        ensure!(cpus == "0", "worker {tid} may run on CPUs {cpus:?}, not just 0");
    }
    // SAFETY: writes 4 bytes from a live buffer.
    ensure!(unsafe { libc::write(tx.as_raw_fd(), b"wake".as_ptr().cast(), 4) } == 4);
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].result() == Ok(4) && &buf == b"wake", "worker read: {:?}", got[0].result());
    ring.submitter().unregister_iowq_aff()?;
    Ok(())
}

fn iowq_max_workers_reports_previous_limits(_: &Ctx) -> anyhow::Result<()> {
    let ring = IoUring::new(8)?;
    let mut max = [0u32; 2];
    ring.submitter().register_iowq_max_workers(&mut max)?;
    ensure!(max[0] > 0 && max[1] > 0, "initial limits {max:?}");
    let mut set = [2u32, 3];
    ring.submitter().register_iowq_max_workers(&mut set)?;
    ensure!(set == max, "previous limits {set:?}, first read {max:?}");
    let mut now = [0u32; 2];
    ring.submitter().register_iowq_max_workers(&mut now)?;
    ensure!(now == [2, 3], "limits after setting [2, 3]: {now:?}");
    Ok(())
}

fn sync_cancel_cancels_and_waits(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = IoUring::new(8)?;
    let (rx, _tx) = pipe()?;
    let mut buf = [0u8; 4];
    let read = opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 4).build().user_data(7);
    push_all(&mut ring, &[read])?;
    ring.submitter().register_sync_cancel(None, CancelBuilder::user_data(7u64))?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].user_data_u64() == 7 && got[0].result() == Err(Errno::CANCELED), "read: {:?}", got[0].result());
    let again =
        ring.submitter().register_sync_cancel(Some(Timespec::new().nsec(10_000_000)), CancelBuilder::user_data(7u64));
    ensure!(again == Err(Errno::NOENT), "second cancel: {again:?}");
    // By fd, all matches.
    let reads: Vec<squeue::Entry> =
        (0..3).map(|i| opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 4).build().user_data(10 + i)).collect();
    push_all(&mut ring, &reads)?;
    ring.submitter().register_sync_cancel(None, CancelBuilder::fd(Fd(rx.as_raw_fd())).all())?;
    let got = reap(&mut ring, 3)?;
    ensure!(got.iter().all(|c| c.result() == Err(Errno::CANCELED)), "fd cancel: {got:?}");
    Ok(())
}

fn clock_accepts_monotonic_and_boottime_only(_: &Ctx) -> anyhow::Result<()> {
    use rustix::io_uring::ClockId;
    let mut ring = IoUring::new(8)?;
    ring.submitter().register_clock(ClockId::Boottime)?;
    ensure!(ring.submitter().register_clock(ClockId::Realtime) == Err(Errno::INVAL), "REALTIME accepted");
    ring.submitter().register_clock(ClockId::Monotonic)?;
    // A wait with a timeout still times out on the registered clock.
    let ts = Timespec::new().nsec(5_000_000);
    let args = urix::types::SubmitArgs::new().timespec(&ts);
    let start = Instant::now();
    let r = ring.submitter().submit_with_args(1, &args);
    ensure!(r == Err(Errno::TIME), "wait with nothing in flight: {r:?}");
    ensure!(start.elapsed() >= Duration::from_millis(4), "timed out after {:?}", start.elapsed());
    let _ = &mut ring;
    Ok(())
}

fn napi_settings_round_trip(_: &Ctx) -> anyhow::Result<()> {
    let ring = IoUring::new(8)?;
    let mut napi = Napi::new().set_busy_poll_timeout(100).set_prefer_busy_poll(true);
    ring.submitter().register_napi(&mut napi)?;
    ensure!(napi.busy_poll_timeout() == 0, "previous settings written back: {napi:?}");
    let mut old = Napi::new();
    ring.submitter().unregister_napi(&mut old)?;
    ensure!(
        old.busy_poll_timeout() == 100 && old.prefer_busy_poll(),
        "unregister reported {old:?}, not the registered settings"
    );
    // Static tracking and ids (the opcode and op_param fields) are 6.13.
    if kernel_version() < (6, 13) {
        return Ok(());
    }
    // Static ids need static tracking.
    let dynamic = ring.submitter().register_napi_add_id(1);
    ensure!(dynamic.is_err(), "adding an id in dynamic mode was accepted");
    let mut stat = Napi::new().set_tracking(NapiTracking::Static);
    ring.submitter().register_napi(&mut stat)?;
    let r = ring.submitter().register_napi_del_id(12345);
    ensure!(r == Err(Errno::NOENT), "deleting an id never added: {r:?}");
    ring.submitter().unregister_napi(&mut Napi::new())?;
    Ok(())
}

fn tagged_files_post_their_tag_when_replaced(_: &Ctx) -> anyhow::Result<()> {
    // Before the resource-node rework of 6.13 tags were posted lazily: in
    // our runs, 6.1 posted the tag of a replaced file only after further
    // submissions (about a second later) and none on unregister, 6.12 none
    // within 10 s.
    needs_kernel(6, 13, "tag CQEs posted when a file is replaced or unregistered")?;
    let mut ring = IoUring::new(8)?;
    let (rx, tx) = pipe()?;
    ring.submitter().register_files2(&[rx.as_raw_fd(), tx.as_raw_fd()], &[0x1111, 0])?;
    ensure!(ring.submitter().register_files2(&[rx.as_raw_fd()], &[]) == Err(Errno::INVAL), "mismatched tags");
    // Replacing slot 0 retires the tagged file: a CQE carries its tag.
    let n = ring.submitter().register_files_update2(0, &[tx.as_raw_fd()], Some(&[0x2222]))?;
    ensure!(n == 1, "updated {n}");
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].user_data_u64() == 0x1111 && got[0].result() == Ok(0), "tag CQE {:?}", got[0]);
    // Slot 1 was untagged: replacing it posts nothing; skipping keeps slot 0.
    let n = ring.submitter().register_files_update(0, &[urix::register::SKIP_FILE, rx.as_raw_fd()])?;
    ensure!(n == 2, "updated {n}");
    ring.submitter().unregister_files()?;
    let got = reap(&mut ring, 1)?;
    ensure!(got[0].user_data_u64() == 0x2222, "unregister posted {:?}, not the second tag", got[0]);
    ring.submit()?;
    ensure!(ring.completion().next().is_none(), "an untagged file posted a CQE");
    Ok(())
}

fn registered_ring_fd_is_used_by_every_submitter(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = IoUring::new(8)?;
    ensure!(ring.submitter().registered_ring_index().is_none());
    ring.submitter().register_ring_fd()?;
    let index = ring.submitter().registered_ring_index().context("no index after register")?;
    ensure!(ring.submitter().register_ring_fd() == Err(Errno::EXIST), "second register");
    // Proof that enters use the index: point the fd number at /dev/null;
    // an enter through the fd would now fail, one through the index works.
    let ring_fd = ring.as_raw_fd();
    // SAFETY: plain fd syscalls; the ring fd number is restored below
    // before anything else can use it.
    let saved = unsafe { libc::dup(ring_fd) };
    ensure!(saved >= 0, "dup");
    let null = std::fs::File::open("/dev/null")?;
    // SAFETY: as above.
    ensure!(unsafe { libc::dup2(null.as_raw_fd(), ring_fd) } == ring_fd, "dup2");
    let through_index = (|| {
        push_all(&mut ring, &[nop(1), nop(2)])?;
        reap(&mut ring, 2)
    })();
    // SAFETY: puts the ring back under its fd number.
    let restored = unsafe { libc::dup2(saved, ring_fd) } == ring_fd;
    // SAFETY: `saved` is ours.
    unsafe { libc::close(saved) };
    ensure!(restored, "could not restore the ring fd");
    let got = through_index.context("submitting through the registered index")?;
    ensure!(got.len() == 2 && got.iter().all(|c| c.result() == Ok(0)), "{got:?}");
    // Another thread has no such index: its enters fall back to the fd.
    let shared = &ring;
    std::thread::scope(|s| s.spawn(|| shared.submit_and_wait(0)).join())
        .map_err(|_| anyhow::anyhow!("thread panicked"))?
        .context("submit from another thread")?;
    let mut sub = ring.submitter();
    sub.unregister_ring_fd()?;
    ensure!(sub.registered_ring_index().is_none());
    ensure!(sub.unregister_ring_fd() == Err(Errno::INVAL), "second unregister");
    if index > 15 {
        bail!("kernel chose index {index}, beyond its table of 16");
    }
    push_all(&mut ring, &[nop(3)])?;
    reap(&mut ring, 1)?;
    Ok(())
}

/// The kernel's mapping of buffer group `bgid` of `ring` (IOU_PBUF_RING_MMAP).
fn kernel_ring_page(ring: &IoUring, bgid: u16) -> anyhow::Result<Pages> {
    let off = urix::types::IORING_OFF_PBUF_RING | (u64::from(bgid) << urix::types::IORING_OFF_PBUF_SHIFT);
    Pages::shared(ring.as_raw_fd(), off, 4096).context("the kernel's buffer ring")
}

/// Publishes `bufs` (id = index) as entries 0.. of the buffer ring in
/// `page` and sets the tail.
fn publish(page: &Pages, bufs: &mut [Vec<u8>]) {
    let base = page.ptr.cast::<urix::types::BufRingEntry>();
    for (i, b) in bufs.iter_mut().enumerate() {
        // SAFETY: at most 256 entries of 16 bytes fit in the page; the
        // kernel reads entries only below the tail, set afterwards.
        let e = unsafe { &mut *base.add(i) };
        e.set_addr(b.as_mut_ptr().cast());
        e.set_len(b.len() as u32);
        e.set_bid(i as u16);
    }
    // SAFETY: the tail overlays entry 0, inside the page; Release makes
    // the entries visible before it.
    let tail = unsafe { &*urix::types::BufRingEntry::tail(base).cast::<std::sync::atomic::AtomicU16>() };
    tail.store(bufs.len() as u16, std::sync::atomic::Ordering::Release);
}

/// A read of up to 64 bytes from `fd` into a buffer of group `bgid`.
fn select_read(fd: &std::fs::File, bgid: u16, ud: u64) -> squeue::Entry {
    opcode::Read::new(Fd(fd.as_raw_fd()), std::ptr::null_mut(), 64)
        .buf_group(bgid)
        .offset(u64::MAX)
        .build()
        .flags(squeue::Flags::BUFFER_SELECT)
        .user_data(ud)
}

fn buf_ring_plain_mapped_and_incremental(_: &Ctx) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut bufs = vec![vec![0u8; 64]; 4];
    let page = Pages::new(4096)?;
    let mut ring = IoUring::new(8)?;
    let (rx, mut tx) = pipe()?;
    // Caller memory: the read picks buffer 0, the kernel head moves to 1.
    publish(&page, &mut bufs);
    // SAFETY: page and buffers outlive the registration (unregistered below).
    unsafe { ring.submitter().register_buf_ring(page.ptr.cast(), 4, 1) }?;
    ensure!(ring.submitter().register_buf_status(1)? == 0, "head before use");
    tx.write_all(b"hello")?;
    let c = crate::util::one(&mut ring, select_read(&rx, 1, 1))?;
    ensure!(c.result() == Ok(5), "read: {:?}", c.result());
    ensure!(urix::cqueue::buffer_select(c.flags()) == Some(0), "flags {:?}", c.flags());
    ensure!(&bufs[0][..5] == b"hello", "buffer 0 holds {:?}", &bufs[0][..5]);
    ensure!(ring.submitter().register_buf_status(1)? == 1, "head after one buffer");
    ring.submitter().unregister_buf_ring(1)?;
    ensure!(ring.submitter().register_buf_status(1) == Err(Errno::NOENT), "status of a removed group");
    ensure!(ring.submitter().unregister_buf_ring(1) == Err(Errno::NOENT), "second unregister");

    // Kernel memory (IOU_PBUF_RING_MMAP): map it and publish into it.
    let mut kbufs = vec![vec![0u8; 64]; 2];
    let flags = urix::types::IOU_PBUF_RING_MMAP as u16;
    // SAFETY: null ring address with MMAP; the buffers outlive the group.
    unsafe { ring.submitter().register_buf_ring_with_flags(std::ptr::null_mut(), 2, 2, flags) }?;
    let kpage = kernel_ring_page(&ring, 2)?;
    publish(&kpage, &mut kbufs);
    tx.write_all(b"mapped")?;
    let c = crate::util::one(&mut ring, select_read(&rx, 2, 2))?;
    ensure!(c.result() == Ok(6) && &kbufs[0][..6] == b"mapped", "mapped ring read {:?}", c.result());
    drop(kpage);
    ring.submitter().unregister_buf_ring(2)?;

    // Incremental (IOU_PBUF_RING_INC): two reads share buffer 0.
    let mut ibufs = vec![vec![0u8; 64]];
    let ipage = Pages::new(4096)?;
    publish(&ipage, &mut ibufs);
    let flags = urix::types::IOU_PBUF_RING_INC as u16;
    // SAFETY: as above.
    unsafe { ring.submitter().register_buf_ring_with_flags(ipage.ptr.cast(), 1, 3, flags) }?;
    tx.write_all(b"abc")?;
    let c1 = crate::util::one(&mut ring, select_read(&rx, 3, 3))?;
    tx.write_all(b"defg")?;
    let c2 = crate::util::one(&mut ring, select_read(&rx, 3, 4))?;
    ensure!(c1.result() == Ok(3) && c2.result() == Ok(4), "incremental reads {:?} {:?}", c1.result(), c2.result());
    for c in [&c1, &c2] {
        ensure!(urix::cqueue::buffer_select(c.flags()) == Some(0), "flags {:?}", c.flags());
        ensure!(urix::cqueue::buffer_more(c.flags()), "no BUF_MORE on a partly used buffer: {:?}", c.flags());
    }
    ensure!(&ibufs[0][..7] == b"abcdefg", "incremental data {:?}", &ibufs[0][..7]);
    ensure!(ring.submitter().register_buf_status(3)? == 0, "head moved off a partly used buffer");
    ring.submitter().unregister_buf_ring(3)?;
    Ok(())
}
