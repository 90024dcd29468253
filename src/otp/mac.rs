//! The hash functions under HMAC seen through their compression function:
//! chaining states, blocks, the padding of HMAC's one-block messages, and
//! the words of an output that dynamic truncation reads. [`super::keyed`]
//! builds HMAC from these.

use sha1::Digest as _;
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

/// A Merkle–Damgård hash seen through its compression function.
pub(crate) trait BlockHash {
    /// The chaining state.
    type State: Copy + Zeroize;
    /// One input block.
    type Block: Copy + Zeroize + AsRef<[u8]> + AsMut<[u8]>;
    /// A block of zeros.
    const ZERO_BLOCK: Self::Block;
    /// HMAC's inner message block before the counter is written into its
    /// first 8 bytes: the padding after one block of key and 8 bytes.
    const COUNTER_BLOCK: Self::Block;
    /// HMAC's outer message block before the inner digest is written into
    /// its front: the padding after one block of key and one digest.
    const DIGEST_BLOCK: Self::Block;
    /// The initial state (FIPS 180-4 §5.3).
    const IV: Self::State;
    /// A state of zeros, for wiping.
    const ZERO_STATE: Self::State;
    /// Absorbs one block.
    fn compress(state: &mut Self::State, block: &Self::Block);
    /// Writes the state big-endian into `out`, up to its length.
    fn write_state(state: &Self::State, out: &mut [u8]);
    /// Writes the hash of `key` into the front of `out` (for keys longer
    /// than a block, RFC 2104 §2).
    fn hash_key(key: &[u8], out: &mut [u8]);
    /// What dynamic truncation reads of the output in `state`: its first 20
    /// bytes as five big-endian words, and its last byte.
    fn truncation_input(state: &Self::State) -> ([u32; 5], u8);
    /// Whether two states are equal, in constant time.
    fn ct_eq(a: &Self::State, b: &Self::State) -> Choice;
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
    const COUNTER_BLOCK: [u8; 64] = padded(8);
    const DIGEST_BLOCK: [u8; 64] = padded(20);
    const ZERO_STATE: [u32; 5] = [0; 5];
    const IV: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];

    fn compress(state: &mut [u32; 5], block: &[u8; 64]) {
        sha1::block_api::compress(state, core::slice::from_ref(block));
    }

    fn write_state(state: &[u32; 5], out: &mut [u8]) {
        write_words(state, out);
    }

    fn hash_key(key: &[u8], out: &mut [u8]) {
        copy_hash(&mut sha1::Sha1::digest(key), out);
    }

    fn truncation_input(state: &[u32; 5]) -> ([u32; 5], u8) {
        let [.., last] = *state;
        (*state, last as u8)
    }

    fn ct_eq(a: &[u32; 5], b: &[u32; 5]) -> Choice {
        a.as_slice().ct_eq(b.as_slice())
    }
}

impl BlockHash for Sha256 {
    type State = [u32; 8];
    type Block = [u8; 64];
    const ZERO_BLOCK: [u8; 64] = [0; 64];
    const COUNTER_BLOCK: [u8; 64] = padded(8);
    const DIGEST_BLOCK: [u8; 64] = padded(32);
    const ZERO_STATE: [u32; 8] = [0; 8];
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

    fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
        sha2::block_api::compress256(state, core::slice::from_ref(block));
    }

    fn write_state(state: &[u32; 8], out: &mut [u8]) {
        write_words(state, out);
    }

    fn hash_key(key: &[u8], out: &mut [u8]) {
        copy_hash(&mut sha2::Sha256::digest(key), out);
    }

    fn truncation_input(state: &[u32; 8]) -> ([u32; 5], u8) {
        let [a, b, c, d, e, _, _, last] = *state;
        ([a, b, c, d, e], last as u8)
    }

    fn ct_eq(a: &[u32; 8], b: &[u32; 8]) -> Choice {
        a.as_slice().ct_eq(b.as_slice())
    }
}

impl BlockHash for Sha512 {
    type State = [u64; 8];
    type Block = [u8; 128];
    const ZERO_BLOCK: [u8; 128] = [0; 128];
    const COUNTER_BLOCK: [u8; 128] = padded(8);
    const DIGEST_BLOCK: [u8; 128] = padded(64);
    const ZERO_STATE: [u64; 8] = [0; 8];
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

    fn truncation_input(state: &[u64; 8]) -> ([u32; 5], u8) {
        let [a, b, c, .., last] = *state;
        let high = |word: u64| (word >> 32) as u32;
        ([high(a), a as u32, high(b), b as u32, high(c)], last as u8)
    }

    fn ct_eq(a: &[u64; 8], b: &[u64; 8]) -> Choice {
        a.as_slice().ct_eq(b.as_slice())
    }
}

fn write_words(state: &[u32], out: &mut [u8]) {
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
}

/// The last block of a hash over one block of key and then a
/// `message_len`-byte message, before the message is written into its
/// front: the `0x80` marker after the message, then the length in bits
/// big-endian at the end (FIPS 180-4 §5.1). Evaluated at compile time.
#[allow(
    clippy::indexing_slicing,
    reason = "const evaluation: an index out of range fails the build"
)]
const fn padded<const N: usize>(message_len: usize) -> [u8; N] {
    let mut block = [0u8; N];
    block[message_len] = 0x80;
    let bits = ((N + message_len) as u64 * 8).to_be_bytes();
    let mut i = 0;
    while i < bits.len() {
        block[N - bits.len() + i] = bits[i];
        i += 1;
    }
    block
}
