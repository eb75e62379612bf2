//! Tests of `src/opcode/pipe.rs` on the kernel.

use crate::harness::Test;

pub fn tests() -> Vec<Test> {
    vec![]
}
