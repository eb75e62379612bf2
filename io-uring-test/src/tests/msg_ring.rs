//! Tests of `src/opcode/msg_ring.rs` on the kernel.

use crate::harness::Test;

pub fn tests() -> Vec<Test> {
    vec![]
}
