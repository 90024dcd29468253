//! Passkeys and security keys under the account's one throttle: a
//! registration proven by a WebAuthn ceremony, a passkey as the second
//! factor of a pending login, and a passkey sign-in on its own (with
//! user verification, a complete multi-factor login). Every failed
//! assertion counts against the same throttle as every other factor, and
//! every challenge is answered once, in the same compare-and-swap as the
//! rest of the account's state.

use alloc::vec::Vec;

use rand_core::TryCryptoRng;

use super::{
    events::{EventKind, Factor, Tag},
    guard::Guard,
    outcome::{Outcome, Verdict},
    state::AccountState,
};
use crate::{
    error::Error,
    factor::{
        Binding, DigestKey, Passkey, PasskeyChallenge, PasskeyPolicy, SecondFactor, Token,
        Transports,
        webauthn::{
            AssertionRequest, AssertionResponse, AttestationResponse, CoseAlgorithm,
            RegistrationRequest, RelyingParty, UserVerification, WebauthnError,
        },
    },
};

/// A passkey that completed a login.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PasskeyUse {
    /// The credential id of the passkey used.
    pub credential_id: Vec<u8>,
    /// Whether the person was verified (UV): with it, a passkey sign-in is
    /// multi-factor on its own.
    pub user_verified: bool,
    /// The counter did not grow: the credential may have been cloned
    /// (accepted only under [`CounterPolicy::Report`](crate::webauthn::CounterPolicy::Report)).
    pub clone_suspected: bool,
    /// BE went from 0 to 1 (accepted only under
    /// [`BackupEligibility::AllowGain`](crate::webauthn::BackupEligibility::AllowGain)).
    pub backup_eligibility_gained: bool,
}

/// Where the challenge an assertion answers is kept.
enum Challenge<'a> {
    /// In a pending login (a passkey as the second factor).
    Pending(&'a [u8; 16]),
    /// A sign-in challenge, opened: the assertion must verify against
    /// these bytes, and the sign-in is recorded as used.
    SignIn(&'a [u8], crate::factor::SignIn),
}

impl Guard {
    /// Starts registering a passkey for a person in a session that
    /// completed a login with a second factor (NIST SP 800-63B-4
    /// §4.1.2.1: adding an authenticator needs an authentication at least
    /// as strong): the challenge to send, kept in `state` until it is
    /// answered. Send with it, as `excludeCredentials`, the ids of
    /// `state.passkeys`.
    ///
    /// # Errors
    /// [`Error::TooManyPasskeys`] at the policy's limit, or
    /// [`Error::RngFailure`].
    pub fn start_passkey_registration<R: TryCryptoRng + ?Sized>(
        &self,
        state: &mut AccountState,
        policy: &PasskeyPolicy,
        rng: &mut R,
        user_verification: UserVerification,
        now: u64,
    ) -> Result<[u8; 32], Error> {
        if state.passkeys.len() >= policy.max_passkeys() {
            return Err(Error::TooManyPasskeys);
        }
        let challenge = policy.challenge(rng, user_verification, now)?;
        let bytes = challenge.challenge;
        state.passkey_registration = Some(challenge);
        Ok(bytes)
    }

    /// Finishes registering a passkey: the browser's answer to the
    /// challenge of [`Guard::start_passkey_registration`], verified for
    /// `rp` (any supported algorithm), under the account's throttle. The
    /// challenge is used once, whatever the answer; a registration that
    /// does not verify counts as a failure (a malformed one is
    /// [`Outcome::Malformed`], nothing counted). The passkey is stored,
    /// named `name`, with a keyed digest under `key` binding it to
    /// `account`; the answer is its credential id.
    ///
    /// A credential id must belong to one account only: before saving
    /// `state`, claim the id in the service's index of credential ids
    /// (insert if absent) and refuse the registration if another account
    /// holds it.
    ///
    /// # Errors
    /// [`Error::TooManyPasskeys`], [`Error::DuplicatePasskey`] (already
    /// registered to this account).
    #[allow(clippy::too_many_arguments)]
    pub fn finish_passkey_registration(
        &self,
        state: &mut AccountState,
        rp: &RelyingParty<'_>,
        policy: &PasskeyPolicy,
        key: &DigestKey,
        account: &str,
        response: &AttestationResponse<'_>,
        transports: Transports,
        name: &str,
        now: u64,
    ) -> Result<Outcome<Vec<u8>>, Error> {
        if let Err(throttled) = self.throttle().check(state.throttle(), now) {
            return Ok(throttled.into());
        }
        if state.passkeys.len() >= policy.max_passkeys() {
            return Err(Error::TooManyPasskeys);
        }
        let Some(challenge) = state
            .passkey_registration
            .as_mut()
            .filter(|c| c.is_live(now))
        else {
            return Ok(Outcome::Expired);
        };
        let request = RegistrationRequest {
            challenge: &challenge.challenge,
            algorithms: CoseAlgorithm::SUPPORTED,
            user_verification: challenge.user_verification,
        };
        let registered = match rp.verify_registration(&request, response) {
            Ok(registered) => registered,
            Err(Error::Webauthn(reason)) => {
                let verdict = verdict::<()>(reason);
                if !matches!(verdict, Verdict::Malformed) {
                    challenge.used = true;
                }
                return Ok(match verdict {
                    Verdict::Malformed => Outcome::Malformed,
                    Verdict::Expired => Outcome::Expired,
                    _ => {
                        let before = state.totp.throttle;
                        let failed = self.failed_attempt(state.throttle(), now);
                        self.journal_throttle(state, &before, now);
                        failed
                    }
                });
            }
            Err(other) => return Err(other),
        };
        challenge.used = true;
        if state
            .passkeys
            .iter()
            .any(|p| p.id == registered.credential_id)
        {
            return Err(Error::DuplicatePasskey);
        }
        let passkey = Passkey::new(&registered, transports, name, key, account, now);
        let id = passkey.id.clone();
        let authenticator = passkey.authenticator();
        state.passkey_registration = None;
        state.passkeys.push(passkey);
        state.record_event(EventKind::AuthenticatorBound { authenticator }, now);
        Ok(Outcome::Accepted(id))
    }

    /// Sends a passkey challenge for the pending login `ticket` (one that
    /// allows [`SecondFactor::Passkey`]): the ticket is checked first, then
    /// the throttle; the answer is the challenge to send with the ids of
    /// `state.passkeys` as `allowCredentials` and `userVerification`
    /// "preferred" (the password was the other factor). Asked again while
    /// the login's challenge is live, the same one is given.
    ///
    /// # Errors
    /// [`Error::UnknownPasskey`] when the account has no passkey,
    /// [`Error::UnknownKeyId`] or [`Error::RngFailure`].
    #[allow(clippy::too_many_arguments)]
    pub fn challenge_passkey<R: TryCryptoRng + ?Sized>(
        &self,
        state: &mut AccountState,
        policy: &PasskeyPolicy,
        rng: &mut R,
        keys: &[DigestKey],
        binding: Binding<'_>,
        ticket: &str,
        now: u64,
    ) -> Result<Outcome<[u8; 32]>, Error> {
        let ticket_id =
            match self.check_ticket(state, keys, binding, ticket, SecondFactor::Passkey, now)? {
                Ok(id) => id,
                Err(refused) => return Ok(refused),
            };
        if state.passkeys.is_empty() {
            return Err(Error::UnknownPasskey);
        }
        let fresh = policy.challenge(rng, UserVerification::Preferred, now)?;
        let Some(pending) = state.pending_mut(&ticket_id) else {
            return Ok(Outcome::Expired);
        };
        let challenge = match &pending.passkey_challenge {
            Some(live) if live.is_live(now) => live.challenge,
            _ => {
                let bytes = fresh.challenge;
                pending.passkey_challenge = Some(fresh);
                bytes
            }
        };
        Ok(Outcome::Accepted(challenge))
    }

    /// Completes the pending login `ticket` with a passkey's assertion to
    /// that login's challenge ([`Guard::challenge_passkey`]):
    /// [`Guard::complete_login`] with the assertion checked for `rp`
    /// against the passkey `credential_id` of the account. A failed
    /// assertion counts against the account and uses the challenge up.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`].
    #[allow(clippy::too_many_arguments)]
    pub fn complete_login_with_passkey(
        &self,
        state: &mut AccountState,
        rp: &RelyingParty<'_>,
        keys: &[DigestKey],
        binding: Binding<'_>,
        ticket: &str,
        credential_id: &[u8],
        response: &AssertionResponse<'_>,
        now: u64,
    ) -> Result<Outcome<PasskeyUse>, Error> {
        let Ok(ticket_id) = ticket.parse::<Token>().map(|ticket| ticket.id()) else {
            return Ok(Outcome::Malformed);
        };
        let factor = SecondFactor::Passkey;
        self.complete_login(state, keys, binding, ticket, factor, now, |guard, state| {
            let challenge = Challenge::Pending(&ticket_id);
            guard.verify_passkey(
                state,
                rp,
                keys,
                binding.account(),
                challenge,
                credential_id,
                response,
                now,
            )
        })
    }

    /// A passkey sign-in, the passkey the only factor (WebAuthn with user
    /// verification: something the person has, unlocked by something they
    /// know or are): the assertion to a sign-in challenge
    /// ([`PasskeyPolicy::sign_in_challenge`]) checked for `rp` with user
    /// verification required, under the account's throttle. The service
    /// found `state`'s account by `credential_id` in its index of
    /// credential ids; the passkey's keyed digest binds it to `account`,
    /// so a wrong index entry finds a passkey that is refused. (The
    /// response's user handle then adds nothing: the credential id names
    /// the account.)
    ///
    /// - A challenge that is not genuine, has expired or was already
    ///   accepted for this account is [`Outcome::Expired`], nothing counted.
    /// - A failed assertion counts against the account, as a wrong
    ///   password does.
    /// - A good one completes the login: every failure is forgotten and the
    ///   challenge is recorded as used, in this same state.
    ///
    /// # Errors
    /// [`Error::UnknownPasskey`] when the account has no passkey
    /// `credential_id`, [`Error::UnknownKeyId`].
    #[allow(clippy::too_many_arguments)]
    pub fn sign_in_with_passkey(
        &self,
        state: &mut AccountState,
        rp: &RelyingParty<'_>,
        policy: &PasskeyPolicy,
        keys: &[DigestKey],
        account: &str,
        challenge: &[u8],
        credential_id: &[u8],
        response: &AssertionResponse<'_>,
        now: u64,
    ) -> Result<Outcome<PasskeyUse>, Error> {
        let Some(sign_in) = policy.open_sign_in_challenge(keys, challenge, now) else {
            return Ok(Outcome::Expired);
        };
        if state.sign_ins.is_used(&sign_in) {
            return Ok(Outcome::Expired);
        }
        let before = state.totp.throttle;
        let outcome = self.verify_passkey(
            state,
            rp,
            keys,
            account,
            Challenge::SignIn(challenge, sign_in),
            credential_id,
            response,
            now,
        )?;
        if outcome.is_accepted() {
            self.send_policy().record_success(&mut state.sends);
        }
        self.journal_attempt(state, Factor::Passkey, &outcome, &before, now);
        Ok(outcome)
    }

    /// Checks an assertion by the account's passkey `credential_id` to
    /// `challenge`, under the throttle.
    #[allow(clippy::too_many_arguments)]
    fn verify_passkey(
        &self,
        state: &mut AccountState,
        rp: &RelyingParty<'_>,
        keys: &[DigestKey],
        account: &str,
        challenge: Challenge<'_>,
        credential_id: &[u8],
        response: &AssertionResponse<'_>,
        now: u64,
    ) -> Result<Outcome<PasskeyUse>, Error> {
        let AccountState {
            totp,
            passkeys,
            pending,
            sign_ins,
            ..
        } = state;
        let passkey = passkeys
            .iter_mut()
            .find(|p| p.id == credential_id)
            .ok_or(Error::UnknownPasskey)?;
        let mut clone_suspected = false;
        let outcome = self.second_factor(&mut totp.throttle, now, || {
            // The challenge's bytes and the verification it asks for; a
            // pending login's challenge is used up by any counted answer.
            let mut kept: Option<&mut PasskeyChallenge> = None;
            let copy: [u8; 32];
            let (bytes, user_verification): (&[u8], _) = match &challenge {
                Challenge::Pending(ticket_id) => {
                    let Some(c) = pending
                        .iter_mut()
                        .find(|p| &p.id == *ticket_id)
                        .and_then(|p| p.passkey_challenge.as_mut())
                        .filter(|c| c.is_live(now))
                    else {
                        return Ok(Verdict::Expired);
                    };
                    copy = c.challenge;
                    let uv = c.user_verification;
                    kept = Some(c);
                    (&copy, uv)
                }
                Challenge::SignIn(bytes, _) => (bytes, UserVerification::Required),
            };
            if !passkey.is_genuine(keys, account)? {
                // Written by someone without the digest key: refused like
                // a wrong answer, with no signature checked.
                if let Some(c) = kept {
                    c.used = true;
                }
                return Ok(Verdict::Invalid);
            }
            let request = AssertionRequest {
                challenge: bytes,
                user_verification,
            };
            let verdict = match rp.verify_assertion(&request, &passkey.record(), response) {
                Ok(asserted) => {
                    passkey.sign_count = asserted.sign_count;
                    passkey.backup_eligible = asserted.backup_eligible;
                    passkey.backed_up = asserted.backed_up;
                    passkey.last_used = Some(now);
                    // Under the first of `keys`, as every record re-issued.
                    if let Some(key) = keys.first() {
                        passkey.seal(key, account);
                    }
                    if let Challenge::SignIn(_, sign_in) = challenge {
                        sign_ins.record(sign_in);
                    }
                    clone_suspected = asserted.clone_suspected;
                    Verdict::Accepted(PasskeyUse {
                        credential_id: passkey.id.clone(),
                        user_verified: asserted.user_verified,
                        clone_suspected: asserted.clone_suspected,
                        backup_eligibility_gained: asserted.backup_eligibility_gained,
                    })
                }
                Err(Error::Webauthn(reason)) => {
                    clone_suspected = reason == WebauthnError::CloneSuspected;
                    verdict(reason)
                }
                Err(other) => return Err(other),
            };
            if let Some(c) = kept
                && !matches!(verdict, Verdict::Malformed)
            {
                c.used = true;
            }
            Ok(verdict)
        });
        if clone_suspected {
            let passkey = Tag::of_credential_id(credential_id);
            state.record_event(EventKind::CloneSuspected { passkey }, now);
        }
        outcome
    }
}

/// How a refusal counts: input that is not a ceremony's at all is
/// malformed (nothing counted), an answer to another challenge is expired
/// (a stale page; nothing counted), and every other refusal, a bad
/// signature first, is a failed attempt.
fn verdict<M>(reason: WebauthnError) -> Verdict<M> {
    match reason {
        WebauthnError::MalformedCbor
        | WebauthnError::MalformedClientData
        | WebauthnError::MalformedAuthenticatorData
        | WebauthnError::TooLong
        | WebauthnError::ChallengeLength => Verdict::Malformed,
        WebauthnError::ChallengeMismatch | WebauthnError::WrongType => Verdict::Expired,
        _ => Verdict::Invalid,
    }
}
