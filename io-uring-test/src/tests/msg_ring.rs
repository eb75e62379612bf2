//! Tests of `src/opcode/msg_ring.rs` on the kernel: one ring posting
//! completions and passing registered files to another.

use std::io::Write as _;
use std::os::fd::AsRawFd;

use anyhow::{ensure, Context};
use rustix::io_uring::IoringMsgringFlags;
use urix::types::{DestinationSlot, Fd, Fixed};
use urix::{cqueue, opcode, squeue, Errno, IoUring};

use crate::harness::{reg, Ctx, Req, Test};
use crate::test;
use crate::util::{kernel_version, one, push_all, read_fixed, reap};

const MSG_RING: Req = Req::Op(opcode::MsgRingData::CODE, "MSG_RING");
const READ: Req = Req::Op(opcode::Read::CODE, "READ");

pub fn tests() -> Vec<Test> {
    vec![
        test!(msg_ring_data_posts_into_other_ring, requires = [MSG_RING, Req::Op(opcode::Nop::CODE, "NOP")]),
        test!(msg_ring_send_fd_moves_fixed_file, requires = [MSG_RING, READ, reg::FILES, reg::FILES2]),
    ]
}

/// Sends a marker message from `a` to `b` and checks that it is the next
/// (and only) completion `b` sees: nothing else was posted to `b` before.
fn expect_only_marker<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    a: &mut IoUring<S, C>,
    b: &mut IoUring<S, C>,
    what: &str,
) -> anyhow::Result<()> {
    const MARKER: u64 = 0x6d61_726b;
    let m = opcode::MsgRingData::new(Fd(b.as_raw_fd()), 1, MARKER.into(), None).build().user_data(99);
    let c = one(a, m)?;
    ensure!(c.result() == Ok(0), "marker message: {:?}", c.result());
    let got = reap(b, 1)?;
    ensure!(got[0].user_data_u64() == MARKER, "{what}: target saw {:?} before the marker", got[0]);
    ensure!(b.completion().is_empty(), "{what}: target has more completions");
    Ok(())
}

fn msg_ring_data_posts_into_other_ring<S: squeue::EntryMarker, C: cqueue::EntryMarker>(
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut a = ctx.ring::<S, C>(8)?;
    let mut b = ctx.ring::<S, C>(8)?;
    let b_fd = Fd(b.as_raw_fd());

    // Result, user_data and passed flags arrive in the target as given.
    const FLAGS: u32 = 0x5a5a_0000;
    let m = opcode::MsgRingData::new(b_fd, 4711, 0xfeed_f00d.into(), Some(FLAGS)).build().user_data(1);
    let c = one(&mut a, m)?;
    if kernel_version() >= (6, 3) {
        ensure!(c.result() == Ok(0) && c.user_data_u64() == 1, "sender's CQE: {c:?}");
        let got = reap(&mut b, 1)?;
        let t = &got[0];
        ensure!(t.result() == Ok(4711), "target result {:?}", t.result());
        ensure!(t.user_data_u64() == 0xfeed_f00d, "target user_data {:#x}", t.user_data_u64());
        ensure!(t.flags().bits() == FLAGS, "target flags {:#x}, want {FLAGS:#x}", t.flags().bits());
    } else {
        // IORING_MSG_RING_FLAGS_PASS is 6.3: older kernels refuse it.
        ensure!(c.result() == Err(Errno::INVAL), "FLAGS_PASS before 6.3: {c:?}");
        ensure!(b.completion().is_empty(), "a refused message reached the target");
    }

    // Without user_flags the target's flags are 0; a negative result is
    // posted verbatim, as an error.
    let m = opcode::MsgRingData::new(b_fd, -libc::ENOSPC, 2.into(), None).build().user_data(2);
    let c = one(&mut a, m)?;
    ensure!(c.result() == Ok(0), "sender's CQE: {c:?}");
    let got = reap(&mut b, 1)?;
    ensure!(got[0].result() == Err(Errno::NOSPC), "target result {:?}", got[0].result());
    ensure!(got[0].user_data_u64() == 2 && got[0].flags().bits() == 0, "target CQE {:?}", got[0]);

    // IOSQE_CQE_SKIP_SUCCESS suppresses the sender's own CQE; the target
    // still gets the message. A NOP after it is the sender's only CQE.
    let m = opcode::MsgRingData::new(b_fd, 3, 3.into(), None).build().user_data(3).flags(squeue::Flags::SKIP_SUCCESS);
    push_all(&mut a, &[S::from(m)])?;
    let got = reap(&mut b, 1)?;
    ensure!(got[0].result() == Ok(3) && got[0].user_data_u64() == 3, "target CQE {:?}", got[0]);
    let nop = opcode::Nop::new().build().user_data(4);
    let c = one(&mut a, nop)?;
    ensure!(c.user_data_u64() == 4, "sender posted {c:?} despite SKIP_SUCCESS");
    ensure!(a.completion().is_empty(), "sender has more completions");

    // IORING_MSG_RING_CQE_SKIP only applies to fd passing: with data the
    // kernel refuses it, and nothing reaches the target.
    let m = opcode::MsgRingData::new(b_fd, 5, 5.into(), None)
        .opcode_flags(IoringMsgringFlags::CQE_SKIP)
        .build()
        .user_data(5);
    let c = one(&mut a, m)?;
    ensure!(c.result() == Err(Errno::INVAL), "MSG_DATA with CQE_SKIP: {:?}", c.result());
    expect_only_marker(&mut a, &mut b, "after a refused CQE_SKIP")?;

    // The target must be a ring.
    let file = crate::util::tempfile()?;
    let m = opcode::MsgRingData::new(Fd(file.as_raw_fd()), 1, 6.into(), None).build().user_data(6);
    let c = one(&mut a, m)?;
    ensure!(c.result() == Err(Errno::BADFD), "MSG_RING to a plain file: {:?}", c.result());
    let m = opcode::MsgRingData::new(Fd(-1), 1, 7.into(), None).build().user_data(7);
    let c = one(&mut a, m)?;
    ensure!(c.result() == Err(Errno::BADF), "MSG_RING to fd -1: {:?}", c.result());
    Ok(())
}

fn slot(n: u32) -> anyhow::Result<DestinationSlot> {
    DestinationSlot::try_from_slot_target(n).map_err(|n| anyhow::anyhow!("slot {n} unencodable"))
}

fn msg_ring_send_fd_moves_fixed_file<S: squeue::EntryMarker, C: cqueue::EntryMarker>(ctx: &Ctx) -> anyhow::Result<()> {
    let mut file = crate::util::tempfile()?;
    file.write_all(b"passed along")?;
    let mut a = ctx.ring::<S, C>(8)?;
    let mut b = ctx.ring::<S, C>(8)?;
    let b_fd = Fd(b.as_raw_fd());
    a.submitter().register_files(&[-1, file.as_raw_fd()]).context("register_files on A")?;

    // The target has no file table yet.
    let m = opcode::MsgRingSendFd::new(b_fd, Fixed(1), slot(0)?, 10.into()).build().user_data(10);
    let c = one(&mut a, m)?;
    ensure!(c.result() == Err(Errno::NXIO), "SEND_FD to a ring without a table: {:?}", c.result());

    b.submitter().register_files_sparse(4).context("register_files_sparse on B")?;
    ensure!(read_fixed(&mut b, 2)? == Err(Errno::BADF), "B's slot 2 must start empty");

    // Into slot 2: the target gets a CQE with res 0 and reads the file.
    let m = opcode::MsgRingSendFd::new(b_fd, Fixed(1), slot(2)?, 0x77.into()).build().user_data(11);
    let c = one(&mut a, m)?;
    ensure!(c.result() == Ok(0) && c.user_data_u64() == 11, "sender's CQE: {c:?}");
    let got = reap(&mut b, 1)?;
    ensure!(got[0].result() == Ok(0) && got[0].user_data_u64() == 0x77, "target CQE {:?}", got[0]);
    ensure!(read_fixed(&mut b, 2)? == Ok(b"passed along".to_vec()), "B reads through slot 2");
    // The sender keeps its slot.
    ensure!(read_fixed(&mut a, 1)? == Ok(b"passed along".to_vec()), "A still reads through slot 1");

    // auto_target: both CQEs carry the slot the kernel chose.
    let m =
        opcode::MsgRingSendFd::new(b_fd, Fixed(1), DestinationSlot::auto_target(), 0x78.into()).build().user_data(12);
    let c = one(&mut a, m)?;
    let picked = c.result().map_err(|e| anyhow::anyhow!("auto_target, sender's CQE: {e}"))?;
    ensure!([0, 1, 3].contains(&picked), "auto_target picked slot {picked}, not a free one");
    let got = reap(&mut b, 1)?;
    ensure!(got[0].user_data_u64() == 0x78, "target CQE {:?}", got[0]);
    ensure!(got[0].result() == Ok(picked), "target's CQE says slot {:?}, sender's {picked}", got[0].result());
    ensure!(read_fixed(&mut b, picked)? == Ok(b"passed along".to_vec()), "B reads through slot {picked}");

    // CQE_SKIP: the file arrives, the target gets no CQE.
    let free = [0, 1, 3].into_iter().find(|&s| s != picked).unwrap_or(0);
    let m = opcode::MsgRingSendFd::new(b_fd, Fixed(1), slot(free)?, 0x79.into())
        .opcode_flags(IoringMsgringFlags::CQE_SKIP)
        .build()
        .user_data(13);
    let c = one(&mut a, m)?;
    ensure!(c.result() == Ok(0), "sender's CQE (CQE_SKIP): {c:?}");
    expect_only_marker(&mut a, &mut b, "SEND_FD with CQE_SKIP")?;
    ensure!(read_fixed(&mut b, free)? == Ok(b"passed along".to_vec()), "B reads through slot {free}");

    // Errors: destination past the table, empty or missing source slot,
    // sending to itself.
    let m = opcode::MsgRingSendFd::new(b_fd, Fixed(1), slot(9)?, 14.into()).build().user_data(14);
    let c = one(&mut a, m)?;
    ensure!(c.result() == Err(Errno::INVAL), "destination slot 9 of 4: {:?}", c.result());
    let m = opcode::MsgRingSendFd::new(b_fd, Fixed(0), slot(0)?, 15.into()).build().user_data(15);
    let c = one(&mut a, m)?;
    ensure!(c.result() == Err(Errno::BADF), "empty source slot: {:?}", c.result());
    let m = opcode::MsgRingSendFd::new(b_fd, Fixed(7), slot(0)?, 16.into()).build().user_data(16);
    let c = one(&mut a, m)?;
    ensure!(c.result() == Err(Errno::BADF), "source slot 7 of 2: {:?}", c.result());
    let m = opcode::MsgRingSendFd::new(Fd(a.as_raw_fd()), Fixed(1), slot(0)?, 17.into()).build().user_data(17);
    let c = one(&mut a, m)?;
    ensure!(c.result() == Err(Errno::INVAL), "SEND_FD to itself: {:?}", c.result());
    expect_only_marker(&mut a, &mut b, "after the failed sends")?;
    Ok(())
}
