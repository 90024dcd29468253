//! Each account's audit trail: the events of its decisions and changes,
//! append-only and bounded, and the record of every authenticator ever
//! bound to it, kept for as long as the account is.
//!
//! # Retention
//!
//! - **Activity** (every event that is not a binding): the newest
//!   [`MAX_ACTIVITY`] per account, none older than [`RETENTION_SECS`]
//!   (90 days). Older ones are deleted when the account's trail is next
//!   written, and any account's when another's is (a bounded batch at a
//!   time), so the whole trail is bounded by the accounts written in the
//!   last 90 days times [`MAX_ACTIVITY`].
//! - **Bindings** (`authenticator.bound`, `.replaced`, `.removed`: NIST SP
//!   800-63B-4 §4.1's record of authenticators): never pruned while the
//!   account exists, at most [`MAX_BINDINGS`] per account. A service
//!   checks [`AuditTrail::bindings`] before it binds another one and
//!   refuses at the bound; an append past it fails with
//!   [`StoreError::Unwritable`], never dropping an entry silently.
//!
//! Nothing here is rewritten: entries are inserted, read, and deleted
//! only by the retention above.

use core::future::Future;

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// Activity entries kept per account.
pub const MAX_ACTIVITY: usize = 500;
/// Binding entries kept per account: never pruned, refused beyond.
pub const MAX_BINDINGS: usize = 1000;
/// How long activity entries are kept: 90 days.
pub const RETENTION_SECS: u64 = 90 * 24 * 3600;
/// The longest stable name.
pub const MAX_NAME_LEN: usize = 64;
/// The longest detail (a JSON object).
pub const MAX_DETAIL_LEN: usize = 1024;
/// Old entries of other accounts deleted per append, at most.
pub const PRUNE_BATCH: usize = 100;

/// One entry of a trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailEntry {
    /// When it happened (Unix seconds).
    pub at: u64,
    /// Its stable name (`login.failed`, `admin.unlock`, …).
    pub name: String,
    /// What it says, as a JSON object (the core's event, or the service's
    /// own fields); never a secret.
    pub detail: String,
}

impl TrailEntry {
    /// Whether it belongs to the record of bindings rather than activity.
    #[must_use]
    pub fn is_binding(&self) -> bool {
        matches!(
            self.name.as_str(),
            "authenticator.bound" | "authenticator.replaced" | "authenticator.removed"
        )
    }

    /// The entry of a core event.
    #[must_use]
    pub fn of_event(event: &twofa::Event) -> Self {
        Self {
            at: event.at,
            name: event.name().to_owned(),
            // A core event always serializes; the fallback is never used.
            detail: serde_json::to_string(&event.kind).unwrap_or_else(|_| "{}".to_owned()),
        }
    }

    /// Whether it is within the bounds a trail keeps.
    ///
    /// # Errors
    /// [`StoreError::Unwritable`] for a name or detail too long, a name
    /// that is not `[a-z0-9._]`, or a detail that is not a JSON object.
    pub fn check<E>(&self) -> Result<(), StoreError<E>> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= MAX_NAME_LEN
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_');
        if !name_ok {
            return Err(StoreError::Unwritable(
                "an event name that is not [a-z0-9._]{1,64}",
            ));
        }
        let object = self.detail.len() <= MAX_DETAIL_LEN
            && serde_json::from_str::<serde_json::Value>(&self.detail)
                .is_ok_and(|value| value.is_object());
        if !object {
            return Err(StoreError::Unwritable(
                "an event detail that is not a short JSON object",
            ));
        }
        Ok(())
    }
}

/// The entries to append, checked, and the binding count they add.
///
/// # Errors
/// As [`TrailEntry::check`].
pub fn check_entries<E>(entries: &[TrailEntry]) -> Result<usize, StoreError<E>> {
    entries.iter().try_for_each(TrailEntry::check)?;
    Ok(entries.iter().filter(|entry| entry.is_binding()).count())
}

/// Where each account's trail is kept, beside its records.
///
/// # Contract
/// - [`AuditTrail::append`] adds `entries` in order, after every entry
///   already there, applying the retention (see the module); entries are
///   never rewritten.
/// - [`AuditTrail::recent`] returns up to `limit` entries of the account,
///   bindings and activity alike, newest first.
/// - [`AuditTrail::bindings`] returns every binding entry, oldest first.
pub trait AuditTrail {
    /// The store's own failure.
    type Error;

    /// Appends `entries` to `account`'s trail at `now`.
    ///
    /// # Errors
    /// The store failed, an entry is out of bounds, or the record of
    /// bindings would pass [`MAX_BINDINGS`]; nothing is then appended.
    fn append(
        &self,
        account: &str,
        entries: &[TrailEntry],
        now: u64,
    ) -> impl Future<Output = Result<(), StoreError<Self::Error>>> + Send;

    /// Up to `limit` of `account`'s newest entries, newest first.
    ///
    /// # Errors
    /// The store failed, or an entry did not read back.
    fn recent(
        &self,
        account: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<TrailEntry>, StoreError<Self::Error>>> + Send;

    /// Every authenticator `account` ever bound, replaced or removed,
    /// oldest first.
    ///
    /// # Errors
    /// The store failed, or an entry did not read back.
    fn bindings(
        &self,
        account: &str,
    ) -> impl Future<Output = Result<Vec<TrailEntry>, StoreError<Self::Error>>> + Send;
}
