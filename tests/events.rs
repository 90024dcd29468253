//! The events of decisions: exactly the expected sequence for a scripted
//! account, nothing for a caller who has not passed the first factor, and
//! nothing secret in any of them.
#![cfg(all(feature = "alloc", feature = "serde"))]
#![allow(clippy::unwrap_used)]

#[path = "support/login.rs"]
mod login;

use login::{NOW, alice, first_step, keys, second_step_totp, totp, totp_only};
use twofa::{
    AccountState, EnrollmentNames, Event, EventKind, Guard, Outcome, ThrottlePolicy, TotpAccount,
    events::{Authenticator, Factor, Reason},
};

fn names(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(Event::name).collect()
}

#[test]
fn a_totp_check_tells_its_attempt_the_lock_and_the_drift() {
    let policy = ThrottlePolicy::builder()
        .base_delay(0)
        .max_delay(0)
        .lockout_after(3)
        .lockout_duration(Some(60))
        .build()
        .unwrap();
    let guard = Guard::new(policy);
    let totp = totp();
    let mut account = TotpAccount::default();
    let mut events = Vec::new();
    // A code from the step ahead: accepted, and the drift moves to +1.
    let ahead = totp.generate_at(NOW + 30).unwrap().to_string();
    let outcome = guard.verify_totp_with(&totp, &mut account, &ahead, NOW, &mut events);
    assert!(outcome.unwrap().is_accepted());
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [
            EventKind::LoginSucceeded {
                factor: Factor::Totp,
                multi_factor: false,
                phishing_resistant: false
            },
            EventKind::DriftLearned { from: 0, to: 1 },
        ]
    );
    assert!(events.iter().all(|e| e.at == NOW));
    events.clear();
    // Three wrong codes: the third locks; then a malformed one while
    // locked is refused as locked, nothing compared.
    for i in 0..3 {
        let _ = guard.verify_totp_with(&totp, &mut account, "000000", NOW + 60 + i, &mut events);
    }
    let _ = guard.verify_totp_with(&totp, &mut account, "12", NOW + 70, &mut events);
    assert_eq!(
        names(&events),
        [
            "login.failed",
            "login.failed",
            "login.failed",
            "lock.started",
            "login.failed"
        ]
    );
    assert_eq!(
        events[3].kind,
        EventKind::LockStarted {
            failures: 3,
            until: Some(NOW + 62 + 60)
        }
    );
    assert_eq!(
        events[4].kind,
        EventKind::LoginFailed {
            factor: Factor::Totp,
            reason: Reason::Locked
        }
    );
    // After the timed lock, a right code lifts it; the plain check tells
    // nothing and decides the same.
    events.clear();
    let later = NOW + 200;
    let code = totp.generate_at(later).unwrap().to_string();
    let mut copy = account;
    assert!(
        guard
            .verify_totp_with(&totp, &mut account, &code, later, &mut events)
            .unwrap()
            .is_accepted()
    );
    assert!(
        guard
            .verify_totp(&totp, &mut copy, &code, later)
            .unwrap()
            .is_accepted()
    );
    assert_eq!(account, copy);
    assert_eq!(
        names(&events),
        ["login.succeeded", "lock.lifted", "drift.learned"]
    );
}

#[test]
fn a_two_step_login_tells_each_step_and_a_made_up_ticket_tells_nothing() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let ticket = first_step(&guard, &mut state, totp_only(), NOW);
    assert_eq!(
        state.take_events(),
        [Event {
            at: NOW,
            kind: EventKind::FirstFactorPassed {
                factor: Factor::Password
            }
        }]
    );
    // A ticket nobody was given: nothing counted, nothing told.
    let made_up = "A".repeat(ticket.len());
    let code = totp().generate_at(NOW + 5).unwrap().to_string();
    assert_eq!(
        second_step_totp(&guard, &mut state, &made_up, &code, NOW + 5),
        Outcome::Expired
    );
    assert_eq!(
        second_step_totp(&guard, &mut state, "x", &code, NOW + 5),
        Outcome::Malformed
    );
    let mut forged = ticket.clone();
    forged.replace_range(30..31, if &ticket[30..31] == "A" { "B" } else { "A" });
    let _ = second_step_totp(&guard, &mut state, &forged, &code, NOW + 5);
    assert!(state.events().is_empty(), "{:?}", state.events());
    // The genuine ticket: a wrong code, then the right one.
    let _ = second_step_totp(&guard, &mut state, &ticket, "000000", NOW + 5);
    assert!(second_step_totp(&guard, &mut state, &ticket, &code, NOW + 7).is_accepted());
    let events = state.take_events();
    assert_eq!(
        events.iter().map(|e| (e.at, e.kind)).collect::<Vec<_>>(),
        [
            (
                NOW + 5,
                EventKind::LoginFailed {
                    factor: Factor::Totp,
                    reason: Reason::Wrong
                }
            ),
            (
                NOW + 7,
                EventKind::LoginSucceeded {
                    factor: Factor::Totp,
                    multi_factor: true,
                    phishing_resistant: false
                }
            ),
        ]
    );
    // A wrong password, a lock reached, and an operator's unlock.
    let patient = login::patient();
    let mut events = Vec::new();
    for i in 0..100 {
        let _ = patient.begin_login(
            &mut state,
            &twofa::TicketPolicy::default(),
            &keys()[0],
            &mut getrandom::SysRng,
            alice(),
            twofa::FirstFactor::Pin,
            totp_only(),
            NOW + 10 + i,
            || false,
        );
        events.extend(state.take_events());
    }
    assert_eq!(events.len(), 101);
    assert_eq!(
        events[99].kind,
        EventKind::LoginFailed {
            factor: Factor::Pin,
            reason: Reason::Wrong
        }
    );
    assert_eq!(
        events[100].kind,
        EventKind::LockStarted {
            failures: 100,
            until: None
        }
    );
    assert_eq!(patient.unlock(&mut state, NOW + 500), 100);
    assert_eq!(
        state.take_events(),
        [Event {
            at: NOW + 500,
            kind: EventKind::LockLifted { failures: 100 }
        }]
    );
    assert_eq!(patient.unlock(&mut state, NOW + 501), 0);
    assert!(state.events().is_empty());
}

#[test]
fn factor_changes_tell_which_authenticator_and_the_journal_is_not_state() {
    let mut state = AccountState::new();
    let names_ = EnrollmentNames {
        pending: "totp-pending",
        active: "totp",
    };
    assert!(!state.remove_totp(names_, NOW));
    assert!(state.events().is_empty());
    let version = state.credential_version;
    // The journal is neither compared nor stored.
    let mut other = state.clone();
    other.record_event(
        EventKind::AuthenticatorBound {
            authenticator: Authenticator::OutOfBand,
        },
        NOW,
    );
    assert_eq!(other, state);
    let json = serde_json::to_string(&other).unwrap();
    assert!(!json.contains("authenticator"), "{json}");
    let back: AccountState = serde_json::from_str(&json).unwrap();
    assert!(back.events().is_empty());
    assert_eq!(other.credential_version, version);
    // A journal never drained keeps the newest.
    for i in 0..100 {
        other.record_event(EventKind::RecoveryCodeUsed { used: i }, NOW);
    }
    assert_eq!(other.events().len(), twofa::events::Journal::CAPACITY);
    assert_eq!(
        other.events().last().unwrap().kind,
        EventKind::RecoveryCodeUsed { used: 99 }
    );
}

#[test]
fn every_event_has_a_stable_name_and_a_serialized_form_that_carries_it() {
    let kinds = [
        EventKind::LoginFailed {
            factor: Factor::OutOfBand,
            reason: Reason::Replayed,
        },
        EventKind::AuthenticatorRemoved {
            authenticator: Authenticator::Passkey {
                id: twofa::events::Tag::of_credential_id(b"credential"),
                aaguid: twofa::events::Tag([0; 16]),
                backup_eligible: true,
                user_verified: true,
            },
        },
        EventKind::LockStarted {
            failures: 10,
            until: None,
        },
    ];
    for kind in kinds {
        let json = serde_json::to_value(kind).unwrap();
        assert_eq!(json["event"], kind.name(), "{json}");
        let back: EventKind = serde_json::from_value(json).unwrap();
        assert_eq!(back, kind);
        assert!(EventKind::NAMES.contains(&kind.name()));
    }
    let json = serde_json::to_string(&kinds[1]).unwrap();
    assert_eq!(
        json,
        format!(
            "{{\"event\":\"authenticator.removed\",\"authenticator\":{{\"type\":\"passkey\",\"id\":\"{}\",\"aaguid\":\"{}\",\"backup_eligible\":true,\"user_verified\":true}}}}",
            twofa::events::Tag::of_credential_id(b"credential"),
            "0".repeat(32)
        )
    );
}

#[test]
fn a_one_call_login_tells_its_first_factor_only_when_it_fails() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let totp = totp();
    let code = totp.generate_at(NOW).unwrap().to_string();
    // A wrong PIN: its failure, and the code is not checked.
    let refused = guard
        .login_with_totp(
            &mut state,
            twofa::FirstFactor::Pin,
            &totp,
            &code,
            NOW,
            || false,
        )
        .unwrap();
    assert_eq!(refused, Outcome::Invalid { attempts_left: 9 });
    assert_eq!(
        state.take_events()[0].kind,
        EventKind::LoginFailed {
            factor: Factor::Pin,
            reason: Reason::Wrong
        }
    );
    assert_eq!(state.totp.last_step, None);
    // The right PIN and code: one multi-factor success.
    let accepted = guard
        .login_with_totp(
            &mut state,
            twofa::FirstFactor::Pin,
            &totp,
            &code,
            NOW + 5,
            || true,
        )
        .unwrap();
    assert!(accepted.is_accepted());
    assert_eq!(
        state.take_events(),
        [Event {
            at: NOW + 5,
            kind: EventKind::LoginSucceeded {
                factor: Factor::Totp,
                multi_factor: true,
                phishing_resistant: false
            }
        }]
    );
}
