//! Tests of `src/opcode/recv.rs` on the kernel.

use crate::harness::Test;

pub fn tests() -> Vec<Test> {
    vec![]
}
