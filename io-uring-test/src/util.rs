//! Helpers shared by the tests.

use std::time::{Duration, Instant};

use std::fs::File;
use std::os::fd::FromRawFd;
use std::os::unix::fs::OpenOptionsExt as _;

use anyhow::{bail, ensure, Context};
use uring_core::{cqueue, opcode, squeue, IoUring};

/// A NOP with `user_data`, as the ring's entry type.
pub fn nop<S: squeue::EntryMarker>(user_data: u64) -> S {
    S::from(opcode::Nop::new().build().user_data(user_data))
}

/// Pushes all `entries`, submitting whenever the SQ is full, then submits
/// the rest. Works for SQPOLL rings too (waits for the kernel thread).
pub fn push_all<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    entries: &[S],
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut rest = entries;
    while !rest.is_empty() {
        let mut sq = ring.submission();
        while let Some((first, tail)) = rest.split_first() {
            // SAFETY: the entries name no memory that could go away (NOPs
            // and the like, whose buffers the caller keeps alive).
            if unsafe { sq.push(first) }.is_err() {
                break;
            }
            rest = tail;
        }
        drop(sq);
        ring.submit().context("submit")?;
        if !rest.is_empty() {
            if Instant::now() > deadline {
                bail!("the SQ never drained ({} entries left)", rest.len());
            }
            std::thread::yield_now();
        }
    }
    Ok(())
}

/// Collects exactly `n` completions, waiting as needed (at most 10 s).
pub fn reap<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    n: usize,
) -> anyhow::Result<Vec<cqueue::Entry>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        out.extend(ring.completion().map(Into::into));
        if out.len() >= n {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {} of {n} completions arrived", out.len());
        }
        ring.submit_and_wait(1).context("submit_and_wait")?;
    }
    Ok(out)
}

/// Checks that `user_data` values `0..n` each occur exactly once.
pub fn check_each_once(n: usize, seen: impl IntoIterator<Item = u64>) -> anyhow::Result<()> {
    let mut counts = vec![0u32; n];
    for ud in seen {
        let slot = counts.get_mut(ud as usize).with_context(|| format!("unexpected user_data {ud}"))?;
        *slot += 1;
    }
    if let Some((ud, c)) = counts.iter().enumerate().find(|(_, &c)| c != 1) {
        bail!("user_data {ud} seen {c} times");
    }
    Ok(())
}

/// Submits one entry and waits for its completion.
pub fn one<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    e: squeue::Entry,
) -> anyhow::Result<cqueue::Entry> {
    push_all(ring, &[S::from(e)])?;
    reap(ring, 1)?.pop().context("no completion")
}

/// A pipe (read end, write end), both close-on-exec.
pub fn pipe() -> anyhow::Result<(File, File)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    ensure!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == 0, "pipe2");
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) })
}

/// An unnamed temporary file (`O_TMPFILE`).
pub fn tempfile() -> anyhow::Result<File> {
    let dir = std::env::temp_dir();
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .open(&dir)
        .with_context(|| format!("O_TMPFILE in {}", dir.display()))
}
