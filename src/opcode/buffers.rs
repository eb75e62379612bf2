//! Legacy provided buffers: `ProvideBuffers`, `RemoveBuffers`.
