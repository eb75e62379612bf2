//! Copies a file with up to QD blocks in flight, each block moved by a
//! read and a write linked together, so that the write starts only after
//! its read succeeded in full, without a trip back to user space between.
//!
//! `cargo run --example copy_file SRC DST [QD]` (QD defaults to 8)
//!
//! It also shows the two registrations that make a hot loop cheaper:
//! - fixed files: SRC and DST sit in the ring's file table, so operations
//!   name them by index (`Fixed(0)`, `Fixed(1)`) and the kernel skips the
//!   fd lookup and reference counting per operation;
//! - registered buffers: the memory is pinned once, and `ReadFixed` /
//!   `WriteFixed` name it by buffer index instead of mapping it each time.
//!
//! Short transfers: a read that returns fewer bytes than asked for breaks
//! the link, and the kernel completes the write after it with `ECANCELED`.
//! The loop then asks again for what is missing. That always happens at
//! the end of the file (the last blocks ask for more than there is), and
//! a short write is continued the same way. The size of SRC is never
//! trusted: a read of 0 bytes is the end.

use std::error::Error;
use std::fs::{File, OpenOptions};
use std::io::Read as _;
use std::os::fd::AsRawFd;
use std::time::Instant;

use rustix::io_uring::iovec;
use urix::squeue::Flags;
use urix::types::Fixed;
use urix::{opcode, Errno, IoUring};

/// The size of each block, and of each registered buffer.
const BLOCK: usize = 128 * 1024;
/// Indices in the registered-file table.
const SRC: Fixed = Fixed(0);
const DST: Fixed = Fixed(1);

/// The state of one queue slot: which block of the file its buffer is
/// moving, and how far it got. Slot `i` uses registered buffer `i`, and its
/// read and write carry user_data `2i` and `2i + 1`.
#[derive(Clone, Copy, Default)]
struct Chunk {
    offset: u64,
    /// Bytes to move: BLOCK, or fewer once the end of the file is seen.
    len: usize,
    read: usize,
    written: usize,
    in_flight: u32,
}

#[derive(Default, Debug)]
struct Counts {
    reads: u64,
    writes: u64,
    short_reads: u64,
    cancelled_writes: u64,
    short_writes: u64,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(src_path), Some(dst_path)) = (args.get(1), args.get(2)) else {
        return Err("usage: copy_file SRC DST [QD]".into());
    };
    let qd: usize = args.get(3).map(|a| a.parse()).transpose()?.unwrap_or(8);
    if !(1..=1024).contains(&qd) {
        return Err("QD must be between 1 and 1024".into());
    }
    let src = File::open(src_path)?;
    let dst = OpenOptions::new().write(true).create(true).truncate(true).open(dst_path)?;
    let started = Instant::now();

    // One BLOCK-sized buffer per slot, in one allocation. Declared before
    // the ring so that it is freed after the ring (and its registration).
    let mut memory = vec![0u8; qd * BLOCK];
    let base = memory.as_mut_ptr();
    let iovecs: Vec<iovec> =
        (0..qd).map(|i| iovec { iov_base: base.wrapping_add(i * BLOCK).cast(), iov_len: BLOCK }).collect();

    // Each slot has at most two entries in flight, so 2 * QD never fills.
    let mut ring = IoUring::new(2 * qd as u32)?;
    ring.submitter().register_files(&[src.as_raw_fd(), dst.as_raw_fd()])?;
    // SAFETY: `memory` outlives the ring (declared first, dropped last),
    // and from here on it is only reached through `base`.
    unsafe { ring.submitter().register_buffers(&iovecs)? };

    let mut chunks = vec![Chunk::default(); qd];
    let mut counts = Counts::default();
    let (mut next_offset, mut eof) = (0u64, u64::MAX);
    let mut active = 0;
    for (i, chunk) in chunks.iter_mut().enumerate() {
        *chunk = Chunk { offset: next_offset, len: BLOCK, ..Chunk::default() };
        next_offset += BLOCK as u64;
        submit(&mut ring, base, i, chunk, &mut counts)?;
        active += 1;
    }

    while active > 0 {
        ring.submit_and_wait(1)?;
        // Take the completions out first: answering them pushes new entries.
        let cqes: Vec<_> = ring.completion().collect();
        for cqe in cqes {
            let (i, is_write) = ((cqe.user_data_u64() / 2) as usize, cqe.user_data_u64() % 2 == 1);
            let c = &mut chunks[i];
            c.in_flight -= 1;
            match (is_write, cqe.result()) {
                // End of file: what was read so far is all this block has.
                (false, Ok(0)) => {
                    c.len = c.read;
                    eof = eof.min(c.offset + c.read as u64);
                }
                (false, Ok(n)) => c.read += n as usize,
                (true, Ok(n)) => c.written += n as usize,
                // The read before this write came up short (or hit the end).
                (true, Err(Errno::CANCELED)) => counts.cancelled_writes += 1,
                (_, Err(e)) => return Err(format!("block at {}: {e}", c.offset).into()),
            }
            if c.in_flight > 0 {
                continue; // the write of this pair is still to come
            }
            if c.written < c.len {
                // Something came up short: ask for the rest.
                submit(&mut ring, base, i, c, &mut counts)?;
            } else if next_offset < eof {
                // This block is done; the slot takes the next one.
                *c = Chunk { offset: next_offset, len: BLOCK, ..Chunk::default() };
                next_offset += BLOCK as u64;
                submit(&mut ring, base, i, c, &mut counts)?;
            } else {
                active -= 1;
            }
        }
    }
    drop(ring); // unregisters the files and the buffers
    let elapsed = started.elapsed();

    if !same_contents(src_path, dst_path)? {
        return Err(format!("{dst_path} differs from {src_path}").into());
    }
    println!("copy_file: {eof} bytes, queue depth {qd}, blocks of {} KiB, {elapsed:.2?}: {counts:?}", BLOCK / 1024);
    Ok(())
}

/// Pushes what slot `i` still has to do: a read of the missing bytes linked
/// to a write of everything not yet written, or just the write.
fn submit(ring: &mut IoUring, base: *mut u8, i: usize, c: &mut Chunk, n: &mut Counts) -> Result<(), Box<dyn Error>> {
    let buf = base.wrapping_add(i * BLOCK);
    let write = opcode::WriteFixed::new(DST, buf.wrapping_add(c.written), (c.len - c.written) as u32, i as u16)
        .offset(c.offset + c.written as u64)
        .build()
        .user_data(2 * i as u64 + 1);
    n.writes += 1;
    if c.written > 0 {
        n.short_writes += 1;
    }
    let mut sq = ring.submission();
    if c.read < c.len {
        n.reads += 1;
        if c.read > 0 {
            n.short_reads += 1;
        }
        let read = opcode::ReadFixed::new(SRC, buf.wrapping_add(c.read), (c.len - c.read) as u32, i as u16)
            .offset(c.offset + c.read as u64)
            .build()
            .flags(Flags::IO_LINK)
            .user_data(2 * i as u64);
        // SAFETY: both name a part of registered buffer `i`, which lives as
        // long as the ring; only this slot's two entries use that buffer,
        // and the write only reads bytes the read before it fills first.
        unsafe { sq.push_multiple(&[read, write])? };
        c.in_flight = 2;
    } else {
        // SAFETY: as above; the bytes to write were all read already.
        unsafe { sq.push(&write)? };
        c.in_flight = 1;
    }
    Ok(())
}

/// Whether the files at `a` and `b` hold the same bytes.
fn same_contents(a: &str, b: &str) -> std::io::Result<bool> {
    let (mut a, mut b) = (File::open(a)?, File::open(b)?);
    if a.metadata()?.len() != b.metadata()?.len() {
        return Ok(false);
    }
    let (mut x, mut y) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = a.read(&mut x)?;
        if n == 0 {
            return Ok(true);
        }
        b.read_exact(&mut y[..n])?;
        if x[..n] != y[..n] {
            return Ok(false);
        }
    }
}
