//! Buffers the kernel may use after the code that asked has moved on:
//! [`IoBuf`] (read by the kernel) and [`IoBufMut`] (written by it).

/// Memory whose address does not change when its owner is moved, and stays
/// valid when its owner is leaked.
///
/// # Safety
/// While the value is owned by the layer (moved into an operation), the
/// pointer from [`stable_ptr`](Self::stable_ptr) must stay valid for
/// reads of [`bytes_total`](Self::bytes_total) bytes, the first
/// [`bytes_init`](Self::bytes_init) of them initialised, and must not
/// change even if the value is moved. If the value is leaked
/// (`mem::forget`), the memory must stay valid forever (heap memory that
/// is never freed, or `'static` memory). Stack arrays and borrowed slices
/// cannot keep this promise.
pub unsafe trait IoBuf: Send + 'static {
    /// The start of the memory.
    fn stable_ptr(&self) -> *const u8;
    /// How many bytes from the start are initialised (what a write sends).
    fn bytes_init(&self) -> usize;
    /// How many bytes there are in all (what a read may fill).
    fn bytes_total(&self) -> usize;
}

/// An [`IoBuf`] the kernel may write into.
///
/// # Safety
/// As for [`IoBuf`], and the pointer from
/// [`stable_mut_ptr`](Self::stable_mut_ptr) (the same address) must be
/// valid for writes of `bytes_total` bytes while the layer owns the value.
pub unsafe trait IoBufMut: IoBuf {
    /// The start of the memory, for writing.
    fn stable_mut_ptr(&mut self) -> *mut u8;
    /// Records that the first `n` bytes are initialised and are the data.
    ///
    /// # Safety
    /// The first `n` bytes (`n <= bytes_total`) must be initialised.
    unsafe fn set_init(&mut self, n: usize);
}

/// Sets the initialised length after the kernel reported writing `n`
/// bytes from the start of `buf` (O7). Clamped to the buffer's size.
pub(crate) fn kernel_wrote<B: IoBufMut>(buf: &mut B, n: usize) {
    let n = n.min(buf.bytes_total());
    // SAFETY: O7: the layer calls this only with the byte count a
    // completion reported for a read into `buf` from its start, so those
    // bytes were written by the kernel.
    unsafe { buf.set_init(n) }
}

/// The length the kernel is told: `u32` at most, never truncated to a
/// small number.
#[inline]
pub(crate) fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `IoBuf` (and with `mut`, `IoBufMut`) for a type that derefs to a
/// slice whose bytes are all initialised, at an address that moving the
/// value does not change, valid for as long as a leaked value would live.
/// Each use says why its type keeps that promise.
macro_rules! slice_buf {
    ([$($g:tt)*] $t:ty, mut) => {
        slice_buf!([$($g)*] $t);
        slice_buf!(@mut [$($g)*] $t);
    };
    ([$($g:tt)*] $t:ty) => {
        // SAFETY: the promise of the invocation's comment.
        unsafe impl<$($g)*> IoBuf for $t {
            fn stable_ptr(&self) -> *const u8 {
                self.as_ptr()
            }
            fn bytes_init(&self) -> usize {
                self.len()
            }
            fn bytes_total(&self) -> usize {
                self.len()
            }
        }
    };
    (@mut [$($g:tt)*] $t:ty) => {
        // SAFETY: as for IoBuf, and the reference or owner is unique, so
        // the bytes may be written; every byte of a slice is initialised,
        // so there is no initialised length to record.
        unsafe impl<$($g)*> IoBufMut for $t {
            fn stable_mut_ptr(&mut self) -> *mut u8 {
                self.as_mut_ptr()
            }
            unsafe fn set_init(&mut self, _n: usize) {}
        }
    };
}

// SAFETY: a `'static` slice is valid forever and does not move with the
// reference.
slice_buf!([] &'static [u8]);
// SAFETY: as for `&'static [u8]`; the mutable reference is unique.
slice_buf!([] &'static mut [u8], mut);
// SAFETY: as for `&'static mut [u8]`.
slice_buf!([const N: usize] &'static mut [u8; N], mut);

#[cfg(feature = "alloc")]
mod heap {
    use super::{IoBuf, IoBufMut};
    use alloc::boxed::Box;
    use alloc::vec::Vec;

    // SAFETY: a Vec's heap block does not move when the Vec does, and a
    // leaked Vec never frees it. The layer never grows or shrinks the
    // Vec's allocation while it owns it.
    unsafe impl IoBuf for Vec<u8> {
        fn stable_ptr(&self) -> *const u8 {
            self.as_ptr()
        }
        fn bytes_init(&self) -> usize {
            self.len()
        }
        fn bytes_total(&self) -> usize {
            self.capacity()
        }
    }

    // SAFETY: as above; the spare capacity is writable.
    unsafe impl IoBufMut for Vec<u8> {
        fn stable_mut_ptr(&mut self) -> *mut u8 {
            self.as_mut_ptr()
        }
        unsafe fn set_init(&mut self, n: usize) {
            if n > self.len() {
                // SAFETY: O7: the caller promises bytes `..n` are initialised
                // and `n <= capacity` (bytes_total).
                unsafe { self.set_len(n) }
            } else {
                self.truncate(n);
            }
        }
    }

    // SAFETY: a boxed slice's heap block does not move with the box, and
    // a leaked box never frees it.
    slice_buf!([] Box<[u8]>, mut);
}
