//! The file-system namespace: opening, closing, stat and directory entries: `OpenAt`, `OpenAt2`, `Close`, `Statx`, `RenameAt`, `UnlinkAt`, `MkDirAt`, `SymlinkAt`, `LinkAt`.
