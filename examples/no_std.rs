//! urix without std: the no_std program is the workspace member
//! `no-std-smoke` (`no-std-smoke/src/main.rs`), a `#![no_std]`,
//! `#![no_main]` binary that sets up a ring, runs eight NOPs and a linked
//! write-then-read through a pipe, checks every result, and exits with 0
//! or the number of the check that failed. It links nothing from libc but
//! the C start-up (CI checks that with `nm -u`).
//!
//! `cargo run --example no_std`
//!
//! An example target cannot be that program itself: examples are built
//! with the workspace's unwinding profile and std's `main`, while a no_std
//! binary needs `panic = "abort"` (the `no-std` profile). So this example,
//! which does use std, builds `no-std-smoke` with that profile, runs it and
//! checks its exit status. By hand:
//!
//! ```text
//! cargo build -p no-std-smoke --profile no-std && target/no-std/no-std-smoke
//! ```

use std::error::Error;
use std::path::PathBuf;
use std::process::Command;

fn main() -> Result<(), Box<dyn Error>> {
    // This executable is <target>/<profile>/examples/no_std: build the
    // no_std program into the same target directory.
    let exe = std::env::current_exe()?;
    let target: PathBuf = exe.ancestors().nth(3).ok_or("cannot find the target directory")?.into();
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    // `cargo run` tells the program which cargo started it.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    let built = Command::new(cargo)
        .args(["build", "--quiet", "-p", "no-std-smoke", "--profile", "no-std", "--manifest-path", manifest])
        .arg("--target-dir")
        .arg(&target)
        .status()?;
    if !built.success() {
        return Err(format!("building no-std-smoke failed: {built}").into());
    }

    let program = target.join("no-std").join("no-std-smoke");
    let ran = Command::new(&program).status()?; // it prints its own verdict
    if !ran.success() {
        return Err(format!("{} failed: {ran} (the exit code is the failed check)", program.display()).into());
    }
    println!("no_std: {} ran a ring without std and passed", program.display());
    Ok(())
}
