//! The urix test harness: every operation, run against the running
//! kernel, checked by what the kernel did. `cargo run --release -p
//! io-uring-test -- [FILTER] [--exact] [--flavour F] [--list]`.

pub mod harness;
pub mod tests;
pub mod util;

use urix::{IoUring, Probe};

/// Prints what the kernel is and offers: version, ring params, probe.
pub fn print_header() -> anyhow::Result<Probe> {
    let uname = rustix_uname();
    println!("kernel: {uname}");
    let ring = IoUring::new(8).map_err(|e| {
        let why = urix::ring::Unavailable::from_errno(e).map_or_else(|| e.to_string(), |u| u.to_string());
        anyhow::anyhow!("cannot set up any ring: {why}")
    })?;
    println!("params: {:?}", ring.params());
    let mut probe = Probe::new();
    ring.submitter().register_probe(&mut probe)?;
    println!("probe: {} ops supported, last_op {}: {probe:?}", probe.supported().count(), probe.last_op());
    Ok(probe)
}

/// How many `io_uring_register` opcodes the kernel has, if it can say
/// (`IORING_REGISTER_QUERY`, 6.18).
pub fn register_ops() -> Option<u32> {
    match urix::register::query_opcodes() {
        Ok(q) => {
            println!(
                "query: {} SQE opcodes, {} register opcodes, {} query opcodes, setup flags {:#x}",
                q.nr_request_opcodes, q.nr_register_opcodes, q.nr_query_opcodes, q.ring_setup_flags
            );
            Some(q.nr_register_opcodes)
        }
        Err(e) => {
            println!("query: not available ({e}); register op coverage cannot be counted");
            None
        }
    }
}

fn rustix_uname() -> String {
    let read = |p: &str| std::fs::read_to_string(p).map(|s| s.trim().to_string()).unwrap_or_else(|_| "?".into());
    format!("{} {}", read("/proc/sys/kernel/ostype"), read("/proc/sys/kernel/osrelease"))
}

/// The whole command line: returns the process exit code.
pub fn main_with_args(args: impl Iterator<Item = String>) -> i32 {
    let opts = match harness::Options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("io-uring-test: {e}");
            eprintln!("usage: io-uring-test [FILTER] [--exact] [--flavour F] [--list]");
            return 2;
        }
    };
    let tests = tests::all();
    let probe = if opts.list {
        Probe::new()
    } else {
        match print_header() {
            Ok(p) => p,
            Err(e) => {
                println!("{e:#}");
                println!("0 passed, 1 failed, 0 skipped");
                return 1;
            }
        }
    };
    let register_ops = if opts.list { None } else { register_ops() };
    let sum = harness::run(&tests, &opts, &probe, register_ops);
    if opts.list {
        return 0;
    }
    if opts.filter.is_none() {
        println!("{}", sum.ops_coverage(&probe));
        if let Some(n) = register_ops {
            println!("{}", sum.register_coverage(n));
        }
        // Every IORING_SETUP_* flag the kernel accepts (QUERY, 6.18).
        if let Ok(q) = urix::register::query_opcodes() {
            println!("{}", sum.setup_coverage(q.ring_setup_flags));
        }
    }
    println!("{} passed, {} failed, {} skipped", sum.passed, sum.failed, sum.skipped);
    i32::from(sum.failed > 0)
}
