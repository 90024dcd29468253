//! Just enough of the protobuf wire format to read a Google Authenticator
//! export: fields of a message, each a varint or a length-delimited slice
//! of the input. Bounded by construction: nothing is copied, every length
//! is checked against what is left, varints stop at 10 bytes, and groups
//! (deprecated wire types 3 and 4) are refused.

use super::error::Problem;

/// A field's value.
#[derive(Clone, Copy, Debug)]
pub(super) enum Value<'a> {
    /// Wire type 0: integers, booleans, enums.
    Varint(u64),
    /// Wire type 2: bytes, strings, embedded messages.
    Bytes(&'a [u8]),
    /// Wire types 1 and 5: fixed-size numbers, which the export has none
    /// of (skipped).
    Fixed,
}

/// The fields of one message, in the order they come.
pub(super) struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    pub(super) fn new(message: &'a [u8]) -> Self {
        Self { rest: message }
    }

    fn varint(&mut self) -> Result<u64, Problem> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let (&byte, rest) = self
                .rest
                .split_first()
                .ok_or(Problem::Syntax("a protobuf varint"))?;
            self.rest = rest;
            let bits = u64::from(byte & 0x7f);
            // The tenth byte may carry only the top bit of 64.
            if shift == 63 && bits > 1 {
                return Err(Problem::Syntax("a protobuf varint of at most 64 bits"));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Problem::Syntax("a protobuf varint of at most 10 bytes"))
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], Problem> {
        let len = usize::try_from(len).map_err(|_| Problem::Syntax("a protobuf length"))?;
        if len > self.rest.len() {
            return Err(Problem::Syntax("a protobuf field within the message"));
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }

    fn field(&mut self) -> Result<(u64, Value<'a>), Problem> {
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let len = self.varint()?;
                Value::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            _ => return Err(Problem::Syntax("a protobuf wire type 0, 1, 2 or 5")),
        };
        Ok((key >> 3, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let field = self.field();
        if field.is_err() {
            // Nothing after a malformed field can be trusted.
            self.rest = &[];
        }
        Some(field)
    }
}
