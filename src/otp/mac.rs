//! HMAC (RFC 2104) keyed once, over the 8-byte counters of HOTP and TOTP,
//! at the level of the hash's compression function.
//!
//! Keying absorbs the inner and outer padded keys once. After that, every
//! counter costs exactly two compressions (one block of inner hash, one of
//! outer hash) and no allocation, buffering or re-keying: the least work
//! HMAC over one block allows. The blocks are built from fixed templates (the
//! counter or inner digest, the `0x80` marker, the message length), and
//! the whole work area is wiped once, when the [`Mac`] is dropped.
//!
//! `tests/properties.rs` (through the reference in `tests/support/`) and
//! the `verify` fuzz target check this against the `hmac` crate for every
//! algorithm and for keys shorter than, equal to and longer than a block.

use sha1::Digest as _;
use zeroize::Zeroize;

/// A Merkle–Damgård hash seen through its compression function.
pub(crate) trait BlockHash {
    /// The chaining state.
    type State: Copy + Zeroize;
    /// One input block.
    type Block: Copy + Zeroize + AsRef<[u8]> + AsMut<[u8]>;
    /// A block of zeros.
    const ZERO_BLOCK: Self::Block;
    /// The initial state (FIPS 180-4 §5.3).
    const IV: Self::State;
    /// The output length in bytes.
    const OUTPUT_LEN: usize;
    /// Absorbs one block.
    fn compress(state: &mut Self::State, block: &Self::Block);
    /// Writes the state big-endian into `out`, up to its length.
    fn write_state(state: &Self::State, out: &mut [u8]);
    /// Writes the hash of `key` into the front of `out` (for keys longer
    /// than a block, RFC 2104 §2).
    fn hash_key(key: &[u8], out: &mut [u8]);
}

/// HMAC-SHA-1.
pub(crate) enum Sha1 {}
/// HMAC-SHA-256.
pub(crate) enum Sha256 {}
/// HMAC-SHA-512.
pub(crate) enum Sha512 {}

fn copy_hash(hash: &mut [u8], out: &mut [u8]) {
    out.iter_mut().zip(hash.iter()).for_each(|(o, h)| *o = *h);
    hash.zeroize();
}

impl BlockHash for Sha1 {
    type State = [u32; 5];
    type Block = [u8; 64];
    const ZERO_BLOCK: [u8; 64] = [0; 64];
    const IV: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    const OUTPUT_LEN: usize = 20;

    fn compress(state: &mut [u32; 5], block: &[u8; 64]) {
        sha1::block_api::compress(state, core::slice::from_ref(block));
    }

    fn write_state(state: &[u32; 5], out: &mut [u8]) {
        write_words(state, out);
    }

    fn hash_key(key: &[u8], out: &mut [u8]) {
        copy_hash(&mut sha1::Sha1::digest(key), out);
    }
}

impl BlockHash for Sha256 {
    type State = [u32; 8];
    type Block = [u8; 64];
    const ZERO_BLOCK: [u8; 64] = [0; 64];
    const IV: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    const OUTPUT_LEN: usize = 32;

    fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
        sha2::block_api::compress256(state, core::slice::from_ref(block));
    }

    fn write_state(state: &[u32; 8], out: &mut [u8]) {
        write_words(state, out);
    }

    fn hash_key(key: &[u8], out: &mut [u8]) {
        copy_hash(&mut sha2::Sha256::digest(key), out);
    }
}

impl BlockHash for Sha512 {
    type State = [u64; 8];
    type Block = [u8; 128];
    const ZERO_BLOCK: [u8; 128] = [0; 128];
    const IV: [u64; 8] = [
        0x6a09_e667_f3bc_c908,
        0xbb67_ae85_84ca_a73b,
        0x3c6e_f372_fe94_f82b,
        0xa54f_f53a_5f1d_36f1,
        0x510e_527f_ade6_82d1,
        0x9b05_688c_2b3e_6c1f,
        0x1f83_d9ab_fb41_bd6b,
        0x5be0_cd19_137e_2179,
    ];
    const OUTPUT_LEN: usize = 64;

    fn compress(state: &mut [u64; 8], block: &[u8; 128]) {
        sha2::block_api::compress512(state, core::slice::from_ref(block));
    }

    fn write_state(state: &[u64; 8], out: &mut [u8]) {
        for (chunk, word) in out.chunks_exact_mut(8).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
    }

    fn hash_key(key: &[u8], out: &mut [u8]) {
        copy_hash(&mut sha2::Sha512::digest(key), out);
    }
}

fn write_words(state: &[u32], out: &mut [u8]) {
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
}

/// Fills in the padding of a block holding a `message_len`-byte message
/// after one block of key: the `0x80` marker, then the length in bits
/// (inner or outer block of HMAC) big-endian at the end.
fn pad<H: BlockHash>(message_len: usize) -> H::Block {
    let mut block = H::ZERO_BLOCK;
    let bytes = block.as_mut();
    let bits = ((bytes.len() + message_len) as u64) * 8;
    if let Some(marker) = bytes.get_mut(message_len) {
        *marker = 0x80;
    }
    let len = bytes.len();
    for (dst, src) in bytes.iter_mut().skip(len - 8).zip(bits.to_be_bytes()) {
        *dst = src;
    }
    block
}

/// The largest output, SHA-512's.
const MAX_OUTPUT_LEN: usize = 64;

/// An HMAC keyed once, with its work area, for 8-byte messages.
pub(crate) struct Mac<H: BlockHash> {
    inner_key: H::State,
    outer_key: H::State,
    inner_block: H::Block,
    outer_block: H::Block,
    state: H::State,
    output: [u8; MAX_OUTPUT_LEN],
}

impl<H: BlockHash> Mac<H> {
    /// Keys the HMAC with `key` of any length (RFC 2104 §2): zero padded
    /// to a block, or hashed first when longer than one.
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = H::ZERO_BLOCK;
        let padded = block.as_mut();
        match padded.get_mut(..key.len()) {
            Some(head) => head.copy_from_slice(key),
            None => H::hash_key(key, padded),
        }
        padded.iter_mut().for_each(|b| *b ^= 0x36);
        let mut inner_key = H::IV;
        H::compress(&mut inner_key, &block);
        block.as_mut().iter_mut().for_each(|b| *b ^= 0x36 ^ 0x5c);
        let mut outer_key = H::IV;
        H::compress(&mut outer_key, &block);
        block.zeroize();
        Self {
            inner_key,
            outer_key,
            inner_block: pad::<H>(8),
            outer_block: pad::<H>(H::OUTPUT_LEN),
            state: H::IV,
            output: [0; MAX_OUTPUT_LEN],
        }
    }

    /// `HMAC(key, counter as 8 big-endian bytes)`.
    pub(crate) fn compute(&mut self, counter: u64) -> &[u8] {
        let message = self.inner_block.as_mut();
        for (dst, src) in message.iter_mut().zip(counter.to_be_bytes()) {
            *dst = src;
        }
        self.state = self.inner_key;
        H::compress(&mut self.state, &self.inner_block);
        H::write_state(&self.state, self.outer_block.as_mut());
        self.state = self.outer_key;
        H::compress(&mut self.state, &self.outer_block);
        H::write_state(&self.state, &mut self.output);
        self.output.get(..H::OUTPUT_LEN).unwrap_or_default()
    }
}

impl<H: BlockHash> Drop for Mac<H> {
    fn drop(&mut self) {
        // The keyed states are the key's equivalent. The last output and
        // the inner digest in the outer block are wiped too; only their
        // first `OUTPUT_LEN` bytes were ever written. The inner block holds
        // only a counter and padding.
        self.inner_key.zeroize();
        self.outer_key.zeroize();
        self.state.zeroize();
        wipe_front(self.outer_block.as_mut(), H::OUTPUT_LEN);
        wipe_front(&mut self.output, H::OUTPUT_LEN);
    }
}

fn wipe_front(bytes: &mut [u8], len: usize) {
    let end = len.min(bytes.len());
    if let Some(front) = bytes.get_mut(..end) {
        front.zeroize();
    }
}
