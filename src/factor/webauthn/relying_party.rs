//! The relying party a verifier checks ceremonies for: its RP ID, the
//! origins its pages and apps run at, and what it tolerates.

use sha2::{Digest, Sha256};

use crate::error::Error;

/// Whether a ceremony may run in a frame embedded in another site
/// (clientDataJSON `crossOrigin: true`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CrossOrigin<'a> {
    /// Refused: the default, and right for a login page that is never
    /// framed.
    Refused,
    /// Allowed when the frame's `topOrigin` is one of these (exact
    /// strings). A client too old to report `topOrigin` is refused.
    FromTopOrigins(&'a [&'a str]),
    /// Allowed whatever the top origin, or without one (WebAuthn Level 2
    /// clients): only for a relying party that is framed by many sites
    /// it does not list, such as a payment page.
    FromAnyTopOrigin,
}

/// What to do when the signature counter did not grow (§6.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CounterPolicy {
    /// Refuse the assertion with
    /// [`WebauthnError::CloneSuspected`](super::WebauthnError::CloneSuspected).
    Refuse,
    /// Accept it and say so in
    /// [`Asserted::clone_suspected`](super::Asserted::clone_suspected),
    /// for a service that would rather alert than lock someone out.
    Report,
}

/// What to do when a credential registered as not backup-eligible shows
/// BE set (a platform that started syncing it, §6.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackupEligibility {
    /// BE must stay as registered: any change is refused.
    Fixed,
    /// A change from 0 to 1 is accepted and reported in
    /// [`Asserted::backup_eligibility_gained`](super::Asserted::backup_eligibility_gained);
    /// from 1 to 0 is still refused.
    AllowGain,
}

/// A relying party: the RP ID whose SHA-256 authenticators sign, the
/// exact origins clientDataJSON may name, and the policies for framing,
/// counters and backup eligibility.
///
/// Origins are compared as exact strings, so a web origin is written as
/// the browser serializes it (`https://login.example.com`, a port only
/// when it is not the default) and a native app's as its platform gives
/// it (`android:apk-key-hash:<base64url of the signing certificate's
/// SHA-256>`).
///
/// ```
/// use twofa::webauthn::{CounterPolicy, RelyingParty};
///
/// let rp = RelyingParty::new("example.com", &["https://example.com"])?
///     .counter_policy(CounterPolicy::Report);
/// assert_eq!(rp.id(), "example.com");
/// # Ok::<(), twofa::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RelyingParty<'a> {
    id: &'a str,
    id_hash: [u8; 32],
    origins: &'a [&'a str],
    cross_origin: CrossOrigin<'a>,
    counter: CounterPolicy,
    backup_eligibility: BackupEligibility,
}

impl<'a> RelyingParty<'a> {
    /// A relying party with RP ID `id` (a registrable domain, such as
    /// `example.com`) whose ceremonies run at `origins`. Cross-origin
    /// frames are refused, a counter that did not grow is refused, and BE
    /// must stay as registered.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPolicy`] if `id` is empty or `origins` is empty or
    /// holds an empty string.
    pub fn new(id: &'a str, origins: &'a [&'a str]) -> Result<Self, Error> {
        if id.is_empty() || origins.is_empty() || origins.iter().any(|o| o.is_empty()) {
            return Err(Error::InvalidPolicy);
        }
        Ok(Self {
            id,
            id_hash: Sha256::digest(id.as_bytes()).into(),
            origins,
            cross_origin: CrossOrigin::Refused,
            counter: CounterPolicy::Refuse,
            backup_eligibility: BackupEligibility::Fixed,
        })
    }

    /// Sets whether ceremonies may run in cross-origin frames.
    #[must_use]
    pub fn cross_origin(mut self, cross_origin: CrossOrigin<'a>) -> Self {
        self.cross_origin = cross_origin;
        self
    }

    /// Sets what a counter that did not grow leads to.
    #[must_use]
    pub fn counter_policy(mut self, counter: CounterPolicy) -> Self {
        self.counter = counter;
        self
    }

    /// Sets whether BE may change from 0 to 1.
    #[must_use]
    pub fn backup_eligibility(mut self, policy: BackupEligibility) -> Self {
        self.backup_eligibility = policy;
        self
    }

    /// The RP ID.
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// The origins ceremonies may run at.
    pub fn origins(&self) -> &'a [&'a str] {
        self.origins
    }

    pub(super) fn id_hash(&self) -> &[u8; 32] {
        &self.id_hash
    }

    pub(super) fn cross_origin_policy(&self) -> CrossOrigin<'a> {
        self.cross_origin
    }

    pub(super) fn counter(&self) -> CounterPolicy {
        self.counter
    }

    pub(super) fn backup_policy(&self) -> BackupEligibility {
        self.backup_eligibility
    }
}
