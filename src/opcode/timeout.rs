//! Timeouts: `Timeout`, `TimeoutRemove`, `TimeoutUpdate`, `LinkTimeout`.
