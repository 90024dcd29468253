//! Byte fields of the per-account states, and of a service's own records
//! beside them ([`array`](mod@array)), in their serde form: written as
//! unpadded URL-safe base64 text (RFC 4648 §5), 4 characters for 3 bytes,
//! where serde's own form of a byte array is a sequence of numbers (up to
//! 4 characters a byte in JSON). Read back from either: the text, or the
//! sequence of numbers that states written before were made of, so a
//! stored state written by an earlier version still reads.
//!
//! Text of the wrong length, or that is not base64 (padding included), is
//! refused as it is read; so is a sequence that does not fit.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{
    Deserializer, Serializer,
    de::{Error, SeqAccess, Unexpected, Visitor},
};

/// Input bytes encoded at a time: a multiple of 3, so only the last chunk
/// ends short and the chunks' texts joined are the whole text.
const CHUNK: usize = 48;

/// `bytes` as base64 text, written a chunk at a time with no allocation.
struct Text<'a>(&'a [u8]);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buffer = [0u8; CHUNK / 3 * 4];
        for chunk in self.0.chunks(CHUNK) {
            let text = Base64UrlUnpadded::encode(chunk, &mut buffer).map_err(|_| fmt::Error)?;
            f.write_str(text)?;
        }
        Ok(())
    }
}

/// Text in a human-readable format (JSON), bytes in a binary one.
fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    if serializer.is_human_readable() {
        serializer.collect_str(&Text(bytes))
    } else {
        serializer.serialize_bytes(bytes)
    }
}

/// Where the decoded bytes go: a fixed array, or a vector.
trait Sink: Sized {
    /// What the field holds, for error messages.
    const EXPECTING: &'static str;
    /// The bytes of `text`, or `None` when it is not the encoding of a
    /// value of this sink.
    fn from_text(text: &str) -> Option<Self>;
    /// The bytes as a binary format gives them, or `None` when they do
    /// not fit.
    fn from_bytes(bytes: &[u8]) -> Option<Self>;
    /// The bytes of a sequence of numbers, the earlier form.
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error>;
}

struct Bytes<T>(core::marker::PhantomData<T>);

impl<'de, T: Sink> Visitor<'de> for Bytes<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<T, E> {
        T::from_text(text).ok_or_else(|| E::invalid_value(Unexpected::Str(text), &self))
    }

    fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<T, E> {
        T::from_bytes(bytes).ok_or_else(|| E::invalid_length(bytes.len(), &self))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::from_seq(seq)
    }
}

/// In a human-readable format, text or the earlier sequence, whichever is
/// there; in a binary one, bytes (or a sequence, if the format says so).
fn deserialize<'de, D: Deserializer<'de>, T: Sink>(deserializer: D) -> Result<T, D::Error> {
    let visitor = Bytes(core::marker::PhantomData);
    if deserializer.is_human_readable() {
        deserializer.deserialize_any(visitor)
    } else {
        deserializer.deserialize_bytes(visitor)
    }
}

/// A byte of the earlier form: a number from 0 to 255.
fn next_byte<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<Option<u8>, A::Error> {
    seq.next_element::<u8>()
}

impl<const N: usize> Sink for [u8; N] {
    const EXPECTING: &'static str = "base64url text of a fixed number of bytes";

    fn from_text(text: &str) -> Option<Self> {
        let mut bytes = [0u8; N];
        // Unpadded base64 of N bytes is exactly this long; anything else
        // is refused before decoding.
        if text.len() != Base64UrlUnpadded::encoded_len(&bytes) {
            return None;
        }
        let decoded = Base64UrlUnpadded::decode(text, &mut bytes).ok()?.len();
        (decoded == N).then_some(bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok()
    }

    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut bytes = [0u8; N];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = next_byte(&mut seq)?.ok_or_else(|| A::Error::invalid_length(i, &"N bytes"))?;
        }
        match next_byte(&mut seq)? {
            None => Ok(bytes),
            Some(_) => Err(A::Error::invalid_length(N + 1, &"N bytes")),
        }
    }
}

#[cfg(feature = "alloc")]
impl Sink for Vec<u8> {
    const EXPECTING: &'static str = "base64url text";

    fn from_text(text: &str) -> Option<Self> {
        // At most this many bytes; the decoder says how many there are.
        let mut bytes = alloc::vec![0u8; text.len() / 4 * 3 + 2];
        let decoded = Base64UrlUnpadded::decode(text, &mut bytes).ok()?.len();
        bytes.truncate(decoded);
        Some(bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(bytes.to_vec())
    }

    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(byte) = next_byte(&mut seq)? {
            bytes.push(byte);
        }
        Ok(bytes)
    }
}

/// A fixed byte array, for a service's own records kept beside the
/// account's state, written as the state writes its own:
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Sealed {
///     #[serde(with = "twofa::byte_text::array")]
///     mac: [u8; 32],
/// }
///
/// let body = serde_json::to_string(&Sealed { mac: [0xfb; 32] })?;
/// assert_eq!(body, r#"{"mac":"-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s"}"#);
/// // Read back from the text, or from the numbers serde writes by itself.
/// let numbers = format!("{{\"mac\":{:?}}}", [0xfb_u8; 32]);
/// assert_eq!(serde_json::from_str::<Sealed>(&numbers)?.mac, [0xfb; 32]);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub mod array {
    use super::{Deserializer, Serializer};

    /// `bytes` as unpadded base64url text (bytes in a binary format).
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        super::serialize(bytes, serializer)
    }

    /// `N` bytes, from their text or from a sequence of `N` numbers.
    ///
    /// # Errors
    /// Text of the wrong length or not unpadded base64url, or a sequence
    /// that does not fit.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        super::deserialize(deserializer)
    }
}

/// A byte vector (`#[serde(with = "crate::byte_text::vec")]`).
#[cfg(feature = "alloc")]
pub(crate) mod vec {
    use alloc::vec::Vec;

    use super::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        super::serialize(bytes, serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        super::deserialize(deserializer)
    }
}

/// A list of at most `MAX` fixed byte arrays, each as text
/// (`#[serde(with = "crate::byte_text::list")]`, bounded as
/// [`crate::bounded::at_most`] bounds any list).
#[cfg(feature = "alloc")]
pub(crate) mod list {
    use alloc::vec::Vec;

    use serde::{Deserialize, Serialize, ser::SerializeSeq};

    use super::{Deserializer, Serializer};

    /// One array of the list, as [`super::array`] writes and reads it.
    struct Item<const N: usize>([u8; N]);

    impl<const N: usize> Serialize for Item<N> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            super::serialize(&self.0, serializer)
        }
    }

    impl<'de, const N: usize> Deserialize<'de> for Item<N> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::deserialize(deserializer).map(Item)
        }
    }

    pub(crate) fn serialize<S: Serializer, const N: usize>(
        items: &[[u8; N]],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(items.len()))?;
        for item in items {
            seq.serialize_element(&Item(*item))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize, const MAX: usize>(
        deserializer: D,
    ) -> Result<Vec<[u8; N]>, D::Error> {
        let items = crate::bounded::at_most::<_, Item<N>, MAX>(deserializer)?;
        Ok(items.into_iter().map(|Item(bytes)| bytes).collect())
    }
}
