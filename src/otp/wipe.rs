//! Wiping flat values that held secrets: a plain write of a public value,
//! then [`zeroize::optimization_barrier`], which tells the compiler the
//! memory may still be read so the write cannot be dropped as dead.
//!
//! The write is as wide as the processor allows (a 64-byte block is a few
//! vector stores), where `Zeroize` on a byte array writes one volatile byte
//! at a time: on the verify path that difference is dozens of stores per
//! call. This is the pattern zeroize documents for flat types.

/// Overwrites `value` with `public` (zeros, or a constant such as a hash's
/// initial state), in a way the compiler keeps.
pub(crate) fn wipe<T: Copy>(value: &mut T, public: T) {
    *value = public;
    zeroize::optimization_barrier(value);
}
