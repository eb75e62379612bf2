//! Resource tables beyond the plain forms the opcode tests use: tagged and
//! sparse buffer tables and their updates, cloning a buffer table between
//! rings, and the range the kernel allocates file slots from.

use std::ffi::CString;
use std::io::Write;
use std::os::fd::AsRawFd;

use anyhow::{ensure, Context};
use urix::types::{iovec, CloneBuffersFlags, DestinationSlot, Fd, Fixed};
use urix::{cqueue, opcode, Errno, IoUring};

use crate::harness::{reg, Ctx, Req, Test};
use crate::test_once;
use crate::util::{kernel_version, needs_kernel, one, reap, tempfile, Pages};

const READ_FIXED: Req = Req::Op(opcode::ReadFixed::CODE, "READ_FIXED");

pub fn tests() -> Vec<Test> {
    vec![
        test_once!(
            tagged_buffers_post_their_tags,
            requires = [reg::BUFFERS2, reg::BUFFERS_UPDATE, reg::UNREGISTER_BUFFERS, READ_FIXED]
        ),
        test_once!(
            incremental_buffer_retired_below_min_left,
            requires = [reg::PBUF_RING, Req::Op(opcode::Read::CODE, "READ")]
        ),
        test_once!(sparse_buffer_table_filled_by_update, requires = [reg::BUFFERS2, reg::BUFFERS_UPDATE, READ_FIXED]),
        test_once!(cloned_buffer_tables_reach_the_same_memory, requires = [reg::CLONE_BUFFERS, READ_FIXED]),
        test_once!(
            alloc_range_bounds_automatic_slots,
            requires = [reg::FILES2, reg::FILE_ALLOC_RANGE, Req::Op(opcode::OpenAt::CODE, "OPENAT")]
        ),
    ]
}

const PAGE: usize = 4096;

/// A file holding 4 KiB of `byte`, and pages for `n` buffers.
fn setup(byte: u8, n: usize) -> anyhow::Result<(std::fs::File, Pages, Vec<iovec>)> {
    let mut file = tempfile()?;
    file.write_all(&[byte; PAGE])?;
    let mem = Pages::new(n * PAGE)?;
    let bufs = (0..n).map(|i| iovec { iov_base: mem.ptr.wrapping_add(i * PAGE).cast(), iov_len: PAGE }).collect();
    Ok((file, mem, bufs))
}

/// Reads 100 bytes of `file` into `addr` through registered buffer `index`.
fn read_fixed(ring: &mut IoUring, file: &std::fs::File, addr: *mut u8, index: u16) -> anyhow::Result<cqueue::Entry> {
    one(ring, opcode::ReadFixed::new(Fd(file.as_raw_fd()), addr, 100, index).build().user_data(7))
}

/// Whether the 100 bytes at `offset` of `mem` are all `byte`.
fn holds(mem: &mut Pages, offset: usize, byte: u8) -> bool {
    mem.bytes()[offset..offset + 100].iter().all(|&b| b == byte)
}

/// The tags posted as completions (user_data = tag, result 0), sorted.
fn tags_posted(ring: &mut IoUring, n: usize) -> anyhow::Result<Vec<u64>> {
    let cqes = reap(ring, n)?;
    ensure!(cqes.iter().all(|c| c.result() == Ok(0)), "tag completions: {cqes:?}");
    let mut tags: Vec<u64> = cqes.iter().map(|c| c.user_data_u64()).collect();
    tags.sort_unstable();
    Ok(tags)
}

fn tagged_buffers_post_their_tags(_: &Ctx) -> anyhow::Result<()> {
    // Before the resource-node rework of 6.13 tags were posted lazily
    // (in our runs 6.1 and 6.12 posted none on unregister within 10 s).
    needs_kernel(6, 13, "tag CQEs posted when a buffer is replaced or unregistered")?;
    let (file, mut mem, bufs) = setup(b'T', 3)?;
    let mut ring = IoUring::new(8)?;
    // SAFETY: `mem` outlives the ring (declared before it).
    unsafe { ring.submitter().register_buffers2(&bufs[..2], &[11, 22]) }.context("register_buffers2")?;
    let c = read_fixed(&mut ring, &file, mem.ptr.wrapping_add(PAGE), 1)?;
    ensure!(c.result() == Ok(100) && holds(&mut mem, PAGE, b'T'), "read into buffer 1: {c:?}");
    // Replacing buffer 1 posts its tag once the kernel is done with it.
    // SAFETY: as above.
    unsafe { ring.submitter().register_buffers_update(1, &bufs[2..], Some(&[33])) }.context("update")?;
    ensure!(tags_posted(&mut ring, 1)? == [22], "tag of the replaced buffer");
    let c = read_fixed(&mut ring, &file, mem.ptr.wrapping_add(2 * PAGE), 1)?;
    ensure!(c.result() == Ok(100) && holds(&mut mem, 2 * PAGE, b'T'), "buffer 1 is now the third page: {c:?}");
    let c = read_fixed(&mut ring, &file, mem.ptr.wrapping_add(PAGE + 200), 1)?;
    ensure!(c.result() == Err(Errno::FAULT), "the old page is no longer buffer 1: {c:?}");
    // Tags of another length are refused before the kernel sees them.
    // SAFETY: nothing is registered.
    let r = unsafe { ring.submitter().register_buffers_update(0, &bufs[..1], Some(&[1, 2])) };
    ensure!(r == Err(Errno::INVAL), "tag count mismatch: {r:?}");
    // Unregistering posts the remaining tags; the table is gone.
    ring.submitter().unregister_buffers()?;
    ensure!(tags_posted(&mut ring, 2)? == [11, 33], "tags on unregister");
    let c = read_fixed(&mut ring, &file, mem.ptr, 0)?;
    ensure!(c.result() == Err(Errno::FAULT), "read_fixed without a table: {c:?}");
    Ok(())
}

fn sparse_buffer_table_filled_by_update(_: &Ctx) -> anyhow::Result<()> {
    let (file, mut mem, bufs) = setup(b'S', 1)?;
    let mut ring = IoUring::new(8)?;
    ring.submitter().register_buffers_sparse(4).context("register_buffers_sparse")?;
    let c = read_fixed(&mut ring, &file, mem.ptr, 2)?;
    ensure!(c.result() == Err(Errno::FAULT), "empty slot 2: {c:?}");
    // SAFETY: `mem` outlives the ring.
    unsafe { ring.submitter().register_buffers_update(2, &bufs, None) }.context("fill slot 2")?;
    let c = read_fixed(&mut ring, &file, mem.ptr, 2)?;
    ensure!(c.result() == Ok(100) && holds(&mut mem, 0, b'S'), "slot 2 filled: {c:?}");
    // SAFETY: as above.
    let r = unsafe { ring.submitter().register_buffers_update(4, &bufs, None) };
    ensure!(r == Err(Errno::INVAL), "slot 4 of 4: {r:?}");
    Ok(())
}

fn cloned_buffer_tables_reach_the_same_memory(_: &Ctx) -> anyhow::Result<()> {
    let (file, mut mem, bufs) = setup(b'C', 2)?;
    let src = IoUring::new(4)?;
    // SAFETY: `mem` outlives every ring here (declared before them).
    unsafe { src.submitter().register_buffers(&bufs) }?;
    // The whole table.
    let mut whole = IoUring::new(4)?;
    whole.submitter().register_buffers_clone(src.as_raw_fd()).context("clone the whole table")?;
    let c = read_fixed(&mut whole, &file, mem.ptr.wrapping_add(PAGE), 1)?;
    ensure!(c.result() == Ok(100) && holds(&mut mem, PAGE, b'C'), "clone's buffer 1: {c:?}");
    let r = whole.submitter().register_buffers_clone(src.as_raw_fd());
    ensure!(r == Err(Errno::BUSY), "clone into a ring that has a table: {r:?}");
    // One buffer, into slot 3 of a sparse table (DST_REPLACE lets it land
    // in an existing table).
    let mut part = IoUring::new(4)?;
    part.submitter().register_buffers_sparse(4)?;
    let r = part.submitter().register_buffers_clone_offset(src.as_raw_fd(), 1, 3, 1, CloneBuffersFlags::empty());
    ensure!(r == Err(Errno::BUSY), "clone into an existing table without DST_REPLACE: {r:?}");
    // Offsets and DST_REPLACE are 6.13; 6.12 clones whole tables only.
    if kernel_version() < (6, 13) {
        return Ok(());
    }
    part.submitter()
        .register_buffers_clone_offset(src.as_raw_fd(), 1, 3, 1, CloneBuffersFlags::DST_REPLACE)
        .context("clone buffer 1 into slot 3")?;
    mem.bytes().fill(0);
    let c = read_fixed(&mut part, &file, mem.ptr.wrapping_add(PAGE + 8), 3)?;
    ensure!(c.result() == Ok(100) && holds(&mut mem, PAGE + 8, b'C'), "slot 3 is the source's buffer 1: {c:?}");
    let c = read_fixed(&mut part, &file, mem.ptr, 0)?;
    ensure!(c.result() == Err(Errno::FAULT), "slot 0 stays empty: {c:?}");
    // Only a ring can be a source.
    let r = part.submitter().register_buffers_clone_offset(file.as_raw_fd(), 0, 0, 1, CloneBuffersFlags::DST_REPLACE);
    ensure!(r == Err(Errno::OPNOTSUPP), "clone from a plain file: {r:?}");
    Ok(())
}

fn alloc_range_bounds_automatic_slots(_: &Ctx) -> anyhow::Result<()> {
    let mut ring = IoUring::new(8)?;
    ring.submitter().register_files_sparse(8)?;
    ring.submitter().register_file_alloc_range(5, 2).context("register_file_alloc_range")?;
    let path = CString::new("/proc/self/stat")?;
    let mut slots = Vec::new();
    for _ in 0..3 {
        let open = opcode::OpenAt::new(Fd(libc::AT_FDCWD), path.as_ptr())
            .file_index(Some(DestinationSlot::auto_target()))
            .build();
        slots.push(one(&mut ring, open)?.result());
    }
    ensure!(slots == [Ok(5), Ok(6), Err(Errno::NFILE)], "automatic slots: {slots:?}");
    // The slot holds the file: read through it.
    let mut buf = [0u8; 16];
    let c = one(&mut ring, opcode::Read::new(Fixed(5), buf.as_mut_ptr(), 16).build())?;
    let pid = std::process::id().to_string();
    ensure!(c.result() == Ok(16) && buf.starts_with(pid.as_bytes()), "read via slot 5: {c:?} {buf:?}");
    // A range past the table is refused.
    let r = ring.submitter().register_file_alloc_range(7, 2);
    ensure!(r == Err(Errno::INVAL), "range past the table: {r:?}");
    Ok(())
}

/// `io_uring_buf_reg.min_left` (7.1): in an incremental ring, a buffer whose
/// remainder would fall below `min_left` is retired (no F_BUF_MORE) and the
/// next read takes the next buffer; with `min_left` 0 the same read leaves
/// the buffer in place and the next read continues in it.
fn incremental_buffer_retired_below_min_left(_: &Ctx) -> anyhow::Result<()> {
    needs_kernel(7, 1, "io_uring_buf_reg.min_left")?;
    const INC: u16 = 2; // IOU_PBUF_RING_INC
                        // Two 100-byte buffers; 50-byte reads leave a 50-byte remainder.
    let run = |min_left: u32| -> anyhow::Result<[(u16, bool); 2]> {
        let mut group = crate::util::BufRing::new(2, 100)?;
        let mut ring = IoUring::new(8)?;
        group.register_min_left(&ring, 3, INC, min_left)?;
        group.provide_all();
        let (rx, mut tx) = crate::util::pipe()?;
        let mut out = [(0u16, false); 2];
        for (i, slot) in out.iter_mut().enumerate() {
            tx.write_all(&[b'a' + i as u8; 50])?;
            let e = opcode::Read::new(Fd(rx.as_raw_fd()), std::ptr::null_mut(), 50)
                .buf_group(3)
                .build()
                .flags(urix::squeue::Flags::BUFFER_SELECT);
            let c = one(&mut ring, e)?;
            ensure!(c.result() == Ok(50), "read {i} (min_left {min_left}): {:?}", c.result());
            let bid = cqueue::buffer_select(c.flags()).context("no buffer id")?;
            *slot = (bid, cqueue::buffer_more(c.flags()));
        }
        // Where the bytes went: the second read's bytes follow the first's
        // in buffer 0, or start buffer 1.
        let all = group.all().to_vec();
        if out[1].0 == 0 {
            ensure!(all[50..100] == [b'b'; 50], "second read not at offset 50 of buffer 0");
        } else {
            ensure!(all[100..150] == [b'b'; 50], "second read not at the start of buffer 1");
        }
        Ok(out)
    };
    let kept = run(0)?;
    ensure!(kept == [(0, true), (0, false)], "min_left 0: (bid, BUF_MORE) per read {kept:?}");
    let retired = run(60)?;
    ensure!(retired == [(0, false), (1, false)], "min_left 60: (bid, BUF_MORE) per read {retired:?}");
    Ok(())
}
