//! Receiving: `Recv`, `RecvMulti`, `RecvBundle`, `RecvMultiBundle`, `RecvMsg`, `RecvMsgMulti`, `RecvZc`.
