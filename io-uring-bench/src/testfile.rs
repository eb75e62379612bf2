//! read-4k's test file: 64 MiB in 4 KiB blocks, each block starting with
//! its block number (8 bytes, little endian). It is created once in the
//! temp directory and reused; every open reads it whole, which checks each
//! block header and leaves the file in page cache.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::PathBuf;

/// The block size, and the size of every read.
pub const BLOCK: usize = 4096;
/// Blocks in the file (a power of two).
pub const BLOCKS: u64 = 16384;
/// The file size: 64 MiB.
pub const LEN: u64 = BLOCKS * BLOCK as u64;

/// Blocks written or read per I/O call while preparing the file.
const CHUNK_BLOCKS: usize = 256;

/// Where the file lives (`$TMPDIR/io-uring-bench-read-4k.dat`).
pub fn path() -> PathBuf {
    std::env::temp_dir().join("io-uring-bench-read-4k.dat")
}

/// Opens the test file, creating (or recreating) it when it is missing or
/// wrong, and reads it once so that it is in page cache.
pub fn open() -> Result<File, String> {
    let path = path();
    if path.exists() {
        match warm(&path) {
            Ok(file) => return Ok(file),
            Err(why) => eprintln!("io-uring-bench: recreating {}: {why}", path.display()),
        }
    }
    create(&path)?;
    warm(&path).map_err(|why| format!("{} after creating it: {why}", path.display()))
}

/// What block `b` holds: its number, then a filler byte.
fn fill_block(block: &mut [u8], b: u64) {
    block[..8].copy_from_slice(&b.to_le_bytes());
    block[8..].fill(0x5a);
}

/// Writes the file under a temporary name and renames it into place, so
/// that concurrent runs never see a half-written file.
fn create(path: &PathBuf) -> Result<(), String> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let err = |what: &str, e: std::io::Error| format!("{what} {}: {e}", tmp.display());
    let mut file = File::create(&tmp).map_err(|e| err("create", e))?;
    let mut chunk = vec![0u8; CHUNK_BLOCKS * BLOCK];
    let mut b = 0;
    while b < BLOCKS {
        for block in chunk.chunks_exact_mut(BLOCK) {
            fill_block(block, b);
            b += 1;
        }
        file.write_all(&chunk).map_err(|e| err("write", e))?;
    }
    file.sync_all().map_err(|e| err("sync", e))?;
    fs::rename(&tmp, path).map_err(|e| err("rename", e))
}

/// Opens the file and reads all of it, checking its size and every block
/// header.
fn warm(path: &PathBuf) -> Result<File, String> {
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    if len != LEN {
        return Err(format!("size {len}, not {LEN}"));
    }
    let mut chunk = vec![0u8; CHUNK_BLOCKS * BLOCK];
    let mut b = 0;
    while b < BLOCKS {
        file.read_exact(&mut chunk).map_err(|e| e.to_string())?;
        for block in chunk.chunks_exact(BLOCK) {
            let header = u64::from_le_bytes(block[..8].try_into().expect("8 bytes"));
            if header != b {
                return Err(format!("block {b} starts with {header}"));
            }
            b += 1;
        }
    }
    Ok(file)
}
