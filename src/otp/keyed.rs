//! HMAC (RFC 2104) keyed once and kept, over the 8-byte counters of HOTP
//! and TOTP.
//!
//! Keying absorbs the inner and outer padded keys: what remains are the two
//! chaining states after them (the key's equivalent, wiped on drop and
//! never printed). From there every counter costs exactly two compressions
//! (one block of inner hash, one of outer hash) and no allocation,
//! buffering or re-keying: the least work HMAC over one block allows.
//!
//! Counters are hashed up to [`LANES`] at a time: first the inner hash of
//! each, then the outer hash of each. The inner hashes of different
//! counters do not depend on each other, nor do the outer ones, so a
//! processor runs them side by side; hashing counter by counter would make
//! every outer hash wait for its inner one. The blocks are built from fixed
//! templates (the counter or inner digest, the `0x80` marker, the message
//! length), and the work area is wiped once, when a call returns.
//!
//! `tests/properties.rs` (through the reference in `tests/support/`) and
//! the `verify` fuzz target check this against the `hmac` crate for every
//! algorithm, for keys shorter than and equal to a block, and for SHA-1
//! and SHA-256 keys longer than one (a secret is at most a SHA-512 block).

use core::fmt;

use subtle::Choice;

use super::{
    algorithm::Algorithm,
    code,
    mac::{self, BlockHash},
    secret::Secret,
    wipe::{wipe, wipe_with},
};

/// How many counters are hashed side by side: enough for a ±1 window in
/// one batch, and for a processor to overlap the independent compressions.
const LANES: usize = 3;

/// An HMAC keyed once, under one of the [`Algorithm`]s.
#[derive(Clone)]
pub(crate) enum KeyedHmac {
    Sha1(Keyed<mac::Sha1>),
    Sha256(Keyed<mac::Sha256>),
    Sha512(Keyed<mac::Sha512>),
}

impl KeyedHmac {
    /// Keys `algorithm`'s HMAC with `secret`: two compressions.
    // Inlined into `Totp` and `Hotp`'s keying, a speed matter: the compiler
    // can then write the states where the verifier is built, rather than
    // copy them there with loads that stall on the stores just made (16 ns
    // of the 128 that building and dropping a verifier took here). Moves
    // of a value can leave copies behind whatever this says; only the
    // states' final place is wiped on drop.
    #[inline(always)]
    pub(crate) fn new(algorithm: Algorithm, secret: &Secret) -> Self {
        match algorithm {
            Algorithm::Sha1 => Self::Sha1(Keyed::new(secret)),
            Algorithm::Sha256 => Self::Sha256(Keyed::new(secret)),
            Algorithm::Sha512 => Self::Sha512(Keyed::new(secret)),
        }
    }

    /// Calls `each(counter, truncated)` for every counter of `counters`, in
    /// order, with the dynamic truncation (RFC 4226 §5.3) of
    /// `HMAC(key, counter)`. Every counter is hashed, whatever `each` does.
    pub(crate) fn for_each_truncated(
        &self,
        counters: impl Iterator<Item = u64>,
        each: impl FnMut(u64, u32),
    ) {
        match self {
            Self::Sha1(keyed) => keyed.for_each_truncated(counters, each),
            Self::Sha256(keyed) => keyed.for_each_truncated(counters, each),
            Self::Sha512(keyed) => keyed.for_each_truncated(counters, each),
        }
    }

    /// The dynamic truncation of `HMAC(key, counter)`.
    pub(crate) fn truncated(&self, counter: u64) -> u32 {
        let mut value = 0;
        self.for_each_truncated(core::iter::once(counter), |_, truncated| {
            value = truncated;
        });
        // The caller's copy is its own to wipe (a `Code` wipes its value).
        let code = value;
        wipe(&mut value, 0);
        code
    }
}

impl Drop for KeyedHmac {
    /// Overwrites the whole of the value's space, whichever algorithm it
    /// holds: the largest variant's states, zeros, are written over it,
    /// and wiped again as that variant drops. A SHA-1 or SHA-256 value
    /// thus leaves nothing of an earlier SHA-512 value that was in the
    /// same place behind its smaller states.
    fn drop(&mut self) {
        // The states wiped where they are, then the zeroed largest
        // variant put in their place; what it replaces (zeros now) is
        // forgotten rather than dropped, which would come back here.
        match self {
            Self::Sha1(keyed) => keyed.wipe(),
            Self::Sha256(keyed) => keyed.wipe(),
            // Already the whole space: its own drop wipes it.
            Self::Sha512(_) => return,
        }
        let zeroed = Self::Sha512(Keyed {
            inner: <mac::Sha512 as BlockHash>::ZERO_STATE,
            outer: <mac::Sha512 as BlockHash>::ZERO_STATE,
        });
        core::mem::forget(core::mem::replace(self, zeroed));
    }
}

impl PartialEq for KeyedHmac {
    /// Equal when the keyed states are, compared in constant time: under
    /// the same algorithm, keys that RFC 2104 pads to the same block (a
    /// key and the key with trailing zero bytes, a long key and its hash)
    /// give equal states.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Sha1(a), Self::Sha1(b)) => a.ct_eq(b).into(),
            (Self::Sha256(a), Self::Sha256(b)) => a.ct_eq(b).into(),
            (Self::Sha512(a), Self::Sha512(b)) => a.ct_eq(b).into(),
            _ => false,
        }
    }
}

impl Eq for KeyedHmac {}

impl fmt::Debug for KeyedHmac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyedHmac(..)")
    }
}

/// The chaining states after the inner and the outer padded key.
pub(crate) struct Keyed<H: BlockHash> {
    inner: H::State,
    outer: H::State,
}

impl<H: BlockHash> Keyed<H> {
    /// Keys the HMAC with `secret` (RFC 2104 §2): zero padded to a block,
    /// or hashed first when longer than one.
    #[inline(always)]
    fn new(secret: &Secret) -> Self {
        let mut inner_pad = H::ZERO_BLOCK;
        let block = inner_pad.as_mut();
        // A key of up to a block is its zero-padded bytes, copied as one
        // block of fixed size; a longer key is hashed first.
        // `get` cannot fail: a secret is at most a SHA-512 block, and no
        // block is longer.
        match secret.zero_padded().get(..block.len()) {
            Some(padded) if secret.byte_len() <= block.len() => block.copy_from_slice(padded),
            _ => H::hash_key(secret.expose_bytes(), block),
        }
        let mut outer_pad = inner_pad;
        inner_pad.as_mut().iter_mut().for_each(|b| *b ^= 0x36);
        outer_pad.as_mut().iter_mut().for_each(|b| *b ^= 0x5c);
        // Both pads are written before either is hashed (see `Work::hash`).
        let (mut inner, mut outer) = (H::IV, H::IV);
        H::compress(&mut inner, &inner_pad);
        H::compress(&mut outer, &outer_pad);
        wipe(&mut inner_pad, H::ZERO_BLOCK);
        wipe(&mut outer_pad, H::ZERO_BLOCK);
        Self { inner, outer }
    }

    fn for_each_truncated(
        &self,
        mut counters: impl Iterator<Item = u64>,
        mut each: impl FnMut(u64, u32),
    ) {
        let mut inner_blocks = [H::COUNTER_BLOCK; LANES];
        let mut outer_blocks = [H::DIGEST_BLOCK; LANES];
        let mut states = [H::IV; LANES];
        let mut work = Work::<H> {
            inner_blocks: &mut inner_blocks,
            outer_blocks: &mut outer_blocks,
            states: &mut states,
        };
        loop {
            let mut batch = [0u64; LANES];
            // `zip` asks `batch` first, so no counter is taken past its end.
            let filled = batch
                .iter_mut()
                .zip(counters.by_ref())
                .map(|(slot, counter)| *slot = counter)
                .count();
            let mut truncated = work.hash(self, &batch, filled);
            for (counter, value) in batch.into_iter().zip(truncated).take(filled) {
                each(counter, value);
            }
            // The candidates' codes, as secret as a `Code`.
            wipe(&mut truncated, [0; LANES]);
            if filled < LANES {
                break;
            }
        }
    }

    fn ct_eq(&self, other: &Self) -> Choice {
        H::ct_eq(&self.inner, &other.inner) & H::ct_eq(&self.outer, &other.outer)
    }
}

impl<H: BlockHash> Clone for Keyed<H> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner,
            outer: self.outer,
        }
    }
}

impl<H: BlockHash> Keyed<H> {
    /// Zeros over both states, through stores that are kept.
    fn wipe(&mut self) {
        wipe(&mut self.inner, H::ZERO_STATE);
        wipe(&mut self.outer, H::ZERO_STATE);
    }
}

impl<H: BlockHash> Drop for Keyed<H> {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// The blocks and states of one call, for up to [`LANES`] counters at a
/// time, borrowed from the caller's frame (moving them into a struct of
/// their own costs a copy of several hundred bytes per call); dropping it
/// wipes what is secret.
struct Work<'a, H: BlockHash> {
    /// The inner blocks: a counter and padding, nothing secret.
    inner_blocks: &'a mut [H::Block; LANES],
    /// The outer blocks: an inner digest and padding.
    outer_blocks: &'a mut [H::Block; LANES],
    /// Each lane's inner digest, then its output.
    states: &'a mut [H::State; LANES],
}

impl<H: BlockHash> Work<'_, H> {
    /// The truncated HMAC of the first `filled` counters of `batch`.
    fn hash(&mut self, keyed: &Keyed<H>, batch: &[u64; LANES], filled: usize) -> [u32; LANES] {
        // Each level's blocks are written before any of its compressions
        // reads one: a compression's wide loads cannot be forwarded from
        // narrower stores still in flight, and waiting for them to reach
        // the cache would make each lane wait for the one before it.
        let inner = self.states.iter_mut().zip(self.inner_blocks.iter_mut());
        for ((state, block), counter) in inner.zip(batch).take(filled) {
            for (dst, src) in block.as_mut().iter_mut().zip(counter.to_be_bytes()) {
                *dst = src;
            }
            *state = keyed.inner;
        }
        // Every inner hash, then every outer one: those of one level do
        // not depend on each other, so a processor runs them side by side.
        for (state, block) in self
            .states
            .iter_mut()
            .zip(self.inner_blocks.iter())
            .take(filled)
        {
            H::compress(state, block);
        }
        for (state, block) in self
            .states
            .iter()
            .zip(self.outer_blocks.iter_mut())
            .take(filled)
        {
            H::write_state(state, block.as_mut());
        }
        for (state, block) in self
            .states
            .iter_mut()
            .zip(self.outer_blocks.iter())
            .take(filled)
        {
            *state = keyed.outer;
            H::compress(state, block);
        }
        let mut truncated = [0u32; LANES];
        for (value, state) in truncated.iter_mut().zip(self.states.iter()).take(filled) {
            let (words, last) = H::truncation_input(state);
            *value = code::truncate(words, last);
        }
        truncated
    }
}

impl<H: BlockHash> Drop for Work<'_, H> {
    fn drop(&mut self) {
        // The outputs, and the inner digests that with the outer key give
        // them, are codes for counters that may still be ahead. Only an
        // outer block's digest was written: zeros over it, through the
        // same stores that wrote it.
        wipe(self.states, [H::ZERO_STATE; LANES]);
        wipe_with(self.outer_blocks, |blocks| {
            for block in blocks.iter_mut() {
                H::write_state(&H::ZERO_STATE, block.as_mut());
            }
        });
    }
}
