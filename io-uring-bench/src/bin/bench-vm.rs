//! SQ_REWIND against the ring it changes, measured in one process (for a
//! kernel booted under QEMU, where there is no cargo, no valgrind and no
//! shell worth the name): `io-uring-bench/rewind-vm.sh` boots Debian's 7.3
//! with this binary in place of the test harness.
//!
//! ```text
//! bench-vm [--rounds R] [--scale S]
//! ```
//!
//! For each workload (nop-batch, nop-single, read-4k) the `-noarray` ring
//! (SINGLE_ISSUER + NO_SQARRAY) and the `-rewind` ring (the same plus
//! SQ_REWIND) run in interleaved rounds; every round runs each ring once,
//! in alternating order. Prints, per workload and ring, the median over
//! the rounds of the wall time, user CPU and system CPU per op (getrusage
//! around the timed loop), and the median of the per-round ratios
//! rewind / noarray. Ends with a line in the test harness's summary format
//! (`N passed, 0 failed, 0 skipped`) so that `.ci/kernels` accepts the run;
//! a failed check makes it `0 passed, 1 failed`.

use std::time::Duration;

/// (workload, ops per run at scale 1).
const WORKLOADS: [(&str, u64); 3] = [("nop-batch", 64_000), ("nop-single", 16_000), ("read-4k", 16_000)];

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

/// wall, user, sys ns per op of one run.
fn run_once(name: &str, ops: u64) -> Result<[f64; 3], String> {
    let mut w = io_uring_bench::workload("urix", name)?;
    let (u0, s0) = cpu_times();
    let wall = w.run(ops)?;
    let (u1, s1) = cpu_times();
    let per = |d: Duration| d.as_nanos() as f64 / ops as f64;
    Ok([per(wall), per(u1 - u0), per(s1 - s0)])
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut rounds = 9usize;
    let mut scale = 1.0f64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_default();
        match a.as_str() {
            "--rounds" => rounds = v.parse().unwrap_or(rounds),
            "--scale" => scale = v.parse().unwrap_or(scale),
            _ => eprintln!("bench-vm: ignoring {a} {v}"),
        }
    }
    println!("bench-vm: kernel {}, {rounds} rounds, scale {scale}", kernel());
    let mut failed = 0;
    for (base, ops) in WORKLOADS {
        let ops = ((ops as f64 * scale) as u64).max(64);
        let names = [format!("{base}-noarray"), format!("{base}-rewind")];
        // Warm-up (and read-4k's test file), not counted.
        for n in &names {
            if let Err(e) = run_once(n, ops / 8) {
                println!("bench-vm: {n} FAILED: {e}");
                failed += 1;
            }
        }
        let mut got: [Vec<[f64; 3]>; 2] = [Vec::new(), Vec::new()];
        for r in 0..rounds {
            let order = if r % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                match run_once(&names[i], ops) {
                    Ok(x) => got[i].push(x),
                    Err(e) => {
                        println!("bench-vm: {} FAILED: {e}", names[i]);
                        failed += 1;
                    }
                }
            }
        }
        if got[0].len() != rounds || got[1].len() != rounds {
            continue;
        }
        for (i, n) in names.iter().enumerate() {
            let col = |k: usize| median(&mut got[i].iter().map(|x| x[k]).collect::<Vec<_>>());
            let (lo, hi) = got[i].iter().fold((f64::MAX, 0f64), |(lo, hi), x| (lo.min(x[0]), hi.max(x[0])));
            println!(
                "bench-vm: {n:<20} ops {ops:>6}  wall {:>9.0} ns/op (min {lo:.0}, max {hi:.0})  user {:>8.0}  sys {:>8.0}  user+sys {:>9.0}",
                col(0),
                col(1),
                col(2),
                col(1) + col(2)
            );
        }
        let ratio = |k: &dyn Fn(&[f64; 3]) -> f64| {
            median(&mut got[1].iter().zip(&got[0]).map(|(r, p)| k(r) / k(p)).collect::<Vec<_>>())
        };
        println!(
            "bench-vm: {base:<20} rewind / noarray, median of per-round ratios: wall {:.3}, user+sys {:.3}, sys {:.3}",
            ratio(&|x| x[0]),
            ratio(&|x| x[1] + x[2]),
            ratio(&|x| x[2])
        );
    }
    if failed == 0 {
        println!("1 passed, 0 failed, 0 skipped");
    } else {
        println!("0 passed, {failed} failed, 0 skipped");
    }
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default()
}
