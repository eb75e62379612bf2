//! Fuzz target `probe`: see `uring_core_fuzz::probe`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| uring_core_fuzz::probe::run(data));

/// Without libFuzzer: replays the files named on the command line.
#[cfg(not(fuzzing))]
fn main() {
    uring_core_fuzz::replay_args(uring_core_fuzz::probe::run);
}
