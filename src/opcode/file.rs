//! File data: syncing, allocating, advising, truncating: `Fsync`, `SyncFileRange`, `Fallocate`, `Fadvise`, `Madvise`, `Ftruncate`.
