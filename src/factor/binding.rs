//! What a stored single-use record is bound to: the account it was issued
//! for and the purpose it serves, both inside its keyed digest.

use hmac::Mac;

/// The account and purpose a challenge is issued for and checked against.
///
/// Both go into the record's keyed digest, length-prefixed, so a record
/// copied to another account's row, or a login code typed into a password
/// reset, does not verify. Take them from the request's own context (the
/// account being logged in), never from the stored record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Binding<'a> {
    account: &'a str,
    purpose: &'a str,
}

impl<'a> Binding<'a> {
    /// A binding to `account` (the service's stable account id) for
    /// `purpose` (`"login"`, `"reset-password"`, …).
    #[must_use]
    pub fn new(account: &'a str, purpose: &'a str) -> Self {
        Self { account, purpose }
    }

    /// The account.
    #[must_use]
    pub fn account(&self) -> &'a str {
        self.account
    }

    /// The purpose.
    #[must_use]
    pub fn purpose(&self) -> &'a str {
        self.purpose
    }

    /// Feeds both to a MAC, each after its length, so that no pair of
    /// strings reads as another.
    pub(crate) fn feed(&self, mac: &mut impl Mac) {
        for part in [self.account, self.purpose] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
    }
}
