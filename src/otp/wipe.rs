//! Wiping flat values that held secrets: a plain write of a public value,
//! then [`zeroize::optimization_barrier`], which tells the compiler the
//! memory may still be read so the write cannot be dropped as dead.
//!
//! The write is as wide as the processor allows (a 64-byte block is a few
//! vector stores), where `Zeroize` on a byte array writes one volatile byte
//! at a time: on the verify path that difference is dozens of stores per
//! call. This is the pattern zeroize documents for flat types.
//!
//! The barrier is an empty `asm!` block on the architectures where zeroize
//! uses one (the list below is zeroize 1.9's). Elsewhere (wasm32, for one)
//! zeroize falls back to `core::hint::black_box`, which Rust documents as
//! best effort, so there the value is wiped with `Zeroize`'s volatile
//! writes instead, whatever they cost.

use zeroize::Zeroize;

/// Whether zeroize's barrier is an `asm!` block on this target.
const ASM_BARRIER: bool = cfg!(all(
    not(miri),
    any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "arm64ec",
        target_arch = "loongarch64",
        target_arch = "riscv32",
        target_arch = "riscv64",
        target_arch = "s390x",
        target_arch = "x86",
        target_arch = "x86_64",
    )
));

/// Overwrites `value` with `public` (zeros, or a constant such as a hash's
/// initial state), in a way the compiler keeps.
pub(crate) fn wipe<T: Copy + Zeroize>(value: &mut T, public: T) {
    wipe_with(value, |value| *value = public);
}

/// Wipes `value` by `write`, which must overwrite every secret byte of it
/// with public ones; or, where the barrier is not an `asm!` block, by
/// `Zeroize`.
pub(crate) fn wipe_with<T: Zeroize + ?Sized>(value: &mut T, write: impl FnOnce(&mut T)) {
    if ASM_BARRIER {
        write(value);
        zeroize::optimization_barrier(value);
    } else {
        value.zeroize();
    }
}
