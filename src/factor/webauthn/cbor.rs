//! The CBOR (RFC 8949) that authenticators write, read over a borrowed
//! slice: no allocation, no recursion beyond [`MAX_DEPTH`], every length
//! checked against the bytes that remain before it is used.
//!
//! CTAP2 writes CBOR in its canonical form, so indefinite lengths, which
//! it never emits, are refused, as are the reserved additional-information
//! values 28 to 30. Integers are read as `i64`; a value outside that range
//! is refused where a number is expected and skipped elsewhere.

use super::error::WebauthnError;

/// How deeply arrays, maps and tags may nest in anything skipped (an
/// extension's output, an attestation statement's fields).
pub(super) const MAX_DEPTH: usize = 8;

/// The head of one data item: its major type and its argument (a length,
/// a count, a value or a simple value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Head {
    major: u8,
    argument: u64,
}

/// A reader over CBOR bytes.
#[derive(Clone, Debug)]
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// What has not been read yet.
    pub(super) fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    pub(super) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WebauthnError> {
        if n > self.bytes.len() {
            return Err(WebauthnError::MalformedCbor);
        }
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(taken)
    }

    fn head(&mut self) -> Result<Head, WebauthnError> {
        let first = *self.take(1)?.first().ok_or(WebauthnError::MalformedCbor)?;
        let major = first >> 5;
        let info = first & 0x1f;
        let argument = match info {
            0..=23 => u64::from(info),
            24..=27 => {
                let width = 1usize << (info - 24);
                let mut value = 0u64;
                for &byte in self.take(width)? {
                    value = (value << 8) | u64::from(byte);
                }
                value
            }
            // 28 to 30 are reserved; 31 is an indefinite length (or the
            // "break" stop code), which canonical CBOR never uses.
            _ => return Err(WebauthnError::MalformedCbor),
        };
        Ok(Head { major, argument })
    }

    /// A length or count, bounded by the bytes that remain: every item
    /// takes at least one byte, so nothing honest is longer.
    fn count(&self, argument: u64) -> Result<usize, WebauthnError> {
        usize::try_from(argument)
            .ok()
            .filter(|&n| n <= self.bytes.len())
            .ok_or(WebauthnError::MalformedCbor)
    }

    /// An integer (major type 0 or 1) that fits in an `i64`.
    pub(super) fn int(&mut self) -> Result<i64, WebauthnError> {
        let head = self.head()?;
        let magnitude = i64::try_from(head.argument).map_err(|_| WebauthnError::MalformedCbor)?;
        match head.major {
            0 => Ok(magnitude),
            // -1 - n, which fits for every n up to i64::MAX.
            1 => Ok(-1 - magnitude),
            _ => Err(WebauthnError::MalformedCbor),
        }
    }

    /// A byte string (major type 2).
    pub(super) fn bytes(&mut self) -> Result<&'a [u8], WebauthnError> {
        let head = self.head()?;
        if head.major != 2 {
            return Err(WebauthnError::MalformedCbor);
        }
        let len = self.count(head.argument)?;
        self.take(len)
    }

    /// A text string (major type 3), checked to be UTF-8.
    pub(super) fn text(&mut self) -> Result<&'a str, WebauthnError> {
        let head = self.head()?;
        if head.major != 3 {
            return Err(WebauthnError::MalformedCbor);
        }
        let len = self.count(head.argument)?;
        core::str::from_utf8(self.take(len)?).map_err(|_| WebauthnError::MalformedCbor)
    }

    /// The number of pairs of a map (major type 5).
    pub(super) fn map(&mut self) -> Result<usize, WebauthnError> {
        let head = self.head()?;
        if head.major != 5 {
            return Err(WebauthnError::MalformedCbor);
        }
        self.count(head.argument)
    }

    /// The number of items of an array (major type 4).
    pub(super) fn array(&mut self) -> Result<usize, WebauthnError> {
        let head = self.head()?;
        if head.major != 4 {
            return Err(WebauthnError::MalformedCbor);
        }
        self.count(head.argument)
    }

    /// Whether the next item is a text string (for map keys that may be
    /// either text or an integer).
    pub(super) fn next_is_text(&self) -> bool {
        self.bytes.first().is_some_and(|&b| b >> 5 == 3)
    }

    /// Skips one whole data item, nested at most [`MAX_DEPTH`] deep, and
    /// returns its encoded bytes. The work is bounded by the input: each
    /// step consumes at least one byte.
    pub(super) fn skip(&mut self) -> Result<&'a [u8], WebauthnError> {
        let start = self.bytes;
        self.skip_at(0)?;
        let used = start.len() - self.bytes.len();
        start.get(..used).ok_or(WebauthnError::MalformedCbor)
    }

    fn skip_at(&mut self, depth: usize) -> Result<(), WebauthnError> {
        if depth > MAX_DEPTH {
            return Err(WebauthnError::MalformedCbor);
        }
        let head = self.head()?;
        match head.major {
            0 | 1 => Ok(()),
            2 | 3 => {
                let len = self.count(head.argument)?;
                let text = self.take(len)?;
                if head.major == 3 && core::str::from_utf8(text).is_err() {
                    return Err(WebauthnError::MalformedCbor);
                }
                Ok(())
            }
            4 => {
                for _ in 0..self.count(head.argument)? {
                    self.skip_at(depth + 1)?;
                }
                Ok(())
            }
            5 => {
                for _ in 0..self.count(head.argument)? {
                    self.skip_at(depth + 1)?;
                    self.skip_at(depth + 1)?;
                }
                Ok(())
            }
            6 => self.skip_at(depth + 1),
            // Simple values and floats: their bytes were read with the head.
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_heads_of_every_width() {
        assert_eq!(Reader::new(&[0x17]).int(), Ok(23));
        assert_eq!(Reader::new(&[0x18, 0xff]).int(), Ok(255));
        assert_eq!(Reader::new(&[0x19, 0x01, 0x00]).int(), Ok(256));
        assert_eq!(Reader::new(&[0x1a, 0, 1, 0, 0]).int(), Ok(65536));
        assert_eq!(Reader::new(&[0x26]).int(), Ok(-7));
        assert_eq!(Reader::new(&[0x39, 0x01, 0x00]).int(), Ok(-257));
        assert_eq!(
            Reader::new(&[0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0]).int(),
            Err(WebauthnError::MalformedCbor)
        );
        assert_eq!(
            Reader::new(&[0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).int(),
            Ok(i64::MIN)
        );
    }

    #[test]
    fn refuses_indefinite_reserved_and_overlong() {
        for bytes in [
            &[0x5f][..],
            &[0x9f],
            &[0xbf],
            &[0x1c],
            &[0x1e],
            &[0x42, 0x00],
        ] {
            assert!(Reader::new(bytes).skip().is_err(), "{bytes:02x?}");
        }
        // A byte string claiming 2^64 - 1 bytes.
        let huge = [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            Reader::new(&huge).bytes(),
            Err(WebauthnError::MalformedCbor)
        );
        // An array claiming more items than there are bytes.
        assert_eq!(
            Reader::new(&[0x83, 0x01]).array(),
            Err(WebauthnError::MalformedCbor)
        );
    }

    #[test]
    fn skips_nested_items_up_to_the_depth() {
        let mut nested = [0x81u8; MAX_DEPTH + 1];
        nested[MAX_DEPTH] = 0x01;
        assert_eq!(
            Reader::new(&nested).skip().map(<[u8]>::len),
            Ok(MAX_DEPTH + 1)
        );
        let mut deeper = [0x81u8; MAX_DEPTH + 2];
        deeper[MAX_DEPTH + 1] = 0x01;
        assert_eq!(
            Reader::new(&deeper).skip(),
            Err(WebauthnError::MalformedCbor)
        );
        // {"a": [1, h'00'], 2: tag(1) 3.0 as a half float} then a trailing byte.
        let map = [
            0xa2, 0x61, b'a', 0x82, 0x01, 0x41, 0x00, 0x02, 0xc1, 0xf9, 0x42, 0x00, 0xff,
        ];
        let mut reader = Reader::new(&map);
        assert_eq!(reader.skip().map(<[u8]>::len), Ok(12));
        assert_eq!(reader.rest(), &[0xff]);
    }

    #[test]
    fn text_must_be_utf8() {
        assert_eq!(Reader::new(&[0x62, 0xc3, 0xa9]).text(), Ok("é"));
        assert_eq!(
            Reader::new(&[0x61, 0xff]).text(),
            Err(WebauthnError::MalformedCbor)
        );
        assert!(Reader::new(&[0x61, 0xff]).skip().is_err());
    }
}
