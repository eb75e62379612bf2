//! Tests of `src/opcode/cancel.rs` on the kernel: `AsyncCancel` by
//! user_data, `AsyncCancel2` by user_data, fd (plain and registered),
//! opcode and any, first match or all.

use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::time::Duration;

use anyhow::{ensure, Context};
use urix::types::{CancelBuilder, Fd, Fixed, Timespec};
use urix::{cqueue, opcode, squeue, Errno};

use super::poll::{expect_nothing, find, one, pipe, reap_within};
use crate::harness::{reg, Ctx, Req, Test};
use crate::test;
use crate::util::PATIENCE;
use crate::util::{needs_kernel, push_all};

const ASYNC_CANCEL: Req = Req::Op(opcode::AsyncCancel::CODE, "ASYNC_CANCEL");
const READ: Req = Req::Op(opcode::Read::CODE, "READ");
const TIMEOUT: Req = Req::Op(opcode::Timeout::CODE, "TIMEOUT");

pub fn tests() -> Vec<Test> {
    vec![
        test!(async_cancel_by_user_data, requires = [READ, TIMEOUT, ASYNC_CANCEL]),
        test!(async_cancel2_by_user_data_and_fd, requires = [READ, ASYNC_CANCEL]),
        test!(async_cancel2_by_opcode_and_any, requires = [READ, TIMEOUT, ASYNC_CANCEL]),
        test!(async_cancel2_by_registered_file, requires = [READ, ASYNC_CANCEL, reg::FILES]),
    ]
}

fn async_cancel_by_user_data<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (rx, tx) = pipe()?;
    let mut buf = [0u8; 8];
    let r = opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 8).build().user_data(1);
    push_all(&mut ring, &[S::from(r)])?;
    expect_nothing(&mut ring, Duration::from_millis(2))?;
    push_all(&mut ring, &[S::from(opcode::AsyncCancel::new(1u64.into()).build().user_data(2))])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 1)?.result() == Err(Errno::CANCELED), "read: {:?}", find(&got, 1)?.result());
    ensure!(find(&got, 2)?.result() == Ok(0), "cancel: {:?}", find(&got, 2)?.result());
    // The read is really gone: the data stays in the pipe.
    (&tx).write_all(b"kept")?;
    expect_nothing(&mut ring, Duration::from_millis(5))?;
    let mut n = 0;
    // SAFETY: FIONREAD writes one int.
    ensure!(unsafe { libc::ioctl(rx.as_raw_fd(), libc::FIONREAD, &mut n) } == 0 && n == 4, "{n} bytes left");

    // A pending timeout is cancellable too.
    let ts = Timespec::new().sec(60);
    push_all(&mut ring, &[S::from(opcode::Timeout::new(&ts).build().user_data(3))])?;
    push_all(&mut ring, &[S::from(opcode::AsyncCancel::new(3u64.into()).build().user_data(4))])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 3)?.result() == Err(Errno::CANCELED), "timeout: {:?}", find(&got, 3)?.result());
    ensure!(find(&got, 4)?.result() == Ok(0), "cancel: {:?}", find(&got, 4)?.result());

    // Nothing by that user_data.
    push_all(&mut ring, &[S::from(opcode::AsyncCancel::new(1u64.into()).build().user_data(5))])?;
    let c = one(&mut ring)?;
    ensure!(c.user_data_u64() == 5 && c.result() == Err(Errno::NOENT), "cancel of nothing: {:?}", c.result());
    Ok(())
}

fn async_cancel2_by_user_data_and_fd<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(16)?;
    let (rx, _tx) = pipe()?;
    let (rx2, tx2) = pipe()?;
    let mut bufs = [[0u8; 8]; 5];
    let [b1, b2, b3, b4, b5] = &mut bufs;
    let reads = [
        opcode::Read::new(Fd(rx.as_raw_fd()), b1.as_mut_ptr(), 8).build().user_data(1),
        opcode::Read::new(Fd(rx.as_raw_fd()), b2.as_mut_ptr(), 8).build().user_data(2),
        opcode::Read::new(Fd(rx.as_raw_fd()), b3.as_mut_ptr(), 8).build().user_data(3),
        opcode::Read::new(Fd(rx.as_raw_fd()), b4.as_mut_ptr(), 8).build().user_data(4),
        opcode::Read::new(Fd(rx2.as_raw_fd()), b5.as_mut_ptr(), 8).build().user_data(5),
    ];
    push_all(&mut ring, &reads.map(S::from))?;
    expect_nothing(&mut ring, Duration::from_millis(2))?;

    // By user_data through the builder: exactly that read.
    let c = opcode::AsyncCancel2::new(CancelBuilder::user_data(4u64)).build().user_data(10);
    push_all(&mut ring, &[S::from(c)])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 10)?.result() == Ok(0), "cancel ud 4: {:?}", find(&got, 10)?.result());
    ensure!(find(&got, 4)?.result() == Err(Errno::CANCELED), "read 4: {:?}", find(&got, 4)?.result());

    // By fd, first match only: one of the reads on `rx`.
    let c = opcode::AsyncCancel2::new(CancelBuilder::fd(Fd(rx.as_raw_fd()))).build().user_data(11);
    push_all(&mut ring, &[S::from(c)])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 11)?.result() == Ok(0), "cancel fd: {:?}", find(&got, 11)?.result());
    let gone = got.iter().find(|c| c.user_data_u64() != 11).context("no read completed")?;
    ensure!((1..=3).contains(&gone.user_data_u64()), "cancelled read {}", gone.user_data_u64());
    ensure!(gone.result() == Err(Errno::CANCELED), "read: {:?}", gone.result());
    expect_nothing(&mut ring, Duration::from_millis(2)).context("first match only")?;

    // By fd with all(): the other two on `rx`; the count is the result.
    let c = opcode::AsyncCancel2::new(CancelBuilder::fd(Fd(rx.as_raw_fd())).all()).build().user_data(12);
    push_all(&mut ring, &[S::from(c)])?;
    let got = reap_within(&mut ring, 3, PATIENCE)?;
    ensure!(find(&got, 12)?.result() == Ok(2), "cancel fd all: {:?}", find(&got, 12)?.result());
    for c in got.iter().filter(|c| c.user_data_u64() != 12) {
        ensure!(c.user_data_u64() <= 3 && c.user_data_u64() != gone.user_data_u64(), "cancelled {}", c.user_data_u64());
        ensure!(c.result() == Err(Errno::CANCELED), "read {}: {:?}", c.user_data_u64(), c.result());
    }
    // No more reads on `rx`: all() counts 0, a first-match cancel ENOENT.
    let c = opcode::AsyncCancel2::new(CancelBuilder::fd(Fd(rx.as_raw_fd())).all()).build().user_data(13);
    push_all(&mut ring, &[S::from(c)])?;
    let c = one(&mut ring)?;
    ensure!(c.user_data_u64() == 13 && c.result() == Ok(0), "all, nothing left: {:?}", c.result());
    let c = opcode::AsyncCancel2::new(CancelBuilder::fd(Fd(rx.as_raw_fd()))).build().user_data(14);
    push_all(&mut ring, &[S::from(c)])?;
    let c = one(&mut ring)?;
    ensure!(c.user_data_u64() == 14 && c.result() == Err(Errno::NOENT), "first, nothing left: {:?}", c.result());

    // The read on the other pipe was untouched: it still gets its data.
    (&tx2).write_all(b"other")?;
    let c = one(&mut ring)?;
    ensure!(c.user_data_u64() == 5 && c.result() == Ok(5), "read 5: {} {:?}", c.user_data_u64(), c.result());
    ensure!(&bufs[4][..5] == b"other", "read 5 got {:?}", &bufs[4][..5]);
    Ok(())
}

fn async_cancel2_by_opcode_and_any<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    needs_kernel(6, 6, "IORING_ASYNC_CANCEL_OP")?;
    let mut ring = ctx.ring::<S, C>(16)?;
    let (rx, _tx) = pipe()?;
    let mut buf = [0u8; 8];
    let ts = Timespec::new().sec(60);
    let mut entries: Vec<S> = (1..=3).map(|ud| S::from(opcode::Timeout::new(&ts).build().user_data(ud))).collect();
    entries.push(S::from(opcode::Read::new(Fd(rx.as_raw_fd()), buf.as_mut_ptr(), 8).build().user_data(4)));
    push_all(&mut ring, &entries)?;
    expect_nothing(&mut ring, Duration::from_millis(2))?;

    // Every pending TIMEOUT, and nothing else.
    let by_op = CancelBuilder::opcode(opcode::Timeout::CODE).all();
    push_all(&mut ring, &[S::from(opcode::AsyncCancel2::new(by_op).build().user_data(10))])?;
    let got = reap_within(&mut ring, 4, PATIENCE)?;
    ensure!(find(&got, 10)?.result() == Ok(3), "cancel by opcode: {:?}", find(&got, 10)?.result());
    for ud in 1..=3 {
        ensure!(find(&got, ud)?.result() == Err(Errno::CANCELED), "timeout {ud}: {:?}", find(&got, ud)?.result());
    }
    expect_nothing(&mut ring, Duration::from_millis(2)).context("the read must survive")?;

    // any().all(): whatever is left (the read).
    let any = CancelBuilder::any().all();
    push_all(&mut ring, &[S::from(opcode::AsyncCancel2::new(any).build().user_data(11))])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 11)?.result() == Ok(1), "cancel any: {:?}", find(&got, 11)?.result());
    ensure!(find(&got, 4)?.result() == Err(Errno::CANCELED), "read: {:?}", find(&got, 4)?.result());

    // Nothing is pending now: ANY implies ALL and counts 0; a first-match
    // cancel by opcode finds nothing.
    push_all(&mut ring, &[S::from(opcode::AsyncCancel2::new(CancelBuilder::any()).build().user_data(12))])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Ok(0), "any on an idle ring: {:?}", c.result());
    let by_op = CancelBuilder::opcode(opcode::Timeout::CODE);
    push_all(&mut ring, &[S::from(opcode::AsyncCancel2::new(by_op).build().user_data(13))])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Err(Errno::NOENT), "by opcode with nothing pending: {:?}", c.result());
    Ok(())
}

fn async_cancel2_by_registered_file<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut ring = ctx.ring::<S, C>(8)?;
    let (rx, _tx) = pipe()?;
    let (rx2, _tx2) = pipe()?;
    ring.submitter().register_files(&[rx2.as_raw_fd(), rx.as_raw_fd()]).context("register_files")?;
    let mut b1 = [0u8; 8];
    let mut b2 = [0u8; 8];
    let r1 = opcode::Read::new(Fixed(1), b1.as_mut_ptr(), 8).build().user_data(1);
    let r2 = opcode::Read::new(Fixed(0), b2.as_mut_ptr(), 8).build().user_data(2);
    push_all(&mut ring, &[S::from(r1), S::from(r2)])?;
    expect_nothing(&mut ring, Duration::from_millis(2))?;
    let c = opcode::AsyncCancel2::new(CancelBuilder::fd(Fixed(1))).build().user_data(10);
    push_all(&mut ring, &[S::from(c)])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 10)?.result() == Ok(0), "cancel Fixed(1): {:?}", find(&got, 10)?.result());
    ensure!(find(&got, 1)?.result() == Err(Errno::CANCELED), "read on Fixed(1): {:?}", find(&got, 1)?.result());
    expect_nothing(&mut ring, Duration::from_millis(2)).context("the read on Fixed(0) must survive")?;
    // An empty slot index matches nothing; a slot past the table is EBADF.
    let c = opcode::AsyncCancel2::new(CancelBuilder::fd(Fixed(5))).build().user_data(11);
    push_all(&mut ring, &[S::from(c)])?;
    let c = one(&mut ring)?;
    ensure!(c.result() == Err(Errno::BADF), "cancel Fixed(5): {:?}", c.result());
    let c = opcode::AsyncCancel2::new(CancelBuilder::fd(Fixed(0)).all()).build().user_data(12);
    push_all(&mut ring, &[S::from(c)])?;
    let got = reap_within(&mut ring, 2, PATIENCE)?;
    ensure!(find(&got, 12)?.result() == Ok(1), "cancel Fixed(0) all: {:?}", find(&got, 12)?.result());
    ensure!(find(&got, 2)?.result() == Err(Errno::CANCELED), "read on Fixed(0): {:?}", find(&got, 2)?.result());
    Ok(())
}
