//! The shape every server key of the crate shares (sealing keys, digest
//! keys, recovery peppers): 32 random bytes and an id that whatever the key
//! makes records, wiped on drop, with only the id in `Debug`.

/// Defines a key type of that shape, with the docs given.
macro_rules! id_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            id: u32,
            bytes: [u8; 32],
        }

        impl $name {
            /// Key `id` from 32 bytes (load it from the service's secret
            /// storage).
            #[must_use]
            pub fn new(id: u32, bytes: [u8; 32]) -> Self {
                Self { id, bytes }
            }

            /// A fresh key `id` from a cryptographically secure generator.
            ///
            /// # Errors
            /// [`Error::RngFailure`](crate::Error::RngFailure).
            pub fn generate<R: rand_core::TryCryptoRng + ?Sized>(
                id: u32,
                rng: &mut R,
            ) -> Result<Self, crate::error::Error> {
                let mut key = Self { id, bytes: [0; 32] };
                rng.try_fill_bytes(&mut key.bytes)
                    .map_err(|_| crate::error::Error::RngFailure)?;
                Ok(key)
            }

            /// The key's id, recorded with whatever it makes.
            #[must_use]
            pub fn id(&self) -> u32 {
                self.id
            }

            /// The key's bytes, to store it (sealed).
            #[must_use]
            pub fn expose_bytes(&self) -> &[u8; 32] {
                &self.bytes
            }

            /// The key as text, `ID:HEX` (a decimal id and 64 lowercase
            /// hex digits), to put in the service's secret storage; read
            /// back with `parse`. Wiped on drop.
            #[cfg(feature = "alloc")]
            #[must_use]
            pub fn to_text(&self) -> zeroize::Zeroizing<alloc::string::String> {
                let mut text = zeroize::Zeroizing::new(alloc::string::String::with_capacity(75));
                text.push_str(&alloc::format!("{}:", self.id));
                for byte in &self.bytes {
                    for nibble in [byte >> 4, byte & 15] {
                        // Below 16: always a hex digit.
                        text.extend(char::from_digit(u32::from(nibble), 16));
                    }
                }
                text
            }
        }

        impl core::str::FromStr for $name {
            type Err = crate::error::Error;

            /// Reads `ID:HEX` (a decimal id and 64 hex digits, either
            /// case; surrounding whitespace ignored), as `to_text` writes.
            ///
            /// # Errors
            /// [`Error::MalformedKey`](crate::Error::MalformedKey); the error
            /// holds nothing of the text.
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                let malformed = crate::error::Error::MalformedKey;
                let (id, hex) = text.trim().split_once(':').ok_or(malformed)?;
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(malformed);
                }
                let id: u32 = id.parse().map_err(|_| malformed)?;
                let hex = hex.as_bytes();
                if hex.len() != 64 {
                    return Err(malformed);
                }
                let mut key = Self { id, bytes: [0; 32] };
                for (byte, pair) in key.bytes.iter_mut().zip(hex.chunks_exact(2)) {
                    let digit = |c: &u8| char::from(*c).to_digit(16).ok_or(malformed);
                    let [high, low] = pair else {
                        return Err(malformed);
                    };
                    let (high, low) = (digit(high)?, digit(low)?);
                    // Both below 16: the value fits a byte.
                    *byte = ((high << 4) | low) as u8;
                }
                Ok(key)
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                zeroize::Zeroize::zeroize(&mut self.bytes);
            }
        }

        impl zeroize::ZeroizeOnDrop for $name {}

        impl core::fmt::Debug for $name {
            /// The id, never the bytes.
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("id", &self.id)
                    .finish_non_exhaustive()
            }
        }
    };
}

pub(crate) use id_key;
