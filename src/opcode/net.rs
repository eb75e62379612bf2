//! Socket setup: [`Socket`], [`Bind`], [`Listen`], [`Connect`], [`Accept`],
//! [`AcceptMulti`], [`Shutdown`].

use rustix::io_uring::{SocketAddrLen, SocketAddrOpaque, SocketFlags};

use super::{entry, set_target, sqe};
use crate::squeue::Entry;
use crate::sys;
use crate::types::sealed::{Target, UseFixed};
use crate::types::{DestinationSlot, RwFlags};

/// The accept `ioprio` bits chosen by the `dontwait` and `poll_first`
/// setters of [`Accept`] and [`AcceptMulti`].
#[inline]
const fn accept_ioprio(dontwait: bool, poll_first: bool) -> u16 {
    let mut ioprio = 0;
    if dontwait {
        ioprio |= sys::ACCEPT_DONTWAIT;
    }
    if poll_first {
        ioprio |= sys::ACCEPT_POLL_FIRST;
    }
    ioprio
}

/// Creates a socket, like `socket(2)`
/// (`IORING_OP_SOCKET`, 5.19; `io_uring_prep_socket(3)`).
///
/// The result is the new fd, or, with `file_index`, the socket becomes a
/// direct descriptor in the registered-file table (result 0, or the chosen
/// slot for [`DestinationSlot::auto_target`]).
#[derive(Debug)]
pub struct Socket {
    domain: i32,
    socket_type: i32,
    protocol: i32,
    file_index: Option<DestinationSlot>,
    flags: RwFlags,
}

impl Socket {
    /// The opcode number, `IORING_OP_SOCKET`.
    pub const CODE: u8 = 45;

    /// A socket of `domain` (`AF_*`), `socket_type` (`SOCK_*`, which may
    /// include `SOCK_NONBLOCK`/`SOCK_CLOEXEC`) and `protocol`.
    #[inline]
    pub fn new(domain: i32, socket_type: i32, protocol: i32) -> Self {
        Socket { domain, socket_type, protocol, file_index: None, flags: RwFlags::empty() }
    }

    setters! {
        /// Install the socket in this registered-file slot instead of
        /// returning an fd (default `None`: a plain fd).
        file_index: Option<DestinationSlot>;
        /// The SQE's `rw_flags` word (default none). Kept for source
        /// compatibility only: Linux (checked on 6.18) rejects any non-zero
        /// value with `EINVAL`. Socket options belong in `socket_type`.
        flags: RwFlags;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, self.domain);
        sqe.off = self.socket_type as u32 as u64;
        sqe.len = self.protocol as u32;
        sqe.op_flags = self.flags.bits();
        sqe.file_index = DestinationSlot::encode(self.file_index);
        entry(sqe)
    }
}

/// Binds a socket to an address, like `bind(2)`
/// (`IORING_OP_BIND`, 6.11; no man page; kernel: `io_uring/net.c`).
#[derive(Debug)]
pub struct Bind {
    fd: Target,
    addr: *const SocketAddrOpaque,
    addrlen: SocketAddrLen,
}

impl Bind {
    /// The opcode number, `IORING_OP_BIND`.
    pub const CODE: u8 = 56;

    /// Binds `fd` to the `addrlen`-byte socket address at `addr`.
    #[inline]
    pub fn new(fd: impl UseFixed, addr: *const SocketAddrOpaque, addrlen: SocketAddrLen) -> Self {
        Bind { fd: fd.into_target(), addr, addrlen }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        set_target(&mut sqe, self.fd);
        sqe.addr = self.addr as u64;
        sqe.off = self.addrlen as u64;
        entry(sqe)
    }
}

/// Marks a socket as accepting connections, like `listen(2)`
/// (`IORING_OP_LISTEN`, 6.11; no man page; kernel: `io_uring/net.c`).
#[derive(Debug)]
pub struct Listen {
    fd: Target,
    backlog: i32,
}

impl Listen {
    /// The opcode number, `IORING_OP_LISTEN`.
    pub const CODE: u8 = 57;

    /// Listens on `fd` with a queue of up to `backlog` pending connections.
    #[inline]
    pub fn new(fd: impl UseFixed, backlog: i32) -> Self {
        Listen { fd: fd.into_target(), backlog }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        set_target(&mut sqe, self.fd);
        sqe.len = self.backlog as u32;
        entry(sqe)
    }
}

/// Connects a socket to an address, like `connect(2)`
/// (`IORING_OP_CONNECT`, 5.5; `io_uring_prep_connect(3)`).
#[derive(Debug)]
pub struct Connect {
    fd: Target,
    addr: *const SocketAddrOpaque,
    addrlen: SocketAddrLen,
}

impl Connect {
    /// The opcode number, `IORING_OP_CONNECT`.
    pub const CODE: u8 = 16;

    /// Connects `fd` to the `addrlen`-byte socket address at `addr`.
    #[inline]
    pub fn new(fd: impl UseFixed, addr: *const SocketAddrOpaque, addrlen: SocketAddrLen) -> Self {
        Connect { fd: fd.into_target(), addr, addrlen }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        set_target(&mut sqe, self.fd);
        sqe.addr = self.addr as u64;
        sqe.off = self.addrlen as u64;
        entry(sqe)
    }
}

/// Accepts one connection on a listening socket, like `accept4(2)`
/// (`IORING_OP_ACCEPT`, 5.5; `io_uring_prep_accept(3)`).
///
/// The result is the new fd, or, with `file_index`, the connection becomes
/// a direct descriptor (result 0, or the chosen slot for
/// [`DestinationSlot::auto_target`]). If `addr` is not null the peer
/// address is written there and `*addrlen` (in: buffer size) becomes its
/// length.
#[derive(Debug)]
pub struct Accept {
    fd: Target,
    addr: *mut SocketAddrOpaque,
    addrlen: *mut SocketAddrLen,
    file_index: Option<DestinationSlot>,
    flags: SocketFlags,
    dontwait: bool,
    poll_first: bool,
}

impl Accept {
    /// The opcode number, `IORING_OP_ACCEPT`.
    pub const CODE: u8 = 13;

    /// Accepts on `fd`; `addr`/`addrlen` receive the peer address (both
    /// may be null).
    #[inline]
    pub fn new(fd: impl UseFixed, addr: *mut SocketAddrOpaque, addrlen: *mut SocketAddrLen) -> Self {
        Accept {
            fd: fd.into_target(),
            addr,
            addrlen,
            file_index: None,
            flags: SocketFlags::empty(),
            dontwait: false,
            poll_first: false,
        }
    }

    setters! {
        /// Install the connection in this registered-file slot instead of
        /// returning an fd (direct descriptors: 5.15; default `None`: a plain
        /// fd).
        file_index: Option<DestinationSlot>;
        /// `SOCK_NONBLOCK` / `SOCK_CLOEXEC` for the new socket, as for
        /// `accept4(2)` (default none).
        flags: SocketFlags;
        /// `IORING_ACCEPT_DONTWAIT` (6.10): complete with `EAGAIN` right
        /// away when no connection is pending, instead of waiting for one
        /// (default `false`).
        dontwait: bool;
        /// `IORING_ACCEPT_POLL_FIRST` (6.10): skip the first accept attempt
        /// and wait for the socket to become readable, for listeners that
        /// are expected to be idle (default `false`).
        poll_first: bool;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        set_target(&mut sqe, self.fd);
        sqe.addr = self.addr as u64;
        sqe.off = self.addrlen as u64;
        sqe.op_flags = self.flags.bits();
        sqe.file_index = DestinationSlot::encode(self.file_index);
        sqe.ioprio = accept_ioprio(self.dontwait, self.poll_first);
        entry(sqe)
    }
}

/// Accepts connections on a listening socket until cancelled or failed,
/// one completion per connection
/// (`IORING_OP_ACCEPT` with `IORING_ACCEPT_MULTISHOT`, 5.19;
/// `io_uring_prep_multishot_accept(3)`).
///
/// Each completion carries `F_MORE` while more will follow; the last one
/// (an error, e.g. `EINVAL` once the listener is shut down, or
/// `ECANCELED`) does not. Peer addresses are not collected.
#[derive(Debug)]
pub struct AcceptMulti {
    fd: Target,
    allocate_file_index: bool,
    flags: SocketFlags,
    dontwait: bool,
    poll_first: bool,
}

impl AcceptMulti {
    /// The opcode number, `IORING_OP_ACCEPT`.
    pub const CODE: u8 = 13;

    /// Accepts on `fd` repeatedly.
    #[inline]
    pub fn new(fd: impl UseFixed) -> Self {
        AcceptMulti {
            fd: fd.into_target(),
            allocate_file_index: false,
            flags: SocketFlags::empty(),
            dontwait: false,
            poll_first: false,
        }
    }

    setters! {
        /// Install each connection in a free registered-file slot the
        /// kernel picks and report the slot as the result, instead of
        /// returning fds (default `false`).
        allocate_file_index: bool;
        /// `SOCK_NONBLOCK` / `SOCK_CLOEXEC` for the new sockets (default none).
        flags: SocketFlags;
        /// `IORING_ACCEPT_DONTWAIT` (6.10): end with `EAGAIN` once no
        /// connection is pending instead of waiting for more (default `false`).
        dontwait: bool;
        /// `IORING_ACCEPT_POLL_FIRST` (6.10): wait for readiness before the
        /// first accept attempt (default `false`).
        poll_first: bool;
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        set_target(&mut sqe, self.fd);
        sqe.op_flags = self.flags.bits();
        sqe.ioprio = sys::ACCEPT_MULTISHOT | accept_ioprio(self.dontwait, self.poll_first);
        if self.allocate_file_index {
            sqe.file_index = sys::FILE_INDEX_ALLOC;
        }
        entry(sqe)
    }
}

/// Shuts down part of a full-duplex connection, like `shutdown(2)`
/// (`IORING_OP_SHUTDOWN`, 5.11; `io_uring_prep_shutdown(3)`).
#[derive(Debug)]
pub struct Shutdown {
    fd: Target,
    how: i32,
}

impl Shutdown {
    /// The opcode number, `IORING_OP_SHUTDOWN`.
    pub const CODE: u8 = 34;

    /// Shuts down `fd` in direction `how` (`SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`).
    #[inline]
    pub fn new(fd: impl UseFixed, how: i32) -> Self {
        Shutdown { fd: fd.into_target(), how }
    }

    /// The submission entry.
    #[inline]
    pub fn build(self) -> Entry {
        let mut sqe = sqe(Self::CODE, 0);
        set_target(&mut sqe, self.fd);
        sqe.len = self.how as u32;
        entry(sqe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Sqe;
    use crate::types::{Fd, Fixed};

    #[test]
    fn socket_encodes_every_field() {
        let slot = DestinationSlot::try_from_slot_target(4).unwrap();
        let e = Socket::new(10, 2 | 0o4000, 17).file_index(Some(slot)).flags(RwFlags::NOWAIT).build();
        let want = Sqe {
            opcode: 45,
            fd: 10,
            off: (2 | 0o4000) as u64,
            len: 17,
            op_flags: RwFlags::NOWAIT.bits(),
            file_index: 5,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = Socket::new(2, 1, 0).build();
        assert_eq!(e.0, Sqe { opcode: 45, fd: 2, off: 1, ..Sqe::default() });
        let e = Socket::new(2, 1, 0).file_index(Some(DestinationSlot::auto_target())).build();
        assert_eq!(e.0, Sqe { opcode: 45, fd: 2, off: 1, file_index: u32::MAX, ..Sqe::default() });
    }

    #[test]
    fn bind_and_connect_encode_address_and_length() {
        let addr = [0u8; 16];
        let p = addr.as_ptr().cast::<SocketAddrOpaque>();
        let e = Bind::new(Fd(5), p, 16).build();
        assert_eq!(e.0, Sqe { opcode: 56, fd: 5, addr: p as u64, off: 16, ..Sqe::default() });
        let e = Connect::new(Fixed(2), p, 28).build();
        assert_eq!(e.0, Sqe { opcode: 16, flags: 1, fd: 2, addr: p as u64, off: 28, ..Sqe::default() });
    }

    #[test]
    fn listen_and_shutdown_put_their_argument_in_len() {
        let e = Listen::new(Fd(3), 128).build();
        assert_eq!(e.0, Sqe { opcode: 57, fd: 3, len: 128, ..Sqe::default() });
        let e = Listen::new(Fixed(1), -1).build();
        assert_eq!(e.0, Sqe { opcode: 57, flags: 1, fd: 1, len: u32::MAX, ..Sqe::default() });
        let e = Shutdown::new(Fd(9), 1).build();
        assert_eq!(e.0, Sqe { opcode: 34, fd: 9, len: 1, ..Sqe::default() });
    }

    #[test]
    fn accept_encodes_every_field() {
        let mut addr = [0u8; 128];
        let mut len: SocketAddrLen = 128;
        let a = addr.as_mut_ptr().cast::<SocketAddrOpaque>();
        let l: *mut SocketAddrLen = &mut len;
        let slot = DestinationSlot::try_from_slot_target(0).unwrap();
        let e = Accept::new(Fixed(6), a, l)
            .file_index(Some(slot))
            .flags(SocketFlags::NONBLOCK | SocketFlags::CLOEXEC)
            .dontwait(true)
            .poll_first(true)
            .build();
        let want = Sqe {
            opcode: 13,
            flags: 1,
            ioprio: 2 | 4,
            fd: 6,
            addr: a as u64,
            off: l as u64,
            op_flags: (SocketFlags::NONBLOCK | SocketFlags::CLOEXEC).bits(),
            file_index: 1,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = Accept::new(Fd(4), core::ptr::null_mut(), core::ptr::null_mut()).build();
        assert_eq!(e.0, Sqe { opcode: 13, fd: 4, ..Sqe::default() });
        let e = Accept::new(Fd(4), core::ptr::null_mut(), core::ptr::null_mut()).dontwait(true).build();
        assert_eq!(e.0, Sqe { opcode: 13, fd: 4, ioprio: 2, ..Sqe::default() });
    }

    #[test]
    fn accept_multi_encodes_every_field() {
        let e = AcceptMulti::new(Fd(8)).build();
        assert_eq!(e.0, Sqe { opcode: 13, fd: 8, ioprio: 1, ..Sqe::default() });
        let e = AcceptMulti::new(Fixed(3))
            .allocate_file_index(true)
            .flags(SocketFlags::CLOEXEC)
            .dontwait(true)
            .poll_first(true)
            .build();
        let want = Sqe {
            opcode: 13,
            flags: 1,
            ioprio: 1 | 2 | 4,
            fd: 3,
            op_flags: SocketFlags::CLOEXEC.bits(),
            file_index: u32::MAX,
            ..Sqe::default()
        };
        assert_eq!(e.0, want);
        let e = AcceptMulti::new(Fd(8)).poll_first(true).build();
        assert_eq!(e.0, Sqe { opcode: 13, fd: 8, ioprio: 1 | 4, ..Sqe::default() });
    }
}
