//! A loopback TCP echo server on one thread and one ring, without a single
//! blocking call in its loop and without `unsafe`: it is written on the
//! owned layer (`urix::owned`), which keeps every socket and buffer an
//! operation uses until the kernel is done with it.
//! - one multishot accept ([`AcceptMulti`]) yields a socket per new
//!   connection;
//! - one multishot receive ([`RecvMulti`]) per connection yields a chunk of
//!   data at a time, in a buffer the kernel picked from the driver's
//!   provided-buffer ring: no buffer is tied to a connection while it is
//!   idle;
//! - an [`owned::SendReceived`] echoes each chunk straight from the buffer
//!   it landed in (no copy), one send in flight per connection; the chunk
//!   comes back with the result and its buffer goes back to the ring.
//!
//! ```text
//! cargo run --example tcp_echo [MESSAGES] [CLIENTS]   server and clients in one process
//! cargo run --example tcp_echo server ADDR [CONNECTIONS]
//! cargo run --example tcp_echo client ADDR [MESSAGES]
//! ```
//! Each client sends MESSAGES lines (default 1000) and checks that exactly
//! those bytes come back; the in-process form (default 4 clients) exits
//! non-zero if any client got a wrong echo.

use std::collections::VecDeque;
use std::error::Error;
use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;

use urix::owned::{self, AcceptMulti, Driver, Received, RecvMulti, SendReceived, Ticket};
use urix::{cqueue, squeue, Errno, IoUring};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// The driver's provided-buffer ring: 16 buffers of 256 bytes shared by
/// every connection. Small on purpose: a multishot receive takes as many
/// buffers as the socket has data for, so the ring runs dry (ENOBUFS ends
/// the receive) often, and the re-arm path below is exercised. The layer
/// refuses a ring of more buffers than the results it keeps per operation
/// (the driver's last const parameter, [`QUEUE_LEN`]), so no received
/// chunk is ever dropped however far behind this loop falls.
const BUFS: u16 = 16;
/// Unread results kept per operation: at least `BUFS`.
const QUEUE_LEN: usize = 16;
/// 64 slots of the default size, with a queue of `QUEUE_LEN`.
type EchoDriver = Driver<64, 320, squeue::Entry, cqueue::Entry, QUEUE_LEN>;
const BUF_LEN: u32 = 256;

type Socket = Arc<OwnedFd>; // shared by a connection's receive and send

/// A connection: its socket, the chunks received and not yet echoed (in
/// order; each holds a buffer of the ring until echoed), and its
/// operations in flight (at most one receive and one send, which sends
/// its chunk from byte `sent`).
struct Conn {
    fd: Socket,
    pending: VecDeque<Received>,
    recv: Option<Ticket<RecvMulti<Socket>>>,
    send: Option<(Ticket<SendReceived<Socket>>, usize)>,
    eof: bool,
}

#[derive(Debug, Default)]
struct Stats {
    connections: u64,
    chunks: u64,
    bytes: u64,
    sends: u64,
    short_sends: u64,
    enobufs: u64,
    rearms: u64,
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: u64| args.get(i).map_or(Ok(default), |a| a.parse::<u64>());
    match args.first().map(String::as_str) {
        Some("server") => {
            let listener = TcpListener::bind(args.get(1).ok_or("server ADDR")?.as_str())?;
            println!("tcp_echo: serving on {}", listener.local_addr()?);
            println!("tcp_echo: {:?}", serve(listener, num(2, u64::MAX)?)?);
        }
        Some("client") => {
            let messages = num(2, 1000)?;
            client(args.get(1).ok_or("client ADDR")?, messages, 0)?;
            println!("tcp_echo: {messages} messages echoed correctly");
        }
        _ => {
            let (messages, clients) = (num(0, 1000)?, num(1, 4)?);
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
            let addr = listener.local_addr()?.to_string();
            let threads: Vec<_> = (0..clients)
                .map(|c| {
                    let addr = addr.clone();
                    thread::spawn(move || client(&addr, messages, c))
                })
                .collect();
            let stats = serve(listener, clients)?;
            for t in threads {
                t.join().expect("client thread")?;
            }
            println!("tcp_echo: {clients} clients x {messages} messages echoed correctly; server: {stats:?}");
        }
    }
    Ok(())
}

/// Connects, sends `messages` lines from one thread while reading the
/// echo on another, and checks the echo.
fn client(addr: &str, messages: u64, id: u64) -> Res<()> {
    let stream = TcpStream::connect(addr)?;
    let mut tx = stream.try_clone()?;
    let sender = thread::spawn(move || -> std::io::Result<()> {
        for i in 0..messages {
            writeln!(tx, "client {id} says hello for the {i}th time")?;
        }
        tx.shutdown(Shutdown::Write) // the server sees the end of the stream
    });
    let mut echo = String::new();
    (&stream).read_to_string(&mut echo)?;
    sender.join().expect("sender thread")?;
    let sent: String = (0..messages).map(|i| format!("client {id} says hello for the {i}th time\n")).collect();
    if echo != sent {
        return Err(format!("client {id}: wrong echo ({} bytes back, {} sent)", echo.len(), sent.len()).into());
    }
    Ok(())
}

/// Serves until `max` connections came and went.
fn serve(listener: TcpListener, max: u64) -> Res<Stats> {
    let mut driver = EchoDriver::new(IoUring::new(64)?);
    driver.provide_buffers_boxed(BUFS, BUF_LEN)?;
    let listener = Arc::new(listener);
    let mut accept = push(&mut driver, AcceptMulti::new(listener.clone()))?;
    let mut conns: Vec<Conn> = Vec::new();
    let (mut stats, mut closed) = (Stats::default(), 0);
    // The loop looks at every operation after each wait (a real server
    // would let each operation's waker say which one has news).
    let mut cx = Context::from_waker(Waker::noop());

    while closed < max {
        driver.submit_and_wait(1)?;
        driver.reap();
        while let Poll::Ready(next) = driver.poll_next(&accept, &mut cx) {
            match next {
                Some(fd) => {
                    stats.connections += 1;
                    let fd = Arc::new(fd?);
                    let recv = Some(push(&mut driver, RecvMulti::new(fd.clone()))?);
                    conns.push(Conn { fd, pending: VecDeque::new(), recv, send: None, eof: false });
                }
                None => {
                    // The multishot accept ended (its output is the
                    // listener): start another.
                    let Poll::Ready(listener) = driver.try_take(&accept) else { return Err("accept".into()) };
                    accept = push(&mut driver, AcceptMulti::new(listener))?;
                }
            }
        }
        for conn in &mut conns {
            if let Some(recv) = &conn.recv {
                while let Poll::Ready(next) = driver.poll_next(recv, &mut cx) {
                    match next {
                        Some(Ok(Some(chunk))) => {
                            stats.chunks += 1;
                            stats.bytes += chunk.len() as u64;
                            conn.pending.push_back(chunk); // echoed from where it is
                        }
                        Some(Ok(None)) => conn.eof = true,
                        Some(Err(Errno::NOBUFS)) => stats.enobufs += 1,
                        Some(Err(Errno::CONNRESET)) => conn.eof = true,
                        Some(Err(e)) => return Err(format!("receive: {e}; {:?}", driver.stats()).into()),
                        // The receive ended: end of stream, the ring ran
                        // dry, or another reason; re-armed below unless at
                        // the end.
                        None => {
                            let _ = driver.try_take(recv);
                            conn.recv = None;
                            break;
                        }
                    }
                }
            }
            if let Some((send, from)) = &conn.send {
                if let Poll::Ready(done) = driver.try_take(send) {
                    let sent = from + done.result?;
                    conn.send = None;
                    if sent < done.buf.len() {
                        // A short send: the rest of the chunk goes next.
                        stats.short_sends += 1;
                        let rest = SendReceived::new(done.file, done.buf).from(sent);
                        conn.send = Some((push(&mut driver, rest)?, sent));
                    } else {
                        driver.recycle(done.buf); // echoed: back to the ring
                    }
                }
            }
            if conn.send.is_none() {
                if let Some(chunk) = conn.pending.pop_front() {
                    conn.send = Some((push(&mut driver, SendReceived::new(conn.fd.clone(), chunk))?, 0));
                    stats.sends += 1;
                }
            }
            // Re-armed once what it got was echoed: a connection whose
            // peer reads slowly holds no more of the ring's buffers.
            if conn.recv.is_none() && !conn.eof && conn.pending.is_empty() {
                stats.rearms += 1;
                conn.recv = Some(push(&mut driver, RecvMulti::new(conn.fd.clone()))?);
            }
        }
        // Close the connections that are finished: nothing in flight,
        // nothing left to echo. Dropping the last `Arc` sends the FIN.
        let before = conns.len();
        conns.retain(|c| c.recv.is_some() || c.send.is_some() || !c.eof || !c.pending.is_empty());
        closed += (before - conns.len()) as u64;
    }
    driver.abandon(accept);
    if driver.stats().lost != 0 {
        return Err(format!("received chunks lost: {:?}", driver.stats()).into());
    }
    Ok(stats)
}

/// Pushes `op`, first submitting what is queued if the SQ is full.
fn push<T: owned::Operation>(driver: &mut EchoDriver, mut op: T) -> Res<Ticket<T>> {
    loop {
        match driver.push(op) {
            Ok(ticket) => return Ok(ticket),
            Err(refused) if refused.errno() == Errno::BUSY && driver.in_use() < 64 => {
                op = refused.into_inner();
                driver.submit()?;
            }
            Err(refused) => return Err(refused.errno().into()),
        }
    }
}
