//! Helpers shared by the tests.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use std::fs::File;
use std::os::fd::FromRawFd;
use std::os::unix::fs::OpenOptionsExt as _;

use anyhow::{bail, ensure, Context};
use std::sync::atomic::{AtomicU16, Ordering};

use urix::types::{BufRingEntry, SubmitArgs, Timespec};
use urix::{cqueue, opcode, squeue, IoUring};

/// A NOP with `user_data`, as the ring's entry type.
pub fn nop<S: squeue::EntryMarker>(user_data: u64) -> S {
    S::from(opcode::Nop::new().build().user_data(user_data))
}

/// Pushes all `entries`, submitting whenever the SQ is full, then submits
/// the rest. Works for SQPOLL rings too (waits for the kernel thread).
pub fn push_all<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    entries: &[S],
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut rest = entries;
    while !rest.is_empty() {
        let mut sq = ring.submission();
        while let Some((first, tail)) = rest.split_first() {
            // SAFETY: the entries name no memory that could go away (NOPs
            // and the like, whose buffers the caller keeps alive).
            if unsafe { sq.push(first) }.is_err() {
                break;
            }
            rest = tail;
        }
        drop(sq);
        ring.submit().context("submit")?;
        if !rest.is_empty() {
            if Instant::now() > deadline {
                bail!("the SQ never drained ({} entries left)", rest.len());
            }
            std::thread::yield_now();
        }
    }
    Ok(())
}

/// How long a test waits for work that should finish at once (a NOP, a
/// read of data already there, a wake-up): only a failing test ever waits
/// this long, so it is generous. The harness runs under QEMU without KVM and
/// with both cores busy (issue 15, item 8), where "at once" can mean a
/// second: a bound here must never decide a passing test's outcome.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Collects exactly `n` completions, waiting as needed (at most 10 s:
/// each wait carries a timeout, so a completion that never comes, as when
/// an older kernel ends a multishot request early, fails the test instead
/// of hanging the harness).
pub fn reap<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    n: usize,
) -> anyhow::Result<Vec<cqueue::Entry>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        // Exactly `n`: completions beyond them stay in the CQ for the caller.
        let want = n - out.len();
        out.extend(ring.completion().take(want).map(Into::into));
        if out.len() >= n {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let got: Vec<(u64, i32)> = out.iter().map(|c| (c.user_data_u64(), c.raw_result())).collect();
            bail!("only {} of {n} completions arrived (user_data, result): {got:?}", out.len());
        }
        let ts = Timespec::new().sec(left.as_secs()).nsec(left.subsec_nanos());
        match ring.submitter().submit_with_args(1, &SubmitArgs::new().timespec(&ts)) {
            Ok(_) | Err(rustix::io::Errno::TIME) => {}
            Err(e) => return Err(e).context("submit_with_args (wait for 1, with a timeout)"),
        }
    }
    Ok(out)
}

/// Checks that `user_data` values `0..n` each occur exactly once.
pub fn check_each_once(n: usize, seen: impl IntoIterator<Item = u64>) -> anyhow::Result<()> {
    let mut counts = vec![0u32; n];
    for ud in seen {
        let slot = counts.get_mut(ud as usize).with_context(|| format!("unexpected user_data {ud}"))?;
        *slot += 1;
    }
    if let Some((ud, c)) = counts.iter().enumerate().find(|(_, &c)| c != 1) {
        bail!("user_data {ud} seen {c} times");
    }
    Ok(())
}

/// Submits one entry (64-byte, or the ring's own type) and waits for its
/// completion.
pub fn one<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    e: impl Into<S>,
) -> anyhow::Result<cqueue::Entry> {
    push_all(ring, &[e.into()])?;
    reap(ring, 1)?.pop().context("no completion")
}

/// A pipe (read end, write end), both close-on-exec.
pub fn pipe() -> anyhow::Result<(File, File)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    ensure!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == 0, "pipe2");
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) })
}

/// An unnamed temporary file (`O_TMPFILE`).
pub fn tempfile() -> anyhow::Result<File> {
    let dir = std::env::temp_dir();
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .open(&dir)
        .with_context(|| format!("O_TMPFILE in {}", dir.display()))
}

/// `mmap` with a 64-bit file offset on every target: on 32-bit glibc
/// `mmap`'s `off_t` is 32 bits, too small for the io_uring mmap offsets
/// (`IORING_OFF_PBUF_RING` is `0x8000_0000`), while `mmap64` (glibc) and
/// `mmap` (musl, whose `off_t` is always 64 bits) take the whole value.
/// Returns `MAP_FAILED` as mmap does.
///
/// # Safety
/// As for `mmap(2)` with a null address hint.
pub unsafe fn mmap64(
    len: usize,
    prot: libc::c_int,
    flags: libc::c_int,
    fd: std::os::fd::RawFd,
    offset: u64,
) -> anyhow::Result<*mut libc::c_void> {
    let offset = i64::try_from(offset).context("mmap offset")?;
    // SAFETY: the caller's promise; the offset is the kernel's 64-bit one.
    #[cfg(target_env = "gnu")]
    let ptr = unsafe { libc::mmap64(std::ptr::null_mut(), len, prot, flags, fd, offset) };
    // SAFETY: as above; `off_t` is 64 bits outside glibc.
    #[cfg(not(target_env = "gnu"))]
    let ptr = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, fd, offset) };
    Ok(ptr)
}

/// The kernel's page size (4 KiB on x86_64, 4, 16 or 64 KiB on arm64).
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).expect("sysconf(_SC_PAGESIZE)")
}

/// Page-aligned memory for registered buffers (std's allocator gives no
/// page alignment, and huge-page coalescing wants it).
pub struct Pages {
    pub ptr: *mut u8,
    len: usize,
}

impl Pages {
    /// `len` bytes of fresh private anonymous memory.
    pub fn new(len: usize) -> anyhow::Result<Pages> {
        Self::map(len, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
    }

    /// A shared, populated mapping of `len` bytes of `fd` at `offset` (a
    /// ring's kernel-allocated memory).
    pub fn shared(fd: std::os::fd::RawFd, offset: u64, len: usize) -> anyhow::Result<Pages> {
        Self::map(len, libc::MAP_SHARED | libc::MAP_POPULATE, fd, offset)
    }

    fn map(len: usize, flags: libc::c_int, fd: std::os::fd::RawFd, offset: u64) -> anyhow::Result<Pages> {
        // SAFETY: a new mapping at an address the kernel picks; no existing
        // memory is touched.
        let ptr = unsafe { mmap64(len, libc::PROT_READ | libc::PROT_WRITE, flags, fd, offset)? };
        ensure!(ptr != libc::MAP_FAILED, "mmap: {}", std::io::Error::last_os_error());
        Ok(Pages { ptr: ptr.cast(), len })
    }

    pub fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is `len` bytes, readable and writable, and
        // only reachable through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping `new` made. Registered buffers
        // and buffer rings hold their own page references in the kernel.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// A provided-buffer ring for tests: a page-aligned ring of `entries`
/// (a power of two) buffers of `buf_len` bytes, bid `i` at offset
/// `i * buf_len`. Make it before the io_uring it is registered with, so it
/// outlives any operation still armed when a test bails out.
pub struct BufRing {
    ring: Pages,
    bufs: Pages,
    entries: u16,
    buf_len: u32,
    tail: u16,
}

impl BufRing {
    pub fn new(entries: u16, buf_len: u32) -> anyhow::Result<BufRing> {
        let ring = Pages::new(4096.max(entries as usize * 16))?;
        let bufs = Pages::new(entries as usize * buf_len as usize)?;
        Ok(BufRing { ring, bufs, entries, buf_len, tail: 0 })
    }

    /// Registers the ring as buffer group `bgid` of `uring`.
    pub fn register<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
        &self,
        uring: &IoUring<S, C>,
        bgid: u16,
    ) -> anyhow::Result<()> {
        self.register_through(&uring.submitter(), bgid)
    }

    /// Registers the ring as buffer group `bgid` through any submitter
    /// (an `IoUring`'s, or a `RegisteredRing`'s through its index).
    pub fn register_through<H: urix::ring::RingHandle>(
        &self,
        submitter: &urix::Submitter<'_, H>,
        bgid: u16,
    ) -> anyhow::Result<()> {
        // SAFETY: the ring and buffer memory stay mapped while registered
        // (the BufRing is made before, so dropped after, the io_uring).
        unsafe { submitter.register_buf_ring(self.ring.ptr.cast(), self.entries, bgid) }.context("register_buf_ring")
    }

    /// Registers it with `io_uring_buf_reg` flags and `min_left` (7.1).
    pub fn register_min_left<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
        &self,
        uring: &IoUring<S, C>,
        bgid: u16,
        flags: u16,
        min_left: u32,
    ) -> anyhow::Result<()> {
        // SAFETY: as in `register`.
        unsafe {
            uring.submitter().register_buf_ring_min_left(self.ring.ptr.cast(), self.entries, bgid, flags, min_left)
        }
        .context("register_buf_ring_min_left")
    }

    /// Hands buffer `bid` to the kernel.
    pub fn provide(&mut self, bid: u16) {
        self.provide_len(bid, self.buf_len);
    }

    /// Copies `data` into buffer `bid` and hands the kernel that much of it
    /// (a send picks it up as a buffer of `data.len()` bytes).
    pub fn fill(&mut self, bid: u16, data: &[u8]) {
        let start = usize::from(bid) * self.buf_len as usize;
        self.bufs.bytes()[start..start + data.len()].copy_from_slice(data);
        self.provide_len(bid, data.len() as u32);
    }

    fn provide_len(&mut self, bid: u16, len: u32) {
        let base = self.ring.ptr.cast::<BufRingEntry>();
        let slot = usize::from(self.tail & (self.entries - 1));
        // SAFETY: `slot < entries` lies inside the ring mapping; the kernel
        // reads it only once the tail below covers it.
        let e = unsafe { &mut *base.add(slot) };
        // SAFETY: `bid < entries` keeps the address inside `bufs`.
        e.set_addr(unsafe { self.bufs.ptr.add(usize::from(bid) * self.buf_len as usize) }.cast());
        e.set_len(len);
        e.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
        // SAFETY: the tail overlays entry 0 of the ring, 2-aligned; Release
        // publishes the entry written above.
        let tail = unsafe { &*BufRingEntry::tail(base).cast::<AtomicU16>() };
        tail.store(self.tail, Ordering::Release);
    }

    /// Hands every buffer to the kernel, bids in order.
    pub fn provide_all(&mut self) {
        for bid in 0..self.entries {
            self.provide(bid);
        }
    }

    /// A copy of buffer `bid`.
    pub fn buf(&mut self, bid: u16) -> Vec<u8> {
        let start = bid as usize * self.buf_len as usize;
        self.bufs.bytes()[start..start + self.buf_len as usize].to_vec()
    }

    /// All buffers, back to back.
    pub fn all(&mut self) -> &[u8] {
        self.bufs.bytes()
    }
}

/// A connected loopback TCP pair (client, server), blocking with a 2 s
/// read timeout so a failing test cannot hang.
pub fn tcp_pair() -> anyhow::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    for s in [&client, &server] {
        s.set_read_timeout(Some(PATIENCE))?;
    }
    Ok((client, server))
}

/// Passes `r` on, except `ENOSYS`, which ends the test as skipped: the
/// build cannot express the call (the rustix fallback has no fd -1 and no
/// `argsz` 64; a kernel with io_uring never answers ENOSYS to these).
pub fn unless_inexpressible<T>(r: Result<T, urix::Errno>, what: &str) -> anyhow::Result<T> {
    match r {
        Err(urix::Errno::NOSYS) => Err(anyhow::Error::new(crate::harness::Skip(format!(
            "{what}: ENOSYS, this build cannot express the call (rustix fallback)"
        )))),
        r => r.with_context(|| what.to_string()),
    }
}

/// Pushes one entry and submits it.
pub fn push_submit(ring: &mut IoUring, e: &squeue::Entry) -> anyhow::Result<()> {
    // SAFETY: the callers' entries name only memory that outlives the ring
    // (buffer groups, sockets, listeners declared before it).
    unsafe { ring.submission().push(e) }.map_err(|_| anyhow::anyhow!("SQ full"))?;
    ring.submit().context("submit")?;
    Ok(())
}

/// xorshift64: the same pseudo-random sequence on every run.
pub struct Rng(pub u64);

impl Rng {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The running kernel's release as (major, minor), from
/// /proc/sys/kernel/osrelease; (0, 0) if it cannot be read.
pub fn kernel_version() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release.trim().split(['.', '-', '+']).map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Ends the test as skipped if the running kernel is older than
/// `major.minor`, the release that added `what`. On a kernel that has it,
/// returns `Ok`, so a refusal there still fails the test.
pub fn needs_kernel(major: u32, minor: u32, what: &str) -> anyhow::Result<()> {
    let (have_major, have_minor) = kernel_version();
    if (have_major, have_minor) < (major, minor) {
        crate::skip!("{what} needs Linux {major}.{minor}; this is {have_major}.{have_minor}");
    }
    Ok(())
}

/// Reads registered file `slot` of `ring` from offset 0 (up to 32 bytes).
pub fn read_fixed<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ring: &mut IoUring<S, C>,
    slot: u32,
) -> anyhow::Result<Result<Vec<u8>, urix::Errno>> {
    let mut buf = [0u8; 32];
    let c = one(ring, opcode::Read::new(urix::types::Fixed(slot), buf.as_mut_ptr(), 32).build())?;
    Ok(c.result().map(|n| buf[..n as usize].to_vec()))
}
