//! Benchmarks side by side with io-uring and rustix-uring: not written yet
//! (see the benchmark issue). This stub keeps the workspace shape.

fn main() {
    println!("io-uring-bench: no benchmarks yet");
}
