//! Socket setup: `Socket`, `Bind`, `Listen`, `Connect`, `Accept`, `AcceptMulti`, `Shutdown`.
