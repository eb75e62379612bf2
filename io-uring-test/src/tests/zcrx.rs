//! Zero-copy receive (zcrx): interface queues, `RECV_ZC`, the refill
//! queue and the control ops. Without a capable NIC, 6.15..7.0 can only be
//! checked refusing a queue; from 7.1 `ZCRX_REG_NODEV` registers a queue
//! with no device, whose data takes the copy path into the area, so the
//! whole protocol runs on a loopback TCP connection: data read out of the
//! area at the completions' offsets, buffers returned and reused, more
//! areas (7.3), export/import between rings (6.19), events and stats (7.2).

use std::io::Write;
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Instant;

use anyhow::{bail, ensure, Context};
use urix::register::{self, QueryZcrx, ZcrxRefillQueue};
use urix::types::{
    io_uring_region_desc, io_uring_zcrx_area_reg, io_uring_zcrx_cqe, io_uring_zcrx_ifq_reg, io_uring_zcrx_rqe, Fd,
    SubmitArgs, Timespec, ZcrxCtrl, ZcrxEvent, ZcrxEventDesc, ZcrxEvents, ZcrxFeatures, ZcrxRegFlags, ZcrxStats,
    IORING_MEM_REGION_TYPE_USER,
};
use urix::{cqueue, opcode, squeue, Errno, IoUring};

use crate::harness::{reg, Ctx, Req, Test};
use crate::test_once;
use crate::util::{page_size, pipe, push_all, tcp_pair, Pages, PATIENCE};

/// `IORING_REGISTER_ZCRX_IFQ` used for real (a `NODEV` queue), not only
/// refused as [`reg::ZCRX_IFQ_REFUSAL`] is.
const ZCRX_IFQ: Req = Req::Register(32, "REGISTER_ZCRX_IFQ");
const RECV_ZC: Req = Req::Op(opcode::RecvZc::CODE, "RECV_ZC");

pub fn tests() -> Vec<Test> {
    vec![
        test_once!(zcrx_ifq_refused_without_a_capable_nic, requires = [reg::ZCRX_IFQ_REFUSAL]),
        test_once!(zcrx_ctrl_on_unknown_instance, requires = [reg::ZCRX_CTRL]),
        test_once!(zcrx_nodev_receives_tcp_data_and_refills, requires = [ZCRX_IFQ, RECV_ZC]),
        test_once!(zcrx_nodev_stops_without_refill_and_resumes_after, requires = [ZCRX_IFQ, RECV_ZC]),
        test_once!(zcrx_add_area_grows_the_queue, requires = [ZCRX_IFQ, RECV_ZC]),
        test_once!(zcrx_export_import_shares_the_queue, requires = [ZCRX_IFQ, RECV_ZC]),
        test_once!(zcrx_copy_event_fires_once_until_armed_with_stats, requires = [ZCRX_IFQ, RECV_ZC]),
    ]
}

type Ring32 = IoUring<squeue::Entry, cqueue::Entry32>;

/// The ring zcrx wants: deferred task work (so single issuer) and 32-byte
/// completions.
fn zcrx_ring() -> anyhow::Result<Ring32> {
    Ring32::builder().setup_single_issuer().setup_defer_taskrun().build(64).context("DEFER_TASKRUN + CQE32 ring")
}

/// What the kernel's zcrx query says, or a skip when it cannot register a
/// queue without a device.
fn nodev_support() -> anyhow::Result<QueryZcrx> {
    let q = match register::query_zcrx() {
        Ok(q) => q,
        Err(e) => crate::skip!("no zcrx query ({e}): IO_URING_QUERY_ZCRX is 6.19, ZCRX_REG_NODEV 7.1"),
    };
    if !q.zcrx_reg_flags().contains(ZcrxRegFlags::NODEV) {
        crate::skip!("the kernel lacks ZCRX_REG_NODEV (7.1): register flags {:#x}", q.register_flags);
    }
    Ok(q)
}

const RECV_UD: u64 = 0x5a5a;
const EVENT_UD: u64 = 0xe7e7;

/// The byte at stream position `i`: a multiplicative hash, so a page
/// delivered at the wrong offset or twice never matches.
fn pattern(i: u64) -> u8 {
    ((i as u32).wrapping_mul(0x9e37_79b1) >> 24) as u8
}

fn pattern_bytes(from: u64, len: usize) -> Vec<u8> {
    (from..from + len as u64).map(pattern).collect()
}

/// A `NODEV` queue on a fresh ring: area, refill region (with a page for
/// stats after the entries), and the refill queue's producer view. Fields
/// drop in order: the ring (unregistering the queue) before the memory.
struct Nodev {
    ring: Ring32,
    reg: io_uring_zcrx_ifq_reg,
    area: io_uring_zcrx_area_reg,
    rq: ZcrxRefillQueue,
    stats_offset: u64,
    area_mem: Pages,
    rq_mem: Pages,
}

impl Nodev {
    fn new(q: &QueryZcrx, area_pages: usize, rq_entries: u32, events: Option<ZcrxEventDesc>) -> anyhow::Result<Nodev> {
        let ring = zcrx_ring()?;
        let page = page_size();
        let area_len = area_pages * page;
        let area_mem = Pages::new(area_len)?;
        // Header (as the query says), the entries, rounded to pages, then
        // one page whose start holds the stats.
        let align = (q.rq_hdr_alignment as usize).max(1);
        let hdr = (q.rq_hdr_size as usize).next_multiple_of(align);
        let rq_part = (hdr + rq_entries as usize * std::mem::size_of::<io_uring_zcrx_rqe>()).next_multiple_of(page);
        let rq_len = rq_part + page;
        let rq_mem = Pages::new(rq_len)?;
        let stats_offset = rq_part as u64;
        let mut area = io_uring_zcrx_area_reg::user(area_mem.ptr, area_len as u64);
        let mut region = io_uring_region_desc {
            user_addr: rq_mem.ptr as u64,
            size: rq_len as u64,
            flags: IORING_MEM_REGION_TYPE_USER,
            ..Default::default()
        };
        let mut desc = events.map(|d| d.stats_at(stats_offset));
        let mut reg = io_uring_zcrx_ifq_reg::nodev(rq_entries, &mut area, &mut region);
        if let Some(d) = desc.as_mut() {
            reg = reg.with_event_desc(d);
        }
        // SAFETY: area, region and event descriptor are live locals; the
        // area and region memory belong to the returned value, which drops
        // the ring (and with it the queue) before them; tests that export
        // the queue drop the fd and the importing ring first.
        match unsafe { ring.submitter().register_ifq(&mut reg) } {
            Ok(()) => {}
            Err(Errno::OPNOTSUPP) => crate::skip!("REGISTER_ZCRX_IFQ: EOPNOTSUPP (kernel built without IO_URING_ZCRX)"),
            Err(e) => bail!("registering a NODEV queue: {e}"),
        }
        ensure!(reg.rq_entries == rq_entries, "rq_entries written back as {}", reg.rq_entries);
        ensure!(area.rq_area_token == 0, "first area's token {:#x}", area.rq_area_token);
        // SAFETY: the region is `rq_mem`, registered just now, which lives as
        // long as the returned value; this is the only producer view of it.
        let rq = unsafe { ZcrxRefillQueue::new(rq_mem.ptr, rq_len, &reg) }.context("refill queue layout")?;
        Ok(Nodev { ring, reg, area, rq, stats_offset, area_mem, rq_mem })
    }

    fn area(&self) -> (*const u8, u64) {
        (self.area_mem.ptr, self.area.len)
    }
}

/// What a transfer saw.
#[derive(Debug, Default)]
struct Seen {
    /// Data completions, in order: (area index, offset in area, length).
    chunks: Vec<(u16, u64, u32)>,
    /// Results of event completions (user_data `EVENT_UD`).
    events: Vec<i32>,
    /// The result of the request's last completion (without `F_MORE`), if
    /// it came: 0 when `len` bytes were received, a negated errno if the
    /// request ended early.
    end: Option<i32>,
    received: u64,
    /// Bytes sent (with those queued before).
    sent: u64,
}

/// How a transfer returns buffers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Refill {
    /// Not at all.
    Never,
    /// After each batch of completions: push, publish, flush, and check
    /// the kernel took every entry.
    Each,
}

/// One transfer: `RECV_ZC` for `total` bytes through queue `zcrx_id`,
/// the stream's bytes from position `seq` on.
struct Xfer<'a> {
    zcrx_id: u32,
    /// Area i's base and length.
    areas: &'a [(*const u8, u64)],
    rx_fd: i32,
    seq: u64,
    total: u64,
    refill: Refill,
    /// The sending end; it runs at most [`WINDOW`] bytes ahead of what
    /// arrived.
    tx: &'a mut TcpStream,
    /// Bytes of this transfer already sent (queued on the socket).
    queued: u64,
}

impl<'a> Xfer<'a> {
    /// `total` bytes from stream position 0, nothing queued, each buffer
    /// returned after its batch.
    fn new(zcrx_id: u32, areas: &'a [(*const u8, u64)], rx: &TcpStream, tx: &'a mut TcpStream, total: u64) -> Self {
        Xfer { zcrx_id, areas, rx_fd: rx.as_raw_fd(), seq: 0, total, refill: Refill::Each, tx, queued: 0 }
    }

    /// The transfer carries the stream on from position `seq`.
    fn at(self, seq: u64) -> Self {
        Xfer { seq, ..self }
    }

    /// No buffer is returned.
    fn never_refill(self) -> Self {
        Xfer { refill: Refill::Never, ..self }
    }

    /// `queued` bytes of this transfer were sent already.
    fn queued(self, queued: u64) -> Self {
        Xfer { queued, ..self }
    }
}

/// How far the sender runs ahead of the receiver: the receive runs only
/// while this thread waits (DEFER_TASKRUN), so what is in flight must fit
/// the loopback socket's buffers, and a window of a few buffers keeps a
/// refilled area from running dry.
const WINDOW: u64 = 16 * 1024;

/// Arms the receive, sends, checks every completion's bytes in its area,
/// and returns buffers as `x.refill` says, until the request's last
/// completion.
fn transfer(ring: &mut Ring32, rq: &mut ZcrxRefillQueue, x: Xfer<'_>) -> anyhow::Result<Seen> {
    // A send that fills the socket would block for ever: bound it.
    x.tx.set_write_timeout(Some(PATIENCE))?;
    let recv = opcode::RecvZc::new(Fd(x.rx_fd), x.total as u32).ifq(x.zcrx_id).build().user_data(RECV_UD);
    push_all(ring, &[recv])?;
    let mut seen = Seen::default();
    let mut sent = x.queued;
    let deadline = Instant::now() + PATIENCE * 3;
    while seen.end.is_none() {
        while sent < x.total && sent - seen.received < WINDOW {
            let n = (x.total - sent).min(WINDOW - (sent - seen.received)).min(page_size() as u64);
            x.tx.write_all(&pattern_bytes(x.seq + sent, n as usize)).context("send")?;
            sent += n;
        }
        let cqes: Vec<cqueue::Entry32> = ring.completion().collect();
        if cqes.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            ensure!(!left.is_zero(), "stuck: sent {sent}, {seen:?}");
            let ts = Timespec::new().sec(left.as_secs().clamp(1, 10)).nsec(0);
            match ring.submitter().submit_with_args(1, &SubmitArgs::new().timespec(&ts)) {
                Ok(_) | Err(Errno::TIME) | Err(Errno::INTR) => {}
                Err(e) => return Err(e).context("wait"),
            }
            continue;
        }
        for c in &cqes {
            match c.user_data_u64() {
                EVENT_UD => seen.events.push(c.raw_result()),
                RECV_UD if !cqueue::more(c.flags()) => seen.end = Some(c.raw_result()),
                RECV_UD => {
                    let len = c.result().map_err(|e| anyhow::anyhow!("RECV_ZC with F_MORE and error {e}"))?;
                    let z = io_uring_zcrx_cqe::from_big_cqe(c.big_cqe());
                    let &(base, area_len) = x
                        .areas
                        .get(usize::from(z.area_index()))
                        .with_context(|| format!("completion names area {} of {}", z.area_index(), x.areas.len()))?;
                    let off = z.area_offset();
                    ensure!(off + u64::from(len) <= area_len, "chunk {off}+{len} outside the {area_len}-byte area");
                    // SAFETY: inside the area's live mapping (checked just
                    // above); the kernel wrote it before posting the CQE and
                    // leaves it alone until the buffer is returned.
                    let got = unsafe { std::slice::from_raw_parts(base.add(off as usize), len as usize) };
                    let want = pattern_bytes(x.seq + seen.received, len as usize);
                    ensure!(
                        got == want.as_slice(),
                        "bytes at stream {} (area {} +{off}) differ",
                        x.seq + seen.received,
                        z.area_index()
                    );
                    seen.received += u64::from(len);
                    seen.chunks.push((z.area_index(), off, len));
                    if x.refill == Refill::Each {
                        let rqe = io_uring_zcrx_rqe::from_cqe(z, len);
                        if rq.push(rqe).is_err() {
                            rq.sync();
                            ring.submitter().register_zcrx_flush_rq(x.zcrx_id).context("flush (queue full)")?;
                            rq.push(rqe).map_err(|_| anyhow::anyhow!("refill queue still full after a flush"))?;
                        }
                    }
                }
                ud => bail!("unexpected completion {ud:#x}: {}", c.raw_result()),
            }
        }
        if x.refill == Refill::Each && !rq.is_empty() {
            rq.sync();
            ring.submitter().register_zcrx_flush_rq(x.zcrx_id).context("FLUSH_RQ")?;
            ensure!(rq.is_empty(), "after FLUSH_RQ the kernel's head is {}, our tail {}", rq.head(), rq.tail());
        }
    }
    ensure!(seen.received <= sent, "received {} of {sent} sent", seen.received);
    seen.sent = sent;
    Ok(seen)
}

/// Waits (up to `PATIENCE`) for task work to post what it still holds: a
/// NOP's completion comes after the events queued before it.
fn settle(ring: &mut Ring32, seen: &mut Seen) -> anyhow::Result<()> {
    const NOP_UD: u64 = 0x9090;
    push_all(ring, &[opcode::Nop::new().build().user_data(NOP_UD)])?;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let cqes: Vec<cqueue::Entry32> = ring.completion().collect();
        let mut done = false;
        for c in cqes {
            match c.user_data_u64() {
                EVENT_UD => seen.events.push(c.raw_result()),
                NOP_UD => done = true,
                ud => bail!("unexpected completion {ud:#x}: {}", c.raw_result()),
            }
        }
        if done {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "the NOP never completed");
        let ts = Timespec::new().sec(1).nsec(0);
        match ring.submitter().submit_with_args(1, &SubmitArgs::new().timespec(&ts)) {
            Ok(_) | Err(Errno::TIME) | Err(Errno::INTR) => {}
            Err(e) => return Err(e).context("wait"),
        }
    }
}

fn zcrx_ifq_refused_without_a_capable_nic(_: &Ctx) -> anyhow::Result<()> {
    let ring = zcrx_ring()?;
    let area_mem = Pages::new(64 * 4096)?;
    let rq_mem = Pages::new(4 * 4096)?;
    let mut area = io_uring_zcrx_area_reg::user(area_mem.ptr, 64 * 4096);
    let mut region = io_uring_region_desc {
        user_addr: rq_mem.ptr as u64,
        size: 4 * 4096,
        flags: IORING_MEM_REGION_TYPE_USER,
        ..Default::default()
    };
    // Interface 1 is loopback, which has no header split.
    let mut reg = io_uring_zcrx_ifq_reg::netdev(1, 0, 64, &mut area, &mut region);
    // SAFETY: area and region point at pages that outlive the rings (they
    // are dropped explicitly before the pages, at the end).
    let r = unsafe { ring.submitter().register_ifq(&mut reg) };
    println!("    register_ifq on lo: {r:?}");
    match r {
        Err(Errno::OPNOTSUPP) | Err(Errno::INVAL) => {}
        Ok(()) => bail!("loopback accepted as a zero-copy receive queue"),
        Err(e) => bail!("unexpected refusal: {e}"),
    }
    // A ring without 32-byte CQEs is refused before any device is looked at.
    let small: IoUring = IoUring::builder().setup_single_issuer().setup_defer_taskrun().build(8)?;
    reg.if_idx = u32::MAX;
    // SAFETY: as above.
    let r = unsafe { small.submitter().register_ifq(&mut reg) };
    ensure!(r == Err(Errno::INVAL), "16-byte CQE ring: {r:?}");
    drop((ring, small));
    drop((area_mem, rq_mem));
    Ok(())
}

fn zcrx_ctrl_on_unknown_instance(_: &Ctx) -> anyhow::Result<()> {
    let ring = IoUring::new(4)?;
    let mut ctrl = ZcrxCtrl::flush_rq(12345);
    let r = ring.submitter().register_zcrx_ctrl(&mut ctrl);
    // The kernel looks the id up in the ring's zcrx table: ENXIO (7.3).
    ensure!(r == Err(Errno::NXIO), "flush of an unknown zcrx id: {r:?}");
    Ok(())
}

/// Data through a `NODEV` queue: 8 times what the area holds, so the
/// buffers must be returned and reused; every byte checked where the
/// completion says it is.
fn zcrx_nodev_receives_tcp_data_and_refills(_: &Ctx) -> anyhow::Result<()> {
    let q = nodev_support()?;
    let page = page_size() as u64;
    let area_pages = 16;
    let mut z = Nodev::new(&q, area_pages, 64, None)?;
    ensure!(u64::from(z.reg.rx_buf_len) == page, "rx_buf_len written back as {}, want the page size", z.reg.rx_buf_len);
    let (mut tx, rx) = tcp_pair()?;
    let total = 8 * area_pages as u64 * page;
    let areas = [z.area()];
    let x = Xfer::new(z.reg.zcrx_id, &areas, &rx, &mut tx, total);
    let seen = transfer(&mut z.ring, &mut z.rq, x)?;
    ensure!(seen.end == Some(0), "the request ended with {:?} after {} of {total} bytes", seen.end, seen.received);
    ensure!(seen.received == total, "received {} of {total}", seen.received);
    // Every buffer is a page of the area; more completions than pages
    // means pages came back through the refill queue and were reused.
    let mut pages: Vec<u64> = seen.chunks.iter().map(|&(_, off, _)| off / page).collect();
    let n = pages.len();
    pages.sort_unstable();
    pages.dedup();
    ensure!(n > area_pages && pages.len() <= area_pages, "{n} completions over {} distinct pages", pages.len());
    ensure!(z.rq.tail() as usize == n, "{} entries returned for {n} completions", z.rq.tail());
    println!("    {total} bytes in {n} completions through {} area pages", pages.len());
    // A flush naming no queue of this ring.
    let r = z.ring.submitter().register_zcrx_flush_rq(z.reg.zcrx_id + 1);
    ensure!(r == Err(Errno::NXIO), "flush of another id: {r:?}");
    Ok(())
}

/// Without returned buffers the area runs dry and the request ends with
/// an error, having delivered no more than the area holds; once the
/// buffers are returned and flushed, a new request receives the rest.
fn zcrx_nodev_stops_without_refill_and_resumes_after(_: &Ctx) -> anyhow::Result<()> {
    let q = nodev_support()?;
    let page = page_size() as u64;
    let area_pages = 4;
    let mut z = Nodev::new(&q, area_pages, 16, None)?;
    let (mut tx, rx) = tcp_pair()?;
    let total = 2 * area_pages as u64 * page;
    let areas = [z.area()];
    let id = z.reg.zcrx_id;
    let x = Xfer::new(id, &areas, &rx, &mut tx, total).never_refill();
    let first = transfer(&mut z.ring, &mut z.rq, x)?;
    let err = first.end.unwrap_or(0);
    ensure!(err < 0, "{total} bytes through a {}-byte area, nothing returned: {first:?}", area_pages as u64 * page);
    ensure!(first.chunks.len() <= area_pages, "{} buffers out of {area_pages}", first.chunks.len());
    println!(
        "    area dry after {} bytes in {} buffers: {}",
        first.received,
        first.chunks.len(),
        Errno::from_raw_os_error(-err)
    );
    // Return them all, then receive the rest of the stream (part of it
    // already queued on the socket).
    for &(area, off, len) in &first.chunks {
        let rqe = io_uring_zcrx_rqe { off: (u64::from(area) << 48) | off, len, __pad: 0 };
        z.rq.push(rqe).map_err(|_| anyhow::anyhow!("refill queue full"))?;
    }
    z.rq.sync();
    z.ring.submitter().register_zcrx_flush_rq(id)?;
    ensure!(z.rq.is_empty(), "kernel head {} after flush, tail {}", z.rq.head(), z.rq.tail());
    let rest = total - first.received;
    let x = Xfer::new(id, &areas, &rx, &mut tx, rest).at(first.received).queued(first.sent - first.received);
    let seen = transfer(&mut z.ring, &mut z.rq, x)?;
    ensure!(
        seen.end == Some(0) && seen.received == rest,
        "rest: {} of {rest} bytes, end {:?}",
        seen.received,
        seen.end
    );
    Ok(())
}

/// `ZCRX_CTRL_ADD_AREA` (7.3): a second area takes data once the first is
/// used up, at the index its token names; then both run dry.
fn zcrx_add_area_grows_the_queue(_: &Ctx) -> anyhow::Result<()> {
    let q = nodev_support()?;
    if q.nr_ctrl_opcodes <= 3 {
        crate::skip!("ZCRX_CTRL_ADD_AREA is 7.3: the kernel has {} zcrx ctrl ops", q.nr_ctrl_opcodes);
    }
    let page = page_size() as u64;
    let extra_mem = Pages::new(16 * page as usize)?;
    let mut z = Nodev::new(&q, 4, 16, None)?;
    let id = z.reg.zcrx_id;
    // An empty area is refused.
    let mut empty = io_uring_zcrx_area_reg::user(extra_mem.ptr, 0);
    // SAFETY: nothing is handed over: the kernel refuses a 0-byte area.
    let r = unsafe { z.ring.submitter().register_zcrx_add_area(id, &mut empty) };
    ensure!(matches!(r, Err(Errno::INVAL | Errno::FAULT)), "0-byte area: {r:?}");
    let mut extra = io_uring_zcrx_area_reg::user(extra_mem.ptr, 16 * page);
    // SAFETY: `extra_mem` was made before `z`, so the ring (and the queue)
    // is dropped first.
    unsafe { z.ring.submitter().register_zcrx_add_area(id, &mut extra) }.context("ADD_AREA")?;
    ensure!(extra.area_index() == 1, "added area's token {:#x}", extra.rq_area_token);
    let areas = [z.area(), (extra_mem.ptr.cast_const(), extra.len)];
    let (mut tx, rx) = tcp_pair()?;
    // 6 pages need at least 6 buffers (one holds at most a page), more
    // than the first area's 4; sent a page at a time, each page is copied
    // in one or two pieces, so the 20 of both areas are enough.
    let total = 6 * page;
    let x = Xfer::new(id, &areas, &rx, &mut tx, total).never_refill();
    let seen = transfer(&mut z.ring, &mut z.rq, x)?;
    ensure!(seen.end == Some(0) && seen.received == total, "{} of {total} bytes, end {:?}", seen.received, seen.end);
    let in_extra = seen.chunks.iter().filter(|c| c.0 == 1).count();
    ensure!(in_extra > 0, "no data in the added area: {:?}", seen.chunks);
    println!("    {} chunks, {in_extra} in the added area", seen.chunks.len());
    // At most 14 buffers are left: 16 more pages cannot fit.
    let more = 16 * page;
    let x = Xfer::new(id, &areas, &rx, &mut tx, more).at(total).never_refill();
    let dry = transfer(&mut z.ring, &mut z.rq, x)?;
    ensure!(dry.end.is_some_and(|e| e < 0), "16 more pages with 14 buffers left at most: {dry:?}");
    Ok(())
}

/// `ZCRX_CTRL_EXPORT` and `ZCRX_REG_IMPORT` (6.19): a second ring receives
/// through the first ring's queue, into its area, returning buffers
/// through its refill queue; the queue outlives the first ring.
fn zcrx_export_import_shares_the_queue(_: &Ctx) -> anyhow::Result<()> {
    let q = nodev_support()?;
    ensure!(q.zcrx_reg_flags().contains(ZcrxRegFlags::IMPORT), "NODEV without IMPORT: {:#x}", q.register_flags);
    let page = page_size() as u64;
    let z = Nodev::new(&q, 16, 64, None)?;
    let exported = z.ring.submitter().register_zcrx_export(z.reg.zcrx_id).context("EXPORT")?;
    let mut other = zcrx_ring()?;
    // Not a zcrx fd.
    let (pr, _pw) = pipe()?;
    let r = other.submitter().register_zcrx_import(pr.as_fd());
    ensure!(r.is_err(), "a pipe imported as a zcrx queue: {r:?}");
    let imported = other.submitter().register_zcrx_import(exported.as_fd()).context("IMPORT")?;
    ensure!(imported.offsets == z.reg.offsets, "offsets {:?} vs the exporter's {:?}", imported.offsets, z.reg.offsets);
    ensure!(imported.reg_flags() == ZcrxRegFlags::IMPORT, "flags written back {:#x}", imported.flags);
    let Nodev { ring, mut rq, area_mem, rq_mem, area, .. } = z;
    let areas = [(area_mem.ptr.cast_const(), area.len)];
    let (mut tx, rx) = tcp_pair()?;
    let total = 32 * page;
    let id = imported.zcrx_id;
    let x = Xfer::new(id, &areas, &rx, &mut tx, total);
    let seen = transfer(&mut other, &mut rq, x)?;
    ensure!(seen.end == Some(0) && seen.received == total, "{} of {total} bytes, end {:?}", seen.received, seen.end);
    // The first ring goes, and the export fd with it: the importer keeps
    // the queue, its area and its refill queue.
    drop(ring);
    drop(exported);
    let x = Xfer::new(id, &areas, &rx, &mut tx, total).at(total);
    let seen2 = transfer(&mut other, &mut rq, x)?;
    ensure!(seen2.end == Some(0) && seen2.received == total, "after the exporter closed: {seen2:?}");
    println!("    {} + {} completions through the imported queue", seen.chunks.len(), seen2.chunks.len());
    drop(other);
    drop((area_mem, rq_mem));
    Ok(())
}

/// Events and stats (7.2): `ZCRX_EVENT_COPY` is posted once, with the
/// descriptor's user_data, however many copies follow; arming it again is
/// refused until it fired, and after arming it fires once more. The stats
/// count the bytes copied and the copies. A queue that asked only for `ALLOC_FAIL` posts
/// nothing (a `NODEV` queue never allocates from a page pool, so
/// `ALLOC_FAIL` itself cannot happen here).
fn zcrx_copy_event_fires_once_until_armed_with_stats(_: &Ctx) -> anyhow::Result<()> {
    let q = nodev_support()?;
    if !q.zcrx_features().contains(ZcrxFeatures::EVENT) || q.nr_ctrl_opcodes <= 2 {
        crate::skip!("zcrx events are 7.2: features {:#x}, {} ctrl ops", q.features, q.nr_ctrl_opcodes);
    }
    let page = page_size() as u64;
    let mut z = Nodev::new(&q, 16, 64, Some(ZcrxEventDesc::new(EVENT_UD, ZcrxEvents::COPY)))?;
    let id = z.reg.zcrx_id;
    let stats = |z: &Nodev| z.rq.stats(z.stats_offset).context("stats offset");
    ensure!(stats(&z)? == ZcrxStats::default(), "stats before any data: {:?}", stats(&z)?);
    // Not fired yet: arming is refused.
    let r = z.ring.submitter().register_zcrx_arm_event(id, ZcrxEvent::Copy);
    ensure!(r == Err(Errno::INVAL), "arming COPY before it fired: {r:?}");
    let areas = [z.area()];
    let (mut tx, rx) = tcp_pair()?;
    let total = 16 * page;
    let x = Xfer::new(id, &areas, &rx, &mut tx, total);
    let mut seen = transfer(&mut z.ring, &mut z.rq, x)?;
    ensure!(seen.end == Some(0) && seen.received == total, "{} of {total} bytes, end {:?}", seen.received, seen.end);
    settle(&mut z.ring, &mut seen)?;
    ensure!(seen.events == [ZcrxEvent::Copy as i32], "events after {} copies: {:?}", seen.chunks.len(), seen.events);
    let s1 = stats(&z)?;
    println!("    {} completions; stats {s1:?}", seen.chunks.len());
    ensure!(s1.copy_bytes == total, "copy_bytes {} for {total} bytes received", s1.copy_bytes);
    // 7.3 counts one copy per fragment of the socket buffer it copied
    // from, and a fragment longer than a buffer makes several completions
    // (the header's comment says "CQEs"): between 1 and the completions.
    let n1 = seen.chunks.len() as u64;
    ensure!((1..=n1).contains(&s1.copy_count), "copy_count {} for {n1} completions", s1.copy_count);
    // Fired: arming works once, then is refused again.
    z.ring.submitter().register_zcrx_arm_event(id, ZcrxEvent::Copy).context("ARM_EVENT after it fired")?;
    let r = z.ring.submitter().register_zcrx_arm_event(id, ZcrxEvent::Copy);
    ensure!(r == Err(Errno::INVAL), "arming COPY twice: {r:?}");
    let x = Xfer::new(id, &areas, &rx, &mut tx, 4 * page).at(total);
    let mut seen2 = transfer(&mut z.ring, &mut z.rq, x)?;
    ensure!(seen2.end == Some(0), "second transfer: {seen2:?}");
    settle(&mut z.ring, &mut seen2)?;
    ensure!(seen2.events == [ZcrxEvent::Copy as i32], "events after re-arming: {:?}", seen2.events);
    let s2 = stats(&z)?;
    ensure!(s2.copy_bytes == total + 4 * page, "copy_bytes {} after {} more", s2.copy_bytes, 4 * page);
    let n2 = seen2.chunks.len() as u64;
    ensure!((s1.copy_count + 1..=s1.copy_count + n2).contains(&s2.copy_count), "{n2} more: {s1:?} -> {s2:?}");
    drop(z);

    // Only ALLOC_FAIL asked for: the copies post nothing.
    let mut a = Nodev::new(&q, 16, 64, Some(ZcrxEventDesc::new(EVENT_UD, ZcrxEvents::ALLOC_FAIL)))?;
    let areas = [a.area()];
    let (mut tx, rx) = tcp_pair()?;
    let x = Xfer::new(a.reg.zcrx_id, &areas, &rx, &mut tx, 4 * page);
    let mut seen = transfer(&mut a.ring, &mut a.rq, x)?;
    ensure!(seen.end == Some(0), "ALLOC_FAIL-only queue: {seen:?}");
    settle(&mut a.ring, &mut seen)?;
    ensure!(seen.events.is_empty(), "events on a queue that asked only for ALLOC_FAIL: {:?}", seen.events);
    let s = a.rq.stats(a.stats_offset).context("stats offset")?;
    ensure!(s.copy_bytes == 4 * page, "stats kept without the COPY event: {s:?}");
    Ok(())
}
