//! [`RecvMsgOut`]: reading what a multishot `RECVMSG` wrote into a
//! provided buffer.

use rustix::io_uring::{MsgHdr, RecvmsgOutFlags};

/// Size of `struct io_uring_recvmsg_out`: four `u32` (namelen, controllen,
/// payloadlen, flags).
const HEADER_LEN: usize = 16;

/// One message received by [`RecvMsgMulti`](crate::opcode::RecvMsgMulti),
/// as laid out by the kernel in the provided buffer it picked.
///
/// The buffer holds a 16-byte `struct io_uring_recvmsg_out`, then a name
/// area of exactly `msg_namelen` bytes, then a control area of exactly
/// `msg_controllen` bytes (both sizes taken from the `MsgHdr` given to the
/// operation), then the payload. The header says how much of each area the
/// kernel filled.
///
/// Parsing never trusts the header: every slice is clamped to both the
/// area it belongs to and the buffer, so any bytes at all parse without
/// panicking or reading out of bounds.
#[derive(Debug)]
pub struct RecvMsgOut<'buf> {
    incoming_name_len: u32,
    incoming_control_len: u32,
    incoming_payload_len: u32,
    flags: u32,
    /// The name area can hold `msg_namelen` bytes; the kernel reports the
    /// sender's full address length, which may be more.
    name_area: u32,
    name_data: &'buf [u8],
    control_data: &'buf [u8],
    payload_data: &'buf [u8],
}

/// The `u32` at `buf[at..at + 4]`, in native byte order (the buffer need not
/// be aligned).
#[inline]
fn read_u32(buf: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    if let Some(src) = buf.get(at..at + 4) {
        word.copy_from_slice(src);
    }
    u32::from_ne_bytes(word)
}

/// `area[..min(len, area.len())]`.
#[inline]
fn clamp(area: &[u8], len: u32) -> &[u8] {
    let n = usize::try_from(len).map_or(area.len(), |len| len.min(area.len()));
    &area[..n]
}

impl<'buf> RecvMsgOut<'buf> {
    /// Splits `buffer` (the provided buffer named by the CQE, ideally cut to
    /// the CQE's result length) using the name and control sizes of
    /// `msghdr`, the `MsgHdr` the operation was submitted with.
    ///
    /// Fails if `buffer` is shorter than the header plus the name and
    /// control areas: then it is not a buffer the kernel filled for this
    /// `msghdr`.
    // `()` as the error type is the public contract (rustix-uring's
    // signature): there is only one way to fail.
    #[allow(clippy::result_unit_err)]
    pub fn parse(buffer: &'buf [u8], msghdr: &MsgHdr) -> Result<Self, ()> {
        let name_area = msghdr.msg_namelen;
        let name_len = usize::try_from(name_area).map_err(|_| ())?;
        let control_len = msghdr.msg_controllen;
        let name_start = HEADER_LEN;
        let control_start = name_start.checked_add(name_len).ok_or(())?;
        let payload_start = control_start.checked_add(control_len).ok_or(())?;
        if buffer.len() < payload_start {
            return Err(());
        }
        let incoming_name_len = read_u32(buffer, 0);
        let incoming_control_len = read_u32(buffer, 4);
        let incoming_payload_len = read_u32(buffer, 8);
        let flags = read_u32(buffer, 12);
        let (name_part, rest) = buffer[name_start..].split_at(name_len);
        let (control_part, payload_part) = rest.split_at(control_len);
        Ok(RecvMsgOut {
            incoming_name_len,
            incoming_control_len,
            incoming_payload_len,
            flags,
            name_area,
            name_data: clamp(name_part, incoming_name_len),
            control_data: clamp(control_part, incoming_control_len),
            payload_data: clamp(payload_part, incoming_payload_len),
        })
    }

    /// The length of the sender's address, which may exceed what the name
    /// area could hold.
    #[inline]
    pub fn incoming_name_len(&self) -> u32 {
        self.incoming_name_len
    }

    /// Whether the sender's address did not fit the name area
    /// (`msg_namelen` of the `MsgHdr`), so [`name_data`](Self::name_data)
    /// holds only its start.
    #[inline]
    pub fn is_name_data_truncated(&self) -> bool {
        self.incoming_name_len > self.name_area
    }

    /// The sender's address (a `sockaddr_*`), as much as fit.
    #[inline]
    pub fn name_data(&self) -> &'buf [u8] {
        self.name_data
    }

    /// The length of control data (ancillary messages) the kernel wrote.
    #[inline]
    pub fn incoming_control_len(&self) -> u32 {
        self.incoming_control_len
    }

    /// Whether control data was cut off for lack of room (`MSG_CTRUNC`).
    #[inline]
    pub fn is_control_data_truncated(&self) -> bool {
        self.flags().contains(RecvmsgOutFlags::CTRUNC)
    }

    /// The control data (ancillary messages, `cmsghdr`s).
    #[inline]
    pub fn control_data(&self) -> &'buf [u8] {
        self.control_data
    }

    /// Whether the message was longer than the room left in the buffer, so
    /// its end was dropped (`MSG_TRUNC`).
    #[inline]
    pub fn is_payload_truncated(&self) -> bool {
        self.flags().contains(RecvmsgOutFlags::TRUNC)
    }

    /// The message bytes that were received into the buffer.
    #[inline]
    pub fn payload_data(&self) -> &'buf [u8] {
        self.payload_data
    }

    /// The payload length the protocol reported. For a datagram cut to fit
    /// the buffer this is the copied length, unless the operation was
    /// submitted with `MSG_TRUNC` in its flags: then it is the datagram's
    /// full length, which exceeds `payload_data().len()` (6.18, UDP).
    #[inline]
    pub fn incoming_payload_len(&self) -> u32 {
        self.incoming_payload_len
    }

    /// The `msg_flags` of the received message (`MSG_TRUNC`, `MSG_CTRUNC`,
    /// `MSG_EOR`, ...); unknown bits are kept.
    #[inline]
    pub fn flags(&self) -> RecvmsgOutFlags {
        RecvmsgOutFlags::from_bits_retain(self.flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msghdr(namelen: u32, controllen: usize) -> MsgHdr {
        MsgHdr {
            msg_name: core::ptr::null_mut(),
            msg_namelen: namelen,
            msg_iov: core::ptr::null_mut(),
            msg_iovlen: 0,
            msg_control: core::ptr::null_mut(),
            msg_controllen: controllen,
            msg_flags: rustix::io_uring::RecvFlags::empty(),
        }
    }

    fn header(name: u32, control: u32, payload: u32, flags: u32) -> [u8; 16] {
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&name.to_ne_bytes());
        h[4..8].copy_from_slice(&control.to_ne_bytes());
        h[8..12].copy_from_slice(&payload.to_ne_bytes());
        h[12..16].copy_from_slice(&flags.to_ne_bytes());
        h
    }

    /// Header, then `name_area` bytes of 0xaa, `control_area` of 0xcc, and the
    /// payload.
    fn buffer(h: [u8; 16], name_area: usize, control_area: usize, payload: &[u8]) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[..16].copy_from_slice(&h);
        b[16..16 + name_area].fill(0xaa);
        b[16 + name_area..16 + name_area + control_area].fill(0xcc);
        let p = 16 + name_area + control_area;
        b[p..p + payload.len()].copy_from_slice(payload);
        b
    }

    #[test]
    fn splits_name_control_and_payload() {
        let b = buffer(header(16, 8, 5, 0), 16, 24, b"hello");
        let len = 16 + 16 + 24 + 5;
        let out = RecvMsgOut::parse(&b[..len], &msghdr(16, 24)).unwrap();
        assert_eq!(out.incoming_name_len(), 16);
        assert_eq!(out.name_data(), &[0xaa; 16]);
        assert!(!out.is_name_data_truncated());
        assert_eq!(out.incoming_control_len(), 8);
        assert_eq!(out.control_data(), &[0xcc; 8]);
        assert!(!out.is_control_data_truncated());
        assert_eq!(out.payload_data(), b"hello");
        assert_eq!(out.incoming_payload_len(), 5);
        assert!(!out.is_payload_truncated());
        assert_eq!(out.flags(), RecvmsgOutFlags::empty());
    }

    #[test]
    fn payload_is_cut_to_the_buffer_and_truncation_is_reported() {
        let trunc = RecvmsgOutFlags::TRUNC.bits() | RecvmsgOutFlags::CTRUNC.bits();
        let b = buffer(header(28, 4, 1000, trunc | 0x8000_0000), 16, 4, b"abc");
        let out = RecvMsgOut::parse(&b[..16 + 16 + 4 + 3], &msghdr(16, 4)).unwrap();
        assert!(out.is_name_data_truncated(), "28-byte address in a 16-byte area");
        assert_eq!(out.name_data().len(), 16);
        assert!(out.is_control_data_truncated());
        assert!(out.is_payload_truncated());
        assert_eq!(out.payload_data(), b"abc");
        assert_eq!(out.incoming_payload_len(), 1000);
        assert_eq!(out.flags().bits(), trunc | 0x8000_0000, "unknown bits survive");
    }

    #[test]
    fn short_buffers_are_rejected() {
        let b = buffer(header(0, 0, 0, 0), 0, 0, b"");
        for len in 0..16 {
            assert!(RecvMsgOut::parse(&b[..len], &msghdr(0, 0)).is_err(), "len {len}");
        }
        assert!(RecvMsgOut::parse(&b[..16], &msghdr(0, 0)).is_ok(), "a bare header is a valid empty message");
        // Header fits but the name or control area does not.
        assert!(RecvMsgOut::parse(&b[..31], &msghdr(16, 0)).is_err());
        assert!(RecvMsgOut::parse(&b[..16 + 16 + 7], &msghdr(16, 8)).is_err());
        assert!(RecvMsgOut::parse(&b[..16 + 16 + 8], &msghdr(16, 8)).is_ok());
    }

    #[test]
    fn hostile_lengths_never_panic_or_overread() {
        let huge = [u32::MAX, u32::MAX - 1, 1 << 31, 129, 112, 0];
        for &n in &huge {
            for &c in &huge {
                for &p in &huge {
                    let b = buffer(header(n, c, p, u32::MAX), 8, 8, b"xyz");
                    for len in [0, 15, 16, 31, 32, 35, 100, 128] {
                        if let Ok(out) = RecvMsgOut::parse(&b[..len], &msghdr(8, 8)) {
                            assert!(out.name_data().len() <= 8);
                            assert!(out.control_data().len() <= 8);
                            assert!(out.payload_data().len() <= len.saturating_sub(32));
                            let _ = (out.is_name_data_truncated(), out.is_control_data_truncated());
                            let _ = (out.is_payload_truncated(), out.flags());
                        }
                    }
                }
            }
        }
        // Area sizes in the msghdr that cannot fit any buffer.
        let b = [0u8; 64];
        assert!(RecvMsgOut::parse(&b, &msghdr(u32::MAX, 0)).is_err());
        assert!(RecvMsgOut::parse(&b, &msghdr(0, usize::MAX)).is_err());
        assert!(RecvMsgOut::parse(&b, &msghdr(u32::MAX, usize::MAX)).is_err());
        assert!(RecvMsgOut::parse(&b, &msghdr(0, usize::MAX - 15)).is_err());
    }
}
