//! Sending: `Send`, `SendBundle`, `SendMsg`, `SendZc`, `SendMsgZc`.
