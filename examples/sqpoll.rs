//! Submission polling (SQPOLL): a kernel thread watches the submission
//! queue and picks up new entries by itself, so submitting costs no system
//! call while that thread is awake. After `IDLE_MS` without work it goes
//! to sleep and sets the NEED_WAKEUP flag in the SQ ring; only then must
//! the application enter the kernel (`io_uring_enter` with SQ_WAKEUP).
//!
//! `cargo run --example sqpoll [BATCHES]` (default 100 batches of 8 NOPs)
//!
//! Every tenth batch waits longer than the idle time first, so that the
//! thread falls asleep; the output compares wake-ups with operations.
//! Completions are reaped by watching the CQ, without `io_uring_enter`.
//!
//! `Submitter::submit` already does the check below (a `SeqCst` fence,
//! then NEED_WAKEUP) and skips the system call when the thread is awake;
//! this example spells it out to count the wake-ups.

use std::error::Error;
use std::time::{Duration, Instant};

use urix::ring::Unavailable;
use urix::{opcode, IoUring};

/// How long the kernel thread spins without work before it sleeps.
const IDLE_MS: u32 = 5;
const BATCH: u64 = 8;

fn main() -> Result<(), Box<dyn Error>> {
    let batches: u64 = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(100);
    let mut ring: IoUring = match IoUring::builder().setup_sqpoll(IDLE_MS).build(32) {
        Ok(ring) => ring,
        // Before 5.11 SQPOLL needed CAP_SYS_ADMIN; some sandboxes forbid it.
        Err(e) => match Unavailable::from_errno(e) {
            Some(why) => {
                println!("sqpoll: skipped, no SQPOLL ring here: {why}");
                return Ok(());
            }
            None => return Err(e.into()),
        },
    };

    let mut seen = vec![false; (batches * BATCH) as usize];
    let (mut wakeups, mut pauses) = (0u64, 0u64);
    let started = Instant::now();
    for batch in 0..batches {
        if batch % 10 == 9 {
            // Leave the thread without work for longer than its idle time.
            std::thread::sleep(Duration::from_millis(3 * u64::from(IDLE_MS)));
            pauses += 1;
        }
        let mut sq = ring.submission();
        for i in batch * BATCH..(batch + 1) * BATCH {
            // SAFETY: a NOP names no memory and no file.
            unsafe { sq.push(&opcode::Nop::new().build().user_data(i))? };
        }
        // Publish the new tail: from here the kernel thread may take them.
        sq.sync();
        // Is the thread asleep? (`need_wakeup` fences first: the tail store
        // must not pass this load, or the thread could fall asleep without
        // seeing the entries while we see it awake.)
        let asleep = sq.need_wakeup();
        drop(sq);
        if asleep {
            wakeups += 1;
            // Enters with IORING_ENTER_SQ_WAKEUP: the only system call here.
            ring.submit()?;
        }

        // Reap by watching the CQ tail, which the kernel thread advances
        // (a real program would rather wait in `submit_and_wait`).
        let (mut got, deadline) = (0, Instant::now() + Duration::from_secs(5));
        while got < BATCH {
            for cqe in ring.completion() {
                let i = cqe.user_data_u64() as usize;
                if cqe.result() != Ok(0) || i >= seen.len() || std::mem::replace(&mut seen[i], true) {
                    return Err(format!("unexpected completion {cqe:?}").into());
                }
                got += 1;
            }
            if Instant::now() > deadline {
                return Err(format!("batch {batch}: only {got} of {BATCH} completions after 5 s").into());
            }
            // Not a busy spin: on a loaded machine the kernel thread may
            // need our CPU to make progress.
            std::thread::yield_now();
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(format!("NOP {missing} never completed").into());
    }
    println!(
        "sqpoll: {} NOPs in {batches} batches in {:.2?}; the kernel thread was woken {wakeups} times \
         (after {pauses} pauses longer than its {IDLE_MS} ms idle time), so {} batches were submitted \
         without a system call",
        batches * BATCH,
        started.elapsed(),
        batches - wakeups
    );
    Ok(())
}
