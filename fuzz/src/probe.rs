//! Probe decoding: any bytes the kernel may have written into the probe
//! buffer (any `last_op`, any `ops_len`, any flags) must give answers that
//! agree with those bytes, without panicking or reading past the entries.

use urix::fuzz_hooks;

/// Size of `struct io_uring_probe` (16) plus 256 `io_uring_probe_op`s (8).
const PROBE_BYTES: usize = 16 + 256 * 8;

/// `IO_URING_OP_SUPPORTED`.
const OP_SUPPORTED: u16 = 1;

/// `data` is the probe memory as the kernel left it (zero-padded).
pub fn run(data: &[u8]) {
    let probe = fuzz_hooks::probe(data);
    let mut raw = [0u8; PROBE_BYTES];
    let n = data.len().min(PROBE_BYTES);
    raw[..n].copy_from_slice(&data[..n]);

    let last_op = raw[0];
    let ops_len = usize::from(raw[1]);
    let flags = |op: usize| u16::from_ne_bytes([raw[16 + 8 * op + 2], raw[16 + 8 * op + 3]]);
    let expected: Vec<u8> = (0..ops_len).filter(|&op| flags(op) & OP_SUPPORTED != 0).map(|op| op as u8).collect();

    assert_eq!(probe.last_op(), last_op);
    let supported: Vec<u8> = probe.supported().collect();
    assert_eq!(supported, expected, "supported(): entries below ops_len with the SUPPORTED bit, in order");
    for op in 0..=255u8 {
        assert_eq!(probe.is_supported(op), expected.binary_search(&op).is_ok(), "is_supported({op})");
    }
    // Opcodes rustix knows go through the same table.
    assert_eq!(probe.is_supported(rustix::io_uring::IoringOp::Nop), expected.first() == Some(&0));
    let copy = probe.clone();
    assert!(copy.supported().eq(expected.iter().copied()));
    let _ = format!("{probe:?}");
}
