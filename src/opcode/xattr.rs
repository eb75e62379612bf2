//! Extended attributes: `SetXattr`, `GetXattr`, `FSetXattr`, `FGetXattr`.
