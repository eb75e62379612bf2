//! io_uring inside an existing epoll reactor: the way a program built on
//! readiness (epoll, mio, a GUI main loop) adds io_uring for file I/O,
//! which epoll cannot do (regular files are always "ready").
//!
//! `cargo run --example event_loop [PATH]` (default `Cargo.toml`)
//!
//! An eventfd is registered with the ring (`register_eventfd`): the kernel
//! signals it whenever it posts a completion. The eventfd goes into epoll
//! next to the loop's other sources, here a timerfd that ticks every 2 ms
//! and a pipe fed by another thread. When the eventfd is readable, the loop
//! resets it, then drains the CQ (in that order, so that a completion
//! posted in between signals the eventfd again and is not missed).
//! The file is read in 4 KiB pieces, 4 at a time, and checked at the end.

use std::error::Error;
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use rustix::buffer::spare_capacity;
use rustix::event::{epoll, eventfd, EventfdFlags};
use rustix::time::{timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags};
use urix::types::Fd;
use urix::{opcode, IoUring};

const CHUNK: usize = 4096;
const IN_FLIGHT: usize = 4;
/// epoll tokens of the three sources.
const RING: u64 = 0;
const TIMER: u64 = 1;
const PIPE: u64 = 2;
const PIPE_LINES: usize = 20;

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "Cargo.toml".into());
    let file = File::open(&path)?;
    let size = file.metadata()?.len() as usize;
    // The ring reads into disjoint parts of `contents`; nothing else
    // touches it until every read has completed.
    let mut contents = vec![0u8; size];
    let base = contents.as_mut_ptr();
    let mut ring = IoUring::new(8)?;

    // Source 1: completions of the ring, through an eventfd.
    let efd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
    ring.submitter().register_eventfd(efd.as_raw_fd())?;
    // Source 2: a periodic timer, as any event loop has.
    let timer = timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK)?;
    let every = rustix::time::Timespec { tv_sec: 0, tv_nsec: 2_000_000 };
    timerfd_settime(&timer, TimerfdTimerFlags::empty(), &Itimerspec { it_interval: every, it_value: every })?;
    // Source 3: a pipe that another thread writes lines into, then closes.
    let (rx, tx) = rustix::pipe::pipe()?;
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        let mut tx = File::from(tx);
        for i in 0..PIPE_LINES {
            writeln!(tx, "line {i}")?;
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    });
    let mut rx = File::from(rx);

    let ep = epoll::create(epoll::CreateFlags::CLOEXEC)?;
    for (fd, token) in [(efd.as_fd(), RING), (timer.as_fd(), TIMER), (rx.as_fd(), PIPE)] {
        epoll::add(&ep, fd, epoll::EventData::new_u64(token), epoll::EventFlags::IN)?;
    }

    // Start the first reads; each is its file offset in user_data.
    let (mut next, mut done, mut in_flight) = (0usize, 0usize, 0usize);
    while in_flight < IN_FLIGHT && next < size {
        // SAFETY: see `push_read`.
        unsafe { push_read(&mut ring, &file, base, next, CHUNK.min(size - next))? };
        (next, in_flight) = (next + CHUNK, in_flight + 1);
    }
    ring.submit()?;

    let (mut ticks, mut wakeups, mut cqes, mut piped) = (0u64, 0u64, 0u64, Vec::new());
    let mut pipe_open = true;
    let mut events = Vec::with_capacity(8);
    while done < size || pipe_open {
        events.clear();
        epoll::wait(&ep, spare_capacity(&mut events), None)?;
        for event in &events {
            let mut word = [0u8; 8];
            match event.data.u64() {
                RING => {
                    // Reset the eventfd first, then take every completion.
                    let _ = rustix::io::read(&efd, &mut word);
                    wakeups += 1;
                    let reaped: Vec<_> = ring.completion().collect();
                    for cqe in reaped {
                        (cqes, in_flight) = (cqes + 1, in_flight - 1);
                        let (offset, n) = (cqe.user_data_u64() as usize, cqe.result()? as usize);
                        if n == 0 {
                            return Err(format!("{path} shrank while we read it").into());
                        }
                        done += n;
                        // Pieces are CHUNK-aligned; a short read leaves the
                        // rest of its piece to ask for again.
                        let piece_end = ((offset / CHUNK + 1) * CHUNK).min(size);
                        let (at, len) = if offset + n < piece_end {
                            (offset + n, piece_end - offset - n)
                        } else if next < size {
                            let piece = (next, CHUNK.min(size - next));
                            next += CHUNK;
                            piece
                        } else {
                            continue;
                        };
                        // SAFETY: see `push_read`.
                        unsafe { push_read(&mut ring, &file, base, at, len)? };
                        in_flight += 1;
                    }
                    ring.submit()?;
                }
                TIMER => {
                    // The number of expirations since the last read.
                    if rustix::io::read(&timer, &mut word).is_ok() {
                        ticks += u64::from_ne_bytes(word);
                    }
                    if ticks > 5000 {
                        return Err("no progress in 10 s".into());
                    }
                }
                _ => {
                    let mut buf = [0u8; 256];
                    match rx.read(&mut buf)? {
                        0 => {
                            epoll::delete(&ep, &rx)?; // closed: stop watching it
                            pipe_open = false;
                        }
                        n => piped.extend_from_slice(&buf[..n]),
                    }
                }
            }
        }
    }
    writer.join().expect("pipe writer")?;
    assert_eq!(in_flight, 0);

    let expected: String = (0..PIPE_LINES).map(|i| format!("line {i}\n")).collect();
    if piped != expected.as_bytes() {
        return Err("the pipe delivered something else than was written".into());
    }
    if contents != std::fs::read(&path)? {
        return Err(format!("{path}: io_uring read differs from std::fs::read").into());
    }
    println!(
        "event_loop: {size} bytes of {path} read in {cqes} completions, reaped in {wakeups} eventfd \
         wake-ups; meanwhile {ticks} timer ticks and {PIPE_LINES} lines from the pipe"
    );
    Ok(())
}

/// Queues a read of `len` bytes at `offset` of `file` into `base + offset`.
///
/// # Safety
/// `base` must point to a buffer at least `offset + len` bytes long that
/// outlives the read's completion, in which no other read overlaps it and
/// which nothing else uses meanwhile; `file` must stay open until then.
unsafe fn push_read(
    ring: &mut IoUring,
    file: &File,
    base: *mut u8,
    offset: usize,
    len: usize,
) -> Result<(), Box<dyn Error>> {
    let read = opcode::Read::new(Fd(file.as_raw_fd()), base.wrapping_add(offset), len as u32)
        .offset(offset as u64)
        .build()
        .user_data(offset as u64);
    // SAFETY: the caller's promise covers the buffer and the file.
    unsafe { ring.submission().push(&read)? };
    Ok(())
}
