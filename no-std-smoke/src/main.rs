//! A `#![no_std]`, `#![no_main]` program that sets up a ring, runs NOPs and
//! a write-then-read through a pipe, checks every result and exits 0 (or
//! with the number of the check that failed).
//!
//! Build it as the no_std binary with the `no-std` profile (panic=abort):
//! `cargo build -p no-std-smoke --profile no-std`, then run
//! `target/no-std/no-std-smoke`. In ordinary (unwinding) builds, such as
//! `cargo test --workspace`, it compiles to a stub that says so, because a
//! no_std binary cannot unwind.

#![cfg_attr(panic = "abort", no_std, no_main)]

#[cfg(panic = "abort")]
mod smoke {
    use core::panic::PanicInfo;
    use rustix::fd::AsFd;
    use urix::types::Fd;
    use urix::{opcode, IoUring};

    #[panic_handler]
    fn panic(_: &PanicInfo<'_>) -> ! {
        // No std, no unwinding: leave with a distinctive status.
        say(b"no-std-smoke: panic\n");
        loop {
            core::hint::spin_loop();
        }
    }

    /// The precompiled `core` of this (unwinding) target refers to the
    /// personality routine; with panic=abort it is never called.
    #[no_mangle]
    extern "C" fn rust_eh_personality() {}

    /// 32-bit ARM's unwind tables (`.ARM.exidx`) name the C++ personality
    /// routine, which libgcc_eh would provide; nothing here unwinds, so it
    /// is never called. (A static build links libgcc_eh for static libc's
    /// sake, and takes it from there: build.rs.)
    #[cfg(all(target_arch = "arm", not(target_feature = "crt-static")))]
    #[no_mangle]
    extern "C" fn __aeabi_unwind_cpp_pr0() {}

    /// Writes `text` to stdout.
    fn say(text: &[u8]) {
        // SAFETY: fd 1 is open for the whole life of the process (the C
        // start-up hands it to us) and nothing here closes it.
        let _ = rustix::io::write(unsafe { rustix::stdio::stdout() }, text);
    }

    /// Runs the checks; returns 0 or the number of the failed check.
    fn run() -> i32 {
        let Ok(mut ring) = IoUring::new(8) else {
            return 1;
        };

        // Eight NOPs, each with its own user_data.
        for i in 0..8u64 {
            // SAFETY: a NOP names no memory.
            if unsafe { ring.submission().push(&opcode::Nop::new().build().user_data(i)) }.is_err() {
                return 2;
            }
        }
        if ring.submit_and_wait(8) != Ok(8) {
            return 3;
        }
        let mut seen = 0u8;
        for cqe in ring.completion() {
            if cqe.result() != Ok(0) || cqe.user_data_u64() >= 8 {
                return 4;
            }
            seen |= 1 << cqe.user_data_u64();
        }
        if seen != 0xff {
            return 5;
        }

        // A write into a pipe, then a read of it, linked so they run in order.
        let Ok((rx, tx)) = rustix::pipe::pipe() else {
            return 6;
        };
        let msg = *b"hello from a no_std ring";
        let mut back = [0u8; 64];
        let fd = |f: rustix::fd::BorrowedFd<'_>| Fd(rustix::fd::AsRawFd::as_raw_fd(&f));
        let write = opcode::Write::new(fd(tx.as_fd()), msg.as_ptr(), msg.len() as u32)
            .build()
            .flags(urix::squeue::Flags::IO_LINK)
            .user_data(100);
        let read = opcode::Read::new(fd(rx.as_fd()), back.as_mut_ptr(), back.len() as u32).build().user_data(101);
        // SAFETY: `msg`, `back` and both pipe ends live until the
        // completions are reaped below.
        if unsafe { ring.submission().push_multiple(&[write, read]) }.is_err() {
            return 7;
        }
        if ring.submit_and_wait(2).is_err() {
            return 8;
        }
        let mut done = 0;
        for cqe in ring.completion() {
            let want = match cqe.user_data_u64() {
                100 | 101 => Ok(msg.len() as u32),
                _ => return 9,
            };
            if cqe.result() != want {
                return 10;
            }
            done += 1;
        }
        if done != 2 || back[..msg.len()] != msg {
            return 11;
        }
        0
    }

    #[no_mangle]
    extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
        let code = run();
        let text: &[u8] = if code == 0 { b"no-std-smoke: ok\n" } else { b"no-std-smoke: FAILED\n" };
        say(text);
        code
    }
}

#[cfg(not(panic = "abort"))]
fn main() {
    eprintln!("no-std-smoke: this is the unwinding stub; build with `--profile no-std` for the no_std binary");
}
