//! The cryptography of PSKC (RFC 6030 §6): AES-CBC as XML Encryption uses
//! it (the IV before the ciphertext), HMAC over each encrypted value, and
//! PBKDF2 for keys derived from a password.

use alloc::vec::Vec;

use aes::{Aes128, Aes192, Aes256};
use cbc::cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit,
    block_padding::{NoPadding, Pkcs7},
};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha224, Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::super::error::{Problem, Quoted};

/// XML Encryption's block ciphers, by their algorithm URIs.
const AES128_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
const AES192_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes192-cbc";
const AES256_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";

/// The MAC RFC 6030 requires every reader to know.
pub(super) const HMAC_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#hmac-sha1";
const MORE: &str = "http://www.w3.org/2001/04/xmldsig-more#";

/// PBKDF2 (PKCS #5 v2.0), as RFC 6030 §6.2 names it.
pub(super) const PBKDF2: &str = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2";

/// The most PBKDF2 iterations a file may ask for: derivation stays under
/// a few seconds, whatever the file says. (PBKDF2 runs its iterations once
/// per output block of the PRF, so a 24- or 32-byte key under HMAC-SHA-1
/// costs twice this.)
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

const BLOCK: usize = 16;

/// The encryption methods taken, with their key lengths.
const METHODS: [(&str, usize); 3] = [(AES128_CBC, 16), (AES192_CBC, 24), (AES256_CBC, 32)];

/// The key length an encryption method takes, or why it is not taken.
pub(super) fn key_len(method: &str) -> Result<usize, Problem> {
    METHODS
        .iter()
        .find(|(uri, _)| *uri == method)
        .map(|&(_, len)| len)
        .ok_or_else(|| {
            Problem::Unsupported(alloc::format!(
                "{} encryption method {} (AES-CBC only)",
                family(method),
                Quoted(method)
            ))
        })
}

/// What kind of encryption an unsupported method's URI names, so that a
/// refusal states its true reason.
fn family(method: &str) -> &'static str {
    let name = method
        .rsplit('#')
        .next()
        .unwrap_or(method)
        .to_ascii_lowercase();
    if name.starts_with("kw-") {
        "key wrap (RFC 3394)"
    } else if name.contains("tripledes") || name.contains("3des") {
        "3DES"
    } else if name.contains("camellia") {
        "Camellia"
    } else {
        "an unknown"
    }
}

/// The encryption method for a key of `len` bytes, if one takes it.
pub(super) fn method_for_key_len(len: usize) -> Option<&'static str> {
    METHODS
        .iter()
        .find(|&&(_, key_len)| key_len == len)
        .map(|&(uri, _)| uri)
}

/// Decrypts `iv || ciphertext` under `key` with `method`, removing XML
/// Encryption's padding (its last byte counts the padding bytes; the others
/// are arbitrary).
pub(super) fn decrypt(
    method: &str,
    key: &[u8],
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let mut plain = decrypt_padded(method, key, data)?;
    let len = unpadded_len(&plain).ok_or(Problem::WrongKey)?;
    plain.truncate(len);
    Ok(plain)
}

/// The length of `plain` without XML Encryption's padding, or `None` when
/// its last byte is no padding length (a wrong key, or altered data).
pub(super) fn unpadded_len(plain: &[u8]) -> Option<usize> {
    let pad = usize::from(*plain.last()?);
    (1..=BLOCK)
        .contains(&pad)
        .then(|| plain.len().saturating_sub(pad))
}

/// Decrypts `iv || ciphertext` under `key` with `method`, padding and all.
/// Fails only on what the file shows in the clear: a method not taken, a
/// key of another length, or no whole blocks.
pub(super) fn decrypt_padded(
    method: &str,
    key: &[u8],
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Problem> {
    if key.len() != key_len(method)? {
        return Err(Problem::WrongKey);
    }
    let (iv, ciphertext) = data
        .split_first_chunk::<BLOCK>()
        .filter(|(_, rest)| !rest.is_empty() && rest.len() % BLOCK == 0)
        .ok_or(Problem::Syntax("an IV and whole AES blocks"))?;
    let mut plain = Zeroizing::new(Vec::from(ciphertext));
    match method {
        AES128_CBC => cbc_decrypt::<Aes128>(key, iv, &mut plain),
        AES192_CBC => cbc_decrypt::<Aes192>(key, iv, &mut plain),
        _ => cbc_decrypt::<Aes256>(key, iv, &mut plain),
    }?;
    Ok(plain)
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8; BLOCK], data: &mut [u8]) -> Result<(), Problem>
where
    C: BlockCipherDecrypt + KeyInit,
    cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
{
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| Problem::WrongKey)?
        .decrypt_padded::<NoPadding>(data)
        .map_err(|_| Problem::WrongKey)?;
    Ok(())
}

/// Encrypts `plain` under `key` (AES-CBC by its length: 16, 24 or 32
/// bytes) as `iv || ciphertext`, PKCS #7 padded (one form of XML
/// Encryption's padding).
pub(super) fn encrypt(
    key: &[u8],
    iv: &[u8; BLOCK],
    plain: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let padded = (plain.len() / BLOCK + 1) * BLOCK;
    let mut out = Zeroizing::new(alloc::vec![0; BLOCK + padded]);
    let (head, body) = out
        .split_first_chunk_mut::<BLOCK>()
        .ok_or(Problem::WrongKey)?;
    *head = *iv;
    body.get_mut(..plain.len())
        .ok_or(Problem::WrongKey)?
        .copy_from_slice(plain);
    match key.len() {
        16 => cbc_encrypt::<Aes128>(key, iv, body, plain.len()),
        24 => cbc_encrypt::<Aes192>(key, iv, body, plain.len()),
        32 => cbc_encrypt::<Aes256>(key, iv, body, plain.len()),
        _ => Err(Problem::WrongKey),
    }?;
    Ok(out)
}

fn cbc_encrypt<C>(key: &[u8], iv: &[u8; BLOCK], buf: &mut [u8], len: usize) -> Result<(), Problem>
where
    C: BlockCipherEncrypt + KeyInit,
    cbc::Encryptor<C>: KeyIvInit + BlockModeEncrypt,
{
    cbc::Encryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| Problem::WrongKey)?
        .encrypt_padded::<Pkcs7>(buf, len)
        .map_err(|_| Problem::WrongKey)?;
    Ok(())
}

/// A MAC algorithm by its URI.
#[derive(Clone, Copy, Debug)]
pub(super) enum MacAlgorithm {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl MacAlgorithm {
    pub(super) fn from_uri(uri: &str) -> Result<Self, Problem> {
        let name = if uri == HMAC_SHA1 {
            "hmac-sha1"
        } else {
            uri.strip_prefix(MORE).unwrap_or(uri)
        };
        Self::from_name(name).ok_or_else(|| {
            Problem::Unsupported(alloc::format!(
                "MAC algorithm {} (HMAC-SHA-1 or SHA-2 only)",
                Quoted(uri)
            ))
        })
    }

    /// `hmac-sha1`, `hmac-sha256` and the like, as the URIs end.
    pub(super) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "hmac-sha1" => Self::Sha1,
            "hmac-sha224" => Self::Sha224,
            "hmac-sha256" => Self::Sha256,
            "hmac-sha384" => Self::Sha384,
            "hmac-sha512" => Self::Sha512,
            _ => return None,
        })
    }

    /// The MAC of `data` under `key`.
    pub(super) fn mac(self, key: &[u8], data: &[u8]) -> Zeroizing<Vec<u8>> {
        fn run<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Zeroizing<Vec<u8>> {
            // HMAC takes a key of any length.
            let mut mac =
                <M as KeyInit>::new_from_slice(key).unwrap_or_else(|_| M::new(&Default::default()));
            mac.update(data);
            Zeroizing::new(mac.finalize().into_bytes().to_vec())
        }
        match self {
            Self::Sha1 => run::<Hmac<Sha1>>(key, data),
            Self::Sha224 => run::<Hmac<Sha224>>(key, data),
            Self::Sha256 => run::<Hmac<Sha256>>(key, data),
            Self::Sha384 => run::<Hmac<Sha384>>(key, data),
            Self::Sha512 => run::<Hmac<Sha512>>(key, data),
        }
    }

    /// Whether `expected` is the MAC of `data`, compared in constant time.
    pub(super) fn verify(self, key: &[u8], data: &[u8], expected: &[u8]) -> bool {
        self.mac(key, data).as_slice().ct_eq(expected).into()
    }

    /// PBKDF2 with this HMAC as its PRF.
    pub(super) fn pbkdf2(self, password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
        match self {
            Self::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, rounds, out),
            Self::Sha224 => pbkdf2::pbkdf2_hmac::<Sha224>(password, salt, rounds, out),
            Self::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, rounds, out),
            Self::Sha384 => pbkdf2::pbkdf2_hmac::<Sha384>(password, salt, rounds, out),
            Self::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, rounds, out),
        }
    }
}
