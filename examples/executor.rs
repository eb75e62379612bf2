//! A minimal single-threaded async executor over io_uring: what "a
//! dependency of higher-level executors" means, in one file.
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

use std::cell::{OnceCell, RefCell};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use rustix::net::{RecvFlags, SendFlags};
use uring_core::ring::Unavailable;
use uring_core::types::{Fd, Timespec};
use uring_core::{opcode, squeue, IoUring};

/// An operation, with the fd it works on (shared with the task, and kept
/// open by the operation until it is over).
enum Kind {
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

/// What the executor thread shares with the pool threads and wakers.
#[derive(Default)]
struct Shared {
    slots: Mutex<Vec<Slot>>,
    ready: Mutex<VecDeque<usize>>, // task ids to poll; NOBODY only wakes
    cv: Condvar,
    orphans: AtomicU64,
}
const NOBODY: usize = usize::MAX;
const CANCEL: u64 = u64::MAX; // user_data of the AsyncCancels

enum Backend {
    Ring(RefCell<IoUring>),
    Pool(mpsc::Sender<(usize, Box<Owned>)>),
}

struct Runtime {
    shared: Arc<Shared>,
    backend: Backend,
}

thread_local!(static RT: OnceCell<Rc<Runtime>> = const { OnceCell::new() });
fn rt() -> Rc<Runtime> {
    RT.with(|rt| rt.get().expect("runtime installed").clone())
}

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
fn complete(shared: &Shared, slot: usize, result: i32, owned: Option<Box<Owned>>) {
    let waker = {
        let mut slots = shared.slots.lock().unwrap();
        let s = &mut slots[slot];
        if s.abandoned {
            *s = Slot::default(); // the kernel (or thread) is done: free it
            drop(slots);
            shared.orphans.fetch_add(1, Relaxed);
            shared.ready.lock().unwrap().push_back(NOBODY);
            shared.cv.notify_one();
            return;
        } else {
            s.result = Some(result);
            s.owned = s.owned.take().or(owned);
            s.waker.take()
        }
    };
    waker.map(Waker::wake);
}

/// The future of one operation.
struct Op {
    slot: usize,
    done: bool,
}

/// Starts `kind` on `buf` and returns the future of its result.
fn start(kind: Kind, buf: Vec<u8>) -> Op {
    let rt = rt();
    let ts = if let Kind::Sleep(d) = kind { d.into() } else { Timespec::new() };
    let mut owned = Box::new(Owned { kind, buf, ts });
    let mut slots = rt.shared.slots.lock().unwrap();
    let slot = slots.iter().position(|s| !s.busy).unwrap_or(slots.len());
    if slot == slots.len() {
        slots.push(Slot::default());
    }
    slots[slot].busy = true;
    match &rt.backend {
        Backend::Ring(ring) => {
            let entry = owned.entry().user_data(slot as u64);
            slots[slot].owned = Some(owned); // moves the Box, not what it points to
            let mut ring = ring.borrow_mut();
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
        let rt = rt();
        let mut slots = rt.shared.slots.lock().unwrap();
        let s = &mut slots[self.slot];
        match s.result {
            Some(result) => {
                let buf = std::mem::take(s).owned.expect("owned memory").buf;
                self.done = true;
                Poll::Ready((result, buf))
            }
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for Op {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let rt = rt();
        let mut slots = rt.shared.slots.lock().unwrap();
        if slots[self.slot].result.is_some() {
            slots[self.slot] = Slot::default(); // finished, never polled
            return;
        }
        // Still in flight: the slot keeps its memory until the completion.
        slots[self.slot].abandoned = true;
        if let Backend::Ring(ring) = &rt.backend {
            let cancel = opcode::AsyncCancel::new((self.slot as u64).into()).build().user_data(CANCEL);
            // SAFETY: a cancel names no memory.
            while unsafe { ring.borrow_mut().submission().push(&cancel) }.is_err() {
                ring.borrow().submit().expect("submit");
            }
        }
    }
}

/// Wakes a task: queues its id for the executor.
struct TaskWaker(usize, Arc<Shared>);
impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.1.ready.lock().unwrap().push_back(self.0);
        self.1.cv.notify_one();
    }
}

type Task = Pin<Box<dyn Future<Output = io::Result<String>>>>;

/// Polls the tasks until all are done and no operation is in flight;
/// returns how many failed.
fn run(tasks: Vec<(&str, Task)>) -> io::Result<usize> {
    let rt = rt();
    let mut tasks: Vec<_> = tasks.into_iter().map(Some).collect();
    rt.shared.ready.lock().unwrap().extend(0..tasks.len());
    let (mut left, mut failed) = (tasks.len(), 0);
    loop {
        let next = rt.shared.ready.lock().unwrap().pop_front();
        if let Some(id) = next {
            if let Some(Some((name, task))) = tasks.get_mut(id) {
                let waker = Waker::from(Arc::new(TaskWaker(id, rt.shared.clone())));
                if let Poll::Ready(r) = task.as_mut().poll(&mut Context::from_waker(&waker)) {
                    match r {
                        Ok(what) => println!("  {name}: {what}"),
                        Err(e) => (println!("  {name}: FAILED: {e}"), failed += 1).0,
                    }
                    tasks[id] = None;
                    left -= 1;
                }
            }
            continue;
        }
        if left == 0 && !rt.shared.slots.lock().unwrap().iter().any(|s| s.busy) {
            return Ok(failed);
        }
        // Nothing to poll: wait for a completion.
        match &rt.backend {
            Backend::Ring(ring) => {
                let cqes: Vec<_> = {
                    let mut ring = ring.borrow_mut();
                    ring.submit_and_wait(1)?;
                    ring.completion().collect()
                };
                for cqe in cqes.iter().filter(|c| c.user_data_u64() != CANCEL) {
                    complete(&rt.shared, cqe.user_data_u64() as usize, cqe.raw_result(), None);
                }
            }
            Backend::Pool(_) => {
                let ready = rt.shared.ready.lock().unwrap();
                drop(rt.shared.cv.wait_while(ready, |r| r.is_empty()).unwrap());
            }
        }
    }
}

/// Runs blocking operations on `threads` threads.
fn pool(shared: &Arc<Shared>, threads: usize) -> Backend {
    let (tx, rx) = mpsc::channel::<(usize, Box<Owned>)>();
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..threads {
        let (rx, shared) = (rx.clone(), shared.clone());
        std::thread::spawn(move || loop {
            let Ok((slot, mut owned)) = rx.lock().unwrap().recv() else { return };
            let result = owned.run_blocking();
            complete(&shared, slot, result, Some(owned));
        });
    }
    Backend::Pool(tx)
}

// The operations as async functions. A result is a CQE's: >= 0 is a
// value, < 0 an errno.
fn check(result: i32) -> io::Result<usize> {
    usize::try_from(result).map_err(|_| io::Error::from_raw_os_error(-result))
}
async fn read_at(f: &Arc<OwnedFd>, off: u64, len: usize) -> io::Result<Vec<u8>> {
    let (r, mut buf) = start(Kind::ReadAt(f.clone(), off), vec![0; len]).await;
    buf.truncate(check(r)?);
    Ok(buf)
}
async fn write_at(f: &Arc<OwnedFd>, off: u64, data: Vec<u8>) -> io::Result<usize> {
    check(start(Kind::WriteAt(f.clone(), off), data).await.0)
}
async fn recv(f: &Arc<OwnedFd>, len: usize) -> io::Result<Vec<u8>> {
    let (r, mut buf) = start(Kind::Recv(f.clone()), vec![0; len]).await;
    buf.truncate(check(r)?);
    Ok(buf)
}
async fn send_all(f: &Arc<OwnedFd>, mut data: Vec<u8>) -> io::Result<()> {
    while !data.is_empty() {
        let (r, buf) = start(Kind::Send(f.clone()), data).await;
        data = buf[check(r)?..].to_vec(); // what a short send left
    }
    Ok(())
}
async fn sleep(d: Duration) -> io::Result<()> {
    match check(start(Kind::Sleep(d), Vec::new()).await.0) {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::TIME.raw_os_error()) => Ok(()),
        r => r.map(drop),
    }
}
fn fails(what: String) -> io::Error {
    io::Error::other(what)
}

// The tasks: two on files, two on a socket pair, one that gives up.
async fn read_file(path: &str) -> io::Result<String> {
    let f = Arc::new(OwnedFd::from(std::fs::File::open(path)?));
    let mut contents = Vec::new();
    loop {
        let piece = read_at(&f, contents.len() as u64, 1024).await?;
        if piece.is_empty() {
            break;
        }
        contents.extend(piece);
    }
    let ok = contents == std::fs::read(path)?;
    ok.then(|| format!("read {} bytes of {path} in 1 KiB pieces", contents.len()))
        .ok_or(fails(format!("{path} differs")))
}
async fn write_and_read_back(id: u8) -> io::Result<String> {
    let path = std::env::temp_dir().join(format!("uring-executor-{}-{id}", std::process::id()));
    let f = Arc::new(OwnedFd::from(std::fs::File::options().read(true).write(true).create_new(true).open(&path)?));
    std::fs::remove_file(&path)?; // the open fd keeps the file until the end
    let data: Vec<u8> = (0..64 * 1024u32).map(|i| (i % 251) as u8 ^ id).collect();
    for (i, piece) in data.chunks(16 * 1024).enumerate() {
        if write_at(&f, (i * 16 * 1024) as u64, piece.to_vec()).await? != piece.len() {
            return Err(fails("short write".into()));
        }
    }
    let back = read_at(&f, 0, data.len() + 1).await?;
    (back == data).then(|| format!("wrote and read back {} bytes", data.len())).ok_or(fails("differs".into()))
}
async fn ping(s: Arc<OwnedFd>, messages: usize) -> io::Result<String> {
    for i in 0..messages {
        let msg = format!("ping {i}");
        send_all(&s, msg.clone().into_bytes()).await?;
        let mut echo = Vec::new();
        while echo.len() < msg.len() {
            let piece = recv(&s, msg.len() - echo.len()).await?;
            echo.extend(if piece.is_empty() { return Err(fails("hung up".into())) } else { piece });
        }
        if echo != msg.as_bytes() {
            return Err(fails(format!("wrong echo for message {i}")));
        }
    }
    Ok(format!("{messages} messages echoed correctly"))
} // dropping `s` closes this end: the other side sees the end of stream
async fn pong(s: Arc<OwnedFd>) -> io::Result<String> {
    let mut total = 0;
    loop {
        let data = recv(&s, 512).await?;
        if data.is_empty() {
            return Ok(format!("echoed {total} bytes"));
        }
        total += data.len();
        send_all(&s, data).await?;
    }
}
async fn abandon_a_receive() -> io::Result<String> {
    let (a, b) = UnixStream::pair()?;
    let a = Arc::new(OwnedFd::from(a));
    let started = Instant::now();
    let mut receive = Box::pin(recv(&a, 64)); // nobody will send anything
    let mut timer = Box::pin(sleep(Duration::from_millis(20)));
    let timed_out = poll_fn(|cx| match receive.as_mut().poll(cx) {
        Poll::Ready(_) => Poll::Ready(false),
        Poll::Pending => timer.as_mut().poll(cx).map(|_| true),
    })
    .await;
    drop(receive); // its buffer stays in its slot until its completion
    drop(b); // (which, on the pool, is what ends the blocking recv)
    let took = started.elapsed();
    timed_out.then(|| format!("gave up a receive after {took:.0?}")).ok_or(fails("data from nowhere".into()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let forced =
        std::env::args().any(|a| a == "--blocking") || std::env::var("EXECUTOR_FORCE_BLOCKING").is_ok_and(|v| v == "1");
    let shared = Arc::new(Shared::default());
    let backend = match if forced { Err(rustix::io::Errno::PERM) } else { IoUring::new(64) } {
        Ok(ring) => Backend::Ring(RefCell::new(ring)),
        Err(_) if forced => pool(&shared, 4),
        Err(e) => match Unavailable::from_errno(e) {
            Some(why) => {
                println!("executor: {why}: falling back to blocking calls on a thread pool");
                pool(&shared, 4)
            }
            None => return Err(e.into()),
        },
    };
    let how = if let Backend::Ring(_) = backend { "io_uring" } else { "blocking calls on 4 threads" };
    println!("executor: running 6 tasks on {how}");
    RT.with(|rt| rt.set(Rc::new(Runtime { shared: shared.clone(), backend }))).ok().expect("installed once");

    let (a, b) = UnixStream::pair()?;
    let started = Instant::now();
    let failed = run(vec![
        ("file", Box::pin(read_file("Cargo.toml"))),
        ("temp file 1", Box::pin(write_and_read_back(1))),
        ("temp file 2", Box::pin(write_and_read_back(2))),
        ("ping", Box::pin(ping(Arc::new(a.into()), 100))),
        ("pong", Box::pin(pong(Arc::new(b.into())))),
        ("timeout", Box::pin(abandon_a_receive())),
    ])?;
    let orphans = shared.orphans.load(Relaxed);
    println!("executor: done in {:.2?}; {orphans} abandoned operation freed after its completion", started.elapsed());
    if failed > 0 || orphans != 1 {
        return Err(format!("{failed} tasks failed, {orphans} abandoned operations (expected 1)").into());
    }
    Ok(())
}
