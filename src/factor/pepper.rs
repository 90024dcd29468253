//! A server-side secret mixed into recovery-code digests, with an id, so
//! that a stolen database alone cannot test a guess.

crate::otp::id_key! {
    /// A server-side secret mixed into every recovery-code digest (Argon2's
    /// secret input, RFC 9106 §3.1), with an id the record keeps: kept apart
    /// from the database (in the service's secret storage), so that a stolen
    /// database alone cannot test a single guess.
    ///
    /// Rotation: new sets are made under a new pepper (a new id); keep the old
    /// one among the peppers passed to [`RecoveryCodes::verify`](crate::RecoveryCodes::verify) until every
    /// set made under it has been replaced.
    RecoveryPepper
}
