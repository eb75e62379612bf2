//! The smallest complete io_uring program: open a file, read it through a
//! ring, print it.
//!
//! `cargo run --example readme [PATH]` (default `Cargo.toml`)
//!
//! The loop is the whole io_uring model in four steps: describe an
//! operation in a submission queue entry (SQE), push it, let the kernel
//! run it (`submit_and_wait`), and take its result from the completion
//! queue (CQE). The kernel writes into our buffer on its own, which is why
//! pushing is `unsafe`: the buffer must outlive the operation.

use std::error::Error;
use std::fs::File;
use std::io::Write as _;
use std::os::fd::AsRawFd;

use urix::types::Fd;
use urix::{opcode, IoUring};

/// Any number will do: the kernel copies it into the operation's CQE, so
/// that we can tell which operation finished.
const READ_TAG: u64 = 0x5EAD;

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "Cargo.toml".into());
    let file = File::open(&path)?;

    // A ring with room for 8 entries; we only ever have one in flight.
    let mut ring = IoUring::new(8)?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut contents = Vec::new();

    loop {
        // Read the next piece of the file, at the offset we got to.
        let read = opcode::Read::new(Fd(file.as_raw_fd()), buf.as_mut_ptr(), buf.len() as u32)
            .offset(contents.len() as u64)
            .build()
            .user_data(READ_TAG);
        // SAFETY: `buf` and `file` live until after the completion is
        // taken below, and nothing else touches `buf` meanwhile.
        unsafe { ring.submission().push(&read)? };

        // One system call: hand the SQE to the kernel and wait for one CQE.
        ring.submit_and_wait(1)?;
        let cqe = ring.completion().next().ok_or("the kernel posted no completion")?;
        assert_eq!(cqe.user_data_u64(), READ_TAG);

        // The result is what read(2) would have returned: a byte count or
        // an errno. Zero bytes means the end of the file.
        let n = cqe.result()? as usize;
        if n == 0 {
            break;
        }
        contents.extend_from_slice(&buf[..n]);
    }

    // Check the ring's work against an ordinary read of the same file.
    if contents != std::fs::read(&path)? {
        return Err(format!("{path}: io_uring read differs from std::fs::read").into());
    }
    std::io::stdout().write_all(&contents)?;
    eprintln!("readme: read {} bytes of {path} through io_uring", contents.len());
    Ok(())
}
