//! Changing an account's authenticator-app factor as one decision over its
//! state: a pending TOTP secret confirmed with a code becomes the active
//! one, in the same compare-and-swap that marks the code's step used and
//! moves the credential version. Of several confirmations racing with one
//! code, one finds the pending secret and the rest find it gone.

use rand_core::TryCryptoRng;

use super::{
    events::{Authenticator, EventKind},
    guard::Guard,
    outcome::{Outcome, Verdict},
    state::AccountState,
    used_steps,
};
use crate::{
    error::Error,
    factor::Binding,
    otp::{Secret, Totp, TotpMatch},
    seal::{Keyring, SecretKind},
};

/// Where a TOTP enrollment's secret waits and where it goes, for
/// [`Guard::confirm_totp`]: both names are purposes the secret is sealed
/// for, so a pending secret cannot be copied into the active place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnrollmentNames<'a> {
    /// The name of the pending secret (shown to the person, not yet
    /// confirmed).
    pub pending: &'a str,
    /// The name of the active secret it replaces or installs.
    pub active: &'a str,
}

impl Guard {
    /// Confirms a pending TOTP enrollment with a code from the new secret,
    /// under the account's throttle, as one decision over `state`:
    ///
    /// - the pending secret is opened from `state` itself (never from an
    ///   earlier read) and built into a [`Totp`] by `build`;
    /// - the code is checked in the nominal window, and its step must be
    ///   newer than every step already used on the account;
    /// - on success the secret is sealed anew under `names.active`, the
    ///   pending one is removed, the step is marked used, the drift starts
    ///   at 0, and [`AccountState::credentials_changed`] ends every login
    ///   in progress and every remembered device.
    ///
    /// A wrong or replayed code counts as a failure; no pending secret is
    /// [`Outcome::Expired`] (a confirmation that lost a race finds it
    /// gone), with nothing compared.
    ///
    /// # Errors
    /// The pending secret does not open ([`Keyring::open_secret`]), `build`
    /// failed, [`Error::RngFailure`] or [`Error::TimeBeforeEpoch`]; the
    /// state is unchanged.
    #[allow(clippy::too_many_arguments)]
    pub fn confirm_totp<R: TryCryptoRng + ?Sized>(
        &self,
        state: &mut AccountState,
        keyring: &Keyring,
        rng: &mut R,
        account: &str,
        names: EnrollmentNames<'_>,
        build: impl FnOnce(Secret) -> Result<Totp, Error>,
        code: &str,
        now: u64,
    ) -> Result<Outcome<TotpMatch>, Error> {
        if let Err(throttled) = self.throttle().check(state.throttle(), now) {
            return Ok(throttled.into());
        }
        let opened = state
            .secrets
            .open(keyring, account, names.pending, SecretKind::Totp)?;
        let Some(secret) = opened else {
            return Ok(Outcome::Expired);
        };
        let totp = build(secret)?;
        let found = match totp.verify_at(code, now) {
            Ok(found) => found,
            Err(Error::MalformedCode) => return Ok(Outcome::Malformed),
            Err(Error::InvalidCode) => {
                let before = state.totp.throttle;
                let failed = self.failed_attempt(state.throttle(), now);
                self.journal_throttle(state, &before, now);
                return Ok(failed);
            }
            Err(other) => return Err(other),
        };
        let sealed = keyring.seal_secret(
            rng,
            SecretKind::Totp,
            totp.secret(),
            Binding::new(account, names.active),
        )?;
        let mut secrets = state.secrets.clone();
        secrets.remove(names.pending);
        secrets.insert(names.active, sealed)?;
        let steps = found.step..=found.step;
        let totp_state = &mut state.totp;
        let fresh = used_steps::fresh(
            totp_state.last_step,
            totp_state.used_below,
            steps.clone(),
            found.step,
        );
        let verdict = if fresh {
            Verdict::Accepted(found)
        } else {
            Verdict::Replayed
        };
        let before = state.totp.throttle;
        let outcome = self.second_factor(state.throttle(), now, || Ok(verdict))?;
        if outcome.is_accepted() {
            used_steps::record(&mut state.totp.last_step, &mut state.totp.used_below, steps);
            state.totp.drift = 0;
            let authenticator = Authenticator::Totp;
            let kind = match state.secrets.contains(names.active) {
                true => EventKind::AuthenticatorReplaced { authenticator },
                false => EventKind::AuthenticatorBound { authenticator },
            };
            state.secrets = secrets;
            state.credentials_changed();
            state.record_event(kind, now);
        } else {
            self.journal_throttle(state, &before, now);
        }
        Ok(outcome)
    }
}
