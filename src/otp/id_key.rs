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
