//! Logins in two steps: pending-login tickets and remembered devices;
//! every binding, expiry boundary, single use, and one throttle shared by
//! everything.
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used)]

#[path = "support/login.rs"]
mod login;

use login::{NOW, alice, first_step, keys, second_step_totp, totp, totp_only};
use twofa::{
    AccountState, Binding, Error, FirstFactor, Guard, Outcome, RememberPolicy, SecondFactor,
    SecondFactors, ThrottlePolicy, TicketPolicy,
};

#[test]
fn a_ticket_completes_one_login_and_only_for_its_account_purpose_and_factor() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let ticket = first_step(&guard, &mut state, totp_only(), NOW);
    assert_eq!(ticket.len(), 52);
    let code = totp().generate_at(NOW + 5).unwrap().to_string();
    // Another account, another purpose: the same ticket is wrong, and counted.
    for binding in [Binding::new("bob", "login"), Binding::new("alice", "reset")] {
        let outcome = guard
            .complete_login(
                &mut state,
                &keys(),
                binding,
                &ticket,
                SecondFactor::Totp,
                NOW + 5,
                |guard, state| guard.verify_totp(&totp(), &mut state.totp, &code, NOW + 5),
            )
            .unwrap();
        assert!(
            matches!(outcome, Outcome::Invalid { .. }),
            "{binding:?}: {outcome:?}"
        );
        state.totp.throttle = twofa::ThrottleState::default();
    }
    // A factor the first step did not allow.
    let outcome = guard
        .complete_login(
            &mut state,
            &keys(),
            alice(),
            &ticket,
            SecondFactor::Recovery,
            NOW + 5,
            |_, _| Ok(Outcome::Accepted(())),
        )
        .unwrap();
    assert_eq!(outcome, Outcome::NotAllowed);
    // The right factor completes the login, once.
    assert!(second_step_totp(&guard, &mut state, &ticket, &code, NOW + 5).is_accepted());
    let later = totp().generate_at(NOW + 65).unwrap().to_string();
    assert_eq!(
        second_step_totp(&guard, &mut state, &ticket, &later, NOW + 65),
        Outcome::Expired
    );
    // Malformed tickets compare nothing.
    for bad in ["", "not a ticket", &ticket[..51]] {
        assert_eq!(
            second_step_totp(&guard, &mut state, bad, &later, NOW + 65),
            Outcome::Malformed
        );
    }
}

#[test]
fn a_ticket_expires_exactly_on_time_and_policies_are_bounded() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let ticket = first_step(&guard, &mut state, totp_only(), NOW);
    assert_eq!(state.pending[0].expires_at, NOW + 600);
    let code_at = |t: u64| totp().generate_at(t).unwrap().to_string();
    assert_eq!(
        second_step_totp(
            &guard,
            &mut state.clone(),
            &ticket,
            &code_at(NOW + 600),
            NOW + 600
        ),
        Outcome::Expired
    );
    assert!(
        second_step_totp(&guard, &mut state, &ticket, &code_at(NOW + 599), NOW + 599).is_accepted()
    );
    assert_eq!(TicketPolicy::new(0), Err(Error::InvalidPolicy));
    assert_eq!(TicketPolicy::new(901), Err(Error::InvalidPolicy));
    assert_eq!(TicketPolicy::new(900).unwrap().ttl(), 900);
}

#[test]
fn many_tickets_never_multiply_the_guesses() {
    let guard = Guard::new(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(10)
            .build()
            .unwrap(),
    );
    let mut state = AccountState::new();
    let mut compared = 0;
    // A fresh ticket for every guess, as an attacker with the password would open.
    for guess in 0..200u32 {
        let outcome = guard
            .begin_login(
                &mut state,
                &TicketPolicy::default(),
                &keys()[0],
                &mut getrandom::SysRng,
                alice(),
                FirstFactor::Password,
                totp_only(),
                NOW,
                || true,
            )
            .unwrap();
        let Outcome::Accepted(ticket) = outcome else {
            assert_eq!(outcome, Outcome::Locked { until: None });
            break;
        };
        let wrong = format!("{:06}", guess * 7);
        match second_step_totp(&guard, &mut state, &ticket.to_string(), &wrong, NOW) {
            Outcome::Invalid { .. } => compared += 1,
            Outcome::Locked { .. } => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(compared, 10);
    assert!(state.pending.len() <= AccountState::MAX_PENDING);
}

#[test]
fn a_remembered_device_skips_the_second_factor_until_credentials_change() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let policy = RememberPolicy::default();
    let token = guard
        .remember_device(
            &mut state,
            &policy,
            &keys()[0],
            &mut getrandom::SysRng,
            alice(),
            NOW,
        )
        .unwrap()
        .to_string();
    assert_eq!(state.remembered[0].expires_at, NOW + 30 * 86_400);
    // Each check follows its own first step, as the token never replaces it.
    let allowed: SecondFactors = [SecondFactor::RememberedDevice].into_iter().collect();
    let check = |state: &mut AccountState, token: &str, binding, now| {
        let ticket = first_step(&guard, state, allowed, now);
        guard
            .verify_remembered(state, &keys(), binding, &ticket, token, now)
            .unwrap()
    };
    // Without a genuine ticket from step one, the token does nothing.
    assert!(matches!(
        guard
            .verify_remembered(
                &mut state.clone(),
                &keys(),
                alice(),
                &"A".repeat(52),
                &token,
                NOW
            )
            .unwrap(),
        Outcome::Invalid { .. }
    ));
    assert!(check(&mut state, &token, alice(), NOW + 100).is_accepted());
    // Another account or purpose: wrong, and counted.
    assert!(matches!(
        check(&mut state, &token, Binding::new("bob", "login"), NOW + 100),
        Outcome::Invalid { .. }
    ));
    state.totp.throttle = twofa::ThrottleState::default();
    // Expiry boundary.
    assert_eq!(
        check(&mut state.clone(), &token, alice(), NOW + 30 * 86_400),
        Outcome::Expired
    );
    // A password change revokes it: the second factor is asked for, and
    // the old cookie is not counted as a wrong one.
    state.credentials_changed();
    assert_eq!(
        check(&mut state, &token, alice(), NOW + 200),
        Outcome::Expired
    );
    assert_eq!(state.totp.throttle.failures, 0);
    // A ticket that does not allow a remembered device.
    let ticket = first_step(&guard, &mut state, totp_only(), NOW + 300);
    assert_eq!(
        guard
            .verify_remembered(&mut state, &keys(), alice(), &ticket, &token, NOW + 300)
            .unwrap(),
        Outcome::NotAllowed
    );
    assert_eq!(
        RememberPolicy::new(365 * 86_400 + 1),
        Err(Error::InvalidPolicy)
    );
}
