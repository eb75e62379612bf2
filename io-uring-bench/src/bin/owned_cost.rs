//! User-space instructions per operation: the owned layer (`urix::owned`)
//! against the raw ring, for the same work.
//!
//! Instructions, not time: they do not depend on how busy the machine is.
//! Each case runs twice under cachegrind (which counts user-space
//! instructions only; the kernel's work is not in the count), with `n`
//! and `2n` operations; the difference divided by `n` is the cost of one
//! operation, with start-up and set-up cancelled out.
//!
//! ```text
//! cargo build --profile bench-lto -p io-uring-bench --bin owned_cost
//! target/bench-lto/owned_cost          # the table (needs valgrind)
//! target/bench-lto/owned_cost --rows "fat LTO"   # as Markdown rows (run.sh)
//! target/bench-lto/owned_cost owned nop-single 1000   # one run
//! ```
//!
//! Workloads: `nop-batch` (32 NOPs per submit), `nop-single` (one NOP per
//! submit), `read-4k` (one 4 KiB read of a file per submit). Modes: `raw`
//! (the ring, `unsafe push`), `owned` (`Driver::push`, `reap`, then
//! `try_take` of each ticket), `one-step` (`Driver::push`, then
//! `reap_outputs`, which hands each output over as it reaps: no ticket
//! kept, no result stored in the slot and read back).

use std::fs::File;
use std::io::Write as _;
use std::process::Command;

use urix::owned::{Driver, Nop, OpenAt, Read, SlotStore, Ticket};
use urix::{opcode, types, IoUring};

const BATCH: usize = 32;
const WORKLOADS: [&str; 3] = ["nop-batch", "nop-single", "read-4k"];

static SLOTS: SlotStore<64> = SlotStore::new();

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 {
        let n: usize = args[3].parse().expect("a count");
        run(&args[1], &args[2], n);
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    let n = 20_000;
    // `--rows LABEL`: Markdown table rows, the first column LABEL.
    let label = (args.len() == 3 && args[1] == "--rows").then(|| args[2].as_str());
    if label.is_none() {
        println!("user instructions per operation (cachegrind, runs of {n} and {} ops)", 2 * n);
        println!("{:<12} {:>8} {:>8} {:>8} {:>9} {:>8}", "workload", "raw", "owned", "extra", "one-step", "extra");
    }
    for w in WORKLOADS {
        let raw = per_op(&exe, "raw", w, n);
        let owned = per_op(&exe, "owned", w, n);
        let one = per_op(&exe, "one-step", w, n);
        match label {
            Some(l) => {
                println!("| {l} | {w} | {raw:.1} | {owned:.1} | {:.1} | {one:.1} | {:.1} |", owned - raw, one - raw)
            }
            None => println!("{w:<12} {raw:>8.1} {owned:>8.1} {:>8.1} {one:>9.1} {:>8.1}", owned - raw, one - raw),
        }
    }
}

/// Instructions per operation of one case: the difference of two runs.
fn per_op(exe: &std::path::Path, mode: &str, work: &str, n: usize) -> f64 {
    let a = instructions(exe, mode, work, n);
    let b = instructions(exe, mode, work, 2 * n);
    (b as f64 - a as f64) / n as f64
}

/// The total user-space instructions of one run under cachegrind.
fn instructions(exe: &std::path::Path, mode: &str, work: &str, n: usize) -> u64 {
    let out = Command::new("valgrind")
        .args(["--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"])
        .arg(exe)
        .args([mode, work, &n.to_string()])
        .output()
        .expect("valgrind (cachegrind) must be installed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{mode} {work} {n} failed:\n{err}");
    let line =
        err.lines().find(|l| l.contains("I") && l.contains("refs:")).unwrap_or_else(|| panic!("no count:\n{err}"));
    let count = line.rsplit(':').next().unwrap_or("").trim().replace(',', "");
    count.parse().unwrap_or_else(|_| panic!("bad count line {line:?}"))
}

/// One run: `n` operations of workload `work` through `mode`.
fn run(mode: &str, work: &str, n: usize) {
    let path = std::env::temp_dir().join(format!("owned_cost.{}", std::process::id()));
    let mut f = File::options().read(true).write(true).create(true).truncate(true).open(&path).expect("temp file");
    f.write_all(&[7u8; 4096]).expect("4 KiB");
    let cpath = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL");
    let cpath: &'static std::ffi::CStr = Box::leak(cpath.into_boxed_c_str());
    match mode {
        "raw" => raw(work, n, &f),
        "owned" => owned(work, n, cpath),
        "one-step" => one_step(work, n, cpath),
        _ => panic!("mode: raw, owned or one-step"),
    }
    let _ = std::fs::remove_file(&path);
}

/// The check every mode makes of each result, the same in each (so
/// that it cancels out of the difference): the operation succeeded with
/// `want` (0 for a NOP, 4096 for the read).
#[inline(always)]
fn ok<T: PartialEq>(res: Result<T, urix::Errno>, want: T) -> bool {
    res == Ok(want)
}

fn raw(work: &str, n: usize, file: &File) {
    use std::os::fd::AsRawFd;
    let mut ring = IoUring::new(64).expect("ring");
    let buf: &'static mut [u8] = Box::leak(vec![0u8; 4096].into_boxed_slice());
    let (per, read) = match work {
        "nop-batch" => (BATCH, false),
        "nop-single" => (1, false),
        "read-4k" => (1, true),
        _ => panic!("workload"),
    };
    let mut done = 0;
    while done < n {
        for i in 0..per {
            let sqe = if read {
                opcode::Read::new(types::Fd(file.as_raw_fd()), buf.as_mut_ptr(), 4096).offset(0).build()
            } else {
                opcode::Nop::new().build()
            };
            // SAFETY: a NOP names no memory; the read's buffer is leaked
            // (`'static`) and its file stays open for the whole run.
            unsafe { ring.submission().push(&sqe.user_data(i as u64)) }.expect("room");
        }
        ring.submit_and_wait(per).expect("submit");
        let mut got = 0;
        for cqe in ring.completion() {
            assert!(ok(cqe.result(), if read { 4096 } else { 0 }));
            got += 1;
        }
        assert_eq!(got, per);
        done += per;
    }
}

fn owned(work: &str, n: usize, path: &'static std::ffi::CStr) {
    let slots = SLOTS.take().expect("slots");
    let mut d = Driver::with_slots(IoUring::new(64).expect("ring"), slots);
    let mut done = 0;
    match work {
        "nop-batch" | "nop-single" => {
            let per = if work == "nop-batch" { BATCH } else { 1 };
            let mut tickets: Vec<Ticket<Nop>> = Vec::with_capacity(per);
            while done < n {
                for _ in 0..per {
                    tickets.push(d.push(Nop::new()).expect("room"));
                }
                d.submit_and_wait(per).expect("submit");
                assert_eq!(d.reap(), per);
                for t in &tickets {
                    let std::task::Poll::Ready(res) = d.try_take(t) else { panic!("not done") };
                    assert!(ok(res, 0));
                }
                // Spent tickets (no drop glue): `clear` is a store, where
                // `drain` costs an out-of-line call in the release profile.
                tickets.clear();
                done += per;
            }
        }
        "read-4k" => {
            let mut buf: &'static mut [u8] = Box::leak(vec![0u8; 4096].into_boxed_slice());
            let open = d.push(OpenAt::new(path, types::OFlags::RDONLY, types::Mode::empty())).expect("room");
            let mut file = d.wait(open).expect("wait").result.expect("open");
            while done < n {
                let t = d.push(Read::new(file, buf).at(0)).expect("room");
                d.submit_and_wait(1).expect("submit");
                assert_eq!(d.reap(), 1);
                let std::task::Poll::Ready(out) = d.try_take(&t) else { panic!("not done") };
                assert!(ok(out.result, 4096));
                (buf, file) = (out.buf, out.file);
                done += 1;
            }
        }
        _ => panic!("workload"),
    }
}

/// As `owned`, reaping and taking in one step (`Driver::reap_outputs`):
/// the outputs come to a closure as their completions are reaped, so no
/// ticket is kept (each is dropped at once: spent when its output comes).
fn one_step(work: &str, n: usize, path: &'static std::ffi::CStr) {
    let slots = SLOTS.take().expect("slots");
    let mut d = Driver::with_slots(IoUring::new(64).expect("ring"), slots);
    let mut done = 0;
    match work {
        "nop-batch" | "nop-single" => {
            let per = if work == "nop-batch" { BATCH } else { 1 };
            while done < n {
                for _ in 0..per {
                    let _spent_at_reap = d.push(Nop::new()).expect("room");
                }
                d.submit_and_wait(per).expect("submit");
                let mut got = 0;
                assert_eq!(
                    d.reap_outputs::<Nop>(|_, res| {
                        assert!(ok(res, 0));
                        got += 1;
                    }),
                    per
                );
                assert_eq!(got, per);
                done += per;
            }
        }
        "read-4k" => {
            let mut buf: &'static mut [u8] = Box::leak(vec![0u8; 4096].into_boxed_slice());
            let open = d.push(OpenAt::new(path, types::OFlags::RDONLY, types::Mode::empty())).expect("room");
            let mut file = d.wait(open).expect("wait").result.expect("open");
            let mut back = None;
            while done < n {
                let _spent_at_reap = d.push(Read::new(file, buf).at(0)).expect("room");
                d.submit_and_wait(1).expect("submit");
                let reaped = d.reap_outputs::<Read<_, _>>(|_, out| {
                    assert!(ok(out.result, 4096));
                    back = Some((out.buf, out.file));
                });
                assert_eq!(reaped, 1);
                (buf, file) = back.take().expect("done");
                done += 1;
            }
        }
        _ => panic!("workload"),
    }
}
