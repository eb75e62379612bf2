//! `RecvMsgOut::parse` on hostile buffers: the header lengths are whatever
//! the peer and kernel made them, and the `MsgHdr` area sizes are the
//! caller's. Every slice must be the part of the buffer this module works
//! out independently (in `u128`, so nothing overflows), or parsing must
//! fail exactly when the areas do not fit.

use rustix::io_uring::{MsgHdr, RecvFlags, RecvmsgOutFlags};
use urix::types::RecvMsgOut;

use crate::Input;

/// A name-area size (mostly small), a control-area size (mostly small),
/// then the buffer.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let name_area = input.len32();
    let control_area = input.len64() as usize;
    let buffer = input.rest();
    let msghdr = MsgHdr {
        msg_name: core::ptr::null_mut(),
        msg_namelen: name_area,
        msg_iov: core::ptr::null_mut(),
        msg_iovlen: 0,
        msg_control: core::ptr::null_mut(),
        msg_controllen: control_area,
        msg_flags: RecvFlags::empty(),
    };

    let header = 16u128;
    let control_start = header + u128::from(name_area);
    let payload_start = control_start + control_area as u128;
    let parsed = RecvMsgOut::parse(buffer, &msghdr);
    if (buffer.len() as u128) < payload_start {
        assert!(parsed.is_err(), "areas of {name_area} + {control_area} do not fit {} bytes", buffer.len());
        return;
    }
    let out = parsed.expect("the header and both areas fit");
    let word = |at: usize| u32::from_ne_bytes(buffer[at..at + 4].try_into().expect("4 bytes"));
    let (name_len, control_len, payload_len, flags) = (word(0), word(4), word(8), word(12));
    assert_eq!(out.incoming_name_len(), name_len);
    assert_eq!(out.incoming_control_len(), control_len);
    assert_eq!(out.incoming_payload_len(), payload_len);
    assert_eq!(out.flags().bits(), flags, "unknown bits are kept");

    let (control_start, payload_start) = (control_start as usize, payload_start as usize);
    let name_end = 16 + name_area.min(name_len) as usize;
    let control_end = control_start + control_area.min(control_len as usize);
    let payload_end = payload_start + (buffer.len() - payload_start).min(payload_len as usize);
    same_slice(out.name_data(), &buffer[16..name_end], "name");
    same_slice(out.control_data(), &buffer[control_start..control_end], "control");
    same_slice(out.payload_data(), &buffer[payload_start..payload_end], "payload");

    assert_eq!(out.is_name_data_truncated(), name_len > name_area);
    assert_eq!(out.is_control_data_truncated(), flags & RecvmsgOutFlags::CTRUNC.bits() != 0);
    assert_eq!(out.is_payload_truncated(), flags & RecvmsgOutFlags::TRUNC.bits() != 0);
    let _ = format!("{out:?}");
}

/// `got` is exactly `want`: same start, same length (not merely equal bytes).
fn same_slice(got: &[u8], want: &[u8], what: &str) {
    assert_eq!((got.as_ptr(), got.len()), (want.as_ptr(), want.len()), "{what} area");
}
