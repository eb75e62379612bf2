//! Code written against the executor in `main.rs`: the operations as
//! async functions, and the tasks, two on files, two on a socket pair and
//! one that gives up on a receive. None of it knows which back end runs it.

use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use urix::Errno;

use super::{start, File, Kind, Task};

/// The tasks to run, with their names.
pub fn all() -> io::Result<Vec<(&'static str, Task)>> {
    let (a, b) = UnixStream::pair()?;
    Ok(vec![
        ("file", Box::pin(read_file("Cargo.toml"))),
        ("temp file 1", Box::pin(write_and_read_back(1))),
        ("temp file 2", Box::pin(write_and_read_back(2))),
        ("ping", Box::pin(ping(Arc::new(a.into()), 100))),
        ("pong", Box::pin(pong(Arc::new(b.into())))),
        ("timeout", Box::pin(abandon_a_receive())),
    ])
}

// The operations as async functions: each result is bytes moved or an
// errno, and the buffer comes back with it.
async fn read_at(f: &File, off: u64, len: usize) -> io::Result<Vec<u8>> {
    let (r, buf) = start(Kind::ReadAt(f.clone(), off), vec![0; len]).await;
    r?; // the buffer is cut to what was read
    Ok(buf)
}
async fn write_at(f: &File, off: u64, data: Vec<u8>) -> io::Result<usize> {
    Ok(start(Kind::WriteAt(f.clone(), off), data).await.0?)
}
async fn recv(f: &File, len: usize) -> io::Result<Vec<u8>> {
    let (r, buf) = start(Kind::Recv(f.clone()), vec![0; len]).await;
    r?;
    Ok(buf)
}
async fn send_all(f: &File, mut data: Vec<u8>) -> io::Result<()> {
    while !data.is_empty() {
        let (r, mut buf) = start(Kind::Send(f.clone()), data).await;
        buf.drain(..r?); // what a short send left
        data = buf;
    }
    Ok(())
}
async fn sleep(d: Duration) -> io::Result<()> {
    match start(Kind::Sleep(d), Vec::new()).await.0 {
        Err(Errno::TIME) => Ok(()),
        r => Ok(r.map(drop)?),
    }
}
fn fails(what: String) -> io::Error {
    io::Error::other(what)
}

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
async fn ping(s: File, messages: usize) -> io::Result<String> {
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
async fn pong(s: File) -> io::Result<String> {
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
