//! Completion entries with any `res`, `flags` and `user_data`: the result
//! mapping and every flag helper must say what the bits say, and nothing
//! may panic.

use rustix::io::Errno;
use urix::cqueue::{self, Flags};
use urix::fuzz_hooks;

use crate::Input;

/// One completion from 32 bytes: `user_data`, `res`, `flags` and the 16
/// extra bytes of a 32-byte entry.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let user_data = input.u64();
    let res = input.u32() as i32;
    let raw = input.u32();
    let big = [input.u64(), input.u64()];

    let cqe = fuzz_hooks::cqe(user_data, res, raw);
    assert_eq!(cqe.user_data_u64(), user_data);
    assert_eq!(cqe.user_data().u64_(), user_data);
    assert_eq!(cqe.user_data_ptr() as usize, user_data as usize);
    assert_eq!(cqe.raw_result(), res);
    let expected = match res {
        0.. => Ok(res as u32),
        -4095..=-1 => Err(Errno::from_raw_os_error(-res)),
        _ => Err(Errno::INVAL),
    };
    assert_eq!(cqe.result(), expected, "res {res}");

    let flags = cqe.flags();
    assert_eq!(flags.bits(), raw, "unknown bits are kept");
    check_flags(flags);
    check_flags(Flags::from_bits_retain(raw ^ 1));

    let _ = format!("{cqe:?}");
    let mut moved = cqe.clone();
    moved.set_user_data(user_data.rotate_left(17));
    assert_eq!(moved.user_data_u64(), user_data.rotate_left(17));
    assert_eq!((moved.raw_result(), moved.flags()), (res, flags), "set_user_data touches nothing else");

    let big_cqe = fuzz_hooks::cqe32(user_data, res, raw, big);
    assert_eq!(big_cqe.big_cqe(), &big);
    assert_eq!((big_cqe.raw_result(), big_cqe.result(), big_cqe.flags()), (res, expected, flags));
    assert_eq!(big_cqe.user_data().u64_(), user_data);
    let _ = format!("{big_cqe:?}");
    let small: cqueue::Entry = big_cqe.into();
    assert_eq!((small.user_data_u64(), small.raw_result(), small.flags()), (user_data, res, flags));
}

/// Each helper against the bit it reads (values from the kernel's
/// `io_uring.h`, written out here rather than taken from the crate).
fn check_flags(flags: Flags) {
    let bits = flags.bits();
    let bit = |n: u32| bits & (1 << n) != 0;
    let expected_bid = if bit(0) { Some((bits >> 16) as u16) } else { None };
    assert_eq!(cqueue::buffer_select(flags), expected_bid, "F_BUFFER is bit 0, the id the upper half");
    assert_eq!(cqueue::more(flags), bit(1), "F_MORE is bit 1");
    assert_eq!(cqueue::sock_nonempty(flags), bit(2), "F_SOCK_NONEMPTY is bit 2");
    assert_eq!(cqueue::notif(flags), bit(3), "F_NOTIF is bit 3");
    assert_eq!(cqueue::buffer_more(flags), bit(4), "F_BUF_MORE is bit 4");
    assert_eq!(flags.contains(Flags::SKIP), bit(5), "F_SKIP is bit 5");
    assert_eq!(flags.contains(Flags::F_32), bit(15), "F_32 is bit 15");
    let _ = format!("{flags:?}");
}
