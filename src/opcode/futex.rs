//! Futexes: `FutexWait`, `FutexWake`, `FutexWaitV`.
