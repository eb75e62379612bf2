//! Tests of `src/opcode/file.rs` on the kernel.

use crate::harness::Test;

pub fn tests() -> Vec<Test> {
    vec![]
}
