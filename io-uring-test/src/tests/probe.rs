//! `IORING_REGISTER_PROBE` and the raw-opcode `Probe`.

use anyhow::ensure;
use urix::{cqueue, opcode, squeue, Probe};

use crate::harness::{reg, Ctx, Test};
use crate::test;
use crate::util::kernel_version;

pub fn tests() -> Vec<Test> {
    vec![test!(probe_lists_all_ops, requires = [reg::PROBE])]
}

/// The opcodes Linux 6.18 has: 0 (NOP) through 62 (PIPE).
const LAST_OP_6_18: u8 = 62;

fn probe_lists_all_ops<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let ring = ctx.ring::<S, C>(8)?;
    let mut probe = Probe::new();
    ensure!(!probe.is_supported(opcode::Nop::CODE), "an empty probe claims NOP");
    ring.submitter().register_probe(&mut probe)?;
    ensure!(probe.is_supported(opcode::Nop::CODE), "NOP not supported");
    // LISTEN (57) came in 6.11; older kernels end before it.
    let has_listen = probe.is_supported(urix::types::IoringOp::Listen);
    ensure!(has_listen == (kernel_version() >= (6, 11)), "LISTEN (57) supported: {has_listen}");
    let ops: Vec<u8> = probe.supported().collect();
    if probe.last_op() >= LAST_OP_6_18 {
        let want: Vec<u8> = (0..=LAST_OP_6_18).collect();
        ensure!(ops.starts_with(&want), "6.18+ kernel, but supported ops are {ops:?}");
        ensure!(ops.len() >= 63, "{} ops", ops.len());
    }
    ensure!(!probe.is_supported(255u8), "opcode 255 claimed");
    let text = format!("{probe:?}");
    ensure!(text.contains(&probe.last_op().to_string()), "Debug output lacks last_op: {text}");
    // A probe can be filled again: the kernel wants a zeroed buffer, which
    // register_probe provides.
    let before = probe.clone();
    ring.submitter().register_probe(&mut probe)?;
    ensure!(probe.supported().eq(before.supported()), "second probe differs");
    Ok(())
}
