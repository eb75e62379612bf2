//! `cargo bench -p io-uring-bench`: every workload against urix,
//! io-uring 0.7.14 and rustix-uring 0.6.0 in one run, one criterion group
//! per workload. One iteration is one operation (`iter_custom` hands the
//! iteration count to the workload's own timed loop), so the reported time
//! is per operation. nop-batch, nop-single and read-4k also run urix's fast
//! preset (`IoUring::fast`: registered ring fd, SINGLE_ISSUER +
//! DEFER_TASKRUN, NO_SQARRAY) as `urix-fast`, and nop-batch its batch API
//! (`push_with`) as `urix-batch-api` (and on the fast preset).
//! liburing is measured by `run.sh` only (a C program).
//!
//! Each ring is set up once per benchmark, outside the measurement, and
//! dropped before the next one is made (so at most one SQPOLL thread
//! spins at a time).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use io_uring_bench::{workload, Workload, LIBS};

/// Benchmarks `w` as `id` in `group`.
fn bench(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &str,
    mut w: Box<dyn Workload>,
) {
    group.bench_function(id, |b| {
        b.iter_custom(|iters| match w.run(iters) {
            Ok(elapsed) => elapsed,
            Err(e) => panic!("{id}: {e}"),
        })
    });
}

fn compare(c: &mut Criterion) {
    for name in ["nop-batch", "nop-single", "read-4k", "sqpoll-nop"] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(1));
        for lib in LIBS {
            let w = workload(lib, name).unwrap_or_else(|e| panic!("{lib} {name}: {e}"));
            bench(&mut group, lib, w);
        }
        if name == "nop-batch" {
            for (id, w) in [("urix-batch-api", "nop-batch-api"), ("urix-batch-api-fast", "nop-batch-api-fast")] {
                bench(&mut group, id, workload("urix", w).unwrap_or_else(|e| panic!("urix {w}: {e}")));
            }
        }
        if matches!(name, "nop-batch" | "nop-single" | "read-4k") {
            let fast = format!("{name}-fast");
            let w = workload("urix", &fast).unwrap_or_else(|e| panic!("urix {fast}: {e}"));
            bench(&mut group, "urix-fast", w);
        }
        group.finish();
    }
}

/// 17 benchmarks of about 1 + 3 s each, plus analysis: well under the
/// five-minute budget.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .nresamples(20_000)
}

criterion_group! {
    name = benches;
    config = config();
    targets = compare
}
criterion_main!(benches);
