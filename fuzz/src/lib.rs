//! Fuzz targets for everything urix reads that the kernel or a peer
//! wrote, and for the owned layer's table under a stand-in kernel. Each
//! module's `run` takes arbitrary bytes, drives the code under test with
//! them and panics when a property it checks does not hold.
//!
//! The same functions run under libFuzzer (`cargo +nightly fuzz run
//! <target>`, see `.ci/fuzz`) and on stable, where `tests/corpus.rs`
//! replays `corpus/<target>/` so the corpus is a regression test.

pub mod buf_ring;
pub mod cqe_flags;
pub mod owned_table;
pub mod probe;
pub mod recvmsg_out;

use std::path::{Path, PathBuf};

/// A fuzz target: panics when a property does not hold for the input.
pub type Target = fn(&[u8]);

/// The targets, by the name of their binary and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("buf_ring", buf_ring::run),
    ("cqe_flags", cqe_flags::run),
    ("owned_table", owned_table::run),
    ("probe", probe::run),
    ("recvmsg_out", recvmsg_out::run),
];

/// Reads fuzz input front to back; past the end every read gives zeros,
/// so any input is a complete one.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// Reads `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next `N` bytes, zero-padded.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        out
    }

    /// The next byte.
    pub fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    /// The next four bytes, little-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    /// The next eight bytes, little-endian.
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }

    /// A length that is usually small but may be anything: one byte below
    /// 0x80 is itself; otherwise the next four bytes are the length.
    pub fn len32(&mut self) -> u32 {
        match self.u8() {
            b @ 0..=0x7f => u32::from(b),
            _ => self.u32(),
        }
    }

    /// As [`len32`](Self::len32), but a large one takes eight bytes.
    pub fn len64(&mut self) -> u64 {
        match self.u8() {
            b @ 0..=0x7f => u64::from(b),
            _ => self.u64(),
        }
    }

    /// Whatever is left.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }
}

/// The files of `corpus/<target>/` (sorted), empty when there is none.
pub fn corpus_files(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.expect("corpus entry").path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// The `main` of a target binary built without libFuzzer: runs `target`
/// on every file named on the command line (directories: every file in
/// them) and says how many it ran.
pub fn replay_args(target: Target) {
    let mut count = 0usize;
    for arg in std::env::args_os().skip(1) {
        let path = PathBuf::from(arg);
        let files = if path.is_dir() {
            let mut v: Vec<PathBuf> =
                std::fs::read_dir(&path).expect("read dir").map(|e| e.expect("dir entry").path()).collect();
            v.sort();
            v
        } else {
            vec![path]
        };
        for file in files {
            let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            target(&data);
            count += 1;
        }
    }
    println!("replayed {count} inputs");
}
