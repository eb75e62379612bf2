//! Registering resources and querying the kernel: `io_uring_register(2)`.
//!
//! Each family lives in its own file and adds its calls to
//! [`Submitter`](crate::Submitter), for both of its flavours: an
//! [`IoUring`](crate::IoUring)'s, which names the ring by its fd, and a
//! [`RegisteredRing`](crate::ring::RegisteredRing)'s
//! ([`RegisteredSubmitter`](crate::ring::RegisteredSubmitter)), which names
//! it by its registered index (`IORING_REGISTER_USE_REGISTERED_RING`, 6.3).
//! The few calls that need the ring fd itself (registering it, mapping the
//! wait region from it) are the fd flavour's only.

mod bpf;
mod buf_ring;
mod buffers;
mod clock;
mod eventfd;
mod files;
mod iowq;
mod msg_ring;
mod napi;
mod personality;
mod probe;
mod query;
mod region;
mod restrictions;
mod ring_fd;
mod sync_cancel;
mod zcrx;

pub use bpf::register_task_bpf;
pub use files::SKIP_FILE;
pub use msg_ring::send_msg_ring;
pub use probe::{Opcode, Probe};
pub use query::{query_opcodes, query_scq, query_zcrx, QueryOpcodes, QueryScq, QueryZcrx};
pub use region::WaitRegion;
pub use restrictions::{register_task_restrictions, RegisterOpcode, Restriction, TaskRestrictions};
pub use zcrx::{register_task_bpf_filter, ZcrxRefillQueue};
