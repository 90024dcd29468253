//! HOTP the obvious way, written from RFC 4226 §5.3 over the `hmac`
//! crate with direct indexing and `%`: the reference the property tests
//! and the fuzz targets hold the fast path to.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, dead_code)]

use hmac::{Hmac, KeyInit, Mac};
use twofa::Algorithm;

/// The `digits`-digit HOTP value of `counter` under `key`.
pub(crate) fn hotp(algorithm: Algorithm, key: &[u8], counter: u64, digits: u8) -> u64 {
    fn mac<M: Mac + KeyInit>(key: &[u8], counter: u64) -> Vec<u8> {
        let mut mac = <M as KeyInit>::new_from_slice(key).unwrap();
        mac.update(&counter.to_be_bytes());
        mac.finalize().into_bytes().to_vec()
    }
    let output = match algorithm {
        Algorithm::Sha1 => mac::<Hmac<sha1::Sha1>>(key, counter),
        Algorithm::Sha256 => mac::<Hmac<sha2::Sha256>>(key, counter),
        Algorithm::Sha512 => mac::<Hmac<sha2::Sha512>>(key, counter),
    };
    let offset = usize::from(output[output.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes(output[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    u64::from(bin) % 10u64.pow(u32::from(digits))
}

/// The highest counter in `first..=last` whose code is `code`.
pub(crate) fn scan(
    algorithm: Algorithm,
    key: &[u8],
    first: u64,
    last: u64,
    code: u64,
    digits: u8,
) -> Option<u64> {
    (first..=last)
        .rev()
        .find(|&c| hotp(algorithm, key, c, digits) == code)
}
