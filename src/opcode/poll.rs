//! Readiness: `PollAdd`, `PollRemove`, `PollUpdate`, `EpollCtl`, `EpollWait`.
