//! The file-system namespace: opening, closing, stat and directory entries:
//! [`OpenAt`], [`OpenAt2`], [`Close`], [`Statx`], [`RenameAt`],
//! [`UnlinkAt`], [`MkDirAt`], [`SymlinkAt`], [`LinkAt`].
//!
//! Paths are NUL-terminated C strings; the kernel copies them when it
//! prepares the request, but the caller keeps every pointer valid until the
//! completion arrives, as for any buffer.

use rustix::io_uring::{c_char, AtFlags, Mode, OFlags, RenameFlags, StatxFlags};

use super::{entry, sqe};
use crate::squeue::Entry;
use crate::types::sealed::{Target, UseFd, UseFixed};
use crate::types::{self, DestinationSlot, OpenHow};

/// Opens `pathname` relative to `dirfd`, like `openat(2)`
/// (`IORING_OP_OPENAT`, 5.6; `io_uring_prep_openat(3)`,
/// `io_uring_prep_openat_direct(3)`).
///
/// The result is the new fd. With `file_index` set the file goes into the
/// ring's registered-file table instead (a direct descriptor, 5.15) and the
/// result is 0, or the chosen slot for
/// [`DestinationSlot::auto_target`]; the kernel refuses `O_CLOEXEC` there
/// (EINVAL), since no fd table entry exists.
#[derive(Debug)]
pub struct OpenAt {
    dirfd: i32,
    pathname: *const c_char,
    file_index: Option<DestinationSlot>,
    flags: OFlags,
    mode: Mode,
}

impl OpenAt {
    /// The opcode number, `IORING_OP_OPENAT`.
    pub const CODE: u8 = 18;

    /// Opens `pathname`; a relative path is looked up from `dirfd`
    /// (`Fd(libc::AT_FDCWD)` for the working directory).
    #[inline]
    pub fn new(dirfd: impl UseFd, pathname: *const c_char) -> Self {
        OpenAt { dirfd: dirfd.into_raw(), pathname, file_index: None, flags: OFlags::empty(), mode: Mode::empty() }
    }

    setters! {
        /// Open into this registered-file slot instead of returning an fd
        /// (direct descriptors: 5.15; default `None`: a plain fd).
        file_index: Option<DestinationSlot>;
        /// `O_*` flags, as for `openat(2)` (default none: `O_RDONLY`).
        flags: OFlags;
        /// Permission bits of a created file, before the umask (default 0).
        mode: Mode;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, self.dirfd);
        sqe.addr = self.pathname as u64;
        sqe.len = self.mode.bits();
        sqe.op_flags = self.flags.bits();
        sqe.file_index = DestinationSlot::encode(self.file_index);
        entry(sqe)
    }
}

/// Opens `pathname` relative to `dirfd` as described by an [`OpenHow`],
/// like `openat2(2)` (`IORING_OP_OPENAT2`, 5.6; `io_uring_prep_openat2(3)`).
///
/// [`OpenHow::resolve`] restricts the path walk (`RESOLVE_BENEATH`,
/// `RESOLVE_NO_SYMLINKS`, ...). Results and `file_index` as for [`OpenAt`].
/// `how` must stay valid until the request has been submitted.
#[derive(Debug)]
pub struct OpenAt2 {
    dirfd: i32,
    pathname: *const c_char,
    how: *const OpenHow,
    file_index: Option<DestinationSlot>,
}

impl OpenAt2 {
    /// The opcode number, `IORING_OP_OPENAT2`.
    pub const CODE: u8 = 28;

    /// Opens `pathname` from `dirfd` the way `how` says.
    #[inline]
    pub fn new(dirfd: impl UseFd, pathname: *const c_char, how: *const OpenHow) -> Self {
        OpenAt2 { dirfd: dirfd.into_raw(), pathname, how, file_index: None }
    }

    setters! {
        /// Open into this registered-file slot instead of returning an fd
        /// (direct descriptors: 5.15; default `None`: a plain fd).
        file_index: Option<DestinationSlot>;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, self.dirfd);
        sqe.addr = self.pathname as u64;
        sqe.len = core::mem::size_of::<OpenHow>() as u32;
        sqe.off = self.how as u64;
        sqe.file_index = DestinationSlot::encode(self.file_index);
        entry(sqe)
    }
}

/// Closes a file descriptor, like `close(2)`, or empties a slot of the
/// registered-file table (`IORING_OP_CLOSE`, 5.6; `io_uring_prep_close(3)`,
/// `io_uring_prep_close_direct(3)`).
///
/// A slot (5.15) is named by `file_index` (slot + 1) with `fd` 0, not by
/// `IOSQE_FIXED_FILE`. `Fixed(u32::MAX)` has no such encoding; it is sent
/// as `fd` -1, which the kernel fails with EBADF.
#[derive(Debug)]
pub struct Close {
    fd: Target,
}

impl Close {
    /// The opcode number, `IORING_OP_CLOSE`.
    pub const CODE: u8 = 19;

    /// Closes `fd` (an [`Fd`](crate::types::Fd)) or empties the slot (a
    /// [`Fixed`](crate::types::Fixed)).
    #[inline]
    pub fn new(fd: impl UseFixed) -> Self {
        Close { fd: fd.into_target() }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        match self.fd {
            Target::Fd(fd) => sqe.fd = fd,
            Target::Fixed(slot) => match slot.checked_add(1) {
                Some(index) => sqe.file_index = index,
                None => sqe.fd = -1,
            },
        }
        entry(sqe)
    }
}

/// Gets file status into a `struct statx`, like `statx(2)`
/// (`IORING_OP_STATX`, 5.6; `io_uring_prep_statx(3)`).
///
/// With `AT_EMPTY_PATH` and an empty `pathname` it describes `dirfd`
/// itself. The kernel fills `statxbuf` when the request completes.
#[derive(Debug)]
pub struct Statx {
    dirfd: i32,
    pathname: *const c_char,
    statxbuf: *mut types::Statx,
    flags: AtFlags,
    mask: StatxFlags,
}

impl Statx {
    /// The opcode number, `IORING_OP_STATX`.
    pub const CODE: u8 = 21;

    /// Stats `pathname` (relative to `dirfd`) into `*statxbuf`.
    #[inline]
    pub fn new(dirfd: impl UseFd, pathname: *const c_char, statxbuf: *mut types::Statx) -> Self {
        Statx { dirfd: dirfd.into_raw(), pathname, statxbuf, flags: AtFlags::empty(), mask: StatxFlags::empty() }
    }

    setters! {
        /// `AT_*` flags: `AT_EMPTY_PATH`, `AT_SYMLINK_NOFOLLOW`,
        /// `AT_STATX_*` sync behaviour (default none).
        flags: AtFlags;
        /// The fields wanted, `STATX_*` (default none: the kernel still
        /// fills what it has cheaply; check `stx_mask`).
        mask: StatxFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, self.dirfd);
        sqe.addr = self.pathname as u64;
        sqe.len = self.mask.bits();
        sqe.off = self.statxbuf as u64;
        sqe.op_flags = self.flags.bits();
        entry(sqe)
    }
}

/// Renames `oldpath` (relative to `olddirfd`) to `newpath` (relative to
/// `newdirfd`), like `renameat2(2)` (`IORING_OP_RENAMEAT`, 5.11;
/// `io_uring_prep_renameat(3)`).
#[derive(Debug)]
pub struct RenameAt {
    olddirfd: i32,
    oldpath: *const c_char,
    newdirfd: i32,
    newpath: *const c_char,
    flags: RenameFlags,
}

impl RenameAt {
    /// The opcode number, `IORING_OP_RENAMEAT`.
    pub const CODE: u8 = 35;

    /// Renames `olddirfd`/`oldpath` to `newdirfd`/`newpath`.
    #[inline]
    pub fn new(olddirfd: impl UseFd, oldpath: *const c_char, newdirfd: impl UseFd, newpath: *const c_char) -> Self {
        RenameAt {
            olddirfd: olddirfd.into_raw(),
            oldpath,
            newdirfd: newdirfd.into_raw(),
            newpath,
            flags: RenameFlags::empty(),
        }
    }

    setters! {
        /// `RENAME_NOREPLACE`, `RENAME_EXCHANGE`, `RENAME_WHITEOUT`
        /// (default none: replace the target if it exists).
        flags: RenameFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, self.olddirfd);
        sqe.addr = self.oldpath as u64;
        sqe.len = self.newdirfd as u32;
        sqe.off = self.newpath as u64;
        sqe.op_flags = self.flags.bits();
        entry(sqe)
    }
}

/// Removes a directory entry, like `unlinkat(2)` (`IORING_OP_UNLINKAT`,
/// 5.11; `io_uring_prep_unlinkat(3)`).
#[derive(Debug)]
pub struct UnlinkAt {
    dirfd: i32,
    pathname: *const c_char,
    flags: AtFlags,
}

impl UnlinkAt {
    /// The opcode number, `IORING_OP_UNLINKAT`.
    pub const CODE: u8 = 36;

    /// Unlinks `pathname`, relative to `dirfd`.
    #[inline]
    pub fn new(dirfd: impl UseFd, pathname: *const c_char) -> Self {
        UnlinkAt { dirfd: dirfd.into_raw(), pathname, flags: AtFlags::empty() }
    }

    setters! {
        /// `AT_REMOVEDIR` removes an empty directory, like `rmdir(2)`
        /// (default none: a non-directory).
        flags: AtFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, self.dirfd);
        sqe.addr = self.pathname as u64;
        sqe.op_flags = self.flags.bits();
        entry(sqe)
    }
}

/// Creates a directory, like `mkdirat(2)` (`IORING_OP_MKDIRAT`, 5.15;
/// `io_uring_prep_mkdirat(3)`).
#[derive(Debug)]
pub struct MkDirAt {
    dirfd: i32,
    pathname: *const c_char,
    mode: Mode,
}

impl MkDirAt {
    /// The opcode number, `IORING_OP_MKDIRAT`.
    pub const CODE: u8 = 37;

    /// Creates directory `pathname`, relative to `dirfd`.
    #[inline]
    pub fn new(dirfd: impl UseFd, pathname: *const c_char) -> Self {
        MkDirAt { dirfd: dirfd.into_raw(), pathname, mode: Mode::empty() }
    }

    setters! {
        /// Permission bits, before the umask (default 0).
        mode: Mode;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, self.dirfd);
        sqe.addr = self.pathname as u64;
        sqe.len = self.mode.bits();
        entry(sqe)
    }
}

/// Creates a symbolic link `linkpath` (relative to `newdirfd`) holding
/// `target`, like `symlinkat(2)` (`IORING_OP_SYMLINKAT`, 5.15;
/// `io_uring_prep_symlinkat(3)`).
#[derive(Debug)]
pub struct SymlinkAt {
    newdirfd: i32,
    target: *const c_char,
    linkpath: *const c_char,
}

impl SymlinkAt {
    /// The opcode number, `IORING_OP_SYMLINKAT`.
    pub const CODE: u8 = 38;

    /// Creates `newdirfd`/`linkpath` pointing at `target` (stored as is,
    /// not resolved).
    #[inline]
    pub fn new(newdirfd: impl UseFd, target: *const c_char, linkpath: *const c_char) -> Self {
        SymlinkAt { newdirfd: newdirfd.into_raw(), target, linkpath }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, self.newdirfd);
        sqe.addr = self.target as u64;
        sqe.off = self.linkpath as u64;
        entry(sqe)
    }
}

/// Creates a hard link `newpath` (relative to `newdirfd`) to `oldpath`
/// (relative to `olddirfd`), like `linkat(2)` (`IORING_OP_LINKAT`, 5.15;
/// `io_uring_prep_linkat(3)`).
#[derive(Debug)]
pub struct LinkAt {
    olddirfd: i32,
    oldpath: *const c_char,
    newdirfd: i32,
    newpath: *const c_char,
    flags: AtFlags,
}

impl LinkAt {
    /// The opcode number, `IORING_OP_LINKAT`.
    pub const CODE: u8 = 39;

    /// Links `newdirfd`/`newpath` to the inode of `olddirfd`/`oldpath`.
    #[inline]
    pub fn new(olddirfd: impl UseFd, oldpath: *const c_char, newdirfd: impl UseFd, newpath: *const c_char) -> Self {
        LinkAt {
            olddirfd: olddirfd.into_raw(),
            oldpath,
            newdirfd: newdirfd.into_raw(),
            newpath,
            flags: AtFlags::empty(),
        }
    }

    setters! {
        /// `AT_SYMLINK_FOLLOW` (link the symlink's target, not the link),
        /// `AT_EMPTY_PATH` (default none).
        flags: AtFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, self.olddirfd);
        sqe.addr = self.oldpath as u64;
        sqe.len = self.newdirfd as u32;
        sqe.off = self.newpath as u64;
        sqe.op_flags = self.flags.bits();
        entry(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Sqe;
    use crate::types::{Fd, Fixed, ResolveFlags};

    const PATH: *const c_char = 0x1000 as *const c_char;
    const PATH2: *const c_char = 0x2000 as *const c_char;

    fn slot(n: u32) -> DestinationSlot {
        DestinationSlot::try_from_slot_target(n).unwrap()
    }

    #[test]
    fn openat_encodes_every_field() {
        let e = OpenAt::new(Fd(5), PATH)
            .file_index(Some(slot(3)))
            .flags(OFlags::CREATE | OFlags::RDWR)
            .mode(Mode::from_bits_retain(0o640))
            .build();
        let want = Sqe {
            opcode: 18,
            fd: 5,
            addr: 0x1000,
            len: 0o640,
            op_flags: (OFlags::CREATE | OFlags::RDWR).bits(),
            file_index: 4,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = OpenAt::new(Fd(-100), PATH).build();
        assert_eq!(e.0, Sqe { opcode: 18, fd: -100, addr: 0x1000, ..Sqe::default() });
        let e = OpenAt::new(Fd(1), PATH).file_index(Some(DestinationSlot::auto_target())).build();
        assert_eq!(e.0.file_index, u32::MAX);
    }

    #[test]
    fn openat2_points_at_the_open_how() {
        let how = OpenHow::new().flags(OFlags::RDONLY).resolve(ResolveFlags::BENEATH);
        let e = OpenAt2::new(Fd(6), PATH, &how).file_index(Some(slot(0))).build();
        let want = Sqe {
            opcode: 28,
            fd: 6,
            addr: 0x1000,
            len: 24,
            off: &how as *const OpenHow as u64,
            file_index: 1,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = OpenAt2::new(Fd(6), PATH, &how).build();
        assert_eq!(e.0, Sqe { file_index: 0, ..want });
    }

    #[test]
    fn close_of_a_slot_uses_file_index_without_fixed_file() {
        assert_eq!(Close::new(Fd(9)).build().0, Sqe { opcode: 19, fd: 9, ..Sqe::default() });
        assert_eq!(Close::new(Fixed(0)).build().0, Sqe { opcode: 19, fd: 0, file_index: 1, ..Sqe::default() });
        assert_eq!(Close::new(Fixed(41)).build().0, Sqe { opcode: 19, fd: 0, file_index: 42, ..Sqe::default() });
        // No slot+1 encoding exists: an fd that cannot be open, never fd 0.
        assert_eq!(Close::new(Fixed(u32::MAX)).build().0, Sqe { opcode: 19, fd: -1, ..Sqe::default() });
    }

    #[test]
    fn statx_encodes_every_field() {
        let mut buf = core::mem::MaybeUninit::<types::Statx>::uninit();
        let e = Statx::new(Fd(3), PATH, buf.as_mut_ptr())
            .flags(AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW)
            .mask(StatxFlags::BASIC_STATS)
            .build();
        let want = Sqe {
            opcode: 21,
            fd: 3,
            addr: 0x1000,
            len: StatxFlags::BASIC_STATS.bits(),
            off: buf.as_ptr() as u64,
            op_flags: (AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW).bits(),
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = Statx::new(Fd(3), PATH, buf.as_mut_ptr()).build();
        assert_eq!(e.0, Sqe { len: 0, op_flags: 0, ..want });
    }

    #[test]
    fn renameat_encodes_every_field() {
        let e = RenameAt::new(Fd(3), PATH, Fd(4), PATH2).flags(RenameFlags::NOREPLACE).build();
        let want = Sqe {
            opcode: 35,
            fd: 3,
            addr: 0x1000,
            len: 4,
            off: 0x2000,
            op_flags: RenameFlags::NOREPLACE.bits(),
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = RenameAt::new(Fd(-100), PATH, Fd(-100), PATH2).build();
        assert_eq!(e.0, Sqe { fd: -100, len: -100i32 as u32, op_flags: 0, ..want });
    }

    #[test]
    fn unlinkat_encodes_every_field() {
        let e = UnlinkAt::new(Fd(3), PATH).flags(AtFlags::REMOVEDIR).build();
        let want = Sqe { opcode: 36, fd: 3, addr: 0x1000, op_flags: AtFlags::REMOVEDIR.bits(), ..Sqe::default() };
        assert_eq!(e.0, want);
        assert_eq!(UnlinkAt::new(Fd(3), PATH).build().0, Sqe { op_flags: 0, ..want });
    }

    #[test]
    fn mkdirat_encodes_every_field() {
        let e = MkDirAt::new(Fd(3), PATH).mode(Mode::from_bits_retain(0o755)).build();
        let want = Sqe { opcode: 37, fd: 3, addr: 0x1000, len: 0o755, ..Sqe::default() };
        assert_eq!(e.0, want);
        assert_eq!(MkDirAt::new(Fd(3), PATH).build().0, Sqe { len: 0, ..want });
    }

    #[test]
    fn symlinkat_encodes_every_field() {
        let e = SymlinkAt::new(Fd(8), PATH, PATH2).build();
        assert_eq!(e.0, Sqe { opcode: 38, fd: 8, addr: 0x1000, off: 0x2000, ..Sqe::default() });
    }

    #[test]
    fn linkat_encodes_every_field() {
        let e = LinkAt::new(Fd(3), PATH, Fd(4), PATH2).flags(AtFlags::SYMLINK_FOLLOW).build();
        let want = Sqe {
            opcode: 39,
            fd: 3,
            addr: 0x1000,
            len: 4,
            off: 0x2000,
            op_flags: AtFlags::SYMLINK_FOLLOW.bits(),
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        assert_eq!(LinkAt::new(Fd(3), PATH, Fd(4), PATH2).build().0, Sqe { op_flags: 0, ..want });
    }
}
