//! Runs one workload for one library, for `perf stat` and for run.sh:
//!
//! ```text
//! bench-one --lib {urix,io-uring,rustix-uring}   (liburing: bench-liburing.c, same interface)
//!           --workload {nop-batch,nop-batch-api,nop-batch-fold,nop-single,read-4k,sqpoll-nop,
//!                       nop-batch-fast,nop-batch-api-fast,nop-single-fast,read-4k-fast}
//!           --ops N
//! ```
//!
//! Prints `lib workload ops wall_ns_per_op` on stdout, and on stderr the CPU
//! time the timed loop took per op, user and system, from getrusage (all
//! threads of the process, so an SQPOLL thread counts). Exits with 1 when a
//! check fails and with 2 on bad arguments.

use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: bench-one --lib LIB --workload WORKLOAD --ops N";

struct Args {
    lib: String,
    workload: String,
    ops: u64,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut lib, mut workload, mut ops) = (None, None, None);
    while let Some(flag) = argv.next() {
        let value = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--lib" => lib = Some(value),
            "--workload" => workload = Some(value),
            "--ops" => ops = Some(value.parse::<u64>().map_err(|e| format!("--ops {value}: {e}"))?),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    let lib = lib.ok_or("--lib is required")?;
    let workload = workload.ok_or("--workload is required")?;
    let ops = ops.ok_or("--ops is required")?;
    if !io_uring_bench::LIBS.contains(&lib.as_str()) {
        return Err(format!("--lib {lib}: one of {:?}", io_uring_bench::LIBS));
    }
    if !io_uring_bench::WORKLOADS.contains(&workload.as_str()) {
        return Err(format!("--workload {workload}: one of {:?}", io_uring_bench::WORKLOADS));
    }
    if ops == 0 {
        return Err("--ops must be at least 1".into());
    }
    Ok(Args { lib, workload, ops })
}

/// User and system CPU time of the whole process so far.
fn cpu_times() -> (Duration, Duration) {
    // SAFETY: getrusage writes one `rusage` into the zeroed value we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return (Duration::ZERO, Duration::ZERO);
        }
        usage
    };
    let d = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (d(usage.ru_utime), d(usage.ru_stime))
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("bench-one: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut workload = match io_uring_bench::workload(&args.lib, &args.workload) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("bench-one: {} {} setup: {e}", args.lib, args.workload);
            return ExitCode::from(1);
        }
    };
    let (user0, sys0) = cpu_times();
    let wall = match workload.run(args.ops) {
        Ok(wall) => wall,
        Err(e) => {
            eprintln!("bench-one: {} {}: {e}", args.lib, args.workload);
            return ExitCode::from(1);
        }
    };
    let (user1, sys1) = cpu_times();
    let per_op = |d: Duration| d.as_nanos() as f64 / args.ops as f64;
    println!("{} {} {} {:.2}", args.lib, args.workload, args.ops, per_op(wall));
    eprintln!("# cpu user_ns_per_op {:.2} sys_ns_per_op {:.2}", per_op(user1 - user0), per_op(sys1 - sys0));
    ExitCode::SUCCESS
}
