//! An echo server whose multishot receive picks from a `BufRing` of 8
//! buffers: a client sends N lines over loopback TCP (default 1000), the
//! server echoes each received chunk straight from its buffer, and the
//! client checks that it got back exactly what it sent.
//!
//! `cargo run --example buf_ring [N]`

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::thread;

use urix::buf_ring::{BufRing, BufSlot};
use urix::types::Fd;
use urix::{cqueue, opcode, Errno, IoUring};

/// The buffer group id the receive selects from.
const BGID: u16 = 1;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u32 = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (mut server, _) = listener.accept()?;

    // The client: one thread sends, another reads the echo.
    let mut tx = client.try_clone()?;
    let sender = thread::spawn(move || -> std::io::Result<()> {
        for i in 0..n {
            writeln!(tx, "message {i}")?;
        }
        tx.shutdown(Shutdown::Write)
    });
    let reader = thread::spawn(move || -> std::io::Result<String> {
        let mut echo = String::new();
        (&client).read_to_string(&mut echo)?;
        Ok(echo)
    });

    // 8 buffers of 64 bytes and their bookkeeping; the kernel allocates
    // the ring itself. The io_uring comes after them, so that it goes
    // first if we return early.
    let mut bufs = vec![0u8; 8 * 64];
    let mut slots = [BufSlot::default(); 8];
    let mut group = BufRing::new_mapped(8, &mut bufs, 64, &mut slots)?;
    let mut ring = IoUring::new(32)?;
    // SAFETY: the group is unregistered below, before its memory goes (or
    // the ring goes first); only the receive below selects from it, and
    // each of its completions goes to `take` once.
    unsafe { group.register(&ring.submitter(), BGID)? };

    let recv = opcode::RecvMulti::new(Fd(server.as_raw_fd()), BGID).build();
    // SAFETY: the receive writes only into the group's buffers.
    unsafe { ring.submission().push(&recv)? };
    let (mut completions, mut rearms, mut bytes) = (0u64, 0u64, 0usize);
    'receive: loop {
        ring.submit_and_wait(1)?;
        let mut cq = ring.completion();
        let mut rearm = false;
        for cqe in &mut cq {
            completions += 1;
            // `take` reports the receive's own error too, so a receive
            // that fails cannot pass for the end of the stream.
            match group.take(&cqe) {
                Ok(Some(picked)) => {
                    // The bytes are ours until the Picked is recycled.
                    server.write_all(group.bytes(&picked))?;
                    bytes += picked.len();
                    group.recycle(picked)?;
                }
                Ok(None) => break 'receive, // no bytes and no error: the client is done
                Err(Errno::NOBUFS) => {}    // the ring ran dry: re-armed below
                Err(e) => return Err(e.into()),
            }
            // The receive ended (without F_MORE): arm it again.
            rearm |= !cqueue::more(cqe.flags());
        }
        // Publish the recycled buffers and free the completion slots.
        group.cq_advance(&mut cq);
        drop(cq);
        if rearm {
            rearms += 1;
            // SAFETY: as above.
            unsafe { ring.submission().push(&recv)? };
        }
    }
    server.shutdown(Shutdown::Write)?;
    group.unregister(&ring.submitter())?;

    sender.join().expect("sender thread")?;
    let echo = reader.join().expect("reader thread")?;
    let sent: String = (0..n).map(|i| format!("message {i}\n")).collect();
    if echo != sent {
        eprintln!("buf_ring: the echo differs from what was sent ({} of {} bytes)", echo.len(), sent.len());
        std::process::exit(1);
    }
    println!(
        "buf_ring: {n} messages, {bytes} bytes echoed through 8 buffers of 64 bytes: \
         {completions} completions, {rearms} re-arms"
    );
    Ok(())
}
