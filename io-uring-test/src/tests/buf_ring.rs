//! Tests of `src/buf_ring/` on the kernel: 100,000 messages through a ring
//! of 8 buffers (plain, incremental, bundles, kernel-mapped), the status
//! calls, what a 0 result does in each mode, the error paths, a
//! completion taken after the ring position wrapped, and a failed
//! receive without a buffer.

use std::io::Write as _;
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use urix::buf_ring::{BufRing, BufSlot};
use urix::types::{BufRingEntry, Fd};
use urix::{cqueue, opcode, squeue, Errno, IoUring};

use super::recv::wait_inq;
use crate::harness::{Ctx, Req, Test};
use crate::util::{kernel_version, needs_kernel, one, pipe, push_all, push_submit, reap, tcp_pair, Pages};
use crate::{skip, test_once};

const RECV: Req = Req::Op(opcode::RecvMulti::CODE, "RECV");
const READ: Req = Req::Op(opcode::Read::CODE, "READ");

pub fn tests() -> Vec<Test> {
    vec![
        test_once!(buf_ring_stream_plain, requires = [RECV]),
        test_once!(buf_ring_stream_incremental, requires = [RECV]),
        test_once!(buf_ring_stream_bundle, requires = [RECV]),
        test_once!(buf_ring_stream_incremental_bundle, requires = [RECV]),
        test_once!(buf_ring_stream_mapped, requires = [RECV]),
        test_once!(buf_ring_available_and_kernel_head, requires = [RECV]),
        test_once!(buf_ring_incremental_readers_hold_a_finished_buffer, requires = [RECV]),
        test_once!(buf_ring_zero_results_by_mode, requires = [READ]),
        test_once!(buf_ring_error_paths, requires = [RECV]),
        test_once!(regression_buf_ring_late_completion_after_the_wrap_reads_its_own_buffer, requires = [READ]),
        test_once!(regression_buf_ring_failed_receive_without_a_buffer_is_an_error, requires = [RECV]),
    ]
}

/// `n` zeroed ring entries at the start of `page` (page-aligned).
pub(super) fn ring_entries(page: &mut Pages, n: usize) -> &mut [BufRingEntry] {
    let bytes = page.bytes();
    assert!(bytes.len() >= n * size_of::<BufRingEntry>());
    // SAFETY: the mapping is page-aligned (so 8-aligned), zeroed, large
    // enough, and borrowed mutably from `page`; BufRingEntry is plain data.
    unsafe { std::slice::from_raw_parts_mut(bytes.as_mut_ptr().cast::<BufRingEntry>(), n) }
}

/// A one-shot receive of up to one buffer from group `bgid`.
fn recv_select(fd: Fd, bgid: u16) -> squeue::Entry {
    opcode::Recv::new(fd, std::ptr::null_mut(), 0).buf_group(bgid).build().flags(squeue::Flags::BUFFER_SELECT)
}

// ---------------------------------------------------------------------
// 100,000 messages

const MESSAGES: u64 = 100_000;
const ENTRIES: u16 = 8;
const BUF_LEN: u32 = 16;
const BGID: u16 = 11;

#[derive(Debug, Clone, Copy)]
struct Mode {
    inc: bool,
    bundle: bool,
    mapped: bool,
}

/// Message `i`: its sequence number (8 bytes LE), then `i % 23` bytes
/// that depend on `i`.
pub(super) fn messages(n: u64) -> (Vec<u8>, Vec<usize>) {
    let (mut data, mut ends) = (Vec::new(), Vec::new());
    for i in 0..n {
        data.extend_from_slice(&i.to_le_bytes());
        data.extend((0..i % 23).map(|j| (i as u8).wrapping_mul(31).wrapping_add(j as u8)));
        ends.push(data.len());
    }
    (data, ends)
}

/// Writes `data` in batches of 1 to 7 messages, then ends the stream.
fn send_all(mut client: TcpStream, data: &[u8], ends: &[usize]) -> std::io::Result<()> {
    let (mut i, mut start) = (0, 0);
    while i < ends.len() {
        let end = ends[(i + i % 7 + 1).min(ends.len()) - 1];
        client.write_all(&data[start..end])?;
        start = end;
        i += i % 7 + 1;
    }
    client.shutdown(Shutdown::Write)
}

/// Compares the received stream with the sent one, message by message.
fn check_stream(got: &[u8], data: &[u8], ends: &[usize]) -> anyhow::Result<()> {
    check_stream_prefix(got, data, ends)?;
    ensure!(got.len() == data.len(), "received {} of {} bytes", got.len(), data.len());
    Ok(())
}

/// Checks that `got` is the start of the sent stream, message by message
/// (the last message may be cut short).
pub(super) fn check_stream_prefix(got: &[u8], data: &[u8], ends: &[usize]) -> anyhow::Result<()> {
    ensure!(got.len() <= data.len(), "{} bytes after the last message", got.len() - data.len());
    let mut start = 0;
    for (i, &end) in ends.iter().enumerate() {
        let end = end.min(got.len());
        if got[start..end] != data[start..end] {
            let seq = got.get(start..start + 8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
            bail!("message {i} at byte {start}: got sequence {seq:?} (received {} of {} bytes)", got.len(), data.len());
        }
        if end == got.len() {
            break;
        }
        start = end;
    }
    Ok(())
}

#[derive(Debug, Default)]
struct Figures {
    completions: u64,
    buffers: u64,
    rearms: u64,
}

/// Sends [`MESSAGES`] messages over loopback TCP and receives them with a
/// multishot receive from a [`BufRing`] of 8 buffers of 16 bytes,
/// recycling every buffer; re-arms on ENOBUFS.
fn stream(name: &str, mode: Mode) -> anyhow::Result<()> {
    if mode.inc {
        needs_kernel(6, 12, "IOU_PBUF_RING_INC (incremental buffer rings)")?;
    }
    if mode.mapped {
        needs_kernel(6, 4, "IOU_PBUF_RING_MMAP (kernel-allocated buffer rings)")?;
    }
    let (data, ends) = messages(MESSAGES);
    let mut page = Pages::new(4096)?;
    let mut bufs = vec![0u8; usize::from(ENTRIES) * BUF_LEN as usize];
    let mut slots = vec![BufSlot::default(); usize::from(ENTRIES)];
    let group = if mode.mapped {
        BufRing::new_mapped(ENTRIES, &mut bufs, BUF_LEN, &mut slots)
    } else {
        BufRing::new(ring_entries(&mut page, ENTRIES.into()), &mut bufs, BUF_LEN, &mut slots)
    };
    let mut group = group.context("BufRing")?.incremental(mode.inc);
    // Made after the memory, so dropped before it: an error return with
    // the receive still armed ends the ring first.
    let mut ring = IoUring::new(64)?;
    if mode.bundle && !ring.params().is_feature_recvsend_bundle() {
        skip!("kernel lacks FEAT_RECVSEND_BUNDLE");
    }
    // SAFETY: the memory outlives the ring (see above) and the group is
    // unregistered at the end; only the multishot receive below selects
    // from the group, one at a time, and its completions reach take* in
    // order, bundles to take_bundle.
    unsafe { group.register(&ring.submitter(), BGID) }.context("register")?;
    let (client, server) = tcp_pair()?;
    let fd = Fd(server.as_raw_fd());
    let arm = || {
        if mode.bundle {
            opcode::RecvMultiBundle::new(fd, BGID).build()
        } else {
            opcode::RecvMulti::new(fd, BGID).build()
        }
    };
    let start = Instant::now();
    let (got, f) = std::thread::scope(|s| -> anyhow::Result<(Vec<u8>, Figures)> {
        let sender = s.spawn(|| send_all(client, &data, &ends));
        let mut got = Vec::with_capacity(data.len());
        let mut f = Figures::default();
        push_submit(&mut ring, &arm())?;
        loop {
            ensure!(start.elapsed() < Duration::from_secs(60), "stuck after {} of {} bytes", got.len(), data.len());
            ring.submit_and_wait(1).context("submit_and_wait")?;
            let (mut rearm, mut eof) = (false, false);
            let mut cq = ring.completion();
            for cqe in &mut cq {
                f.completions += 1;
                let picked = match if mode.bundle { group.take_bundle(&cqe) } else { group.take(&cqe) } {
                    // The receive's own error (ENOBUFS: re-armed below).
                    Err(e) if cqe.result() == Err(e) => None,
                    r => r.with_context(|| format!("take {cqe:?} after {} bytes", got.len()))?,
                };
                if let Some(p) = picked {
                    f.buffers += u64::from(p.buffers() - u16::from(p.more()));
                    let at = got.len();
                    got.resize(at + p.len(), 0);
                    ensure!(group.copy_to(&p, &mut got[at..]) == p.len(), "short copy");
                    group.recycle(p).context("recycle")?;
                }
                if !cqueue::more(cqe.flags()) {
                    match cqe.result() {
                        Ok(0) => eof = true,
                        Ok(_) | Err(Errno::NOBUFS) => rearm = true,
                        Err(e) => bail!("the receive ended with {e} after {} bytes", got.len()),
                    }
                }
            }
            group.cq_advance(&mut cq);
            drop(cq);
            if eof {
                break;
            }
            if rearm {
                f.rearms += 1;
                push_submit(&mut ring, &arm())?;
            }
        }
        sender.join().expect("sender thread").context("send")?;
        Ok((got, f))
    })?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    check_stream(&got, &data, &ends)?;
    println!(
        "    {name}: {MESSAGES} messages, {} bytes, {} completions, {} buffers, {} re-arms, {ms:.0} ms",
        got.len(),
        f.completions,
        f.buffers,
        f.rearms
    );
    ensure!(f.buffers > 65_536, "only {} buffers went through: the u16 tail never wrapped", f.buffers);
    // The kernel's head can be read since 6.8 (PBUF_STATUS).
    if kernel_version() >= (6, 8) {
        ensure!(group.available(&ring.submitter())? == ENTRIES, "not every buffer is back in the ring");
    }
    group.unregister(&ring.submitter())?;
    Ok(())
}

fn buf_ring_stream_plain(_: &Ctx) -> anyhow::Result<()> {
    stream("plain", Mode { inc: false, bundle: false, mapped: false })
}

fn buf_ring_stream_incremental(_: &Ctx) -> anyhow::Result<()> {
    stream("incremental", Mode { inc: true, bundle: false, mapped: false })
}

fn buf_ring_stream_bundle(_: &Ctx) -> anyhow::Result<()> {
    stream("bundle", Mode { inc: false, bundle: true, mapped: false })
}

fn buf_ring_stream_incremental_bundle(_: &Ctx) -> anyhow::Result<()> {
    stream("incremental bundle", Mode { inc: true, bundle: true, mapped: false })
}

fn buf_ring_stream_mapped(_: &Ctx) -> anyhow::Result<()> {
    stream("kernel-mapped", Mode { inc: false, bundle: false, mapped: true })
}

// ---------------------------------------------------------------------
// Status and modes

fn buf_ring_available_and_kernel_head(_: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 8, "IORING_REGISTER_PBUF_STATUS")?;
    let mut page = Pages::new(4096)?;
    let (mut bufs, mut slots) = (vec![0u8; 8 * 16], vec![BufSlot::default(); 8]);
    let mut group = BufRing::new(ring_entries(&mut page, 8), &mut bufs, 16, &mut slots)?;
    let mut ring = IoUring::new(16)?;
    // SAFETY: memory before ring; only the receives below use group 3.
    unsafe { group.register(&ring.submitter(), 3) }?;
    let status = |g: &BufRing<'_>, ring: &IoUring| -> anyhow::Result<(u16, u16)> {
        Ok((g.available(&ring.submitter())?, g.kernel_head(&ring.submitter())?))
    };
    ensure!(status(&group, &ring)? == (8, 0), "fresh: {:?}", status(&group, &ring)?);
    let (mut client, server) = tcp_pair()?;
    let fd = Fd(server.as_raw_fd());
    client.write_all(&[7u8; 40])?;
    wait_inq(fd.0, 40)?;
    let mut picked = Vec::new();
    for (k, want) in [16, 16, 8].into_iter().enumerate() {
        let c = one(&mut ring, recv_select(fd, 3))?;
        let p = group.take(&c)?.with_context(|| format!("receive {k} used no buffer: {c:?}"))?;
        ensure!(p.len() == want && group.bytes(&p) == &[7u8; 16][..want], "receive {k}: {} bytes", p.len());
        picked.push(p);
        let n = k as u16 + 1;
        ensure!(status(&group, &ring)? == (8 - n, n), "after {n} receives: {:?}", status(&group, &ring)?);
    }
    // Recycled but not published: the kernel sees no change.
    group.recycle(picked.remove(0))?;
    group.recycle(picked.remove(0))?;
    ensure!(status(&group, &ring)? == (5, 3), "before advance: {:?}", status(&group, &ring)?);
    group.advance();
    ensure!(status(&group, &ring)? == (7, 3), "after advance: {:?}", status(&group, &ring)?);
    group.recycle(picked.remove(0))?;
    group.cq_advance(&mut ring.completion());
    ensure!(status(&group, &ring)? == (8, 3), "after cq_advance: {:?}", status(&group, &ring)?);
    group.unregister(&ring.submitter())?;
    ensure!(group.available(&ring.submitter()) == Err(Errno::INVAL), "status after unregister");
    Ok(())
}

fn buf_ring_incremental_readers_hold_a_finished_buffer(_: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 12, "IOU_PBUF_RING_INC (incremental buffer rings)")?;
    let mut page = Pages::new(4096)?;
    let (mut bufs, mut slots) = (vec![0u8; 2 * 16], vec![BufSlot::default(); 2]);
    let mut group = BufRing::new(ring_entries(&mut page, 2), &mut bufs, 16, &mut slots)?.incremental(true);
    let mut ring = IoUring::new(8)?;
    // SAFETY: memory before ring; only the receives below use group 4,
    // one at a time, taken in order.
    unsafe { group.register(&ring.submitter(), 4) }?;
    let (mut client, server) = tcp_pair()?;
    let fd = Fd(server.as_raw_fd());
    let mut piece = |data: &[u8]| -> anyhow::Result<cqueue::Entry> {
        client.write_all(data)?;
        wait_inq(fd.0, data.len())?;
        one(&mut ring, recv_select(fd, 4))
    };
    let c1 = piece(b"abcde")?;
    let c2 = piece(b"fghijklmnop")?;
    let p1 = group.take(&c1)?.context("piece 1")?;
    let p2 = group.take(&c2)?.context("piece 2")?;
    ensure!(p1.bid() == 0 && p2.bid() == 0, "both pieces in buffer 0: {} {}", p1.bid(), p2.bid());
    ensure!(p1.more() && !p2.more(), "BUF_MORE: {} then {}", p1.more(), p2.more());
    ensure!(group.bytes(&p1) == b"abcde" && group.bytes(&p2) == b"fghijklmnop", "pieces hold other bytes");
    let status = |g: &BufRing<'_>, ring: &IoUring| -> anyhow::Result<(u16, u16)> {
        Ok((g.available(&ring.submitter())?, g.kernel_head(&ring.submitter())?))
    };
    ensure!(status(&group, &ring)? == (1, 1), "buffer 0 finished: {:?}", status(&group, &ring)?);
    group.recycle(p2)?;
    group.advance();
    ensure!(group.add(0) == Err(Errno::BUSY), "piece 1 still reads buffer 0");
    ensure!(status(&group, &ring)? == (1, 1), "buffer 0 went back while read: {:?}", status(&group, &ring)?);
    ensure!(group.bytes(&p1) == b"abcde", "piece 1 changed");
    group.recycle(p1)?;
    group.advance();
    ensure!(status(&group, &ring)? == (2, 1), "buffer 0 is not back: {:?}", status(&group, &ring)?);
    group.unregister(&ring.submitter())?;
    Ok(())
}

/// A read at end of file: without incremental mode it uses a buffer up
/// (an empty Picked); in incremental mode it consumes nothing.
fn buf_ring_zero_results_by_mode(_: &Ctx) -> anyhow::Result<()> {
    // Both modes read the kernel's head (PBUF_STATUS).
    needs_kernel(6, 8, "IORING_REGISTER_PBUF_STATUS")?;
    if kernel_version() < (6, 12) {
        // Without incremental mode (6.12), the plain pass is what is left.
        return zero_result(false);
    }
    zero_result(false)?;
    zero_result(true)
}

/// A read at EOF selecting a buffer, in plain or incremental mode.
fn zero_result(inc: bool) -> anyhow::Result<()> {
    let mut page = Pages::new(4096)?;
    let (mut bufs, mut slots) = (vec![0u8; 4 * 16], vec![BufSlot::default(); 4]);
    let mut group = BufRing::new(ring_entries(&mut page, 4), &mut bufs, 16, &mut slots)?.incremental(inc);
    let mut ring = IoUring::new(8)?;
    // SAFETY: memory before ring; only the read below uses group 9.
    unsafe { group.register(&ring.submitter(), 9) }?;
    let (rx, tx) = pipe()?;
    drop(tx);
    let read = opcode::Read::new(Fd(rx.as_raw_fd()), std::ptr::null_mut(), 16)
        .buf_group(9)
        .offset(u64::MAX)
        .build()
        .flags(squeue::Flags::BUFFER_SELECT);
    let c = one(&mut ring, read)?;
    ensure!(c.result() == Ok(0), "inc {inc}: read at EOF: {:?}", c.result());
    ensure!(cqueue::buffer_select(c.flags()).is_some(), "inc {inc}: the kernel names no buffer");
    let head = group.kernel_head(&ring.submitter())?;
    match group.take(&c)? {
        Some(p) => {
            ensure!(!inc && p.is_empty() && head == 1, "inc {inc}: a Picked of {} bytes, head {head}", p.len());
            group.recycle(p)?;
            group.advance();
        }
        None => ensure!(inc && head == 0, "inc {inc}: nothing taken, head {head}"),
    }
    ensure!(group.available(&ring.submitter())? == 4, "inc {inc}: not every buffer is in the ring");
    group.unregister(&ring.submitter())?;
    Ok(())
}

// ---------------------------------------------------------------------
// Error paths

fn buf_ring_error_paths(_: &Ctx) -> anyhow::Result<()> {
    // The kernel wants a page-aligned ring; new() checks it.
    let mut odd = Pages::new(8192)?;
    let entries = &mut ring_entries(&mut odd, 9)[1..];
    let (mut b0, mut s0) = (vec![0u8; 8 * 16], vec![BufSlot::default(); 8]);
    ensure!(BufRing::new(entries, &mut b0, 16, &mut s0).err() == Some(Errno::INVAL), "unaligned ring");

    let (mut page_a, mut page_b) = (Pages::new(4096)?, Pages::new(4096)?);
    let (mut bufs_a, mut slots_a) = (vec![0u8; 8 * 16], vec![BufSlot::default(); 8]);
    let (mut bufs_b, mut slots_b) = (vec![0u8; 8 * 16], vec![BufSlot::default(); 8]);
    let mut a = BufRing::new(ring_entries(&mut page_a, 8), &mut bufs_a, 16, &mut slots_a)?;
    let mut b = BufRing::new(ring_entries(&mut page_b, 8), &mut bufs_b, 16, &mut slots_b)?;
    let mut ring = IoUring::new(16)?;
    let other = IoUring::new(4)?;
    // SAFETY: memory before rings; only the receives below use group 5,
    // and group 6 gets no operation at all.
    unsafe { a.register(&ring.submitter(), 5) }?;
    // SAFETY: as above.
    ensure!(unsafe { a.register(&ring.submitter(), 5) } == Err(Errno::BUSY), "registered twice");
    // SAFETY: as above.
    let dup = unsafe { b.register(&ring.submitter(), 5) };
    ensure!(dup == Err(Errno::EXIST), "a group id in use: {dup:?}");
    // SAFETY: as above.
    unsafe { b.register(&ring.submitter(), 6) }?;

    ensure!(a.add(0) == Err(Errno::BUSY), "add of a buffer in the ring");
    ensure!(a.add(8) == Err(Errno::INVAL), "add out of range");
    let nop = one(&mut ring, opcode::Nop::new().build())?;
    ensure!(a.take(&nop)?.is_none(), "a NOP used no buffer");

    let (mut client, server) = tcp_pair()?;
    let fd = Fd(server.as_raw_fd());
    client.write_all(b"first")?;
    wait_inq(fd.0, 5)?;
    let c = one(&mut ring, recv_select(fd, 5))?;
    let p = a.take(&c)?.context("the receive used no buffer")?;
    ensure!(a.bytes(&p) == b"first", "received {:?}", a.bytes(&p));
    ensure!(a.take(&c.clone()).err() == Some(Errno::ALREADY), "a clone taken again");
    ensure!(a.add(p.bid()) == Err(Errno::BUSY), "add of a buffer a Picked reads");
    // Another ring's Picked: no bytes, refused.
    ensure!(b.bytes(&p).is_empty() && b.chunks(&p).count() == 0, "ring b read ring a's buffer");
    ensure!(b.copy_to(&p, &mut [0u8; 16]) == 0, "ring b copied ring a's buffer");
    a.recycle(p)?;
    a.advance();
    ensure!(a.take(&c).err() == Some(Errno::ALREADY), "taken again after recycling");
    client.write_all(b"second")?;
    wait_inq(fd.0, 6)?;
    let q = a.take(&one(&mut ring, recv_select(fd, 5))?)?.context("second receive")?;
    ensure!(b.recycle(q) == Err(Errno::INVAL), "ring b recycled ring a's Picked");

    // Status and unregister through another ring are refused (both before
    // the kernel is asked: PBUF_STATUS itself is 6.8).
    ensure!(a.kernel_head(&other.submitter()) == Err(Errno::INVAL), "status through another ring");
    ensure!(a.unregister(&other.submitter()) == Err(Errno::INVAL), "unregister through another ring");
    a.unregister(&ring.submitter())?;
    ensure!(a.unregister(&ring.submitter()) == Err(Errno::INVAL), "unregistered twice");
    ensure!(a.add(0) == Err(Errno::INVAL), "add while unregistered");
    // A new registration puts back all but the buffer whose Picked was lost.
    // SAFETY: as above; nothing of the first registration is in flight.
    unsafe { a.register(&ring.submitter(), 5) }?;
    if kernel_version() >= (6, 8) {
        ensure!(a.available(&ring.submitter())? == 7, "available {:?}", a.available(&ring.submitter()));
    }
    a.unregister(&ring.submitter())?;
    b.unregister(&ring.submitter())?;
    Ok(())
}

// ---------------------------------------------------------------------
// Regressions

/// A 16-byte message: `tag`, then `n` (LE), then filler.
fn message16(tag: &[u8; 4], n: u64) -> [u8; 16] {
    let mut m = [0x5au8; 16];
    m[..4].copy_from_slice(tag);
    m[4..12].copy_from_slice(&n.to_le_bytes());
    m
}

/// Issue 15, item 1: the kernel takes buffer 0 for a read whose completion
/// is taken only after 65,536 more buffers went through the ring, when
/// another buffer sits at the same 16-bit ring position and is still the
/// kernel's. The late take must read the bytes of that read (ids that
/// were ring positions handed out the other buffer, which later reads
/// then wrote into).
fn regression_buf_ring_late_completion_after_the_wrap_reads_its_own_buffer(_: &Ctx) -> anyhow::Result<()> {
    const N: u16 = 8;
    const BGID: u16 = 21;
    let mut page = Pages::new(4096)?;
    let (mut bufs, mut slots) = (vec![0u8; usize::from(N) * 16], vec![BufSlot::default(); usize::from(N)]);
    let mut group = BufRing::new(ring_entries(&mut page, N.into()), &mut bufs, 16, &mut slots)?;
    let mut ring = IoUring::new(16)?;
    // SAFETY: memory before ring; only the reads below use group 21, and
    // each completion goes to `take` once (the late one, later).
    unsafe { group.register(&ring.submitter(), BGID) }?;
    let (rx, mut tx) = pipe()?;
    let read = opcode::Read::new(Fd(rx.as_raw_fd()), std::ptr::null_mut(), 16)
        .buf_group(BGID)
        .offset(u64::MAX)
        .build()
        .flags(squeue::Flags::BUFFER_SELECT);
    // The late one: ring position 0.
    let late_bytes = message16(b"LATE", 0);
    tx.write_all(&late_bytes)?;
    let late = one(&mut ring, read.clone())?;
    ensure!(late.result() == Ok(16) && cqueue::buffer_select(late.flags()).is_some(), "late read: {late:?}");
    // Batches of 7 reads through the other 7 buffers, until the kernel's
    // head is at 65535: position 65536 (0 in 16 bits) then holds a buffer
    // the kernel has not taken yet.
    let mut head: u32 = 1;
    let mut n: u64 = 0;
    let batch = |group: &mut BufRing<'_>, ring: &mut IoUring, tx: &mut std::fs::File, n: &mut u64| {
        let msgs: Vec<[u8; 16]> = (0..7).map(|k| message16(b"read", *n + k)).collect();
        tx.write_all(&msgs.concat())?;
        push_all(ring, &vec![read.clone(); 7])?;
        for c in reap(ring, 7)? {
            let p = group.take(&c).with_context(|| format!("take {c:?} after {n} reads"))?.context("no buffer")?;
            ensure!(p.bid() != 0, "buffer 0 is the late read's");
            let got: [u8; 16] = group.bytes(&p).try_into().context("16 bytes")?;
            ensure!(msgs.contains(&got), "read after {n}: {got:?}");
            group.recycle(p)?;
        }
        group.advance();
        *n += 7;
        anyhow::Ok(())
    };
    while head + 7 <= 65_535 {
        batch(&mut group, &mut ring, &mut tx, &mut n)?;
        head += 7;
    }
    ensure!(head == 65_535, "head {head}");
    if kernel_version() >= (6, 8) {
        let kh = group.kernel_head(&ring.submitter())?;
        ensure!(kh == 65_535, "the kernel's head is {kh}");
    }
    let p = group.take(&late).context("the late completion")?.context("no buffer")?;
    ensure!(p.bid() == 0, "the late completion got buffer {}", p.bid());
    ensure!(group.bytes(&p) == late_bytes, "the late completion reads {:?}", group.bytes(&p));
    // The kernel goes on with the buffers in the ring: none of them is
    // the one the late Picked reads.
    for _ in 0..3 {
        batch(&mut group, &mut ring, &mut tx, &mut n)?;
    }
    ensure!(group.bytes(&p) == late_bytes, "the kernel wrote into the late Picked: {:?}", group.bytes(&p));
    group.recycle(p)?;
    group.advance();
    if kernel_version() >= (6, 8) {
        ensure!(group.available(&ring.submitter())? == N, "not every buffer is back");
    }
    println!("    {} reads, {} adds before the late take", n + 1, u32::from(N) + 65_535 - 1);
    group.unregister(&ring.submitter())?;
    Ok(())
}

/// Issue 14: a multishot receive whose group runs dry ends with ENOBUFS
/// and names no buffer; `take` reports the error instead of `Ok(None)`,
/// which reads as the end of the stream. The end of the stream itself
/// stays `Ok(None)`.
fn regression_buf_ring_failed_receive_without_a_buffer_is_an_error(_: &Ctx) -> anyhow::Result<()> {
    let mut page = Pages::new(4096)?;
    let (mut bufs, mut slots) = (vec![0u8; 2 * 16], vec![BufSlot::default(); 2]);
    let mut group = BufRing::new(ring_entries(&mut page, 2), &mut bufs, 16, &mut slots)?;
    let mut ring = IoUring::new(8)?;
    // SAFETY: memory before ring; only the receives below use group 22.
    unsafe { group.register(&ring.submitter(), 22) }?;
    let (mut client, server) = tcp_pair()?;
    let fd = Fd(server.as_raw_fd());
    client.write_all(&[1u8; 40])?;
    wait_inq(fd.0, 40)?;
    push_submit(&mut ring, &opcode::RecvMulti::new(fd, 22).build())?;
    // Two buffers of 16 bytes, then the group is dry: ENOBUFS ends it.
    let cs = reap(&mut ring, 3)?;
    let mut picked = Vec::new();
    for c in &cs[..2] {
        picked.push(group.take(c)?.with_context(|| format!("no buffer: {c:?}"))?);
    }
    let end = &cs[2];
    ensure!(end.result() == Err(Errno::NOBUFS) && !cqueue::more(end.flags()), "the last completion: {end:?}");
    ensure!(cqueue::buffer_select(end.flags()).is_none(), "ENOBUFS named a buffer: {end:?}");
    let r = group.take(end);
    ensure!(matches!(r, Err(Errno::NOBUFS)), "take of the ENOBUFS completion: {r:?}");
    for p in picked {
        group.recycle(p)?;
    }
    group.advance();
    // The rest of the bytes, then the end of the stream: Ok(None).
    push_submit(&mut ring, &opcode::RecvMulti::new(fd, 22).build())?;
    let c = reap(&mut ring, 1)?.remove(0);
    let p = group.take(&c)?.with_context(|| format!("the last 8 bytes: {c:?}"))?;
    ensure!(group.bytes(&p) == [1u8; 8], "received {:?}", group.bytes(&p));
    group.recycle(p)?;
    group.advance();
    drop(client);
    let end = reap(&mut ring, 1)?.remove(0);
    ensure!(end.result() == Ok(0) && !cqueue::more(end.flags()), "end of stream: {end:?}");
    ensure!(group.take(&end)?.is_none(), "the end of the stream used a buffer");
    group.unregister(&ring.submitter())?;
    Ok(())
}
