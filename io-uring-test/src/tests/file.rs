//! Tests of `src/opcode/file.rs` on the kernel: sizes and blocks through
//! std, page-cache residency through mincore(2), memory contents for
//! madvise.

use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt as _, MetadataExt as _};

use anyhow::{ensure, Context};
use urix::types::{Advice, Fd, Fixed, FsyncFlags};
use urix::{cqueue, opcode, squeue, Errno};

use super::fs::{run1, TempDir};
use crate::harness::{reg, Ctx, Req, Test};
use crate::test;
use crate::util::{needs_kernel, pipe};

pub fn tests() -> Vec<Test> {
    vec![
        test!(fsync_whole_file_and_range, requires = [Req::Op(opcode::Fsync::CODE, "FSYNC"), reg::FILES]),
        test!(sync_file_range_writes_out, requires = [Req::Op(opcode::SyncFileRange::CODE, "SYNC_FILE_RANGE")]),
        test!(fallocate_grows_keeps_size_and_punches, requires = [Req::Op(opcode::Fallocate::CODE, "FALLOCATE")]),
        test!(fadvise_dontneed_drops_cached_pages, requires = [Req::Op(opcode::Fadvise::CODE, "FADVISE")]),
        test!(fadvise_len64_reaches_beyond_4gib, requires = [Req::Op(opcode::Fadvise::CODE, "FADVISE")]),
        test!(madvise_dontneed_zeroes_anonymous_pages, requires = [Req::Op(opcode::Madvise::CODE, "MADVISE")]),
        test!(madvise_len64_reaches_beyond_4gib, requires = [Req::Op(opcode::Madvise::CODE, "MADVISE")]),
        test!(ftruncate_grows_and_shrinks, requires = [Req::Op(opcode::Ftruncate::CODE, "FTRUNCATE"), reg::FILES]),
    ]
}

/// The unit of every file and memory range here: 64 KiB, a multiple of the
/// page size of every kernel the harness runs on (4 KiB on x86_64, 4, 16
/// or 64 KiB on arm64), so that ranges are page-aligned on all of them.
/// `check_page` asserts it rather than assuming it.
const PAGE: usize = 64 * 1024;
/// 4 GiB + one `PAGE`: a u32 length of this is one `PAGE`.
const BEYOND_U32: u64 = (1 << 32) + PAGE as u64;

/// Fails unless `PAGE` is a whole number of the kernel's pages.
fn check_page() -> anyhow::Result<()> {
    let sys = crate::util::page_size();
    ensure!(PAGE.is_multiple_of(sys), "the kernel's page size {sys} does not divide PAGE ({PAGE})");
    Ok(())
}

fn rw_file(t: &TempDir, name: &str) -> anyhow::Result<File> {
    OpenOptions::new().read(true).write(true).create_new(true).open(t.join(name)).context("create test file")
}
fn fsync_whole_file_and_range<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let t = TempDir::new("fsync")?;
    let file = rw_file(&t, "f")?;
    file.write_all_at(&[5u8; 3 * PAGE], 0)?;
    let fd = Fd(file.as_raw_fd());
    ensure!(run1(&mut ring, opcode::Fsync::new(fd).build())? == Ok(0), "fsync whole file");
    file.write_all_at(&[6u8; PAGE], PAGE as u64)?;
    let e = opcode::Fsync::new(fd).flags(FsyncFlags::DATASYNC).offset(PAGE as u64).len(PAGE as u32).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "fdatasync of a range");
    // Through a registered file.
    ring.submitter().register_files(&[file.as_raw_fd()])?;
    ensure!(run1(&mut ring, opcode::Fsync::new(Fixed(0)).build())? == Ok(0), "fsync via Fixed(0)");
    let back = fs::read(t.join("f"))?;
    ensure!(back.len() == 3 * PAGE && back[PAGE..2 * PAGE].iter().all(|&b| b == 6), "content after fsync");
    // Errors: a bad fd, and a pipe, which has nothing to sync.
    ensure!(run1(&mut ring, opcode::Fsync::new(Fd(-2)).build())? == Err(Errno::BADF), "bad fd");
    let (rx, _tx) = pipe()?;
    ensure!(run1(&mut ring, opcode::Fsync::new(Fd(rx.as_raw_fd())).build())? == Err(Errno::INVAL), "pipe");
    Ok(())
}

fn sync_file_range_writes_out<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let t = TempDir::new("sfr")?;
    let file = rw_file(&t, "f")?;
    file.write_all_at(&[9u8; 4 * PAGE], 0)?;
    let fd = Fd(file.as_raw_fd());
    let all = libc::SYNC_FILE_RANGE_WAIT_BEFORE | libc::SYNC_FILE_RANGE_WRITE | libc::SYNC_FILE_RANGE_WAIT_AFTER;
    let e = opcode::SyncFileRange::new(fd, 2 * PAGE as u32).offset(PAGE as u64).flags(all).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "sync_file_range of a range");
    let e = opcode::SyncFileRange::new(fd, 0).flags(libc::SYNC_FILE_RANGE_WRITE).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "sync_file_range to EOF");
    // Unknown flag bits and a negative offset are refused.
    let e = opcode::SyncFileRange::new(fd, 0).flags(8).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::INVAL), "unknown flag");
    let e = opcode::SyncFileRange::new(fd, 10).offset(u64::MAX - 5).flags(libc::SYNC_FILE_RANGE_WRITE).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::INVAL), "negative offset");
    let e = opcode::SyncFileRange::new(Fd(-2), 0).flags(libc::SYNC_FILE_RANGE_WRITE).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::BADF), "bad fd");
    Ok(())
}

fn fallocate_grows_keeps_size_and_punches<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let t = TempDir::new("fallocate")?;
    let file = rw_file(&t, "f")?;
    let fd = Fd(file.as_raw_fd());
    // Mode 0: allocate and extend the size.
    ensure!(run1(&mut ring, opcode::Fallocate::new(fd, 8 * PAGE as u64).build())? == Ok(0), "fallocate");
    let m = file.metadata()?;
    ensure!(m.len() == 8 * PAGE as u64, "size {} after fallocate", m.len());
    ensure!(m.blocks() * 512 >= 8 * PAGE as u64, "only {} blocks allocated", m.blocks());
    let blocks = m.blocks();
    // KEEP_SIZE: blocks beyond EOF, size unchanged.
    let e =
        opcode::Fallocate::new(fd, 16 * PAGE as u64).offset(8 * PAGE as u64).mode(libc::FALLOC_FL_KEEP_SIZE).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "fallocate KEEP_SIZE");
    let m = file.metadata()?;
    ensure!(m.len() == 8 * PAGE as u64, "KEEP_SIZE changed the size to {}", m.len());
    ensure!((m.blocks() - blocks) * 512 >= 16 * PAGE as u64, "KEEP_SIZE allocated {} blocks", m.blocks() - blocks);
    // PUNCH_HOLE zeroes data in the range.
    file.write_all_at(&[0xeeu8; 4 * PAGE], 0)?;
    let e = opcode::Fallocate::new(fd, PAGE as u64)
        .offset(PAGE as u64)
        .mode(libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE)
        .build();
    ensure!(run1(&mut ring, e)? == Ok(0), "punch hole");
    let mut back = vec![0u8; 3 * PAGE];
    file.read_exact_at(&mut back, 0)?;
    ensure!(back[..PAGE].iter().all(|&b| b == 0xee), "data before the hole");
    ensure!(back[PAGE..2 * PAGE].iter().all(|&b| b == 0), "hole not zero");
    ensure!(back[2 * PAGE..].iter().all(|&b| b == 0xee), "data after the hole");
    // PUNCH_HOLE without KEEP_SIZE is invalid; so is a bad fd.
    let e = opcode::Fallocate::new(fd, PAGE as u64).mode(libc::FALLOC_FL_PUNCH_HOLE).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::OPNOTSUPP), "punch without KEEP_SIZE");
    ensure!(run1(&mut ring, opcode::Fallocate::new(Fd(-2), 1).build())? == Err(Errno::BADF), "bad fd");
    Ok(())
}

/// Skips a page-cache test on tmpfs, where the cached pages are the file
/// itself: DONTNEED succeeds and keeps them (as under the old-kernel VM,
/// whose only file system is tmpfs).
fn skip_on_tmpfs(file: &File) -> anyhow::Result<()> {
    // SAFETY: `st` is a plain C struct, written by fstatfs before it is read.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a live fd and a pointer to a statfs buffer.
    ensure!(unsafe { libc::fstatfs(file.as_raw_fd(), &mut st) } == 0, "fstatfs");
    // Filesystem magics are 32-bit values; `f_type` and the constant have
    // different integer types on glibc, musl and 32-bit targets.
    if st.f_type as u32 == libc::TMPFS_MAGIC as u32 {
        crate::skip!("the temp dir is on tmpfs, which cannot drop a file's pages");
    }
    Ok(())
}

/// Which `PAGE`s of `file[offset .. offset + pages * PAGE]` are in the page
/// cache, by mincore(2) on an untouched shared mapping: true if all of the
/// kernel's pages in it are, false if none is; a `PAGE` only partly cached
/// is an error.
fn resident(file: &File, offset: u64, pages: usize) -> anyhow::Result<Vec<bool>> {
    check_page()?;
    let len = pages * PAGE;
    let per = PAGE / crate::util::page_size();
    // SAFETY: a fresh read-only shared mapping of a file we own; nothing
    // else uses the address range, and it is unmapped below.
    let addr = unsafe { crate::util::mmap64(len, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), offset)? };
    ensure!(addr != libc::MAP_FAILED, "mmap: {}", std::io::Error::last_os_error());
    let mut vec = vec![0u8; pages * per];
    // SAFETY: `addr` is a mapping of `len` bytes; `vec` has one byte per
    // kernel page of it.
    let r = unsafe { libc::mincore(addr, len, vec.as_mut_ptr()) };
    let err = std::io::Error::last_os_error();
    // SAFETY: unmaps exactly the mapping made above.
    unsafe { libc::munmap(addr, len) };
    ensure!(r == 0, "mincore: {err}");
    let mut out = Vec::with_capacity(pages);
    for (i, chunk) in vec.chunks(per).enumerate() {
        let cached = chunk.iter().filter(|&&v| v & 1 == 1).count();
        ensure!(cached == 0 || cached == per, "PAGE {i}: {cached} of its {per} pages cached");
        out.push(cached == per);
    }
    Ok(out)
}

fn fadvise_dontneed_drops_cached_pages<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let t = TempDir::new("fadvise")?;
    let file = rw_file(&t, "f")?;
    skip_on_tmpfs(&file)?;
    // One write per page: a single 16 KiB write may land in one large
    // folio, which a DONTNEED of part of it cannot drop.
    for p in 0..4 {
        file.write_all_at(&[1u8; PAGE], (p * PAGE) as u64)?;
    }
    file.sync_all()?;
    let fd = Fd(file.as_raw_fd());
    ensure!(resident(&file, 0, 4)? == [true; 4], "written pages not cached");
    // DONTNEED on pages 1..3 drops exactly those (they are clean).
    let e = opcode::Fadvise::new(fd, 2 * PAGE as u32, Advice::DontNeed).offset(PAGE as u64).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "fadvise DONTNEED range");
    let r = resident(&file, 0, 4)?;
    ensure!(r == [true, false, false, true], "after DONTNEED of pages 1..3: {r:?}");
    // len 0 means to the end of the file.
    let e = opcode::Fadvise::new(fd, 0, Advice::DontNeed).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "fadvise DONTNEED whole file");
    ensure!(resident(&file, 0, 4)? == [false; 4], "pages left after DONTNEED of the whole file");
    for advice in [Advice::Normal, Advice::Sequential, Advice::Random, Advice::NoReuse, Advice::WillNeed] {
        let e = opcode::Fadvise::new(fd, 0, advice).build();
        ensure!(run1(&mut ring, e)? == Ok(0), "fadvise {advice:?}");
    }
    // A pipe cannot be advised; a bad fd fails.
    let (rx, _tx) = pipe()?;
    let e = opcode::Fadvise::new(Fd(rx.as_raw_fd()), 0, Advice::Normal).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::SPIPE), "fadvise on a pipe");
    let e = opcode::Fadvise::new(Fd(-2), 0, Advice::Normal).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::BADF), "bad fd");
    Ok(())
}

fn fadvise_len64_reaches_beyond_4gib<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 12, "a 64-bit FADVISE length (in addr)")?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let t = TempDir::new("fadvise64")?;
    // A sparse file with a cached page at 0 and one just past 4 GiB.
    let file = rw_file(&t, "big")?;
    skip_on_tmpfs(&file)?;
    file.write_all_at(&[2u8; PAGE], 0)?;
    file.write_all_at(&[3u8; PAGE], BEYOND_U32)?;
    file.sync_all()?;
    let fd = Fd(file.as_raw_fd());
    let total = BEYOND_U32 + PAGE as u64;
    ensure!(resident(&file, 0, 1)? == [true] && resident(&file, BEYOND_U32, 1)? == [true], "pages not cached");
    // Control: the length truncated to 32 bits covers only the first pages.
    let e = opcode::Fadvise::new(fd, total as u32, Advice::DontNeed).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "fadvise with a 32-bit len");
    ensure!(resident(&file, 0, 1)? == [false], "page 0 not dropped");
    ensure!(resident(&file, BEYOND_U32, 1)? == [true], "truncated length reached past 4 GiB");
    // len64 covers it all, and wins over a (different) 32-bit len.
    let e = opcode::Fadvise::new(fd, PAGE as u32, Advice::DontNeed).len64(total).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "fadvise with len64");
    ensure!(resident(&file, BEYOND_U32, 1)? == [false], "len64 did not reach the page past 4 GiB");
    // A 64-bit length the kernel reads as negative is refused, which a
    // kernel that ignored the field could not notice.
    let e = opcode::Fadvise::new(fd, PAGE as u32, Advice::DontNeed).len64(1 << 63).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::INVAL), "negative len64");
    Ok(())
}

/// An anonymous private read-write mapping, unmapped on drop.
struct Anon {
    addr: *mut u8,
    len: usize,
}

impl Anon {
    fn new(len: usize) -> anyhow::Result<Anon> {
        // SAFETY: a fresh anonymous mapping; MAP_NORESERVE so that a large
        // one costs only what is touched.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        ensure!(addr != libc::MAP_FAILED, "mmap {len}: {}", std::io::Error::last_os_error());
        Ok(Anon { addr: addr.cast(), len })
    }

    fn set(&self, at: usize, v: u8) {
        assert!(at < self.len);
        // SAFETY: `at` is inside the mapping, which is readable and writable.
        unsafe { self.addr.add(at).write_volatile(v) }
    }

    fn get(&self, at: usize) -> u8 {
        assert!(at < self.len);
        // SAFETY: as in `set`.
        unsafe { self.addr.add(at).read_volatile() }
    }
}

impl Drop for Anon {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`.
        unsafe { libc::munmap(self.addr.cast(), self.len) };
    }
}

fn madvise_dontneed_zeroes_anonymous_pages<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    check_page()?;
    let mut ring = ctx.ring::<S, C>(8)?;
    let m = Anon::new(3 * PAGE)?;
    for p in 0..3 {
        m.set(p * PAGE + 10, 0x5a);
    }
    // DONTNEED on the first two pages: they read back as zero, the third
    // keeps its data.
    let e = opcode::Madvise::new(m.addr.cast_const().cast(), 2 * PAGE as u32, Advice::DontNeed).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "madvise DONTNEED");
    ensure!(m.get(10) == 0 && m.get(PAGE + 10) == 0, "advised pages kept their data");
    ensure!(m.get(2 * PAGE + 10) == 0x5a, "page outside the range lost its data");
    for advice in [Advice::Normal, Advice::Random, Advice::Sequential, Advice::WillNeed] {
        let e = opcode::Madvise::new(m.addr.cast_const().cast(), 3 * PAGE as u32, advice).build();
        ensure!(run1(&mut ring, e)? == Ok(0), "madvise {advice:?}");
    }
    // An unaligned address is refused.
    // SAFETY: only forms an address inside the mapping; nothing is accessed.
    let odd = unsafe { m.addr.add(1) };
    let e = opcode::Madvise::new(odd.cast_const().cast(), PAGE as u32, Advice::DontNeed).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::INVAL), "unaligned madvise");
    ensure!(m.get(2 * PAGE + 10) == 0x5a, "failed madvise changed memory");
    Ok(())
}

fn madvise_len64_reaches_beyond_4gib<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 12, "a 64-bit MADVISE length (in off)")?;
    check_page()?;
    let Some(total) = usize::try_from(BEYOND_U32).ok().and_then(|b| b.checked_add(PAGE)) else {
        crate::skip!("a {}-bit process cannot map more than 4 GiB", usize::BITS);
    };
    let mut ring = ctx.ring::<S, C>(8)?;
    let m = match Anon::new(total) {
        Ok(m) => m,
        Err(e) => crate::skip!("cannot reserve {total} bytes of address space: {e}"),
    };
    let last = total - PAGE + 7;
    m.set(7, 0x11);
    m.set(last, 0x22);
    // Control: the length truncated to 32 bits stops after the first page.
    let e = opcode::Madvise::new(m.addr.cast_const().cast(), total as u32, Advice::DontNeed).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "madvise with a 32-bit len");
    ensure!(m.get(7) == 0 && m.get(last) == 0x22, "truncated length: first {} last {:#x}", m.get(7), m.get(last));
    // len64 reaches the last page, and wins over a (different) 32-bit len.
    m.set(7, 0x11);
    let e = opcode::Madvise::new(m.addr.cast_const().cast(), PAGE as u32, Advice::DontNeed).len64(total as u64).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "madvise with len64");
    ensure!(m.get(7) == 0 && m.get(last) == 0, "len64: first {} last {:#x}", m.get(7), m.get(last));
    Ok(())
}

fn ftruncate_grows_and_shrinks<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let t = TempDir::new("ftruncate")?;
    let file = rw_file(&t, "f")?;
    let data: Vec<u8> = (0..100u8).collect();
    file.write_all_at(&data, 0)?;
    let fd = Fd(file.as_raw_fd());
    // Grow: the new bytes read as zero.
    ensure!(run1(&mut ring, opcode::Ftruncate::new(fd, 10_000).build())? == Ok(0), "grow");
    let back = fs::read(t.join("f"))?;
    ensure!(back.len() == 10_000 && back[..100] == data[..] && back[100..].iter().all(|&b| b == 0), "after grow");
    // Shrink, through a registered file.
    ring.submitter().register_files(&[file.as_raw_fd()])?;
    ensure!(run1(&mut ring, opcode::Ftruncate::new(Fixed(0), 50).build())? == Ok(0), "shrink");
    ensure!(fs::read(t.join("f"))? == data[..50], "after shrink");
    ensure!(run1(&mut ring, opcode::Ftruncate::new(fd, 0).build())? == Ok(0), "to zero");
    ensure!(file.metadata()?.len() == 0, "not empty");
    // A read-only fd, a negative length, a bad fd.
    let ro = File::open(t.join("f"))?;
    let e = opcode::Ftruncate::new(Fd(ro.as_raw_fd()), 10).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::INVAL), "read-only fd");
    ensure!(run1(&mut ring, opcode::Ftruncate::new(fd, u64::MAX).build())? == Err(Errno::INVAL), "negative len");
    ensure!(run1(&mut ring, opcode::Ftruncate::new(Fd(-2), 0).build())? == Err(Errno::BADF), "bad fd");
    Ok(())
}
