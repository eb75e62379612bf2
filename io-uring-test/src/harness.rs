//! The harness: tests as values, flavours from a table, a runner that
//! skips with a reason and never stops at a failure.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use urix::{cqueue, squeue, Builder, IoUring, Probe};

/// A test body, instantiated for one pair of entry types.
pub type RunFn = fn(&Ctx) -> anyhow::Result<()>;

/// One test: a name, what it needs, and its body for each entry-type pair
/// (64/16, 128/16, 64/32, 128/32 bytes), in the order of [`EntryKind`].
pub struct Test {
    pub name: &'static str,
    pub requires: &'static [Req],
    /// Run on the first flavour only: the test does not depend on the ring
    /// flavour (it builds its own rings, or none).
    pub once: bool,
    pub run: [RunFn; 4],
}

/// What a test needs from the kernel; checked before it runs.
///
/// A test that passes counts each opcode it requires as exercised (the
/// `ops exercised` figure), so a test lists exactly the opcodes it submits
/// and checks.
#[derive(Debug, Clone, Copy)]
pub enum Req {
    /// The opcode must be supported (per the probe).
    Op(u8, &'static str),
    /// The `io_uring_register` opcode must exist (per `IORING_REGISTER_QUERY`,
    /// when the kernel has it); counted in `register ops exercised`.
    Register(u8, &'static str),
    /// As `Register`, but the test can only check the kernel's refusal
    /// (the call needs hardware we lack); the coverage line says so.
    RegisterRefusal(u8, &'static str),
    /// The test sets up a ring with this `IORING_SETUP_*` bit and checks
    /// that it is in force; counted in `setup flags exercised` (against
    /// the kernel's QUERY answer). Never a reason to skip: the test
    /// decides (the flavours' own flags count for every test that passes
    /// on them).
    Setup(u32, &'static str),
}

/// Instantiates a generic test body for the four entry-type pairs.
#[macro_export]
macro_rules! each_entry {
    ($f:ident) => {
        [
            $f::<urix::squeue::Entry, urix::cqueue::Entry>,
            $f::<urix::squeue::Entry128, urix::cqueue::Entry>,
            $f::<urix::squeue::Entry, urix::cqueue::Entry32>,
            $f::<urix::squeue::Entry128, urix::cqueue::Entry32>,
        ]
    };
}

/// Declares a test that runs on every flavour.
#[macro_export]
macro_rules! test {
    ($f:ident $(, requires = [$($req:expr),* $(,)?])?) => {
        $crate::harness::Test {
            name: stringify!($f),
            requires: &[$($($req),*)?],
            once: false,
            run: $crate::each_entry!($f),
        }
    };
}

/// Declares a test that runs once, on the first flavour; its body builds
/// its own rings, so it is not generic over the entry types.
#[macro_export]
macro_rules! test_once {
    ($f:ident $(, requires = [$($req:expr),* $(,)?])?) => {
        $crate::harness::Test {
            name: stringify!($f),
            requires: &[$($($req),*)?],
            once: true,
            run: [$f as $crate::harness::RunFn; 4],
        }
    };
}

/// Ends a test as skipped, with the reason.
#[macro_export]
macro_rules! skip {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::harness::Skip(format!($($arg)*))))
    };
}

/// The error a skipped test returns.
#[derive(Debug)]
pub struct Skip(pub String);

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Skip {}

/// Which entry sizes a flavour uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Sqe64Cqe16 = 0,
    Sqe128Cqe16 = 1,
    Sqe64Cqe32 = 2,
    Sqe128Cqe32 = 3,
}

/// A ring flavour: entry sizes plus setup flags every test ring gets.
#[derive(Debug, Clone, Copy)]
pub struct Flavour {
    pub name: &'static str,
    pub entries: EntryKind,
    pub sqpoll: bool,
    pub defer_taskrun: bool,
}

/// The flavours, in run order.
pub const FLAVOURS: &[Flavour] = &[
    Flavour { name: "default", entries: EntryKind::Sqe64Cqe16, sqpoll: false, defer_taskrun: false },
    Flavour { name: "sqe128", entries: EntryKind::Sqe128Cqe16, sqpoll: false, defer_taskrun: false },
    Flavour { name: "cqe32", entries: EntryKind::Sqe64Cqe32, sqpoll: false, defer_taskrun: false },
    Flavour { name: "sqe128+cqe32", entries: EntryKind::Sqe128Cqe32, sqpoll: false, defer_taskrun: false },
    Flavour { name: "sqpoll", entries: EntryKind::Sqe64Cqe16, sqpoll: true, defer_taskrun: false },
    Flavour { name: "defer_taskrun", entries: EntryKind::Sqe64Cqe16, sqpoll: false, defer_taskrun: true },
];

/// SQPOLL idle time of the sqpoll flavour, in milliseconds.
pub const SQPOLL_IDLE_MS: u32 = 50;

/// What a test gets: its flavour and the kernel's probe.
pub struct Ctx {
    pub flavour: Flavour,
    pub probe: Probe,
    /// `io_uring_register` opcodes `0..n` exist (from `IORING_REGISTER_QUERY`;
    /// on kernels before 6.18, which cannot say, from the release).
    pub register_ops: Option<u32>,
}

impl Ctx {
    /// A builder with the flavour's flags.
    pub fn builder<S: squeue::EntryMarker, C: cqueue::EntryMarker>(&self) -> Builder<S, C> {
        let mut b = IoUring::<S, C>::builder();
        if self.flavour.sqpoll {
            b.setup_sqpoll(SQPOLL_IDLE_MS);
        }
        if self.flavour.defer_taskrun {
            b.setup_single_issuer().setup_defer_taskrun();
        }
        b
    }

    /// A fresh ring of the flavour.
    pub fn ring<S: squeue::EntryMarker, C: cqueue::EntryMarker>(&self, entries: u32) -> anyhow::Result<IoUring<S, C>> {
        self.builder().build(entries).map_err(|e| anyhow::anyhow!("ring setup ({}): {e}", self.flavour.name))
    }
}

/// Command-line selection.
#[derive(Debug, Default)]
pub struct Options {
    pub filter: Option<String>,
    pub exact: bool,
    pub flavour: Option<String>,
    pub list: bool,
}

impl Options {
    pub fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut o = Options::default();
        let mut args = args.peekable();
        while let Some(a) = args.next() {
            match a.as_str() {
                "--exact" => o.exact = true,
                "--list" => o.list = true,
                "--flavour" | "--flavor" => {
                    let f = args.next().ok_or("--flavour needs a name")?;
                    if !FLAVOURS.iter().any(|x| x.name == f) {
                        let names: Vec<_> = FLAVOURS.iter().map(|x| x.name).collect();
                        return Err(format!("unknown flavour {f:?}; known: {}", names.join(", ")));
                    }
                    o.flavour = Some(f);
                }
                s if s.starts_with("--") => return Err(format!("unknown option {s}")),
                s => {
                    if o.filter.replace(s.to_string()).is_some() {
                        return Err("only one FILTER may be given".into());
                    }
                }
            }
        }
        Ok(o)
    }

    fn selects(&self, name: &str) -> bool {
        match &self.filter {
            None => true,
            Some(f) if self.exact => name == f,
            Some(f) => name.contains(f.as_str()),
        }
    }
}

/// Counts of a run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Opcodes required by at least one test that passed.
    pub ops_exercised: BTreeSet<u8>,
    /// Register opcodes a passing test used for real, with their names.
    pub register_used: BTreeMap<u8, &'static str>,
    /// Register opcodes a passing test could only see refused.
    pub register_refused: BTreeMap<u8, &'static str>,
    /// `IORING_SETUP_*` bits a passing test set up a ring with.
    pub setup_exercised: BTreeMap<u32, &'static str>,
}

impl Summary {
    /// The coverage line: opcodes the kernel supports that a passing test
    /// exercised, and which supported ones none did.
    pub fn ops_coverage(&self, probe: &Probe) -> String {
        let supported: Vec<u8> = probe.supported().collect();
        let done = supported.iter().filter(|op| self.ops_exercised.contains(op)).count();
        let mut line = format!("ops exercised: {done}/{}", supported.len());
        let missing: Vec<String> =
            supported.iter().filter(|op| !self.ops_exercised.contains(op)).map(u8::to_string).collect();
        if !missing.is_empty() {
            let _ = write!(line, " (not exercised: {})", missing.join(", "));
        }
        line
    }

    /// The register coverage line: register opcodes `0..register_ops`
    /// (all the kernel has) that a passing test exercised, which none did,
    /// and which were exercised only by checking the kernel's refusal.
    pub fn register_coverage(&self, register_ops: u32) -> String {
        let exercised = |op: &u8| self.register_used.contains_key(op) || self.register_refused.contains_key(op);
        let all = 0..register_ops.min(256) as u8;
        let done = all.clone().filter(exercised).count();
        let mut line = format!("register ops exercised: {done}/{register_ops}");
        let missing: Vec<String> = all.filter(|op| !exercised(op)).map(|op| op.to_string()).collect();
        if !missing.is_empty() {
            let _ = write!(line, " (not exercised: {})", missing.join(", "));
        }
        let refused: Vec<String> = self
            .register_refused
            .iter()
            .filter(|(op, _)| !self.register_used.contains_key(op))
            .map(|(op, name)| format!("{op} {name}"))
            .collect();
        if !refused.is_empty() {
            let _ = write!(line, "; only the kernel's refusal checked, no hardware for: {}", refused.join(", "));
        }
        line
    }

    /// The setup-flag coverage line: the bits of `mask` (every
    /// `IORING_SETUP_*` flag the kernel accepts, from QUERY) that a passing
    /// test set up a ring with, and which none did.
    pub fn setup_coverage(&self, mask: u64) -> String {
        let bits: Vec<u32> = (0..64).filter(|b| mask & (1 << b) != 0).map(|b| 1u32 << b.min(31)).collect();
        let done = bits.iter().filter(|b| self.setup_exercised.contains_key(b)).count();
        let mut line = format!("setup flags exercised: {done}/{}", bits.len());
        let missing: Vec<String> = bits
            .iter()
            .filter(|b| !self.setup_exercised.contains_key(b))
            .map(|b| setup::name(*b).map_or_else(|| format!("{b:#x}"), str::to_string))
            .collect();
        if !missing.is_empty() {
            let _ = write!(line, " (not exercised: {})", missing.join(", "));
        }
        line
    }

    /// The flags every ring of `flavour` is set up with.
    fn count_flavour(&mut self, flavour: &Flavour) {
        let mut reqs = Vec::new();
        if matches!(flavour.entries, EntryKind::Sqe128Cqe16 | EntryKind::Sqe128Cqe32) {
            reqs.push(setup::SQE128);
        }
        if matches!(flavour.entries, EntryKind::Sqe64Cqe32 | EntryKind::Sqe128Cqe32) {
            reqs.push(setup::CQE32);
        }
        if flavour.sqpoll {
            reqs.push(setup::SQPOLL);
        }
        if flavour.defer_taskrun {
            reqs.extend([setup::SINGLE_ISSUER, setup::DEFER_TASKRUN]);
        }
        self.count_exercised(&reqs);
    }

    fn count_exercised(&mut self, reqs: &[Req]) {
        for req in reqs {
            match *req {
                Req::Setup(bit, name) => {
                    self.setup_exercised.insert(bit, name);
                }
                Req::Op(op, _) => {
                    self.ops_exercised.insert(op);
                }
                Req::Register(op, name) => {
                    self.register_used.insert(op, name);
                }
                Req::RegisterRefusal(op, name) => {
                    self.register_refused.insert(op, name);
                }
            }
        }
    }
}

enum Outcome {
    Pass,
    Skip(String),
    Fail(String),
}

fn run_one(test: &Test, ctx: &Ctx) -> Outcome {
    for req in test.requires {
        match *req {
            Req::Op(op, name) if !ctx.probe.is_supported(op) => {
                return Outcome::Skip(format!("kernel does not support {name} (opcode {op})"));
            }
            Req::Register(op, name) | Req::RegisterRefusal(op, name)
                if ctx.register_ops.is_some_and(|n| u32::from(op) >= n) =>
            {
                return Outcome::Skip(format!("kernel does not have register op {name} ({op})"));
            }
            Req::Op(..) | Req::Register(..) | Req::RegisterRefusal(..) | Req::Setup(..) => {}
        }
    }
    let run = test.run[ctx.flavour.entries as usize];
    match panic::catch_unwind(AssertUnwindSafe(|| run(ctx))) {
        Ok(Ok(())) => Outcome::Pass,
        Ok(Err(e)) => match e.downcast_ref::<Skip>() {
            Some(s) => Outcome::Skip(s.0.clone()),
            None => Outcome::Fail(format!("{e:#}")),
        },
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            Outcome::Fail(format!("panicked: {msg}"))
        }
    }
}

/// How many register opcodes a kernel without `IORING_REGISTER_QUERY`
/// (before 6.18) has, from its release and the release that added each
/// opcode: 0..=23 by 5.19, SYNC_CANCEL and FILE_ALLOC_RANGE 6.0,
/// PBUF_STATUS 6.8, NAPI 6.9, CLOCK and CLONE_BUFFERS 6.12, SEND_MSG_RING
/// to MEM_REGION 6.13 (ZCRX_IFQ's slot 32 is reserved there; only its
/// refusal is tested). Used only to skip tests, never for coverage.
fn register_ops_by_release() -> Option<u32> {
    const ADDED: &[((u32, u32), u32)] =
        &[((5, 19), 24), ((6, 0), 26), ((6, 8), 27), ((6, 9), 29), ((6, 12), 31), ((6, 13), 35)];
    let release = crate::util::kernel_version();
    ADDED.iter().rev().find(|(since, _)| release >= *since).map(|&(_, n)| n)
}

/// How long one test may take before the watchdog ends the run: far above
/// any test's own deadlines, so only a wait that can never end trips it.
/// `IO_URING_TEST_HANG_SECS` overrides it (an emulated machine is slower);
/// the default is 300 s times `URING_STRESS_SCALE`.
fn hang_limit() -> Duration {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let secs = var("IO_URING_TEST_HANG_SECS").unwrap_or(300 * var("URING_STRESS_SCALE").unwrap_or(1).max(1));
    Duration::from_secs(secs)
}

/// The test now running, for the watchdog: its result-line prefix, when it
/// started, and the passed, failed and skipped counts so far.
type Running = (String, Instant, usize, usize, usize);
static RUNNING: Mutex<Option<Running>> = Mutex::new(None);

/// Starts a thread that, if one test runs longer than [`hang_limit`], prints
/// that test as FAILED, the kernel stacks of the process's threads (where
/// each one waits) and the summary line, and exits with status 3: a test
/// blocked in a wait that never returns (a completion an older kernel never
/// posts, a lost wake-up) shows up as a failure with its name, not as a
/// harness that never ends.
fn start_watchdog() {
    let limit = hang_limit();
    std::thread::spawn(move || {
        // Signals sent to the process are for the tests' threads.
        // SAFETY: `set` is a valid sigset_t, filled before use; this only
        // changes the calling thread's mask.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut set);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let running = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((line, start, passed, failed, skipped)) = running.as_ref() {
                if start.elapsed() > limit {
                    println!("{line}FAILED: still running after {} s; the harness stops here", limit.as_secs());
                    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
                        for t in tasks.flatten() {
                            let stack = std::fs::read_to_string(t.path().join("stack")).unwrap_or_default();
                            println!("    kernel stack of task {}:\n{stack}", t.file_name().to_string_lossy());
                        }
                    }
                    println!("{passed} passed, {} failed, {skipped} skipped", failed + 1);
                    let _ = std::io::Write::flush(&mut std::io::stdout());
                    std::process::exit(3);
                }
            }
        }
    });
}

/// Runs the selected tests on the selected flavours, printing one line per
/// test and the summary line last.
pub fn run(tests: &[Test], opts: &Options, probe: &Probe, register_ops: Option<u32>) -> Summary {
    let mut sum = Summary::default();
    if !opts.list {
        start_watchdog();
    }
    let flavours: Vec<&Flavour> =
        FLAVOURS.iter().filter(|f| opts.flavour.as_deref().is_none_or(|n| n == f.name)).collect();
    for (i, flavour) in flavours.iter().enumerate() {
        let selected: Vec<&Test> = tests.iter().filter(|t| opts.selects(t.name) && (!t.once || i == 0)).collect();
        if selected.is_empty() {
            continue;
        }
        if opts.list {
            for t in &selected {
                println!("{} [{}]", t.name, flavour.name);
            }
            continue;
        }
        let register_ops = register_ops.or_else(register_ops_by_release);
        let ctx = Ctx { flavour: **flavour, probe: probe.clone(), register_ops };
        if let Err(e) = flavour_available(&ctx) {
            println!("flavour {}: SKIPPED, the kernel refuses it: {e}", flavour.name);
            sum.skipped += selected.len();
            continue;
        }
        println!("flavour {} ({} tests)", flavour.name, selected.len());
        for t in selected {
            let mut line = format!("  {} [{}] ... ", t.name, flavour.name);
            let start = Instant::now();
            *RUNNING.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((line.clone(), start, sum.passed, sum.failed, sum.skipped));
            let outcome = run_one(t, &ctx);
            let took = start.elapsed();
            *RUNNING.lock().unwrap_or_else(|p| p.into_inner()) = None;
            match outcome {
                Outcome::Pass => {
                    sum.passed += 1;
                    sum.count_exercised(t.requires);
                    sum.count_flavour(flavour);
                    let _ = write!(line, "ok ({})", ms(took));
                }
                Outcome::Skip(why) => {
                    sum.skipped += 1;
                    let _ = write!(line, "skipped: {why}");
                }
                Outcome::Fail(why) => {
                    sum.failed += 1;
                    let _ = write!(line, "FAILED ({}): {why}", ms(took));
                }
            }
            println!("{line}");
        }
    }
    sum
}

fn flavour_available(ctx: &Ctx) -> anyhow::Result<()> {
    match ctx.flavour.entries {
        EntryKind::Sqe64Cqe16 => ctx.ring::<squeue::Entry, cqueue::Entry>(8).map(drop),
        EntryKind::Sqe128Cqe16 => ctx.ring::<squeue::Entry128, cqueue::Entry>(8).map(drop),
        EntryKind::Sqe64Cqe32 => ctx.ring::<squeue::Entry, cqueue::Entry32>(8).map(drop),
        EntryKind::Sqe128Cqe32 => ctx.ring::<squeue::Entry128, cqueue::Entry32>(8).map(drop),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// The `io_uring_register` opcodes of 6.18 (and two later ones) as test
/// requirements: `requires = [reg::FILES, ...]`.
pub mod reg {
    use super::Req::{self, Register};

    pub const BUFFERS: Req = Register(0, "REGISTER_BUFFERS");
    pub const UNREGISTER_BUFFERS: Req = Register(1, "UNREGISTER_BUFFERS");
    pub const FILES: Req = Register(2, "REGISTER_FILES");
    pub const UNREGISTER_FILES: Req = Register(3, "UNREGISTER_FILES");
    pub const EVENTFD: Req = Register(4, "REGISTER_EVENTFD");
    pub const UNREGISTER_EVENTFD: Req = Register(5, "UNREGISTER_EVENTFD");
    pub const FILES_UPDATE: Req = Register(6, "REGISTER_FILES_UPDATE");
    pub const EVENTFD_ASYNC: Req = Register(7, "REGISTER_EVENTFD_ASYNC");
    pub const PROBE: Req = Register(8, "REGISTER_PROBE");
    pub const PERSONALITY: Req = Register(9, "REGISTER_PERSONALITY");
    pub const UNREGISTER_PERSONALITY: Req = Register(10, "UNREGISTER_PERSONALITY");
    pub const RESTRICTIONS: Req = Register(11, "REGISTER_RESTRICTIONS");
    pub const ENABLE_RINGS: Req = Register(12, "REGISTER_ENABLE_RINGS");
    pub const FILES2: Req = Register(13, "REGISTER_FILES2");
    pub const FILES_UPDATE2: Req = Register(14, "REGISTER_FILES_UPDATE2");
    pub const BUFFERS2: Req = Register(15, "REGISTER_BUFFERS2");
    pub const BUFFERS_UPDATE: Req = Register(16, "REGISTER_BUFFERS_UPDATE");
    pub const IOWQ_AFF: Req = Register(17, "REGISTER_IOWQ_AFF");
    pub const UNREGISTER_IOWQ_AFF: Req = Register(18, "UNREGISTER_IOWQ_AFF");
    pub const IOWQ_MAX_WORKERS: Req = Register(19, "REGISTER_IOWQ_MAX_WORKERS");
    pub const RING_FDS: Req = Register(20, "REGISTER_RING_FDS");
    pub const UNREGISTER_RING_FDS: Req = Register(21, "UNREGISTER_RING_FDS");
    pub const PBUF_RING: Req = Register(22, "REGISTER_PBUF_RING");
    pub const UNREGISTER_PBUF_RING: Req = Register(23, "UNREGISTER_PBUF_RING");
    pub const SYNC_CANCEL: Req = Register(24, "REGISTER_SYNC_CANCEL");
    pub const FILE_ALLOC_RANGE: Req = Register(25, "REGISTER_FILE_ALLOC_RANGE");
    pub const PBUF_STATUS: Req = Register(26, "REGISTER_PBUF_STATUS");
    pub const NAPI: Req = Register(27, "REGISTER_NAPI");
    pub const UNREGISTER_NAPI: Req = Register(28, "UNREGISTER_NAPI");
    pub const CLOCK: Req = Register(29, "REGISTER_CLOCK");
    pub const CLONE_BUFFERS: Req = Register(30, "REGISTER_CLONE_BUFFERS");
    pub const SEND_MSG_RING: Req = Register(31, "REGISTER_SEND_MSG_RING");
    /// Needs a NIC with header split: only the refusal can be checked here.
    pub const ZCRX_IFQ_REFUSAL: Req = Req::RegisterRefusal(32, "REGISTER_ZCRX_IFQ");
    pub const RESIZE_RINGS: Req = Register(33, "REGISTER_RESIZE_RINGS");
    pub const MEM_REGION: Req = Register(34, "REGISTER_MEM_REGION");
    pub const QUERY: Req = Register(35, "REGISTER_QUERY");
    pub const ZCRX_CTRL: Req = Register(36, "REGISTER_ZCRX_CTRL");
    pub const BPF_FILTER: Req = Register(37, "REGISTER_BPF_FILTER");
}

/// The `IORING_SETUP_*` flags as test requirements: `requires =
/// [setup::NO_MMAP, ...]` on a test that sets a ring up with them and
/// checks they are in force.
pub mod setup {
    use super::Req::{self, Setup};

    pub const IOPOLL: Req = Setup(1 << 0, "IOPOLL");
    pub const SQPOLL: Req = Setup(1 << 1, "SQPOLL");
    pub const SQ_AFF: Req = Setup(1 << 2, "SQ_AFF");
    pub const CQSIZE: Req = Setup(1 << 3, "CQSIZE");
    pub const CLAMP: Req = Setup(1 << 4, "CLAMP");
    pub const ATTACH_WQ: Req = Setup(1 << 5, "ATTACH_WQ");
    pub const R_DISABLED: Req = Setup(1 << 6, "R_DISABLED");
    pub const SUBMIT_ALL: Req = Setup(1 << 7, "SUBMIT_ALL");
    pub const COOP_TASKRUN: Req = Setup(1 << 8, "COOP_TASKRUN");
    pub const TASKRUN_FLAG: Req = Setup(1 << 9, "TASKRUN_FLAG");
    pub const SQE128: Req = Setup(1 << 10, "SQE128");
    pub const CQE32: Req = Setup(1 << 11, "CQE32");
    pub const SINGLE_ISSUER: Req = Setup(1 << 12, "SINGLE_ISSUER");
    pub const DEFER_TASKRUN: Req = Setup(1 << 13, "DEFER_TASKRUN");
    pub const NO_MMAP: Req = Setup(1 << 14, "NO_MMAP");
    pub const REGISTERED_FD_ONLY: Req = Setup(1 << 15, "REGISTERED_FD_ONLY");
    pub const NO_SQARRAY: Req = Setup(1 << 16, "NO_SQARRAY");
    pub const HYBRID_IOPOLL: Req = Setup(1 << 17, "HYBRID_IOPOLL");
    pub const CQE_MIXED: Req = Setup(1 << 18, "CQE_MIXED");
    pub const SQE_MIXED: Req = Setup(1 << 19, "SQE_MIXED");
    pub const SQ_REWIND: Req = Setup(1 << 20, "SQ_REWIND");

    /// Every flag above, by bit.
    const ALL: &[Req] = &[
        IOPOLL,
        SQPOLL,
        SQ_AFF,
        CQSIZE,
        CLAMP,
        ATTACH_WQ,
        R_DISABLED,
        SUBMIT_ALL,
        COOP_TASKRUN,
        TASKRUN_FLAG,
        SQE128,
        CQE32,
        SINGLE_ISSUER,
        DEFER_TASKRUN,
        NO_MMAP,
        REGISTERED_FD_ONLY,
        NO_SQARRAY,
        HYBRID_IOPOLL,
        CQE_MIXED,
        SQE_MIXED,
        SQ_REWIND,
    ];

    /// The name of setup flag `bit`, if it is one we know.
    pub fn name(bit: u32) -> Option<&'static str> {
        ALL.iter().find_map(|r| match *r {
            Setup(b, name) if b == bit => Some(name),
            _ => None,
        })
    }
}
