//! What happens to an account, told once the decision that made it is
//! saved: each event goes to the account's audit trail (the store's
//! [`AuditTrail`]), the log and the metrics; the changes a person must
//! hear of (an authenticator bound, replaced or removed, a recovery code
//! used, the account locked) go to them as a notice by SMS, the channel
//! besides the one that made the change (NIST SP 800-63B-4 §4.6,
//! §4.2.1.1). No event, log line or notice holds a secret.
//!
//! An event is told after its decision is saved, never before: the trail
//! never shows what did not happen. The telling runs in a task of its
//! own, so a client that hangs up once its request is decided does not
//! stop it. A process that dies between the two
//! loses the events of that one decision (counted nowhere); a trail that
//! refuses them is logged and counted (`twofa_trail_failures_total`).

use serde_json::json;
use twofa::{Event, EventKind};
use twofa_record::{AuditTrail, TrailEntry};

use crate::{app::App, http::observe, records::User};

/// The endpoint a decision was made on, for the metrics' labels.
fn endpoint() -> String {
    observe::current().map_or_else(|| "none".to_owned(), |request| request.route)
}

/// The notice a person gets for `event`, if any: plain words, no secret.
fn notice(event: &Event) -> Option<String> {
    let what = match &event.kind {
        EventKind::AuthenticatorBound { authenticator } => {
            format!("A new {} was added to your account.", kind(authenticator))
        }
        EventKind::AuthenticatorReplaced { authenticator } => {
            format!("The {} of your account was replaced.", kind(authenticator))
        }
        EventKind::AuthenticatorRemoved { authenticator } => {
            format!("A {} was removed from your account.", kind(authenticator))
        }
        EventKind::RecoveryCodeUsed { .. } => {
            "A recovery code was used to sign in to your account.".to_owned()
        }
        EventKind::LockStarted { .. } => {
            "Your account was locked after too many failed sign-ins.".to_owned()
        }
        _ => return None,
    };
    Some(format!(
        "{what} If this was not you, contact support. Nobody from us will ask for a code."
    ))
}

/// An authenticator's kind in a person's words.
fn kind(authenticator: &twofa::events::Authenticator) -> &'static str {
    match authenticator.kind() {
        "totp" => "authenticator app",
        "hotp" => "hardware token",
        "out_of_band" => "phone number for codes",
        "device" => "sign-in device",
        "passkey" => "passkey",
        "recovery_codes" => "set of recovery codes",
        _ => "sign-in method",
    }
}

impl App {
    /// Tells the events of a decision on `account` in a task of its own
    /// (once the app is shared), awaited: a request dropped meanwhile
    /// does not stop it. `saved`: whether the decision changed the state.
    pub async fn tell_detached(&self, account: &str, events: Vec<Event>, saved: bool) {
        let Some(app) = self.me.get().and_then(std::sync::Weak::upgrade) else {
            return self.tell(account, events, saved).await;
        };
        let (account, request) = (account.to_owned(), observe::current());
        let telling = tokio::spawn(async move {
            observe::within(request, app.tell(&account, events, saved)).await;
        });
        if let Err(e) = telling.await {
            tracing::error!(error = %e, "telling a decision's events failed");
        }
    }

    /// Tells `events`, just decided for `account`: to the log and the
    /// metrics; and, when the decision was `saved` (it changed the
    /// state), to its trail and to the person where an event calls for a
    /// notice. An attempt that changed nothing (refused while locked)
    /// writes nothing, so nobody can push entries out of a trail without
    /// changing the account.
    pub async fn tell(&self, account: &str, events: Vec<Event>, saved: bool) {
        self.tell_events(account, events, saved, saved).await;
    }

    /// As [`App::tell`] for a saved change, with no notice: for what an
    /// anonymous caller can make happen (a sign-up naming a phone), which
    /// must not send anything to anyone.
    pub async fn tell_without_notice(&self, account: &str, events: Vec<Event>) {
        self.tell_events(account, events, true, false).await;
    }

    async fn tell_events(&self, account: &str, events: Vec<Event>, keep: bool, notify: bool) {
        if events.is_empty() {
            return;
        }
        let endpoint = endpoint();
        let mut entries = Vec::with_capacity(events.len());
        let mut notices = Vec::new();
        for event in &events {
            self.metrics.event(&endpoint, event);
            let entry = TrailEntry::of_event(event);
            tracing::info!(
                target: "twofa::event",
                account,
                event = event.name(),
                at = event.at,
                detail = %entry.detail,
            );
            entries.push(entry);
            notices.extend(notice(event));
        }
        if keep {
            self.keep(account, &entries).await;
        }
        if notify && !notices.is_empty() {
            self.notify(account, &notices).await;
        }
    }

    /// Records an event of the service's own: `name` and its `detail`
    /// fields, to the trail, the log and the metrics. An operator's
    /// action is recorded so before it is carried out.
    ///
    /// # Errors
    /// The trail refused it: an operator's action must then not be
    /// carried out.
    pub async fn record_entry(
        &self,
        account: &str,
        name: &str,
        detail: serde_json::Value,
        now: u64,
    ) -> Result<(), crate::app::Failure> {
        let entry = TrailEntry {
            at: now,
            name: name.to_owned(),
            detail: detail.to_string(),
        };
        self.store
            .append(account, std::slice::from_ref(&entry), now)
            .await
            .map_err(|e| crate::app::Failure(format!("the audit trail: {e}")))?;
        self.metrics.named(name);
        tracing::info!(
            target: "twofa::event",
            account,
            event = name,
            at = now,
            detail = %entry.detail,
        );
        Ok(())
    }

    /// Appends `entries` to `account`'s trail; a failure is logged and
    /// counted, never answered to the request (its decision stands).
    async fn keep(&self, account: &str, entries: &[TrailEntry]) {
        let started = std::time::Instant::now();
        let now = twofa::unix_time().unwrap_or_default();
        let kept = self.store.append(account, entries, now).await;
        self.metrics.store("trail", started.elapsed());
        if let Err(e) = kept {
            self.metrics.trail_failed(entries.len());
            tracing::error!(account, error = %e, events = entries.len(), "the audit trail refused events");
        }
    }

    /// Sends each of `notices` to `account`'s phone, if it has one, each
    /// counted as a send to that number and against the hourly budget,
    /// as codes are: notices are bounded as every SMS is.
    async fn notify(&self, account: &str, notices: &[String]) {
        // Only a number that is the person's (a code sent to it came
        // back): a sign-up naming someone else's number never gets it a
        // notice, not even of a lock a stranger's guesses caused.
        let (phone, verified) = match self.user(account).await {
            Ok(User {
                phone,
                phone_verified: true,
                ..
            }) if !phone.is_empty() => (phone, true),
            Ok(_) => return,
            Err(failure) => {
                tracing::error!(account, error = %failure, "no notice: the user did not load");
                return;
            }
        };
        let now = twofa::unix_time().unwrap_or_default();
        for text in notices {
            match crate::login::take_send(self, &phone, verified, now).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => {
                    self.metrics.sms("notice", "refused_phone");
                    continue;
                }
                Err(failure) => {
                    tracing::error!(account, error = %failure, "no notice: the store failed");
                    continue;
                }
            }
            match self.sender.notify(&phone, text) {
                Ok(()) => self.metrics.sms("notice", "sent"),
                Err(why) => {
                    self.metrics.sms("notice", "failed");
                    tracing::error!(account, error = %why, "sms gateway: a notice was not sent");
                }
            }
        }
    }

    /// An account's recent trail, newest first, as the API shows it.
    ///
    /// # Errors
    /// The store failed.
    pub async fn trail(
        &self,
        account: &str,
        limit: usize,
    ) -> Result<Vec<serde_json::Value>, crate::app::Failure> {
        let entries = self
            .store
            .recent(account, limit)
            .await
            .map_err(|e| crate::app::Failure(e.to_string()))?;
        Ok(entries.iter().map(shown).collect())
    }

    /// Every authenticator `account` ever bound, replaced or removed,
    /// oldest first.
    ///
    /// # Errors
    /// The store failed.
    pub async fn bindings(
        &self,
        account: &str,
    ) -> Result<Vec<serde_json::Value>, crate::app::Failure> {
        let entries = self
            .store
            .bindings(account)
            .await
            .map_err(|e| crate::app::Failure(e.to_string()))?;
        Ok(entries.iter().map(shown).collect())
    }
}

/// An entry as the API shows it: its detail as JSON, not as a string.
fn shown(entry: &TrailEntry) -> serde_json::Value {
    let detail: serde_json::Value =
        serde_json::from_str(&entry.detail).unwrap_or_else(|_| json!({}));
    json!({"at": entry.at, "event": entry.name, "detail": detail})
}
