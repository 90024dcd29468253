//! Uniform draws from a cryptographically secure generator.

use rand_core::TryCryptoRng;

use crate::error::Error;

/// A uniformly random number below `bound` (which must not be 0), with no
/// modulo bias: draws at or above the largest multiple of `bound` that
/// fits in 64 bits are rejected and drawn again (on average fewer than two
/// draws for any bound).
pub(crate) fn below<R: TryCryptoRng + ?Sized>(rng: &mut R, bound: u64) -> Result<u64, Error> {
    let bound = bound.max(1);
    // 2^64 mod bound: the draws in [0, that) are the biased ones.
    let biased = bound.wrapping_neg() % bound;
    loop {
        let draw = rng.try_next_u64().map_err(|_| Error::RngFailure)?;
        if draw >= biased {
            return Ok(draw % bound);
        }
    }
}
