//! A loopback TCP echo server on one thread and one ring, without a single
//! blocking call in its loop:
//! - one multishot accept posts a completion per new connection;
//! - one multishot receive per connection posts a completion per chunk of
//!   data, in a buffer the kernel picked from a provided-buffer ring
//!   (`BufRing`): no buffer is tied to a connection while it is idle;
//! - a send echoes each chunk straight from that buffer, which goes back
//!   to the kernel once the send completed.
//!
//! ```text
//! cargo run --example tcp_echo [MESSAGES] [CLIENTS]   server and clients in one process
//! cargo run --example tcp_echo server ADDR [CONNECTIONS]
//! cargo run --example tcp_echo client ADDR [MESSAGES]
//! ```
//! Each client sends MESSAGES lines (default 1000) and checks that exactly
//! those bytes come back; the in-process form (default 4 clients) exits
//! non-zero if any client got a wrong echo.

use std::collections::{HashMap, VecDeque};
use std::error::Error;
use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::thread;

use urix::buf_ring::{BufRing, BufSlot, Picked};
use urix::types::Fd;
use urix::{cqueue, opcode, squeue, Errno, IoUring};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// The provided-buffer group: 16 buffers of 256 bytes shared by every
/// connection. Small on purpose: a multishot receive takes as many buffers
/// as the socket has data for, so the group runs dry (ENOBUFS ends the
/// receive) nearly every round, and the re-arm path below is exercised.
/// A real server sizes the group to its load.
const BGID: u16 = 1;
const BUFS: u16 = 16;
const BUF_LEN: u32 = 256;
/// user_data of the accept; a connection's receive is `fd << 1`, its send
/// `fd << 1 | 1` (it has at most one of each in flight).
const ACCEPT: u64 = u64::MAX;

/// A connection: its socket, the received chunks waiting to be echoed
/// (with how much of the first one was sent), and what is in flight.
struct Conn<'a> {
    fd: OwnedFd,
    queue: VecDeque<(Picked<'a>, usize)>,
    sending: bool,
    receiving: bool,
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
    // Buffer memory first, ring last: the ring goes first when we return,
    // which ends the group's registration before its memory is freed.
    let mut memory = vec![0u8; usize::from(BUFS) * BUF_LEN as usize];
    let mut slots = [BufSlot::default(); BUFS as usize];
    let mut group = BufRing::new_mapped(BUFS, &mut memory, BUF_LEN, &mut slots)?;
    let mut ring = IoUring::new(64)?;
    // SAFETY: the registration ends (the ring drops) before the memory
    // goes; only receives below select from group BGID, and each of their
    // completions is passed to `take` once.
    unsafe { group.register(&ring.submitter(), BGID)? };

    let accept = opcode::AcceptMulti::new(Fd(listener.as_raw_fd())).build().user_data(ACCEPT);
    // SAFETY: the listener outlives the ring; an accept names no memory.
    unsafe { push(&mut ring, &accept)? };
    let mut conns: HashMap<RawFd, Conn<'_>> = HashMap::new();
    let (mut stats, mut closed) = (Stats::default(), 0);
    // Buffers taken out of the group and not yet recycled.
    let mut held = 0;

    while closed < max {
        ring.submit_and_wait(1)?;
        // Take the completions out of the CQ first: answering them pushes.
        let cqes: Vec<cqueue::Entry> = ring.completion().collect();
        for cqe in &cqes {
            let (ud, more) = (cqe.user_data_u64(), cqueue::more(cqe.flags()));
            if ud == ACCEPT {
                // SAFETY: the kernel just created this socket for us.
                let fd = unsafe { OwnedFd::from_raw_fd(cqe.result()? as RawFd) };
                let raw = fd.as_raw_fd();
                conns.insert(raw, Conn { fd, queue: VecDeque::new(), sending: false, receiving: false, eof: false });
                stats.connections += 1;
                arm_recv(&mut ring, conns.get_mut(&raw).expect("just added"))?;
                if !more {
                    // SAFETY: as for the first accept.
                    unsafe { push(&mut ring, &accept)? };
                }
                continue;
            }
            let conn = conns.get_mut(&((ud >> 1) as RawFd)).ok_or("completion for an unknown connection")?;
            if ud & 1 == 0 {
                // A receive: the kernel names the buffer it filled, and
                // `take` passes the receive's own error on.
                match group.take(cqe) {
                    Ok(Some(picked)) => {
                        stats.chunks += 1;
                        stats.bytes += picked.len() as u64;
                        held += 1;
                        conn.queue.push_back((picked, 0));
                    }
                    Ok(None) => {} // no bytes: the end of the stream (see below)
                    Err(Errno::NOBUFS) => stats.enobufs += 1,
                    Err(Errno::CONNRESET) => conn.eof = true,
                    Err(e) => return Err(e.into()),
                }
                if !more {
                    // The multishot receive ended: end of stream (0), the
                    // group ran dry (ENOBUFS), or it stopped for another
                    // reason. Unless at the end, it is re-armed below.
                    conn.receiving = false;
                    conn.eof |= cqe.result() == Ok(0);
                }
            } else {
                // A send: the first queued chunk is (partly) out.
                conn.sending = false;
                let (picked, sent) = conn.queue.front_mut().ok_or("send without a chunk")?;
                *sent += cqe.result()? as usize;
                if *sent < picked.len() {
                    stats.short_sends += 1;
                } else {
                    let (picked, _) = conn.queue.pop_front().expect("front exists");
                    group.recycle(picked)?;
                    held -= 1;
                }
            }
            // Echo the next chunk, if there is one and no send is out.
            if let (false, Some((picked, sent))) = (conn.sending, conn.queue.front()) {
                let bytes = &group.bytes(picked)[*sent..];
                let send = opcode::Send::new(Fd(conn.fd.as_raw_fd()), bytes.as_ptr(), bytes.len() as u32)
                    .build()
                    .user_data(ud | 1);
                // SAFETY: the buffer is not recycled (handed back to the
                // kernel) before this send completes, and the socket is
                // not closed before then either.
                unsafe { push(&mut ring, &send)? };
                conn.sending = true;
                stats.sends += 1;
            }
        }
        // Hand recycled buffers back to the kernel, in one tail update.
        group.advance();
        // Re-arm ended receives, one per buffer in the group (the others
        // wait: the chunks we hold are being sent and will come back).
        let mut free = BUFS - held;
        for conn in conns.values_mut() {
            if !conn.receiving && !conn.eof && free > 0 {
                free -= 1;
                stats.rearms += 1;
                arm_recv(&mut ring, conn)?;
            }
        }
        // Close the connections that are finished: nothing in flight,
        // nothing left to echo. Dropping the socket sends the FIN.
        let before = conns.len();
        conns.retain(|_, c| c.receiving || c.sending || !c.eof || !c.queue.is_empty());
        closed += (before - conns.len()) as u64;
    }
    group.unregister(&ring.submitter())?;
    Ok(stats)
}

/// Starts the multishot receive of `conn`.
fn arm_recv(ring: &mut IoUring, conn: &mut Conn<'_>) -> Res<()> {
    let fd = conn.fd.as_raw_fd();
    let recv = opcode::RecvMulti::new(Fd(fd), BGID).build().user_data((fd as u64) << 1);
    // SAFETY: the receive writes only into the group's buffers; the socket
    // stays open until the receive has ended.
    unsafe { push(ring, &recv)? };
    conn.receiving = true;
    Ok(())
}

/// Pushes `entry`, first submitting what is queued if the SQ is full.
///
/// # Safety
/// As for [`SubmissionQueue::push`](urix::SubmissionQueue::push).
unsafe fn push(ring: &mut IoUring, entry: &squeue::Entry) -> Res<()> {
    // SAFETY: forwarded from the caller.
    while unsafe { ring.submission().push(entry) }.is_err() {
        ring.submit()?;
    }
    Ok(())
}
