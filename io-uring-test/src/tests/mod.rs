//! Every test, by family; each file exports its list. The opcode families
//! mirror `src/opcode/` file by file.

mod bad_input;
mod buf_ring;
mod buffers;
mod cancel;
mod cmd;
mod file;
mod fs;
mod futex;
mod misc;
mod mixed;
mod msg_ring;
mod net;
mod owned;
mod pipe;
mod poll;
mod probe;
mod recv;
mod register;
mod register_ring;
mod register_rsrc;
mod registered_ring;
mod ring;
mod rw;
mod send;
mod setup;
mod sq_rewind;
mod stress;
mod timeout;
mod xattr;
mod zcrx;

use crate::harness::Test;

/// All tests, in run order.
pub fn all() -> Vec<Test> {
    [
        setup::tests(),
        sq_rewind::tests(),
        ring::tests(),
        probe::tests(),
        misc::tests(),
        rw::tests(),
        pipe::tests(),
        file::tests(),
        fs::tests(),
        xattr::tests(),
        net::tests(),
        send::tests(),
        recv::tests(),
        buffers::tests(),
        buf_ring::tests(),
        cmd::tests(),
        poll::tests(),
        timeout::tests(),
        cancel::tests(),
        msg_ring::tests(),
        futex::tests(),
        register::tests(),
        register_rsrc::tests(),
        register_ring::tests(),
        registered_ring::tests(),
        mixed::tests(),
        zcrx::tests(),
        bad_input::tests(),
        owned::tests(),
        stress::tests(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
