//! The owned layer on the kernel: each owned operation, checked by what
//! the kernel did; abandon and teardown for each lifecycle; a stress run.

use std::ffi::CString;
use std::io::{Read as _, Seek, SeekFrom, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, ensure, Context as _};
use urix::owned::{self, Driver, IoBuf, IoBufMut, Operation, SlotStore, Slots, Ticket};
use urix::types::{AtFlags, Mode, OFlags, StatxFlags, Timespec};
use urix::{cqueue, opcode, squeue, Errno};

use crate::harness::{Ctx, Req, Test};
use crate::util::{kernel_version, pipe, tcp_pair, tempfile, Rng};
use crate::{skip, test_once};

const NOP: Req = Req::Op(opcode::Nop::CODE, "NOP");
const READ: Req = Req::Op(opcode::Read::CODE, "READ");
const WRITE: Req = Req::Op(opcode::Write::CODE, "WRITE");
const READV: Req = Req::Op(opcode::Readv::CODE, "READV");
const WRITEV: Req = Req::Op(opcode::Writev::CODE, "WRITEV");
const RECV: Req = Req::Op(opcode::Recv::CODE, "RECV");
const SEND: Req = Req::Op(opcode::Send::CODE, "SEND");
const SEND_ZC: Req = Req::Op(opcode::SendZc::CODE, "SEND_ZC");
const ACCEPT: Req = Req::Op(opcode::Accept::CODE, "ACCEPT");
const CONNECT: Req = Req::Op(opcode::Connect::CODE, "CONNECT");
const SOCKET: Req = Req::Op(opcode::Socket::CODE, "SOCKET");
const SHUTDOWN: Req = Req::Op(opcode::Shutdown::CODE, "SHUTDOWN");
const TIMEOUT: Req = Req::Op(opcode::Timeout::CODE, "TIMEOUT");
const LINK_TIMEOUT: Req = Req::Op(opcode::LinkTimeout::CODE, "LINK_TIMEOUT");
const POLL_ADD: Req = Req::Op(opcode::PollAdd::CODE, "POLL_ADD");
const OPENAT: Req = Req::Op(opcode::OpenAt::CODE, "OPENAT");
const CLOSE: Req = Req::Op(opcode::Close::CODE, "CLOSE");
const STATX: Req = Req::Op(opcode::Statx::CODE, "STATX");
const FSYNC: Req = Req::Op(opcode::Fsync::CODE, "FSYNC");
const FALLOCATE: Req = Req::Op(opcode::Fallocate::CODE, "FALLOCATE");
const SPLICE: Req = Req::Op(opcode::Splice::CODE, "SPLICE");
const CANCEL: Req = Req::Op(opcode::AsyncCancel::CODE, "ASYNC_CANCEL");
const READ_FIXED: Req = Req::Op(opcode::ReadFixed::CODE, "READ_FIXED");
const WRITE_FIXED: Req = Req::Op(opcode::WriteFixed::CODE, "WRITE_FIXED");

/// A test of [`Flavoured`] on every ring flavour (as `test!` for a free
/// function).
macro_rules! flavoured {
    ($f:ident, requires = [$($req:expr),* $(,)?]) => {
        Test {
            name: stringify!($f),
            requires: &[$($req),*],
            once: false,
            run: [
                Flavoured::<squeue::Entry, cqueue::Entry>::$f,
                Flavoured::<squeue::Entry128, cqueue::Entry>::$f,
                Flavoured::<squeue::Entry, cqueue::Entry32>::$f,
                Flavoured::<squeue::Entry128, cqueue::Entry32>::$f,
            ],
        }
    };
}

pub fn tests() -> Vec<Test> {
    vec![
        flavoured!(owned_nop_injected_result, requires = [NOP]),
        flavoured!(owned_write_then_read_file, requires = [WRITE, READ]),
        flavoured!(owned_writev_readv_file, requires = [WRITEV, READV]),
        flavoured!(owned_chain_of_four_in_order, requires = [WRITE, FSYNC, READ, NOP]),
        flavoured!(owned_send_recv_tcp, requires = [SEND, RECV]),
        flavoured!(owned_send_zc_tcp, requires = [SEND_ZC]),
        flavoured!(owned_accept_gives_owned_fd, requires = [ACCEPT]),
        flavoured!(owned_accept_multi, requires = [ACCEPT, CANCEL]),
        flavoured!(owned_socket_connect_shutdown, requires = [SOCKET, CONNECT, SHUTDOWN, ACCEPT]),
        flavoured!(owned_openat_statx_close, requires = [OPENAT, STATX, CLOSE, WRITE]),
        flavoured!(owned_fallocate_fsync, requires = [FALLOCATE, FSYNC]),
        flavoured!(owned_splice_pipe_to_file, requires = [SPLICE]),
        flavoured!(owned_timeout_fires, requires = [TIMEOUT]),
        flavoured!(owned_link_timeout_cancels_read, requires = [READ, LINK_TIMEOUT]),
        flavoured!(owned_poll_add_and_multi, requires = [POLL_ADD, CANCEL]),
        flavoured!(owned_async_cancel_op, requires = [READ, CANCEL]),
        flavoured!(owned_recv_multi_stream, requires = [RECV]),
        flavoured!(owned_recv_multi_reader_behind_loses_nothing, requires = [RECV]),
        flavoured!(owned_fixed_files_typed_to_driver, requires = [READ]),
        flavoured!(owned_fixed_buffers, requires = [READ_FIXED, WRITE_FIXED]),
        flavoured!(owned_send_recv_fixed_buffers, requires = [SEND, RECV]),
        flavoured!(owned_send_zc_fixed_buffer, requires = [SEND_ZC]),
        flavoured!(owned_send_received_echo, requires = [SEND, RECV, CANCEL]),
        flavoured!(owned_send_received_holds_its_buffer, requires = [SEND, RECV, CANCEL]),
        flavoured!(owned_received_outliving_its_driver, requires = [SEND, RECV, CANCEL]),
        flavoured!(owned_timeout_immediate, requires = [TIMEOUT, NOP, READ, LINK_TIMEOUT]),
        flavoured!(owned_accept_into_fixed_slot, requires = [ACCEPT, SEND, CLOSE]),
        flavoured!(owned_unclaimed_fixed_slots_are_emptied, requires = [ACCEPT, SEND, CLOSE, CANCEL]),
        flavoured!(owned_full_table_and_sq_give_op_back, requires = [NOP]),
        flavoured!(owned_foreign_completions_touch_nothing, requires = [NOP]),
        flavoured!(owned_abandon_pipe_read, requires = [READ, CANCEL]),
        flavoured!(owned_cancel_deferred_when_sq_full, requires = [READ, CANCEL]),
        flavoured!(owned_abandoned_close_never_closes_twice, requires = [CLOSE]),
        flavoured!(owned_poll_wakes_the_waker, requires = [READ]),
        flavoured!(owned_abandon_accept_closes_late_fd, requires = [ACCEPT]),
        flavoured!(owned_abandon_recv_multi_mid_stream, requires = [RECV, CANCEL]),
        flavoured!(owned_abandon_send_zc_before_notif, requires = [SEND_ZC]),
        flavoured!(owned_abandon_timeout, requires = [TIMEOUT, CANCEL]),
        flavoured!(owned_abandon_linked_chain, requires = [READ, LINK_TIMEOUT, CANCEL]),
        flavoured!(
            owned_teardown_with_each_lifecycle_in_flight,
            requires = [READ, RECV, TIMEOUT, LINK_TIMEOUT, CANCEL]
        ),
        flavoured!(owned_teardown_with_cq_overflow, requires = [NOP]),
        test_once!(owned_teardown_leaks_what_does_not_end, requires = [READ]),
        test_once!(stress_owned_million_ops_tenth_abandoned, requires = [NOP, CANCEL]),
    ]
}

/// A driver with heap slots over a ring of the test's flavour.
type D<S, C> = Driver<16, 320, S, C>;

/// What the tests do with any driver.
trait Steps {
    /// Pushes, submits and blocks for the output.
    fn run<T: Operation>(&mut self, op: T) -> anyhow::Result<T::Output>;
    /// Reaps (waiting for completions) until no slot is in use.
    fn drain(&mut self) -> anyhow::Result<()>;
    /// `count` heap buffers of 64 bytes in the driver's ring; skips before
    /// 6.4 (kernel-mapped buffer rings).
    fn give_buffers(&mut self, count: u16) -> anyhow::Result<()>;
    /// Cancels a multishot receive, recycles what it still had, and
    /// returns its socket.
    fn stop_recv<F: owned::Target>(&mut self, t: Ticket<owned::RecvMulti<F>>) -> anyhow::Result<F>;
}

impl<const N: usize, const B: usize, S, C, const Q: usize> Steps for Driver<N, B, S, C, Q>
where
    S: squeue::EntryMarker + From<squeue::Entry>,
    C: cqueue::EntryMarker,
    cqueue::Entry: From<C>,
{
    fn run<T: Operation>(&mut self, op: T) -> anyhow::Result<T::Output> {
        let t = self.push(op).map_err(|r| anyhow::anyhow!("refused: {}", r.errno()))?;
        Ok(self.wait(t)?)
    }

    fn drain(&mut self) -> anyhow::Result<()> {
        self.reap();
        while self.in_use() > 0 {
            self.submit_and_wait(1)?;
            self.reap();
        }
        Ok(())
    }

    fn give_buffers(&mut self, count: u16) -> anyhow::Result<()> {
        match self.provide_buffers_boxed(count, 64) {
            Ok(_) => Ok(()),
            Err(Errno::INVAL) if kernel_version() < (6, 4) => skip!("mapped buffer rings need 6.4"),
            Err(e) => Err(e.into()),
        }
    }

    fn stop_recv<F: owned::Target>(&mut self, t: Ticket<owned::RecvMulti<F>>) -> anyhow::Result<F> {
        self.cancel(&t);
        while let Some(item) = self.wait_next(&t)? {
            if let Ok(Some(r)) = item {
                self.recycle(r);
            }
        }
        Ok(self.wait(t)?)
    }
}

/// A buffer that counts its drops (to see when the layer lets go).
struct Tracked {
    v: Vec<u8>,
    drops: Arc<AtomicUsize>,
}

impl Tracked {
    fn new(len: usize) -> (Tracked, Arc<AtomicUsize>) {
        let drops = Arc::new(AtomicUsize::new(0));
        (Tracked { v: vec![0; len], drops: drops.clone() }, drops)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: the bytes are a Vec's heap block, which moving `Tracked` does
// not move, and which a leaked `Tracked` never frees.
unsafe impl IoBuf for Tracked {
    fn stable_ptr(&self) -> *const u8 {
        self.v.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.v.len()
    }
    fn bytes_total(&self) -> usize {
        self.v.len()
    }
}

// SAFETY: as above; all bytes are initialised.
unsafe impl IoBufMut for Tracked {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.v.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, _: usize) {}
}

/// `'static` memory for a test, as a program would get from a `static`
/// or a leak: leaked, but kept reachable from a global so that
/// LeakSanitizer (`.ci/asan`) does not report it.
fn kept_static(len: usize) -> &'static mut [u8] {
    static KEPT: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());
    let mem = Box::leak(vec![0u8; len].into_boxed_slice());
    KEPT.lock().unwrap_or_else(|e| e.into_inner()).push(mem.as_ptr() as usize);
    mem
}

/// Fills a socket's send side (and the peer's receive side) without
/// blocking; returns the bytes queued.
fn fill_send_buffer(fd: i32) -> anyhow::Result<usize> {
    let junk = [0xeeu8; 65536];
    let mut filled = 0;
    loop {
        // SAFETY: `junk` is valid for its length; MSG_DONTWAIT never blocks.
        let n = unsafe { libc::send(fd, junk.as_ptr().cast(), junk.len(), libc::MSG_DONTWAIT) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EAGAIN) {
                return Ok(filled);
            }
            return Err(e.into());
        }
        filled += n as usize;
    }
}

fn fd_is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD only reads the descriptor table.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

// ---------------------------------------------------------------------

/// The tests that run on every ring flavour: methods of one type, so that
/// the bounds on the entry types are written once.
struct Flavoured<S, C>(std::marker::PhantomData<(S, C)>);

impl<S, C> Flavoured<S, C>
where
    S: squeue::EntryMarker + From<squeue::Entry>,
    C: cqueue::EntryMarker,
    cqueue::Entry: From<C>,
{
    /// A driver with heap slots over a ring of the test's flavour.
    fn driver(ctx: &Ctx) -> anyhow::Result<D<S, C>> {
        Ok(Driver::with_slots(ctx.ring::<S, C>(16)?, Slots::boxed()))
    }

    fn owned_nop_injected_result(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        ensure!(d.run(owned::Nop::new())? == Ok(0));
        if kernel_version() >= (6, 14) {
            ensure!(d.run(owned::Nop::new().result(42))? == Ok(42));
            ensure!(d.run(owned::Nop::new().result(-libc::EPERM))? == Err(Errno::PERM));
        }
        ensure!(d.in_use() == 0);
        Ok(())
    }

    fn owned_write_then_read_file(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let file = Arc::new(tempfile()?);
        let w = d.run(owned::Write::new(file.clone(), b"owned bytes".to_vec()).at(3))?;
        ensure!(w.result == Ok(11), "write: {:?}", w.result);
        let mut on_disk = Vec::new();
        (&*file).seek(SeekFrom::Start(0))?;
        (&*file).read_to_end(&mut on_disk)?;
        ensure!(on_disk == b"\0\0\0owned bytes", "on disk: {on_disk:?}");
        // A read fills a Vec's capacity from its start, and sets its length.
        let r = d.run(owned::Read::new(file.clone(), Vec::with_capacity(64)).at(3))?;
        ensure!(r.result == Ok(11) && r.buf == b"owned bytes", "read {:?} {:?}", r.result, r.buf);
        // A static buffer too.
        let buf: &'static mut [u8] = kept_static(5);
        let r = d.run(owned::Read::new(file, buf).at(9))?;
        ensure!(r.result == Ok(5) && &r.buf[..] == b"bytes");
        Ok(())
    }

    /// A chain longer than two links (`push_chain`): write, fsync, read the
    /// bytes back, then a NOP, each started only after the one before
    /// succeeded; then a chain whose first link fails: the rest are cancelled
    /// and never run (the file is unchanged).
    fn owned_chain_of_four_in_order(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let file = Arc::new(tempfile()?);
        let chain = (
            owned::Write::new(file.clone(), b"chained".to_vec()).at(0),
            owned::Fsync::new(file.clone()),
            // Exactly the length written: a short read fails its link.
            owned::Read::new(file.clone(), kept_static(7)).at(0),
            owned::Nop::new(),
        );
        let (w, f, r, n) = d.push_chain(chain).map_err(|(_, e)| e)?;
        ensure!(d.in_use() == 4);
        let (w, f, r, n) = (d.wait(w)?, d.wait(f)?, d.wait(r)?, d.wait(n)?);
        ensure!(w.result == Ok(7) && f.result.is_ok() && n == Ok(0), "{:?} {:?} {n:?}", w.result, f.result);
        // The read ran after the write (a link, not a race): it saw its bytes.
        ensure!(r.result == Ok(7) && &r.buf[..] == b"chained", "read {:?} {:?}", r.result, r.buf);

        // A failing first link: a write to a read-only descriptor.
        let (rx, _tx) = pipe()?;
        let rx = Arc::new(rx);
        let chain = (
            owned::Write::new(rx.clone(), b"no".to_vec()),
            owned::Write::new(file.clone(), b"CHAINED".to_vec()).at(0),
            owned::Nop::new(),
        );
        let (a, b, c) = d.push_chain(chain).map_err(|(_, e)| e)?;
        let (a, b, c) = (d.wait(a)?, d.wait(b)?, d.wait(c)?);
        ensure!(a.result == Err(Errno::BADF), "first link: {:?}", a.result);
        ensure!(b.result == Err(Errno::CANCELED) && c == Err(Errno::CANCELED), "{:?} {c:?}", b.result);
        let mut on_disk = Vec::new();
        (&*file).seek(SeekFrom::Start(0))?;
        (&*file).read_to_end(&mut on_disk)?;
        ensure!(on_disk == b"chained", "the cancelled write never ran: {on_disk:?}");

        // Too few free slots: the tuple comes back whole, nothing pushed.
        let mut small: Driver<2, 320, S, C> = Driver::with_slots(ctx.ring::<S, C>(8)?, Slots::boxed());
        let chain = (owned::Nop::new(), owned::Nop::new(), owned::Timeout::new(Timespec::from(Duration::from_secs(1))));
        let Err((_back, e)) = small.push_chain(chain) else {
            bail!("three links in two slots");
        };
        ensure!(e == Errno::BUSY && small.in_use() == 0);
        ensure!(d.in_use() == 0);
        Ok(())
    }

    fn owned_writev_readv_file(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let file = Arc::new(tempfile()?);
        let w = d.run(owned::Writev::new(file.clone(), [b"abc".to_vec(), b"defgh".to_vec()]).at(0))?;
        ensure!(w.result == Ok(8));
        let r = d.run(owned::Readv::new(file.clone(), [vec![0u8; 2], vec![0u8; 10]]).at(0))?;
        ensure!(r.result == Ok(8));
        ensure!(r.buf[0] == b"ab" && &r.buf[1][..6] == b"cdefgh", "{:?}", r.buf);
        let mut on_disk = String::new();
        (&*file).seek(SeekFrom::Start(0))?;
        (&*file).read_to_string(&mut on_disk)?;
        ensure!(on_disk == "abcdefgh");
        Ok(())
    }

    fn owned_send_recv_tcp(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let (mut client, server) = tcp_pair()?;
        let server = OwnedFd::from(server);
        let s = d.run(owned::Send::new(server, b"to the client".to_vec()))?;
        ensure!(s.result == Ok(13));
        let mut got = [0u8; 13];
        client.read_exact(&mut got)?;
        ensure!(&got == b"to the client");
        client.write_all(b"to the server")?;
        let r = d.run(owned::Recv::new(s.file, Vec::with_capacity(32)))?;
        ensure!(r.result == Ok(13) && r.buf == b"to the server", "{:?}", r.result);
        drop(client);
        let r = d.run(owned::Recv::new(r.file, Vec::with_capacity(32)))?;
        ensure!(r.result == Ok(0) && r.buf.is_empty(), "end of stream: {:?}", r.result);
        Ok(())
    }

    fn owned_send_zc_tcp(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let (mut client, server) = tcp_pair()?;
        let (buf, drops) = Tracked::new(4096);
        let mut buf = buf;
        buf.v.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        let z = d.run(owned::SendZc::new(OwnedFd::from(server), buf))?;
        ensure!(z.result == Ok(4096), "send_zc: {:?}", z.result);
        ensure!(drops.load(Ordering::SeqCst) == 0, "buffer handed back, not dropped");
        let mut got = vec![0u8; 4096];
        client.read_exact(&mut got)?;
        ensure!(got == z.buf.v);
        Ok(())
    }

    fn owned_accept_gives_owned_fd(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let t = d.push(owned::Accept::new(OwnedFd::from(listener))).map_err(|r| r.errno())?;
        d.submit()?;
        let mut client = TcpStream::connect(addr)?;
        let a = d.wait(t)?;
        let fd = a.result?;
        let mut accepted = TcpStream::from(fd);
        ensure!(accepted.peer_addr()? == client.local_addr()?, "the accepted socket is the client's peer");
        accepted.write_all(b"hi")?;
        let mut got = [0u8; 2];
        client.read_exact(&mut got)?;
        ensure!(&got == b"hi");
        Ok(())
    }

    fn owned_accept_multi(ctx: &Ctx) -> anyhow::Result<()> {
        if kernel_version() < (5, 19) {
            skip!("multishot accept needs 5.19");
        }
        let mut d = Self::driver(ctx)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let t = d.push(owned::AcceptMulti::new(OwnedFd::from(listener))).map_err(|r| r.errno())?;
        d.submit()?;
        let clients: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr)).collect::<Result<_, _>>()?;
        let mut peers = Vec::new();
        for _ in 0..3 {
            let fd = d.wait_next(&t)?.context("stream ended early")??;
            peers.push(TcpStream::from(fd).peer_addr()?);
        }
        let mut want: Vec<_> = clients.iter().map(|c| c.local_addr()).collect::<Result<_, _>>()?;
        want.sort();
        peers.sort();
        ensure!(peers == want, "one accepted socket per client");
        d.cancel(&t);
        while let Some(item) = d.wait_next(&t)? {
            ensure!(item.is_err() || item.is_ok(), "drained");
        }
        let _listener = d.wait(t)?;
        ensure!(d.in_use() == 0);
        Ok(())
    }

    fn owned_socket_connect_shutdown(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let sock = d.run(owned::Socket::new(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0))??;
        let c = d.run(owned::Connect::new(sock, addr))?;
        c.result?;
        let (mut server, peer) = listener.accept()?;
        let client = TcpStream::from(c.file);
        ensure!(client.local_addr()? == peer, "connected to our listener");
        let s = d.run(owned::Shutdown::new(OwnedFd::from(client), libc::SHUT_WR))?;
        s.result?;
        let mut rest = Vec::new();
        server.read_to_end(&mut rest)?;
        ensure!(rest.is_empty(), "the peer sees end of stream");
        Ok(())
    }

    fn owned_openat_statx_close(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let path = std::env::temp_dir().join(format!("urix-owned-{}-{}", std::process::id(), ctx.flavour.name));
        let cpath = CString::new(path.to_str().context("utf-8 path")?)?;
        let o = d.run(owned::OpenAt::new(cpath, OFlags::CREATE | OFlags::RDWR | OFlags::TRUNC, Mode::from(0o600)))?;
        let fd = o.result.context("openat")?;
        let raw = fd.as_raw_fd();
        let w = d.run(owned::Write::new(fd, b"12345678".to_vec()))?;
        ensure!(w.result == Ok(8));
        let st = d.run(owned::Statx::new(o.file, AtFlags::empty(), StatxFlags::SIZE))?;
        let stx = st.result.context("statx")?;
        ensure!(stx.stx_size == 8, "statx size {}", stx.stx_size);
        ensure!(std::fs::metadata(&path)?.len() == 8);
        ensure!(fd_is_open(raw));
        d.run(owned::Close::new(w.file))?.context("close")?;
        ensure!(!fd_is_open(raw), "the kernel closed the fd");
        std::fs::remove_file(&path)?;
        let gone =
            d.run(owned::OpenAt::new(CString::new(path.to_str().unwrap_or(""))?, OFlags::RDONLY, Mode::empty()))?;
        ensure!(matches!(gone.result, Err(Errno::NOENT)), "{:?}", gone.result);
        Ok(())
    }

    fn owned_fallocate_fsync(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let file = Arc::new(tempfile()?);
        let f = d.run(owned::Fallocate::new(file.clone(), 0, 12288, 0))?;
        if f.result == Err(Errno::OPNOTSUPP) {
            skip!("the temp file system has no fallocate");
        }
        f.result?;
        ensure!(file.metadata()?.len() == 12288, "fallocate extended the file");
        d.run(owned::Fsync::new(file.clone()))?.result?;
        d.run(owned::Fsync::new(file).datasync())?.result?;
        Ok(())
    }

    fn owned_splice_pipe_to_file(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let (rx, mut tx) = pipe()?;
        tx.write_all(b"spliced")?;
        let file = Arc::new(tempfile()?);
        let s = d.run(owned::Splice::new(OwnedFd::from(rx), -1, file.clone(), 0, 7))?;
        ensure!(s.result == Ok(7), "{:?}", s.result);
        let mut got = String::new();
        (&*file).read_to_string(&mut got)?;
        ensure!(got == "spliced");
        Ok(())
    }

    fn owned_timeout_fires(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let start = std::time::Instant::now();
        let r = d.run(owned::Timeout::new(Timespec::from(Duration::from_millis(20))))?;
        ensure!(r == Err(Errno::TIME), "{r:?}");
        ensure!(start.elapsed() >= Duration::from_millis(20), "fired early");
        Ok(())
    }

    fn owned_link_timeout_cancels_read(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let (rx, _tx) = pipe()?;
        let (buf, drops) = Tracked::new(16);
        let (rt, tt) = d
            .push_with_timeout(owned::Read::new(OwnedFd::from(rx), buf), Duration::from_millis(20))
            .map_err(|(_, e)| e)?;
        d.submit()?;
        let r = d.wait(rt)?;
        ensure!(r.result == Err(Errno::CANCELED), "read: {:?}", r.result);
        ensure!(drops.load(Ordering::SeqCst) == 0, "buffer handed back");
        ensure!(d.wait(tt)? == Err(Errno::TIME));
        ensure!(d.in_use() == 0);
        Ok(())
    }

    fn owned_poll_add_and_multi(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let (rx, mut tx) = pipe()?;
        let rx = Arc::new(rx);
        let t = d.push(owned::PollAdd::new(rx.clone(), libc::POLLIN as u32)).map_err(|r| r.errno())?;
        d.submit()?;
        tx.write_all(b"x")?;
        let p = d.wait(t)?;
        ensure!(p.result? & libc::POLLIN as u32 != 0);
        let m = d.push(owned::PollMulti::new(rx.clone(), libc::POLLIN as u32)).map_err(|r| r.errno())?;
        d.submit()?;
        let first = d.wait_next(&m)?.context("ended")??;
        ensure!(first & libc::POLLIN as u32 != 0);
        d.cancel(&m);
        let mut last = None;
        while let Some(item) = d.wait_next(&m)? {
            last = Some(item);
        }
        ensure!(matches!(last, Some(Err(Errno::CANCELED))), "ends cancelled: {last:?}");
        let _rx = d.wait(m)?;
        ensure!(d.in_use() == 0);
        Ok(())
    }

    fn owned_async_cancel_op(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let (rx, _tx) = pipe()?;
        let t = d.push(owned::Read::new(OwnedFd::from(rx), vec![0u8; 8])).map_err(|r| r.errno())?;
        d.submit()?;
        let c = d.run(owned::AsyncCancel::new(&t))?;
        ensure!(c == Ok(0), "cancel found it: {c:?}");
        let r = d.wait(t)?;
        ensure!(r.result == Err(Errno::CANCELED), "{:?}", r.result);
        ensure!(d.in_use() == 0);
        Ok(())
    }

    fn owned_recv_multi_stream(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let (mut client, server) = tcp_pair()?;
        let server = Arc::new(server);
        // Without a buffer ring the operation is refused, and given back.
        let r = d.push(owned::RecvMulti::new(server.clone())).map(|_| ()).unwrap_err();
        ensure!(r.errno() == Errno::NOBUFS);
        d.give_buffers(8)?;
        let mut t = d.push(owned::RecvMulti::new(server)).map_err(|r| r.errno())?;
        d.submit()?;
        let sent: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        client.write_all(&sent)?;
        let mut got = Vec::new();
        let mut rearmed = 0;
        while got.len() < sent.len() {
            match d.wait_next(&t)?.context("ended without an error")? {
                Ok(Some(item)) => {
                    ensure!(item.len() <= 64, "one buffer of the ring");
                    got.extend_from_slice(d.bytes(&item));
                    d.recycle(item);
                }
                // The ring ran dry before we recycled (8 buffers, 1000 bytes):
                // the stream ends; push it again.
                Err(Errno::NOBUFS) => {
                    ensure!(d.wait_next(&t)?.is_none(), "ENOBUFS is the last item");
                    let file = d.wait(t)?;
                    t = d.push(owned::RecvMulti::new(file)).map_err(|r| r.errno())?;
                    d.submit()?;
                    rearmed += 1;
                    ensure!(rearmed < 100, "no progress");
                }
                other => bail!("unexpected item {other:?}"),
            }
        }
        ensure!(got == sent, "the stream, in order, through recycled buffers");
        drop(client);
        let end = d.wait_next(&t)?.context("no final item")?;
        ensure!(matches!(end, Ok(None)), "end of stream: {end:?}");
        ensure!(d.wait_next(&t)?.is_none());
        let _server = d.wait(t)?;
        ensure!(d.in_use() == 0);
        Ok(())
    }

    /// Issue 16: a reader that falls a whole buffer ring behind loses no
    /// byte. A ring of more buffers than the driver's queue is refused; with a
    /// queue of 16 and 16 buffers, 4 KiB already in the socket fills all 16
    /// before anything is read (then `ENOBUFS` ends the receive), and every
    /// byte comes out, in order, over the re-armed receives.
    fn owned_recv_multi_reader_behind_loses_nothing(ctx: &Ctx) -> anyhow::Result<()> {
        // The default queue (8) refuses a ring of 16: such a ring could fill a
        // queue and drop received data.
        let mut small = Self::driver(ctx)?;
        let r = small.provide_buffers_boxed(16, 64);
        ensure!(r == Err(Errno::INVAL), "16 buffers over a queue of 8: {r:?}");
        drop(small);

        let mut d: Driver<16, 320, S, C, 16> = Driver::with_slots(ctx.ring::<S, C>(16)?, Slots::boxed());
        match d.provide_buffers_boxed(16, 64) {
            Ok(_) => {}
            Err(Errno::INVAL) if kernel_version() < (6, 4) => skip!("mapped buffer rings need 6.4"),
            Err(e) => return Err(e.into()),
        }
        let (mut client, server) = tcp_pair()?;
        let sent: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 253) as u8).collect();
        // In the socket before the receive starts: the kernel fills buffers
        // until the ring is dry, with nobody reading.
        client.write_all(&sent)?;
        let mut file = Arc::new(server);
        let mut got = Vec::new();
        let mut rounds = 0;
        let mut most = 0;
        while got.len() < sent.len() {
            rounds += 1;
            ensure!(rounds < 1000, "no progress at {} bytes", got.len());
            let t = d.push(owned::RecvMulti::new(file)).map_err(|r| r.errno())?;
            d.submit()?;
            // Fall behind: reap completions until the receive ends, reading
            // nothing (its results wait in the slot's queue).
            let mut reaped = 0;
            loop {
                d.submit_and_wait(1)?;
                reaped += d.reap();
                if d.stats().lost != 0 {
                    bail!("results dropped: {:?}", d.stats());
                }
                // The receive ends with ENOBUFS once all 16 buffers are out, or
                // goes on waiting when the socket is drained (then read).
                if reaped > 16 || got.len() + 64 * reaped >= sent.len() {
                    break;
                }
            }
            let mut items = Vec::new();
            loop {
                match d.wait_next(&t)? {
                    Some(Ok(Some(r))) => items.push(r),
                    Some(Err(Errno::NOBUFS)) | None => break,
                    Some(other) => bail!("unexpected item {other:?}"),
                }
                if got.len() + items.iter().map(|r| r.len()).sum::<usize>() >= sent.len() {
                    break;
                }
            }
            most = most.max(items.len());
            for r in items {
                got.extend_from_slice(d.bytes(&r));
                d.recycle(r);
            }
            if got.len() < sent.len() {
                // Ended (ENOBUFS): take the socket back and arm again.
                ensure!(d.wait_next(&t)?.is_none(), "ENOBUFS is the last item");
                file = d.wait(t)?;
            } else {
                d.cancel(&t);
                while d.wait_next(&t)?.is_some() {}
                file = d.wait(t)?;
            }
        }
        ensure!(got == sent, "every byte, in order ({} of {})", got.len(), sent.len());
        ensure!(d.stats().lost == 0, "nothing released: {:?}", d.stats());
        ensure!(most > 8, "the queue held more than the default 8 unread results (most {most})");
        drop(file);
        ensure!(d.in_use() == 0);
        Ok(())
    }

    fn owned_fixed_files_typed_to_driver(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let mut other = Self::driver(ctx)?;
        let mut file = tempfile()?;
        file.write_all(b"fixed file")?;
        let files = d.register_files(&[file.as_fd()])?;
        let f0 = files.get(0).context("index 0")?;
        ensure!(files.get(1).is_none(), "no handle for an unregistered index");
        let r = d.run(owned::Read::new(f0, Vec::with_capacity(16)).at(0))?;
        ensure!(r.result == Ok(10) && r.buf == b"fixed file");
        // The handle is refused by another driver, even one with files.
        other.register_files(&[file.as_fd()])?;
        let refused = other.push(owned::Read::new(f0, Vec::with_capacity(16))).map(|_| ()).unwrap_err();
        ensure!(refused.errno() == Errno::BADF);
        // And by its own driver once unregistered.
        d.unregister_files()?;
        let refused = d.push(owned::Read::new(f0, Vec::with_capacity(16))).map(|_| ()).unwrap_err();
        ensure!(refused.errno() == Errno::BADF);
        ensure!(d.in_use() == 0 && other.in_use() == 0);
        Ok(())
    }

    fn owned_fixed_buffers(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let mem: &'static mut [u8] = kept_static(4096);
        let [mut b] = d.register_buffers([mem])?;
        d.fixed_bytes_mut(&mut b)[..5].copy_from_slice(b"fixed");
        let file = Arc::new(tempfile()?);
        let w = d.run(owned::WriteFixed::new(file.clone(), b, 5).at(0))?;
        ensure!(w.result == Ok(5));
        let mut got = String::new();
        (&*file).read_to_string(&mut got)?;
        ensure!(got == "fixed");
        let mut b = w.buf;
        d.fixed_bytes_mut(&mut b).fill(0);
        let r = d.run(owned::ReadFixed::new(file, b).at(1))?;
        ensure!(r.result == Ok(4) && &d.fixed_bytes(&r.buf)[..4] == b"ixed");
        // Another driver refuses this driver's buffer.
        let mut other = Self::driver(ctx)?;
        let refused = other.push(owned::ReadFixed::new(r.file, r.buf)).map(|_| ()).unwrap_err();
        ensure!(refused.errno() == Errno::BADF);
        Ok(())
    }

    /// Send and receive through the driver's registered buffers (plain
    /// SEND and RECV with `IORING_RECVSEND_FIXED_BUF`, 7.2): the peer reads
    /// the registered bytes, and what it sends lands in the registered
    /// buffer.
    fn owned_send_recv_fixed_buffers(ctx: &Ctx) -> anyhow::Result<()> {
        crate::util::needs_kernel(7, 2, "registered buffers on plain SEND/RECV")?;
        let mut d = Self::driver(ctx)?;
        let [mut tx, rx] = d.register_buffers([kept_static(4096), kept_static(4096)])?;
        let pattern: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        d.fixed_bytes_mut(&mut tx)[..3000].copy_from_slice(&pattern);
        let (mut client, server) = tcp_pair()?;
        let s = d.run(owned::SendFixed::new(OwnedFd::from(server), tx, 3000))?;
        ensure!(s.result == Ok(3000), "fixed send: {:?}", s.result);
        let mut got = vec![0u8; 3000];
        client.read_exact(&mut got)?;
        ensure!(got == pattern, "the peer read other bytes than the registered buffer's");
        client.write_all(b"into the registered buffer")?;
        super::recv::wait_inq(s.file.as_raw_fd(), 26)?;
        let r = d.run(owned::RecvFixed::new(s.file, rx))?;
        ensure!(r.result == Ok(26), "fixed recv: {:?}", r.result);
        ensure!(&d.fixed_bytes(&r.buf)[..26] == b"into the registered buffer");
        drop(client);
        let end = d.run(owned::RecvFixed::new(r.file, r.buf))?;
        ensure!(end.result == Ok(0), "end of stream: {:?}", end.result);
        ensure!(d.in_use() == 0);
        Ok(())
    }

    /// A zero-copy send from a registered buffer (`SEND_ZC` with
    /// `IORING_RECVSEND_FIXED_BUF`, 6.0): the peer reads its bytes, and
    /// the handle comes back after the notification.
    fn owned_send_zc_fixed_buffer(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let [mut b] = d.register_buffers([kept_static(8192)])?;
        let pattern: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 253) as u8).collect();
        d.fixed_bytes_mut(&mut b).copy_from_slice(&pattern);
        let (mut client, server) = tcp_pair()?;
        let z = d.run(owned::SendZcFixed::new(OwnedFd::from(server), b, 8192))?;
        ensure!(z.result == Ok(8192), "send_zc fixed: {:?}", z.result);
        let mut got = vec![0u8; 8192];
        client.read_exact(&mut got)?;
        ensure!(got == pattern, "the peer read other bytes than the registered buffer's");
        ensure!(d.fixed_bytes(&z.buf) == &pattern[..], "the handle is back, the bytes unchanged");
        ensure!(d.in_use() == 0);
        Ok(())
    }

    /// An echo with no copy: each chunk a multishot receive got is sent
    /// back straight from the driver's buffer ring (`SendReceived`), and
    /// comes back to be recycled; sent again from the middle (`from`), the
    /// peer gets the rest. Another driver's, or a driver without a ring,
    /// refuses the chunk and gives it back.
    fn owned_send_received_echo(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        d.give_buffers(4)?;
        let mut other = Self::driver(ctx)?;
        other.give_buffers(4)?;
        let mut plain = Self::driver(ctx)?;
        let (mut client, server) = tcp_pair()?;
        let server = Arc::new(server);
        let mut t = d.push(owned::RecvMulti::new(server.clone())).map_err(|r| r.errno())?;
        d.submit()?;
        let sent: Vec<u8> = (0..1000u32).map(|i| (i * 3 % 251) as u8).collect();
        client.write_all(&sent)?;
        let (mut done, mut first) = (0, true);
        while done < sent.len() {
            let chunk = match d.wait_next(&t)?.context("ended without an error")? {
                Ok(Some(chunk)) => chunk,
                Err(Errno::NOBUFS) => {
                    ensure!(d.wait_next(&t)?.is_none(), "ENOBUFS is the last item");
                    let file = d.wait(t)?;
                    t = d.push(owned::RecvMulti::new(file)).map_err(|r| r.errno())?;
                    d.submit()?;
                    continue;
                }
                other => bail!("unexpected item {other:?}"),
            };
            let n = chunk.len();
            let want = &sent[done..done + n];
            let chunk = if first {
                first = false;
                let r = other.push(owned::SendReceived::new(server.clone(), chunk)).map(|_| ()).unwrap_err();
                ensure!(r.errno() == Errno::INVAL, "another driver's chunk: {}", r.errno());
                let r = plain.push(r.into_inner()).map(|_| ()).unwrap_err();
                ensure!(r.errno() == Errno::NOBUFS, "a driver without a ring: {}", r.errno());
                r.into_inner().into_parts().1
            } else {
                chunk
            };
            let e = d.run(owned::SendReceived::new(server.clone(), chunk))?;
            ensure!(e.result == Ok(n), "echo: {:?} of {n}", e.result);
            ensure!(d.bytes(&e.buf) == want, "the chunk comes back with its bytes");
            let half = d.run(owned::SendReceived::new(server.clone(), e.buf).from(n / 2))?;
            ensure!(half.result == Ok(n - n / 2), "from the middle: {:?} of {}", half.result, n - n / 2);
            d.recycle(half.buf);
            let mut back = vec![0u8; n + n - n / 2];
            client.read_exact(&mut back)?;
            ensure!(back[..n] == *want && back[n..] == want[n / 2..], "the peer read other bytes");
            done += n;
        }
        d.stop_recv(t)?;
        ensure!(d.in_use() == 0 && d.stats().lost == 0, "{:?}", d.stats());
        Ok(())
    }

    /// While a send from a received chunk waits (the peer reads nothing),
    /// its buffer stays out of the ring: more data finds the ring's one
    /// other buffer, then none (`ENOBUFS`), and the peer finally reads the
    /// chunk's own bytes, not the later ones. A send abandoned in flight
    /// puts its buffer back into the ring at its completion: both buffers
    /// serve the next receive.
    fn owned_send_received_holds_its_buffer(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        d.give_buffers(2)?;
        let (mut client, server) = tcp_pair()?;
        let server = Arc::new(server);
        let filled = fill_send_buffer(server.as_raw_fd())?;
        client.write_all(&[b'A'; 64])?;
        super::recv::wait_inq(server.as_raw_fd(), 64)?;
        let t = d.push(owned::RecvMulti::new(server.clone())).map_err(|r| r.errno())?;
        d.submit()?;
        let a = match d.wait_next(&t)?.context("ended")? {
            Ok(Some(a)) if a.len() == 64 => a,
            other => bail!("the first chunk: {other:?}"),
        };
        let s = d.push(owned::SendReceived::new(server.clone(), a)).map_err(|r| r.errno())?;
        d.submit()?;
        client.write_all(&[b'B'; 128])?;
        let b = match d.wait_next(&t)?.context("ended")? {
            Ok(Some(b)) => b,
            other => bail!("the second chunk: {other:?}"),
        };
        ensure!(d.bytes(&b).iter().all(|&x| x == b'B'));
        let end = d.wait_next(&t)?.context("ended without an error")?;
        ensure!(matches!(end, Err(Errno::NOBUFS)), "the ring ran dry (the send holds the other buffer): {end:?}");
        ensure!(d.wait_next(&t)?.is_none(), "ENOBUFS is the last item");
        let file = d.wait(t)?;
        // The peer reads the filler, then the chunk's own bytes, on another
        // thread: with DEFER_TASKRUN the send goes on only while this one
        // waits in the ring.
        let reader = std::thread::spawn(move || -> std::io::Result<(TcpStream, [u8; 64])> {
            let mut junk = vec![0u8; filled];
            client.read_exact(&mut junk)?;
            let mut echo = [0u8; 64];
            client.read_exact(&mut echo)?;
            Ok((client, echo))
        });
        let sent = d.wait(s)?;
        ensure!(sent.result == Ok(64), "{:?}", sent.result);
        let (mut client, echo) = reader.join().map_err(|_| anyhow::anyhow!("reader panicked"))??;
        ensure!(echo == [b'A'; 64], "the send's buffer was written while in flight: {:?}", &echo[..8]);
        d.recycle(sent.buf);
        d.recycle(b);

        // Abandoned in flight: the buffer goes back at its completion. The
        // 64 bytes of B still in the socket make the chunk.
        let t = d.push(owned::RecvMulti::new(file)).map_err(|r| r.errno())?;
        d.submit()?;
        let c = match d.wait_next(&t)?.context("ended")? {
            Ok(Some(c)) => c,
            other => bail!("the third chunk: {other:?}"),
        };
        let s = d.push(owned::SendReceived::new(server.clone(), c)).map_err(|r| r.errno())?;
        d.submit()?;
        d.abandon(s);
        let file = d.stop_recv(t)?;
        d.drain()?;
        client.write_all(&[b'D'; 128])?;
        super::recv::wait_inq(server.as_raw_fd(), 128)?;
        let t = d.push(owned::RecvMulti::new(file)).map_err(|r| r.errno())?;
        d.submit()?;
        for i in 0..2 {
            match d.wait_next(&t)?.context("ended")? {
                Ok(Some(r)) if d.bytes(&r) == [b'D'; 64] => d.recycle(r),
                other => bail!("chunk {i} after the abandoned send: {other:?} (its buffer did not come back)"),
            }
        }
        d.stop_recv(t)?;
        ensure!(d.in_use() == 0 && d.stats().lost == 0, "{:?}", d.stats());
        Ok(())
    }

    /// A `Received` kept past its driver's end names a ring that is gone:
    /// a new driver, whose heap ring may well sit at the old one's
    /// addresses, reads no bytes through it, refuses to send it and does
    /// not take it back (its own buffers all still serve its receive).
    fn owned_received_outliving_its_driver(ctx: &Ctx) -> anyhow::Result<()> {
        let stale = {
            let mut a = Self::driver(ctx)?;
            a.give_buffers(4)?;
            let (mut client, server) = tcp_pair()?;
            client.write_all(&[b'a'; 64])?;
            super::recv::wait_inq(server.as_raw_fd(), 64)?;
            let t = a.push(owned::RecvMulti::new(Arc::new(server))).map_err(|r| r.errno())?;
            a.submit()?;
            let r = match a.wait_next(&t)?.context("ended")? {
                Ok(Some(r)) => r,
                other => bail!("a chunk: {other:?}"),
            };
            a.stop_recv(t)?;
            r
        };
        let mut b = Self::driver(ctx)?;
        b.give_buffers(4)?;
        ensure!(b.bytes(&stale).is_empty(), "another driver's chunk read through this one's ring");
        let (mut client, server) = tcp_pair()?;
        let server = Arc::new(server);
        let refused = b.push(owned::SendReceived::new(server.clone(), stale)).map(|_| ()).unwrap_err();
        ensure!(refused.errno() == Errno::INVAL, "{}", refused.errno());
        b.recycle(refused.into_inner().into_parts().1);
        client.write_all(&[b'b'; 256])?;
        super::recv::wait_inq(server.as_raw_fd(), 256)?;
        let t = b.push(owned::RecvMulti::new(server)).map_err(|r| r.errno())?;
        b.submit()?;
        let mut held = Vec::new();
        for i in 0..4 {
            match b.wait_next(&t)?.context("ended")? {
                Ok(Some(r)) if b.bytes(&r) == [b'b'; 64] => held.push(r),
                other => bail!("chunk {i}: {other:?}"),
            }
        }
        for r in held {
            b.recycle(r);
        }
        b.stop_recv(t)?;
        ensure!(b.in_use() == 0);
        Ok(())
    }

    /// The immediate timeout (`IORING_TIMEOUT_IMMEDIATE_ARG`, 7.1): the
    /// nanoseconds ride in the SQE. It fires no earlier than asked; with a
    /// count, it ends when that many other completions were posted.
    fn owned_timeout_immediate(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let start = std::time::Instant::now();
        let r = d.run(owned::Timeout::nanos(20_000_000))?;
        if r == Err(Errno::INVAL) && kernel_version() < (7, 1) {
            skip!("the immediate timeout form needs 7.1 (EINVAL before)");
        }
        ensure!(r == Err(Errno::TIME), "{r:?}");
        ensure!(start.elapsed() >= Duration::from_millis(20), "fired early");
        let t = d.push(owned::Timeout::nanos(3_600_000_000_000).count(1)).map_err(|r| r.errno())?;
        d.submit()?;
        ensure!(d.run(owned::Nop::new())? == Ok(0));
        ensure!(d.wait(t)? == Ok(0), "ended by the count");
        // Linked: a read from a pipe that never gets data, given up.
        let (rx, _tx) = pipe()?;
        let (buf, drops) = Tracked::new(16);
        let read = owned::Read::new(OwnedFd::from(rx), buf);
        let (rt, tt) = d.push_linked(read, owned::LinkTimeout::nanos(20_000_000)).map_err(|(_, _, e)| e)?;
        d.submit()?;
        let r = d.wait(rt)?;
        ensure!(r.result == Err(Errno::CANCELED), "read: {:?}", r.result);
        ensure!(d.wait(tt)? == Err(Errno::TIME));
        ensure!(drops.load(Ordering::SeqCst) == 0, "buffer handed back");
        ensure!(d.in_use() == 0);
        Ok(())
    }

    /// Accept into a free slot of a sparse registered-file table
    /// (`IORING_FILE_INDEX_ALLOC`, 5.19): the handle names the accepted
    /// connection (a send through it reaches the client), another slot
    /// for the next one, and `CloseFixed` empties the slot (the client
    /// sees the end of the stream; the handle is then refused). A
    /// multishot accept fills the four slots, then ends with `ENFILE`.
    fn owned_accept_into_fixed_slot(ctx: &Ctx) -> anyhow::Result<()> {
        crate::util::needs_kernel(5, 19, "accept into an allocated fixed slot")?;
        let mut d = Self::driver(ctx)?;
        d.register_files_sparse(4)?;
        let listener = Arc::new(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?);
        let addr = listener.local_addr()?;
        let mut clients = Vec::new();
        let mut slots = Vec::new();
        for _ in 0..2 {
            let t = d.push(owned::AcceptFixed::new(listener.clone())).map_err(|r| r.errno())?;
            d.submit()?;
            clients.push(TcpStream::connect(addr)?);
            slots.push(d.wait(t)?.result.context("accept into a slot")?);
        }
        ensure!(slots[0].index() != slots[1].index(), "two slots: {slots:?}");
        for (i, (f, c)) in slots.iter().zip(&mut clients).enumerate() {
            let msg = format!("through slot {}", f.index());
            let s = d.run(owned::Send::new(*f, msg.clone().into_bytes()))?;
            ensure!(s.result == Ok(msg.len()), "send {i}: {:?}", s.result);
            let mut got = vec![0u8; msg.len()];
            c.read_exact(&mut got)?;
            ensure!(got == msg.as_bytes(), "client {i} got {got:?}");
        }
        d.run(owned::CloseFixed::new(slots[0]))?.context("close the slot")?;
        let mut rest = Vec::new();
        clients[0].read_to_end(&mut rest)?;
        ensure!(rest.is_empty(), "the client sees the end of the stream");
        let again = d.run(owned::Send::new(slots[0], b"gone".to_vec()))?;
        ensure!(again.result == Err(Errno::BADF), "an emptied slot: {:?}", again.result);
        d.run(owned::CloseFixed::new(slots[1]))?.context("close the other slot")?;

        // Multishot: one slot per connection, until the table is full
        // (ENFILE ends the stream; the listener comes back).
        let t = d.push(owned::AcceptMultiFixed::new(listener.clone())).map_err(|r| r.errno())?;
        d.submit()?;
        let mut clients: Vec<TcpStream> = (0..5).map(|_| TcpStream::connect(addr)).collect::<Result<_, _>>()?;
        let mut slots = Vec::new();
        let end = loop {
            match d.wait_next(&t)?.context("ended without an error")? {
                Ok(f) => slots.push(f),
                Err(e) => break e,
            }
        };
        ensure!(end == Errno::NFILE, "the fifth connection finds no slot: {end}");
        ensure!(d.wait_next(&t)?.is_none(), "ENFILE is the last item");
        let _listener = d.wait(t)?;
        let mut indexes: Vec<u32> = slots.iter().map(|f| f.index()).collect();
        indexes.sort();
        ensure!(indexes == [0, 1, 2, 3], "the four slots: {indexes:?}");
        for f in &slots {
            let msg = format!("slot {}", f.index());
            ensure!(d.run(owned::Send::new(*f, msg.clone().into_bytes()))?.result == Ok(msg.len()));
        }
        // Each slot reached one of the first four clients.
        let mut heard = Vec::new();
        for c in &mut clients[..4] {
            let mut got = [0u8; 6];
            c.read_exact(&mut got)?;
            heard.push(String::from_utf8_lossy(&got).into_owned());
        }
        heard.sort();
        ensure!(heard == ["slot 0", "slot 1", "slot 2", "slot 3"], "{heard:?}");
        for f in slots {
            d.run(owned::CloseFixed::new(f))?.context("close")?;
        }
        ensure!(d.in_use() == 0);
        Ok(())
    }

    /// A slot the kernel filled for a result nobody claims is emptied when
    /// the driver releases that result: the connection is closed (its
    /// client reads the end of the stream) and the slot serves the next
    /// accept (without it, a table of two slots would answer `ENFILE`).
    /// An abandoned `AcceptFixed`; an `AcceptMultiFixed` whose one-entry
    /// queue overflowed (the item dropped), then abandoned (the queued
    /// item dropped); the same with the queued item read: its handle,
    /// still live, keeps its connection.
    fn owned_unclaimed_fixed_slots_are_emptied(ctx: &Ctx) -> anyhow::Result<()> {
        crate::util::needs_kernel(5, 19, "accept into an allocated fixed slot")?;
        // A queue of one result: the second connection overflows it.
        let mut d: Driver<16, 320, S, C, 1> = Driver::with_slots(ctx.ring::<S, C>(16)?, Slots::boxed());
        d.register_files_sparse(2)?;
        let listener = Arc::new(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?);
        let addr = listener.local_addr()?;
        // The client's view: the server side was closed (a generous bound
        // only against a hang: the close comes with the register call).
        let sees_end = |c: &mut TcpStream, what: &str| -> anyhow::Result<()> {
            c.set_read_timeout(Some(Duration::from_secs(30)))?;
            let mut rest = Vec::new();
            c.read_to_end(&mut rest).with_context(|| format!("{what}: no end of stream"))?;
            ensure!(rest.is_empty(), "{what}: {rest:?}");
            Ok(())
        };
        // Both slots free: two accepts fill them (one more finds none).
        let fill_both = |d: &mut Driver<16, 320, S, C, 1>, what: &str| -> anyhow::Result<Vec<owned::FixedFile>> {
            let mut got = Vec::new();
            for i in 0..2 {
                let _client = TcpStream::connect(addr)?;
                let r = d.run(owned::AcceptFixed::new(listener.clone()))?.result;
                got.push(r.with_context(|| format!("{what}: accept {i} finds no free slot"))?);
            }
            let mut idx: Vec<u32> = got.iter().map(|f| f.index()).collect();
            idx.sort();
            ensure!(idx == [0, 1], "{what}: {idx:?}");
            Ok(got)
        };
        let close_all = |d: &mut Driver<16, 320, S, C, 1>, fs: Vec<owned::FixedFile>| -> anyhow::Result<()> {
            for f in fs {
                d.run(owned::CloseFixed::new(f))?.context("close")?;
            }
            Ok(())
        };

        // An AcceptFixed abandoned before its connection (quietly: it
        // runs on and gets it).
        let t = d.push(owned::AcceptFixed::new(listener.clone())).map_err(|r| r.errno())?;
        d.submit()?;
        d.abandon_quietly(t);
        let mut c0 = TcpStream::connect(addr)?;
        d.drain()?;
        let fs = fill_both(&mut d, "after an abandoned AcceptFixed")?;
        sees_end(&mut c0, "the abandoned accept's client")?;
        close_all(&mut d, fs)?;

        // AcceptMultiFixed: two connections, reaped unread; the second
        // finds the queue full (dropped, counted in `lost`, the stream
        // cancelled), then the abandon drops the queued first one.
        let lost = d.stats().lost;
        let t = d.push(owned::AcceptMultiFixed::new(listener.clone())).map_err(|r| r.errno())?;
        d.submit()?;
        let mut c1 = TcpStream::connect(addr)?;
        let mut c2 = TcpStream::connect(addr)?;
        while d.stats().lost == lost {
            d.submit_and_wait(1)?;
            d.reap();
        }
        d.abandon(t);
        d.drain()?;
        ensure!(d.stats().lost == lost + 1, "one dropped by the full queue");
        let fs = fill_both(&mut d, "after an AcceptMultiFixed's items were dropped")?;
        sees_end(&mut c1, "the queued item's client")?;
        sees_end(&mut c2, "the overflowing item's client")?;
        close_all(&mut d, fs)?;

        // The same, the queued item read: its slot stays its handle's.
        let t = d.push(owned::AcceptMultiFixed::new(listener.clone())).map_err(|r| r.errno())?;
        d.submit()?;
        let mut c1 = TcpStream::connect(addr)?;
        let mut c2 = TcpStream::connect(addr)?;
        while d.stats().lost == lost + 1 {
            d.submit_and_wait(1)?;
            d.reap();
        }
        let kept = d.wait_next(&t)?.context("the queued item")?.context("accepted")?;
        ensure!(d.wait_next(&t)? == Some(Err(Errno::CANCELED)), "cancelled after the overflow");
        let _listener = d.wait(t)?;
        sees_end(&mut c2, "the overflowing item's client")?;
        let _client = TcpStream::connect(addr)?;
        let other = d.run(owned::AcceptFixed::new(listener.clone()))?.result.context("the dropped item's slot")?;
        ensure!(other.index() != kept.index(), "{other:?} {kept:?}");
        let s = d.run(owned::Send::new(kept, b"kept".to_vec()))?;
        ensure!(s.result == Ok(4), "send through the read item's slot: {:?}", s.result);
        let mut got = [0u8; 4];
        c1.read_exact(&mut got)?;
        ensure!(&got == b"kept", "{got:?}");
        close_all(&mut d, vec![kept, other])?;
        sees_end(&mut c1, "the read item's client, once its slot is closed")?;
        ensure!(d.in_use() == 0);
        Ok(())
    }

    fn owned_full_table_and_sq_give_op_back(ctx: &Ctx) -> anyhow::Result<()> {
        // 4 slots, an 8-entry SQ: the table fills first.
        let mut d: Driver<4, 320, S, C> = Driver::with_slots(ctx.ring::<S, C>(8)?, Slots::boxed());
        let mut tickets = Vec::new();
        for _ in 0..4 {
            tickets.push(d.push(owned::Nop::new()).map_err(|r| r.errno())?);
        }
        let r = d.push(owned::Write::new(Arc::new(tempfile()?), b"kept".to_vec())).map(|_| ()).unwrap_err();
        ensure!(r.errno() == Errno::BUSY);
        ensure!(r.into_inner().into_parts().0.metadata()?.len() == 0, "refused op given back, not run");
        for t in tickets {
            ensure!(d.wait(t)? == Ok(0));
        }
        // 16 slots, a 2-entry SQ (no SQPOLL: the SQ fills before the kernel
        // takes entries): the SQ fills first.
        if !ctx.flavour.sqpoll {
            let mut d: Driver<16, 320, S, C> = Driver::with_slots(ctx.ring::<S, C>(2)?, Slots::boxed());
            let a = d.push(owned::Nop::new()).map_err(|r| r.errno())?;
            let b = d.push(owned::Nop::new()).map_err(|r| r.errno())?;
            let r = d.push(owned::Nop::new().result(5)).map(|_| ()).unwrap_err();
            ensure!(r.errno() == Errno::BUSY);
            ensure!(d.wait(a)? == Ok(0) && d.wait(b)? == Ok(0));
        }
        Ok(())
    }

    fn owned_foreign_completions_touch_nothing(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let (rx, _tx) = pipe()?;
        let t = d.push(owned::Read::new(OwnedFd::from(rx), vec![0u8; 4])).map_err(|r| r.errno())?;
        d.submit()?;
        // Raw NOPs with user data that is not ours, or is ours but stale.
        let ours = t.user_data();
        let stale = ours ^ (1 << 16);
        let other_ring = ours ^ (1 << 46);
        let foreign = [0, u64::MAX, 42, stale, other_ring];
        {
            // The ring is the driver's; pushing raw NOPs needs a view of its
            // SQ, which `Driver` does not give. Send them from another ring by
            // MSG_RING instead when the kernel has it; else skip that part.
            let mut sender = urix::IoUring::new(8)?;
            let fd = d.ring().as_raw_fd();
            for ud in foreign {
                let e = opcode::MsgRingData::new(urix::types::Fd(fd), 0, ud.into(), None).build();
                // SAFETY: MSG_RING data names no memory.
                unsafe { sender.submission().push(&e) }.map_err(|_| anyhow::anyhow!("sq full"))?;
            }
            match sender.submit_and_wait(foreign.len()) {
                Ok(_) => {}
                Err(e) => bail!("msg_ring: {e}"),
            }
            for c in sender.completion() {
                if c.result() == Err(Errno::INVAL) && kernel_version() < (5, 18) {
                    skip!("MSG_RING needs 5.18");
                }
                ensure!(c.result().is_ok(), "msg_ring: {:?}", c.result());
            }
        }
        d.submit_and_wait(foreign.len())?;
        let mut seen = Vec::new();
        d.reap_with(|c| seen.push(c.user_data_u64()));
        seen.sort();
        let mut want = foreign.to_vec();
        want.sort();
        ensure!(seen == want, "each foreign completion reported: {seen:x?}");
        ensure!(d.stats().foreign == foreign.len() as u64);
        ensure!(d.in_use() == 1, "the read is untouched");
        d.abandon(t);
        d.drain()?;
        Ok(())
    }

    fn owned_abandon_pipe_read(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        // With a cancel: freed at the read's ECANCELED.
        let (rx, _tx) = pipe()?;
        let (buf, drops) = Tracked::new(16);
        let t = d.push(owned::Read::new(OwnedFd::from(rx), buf)).map_err(|r| r.errno())?;
        d.submit()?;
        d.abandon(t);
        ensure!(drops.load(Ordering::SeqCst) == 0, "kept while the kernel may write");
        d.drain()?;
        ensure!(drops.load(Ordering::SeqCst) == 1, "freed once, at the last completion");
        // Without a cancel: the kernel writes into the abandoned buffer later.
        let (rx, mut tx) = pipe()?;
        let (buf, drops) = Tracked::new(16);
        let t = d.push(owned::Read::new(OwnedFd::from(rx), buf)).map_err(|r| r.errno())?;
        d.submit()?;
        d.abandon_quietly(t);
        d.reap();
        ensure!(d.in_use() == 1 && drops.load(Ordering::SeqCst) == 0);
        tx.write_all(b"late data")?;
        d.drain()?;
        ensure!(drops.load(Ordering::SeqCst) == 1);
        ensure!(d.stats().leaked == 0);
        Ok(())
    }

    fn owned_cancel_deferred_when_sq_full(ctx: &Ctx) -> anyhow::Result<()> {
        if ctx.flavour.sqpoll {
            skip!("the SQPOLL thread empties the SQ on its own: it cannot be held full");
        }
        // A 2-entry SQ, filled by two reads that are not yet submitted.
        let mut d: Driver<16, 320, S, C> = Driver::with_slots(ctx.ring::<S, C>(2)?, Slots::boxed());
        let (rx1, _tx1) = pipe()?;
        let (rx2, _tx2) = pipe()?;
        let (buf, drops) = Tracked::new(8);
        let a = d.push(owned::Read::new(OwnedFd::from(rx1), buf)).map_err(|r| r.errno())?;
        let b = d.push(owned::Read::new(OwnedFd::from(rx2), vec![0u8; 8])).map_err(|r| r.errno())?;
        ensure!(!d.has_room(), "SQ full");
        d.abandon(a); // its cancel has no room: deferred, not lost
        d.submit()?; // the reads go in, then the cancel
        while drops.load(Ordering::SeqCst) == 0 {
            d.submit_and_wait(1)?;
            d.reap();
        }
        ensure!(d.in_use() == 1, "only the other read is left");
        ensure!(d.stats().cancel_cqes == 1, "the deferred cancel ran");
        d.abandon(b);
        d.drain()?;
        Ok(())
    }

    fn owned_abandoned_close_never_closes_twice(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let old = OwnedFd::from(tempfile()?);
        let raw = old.as_raw_fd();
        let t = d.push(owned::Close::new(old)).map_err(|r| r.errno())?;
        d.submit()?;
        // Without SQPOLL the kernel closed it during the submit: a new file
        // now gets the same number.
        let new = tempfile()?;
        if !ctx.flavour.sqpoll {
            ensure!(new.as_raw_fd() == raw, "the lowest free number is reused");
        }
        d.abandon_quietly(t);
        d.drain()?;
        ensure!(fd_is_open(new.as_raw_fd()), "the abandoned close did not close the new file");
        Ok(())
    }

    fn owned_poll_wakes_the_waker(ctx: &Ctx) -> anyhow::Result<()> {
        struct Count(AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let mut d = Self::driver(ctx)?;
        let (rx, mut tx) = pipe()?;
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(count.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        let t = d.push(owned::Read::new(OwnedFd::from(rx), Vec::with_capacity(8))).map_err(|r| r.errno())?;
        d.submit()?;
        ensure!(d.poll(&t, &mut cx).is_pending());
        d.reap();
        ensure!(count.0.load(Ordering::SeqCst) == 0, "no completion, no wake");
        tx.write_all(b"wake")?;
        while count.0.load(Ordering::SeqCst) == 0 {
            d.submit_and_wait(1)?;
            d.reap(); // the completion wakes the stored waker
        }
        let std::task::Poll::Ready(r) = d.poll(&t, &mut cx) else { bail!("woken but not ready") };
        ensure!(r.result == Ok(4) && r.buf == b"wake");
        ensure!(d.poll(&t, &mut cx).is_pending(), "a ticket gives its output once");
        Ok(())
    }

    fn owned_abandon_accept_closes_late_fd(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let t = d.push(owned::Accept::new(OwnedFd::from(listener))).map_err(|r| r.errno())?;
        d.submit()?;
        d.abandon_quietly(t);
        let mut client = TcpStream::connect(addr)?;
        d.drain()?;
        // The layer closed the accepted socket nobody claimed: the client
        // reads end of stream (not a hang: a 2 s read timeout would fail).
        client.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut buf = [0u8; 1];
        let n = client.read(&mut buf).context("the accepted socket was not closed")?;
        ensure!(n == 0, "end of stream");
        Ok(())
    }

    fn owned_abandon_recv_multi_mid_stream(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        d.give_buffers(8)?;
        let (mut client, server) = tcp_pair()?;
        let server = Arc::new(server);
        let t = d.push(owned::RecvMulti::new(server.clone())).map_err(|r| r.errno())?;
        d.submit()?;
        client.write_all(&[1u8; 64])?;
        let first = d.wait_next(&t)?.context("ended")??.context("end of stream")?;
        ensure!(d.bytes(&first) == [1u8; 64]);
        d.recycle(first);
        for _ in 0..3 {
            client.write_all(&[2u8; 64])?;
        }
        d.abandon(t);
        d.drain()?;
        // Every buffer is back in the ring: a new receive gets 8 buffers'
        // worth without running dry.
        let t = d.push(owned::RecvMulti::new(server)).map_err(|r| r.errno())?;
        d.submit()?;
        let mut total = 0;
        let mut want = 0;
        for round in 0..4 {
            client.write_all(&[3u8; 128])?;
            want += 128;
            while total < want {
                let got = d.wait_next(&t)?.context("ended")?;
                let got = got.with_context(|| format!("round {round}, {total} bytes"))?.context("eos")?;
                total += got.len();
                d.recycle(got);
            }
        }
        d.abandon(t);
        d.drain()?;
        ensure!(d.stats().leaked == 0);
        Ok(())
    }

    fn owned_abandon_send_zc_before_notif(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let (mut client, server) = tcp_pair()?;
        let (mut buf, drops) = Tracked::new(65536);
        buf.v.fill(7);
        let t = d.push(owned::SendZc::new(OwnedFd::from(server), buf)).map_err(|r| r.errno())?;
        d.submit()?;
        d.abandon_quietly(t);
        ensure!(drops.load(Ordering::SeqCst) == 0);
        let mut got = vec![0u8; 65536];
        client.read_exact(&mut got)?;
        ensure!(got.iter().all(|&b| b == 7), "the bytes the abandoned buffer held");
        d.drain()?;
        ensure!(drops.load(Ordering::SeqCst) == 1, "freed after the notification, once");
        Ok(())
    }

    fn owned_abandon_timeout(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let t = d.push(owned::Timeout::new(Timespec::new().sec(3600))).map_err(|r| r.errno())?;
        d.submit()?;
        d.abandon(t);
        d.drain()?;
        ensure!(d.stats().cancel_cqes == 1, "the cancel's own completion, counted apart");
        Ok(())
    }

    fn owned_abandon_linked_chain(ctx: &Ctx) -> anyhow::Result<()> {
        let mut d = Self::driver(ctx)?;
        let (rx, _tx) = pipe()?;
        let (buf, drops) = Tracked::new(16);
        let (rt, tt) = d
            .push_with_timeout(owned::Read::new(OwnedFd::from(rx), buf), Duration::from_secs(3600))
            .map_err(|(_, e)| e)?;
        d.submit()?;
        d.abandon(tt);
        d.abandon(rt);
        d.drain()?;
        ensure!(drops.load(Ordering::SeqCst) == 1);
        // A chain whose first link fails: the second ends ECANCELED.
        let (rx, _tx) = pipe()?;
        let (a, b) = d
            .push_linked(owned::Nop::new().result(-libc::EIO), owned::Read::new(OwnedFd::from(rx), vec![0u8; 4]))
            .map_err(|(_, _, e)| e)?;
        d.submit()?;
        if kernel_version() >= (6, 14) {
            ensure!(d.wait(a)? == Err(Errno::IO));
            ensure!(d.wait(b)?.result == Err(Errno::CANCELED));
        } else {
            d.abandon(a);
            d.abandon(b);
            d.drain()?;
        }
        Ok(())
    }

    fn owned_teardown_with_each_lifecycle_in_flight(ctx: &Ctx) -> anyhow::Result<()> {
        static STORE: SlotStore<16> = SlotStore::new();
        let slots = STORE.take().context("the store was not given back by an earlier teardown")?;
        let mut d: Driver<16, 320, S, C> = Driver::with_slots(ctx.ring::<S, C>(16)?, slots);
        let mut counters = Vec::new();
        // A pipe read that never gets data.
        let (rx, tx) = pipe()?;
        let (buf, drops) = Tracked::new(16);
        counters.push(drops);
        let _read = d.push(owned::Read::new(OwnedFd::from(rx), buf)).map_err(|r| r.errno())?;
        // A timeout of an hour, and a linked chain.
        let _timeout = d.push(owned::Timeout::new(Timespec::new().sec(3600))).map_err(|r| r.errno())?;
        let (rx2, tx2) = pipe()?;
        let (buf, drops) = Tracked::new(16);
        counters.push(drops);
        let _chain = d
            .push_with_timeout(owned::Read::new(OwnedFd::from(rx2), buf), Duration::from_secs(3600))
            .map_err(|(_, e)| e)?;
        // A multishot receive (when buffer rings can be mapped).
        let (_client, server) = tcp_pair()?;
        let multishot = d.provide_buffers_boxed(4, 64).is_ok();
        if multishot {
            let _recv = d.push(owned::RecvMulti::new(OwnedFd::from(server))).map_err(|r| r.errno())?;
        }
        // One completed but never polled, one completed and abandoned.
        let _done = d.push(owned::Nop::new()).map_err(|r| r.errno())?;
        d.submit()?;
        ensure!(d.in_use() >= 5);
        drop(d);
        for c in &counters {
            ensure!(c.load(Ordering::SeqCst) == 1, "each buffer freed once, after its completion");
        }
        ensure!(STORE.take().map(drop).is_some(), "clean teardown gives the slots back");
        drop((tx, tx2));
        Ok(())
    }

    /// 32 NOPs completed into a 4-entry CQ, none reaped: 28 wait in the
    /// kernel's overflow list when the driver drops. Teardown must flush and
    /// reap them all (every slot free, the store given back).
    fn owned_teardown_with_cq_overflow(ctx: &Ctx) -> anyhow::Result<()> {
        static STORE: SlotStore<32, 64> = SlotStore::new();
        let ring = ctx.builder::<S, C>().setup_cqsize(4).build(4)?;
        let mut d: Driver<32, 64, S, C> = Driver::with_slots(ring, STORE.take().context("store not given back")?);
        let mut pushed = 0;
        while pushed < 32 {
            match d.push(owned::Nop::new()) {
                Ok(t) => {
                    d.abandon_quietly(t);
                    pushed += 1;
                }
                Err(_) => {
                    d.submit()?;
                }
            }
        }
        d.submit()?;
        ensure!(d.in_use() == 32, "nothing reaped yet");
        drop(d);
        ensure!(STORE.take().map(drop).is_some(), "every overflowed completion reaped, slots given back");
        Ok(())
    }
}

// --------------------------------------------------------------------- abandon

// --------------------------------------------------------------------- teardown

/// An operation the kernel cannot cancel (a read from a FIFO-less
/// blocking file is cancellable, so use the SQ: the op is pushed, never
/// submitted, on a ring whose fd will not be entered): teardown waits the
/// timeout, then leaks, and never frees the buffer.
fn owned_teardown_leaks_what_does_not_end(_: &Ctx) -> anyhow::Result<()> {
    static STORE: SlotStore<4> = SlotStore::new();
    let ring = urix::IoUring::builder().setup_r_disabled().build(4)?;
    let _ = &ring;
    let mut d: Driver<4> = Driver::with_slots(ring, STORE.take().context("fresh store")?);
    d.set_teardown_timeout(50);
    let (rx, _tx) = pipe()?;
    let (buf, drops) = Tracked::new(16);
    let t = d.push(owned::Read::new(OwnedFd::from(rx), buf)).map_err(|r| r.errno())?;
    // The enter fails (the ring is disabled) after the SQE was published:
    // the slot stays in flight, nothing is freed.
    ensure!(d.submit().is_err(), "a disabled ring refuses to enter");
    ensure!(d.in_use() == 1 && drops.load(Ordering::SeqCst) == 0);
    let _ = t;
    let leaked = d.shutdown();
    ensure!(leaked == 1, "leaked {leaked}");
    ensure!(drops.load(Ordering::SeqCst) == 0, "never freed: the kernel may still use it");
    drop(d);
    ensure!(STORE.take().is_none(), "leaked storage is not handed out again");
    Ok(())
}

// --------------------------------------------------------------------- stress

/// `URING_OWNED_STRESS_OPS` (default 1,000,000) operations on two threads,
/// each with its own 256-slot driver: NOPs, and every fourth a read of a
/// file into a buffer that counts its drops; a tenth of all abandoned at
/// random (half of those with a cancel). At the end every slot is free
/// and every buffer was dropped exactly once.
fn stress_owned_million_ops_tenth_abandoned(_: &Ctx) -> anyhow::Result<()> {
    let n: u64 = std::env::var("URING_OWNED_STRESS_OPS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let start = std::time::Instant::now();
    let threads: Vec<_> =
        (0..2u64).map(|i| std::thread::spawn(move || stress_thread(n / 2 + (n % 2) * (1 - i), 0x5eed + i))).collect();
    let mut abandoned = 0;
    for t in threads {
        abandoned += t.join().map_err(|_| anyhow::anyhow!("stress thread panicked"))??;
    }
    let took = start.elapsed();
    println!(
        "    {n} owned ops on 2 threads ({} reads), {abandoned} abandoned: {took:.2?}, {:.0} ns/op; 0 slots, 0 buffers held",
        n / 4,
        took.as_secs_f64() * 1e9 / n as f64
    );
    Ok(())
}

enum Live {
    Nop(Ticket<owned::Nop>),
    Read(Ticket<owned::Read<Arc<std::fs::File>, Tracked>>),
}

fn stress_thread(n: u64, seed: u64) -> anyhow::Result<u64> {
    let mut d: Driver<256> = Driver::with_slots(urix::IoUring::new(256)?, Slots::boxed());
    let file = Arc::new(tempfile()?);
    (&*file).write_all(&[0x5a; 64])?;
    let drops = Arc::new(AtomicUsize::new(0));
    let mut rng = Rng(seed);
    let mut live: Vec<Live> = Vec::with_capacity(256);
    let (mut done, mut abandoned, mut pushed, mut bufs) = (0u64, 0u64, 0u64, 0usize);
    while done + abandoned < n {
        while pushed < n && d.has_room() {
            let t = if pushed % 4 == 3 {
                let buf = Tracked { v: vec![0; 64], drops: drops.clone() };
                bufs += 1;
                match d.push(owned::Read::new(file.clone(), buf).at(0)) {
                    Ok(t) => Live::Read(t),
                    Err(_) => bail!("refused with room"),
                }
            } else {
                match d.push(owned::Nop::new()) {
                    Ok(t) => Live::Nop(t),
                    Err(_) => bail!("refused with room"),
                }
            };
            pushed += 1;
            if rng.below(10) == 0 {
                let cancel = rng.below(2) == 0;
                match t {
                    Live::Nop(t) if cancel => d.abandon(t),
                    Live::Nop(t) => d.abandon_quietly(t),
                    Live::Read(t) if cancel => d.abandon(t),
                    Live::Read(t) => d.abandon_quietly(t),
                }
                abandoned += 1;
            } else {
                live.push(t);
            }
        }
        d.submit_and_wait(1)?;
        d.reap();
        let mut i = 0;
        while i < live.len() {
            let ready = match &live[i] {
                Live::Nop(t) => match d.try_take(t) {
                    std::task::Poll::Ready(r) => {
                        ensure!(r == Ok(0), "nop: {r:?}");
                        true
                    }
                    std::task::Poll::Pending => false,
                },
                Live::Read(t) => match d.try_take(t) {
                    std::task::Poll::Ready(r) => {
                        ensure!(r.result == Ok(64) && r.buf.v == [0x5a; 64], "read: {:?}", r.result);
                        true
                    }
                    std::task::Poll::Pending => false,
                },
            };
            if ready {
                let _done = live.swap_remove(i);
                done += 1;
            } else {
                i += 1;
            }
        }
    }
    d.drain()?;
    ensure!(d.in_use() == 0, "{} slots still held", d.in_use());
    ensure!(d.stats().leaked == 0 && d.stats().foreign == 0, "{:?}", d.stats());
    ensure!(drops.load(Ordering::SeqCst) == bufs, "{bufs} buffers made, {} dropped", drops.load(Ordering::SeqCst));
    Ok(abandoned)
}
