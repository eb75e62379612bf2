//! Fuzz target `owned_table`: see `urix_fuzz::owned_table`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| urix_fuzz::owned_table::run(data));

/// Without libFuzzer: replays the files named on the command line.
#[cfg(not(fuzzing))]
fn main() {
    urix_fuzz::replay_args(urix_fuzz::owned_table::run);
}
