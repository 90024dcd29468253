//! A key that seals secrets at rest: 32 random bytes and an id that every
//! sealed secret records, so that the right key is found after a rotation.

crate::otp::id_key! {
    /// One sealing key: 256 bits for XChaCha20-Poly1305, and its id.
    ///
    /// Keep it where the database is not: a secrets manager, a KMS-wrapped
    /// file, an environment variable of the service. Wiped on drop; `Debug`
    /// shows the id only.
    SealingKey
}
