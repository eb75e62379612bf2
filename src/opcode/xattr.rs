//! Extended attributes: [`SetXattr`], [`GetXattr`], [`FSetXattr`],
//! [`FGetXattr`].
//!
//! `name` is a NUL-terminated attribute name with its namespace prefix
//! (`user.`, `trusted.`, `security.`, ...); values are raw bytes.

use core::ffi::c_void;

use rustix::io_uring::{c_char, XattrFlags};

use super::{entry, prep_rw, sqe};
use crate::squeue::Entry;
use crate::types::sealed::{Target, UseFixed};

/// Sets extended attribute `name` of an open file, like `fsetxattr(2)`
/// (`IORING_OP_FSETXATTR`, 5.19; no man page; kernel: `io_uring/xattr.c`).
#[derive(Debug)]
pub struct FSetXattr {
    fd: Target,
    name: *const c_char,
    value: *const c_void,
    len: u32,
    flags: XattrFlags,
}

impl FSetXattr {
    /// The opcode number, `IORING_OP_FSETXATTR`.
    pub const CODE: u8 = 41;

    /// Sets `name` of `fd` to `value[..len]`.
    #[inline]
    pub fn new(fd: impl UseFixed, name: *const c_char, value: *const c_void, len: u32) -> Self {
        FSetXattr { fd: fd.into_target(), name, value, len, flags: XattrFlags::empty() }
    }

    setters! {
        /// `XATTR_CREATE` (fail with EEXIST if it exists) or
        /// `XATTR_REPLACE` (fail with ENODATA if it does not) (default
        /// none: create or replace).
        flags: XattrFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = prep_rw(Self::CODE, self.fd, self.name as u64, self.len, self.value as u64);
        sqe.op_flags = self.flags.bits();
        entry(sqe)
    }
}

/// Sets extended attribute `name` of the file at `path`, like
/// `setxattr(2)` (`IORING_OP_SETXATTR`, 5.19; no man page; kernel:
/// `io_uring/xattr.c`).
///
/// Symbolic links in `path` are followed.
#[derive(Debug)]
pub struct SetXattr {
    name: *const c_char,
    value: *const c_void,
    path: *const c_char,
    len: u32,
    flags: XattrFlags,
}

impl SetXattr {
    /// The opcode number, `IORING_OP_SETXATTR`.
    pub const CODE: u8 = 42;

    /// Sets `name` of `path` to `value[..len]`.
    #[inline]
    pub fn new(name: *const c_char, value: *const c_void, path: *const c_char, len: u32) -> Self {
        SetXattr { name, value, path, len, flags: XattrFlags::empty() }
    }

    setters! {
        /// `XATTR_CREATE` or `XATTR_REPLACE`, as for
        /// [`FSetXattr::flags`] (default none).
        flags: XattrFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        sqe.addr = self.name as u64;
        sqe.off = self.value as u64;
        sqe.addr3 = self.path as u64;
        sqe.len = self.len;
        sqe.op_flags = self.flags.bits();
        entry(sqe)
    }
}

/// Reads extended attribute `name` of an open file into `value`, like
/// `fgetxattr(2)` (`IORING_OP_FGETXATTR`, 5.19; no man page; kernel:
/// `io_uring/xattr.c`).
///
/// The result is the value's size. With `len` 0 nothing is copied and the
/// result is the size a buffer needs; a buffer that is too small fails with
/// ERANGE, a missing attribute with ENODATA.
#[derive(Debug)]
pub struct FGetXattr {
    fd: Target,
    name: *const c_char,
    value: *mut c_void,
    len: u32,
}

impl FGetXattr {
    /// The opcode number, `IORING_OP_FGETXATTR`.
    pub const CODE: u8 = 43;

    /// Reads `name` of `fd` into `value[..len]`.
    #[inline]
    pub fn new(fd: impl UseFixed, name: *const c_char, value: *mut c_void, len: u32) -> Self {
        FGetXattr { fd: fd.into_target(), name, value, len }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        entry(prep_rw(Self::CODE, self.fd, self.name as u64, self.len, self.value as u64))
    }
}

/// Reads extended attribute `name` of the file at `path` into `value`,
/// like `getxattr(2)` (`IORING_OP_GETXATTR`, 5.19; no man page; kernel:
/// `io_uring/xattr.c`).
///
/// Results as for [`FGetXattr`]. Symbolic links in `path` are followed.
#[derive(Debug)]
pub struct GetXattr {
    name: *const c_char,
    value: *mut c_void,
    path: *const c_char,
    len: u32,
}

impl GetXattr {
    /// The opcode number, `IORING_OP_GETXATTR`.
    pub const CODE: u8 = 44;

    /// Reads `name` of `path` into `value[..len]`.
    #[inline]
    pub fn new(name: *const c_char, value: *mut c_void, path: *const c_char, len: u32) -> Self {
        GetXattr { name, value, path, len }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        sqe.addr = self.name as u64;
        sqe.off = self.value as u64;
        sqe.addr3 = self.path as u64;
        sqe.len = self.len;
        entry(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Sqe;
    use crate::types::{Fd, Fixed};

    const NAME: *const c_char = 0x1000 as *const c_char;
    const PATH: *const c_char = 0x3000 as *const c_char;

    #[test]
    fn fsetxattr_encodes_every_field() {
        let v = 0x2000 as *const c_void;
        let e = FSetXattr::new(Fd(6), NAME, v, 11).flags(XattrFlags::CREATE).build();
        let want = Sqe { opcode: 41, fd: 6, addr: 0x1000, off: 0x2000, len: 11, op_flags: 1, ..Sqe::default() };
        assert_eq!(e.0, want);
        let e = FSetXattr::new(Fixed(2), NAME, v, 11).build();
        assert_eq!(e.0, Sqe { flags: 1, fd: 2, op_flags: 0, ..want });
    }

    #[test]
    fn setxattr_encodes_every_field() {
        let v = 0x2000 as *const c_void;
        let e = SetXattr::new(NAME, v, PATH, 5).flags(XattrFlags::REPLACE).build();
        let want = Sqe { opcode: 42, addr: 0x1000, off: 0x2000, addr3: 0x3000, len: 5, op_flags: 2, ..Sqe::default() };
        assert_eq!(e.0, want);
        assert_eq!(SetXattr::new(NAME, v, PATH, 5).build().0, Sqe { op_flags: 0, ..want });
    }

    #[test]
    fn fgetxattr_encodes_every_field() {
        let v = 0x2000 as *mut c_void;
        let e = FGetXattr::new(Fd(6), NAME, v, 64).build();
        assert_eq!(e.0, Sqe { opcode: 43, fd: 6, addr: 0x1000, off: 0x2000, len: 64, ..Sqe::default() });
        let e = FGetXattr::new(Fixed(3), NAME, v, 0).build();
        assert_eq!(e.0, Sqe { opcode: 43, flags: 1, fd: 3, addr: 0x1000, off: 0x2000, ..Sqe::default() });
    }

    #[test]
    fn getxattr_encodes_every_field() {
        let v = 0x2000 as *mut c_void;
        let e = GetXattr::new(NAME, v, PATH, 64).build();
        let want = Sqe { opcode: 44, addr: 0x1000, off: 0x2000, addr3: 0x3000, len: 64, ..Sqe::default() };
        assert_eq!(e.0, want);
    }
}
