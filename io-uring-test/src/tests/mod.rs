//! Every test, by family; each file exports its list.

mod probe;
mod ring;
mod rw;
mod setup;

use crate::harness::Test;

/// All tests, in run order.
pub fn all() -> Vec<Test> {
    [setup::tests(), ring::tests(), probe::tests(), rw::tests()].into_iter().flatten().collect()
}
