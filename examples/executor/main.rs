//! A minimal single-threaded async executor over io_uring: what "a
//! dependency of higher-level executors" means. This file is the executor;
//! `tasks.rs` is code written against it.
//!
//! `cargo run --example executor [--blocking]`
//!
//! - Every operation is a future that takes a user_data **slot**; the slot
//!   keeps the operation's waker and, until its completion arrives, the
//!   memory it names (buffer, timespec) and its fd.
//! - A future dropped before its completion (here: a receive that lost a
//!   race against a timer) must not free that memory, since the kernel may
//!   still write it: the slot keeps it, an `AsyncCancel` is sent, and the
//!   slot is freed when the cancelled operation's completion arrives.
//! - When `IoUring::new` fails with ENOSYS or EPERM (`ring::Unavailable`),
//!   or with `--blocking` or `EXECUTOR_FORCE_BLOCKING=1`, the same tasks
//!   run, and the same futures complete, through blocking calls on a pool
//!   of 4 threads.

mod tasks;

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::{mpsc, Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use rustix::net::{RecvFlags, SendFlags};
use urix::ring::Unavailable;
use urix::types::{Fd, Timespec};
use urix::{opcode, squeue, IoUring};

/// An operation, with the fd it works on (shared with the task, and kept
/// open by the operation until it is over).
pub enum Kind {
    ReadAt(Arc<OwnedFd>, u64),
    WriteAt(Arc<OwnedFd>, u64),
    Recv(Arc<OwnedFd>),
    Send(Arc<OwnedFd>),
    Sleep(Duration),
}

/// What an operation owns until it is over, boxed so that it never moves.
struct Owned {
    kind: Kind,
    buf: Vec<u8>,
    ts: Timespec,
}

/// A user_data slot: the waker of the future that waits on it, the memory
/// of its operation, its result once there.
#[derive(Default)]
struct Slot {
    busy: bool,
    abandoned: bool,
    waker: Option<Waker>,
    owned: Option<Box<Owned>>,
    result: Option<i32>,
}

enum Backend {
    Ring(Box<Mutex<IoUring>>), // one thread uses it; the Mutex makes it a static
    Pool(mpsc::Sender<(usize, Box<Owned>)>),
}

/// The executor's state, shared with the pool threads and the wakers.
struct Runtime {
    backend: Backend,
    slots: Mutex<Vec<Slot>>,
    ready: Mutex<VecDeque<usize>>, // task ids to poll; NOBODY only wakes
    cv: Condvar,
    orphans: Mutex<Vec<i32>>, // results of abandoned operations
}
static RT: OnceLock<Runtime> = OnceLock::new();
fn rt() -> &'static Runtime {
    RT.get().expect("runtime installed")
}
const NOBODY: usize = usize::MAX;
const CANCEL: u64 = u64::MAX; // user_data of the AsyncCancels

impl Owned {
    /// The SQE of this operation; it points into `self`.
    fn entry(&mut self) -> squeue::Entry {
        let (ptr, len) = (self.buf.as_mut_ptr(), self.buf.len() as u32);
        let fd = |f: &Arc<OwnedFd>| Fd(f.as_raw_fd());
        match &self.kind {
            Kind::ReadAt(f, off) => opcode::Read::new(fd(f), ptr, len).offset(*off).build(),
            Kind::WriteAt(f, off) => opcode::Write::new(fd(f), ptr, len).offset(*off).build(),
            Kind::Recv(f) => opcode::Recv::new(fd(f), ptr, len).build(),
            Kind::Send(f) => opcode::Send::new(fd(f), ptr, len).build(),
            Kind::Sleep(_) => opcode::Timeout::new(&self.ts).build(),
        }
    }

    /// The same operation as a blocking call; the result as a CQE has it.
    fn run_blocking(&mut self) -> i32 {
        let r = match &self.kind {
            Kind::ReadAt(f, off) => rustix::io::pread(f, &mut self.buf[..], *off),
            Kind::WriteAt(f, off) => rustix::io::pwrite(f, &self.buf, *off),
            Kind::Recv(f) => rustix::net::recv(f, &mut self.buf[..], RecvFlags::empty()).map(|r| r.0),
            Kind::Send(f) => rustix::net::send(f, &self.buf, SendFlags::empty()),
            Kind::Sleep(d) => {
                std::thread::sleep(*d);
                Err(rustix::io::Errno::TIME) // what the kernel's timeout says
            }
        };
        r.map_or_else(|e| -e.raw_os_error(), |n| n as i32)
    }
}

/// Records the result of the operation in `slot` and wakes its future; an
/// abandoned operation's slot is freed instead, with its memory.
fn complete(slot: usize, result: i32, owned: Option<Box<Owned>>) {
    let rt = rt();
    let mut slots = rt.slots.lock().unwrap();
    let s = &mut slots[slot];
    if s.abandoned {
        *s = Slot::default(); // the kernel (or thread) is done: free it
        rt.orphans.lock().unwrap().push(result);
        drop(slots);
        rt.ready.lock().unwrap().push_back(NOBODY);
        rt.cv.notify_one();
        return;
    }
    s.result = Some(result);
    s.owned = s.owned.take().or(owned);
    let waker = s.waker.take();
    drop(slots);
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// The future of one operation.
pub struct Op {
    slot: usize,
    done: bool,
}

/// Starts `kind` on `buf` and returns the future of its result, and of the
/// buffer.
pub fn start(kind: Kind, buf: Vec<u8>) -> Op {
    let rt = rt();
    let ts = if let Kind::Sleep(d) = kind { d.into() } else { Timespec::new() };
    let mut owned = Box::new(Owned { kind, buf, ts });
    let mut slots = rt.slots.lock().unwrap();
    let slot = slots.iter().position(|s| !s.busy).unwrap_or(slots.len());
    if slot == slots.len() {
        slots.push(Slot::default());
    }
    slots[slot].busy = true;
    match &rt.backend {
        Backend::Ring(ring) => {
            let entry = owned.entry().user_data(slot as u64);
            slots[slot].owned = Some(owned); // moves the Box, not what it points to
            let mut ring = ring.lock().unwrap();
            // SAFETY: the entry names memory inside the Box and the fd in
            // its Arc, which the slot keeps until the slot's CQE arrives.
            while unsafe { ring.submission().push(&entry) }.is_err() {
                ring.submit().expect("submit");
            }
        }
        Backend::Pool(jobs) => jobs.send((slot, owned)).expect("pool alive"),
    }
    Op { slot, done: false }
}

impl Future for Op {
    type Output = (i32, Vec<u8>);
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(i32, Vec<u8>)> {
        let mut slots = rt().slots.lock().unwrap();
        let s = &mut slots[self.slot];
        let Some(result) = s.result else {
            s.waker = Some(cx.waker().clone());
            return Poll::Pending;
        };
        let buf = std::mem::take(s).owned.expect("owned memory").buf;
        self.done = true;
        Poll::Ready((result, buf))
    }
}

impl Drop for Op {
    fn drop(&mut self) {
        let rt = rt();
        let mut slots = rt.slots.lock().unwrap();
        let s = &mut slots[self.slot];
        if self.done {
            return;
        } else if s.result.is_some() {
            *s = Slot::default(); // finished, but never polled
            return;
        }
        // Still in flight: the slot keeps the memory until the completion.
        s.abandoned = true;
        if let Backend::Ring(ring) = &rt.backend {
            let cancel = opcode::AsyncCancel::new((self.slot as u64).into()).build().user_data(CANCEL);
            let mut ring = ring.lock().unwrap();
            // SAFETY: a cancel names no memory.
            while unsafe { ring.submission().push(&cancel) }.is_err() {
                ring.submit().expect("submit");
            }
            ring.submit().expect("submit"); // at once, not when the executor idles
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
        if left == 0 && !rt.slots.lock().unwrap().iter().any(|s| s.busy) {
            return Ok(failed);
        }
        // Nothing to poll: submit, and wait for a completion.
        match &rt.backend {
            Backend::Ring(ring) => {
                let cqes: Vec<_> = {
                    let mut ring = ring.lock().unwrap();
                    ring.submit_and_wait(1)?;
                    ring.completion().collect()
                };
                for cqe in cqes.iter().filter(|c| c.user_data_u64() != CANCEL) {
                    complete(cqe.user_data_u64() as usize, cqe.raw_result(), None);
                }
            }
            Backend::Pool(_) => {
                let ready = rt.ready.lock().unwrap();
                drop(rt.cv.wait_while(ready, |r| r.is_empty()).unwrap());
            }
        }
    }
}

/// Runs blocking operations on `threads` threads.
fn pool(threads: usize) -> Backend {
    let (tx, rx) = mpsc::channel::<(usize, Box<Owned>)>();
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..threads {
        let rx = rx.clone();
        std::thread::spawn(move || loop {
            let Ok((slot, mut owned)) = rx.lock().unwrap().recv() else { return };
            let result = owned.run_blocking();
            complete(slot, result, Some(owned));
        });
    }
    Backend::Pool(tx)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let forced =
        std::env::args().any(|a| a == "--blocking") || std::env::var("EXECUTOR_FORCE_BLOCKING").is_ok_and(|v| v == "1");
    let backend = match if forced { Err(rustix::io::Errno::PERM) } else { IoUring::new(64) } {
        Ok(ring) => Backend::Ring(Box::new(Mutex::new(ring))),
        Err(_) if forced => pool(4),
        Err(e) => match Unavailable::from_errno(e) {
            Some(why) => {
                println!("executor: {why}: falling back to blocking calls on a thread pool");
                pool(4)
            }
            None => return Err(e.into()),
        },
    };
    let how = if let Backend::Ring(_) = backend { "io_uring" } else { "blocking calls on 4 threads" };
    let runtime =
        Runtime { backend, slots: <_>::default(), ready: <_>::default(), cv: <_>::default(), orphans: <_>::default() };
    if RT.set(runtime).is_err() {
        unreachable!("set once");
    }

    let tasks = tasks::all()?;
    println!("executor: running {} tasks on {how}", tasks.len());
    let started = Instant::now();
    let failed = run(tasks)?;
    // The abandoned receive: ECANCELED (-125) on the ring, 0 (the peer
    // closed) on the pool.
    let orphans = rt().orphans.lock().unwrap().clone();
    println!(
        "executor: done in {:.2?}; abandoned operations freed at their completion: {orphans:?}",
        started.elapsed()
    );
    if failed > 0 || orphans.len() != 1 {
        return Err(format!("{failed} tasks failed; abandoned operations: {orphans:?} (expected one)").into());
    }
    Ok(())
}
