//! A minimal single-threaded async executor over io_uring: what "a
//! dependency of higher-level executors" means. This file is the executor;
//! `tasks.rs` is code written against it.
//!
//! `cargo run --example executor [--blocking]`
//!
//! - Every operation is a future around a ticket of the owned layer
//!   (`urix::owned`): the operation's buffer and file move into the
//!   layer's table when it starts, and come back with its result. No
//!   `unsafe` anywhere: the layer builds each SQE from memory it owns.
//! - A future dropped before its completion (here: a receive that lost a
//!   race against a timer) abandons its ticket: the layer keeps the buffer
//!   (the kernel may still write it), sends an `AsyncCancel`, and frees it
//!   when the cancelled operation's completion arrives.
//! - When `IoUring::new` fails with ENOSYS or EPERM (`ring::Unavailable`),
//!   or with `--blocking` or `EXECUTOR_FORCE_BLOCKING=1`, the same tasks
//!   run, and the same futures complete, through blocking calls on a pool
//!   of 4 threads.

mod tasks;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use rustix::net::{RecvFlags, SendFlags};
use urix::owned::{self, Driver, Ticket, Timeout};
use urix::ring::Unavailable;
use urix::{Errno, IoUring};

/// A file or socket, shared by the task and the operations on it (each
/// operation keeps it open until it is over).
pub type File = Arc<OwnedFd>;

/// An operation, with the file it works on.
pub enum Kind {
    ReadAt(File, u64),
    WriteAt(File, u64),
    Recv(File),
    Send(File),
    Sleep(Duration),
}

/// What an operation gives back: bytes moved (or the error), and its buffer.
pub type Output = (Result<usize, Errno>, Vec<u8>);

/// An operation in the ring: the layer's ticket for it.
enum InRing {
    Read(Ticket<owned::Read<File, Vec<u8>>>),
    Write(Ticket<owned::Write<File, Vec<u8>>>),
    Recv(Ticket<owned::Recv<File, Vec<u8>>>),
    Send(Ticket<owned::Send<File, Vec<u8>>>),
    Sleep(Ticket<Timeout>),
}

/// An operation on the pool: its output once a thread ran it.
#[derive(Default)]
struct OnPool {
    output: Option<Output>,
    waker: Option<Waker>,
    abandoned: bool,
}

enum Started {
    Ring(InRing),
    Pool(Arc<Mutex<OnPool>>),
}

type Job = (Kind, Vec<u8>, Arc<Mutex<OnPool>>);

/// The executor's state, shared with the pool threads and the wakers.
struct Runtime {
    pool: Option<mpsc::Sender<Job>>, // None: the ring (in DRIVER) runs operations
    pool_busy: AtomicUsize,
    ready: Mutex<VecDeque<usize>>, // task ids to poll; NOBODY only wakes
    cv: Condvar,
    abandoned: AtomicUsize,
    orphans: Mutex<Vec<Result<usize, Errno>>>, // results no one took (pool)
}
static RT: OnceLock<Runtime> = OnceLock::new();
fn rt() -> &'static Runtime {
    RT.get().expect("runtime installed")
}
const NOBODY: usize = usize::MAX;

thread_local! {
    /// The ring and its table of operations; used by the executor's thread only.
    static DRIVER: RefCell<Option<Driver<64>>> = const { RefCell::new(None) };
}
fn with_driver<R>(f: impl FnOnce(&mut Driver<64>) -> R) -> R {
    DRIVER.with_borrow_mut(|d| f(d.as_mut().expect("the ring back end")))
}

/// Moves `op` into the driver's table (submitting first if the SQ is full).
fn push<T: owned::Operation>(d: &mut Driver<64>, op: T) -> Ticket<T> {
    let op = match d.push(op) {
        Ok(ticket) => return ticket,
        Err(refused) => refused.into_inner(),
    };
    let _ = d.submit(); // makes room in the SQ
    d.push(op).expect("64 operations in flight at most")
}

/// The future of one operation.
pub struct Op(Option<Started>);

/// Starts `kind` on `buf` and returns the future of its output.
pub fn start(kind: Kind, buf: Vec<u8>) -> Op {
    let rt = rt();
    if let Some(jobs) = &rt.pool {
        let slot = Arc::new(Mutex::new(OnPool::default()));
        rt.pool_busy.fetch_add(1, SeqCst);
        jobs.send((kind, buf, slot.clone())).expect("pool alive");
        return Op(Some(Started::Pool(slot)));
    }
    Op(Some(Started::Ring(with_driver(|d| match kind {
        Kind::ReadAt(f, off) => InRing::Read(push(d, owned::Read::new(f, buf).at(off))),
        Kind::WriteAt(f, off) => InRing::Write(push(d, owned::Write::new(f, buf).at(off))),
        Kind::Recv(f) => InRing::Recv(push(d, owned::Recv::new(f, buf))),
        Kind::Send(f) => InRing::Send(push(d, owned::Send::new(f, buf))),
        Kind::Sleep(t) => InRing::Sleep(push(d, Timeout::new(t.into()))),
    }))))
}

impl Future for Op {
    type Output = Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        let out = match self.0.as_ref().expect("polled after Ready") {
            Started::Pool(slot) => {
                let mut s = slot.lock().unwrap();
                match s.output.take() {
                    Some(output) => Poll::Ready(output),
                    None => {
                        s.waker = Some(cx.waker().clone());
                        Poll::Pending
                    }
                }
            }
            Started::Ring(op) => with_driver(|d| match op {
                InRing::Read(t) => d.poll(t, cx).map(|o| (o.result, o.buf)),
                InRing::Write(t) => d.poll(t, cx).map(|o| (o.result, o.buf)),
                InRing::Recv(t) => d.poll(t, cx).map(|o| (o.result, o.buf)),
                InRing::Send(t) => d.poll(t, cx).map(|o| (o.result, o.buf)),
                InRing::Sleep(t) => d.poll(t, cx).map(|r| (r.map(|n| n as usize), Vec::new())),
            }),
        };
        if out.is_ready() {
            self.0 = None;
        }
        out
    }
}

impl Drop for Op {
    fn drop(&mut self) {
        let Some(started) = self.0.take() else { return };
        // Still in flight: its memory stays with the layer (or the pool
        // thread) until its completion.
        rt().abandoned.fetch_add(1, SeqCst);
        match started {
            Started::Pool(slot) => slot.lock().unwrap().abandoned = true,
            Started::Ring(op) => with_driver(|d| match op {
                InRing::Read(t) => d.abandon(t),
                InRing::Write(t) => d.abandon(t),
                InRing::Recv(t) => d.abandon(t),
                InRing::Send(t) => d.abandon(t),
                InRing::Sleep(t) => d.abandon(t),
            }),
        }
    }
}

/// Wakes a task: queues its id for the executor.
struct TaskWaker(usize);
impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        rt().ready.lock().unwrap().push_back(self.0);
        rt().cv.notify_one();
    }
}

type Task = Pin<Box<dyn Future<Output = io::Result<String>>>>;

/// Polls the tasks until all are done and no operation is in flight;
/// returns how many failed.
fn run(tasks: Vec<(&str, Task)>) -> io::Result<usize> {
    let rt = rt();
    let mut tasks: Vec<_> = tasks.into_iter().map(Some).collect();
    rt.ready.lock().unwrap().extend(0..tasks.len());
    let (mut left, mut failed) = (tasks.len(), 0);
    loop {
        let next = rt.ready.lock().unwrap().pop_front();
        if let Some(id) = next {
            if let Some(Some((name, task))) = tasks.get_mut(id) {
                let waker = Waker::from(Arc::new(TaskWaker(id)));
                if let Poll::Ready(r) = task.as_mut().poll(&mut Context::from_waker(&waker)) {
                    match r {
                        Ok(what) => println!("  {name}: {what}"),
                        Err(e) => (println!("  {name}: FAILED: {e}"), failed += 1).0,
                    }
                    (tasks[id], left) = (None, left - 1);
                }
            }
            continue;
        }
        if rt.pool.is_some() {
            if left == 0 && rt.pool_busy.load(SeqCst) == 0 {
                return Ok(failed);
            }
            let ready = rt.ready.lock().unwrap();
            drop(rt.cv.wait_while(ready, |r| r.is_empty()).unwrap());
        } else {
            // Nothing to poll: submit, wait for a completion, and reap
            // (which wakes the futures whose operations are over).
            let done = with_driver(|d| {
                if left == 0 && d.in_use() == 0 {
                    return Ok(true);
                }
                d.submit_and_wait(1)?;
                d.reap();
                Ok::<_, Errno>(false)
            })?;
            if done {
                return Ok(failed);
            }
        }
    }
}

/// The blocking form of an operation: same buffer, same result.
fn run_blocking(kind: Kind, buf: &mut Vec<u8>) -> Result<usize, Errno> {
    let got = |r: Result<usize, Errno>, buf: &mut Vec<u8>| r.inspect(|&n| buf.truncate(n));
    match kind {
        Kind::ReadAt(f, off) => got(rustix::io::pread(&f, &mut buf[..], off), buf),
        Kind::WriteAt(f, off) => rustix::io::pwrite(&f, buf, off),
        Kind::Recv(f) => got(rustix::net::recv(&f, &mut buf[..], RecvFlags::empty()).map(|r| r.0), buf),
        Kind::Send(f) => rustix::net::send(&f, buf, SendFlags::empty()),
        Kind::Sleep(d) => {
            std::thread::sleep(d);
            Err(Errno::TIME) // what the kernel's timeout says
        }
    }
}

/// Runs blocking operations on `threads` threads.
fn pool(threads: usize) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..threads {
        let rx = rx.clone();
        std::thread::spawn(move || loop {
            let Ok((kind, mut buf, slot)) = rx.lock().unwrap().recv() else { return };
            let result = run_blocking(kind, &mut buf);
            let waker = {
                let mut s = slot.lock().unwrap();
                match s.abandoned {
                    true => rt().orphans.lock().unwrap().push(result), // `buf` is freed here
                    false => s.output = Some((result, buf)),
                }
                s.waker.take()
            };
            rt().pool_busy.fetch_sub(1, SeqCst);
            waker.map_or_else(|| Arc::new(TaskWaker(NOBODY)).wake(), Waker::wake);
        });
    }
    tx
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let forced =
        std::env::args().any(|a| a == "--blocking") || std::env::var("EXECUTOR_FORCE_BLOCKING").is_ok_and(|v| v == "1");
    let pool = match if forced { Err(Errno::PERM) } else { IoUring::new(64) } {
        Ok(ring) => {
            DRIVER.set(Some(Driver::new(ring)));
            None
        }
        Err(_) if forced => Some(pool(4)),
        Err(e) => match Unavailable::from_errno(e) {
            Some(why) => {
                println!("executor: {why}: falling back to blocking calls on a thread pool");
                Some(pool(4))
            }
            None => return Err(e.into()),
        },
    };
    let how = if pool.is_none() { "io_uring" } else { "blocking calls on 4 threads" };
    let runtime = Runtime {
        pool,
        pool_busy: <_>::default(),
        ready: <_>::default(),
        cv: <_>::default(),
        abandoned: <_>::default(),
        orphans: <_>::default(),
    };
    if RT.set(runtime).is_err() {
        unreachable!("set once");
    }

    let tasks = tasks::all()?;
    println!("executor: running {} tasks on {how}", tasks.len());
    let started = Instant::now();
    let failed = run(tasks)?;
    // The abandoned receive: freed by the layer at its ECANCELED completion
    // on the ring (no slot in use is left), 0 (the peer closed) on the pool.
    let abandoned = rt().abandoned.load(SeqCst);
    let orphans = rt().orphans.lock().unwrap().clone();
    let in_use = DRIVER.with_borrow_mut(|d| d.take().map_or(0, |d| d.in_use()));
    println!(
        "executor: done in {:.2?}; {abandoned} operation(s) abandoned and freed at their completion \
         (slots in use: {in_use}, pool results no one took: {orphans:?})",
        started.elapsed()
    );
    let freed = if rt().pool.is_some() { orphans.len() == 1 } else { in_use == 0 };
    if failed > 0 || abandoned != 1 || !freed {
        return Err(format!("{failed} tasks failed; {abandoned} abandoned (expected one), freed: {freed}").into());
    }
    Ok(())
}
