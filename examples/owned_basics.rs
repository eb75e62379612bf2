//! The owned layer (`urix::owned`) in four small steps, with no `unsafe`
//! and no executor: each step blocks in `Driver::wait`.
//!
//! 1. An operation moves into the driver; its result comes back with it.
//! 2. A file copy: the buffer and both files move into each read and
//!    write, and come back with its result, ready for the next one.
//! 3. A read from a pipe nobody writes to, given up by a linked timeout.
//! 4. The same read abandoned by hand: the driver keeps its buffer until
//!    the kernel's last word on it, then frees it.
//!
//! `cargo run --example owned_basics [SRC [DST]]` (default: copies
//! Cargo.toml to a temporary file), and checks each step's result.

use std::error::Error;
use std::ffi::CString;
use std::time::{Duration, Instant};

use urix::owned::{Driver, Nop, OpenAt, Operation, Read, Ticket, Write};
use urix::types::{Mode, OFlags};
use urix::{Errno, IoUring};

type Res<T> = Result<T, Box<dyn Error>>;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let src = args.first().cloned().unwrap_or_else(|| "Cargo.toml".into());
    let temp = std::env::temp_dir().join(format!("owned-basics-{}", std::process::id()));
    let dst = args.get(1).cloned().unwrap_or_else(|| temp.display().to_string());
    let mut driver = Driver::<8>::new(IoUring::new(8)?);

    // 1. A NOP that asks the kernel to post 7 as its result.
    if run(&mut driver, Nop::new().result(7))? != Ok(7) {
        return Err("the NOP did not give 7".into());
    }
    println!("owned_basics: NOP gave its injected result");

    // 2. Copy SRC to DST, 64 KiB at a time.
    let copied = copy(&mut driver, &src, &dst)?;
    if std::fs::read(&src)? != std::fs::read(&dst)? {
        return Err(format!("{dst} differs from {src}").into());
    }
    println!("owned_basics: copied {copied} bytes from {src} to {dst}");
    if args.get(1).is_none() {
        std::fs::remove_file(&temp)?;
    }

    // 3. A read that would wait for ever, with a 50 ms linked timeout:
    //    the kernel cancels the read when the timeout fires.
    let (rx, tx) = rustix::pipe::pipe()?;
    let started = Instant::now();
    let pushed = driver.push_with_timeout(Read::new(rx, Vec::with_capacity(64)), Duration::from_millis(50));
    let (read, timeout) = pushed.map_err(|(_, e)| e)?;
    let read = driver.wait(read)?;
    let (fired, took) = (driver.wait(timeout)?, started.elapsed());
    if read.result != Err(Errno::CANCELED) || fired != Err(Errno::TIME) || took < Duration::from_millis(50) {
        return Err(format!("timed-out read: {:?}, timeout {fired:?} after {took:?}", read.result).into());
    }
    println!("owned_basics: a read with no data was cancelled by its timeout after {took:.0?}; its buffer came back");

    // 4. The same read again (the pipe came back with the result),
    //    abandoned: the driver cancels it and, at its completion, drops
    //    the buffer and the pipe. Nothing stays in the table.
    let ticket = push(&mut driver, Read::new(read.file, read.buf))?;
    driver.submit()?;
    driver.abandon(ticket);
    while driver.in_use() > 0 {
        driver.submit_and_wait(1)?;
        driver.reap();
    }
    // The read end went with the read: writing now finds no reader.
    if rustix::io::write(&tx, b"late") != Err(Errno::PIPE) {
        return Err("the abandoned read's pipe is still open".into());
    }
    println!("owned_basics: an abandoned read was freed at its completion (its pipe closed); {:?}", driver.stats());
    Ok(())
}

/// Moves `op` into the driver.
fn push<T: Operation>(driver: &mut Driver<8>, op: T) -> Res<Ticket<T>> {
    driver.push(op).map_err(|refused| refused.errno().into())
}

/// Moves `op` into the driver and waits for its output.
fn run<T: Operation>(driver: &mut Driver<8>, op: T) -> Res<T::Output> {
    let ticket = push(driver, op)?;
    Ok(driver.wait(ticket)?)
}

/// Copies `src` to `dst` with one read or write in flight at a time;
/// returns the bytes copied.
fn copy(driver: &mut Driver<8>, src: &str, dst: &str) -> Res<u64> {
    let open = |driver: &mut Driver<8>, path: &str, flags, mode| -> Res<_> {
        Ok(run(driver, OpenAt::new(CString::new(path)?, flags, mode))?.result?)
    };
    let mut from = open(driver, src, OFlags::RDONLY, Mode::empty())?;
    let mut to = open(driver, dst, OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC, Mode::from_bits_truncate(0o644))?;
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut offset = 0u64;
    loop {
        // A read fills the buffer's capacity from its start; its length
        // is then the bytes read.
        buf.clear();
        let done = run(driver, Read::new(from, buf).at(offset))?;
        (from, buf) = (done.file, done.buf);
        if done.result? == 0 {
            return Ok(offset);
        }
        // A write sends the buffer's bytes; a short one leaves the rest.
        while !buf.is_empty() {
            let done = run(driver, Write::new(to, buf).at(offset))?;
            let written = done.result?;
            (to, buf) = (done.file, done.buf);
            buf.drain(..written);
            offset += written as u64;
        }
    }
}
