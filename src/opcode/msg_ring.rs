//! Ring-to-ring messages: `MsgRingData`, `MsgRingSendFd`.
