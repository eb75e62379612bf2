//! Tests of `src/opcode/buffers.rs` on the kernel.

use crate::harness::Test;

pub fn tests() -> Vec<Test> {
    vec![]
}
