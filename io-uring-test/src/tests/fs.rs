//! Tests of `src/opcode/fs.rs` on the kernel: each operation's effect is
//! checked in the file system afterwards, through std.

use std::ffi::CString;
use std::fs::{self, File};
use std::io::{Read as _, Write as _};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{ensure, Context};
use urix::types::{
    AtFlags, DestinationSlot, Fd, Fixed, Mode, OFlags, OpenHow, RenameFlags, ResolveFlags, Statx, StatxFlags,
};
use urix::{cqueue, opcode, squeue, Errno, IoUring};

use crate::harness::{reg, Ctx, Req, Test};
use crate::test;
use crate::util::one;

pub fn tests() -> Vec<Test> {
    vec![
        test!(openat_creates_relative_to_dirfd, requires = [Req::Op(opcode::OpenAt::CODE, "OPENAT")]),
        test!(openat2_resolve_beneath, requires = [Req::Op(opcode::OpenAt2::CODE, "OPENAT2")]),
        test!(
            open_direct_read_fixed_close_fixed,
            requires = [
                Req::Op(opcode::OpenAt::CODE, "OPENAT"),
                Req::Op(opcode::OpenAt2::CODE, "OPENAT2"),
                Req::Op(opcode::Read::CODE, "READ"),
                Req::Op(opcode::Close::CODE, "CLOSE"),
                reg::FILES2,
            ]
        ),
        test!(close_plain_fd, requires = [Req::Op(opcode::Close::CODE, "CLOSE")]),
        test!(statx_matches_metadata, requires = [Req::Op(opcode::Statx::CODE, "STATX")]),
        test!(
            mkdir_rename_unlink,
            requires = [
                Req::Op(opcode::MkDirAt::CODE, "MKDIRAT"),
                Req::Op(opcode::RenameAt::CODE, "RENAMEAT"),
                Req::Op(opcode::UnlinkAt::CODE, "UNLINKAT"),
            ]
        ),
        test!(
            symlink_and_hard_link,
            requires = [Req::Op(opcode::SymlinkAt::CODE, "SYMLINKAT"), Req::Op(opcode::LinkAt::CODE, "LINKAT")]
        ),
    ]
}

/// A fresh directory under the temp dir, removed (with its contents) on
/// drop, plus an open fd of it for the `*at` operations.
pub struct TempDir {
    pub path: PathBuf,
    pub dir: File,
}

impl TempDir {
    pub fn new(tag: &str) -> anyhow::Result<TempDir> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("urix-{}-{n}-{tag}", std::process::id()));
        fs::create_dir(&path).with_context(|| format!("mkdir {}", path.display()))?;
        let dir = File::open(&path).with_context(|| format!("open {}", path.display()))?;
        Ok(TempDir { path, dir })
    }

    /// The directory as the `dirfd` of an operation.
    pub fn fd(&self) -> Fd {
        Fd(self.dir.as_raw_fd())
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// A C string of a path or name.
pub fn cstr(p: impl AsRef<Path>) -> CString {
    CString::new(p.as_ref().as_os_str().as_bytes()).expect("test paths hold no NUL")
}

/// Submits one entry and returns its completion's result.
pub fn run1<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    e: squeue::Entry,
) -> anyhow::Result<Result<u32, Errno>> {
    Ok(one(ring, e)?.result())
}

/// The process umask, from /proc (reading it with umask(2) would change it).
fn umask() -> anyhow::Result<u32> {
    let status = fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("Umask:")).context("no Umask line")?;
    Ok(u32::from_str_radix(line["Umask:".len()..].trim(), 8)?)
}

/// Takes ownership of an fd the kernel returned.
fn owned(fd: u32) -> OwnedFd {
    // SAFETY: the fd was just created by the kernel for this test and
    // nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

fn openat_creates_relative_to_dirfd<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let t = TempDir::new("openat")?;
    let name = cstr("new-file");
    let e = opcode::OpenAt::new(t.fd(), name.as_ptr())
        .flags(OFlags::CREATE | OFlags::EXCL | OFlags::RDWR | OFlags::CLOEXEC)
        .mode(Mode::from_bits_retain(0o646))
        .build();
    let fd = run1(&mut ring, e)?.map_err(|e| anyhow::anyhow!("openat: {e}"))?;
    let mut file = File::from(owned(fd));
    // The file is where the dirfd says, with the mode minus the umask, and
    // the fd is open for writing.
    let meta = fs::metadata(t.join("new-file"))?;
    let want = 0o646 & !umask()?;
    ensure!(meta.permissions().mode() & 0o7777 == want, "mode {:o}, want {want:o}", meta.permissions().mode());
    file.write_all(b"via the ring's fd")?;
    ensure!(fs::read(t.join("new-file"))? == b"via the ring's fd", "content differs");
    // SAFETY: F_GETFD on an fd we own.
    let fdflags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFD) };
    ensure!(fdflags == libc::FD_CLOEXEC, "O_CLOEXEC not applied: {fdflags}");
    // O_EXCL on an existing file.
    let e = opcode::OpenAt::new(t.fd(), name.as_ptr()).flags(OFlags::CREATE | OFlags::EXCL).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::EXIST), "O_EXCL on an existing file");
    // Read-only open of a missing file, and a bad dirfd.
    let missing = cstr("missing");
    let e = opcode::OpenAt::new(t.fd(), missing.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::NOENT), "missing file");
    let e = opcode::OpenAt::new(Fd(-7), name.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::BADF), "bad dirfd");
    // An absolute path ignores the dirfd, as in openat(2).
    let abs = cstr(t.join("new-file"));
    let fd = run1(&mut ring, opcode::OpenAt::new(Fd(-7), abs.as_ptr()).build())?
        .map_err(|e| anyhow::anyhow!("absolute path: {e}"))?;
    let mut back = String::new();
    File::from(owned(fd)).read_to_string(&mut back)?;
    ensure!(back == "via the ring's fd", "absolute open read {back:?}");
    Ok(())
}

fn openat2_resolve_beneath<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let t = TempDir::new("openat2")?;
    fs::create_dir(t.join("sub"))?;
    fs::write(t.join("outside"), b"x")?;
    fs::write(t.join("sub/inside"), b"in")?;
    let sub = File::open(t.join("sub"))?;
    let beneath = OpenHow::new().flags(OFlags::RDONLY | OFlags::CLOEXEC).resolve(ResolveFlags::BENEATH);
    // Escaping the dirfd is refused with EXDEV; a path inside works.
    let up = cstr("../outside");
    let e = opcode::OpenAt2::new(Fd(sub.as_raw_fd()), up.as_ptr(), &beneath).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::XDEV), "RESOLVE_BENEATH let ../ through");
    let inside = cstr("inside");
    let fd = run1(&mut ring, opcode::OpenAt2::new(Fd(sub.as_raw_fd()), inside.as_ptr(), &beneath).build())?
        .map_err(|e| anyhow::anyhow!("inside: {e}"))?;
    let mut back = Vec::new();
    File::from(owned(fd)).read_to_end(&mut back)?;
    ensure!(back == b"in", "read {back:?}");
    // Without RESOLVE_BENEATH the same path opens.
    let plain = OpenHow::new().flags(OFlags::RDONLY | OFlags::CLOEXEC);
    let fd = run1(&mut ring, opcode::OpenAt2::new(Fd(sub.as_raw_fd()), up.as_ptr(), &plain).build())?
        .map_err(|e| anyhow::anyhow!("../outside unrestricted: {e}"))?;
    drop(owned(fd));
    // O_CREAT with a mode through the open_how.
    let created = cstr("made");
    let how = OpenHow::new()
        .flags(OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC)
        .mode(Mode::from_bits_retain(0o600))
        .resolve(ResolveFlags::NO_SYMLINKS);
    let fd = run1(&mut ring, opcode::OpenAt2::new(t.fd(), created.as_ptr(), &how).build())?
        .map_err(|e| anyhow::anyhow!("create: {e}"))?;
    drop(owned(fd));
    let mode = fs::metadata(t.join("made"))?.permissions().mode() & 0o777;
    ensure!(mode == 0o600 & !umask()?, "created mode {mode:o}");
    // RESOLVE_NO_SYMLINKS refuses a symlink with ELOOP.
    std::os::unix::fs::symlink("made", t.join("link"))?;
    let link = cstr("link");
    let how = OpenHow::new().flags(OFlags::RDONLY).resolve(ResolveFlags::NO_SYMLINKS);
    let e = opcode::OpenAt2::new(t.fd(), link.as_ptr(), &how).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::LOOP), "RESOLVE_NO_SYMLINKS followed a link");
    Ok(())
}

fn open_direct_read_fixed_close_fixed<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    ring.submitter().register_files_sparse(4)?;
    let t = TempDir::new("direct")?;
    fs::write(t.join("data"), b"direct descriptor")?;
    let name = cstr("data");
    let slot2 = DestinationSlot::try_from_slot_target(2).map_err(|s| anyhow::anyhow!("slot {s}"))?;
    // Into slot 2: the result is 0 and no fd appears.
    let e = opcode::OpenAt::new(t.fd(), name.as_ptr()).file_index(Some(slot2)).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "open into slot 2");
    let mut buf = [0u8; 64];
    let r = opcode::Read::new(Fixed(2), buf.as_mut_ptr(), buf.len() as u32).build();
    ensure!(run1(&mut ring, r)? == Ok(17), "read via Fixed(2)");
    ensure!(&buf[..17] == b"direct descriptor", "read {:?}", &buf[..17]);
    // Close(Fixed) empties the slot; reading it afterwards fails.
    ensure!(run1(&mut ring, opcode::Close::new(Fixed(2)).build())? == Ok(0), "close Fixed(2)");
    let r = opcode::Read::new(Fixed(2), buf.as_mut_ptr(), buf.len() as u32).build();
    ensure!(run1(&mut ring, r)? == Err(Errno::BADF), "read of an emptied slot");
    ensure!(run1(&mut ring, opcode::Close::new(Fixed(2)).build())? == Err(Errno::BADF), "close of an empty slot");
    // OPENAT2 with an allocated slot: the result is the slot.
    let how = OpenHow::new().flags(OFlags::RDONLY);
    let e = opcode::OpenAt2::new(t.fd(), name.as_ptr(), &how).file_index(Some(DestinationSlot::auto_target())).build();
    let slot = run1(&mut ring, e)?.map_err(|e| anyhow::anyhow!("openat2 alloc: {e}"))?;
    ensure!(slot < 4, "allocated slot {slot}");
    let r = opcode::Read::new(Fixed(slot), buf.as_mut_ptr(), 6).offset(7).build();
    ensure!(run1(&mut ring, r)? == Ok(6) && &buf[..6] == b"descri", "read via allocated slot");
    ensure!(run1(&mut ring, opcode::Close::new(Fixed(slot)).build())? == Ok(0), "close allocated slot");
    // A direct open with O_CLOEXEC is refused: there is no fd to mark.
    let e = opcode::OpenAt::new(t.fd(), name.as_ptr()).flags(OFlags::CLOEXEC).file_index(Some(slot2)).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::INVAL), "direct open with O_CLOEXEC");
    // A slot beyond the table.
    let far = DestinationSlot::try_from_slot_target(100).map_err(|s| anyhow::anyhow!("slot {s}"))?;
    let e = opcode::OpenAt::new(t.fd(), name.as_ptr()).file_index(Some(far)).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::INVAL), "open into slot 100 of 4");
    // Fixed(u32::MAX) has no slot+1 encoding; it fails instead of naming fd 0.
    ensure!(run1(&mut ring, opcode::Close::new(Fixed(u32::MAX)).build())? == Err(Errno::BADF), "Fixed(MAX)");
    Ok(())
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn close_plain_fd<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let t = TempDir::new("close")?;
    // SAFETY: dup of an fd we own; the new fd is ours to close.
    let fd = unsafe { libc::dup(t.dir.as_raw_fd()) };
    ensure!(fd >= 0, "dup");
    ensure!(run1(&mut ring, opcode::Close::new(Fd(fd)).build())? == Ok(0), "close");
    // SAFETY: F_GETFD only queries; the fd is expected to be gone.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    ensure!(r == -1 && errno() == libc::EBADF, "fd {fd} still open after CLOSE");
    // Closing it again, or a never-valid fd, fails with EBADF.
    ensure!(run1(&mut ring, opcode::Close::new(Fd(fd)).build())? == Err(Errno::BADF), "second close");
    ensure!(run1(&mut ring, opcode::Close::new(Fd(-1)).build())? == Err(Errno::BADF), "close(-1)");
    Ok(())
}

fn zeroed_statx() -> Statx {
    // SAFETY: `struct statx` is plain integers; all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

fn statx_matches_metadata<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let t = TempDir::new("statx")?;
    fs::write(t.join("f"), vec![7u8; 12345])?;
    fs::set_permissions(t.join("f"), fs::Permissions::from_mode(0o604))?;
    fs::hard_link(t.join("f"), t.join("g"))?;
    let meta = fs::metadata(t.join("f"))?;
    let check = |st: &Statx, how: &str| -> anyhow::Result<()> {
        ensure!(st.stx_mask & StatxFlags::BASIC_STATS.bits() == StatxFlags::BASIC_STATS.bits(), "{how}: mask");
        ensure!(st.stx_size == meta.size(), "{how}: size {} vs {}", st.stx_size, meta.size());
        ensure!(u32::from(st.stx_mode) == meta.mode(), "{how}: mode {:o} vs {:o}", st.stx_mode, meta.mode());
        ensure!(st.stx_ino == meta.ino(), "{how}: ino");
        ensure!(u64::from(st.stx_nlink) == meta.nlink() && meta.nlink() == 2, "{how}: nlink {}", st.stx_nlink);
        ensure!(
            st.stx_mtime.tv_sec == meta.mtime() && i64::from(st.stx_mtime.tv_nsec) == meta.mtime_nsec(),
            "{how}: mtime"
        );
        ensure!(st.stx_uid == meta.uid() && st.stx_blocks == meta.blocks(), "{how}: uid/blocks");
        Ok(())
    };
    // By path relative to the dirfd.
    let name = cstr("f");
    let mut st = zeroed_statx();
    let e = opcode::Statx::new(t.fd(), name.as_ptr(), &mut st).mask(StatxFlags::BASIC_STATS).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "statx by path");
    check(&st, "by path")?;
    // By fd, with AT_EMPTY_PATH.
    let file = File::open(t.join("g"))?;
    let empty = cstr("");
    let mut st = zeroed_statx();
    let e = opcode::Statx::new(Fd(file.as_raw_fd()), empty.as_ptr(), &mut st)
        .flags(AtFlags::EMPTY_PATH)
        .mask(StatxFlags::BASIC_STATS)
        .build();
    ensure!(run1(&mut ring, e)? == Ok(0), "statx by fd");
    check(&st, "by fd")?;
    // AT_SYMLINK_NOFOLLOW describes the link itself.
    std::os::unix::fs::symlink("f", t.join("l"))?;
    let link = cstr("l");
    let mut st = zeroed_statx();
    let e = opcode::Statx::new(t.fd(), link.as_ptr(), &mut st)
        .flags(AtFlags::SYMLINK_NOFOLLOW)
        .mask(StatxFlags::TYPE | StatxFlags::SIZE)
        .build();
    ensure!(run1(&mut ring, e)? == Ok(0), "statx of a link");
    ensure!(u32::from(st.stx_mode) & libc::S_IFMT == libc::S_IFLNK && st.stx_size == 1, "link stat");
    // Errors.
    let missing = cstr("missing");
    let e = opcode::Statx::new(t.fd(), missing.as_ptr(), &mut st).mask(StatxFlags::BASIC_STATS).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::NOENT), "missing path");
    let e = opcode::Statx::new(Fd(-3), empty.as_ptr(), &mut st).flags(AtFlags::EMPTY_PATH).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::BADF), "bad fd");
    Ok(())
}

fn mkdir_rename_unlink<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let t = TempDir::new("rename")?;
    // MKDIRAT with a mode.
    let d = cstr("d");
    let e = opcode::MkDirAt::new(t.fd(), d.as_ptr()).mode(Mode::from_bits_retain(0o751)).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "mkdirat");
    let meta = fs::metadata(t.join("d"))?;
    ensure!(meta.is_dir(), "not a directory");
    ensure!(meta.permissions().mode() & 0o7777 == 0o751 & !umask()?, "dir mode {:o}", meta.permissions().mode());
    let e = opcode::MkDirAt::new(t.fd(), d.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::EXIST), "mkdir of an existing dir");
    // RENAMEAT across two dirfds.
    fs::write(t.join("a"), b"moved")?;
    let dir_d = File::open(t.join("d"))?;
    let (a, b) = (cstr("a"), cstr("b"));
    let e = opcode::RenameAt::new(t.fd(), a.as_ptr(), Fd(dir_d.as_raw_fd()), b.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "renameat");
    ensure!(!t.join("a").exists(), "old name still there");
    ensure!(fs::read(t.join("d/b"))? == b"moved", "new name content");
    // RENAME_NOREPLACE onto an existing name.
    fs::write(t.join("c"), b"other")?;
    let (c, db) = (cstr("c"), cstr("d/b"));
    let e = opcode::RenameAt::new(t.fd(), c.as_ptr(), t.fd(), db.as_ptr()).flags(RenameFlags::NOREPLACE).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::EXIST), "RENAME_NOREPLACE");
    ensure!(fs::read(t.join("d/b"))? == b"moved", "NOREPLACE replaced");
    // RENAME_EXCHANGE swaps them.
    let e = opcode::RenameAt::new(t.fd(), c.as_ptr(), t.fd(), db.as_ptr()).flags(RenameFlags::EXCHANGE).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "RENAME_EXCHANGE");
    ensure!(fs::read(t.join("d/b"))? == b"other" && fs::read(t.join("c"))? == b"moved", "exchange");
    // UNLINKAT of a file, of a non-empty dir, of an empty dir.
    let e = opcode::UnlinkAt::new(t.fd(), d.as_ptr()).flags(AtFlags::REMOVEDIR).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::NOTEMPTY), "rmdir of a non-empty dir");
    let e = opcode::UnlinkAt::new(Fd(dir_d.as_raw_fd()), b.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "unlinkat file");
    ensure!(!t.join("d/b").exists(), "file still there");
    let e = opcode::UnlinkAt::new(t.fd(), d.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::ISDIR), "unlink without AT_REMOVEDIR on a dir");
    let e = opcode::UnlinkAt::new(t.fd(), d.as_ptr()).flags(AtFlags::REMOVEDIR).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "rmdir");
    ensure!(!t.join("d").exists(), "dir still there");
    let e = opcode::UnlinkAt::new(t.fd(), d.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::NOENT), "unlink of a missing name");
    let e = opcode::RenameAt::new(t.fd(), a.as_ptr(), t.fd(), b.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::NOENT), "rename of a missing name");
    let e = opcode::MkDirAt::new(Fd(-9), d.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::BADF), "mkdir with a bad dirfd");
    Ok(())
}

fn symlink_and_hard_link<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let t = TempDir::new("links")?;
    // SYMLINKAT stores the target verbatim, even a dangling one.
    let (target, l) = (cstr("no/such/target"), cstr("l"));
    let e = opcode::SymlinkAt::new(t.fd(), target.as_ptr(), l.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "symlinkat");
    ensure!(fs::read_link(t.join("l"))? == Path::new("no/such/target"), "readlink");
    ensure!(run1(&mut ring, opcode::SymlinkAt::new(t.fd(), target.as_ptr(), l.as_ptr()).build())? == Err(Errno::EXIST));
    // LINKAT: two names, one inode.
    fs::write(t.join("f"), b"linked")?;
    let sub = t.join("sub");
    fs::create_dir(&sub)?;
    let subdir = File::open(&sub)?;
    let (f, h) = (cstr("f"), cstr("h"));
    let e = opcode::LinkAt::new(t.fd(), f.as_ptr(), Fd(subdir.as_raw_fd()), h.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "linkat");
    let (mf, mh) = (fs::metadata(t.join("f"))?, fs::metadata(sub.join("h"))?);
    ensure!(mf.ino() == mh.ino() && mf.nlink() == 2, "ino {} vs {}, nlink {}", mf.ino(), mh.ino(), mf.nlink());
    let e = opcode::LinkAt::new(t.fd(), f.as_ptr(), Fd(subdir.as_raw_fd()), h.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::EXIST), "link onto an existing name");
    // A link to a symlink links the symlink itself, unless AT_SYMLINK_FOLLOW.
    std::os::unix::fs::symlink("f", t.join("sl"))?;
    let (sl, h2, h3) = (cstr("sl"), cstr("h2"), cstr("h3"));
    let e = opcode::LinkAt::new(t.fd(), sl.as_ptr(), t.fd(), h2.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "link of a symlink");
    ensure!(fs::symlink_metadata(t.join("h2"))?.file_type().is_symlink(), "h2 is not the symlink");
    let e = opcode::LinkAt::new(t.fd(), sl.as_ptr(), t.fd(), h3.as_ptr()).flags(AtFlags::SYMLINK_FOLLOW).build();
    ensure!(run1(&mut ring, e)? == Ok(0), "link with AT_SYMLINK_FOLLOW");
    let m3 = fs::symlink_metadata(t.join("h3"))?;
    ensure!(m3.ino() == mf.ino() && m3.nlink() == 3, "h3 ino {} nlink {}", m3.ino(), m3.nlink());
    let missing = cstr("missing");
    let e = opcode::LinkAt::new(t.fd(), missing.as_ptr(), t.fd(), h.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::NOENT), "link of a missing file");
    let e = opcode::SymlinkAt::new(Fd(-4), target.as_ptr(), h.as_ptr()).build();
    ensure!(run1(&mut ring, e)? == Err(Errno::BADF), "symlink with a bad dirfd");
    Ok(())
}
