//! Fuzz target `recvmsg_out`: see `urix_fuzz::recvmsg_out`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| urix_fuzz::recvmsg_out::run(data));

/// Without libFuzzer: replays the files named on the command line.
#[cfg(not(fuzzing))]
fn main() {
    urix_fuzz::replay_args(urix_fuzz::recvmsg_out::run);
}
