//! Commands: `UringCmd16`, `UringCmd80`, `UringCmd128` and the socket commands over URING_CMD.
