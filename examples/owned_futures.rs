//! The owned layer under an executor it did not write: the `futures`
//! crate's `LocalPool`, with a reactor thread that wakes it.
//!
//! - The driver is shared in an `Arc<Mutex<_>>`. An operation's future
//!   moves the operation into the driver, submits at once, and then polls
//!   its ticket with the executor's waker; dropping the future abandons the
//!   ticket (the layer cancels and keeps the buffer until the kernel is
//!   done with it).
//! - The ring signals an eventfd for every completion it posts
//!   (`register_eventfd`). The reactor thread blocks reading that eventfd,
//!   then reaps, and the layer wakes each future whose operation ended.
//!   The executor's thread never waits in the kernel: it sleeps in
//!   `LocalPool::run` until a waker calls it.
//! - Polling and reaping happen under the same lock, so a completion is
//!   either seen by the poll or finds the waker the poll left behind: no
//!   wake-up is lost.
//!
//! Three tasks: a writer and a reader on a pipe (each read waits in the
//! kernel until the writer's next write), 100 NOPs at once, and a read
//! that loses a race against a timer and is dropped.
//!
//! `cargo run --example owned_futures`; exits non-zero on a wrong result.

use std::error::Error;
use std::future::Future;
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use futures::executor::LocalPool;
use futures::future::{join_all, select, Either};
use futures::task::LocalSpawnExt;
use urix::owned::{Driver, Nop, Operation, Read, Ticket, Timeout, Write};
use urix::{Errno, IoUring};

type Shared = Arc<Mutex<Driver<128>>>;
type Res<T> = Result<T, Box<dyn Error>>;
type Task = Pin<Box<dyn Future<Output = Res<String>>>>;

/// The future of one operation in the shared driver.
struct Op<T: Operation> {
    driver: Shared,
    ticket: Option<Ticket<T>>,
}

/// Starts `op` (pushed and submitted at once) and returns its future.
fn start<T: Operation>(driver: &Shared, op: T) -> Result<Op<T>, Errno> {
    let mut d = driver.lock().unwrap();
    let ticket = d.push(op).map_err(|refused| refused.errno())?;
    d.submit()?;
    Ok(Op { driver: driver.clone(), ticket: Some(ticket) })
}

impl<T: Operation> Future for Op<T> {
    type Output = T::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Output> {
        let ticket = self.ticket.as_ref().expect("polled after Ready");
        let out = self.driver.lock().unwrap().poll(ticket, cx);
        if out.is_ready() {
            self.ticket = None;
        }
        out
    }
}

impl<T: Operation> Drop for Op<T> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            let mut d = self.driver.lock().unwrap();
            d.abandon(ticket);
            let _ = d.submit(); // the cancel goes out now
        }
    }
}

/// Waits for the eventfd, reaps; until `stop`. Returns how often it woke.
fn reactor(driver: Shared, eventfd: OwnedFd, stop: Arc<AtomicBool>) -> thread::JoinHandle<u64> {
    thread::spawn(move || {
        let mut wakeups = 0;
        let mut count = [0u8; 8];
        loop {
            // Reading resets the eventfd; a completion posted while we reap
            // signals it again, so none is missed.
            rustix::io::read(&eventfd, &mut count).expect("eventfd read");
            if stop.load(Ordering::Acquire) {
                return wakeups;
            }
            wakeups += 1;
            driver.lock().unwrap().reap();
        }
    })
}

fn main() -> Res<()> {
    let ring = IoUring::new(128)?;
    let eventfd = rustix::event::eventfd(0, rustix::event::EventfdFlags::CLOEXEC)?;
    ring.submitter().register_eventfd(eventfd.as_raw_fd())?;
    let driver: Shared = Arc::new(Mutex::new(Driver::new(ring)));
    let stop = Arc::new(AtomicBool::new(false));
    let reactor = reactor(driver.clone(), eventfd.try_clone()?, stop.clone());

    let (rx, tx) = rustix::pipe::pipe()?;
    let (idle_rx, idle_tx) = rustix::pipe::pipe()?;
    let mut pool = LocalPool::new();
    let results = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<(&str, Task)> = vec![
        ("writer", Box::pin(writer(driver.clone(), tx))),
        ("reader", Box::pin(reader(driver.clone(), rx))),
        ("nops", Box::pin(nops(driver.clone()))),
        ("race", Box::pin(race(driver.clone(), idle_rx))),
    ];
    let started = Instant::now();
    for (name, task) in tasks {
        let results = results.clone();
        pool.spawner().spawn_local(async move {
            let r = task.await.map_err(|e| e.to_string());
            println!("  {name}: {}", r.as_ref().map_or_else(|e| format!("FAILED: {e}"), String::clone));
            results.lock().unwrap().push(r);
        })?;
    }
    pool.run(); // until every task is done
    let took = started.elapsed();

    stop.store(true, Ordering::Release);
    rustix::io::write(&eventfd, &1u64.to_ne_bytes())?;
    let wakeups = reactor.join().expect("reactor thread");
    // The abandoned read's cancel may still be on its way: reap it here.
    let mut d = driver.lock().unwrap();
    while d.in_use() > 0 {
        d.submit_and_wait(1)?;
        d.reap();
    }
    // Freed at its completion, with the pipe's read end it owned.
    let closed = rustix::io::write(&idle_tx, b"late") == Err(Errno::PIPE);
    let failed = results.lock().unwrap().iter().filter(|r| r.is_err()).count();
    println!("owned_futures: {} tasks in {took:.1?}, {wakeups} reactor wake-ups; {:?}", 4 - failed, d.stats());
    if failed > 0 || !closed {
        return Err(format!("{failed} tasks failed; abandoned read's pipe closed: {closed}").into());
    }
    Ok(())
}

const MESSAGES: usize = 50;

/// Writes MESSAGES lines into the pipe, one write at a time.
async fn writer(driver: Shared, tx: OwnedFd) -> Res<String> {
    let mut tx = tx;
    for i in 0..MESSAGES {
        let done = start(&driver, Write::new(tx, format!("line {i}\n").into_bytes()))?.await;
        if done.result? != done.buf.len() {
            return Err("short write to a pipe".into());
        }
        tx = done.file;
    }
    Ok(format!("wrote {MESSAGES} lines"))
} // dropping `tx` ends the stream

/// Reads the pipe to its end and checks what the writer wrote.
async fn reader(driver: Shared, rx: OwnedFd) -> Res<String> {
    let (mut rx, mut got, mut reads) = (rx, Vec::new(), 0);
    loop {
        let done = start(&driver, Read::new(rx, Vec::with_capacity(64)))?.await;
        reads += 1;
        if done.result? == 0 {
            break;
        }
        got.extend_from_slice(&done.buf);
        rx = done.file;
    }
    let want: String = (0..MESSAGES).map(|i| format!("line {i}\n")).collect();
    if got != want.as_bytes() {
        return Err(format!("read {} bytes, not the {} written", got.len(), want.len()).into());
    }
    Ok(format!("read {} bytes in {reads} reads", got.len()))
}

/// 100 NOPs in flight at once, each with its own injected result.
async fn nops(driver: Shared) -> Res<String> {
    let ops = (0..100).map(|i| start(&driver, Nop::new().result(i))).collect::<Result<Vec<_>, _>>()?;
    let results = join_all(ops).await;
    let right = results.iter().enumerate().all(|(i, r)| *r == Ok(i as u32));
    right.then(|| "100 NOPs, each with its own result".to_string()).ok_or_else(|| "NOP results mixed up".into())
}

/// A read from a pipe nobody writes to, against a 20 ms timer: the timer
/// wins, and the read's future is dropped (abandoned) with its buffer.
async fn race(driver: Shared, idle: OwnedFd) -> Res<String> {
    let read = start(&driver, Read::new(idle, Vec::with_capacity(64)))?;
    let timer = start(&driver, Timeout::new(Duration::from_millis(20).into()))?;
    match select(read, timer).await {
        Either::Left(_) => Err("data from nowhere".into()),
        Either::Right((fired, read)) => {
            drop(read);
            match fired {
                Err(Errno::TIME) => Ok("the timer won; the read was abandoned".into()),
                other => Err(format!("timer: {other:?}").into()),
            }
        }
    }
}
