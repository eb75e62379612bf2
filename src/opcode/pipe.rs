//! Pipes and moving data between fds: `Pipe`, `Splice`, `Tee`.
