//! Cancellation: `AsyncCancel`, `AsyncCancel2`.
