//! Logins in two steps over one account state: the first factor issues a
//! pending-login ticket; the second step brings it back with a second
//! factor (a code, a registered device's signature, a recovery code), or a
//! remembered device skips that factor. Every failure of every step counts
//! against the account's one throttle, never per ticket or per device.

use rand_core::TryCryptoRng;

use super::{
    events::{self, Authenticator, EventKind, Factor, Reason, Tag},
    guard::Guard,
    outcome::{Outcome, Verdict},
    state::AccountState,
    throttle::{ThrottleState, Throttled},
};
#[cfg(feature = "device")]
use crate::factor::{DeviceAlgorithm, DeviceOutcome, DevicePolicy};
use crate::{
    error::Error,
    factor::{
        Binding, DigestKey, FirstFactor, OobOutcome, OobPolicy, RememberPolicy, RememberRefusal,
        SecondFactor, SecondFactors, TicketPolicy, TicketRefusal, Token,
    },
    otp::{Code, Totp, TotpMatch},
};

impl Guard {
    /// Step one: checks the first factor (`check`, the service's own
    /// password or PIN verification) under the account's throttle, and on
    /// success issues a pending-login ticket for the second step, stored in
    /// `state` (at most [`AccountState::MAX_PENDING`]; the oldest go).
    ///
    /// A full session is never the answer here: only the ticket, which
    /// expires ([`TicketPolicy`], 10 minutes by default) and completes
    /// nothing by itself.
    ///
    /// # Errors
    /// [`Error::RngFailure`]; the state then holds the first factor's
    /// outcome only.
    #[allow(clippy::too_many_arguments)]
    pub fn begin_login<R: TryCryptoRng + ?Sized>(
        &self,
        state: &mut AccountState,
        policy: &TicketPolicy,
        key: &DigestKey,
        rng: &mut R,
        binding: Binding<'_>,
        first_factor: FirstFactor,
        allowed: SecondFactors,
        now: u64,
        check: impl FnOnce() -> bool,
    ) -> Result<Outcome<Token>, Error> {
        match self
            .check_first_factor_in(state, first_factor, now, check)
            .into_accepted()
        {
            Ok(()) => {
                let (ticket, pending) =
                    policy.issue(key, rng, binding, first_factor, allowed, now)?;
                state.add_pending(pending, now);
                let factor = Factor::from(first_factor);
                state.record_event(EventKind::FirstFactorPassed { factor }, now);
                Ok(Outcome::Accepted(ticket))
            }
            Err(refused) => Ok(refused),
        }
    }

    /// Both factors of a one-call login (the broker's TOTP login: a PIN
    /// or password and a TOTP code in one request) in one decision over
    /// `state`: the first factor (`check`) under the account's throttle,
    /// then, if it matched, the code ([`Guard::verify_totp`] on
    /// `state.totp`). Journalled as the two-step login is: the first
    /// factor's failure, or the code's `login.succeeded` (multi-factor)
    /// or `login.failed`, with what the throttle and the drift did. No
    /// pending login is left behind.
    ///
    /// # Errors
    /// As [`Guard::verify_totp`].
    pub fn login_with_totp(
        &self,
        state: &mut AccountState,
        first_factor: FirstFactor,
        totp: &Totp,
        code: &str,
        now: u64,
        check: impl FnOnce() -> bool,
    ) -> Result<Outcome<TotpMatch>, Error> {
        let before = state.totp;
        if let Err(refused) = self
            .check_first_factor_in(state, first_factor, now, check)
            .into_accepted()
        {
            return Ok(refused);
        }
        let outcome = self.verify_totp(totp, &mut state.totp, code, now)?;
        self.journal_attempt(state, Factor::Totp, &outcome, &before.throttle, now);
        self.journal_drift(state, before.drift, now);
        Ok(outcome)
    }

    /// [`Guard::check_first_factor`] on `state`'s throttle, its failure
    /// journalled (`login.failed` with the factor, and `lock.started`
    /// when it locked the account). A success is not journalled: the
    /// login it starts is.
    pub fn check_first_factor_in(
        &self,
        state: &mut AccountState,
        factor: FirstFactor,
        now: u64,
        check: impl FnOnce() -> bool,
    ) -> Outcome<()> {
        let before = state.totp.throttle;
        let outcome = self.check_first_factor(state.throttle(), now, check);
        if !outcome.is_accepted() {
            self.journal_attempt(state, factor.into(), &outcome, &before, now);
        }
        outcome
    }

    /// Journals `drift.learned` when the account's drift moved from
    /// `before`.
    fn journal_drift(&self, state: &mut AccountState, before: i64, now: u64) {
        let to = state.totp.drift;
        if before != to {
            state.record_event(EventKind::DriftLearned { from: before, to }, now);
        }
    }

    /// An operator's unlock: forgets the account's consecutive failures,
    /// ending a lock (timed or for good) and any wait, and journals
    /// `lock.lifted` when there were failures; returns how many.
    pub fn unlock(&self, state: &mut AccountState, now: u64) -> u32 {
        let failures = state.totp.throttle.failures;
        self.throttle().record_success(state.throttle());
        if failures > 0 {
            state.record_event(EventKind::LockLifted { failures }, now);
        }
        failures
    }

    /// Journals an attempt at `factor` that ended in `outcome`, with what
    /// the throttle (which stood at `before`) and the drift did: a
    /// completed login is multi-factor (a first step came before, or the
    /// passkey verified the user).
    pub(super) fn journal_attempt<M>(
        &self,
        state: &mut AccountState,
        factor: Factor,
        outcome: &Outcome<M>,
        before: &ThrottleState,
        now: u64,
    ) {
        state.record_event(events::attempt(factor, outcome, true), now);
        self.journal_throttle(state, before, now);
    }

    /// Journals what the account's throttle did since it stood at
    /// `before` ([`Guard::throttle_events`]).
    pub(super) fn journal_throttle(
        &self,
        state: &mut AccountState,
        before: &ThrottleState,
        now: u64,
    ) {
        let after = state.totp.throttle;
        self.throttle_events(before, &after, now, state.journal());
    }

    /// Step two: checks the ticket the client brought back, then the
    /// second factor (`second`, one of the guard's own checks on `state`),
    /// all under the account's throttle. On success the ticket is spent
    /// and the send limit starts again. A ticket that does not verify
    /// (made up, another account's, altered) is [`Outcome::Expired`] with
    /// nothing written or counted: tickets are 256 random bits, so guessing
    /// one is not the threat, and whoever cannot pass the first factor must
    /// not be able to bring an account nearer its lock, nor learn whether
    /// it is locked.
    ///
    /// ```text
    /// guard.complete_login(&mut state, &keys, binding, ticket, SecondFactor::Totp, now,
    ///     |guard, state| guard.verify_totp(&totp, &mut state.totp, code, now))
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`], or `second`'s errors.
    #[allow(clippy::too_many_arguments)]
    pub fn complete_login<M>(
        &self,
        state: &mut AccountState,
        keys: &[DigestKey],
        binding: Binding<'_>,
        ticket: &str,
        factor: SecondFactor,
        now: u64,
        second: impl FnOnce(&Self, &mut AccountState) -> Result<Outcome<M>, Error>,
    ) -> Result<Outcome<M>, Error> {
        let before = state.totp;
        let id = match self.check_ticket(state, keys, binding, ticket, factor, now)? {
            Ok(id) => id,
            Err(refused) => {
                // Only the bearer of a genuine ticket is told of: a made-up
                // one is nobody's attempt.
                if matches!(
                    refused,
                    Outcome::TooSoon { .. } | Outcome::Locked { .. } | Outcome::NotAllowed
                ) {
                    self.journal_attempt(state, factor.into(), &refused, &before.throttle, now);
                }
                return Ok(refused);
            }
        };
        let outcome = second(self, state)?;
        if outcome.is_accepted() {
            if let Some(pending) = state.pending.iter_mut().find(|pending| pending.id == id) {
                pending.spend();
            }
            self.send_policy().record_success(&mut state.sends);
        }
        self.journal_attempt(state, factor.into(), &outcome, &before.throttle, now);
        self.journal_drift(state, before.drift, now);
        if let (SecondFactor::Recovery, true, Some(codes)) =
            (factor, outcome.is_accepted(), &state.recovery)
        {
            let used = codes.used;
            state.record_event(EventKind::RecoveryCodeUsed { used }, now);
        }
        Ok(outcome)
    }

    /// The pending login `ticket` names, checked for `factor`, then the
    /// throttle: its id, or the outcome to answer. A ticket that does not
    /// verify changes nothing and says nothing of the account's throttle.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn check_ticket<M>(
        &self,
        state: &mut AccountState,
        keys: &[DigestKey],
        binding: Binding<'_>,
        ticket: &str,
        factor: SecondFactor,
        now: u64,
    ) -> Result<Result<[u8; 16], Outcome<M>>, Error> {
        let Ok(ticket) = ticket.parse::<Token>() else {
            return Ok(Err(Outcome::Malformed));
        };
        let id = ticket.id();
        let checked = match state.pending.iter().find(|pending| pending.id == id) {
            Some(pending) => pending.check(keys, binding, &ticket, factor, now)?,
            // Never issued, or long over: a wrong ticket.
            None => Err(TicketRefusal::Invalid),
        };
        match checked {
            Ok(()) => {}
            // Nothing counted: whoever brings it has not passed the first
            // factor, and learns nothing of the account's lock.
            Err(TicketRefusal::Invalid | TicketRefusal::Expired | TicketRefusal::Spent) => {
                return Ok(Err(Outcome::Expired));
            }
            Err(TicketRefusal::FactorNotAllowed) => return Ok(Err(Outcome::NotAllowed)),
        }
        // A genuine ticket: its bearer passed the first factor.
        if let Err(throttled) = self.throttle().check(state.throttle(), now) {
            return Ok(Err(throttled.into()));
        }
        Ok(Ok(id))
    }

    /// Completes the pending login `ticket` (step one's, so the first
    /// factor was checked) with a remembered device's token in place of the
    /// second factor, under the account's throttle. The pending login must
    /// allow [`SecondFactor::RememberedDevice`].
    ///
    /// - A good token completes the login and spends the ticket; it is
    ///   rotated: its record is marked used (and kept, to catch a copy),
    ///   and the outcome carries the new token that replaces it (set it as
    ///   the cookie), issued under the first of `keys`, expiring when the
    ///   used one would have: use never extends a remembered device.
    /// - A token already rotated, presented again, is a copy: every
    ///   remembered device of the account is revoked, and the answer is
    ///   [`Outcome::Replayed`] (counted). Ask for the second factor.
    /// - A token that does not verify (made up, another account's), an
    ///   expired one or a revoked one (the credentials changed) is
    ///   [`Outcome::Expired`], with nothing counted: ask for the second
    ///   factor.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`], [`Error::RngFailure`]; the state is
    /// unchanged.
    #[allow(clippy::too_many_arguments)]
    pub fn verify_remembered<R: TryCryptoRng + ?Sized>(
        &self,
        state: &mut AccountState,
        policy: &RememberPolicy,
        keys: &[DigestKey],
        rng: &mut R,
        binding: Binding<'_>,
        ticket: &str,
        token: &str,
        now: u64,
    ) -> Result<Outcome<Token>, Error> {
        let factor = SecondFactor::RememberedDevice;
        let key = keys.first().ok_or(Error::UnknownKeyId)?;
        self.complete_login(state, keys, binding, ticket, factor, now, |guard, state| {
            let version = state.credential_version;
            let mut found = None;
            let outcome = guard.second_factor(&mut state.totp.throttle, now, || {
                let Ok(token) = token.parse::<Token>() else {
                    return Ok(Verdict::Malformed);
                };
                let id = token.id();
                // A cookie that does not verify is not counted: 256 random
                // bits are not guessed; the second factor is asked for.
                let Some(index) = state.remembered.iter().position(|record| record.id == id) else {
                    return Ok(Verdict::Expired);
                };
                let checked = state
                    .remembered
                    .get(index)
                    .map(|record| record.check(keys, binding, &token, version, now))
                    .transpose()?;
                Ok(match checked {
                    Some(Ok(())) => {
                        // The new token lives no longer than the one it
                        // replaces: use never extends a remembered device.
                        let expires_at = state.remembered.get(index).map_or(now, |r| r.expires_at);
                        let (new, record) =
                            policy.issue_until(key, rng, binding, version, now, expires_at)?;
                        found = Some((index, token, record));
                        Verdict::Accepted(new)
                    }
                    Some(Err(RememberRefusal::Rotated)) => {
                        found = None;
                        Verdict::Replayed
                    }
                    Some(Err(RememberRefusal::Expired | RememberRefusal::Revoked)) => {
                        Verdict::Expired
                    }
                    Some(Err(_)) | None => Verdict::Expired,
                })
            })?;
            match (&outcome, found) {
                (Outcome::Accepted(_), Some((index, used, record))) => {
                    let mut rotated = None;
                    if let Some(old) = state.remembered.get_mut(index) {
                        old.rotate(keys, binding, &used)?;
                        rotated = Some(old.id);
                    }
                    state.add_remembered(record, rotated, now);
                }
                // A copied token: every remembered device goes.
                (Outcome::Replayed, _) => state.remembered.clear(),
                _ => {}
            }
            Ok(outcome)
        })
    }

    /// Remembers the device a login was just completed on: the token is
    /// its cookie; the record joins `state` (at most
    /// [`AccountState::MAX_REMEMBERED`]; the oldest go).
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn remember_device<R: TryCryptoRng + ?Sized>(
        &self,
        state: &mut AccountState,
        policy: &RememberPolicy,
        key: &DigestKey,
        rng: &mut R,
        binding: Binding<'_>,
        now: u64,
    ) -> Result<Token, Error> {
        let (token, record) = policy.issue(key, rng, binding, state.credential_version, now)?;
        state.add_remembered(record, None, now);
        Ok(token)
    }

    /// Starts registering a device: a challenge for it to sign, kept in
    /// `state` until it answers.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    #[cfg(feature = "device")]
    pub fn start_device_registration<R: TryCryptoRng + ?Sized>(
        &self,
        state: &mut AccountState,
        policy: &DevicePolicy,
        rng: &mut R,
        now: u64,
    ) -> Result<[u8; 32], Error> {
        let challenge = policy.registration_challenge(rng, now)?;
        let nonce = challenge.nonce;
        state.registration = Some(challenge);
        Ok(nonce)
    }

    /// Finishes registering a device: its public key and its signature
    /// over the registration challenge, under the account's throttle. A
    /// bad signature counts as a failure. The device is stored with a
    /// keyed digest under `key` that binds it to `account`. Register
    /// devices only in a session that completed a login with a second
    /// factor.
    ///
    /// # Errors
    /// [`Error::TooManyDevices`] at the policy's limit of active devices,
    /// or [`Error::RngFailure`].
    #[cfg(feature = "device")]
    #[allow(clippy::too_many_arguments)]
    pub fn finish_device_registration<R: TryCryptoRng + ?Sized>(
        &self,
        state: &mut AccountState,
        policy: &DevicePolicy,
        rng: &mut R,
        key: &DigestKey,
        account: &str,
        algorithm: DeviceAlgorithm,
        public_key: &[u8],
        signature: &[u8],
        now: u64,
    ) -> Result<Outcome<[u8; 16]>, Error> {
        let before = state.totp.throttle;
        let outcome = (|| -> Result<Outcome<[u8; 16]>, Error> {
            if let Err(throttled) = self.throttle().check(state.throttle(), now) {
                return Ok(throttled.into());
            }
            if state.active_devices().count() >= policy.max_devices() {
                return Err(Error::TooManyDevices);
            }
            let Some(challenge) = state.registration.as_mut() else {
                return Ok(Outcome::Expired);
            };
            match challenge.register(rng, key, account, algorithm, public_key, signature, now) {
                Ok(device) => {
                    let id = device.id;
                    state.registration = None;
                    // Revoked devices are listed, but not for ever.
                    while state.devices.len() >= 2 * policy.max_devices() {
                        match state.devices.iter().position(|device| device.revoked) {
                            Some(oldest) => state.devices.remove(oldest),
                            None => break,
                        };
                    }
                    state.devices.push(device);
                    Ok(Outcome::Accepted(id))
                }
                Err(Error::ChallengeSpent) => Ok(Outcome::Expired),
                Err(Error::InvalidDeviceKey) => Ok(self.failed_attempt(state.throttle(), now)),
                Err(other) => Err(other),
            }
        })()?;
        match &outcome {
            Outcome::Accepted(id) => {
                let authenticator = Authenticator::Device { id: Tag(*id) };
                state.record_event(EventKind::AuthenticatorBound { authenticator }, now);
            }
            _ => self.journal_throttle(state, &before, now),
        }
        Ok(outcome)
    }

    /// Sends a login challenge for the pending login `ticket` to device
    /// `device_id`: the ticket is checked first (a wrong one counts as a
    /// failure), then the send limit, like a code's; the answer is the
    /// two-digit number to show on the login screen. The challenge, bound
    /// to the ticket and the `transaction` text, waits in that pending
    /// login (each login has its own; asked again while it is live, the
    /// same challenge is shown again); send the
    /// device its [`DeviceChallenge::prompt`](crate::DeviceChallenge::prompt),
    /// never the number.
    ///
    /// The send limit's refusals are answered as [`Outcome::TooSoon`] and
    /// [`Outcome::Locked`].
    ///
    /// # Errors
    /// [`Error::UnknownDevice`] for a device that is not registered and
    /// active (or whose keyed digest does not match), [`Error::UnknownKeyId`]
    /// or [`Error::RngFailure`].
    #[cfg(feature = "device")]
    #[allow(clippy::too_many_arguments)]
    pub fn challenge_device<R: TryCryptoRng + ?Sized>(
        &self,
        state: &mut AccountState,
        policy: &DevicePolicy,
        rng: &mut R,
        keys: &[DigestKey],
        binding: Binding<'_>,
        ticket: &str,
        device_id: &[u8; 16],
        transaction: &str,
        now: u64,
    ) -> Result<Outcome<u8>, Error> {
        let ticket_id =
            match self.check_ticket(state, keys, binding, ticket, SecondFactor::Device, now)? {
                Ok(id) => id,
                Err(refused) => return Ok(refused),
            };
        let device = state
            .active_devices()
            .find(|device| &device.id == device_id)
            .ok_or(Error::UnknownDevice)?;
        // A device not registered here (written by someone without the
        // digest key) is not challenged.
        if !device.is_genuine(keys, binding.account())? {
            return Err(Error::UnknownDevice);
        }
        let mut challenge = policy.login_challenge(rng, device, ticket_id, transaction, now)?;
        if let Err(throttled) = self.journal_send(state, Factor::Device, now) {
            return Ok(throttled.into());
        }
        let Some(pending) = state.pending_mut(&ticket_id) else {
            return Ok(Outcome::Expired);
        };
        // Asked again while the device's challenge for this login is live:
        // the same one is shown again, so no answer to it goes stale.
        if let Some(live) = &pending.device_challenge
            && &live.device_id == device_id
            && !live.used
            && now < live.expires_at
        {
            challenge = live.clone();
        }
        let number = challenge.number;
        pending.device_challenge = Some(challenge);
        Ok(Outcome::Accepted(number))
    }

    /// Sends an out-of-band code (by SMS, say) for the pending login
    /// `ticket`: the ticket is checked first (a wrong one counts as a
    /// failure), then the send limit ([`Guard::allow_send`]); the code is
    /// the answer, to send, and its challenge waits in that pending login,
    /// bound to `binding`. Each pending login has its own: a second login
    /// of the account leaves this one's code working. Sent again for the
    /// same login, the new code replaces the old, and an answer to the
    /// replaced one is [`Outcome::Expired`], never counted.
    ///
    /// The send limit's refusals are answered as [`Outcome::TooSoon`] and
    /// [`Outcome::Locked`].
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`] or [`Error::RngFailure`].
    #[allow(clippy::too_many_arguments)]
    pub fn challenge_oob<R: TryCryptoRng + ?Sized>(
        &self,
        state: &mut AccountState,
        policy: &OobPolicy,
        key: &DigestKey,
        rng: &mut R,
        keys: &[DigestKey],
        binding: Binding<'_>,
        ticket: &str,
        now: u64,
    ) -> Result<Outcome<Code>, Error> {
        let ticket_id =
            match self.check_ticket(state, keys, binding, ticket, SecondFactor::OutOfBand, now)? {
                Ok(id) => id,
                Err(refused) => return Ok(refused),
            };
        let (code, challenge) = policy.issue(key, rng, binding, now)?;
        if let Err(throttled) = self.journal_send(state, Factor::OutOfBand, now) {
            return Ok(throttled.into());
        }
        let Some(pending) = state.pending_mut(&ticket_id) else {
            return Ok(Outcome::Expired);
        };
        pending.replaced_oob = pending.oob.replace(challenge);
        Ok(Outcome::Accepted(code))
    }

    /// [`Guard::allow_send`] on `state`, journalled: `code.sent`, or
    /// `code.refused` with why.
    fn journal_send(
        &self,
        state: &mut AccountState,
        factor: Factor,
        now: u64,
    ) -> Result<(), Throttled> {
        let allowed = self.allow_send(&state.totp.throttle, &mut state.sends, now);
        let kind = match allowed {
            Ok(()) => EventKind::CodeSent { factor },
            Err(Throttled::TooSoon { .. }) => EventKind::SendRefused {
                factor,
                reason: Reason::Throttled,
            },
            Err(Throttled::Locked { .. }) => EventKind::SendRefused {
                factor,
                reason: Reason::Locked,
            },
        };
        state.record_event(kind, now);
        allowed
    }

    /// Completes the pending login `ticket` with the out-of-band code sent
    /// for it ([`Guard::challenge_oob`]): [`Guard::complete_login`] with
    /// that login's own challenge, under the account's throttle. A wrong
    /// code counts against the account; the code of a challenge since
    /// replaced is [`Outcome::Expired`], not counted; no code sent, or one
    /// expired or out of attempts, is [`Outcome::Expired`].
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`].
    pub fn complete_login_with_oob(
        &self,
        state: &mut AccountState,
        keys: &[DigestKey],
        binding: Binding<'_>,
        ticket: &str,
        code: &str,
        now: u64,
    ) -> Result<Outcome<()>, Error> {
        let Ok(ticket_id) = ticket.parse::<Token>().map(|ticket| ticket.id()) else {
            return Ok(Outcome::Malformed);
        };
        let factor = SecondFactor::OutOfBand;
        self.complete_login(state, keys, binding, ticket, factor, now, |guard, state| {
            let AccountState { totp, pending, .. } = state;
            let Some(pending) = pending.iter_mut().find(|p| p.id == ticket_id) else {
                return Ok(Outcome::Expired);
            };
            let (current, replaced) = (&mut pending.oob, &pending.replaced_oob);
            guard.second_factor(&mut totp.throttle, now, || {
                let Some(challenge) = current.as_mut() else {
                    return Ok(Verdict::Expired);
                };
                // Checked on a copy: a code of the replaced challenge
                // must not use up the current one's attempts.
                let mut checked = challenge.clone();
                Ok(match checked.verify(keys, binding, code, now)? {
                    OobOutcome::Accepted => {
                        *challenge = checked;
                        Verdict::Accepted(())
                    }
                    OobOutcome::Invalid { .. } => {
                        // A replaced challenge under a key since retired
                        // cannot be told: the guess is counted.
                        let stale = replaced
                            .as_ref()
                            .is_some_and(|old| old.is_code(keys, binding, code).unwrap_or(false));
                        if stale {
                            Verdict::Expired
                        } else {
                            *challenge = checked;
                            Verdict::Invalid
                        }
                    }
                    OobOutcome::Malformed => Verdict::Malformed,
                    OobOutcome::Expired
                    | OobOutcome::AttemptsExhausted
                    | OobOutcome::AlreadyUsed => Verdict::Expired,
                })
            })
        })
    }

    /// Completes the pending login `ticket` with the challenged device's
    /// signature: [`Guard::complete_login`] with the device's check bound to
    /// that same ticket (an approval given for another pending login counts
    /// as a wrong answer). The only way to check a device's answer.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`].
    #[cfg(feature = "device")]
    pub fn complete_login_with_device(
        &self,
        state: &mut AccountState,
        keys: &[DigestKey],
        binding: Binding<'_>,
        ticket: &str,
        signature: &[u8],
        now: u64,
    ) -> Result<Outcome<[u8; 16]>, Error> {
        let Ok(ticket_id) = ticket.parse::<Token>().map(|ticket| ticket.id()) else {
            return Ok(Outcome::Malformed);
        };
        let factor = SecondFactor::Device;
        self.complete_login(state, keys, binding, ticket, factor, now, |guard, state| {
            guard.verify_device(state, keys, binding.account(), &ticket_id, signature, now)
        })
    }

    /// Checks the challenged device's signature, for the pending login
    /// `ticket_id` being completed (the one [`Guard::check_ticket`] checked:
    /// only [`Guard::complete_login_with_device`] calls this, so the id can
    /// come from nowhere else), under the account's throttle: a valid one
    /// is accepted; a wrong one (a wrong number entered, another key, an
    /// approval given for another pending login) counts as a failure and
    /// uses the challenge up, and so does a device whose keyed digest does
    /// not match (not registered here), with no signature checked; a used
    /// or expired challenge, or a revoked device, is [`Outcome::Expired`]
    /// with nothing checked.
    #[cfg(feature = "device")]
    fn verify_device(
        &self,
        state: &mut AccountState,
        keys: &[DigestKey],
        account: &str,
        ticket_id: &[u8; 16],
        signature: &[u8],
        now: u64,
    ) -> Result<Outcome<[u8; 16]>, Error> {
        let AccountState {
            totp,
            devices,
            pending,
            ..
        } = state;
        let challenge = pending
            .iter_mut()
            .find(|pending| &pending.id == ticket_id)
            .and_then(|pending| pending.device_challenge.as_mut());
        self.second_factor(&mut totp.throttle, now, || {
            let Some(challenge) = challenge else {
                return Ok(Verdict::Expired);
            };
            let Some(device) = devices.iter_mut().find(|d| d.id == challenge.device_id) else {
                return Ok(Verdict::Expired);
            };
            Ok(
                match challenge.verify(device, keys, account, ticket_id, signature, now)? {
                    DeviceOutcome::Accepted => {
                        device.last_used = Some(now);
                        Verdict::Accepted(device.id)
                    }
                    DeviceOutcome::Invalid | DeviceOutcome::Forged => Verdict::Invalid,
                    DeviceOutcome::Expired | DeviceOutcome::Revoked => Verdict::Expired,
                },
            )
        })
    }
}
