//! Logins in two steps: pending-login tickets and remembered devices;
//! every binding, expiry boundary, single use, and one throttle shared by
//! everything.
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used)]

#[path = "support/login.rs"]
mod login;

use login::{NOW, alice, first_step, keys, second_step_totp, totp, totp_only};
use twofa::{
    AccountState, Binding, Error, FirstFactor, Guard, OobPolicy, Outcome, RememberPolicy,
    SecondFactor, SecondFactors, ThrottlePolicy, TicketPolicy,
};

#[test]
fn a_ticket_completes_one_login_and_only_for_its_account_purpose_and_factor() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let ticket = first_step(&guard, &mut state, totp_only(), NOW);
    assert_eq!(ticket.len(), 52);
    let code = totp().generate_at(NOW + 5).unwrap().to_string();
    // Another account, another purpose: the same ticket is wrong, answered
    // as over, and nothing is counted or compared.
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
        assert_eq!(outcome, Outcome::Expired, "{binding:?}");
        assert_eq!(state.totp.throttle, twofa::ThrottleState::default());
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

/// Remembers a device for alice at `now`: its token.
fn remember(guard: &Guard, state: &mut AccountState, now: u64) -> String {
    guard
        .remember_device(
            state,
            &RememberPolicy::default(),
            &keys()[0],
            &mut getrandom::SysRng,
            alice(),
            now,
        )
        .unwrap()
        .to_string()
}

/// Step one, then `token` in place of the second factor.
fn with_cookie(
    guard: &Guard,
    state: &mut AccountState,
    token: &str,
    binding: Binding<'_>,
    now: u64,
) -> Outcome<twofa::Token> {
    let allowed: SecondFactors = [SecondFactor::RememberedDevice].into_iter().collect();
    let ticket = first_step(guard, state, allowed, now);
    let policy = RememberPolicy::default();
    let rng = &mut getrandom::SysRng;
    guard
        .verify_remembered(state, &policy, &keys(), rng, binding, &ticket, token, now)
        .unwrap()
}

#[test]
fn a_remembered_device_skips_the_second_factor_until_credentials_change() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let policy = RememberPolicy::default();
    let token = remember(&guard, &mut state, NOW);
    assert_eq!(state.remembered[0].expires_at, NOW + 30 * 86_400);
    // Without a genuine ticket from step one, the token does nothing.
    let outcome = guard
        .verify_remembered(
            &mut state.clone(),
            &policy,
            &keys(),
            &mut getrandom::SysRng,
            alice(),
            &"A".repeat(52),
            &token,
            NOW,
        )
        .unwrap();
    assert_eq!(outcome, Outcome::Expired);
    // Another account or purpose: wrong, and nothing counted.
    assert!(matches!(
        with_cookie(
            &guard,
            &mut state,
            &token,
            Binding::new("bob", "login"),
            NOW + 100
        ),
        Outcome::Expired
    ));
    state.totp.throttle = twofa::ThrottleState::default();
    // Expiry boundary.
    assert_eq!(
        with_cookie(
            &guard,
            &mut state.clone(),
            &token,
            alice(),
            NOW + 30 * 86_400
        ),
        Outcome::Expired
    );
    let Outcome::Accepted(next) = with_cookie(&guard, &mut state, &token, alice(), NOW + 100)
    else {
        panic!("a good token")
    };
    // A password change revokes it: the second factor is asked for, and
    // the old cookie is not counted as a wrong one.
    state.credentials_changed();
    assert_eq!(
        with_cookie(&guard, &mut state, &next.to_string(), alice(), NOW + 200),
        Outcome::Expired
    );
    assert_eq!(state.totp.throttle.failures, 0);
    // A ticket that does not allow a remembered device.
    let token = remember(&guard, &mut state, NOW + 300);
    let ticket = first_step(&guard, &mut state, totp_only(), NOW + 300);
    assert_eq!(
        guard
            .verify_remembered(
                &mut state,
                &policy,
                &keys(),
                &mut getrandom::SysRng,
                alice(),
                &ticket,
                &token,
                NOW + 300
            )
            .unwrap(),
        Outcome::NotAllowed
    );
    assert_eq!(
        RememberPolicy::new(365 * 86_400 + 1),
        Err(Error::InvalidPolicy)
    );
}

#[test]
fn a_remembered_token_rotates_on_use_and_a_copy_presented_again_revokes_every_device() {
    let no_wait = ThrottlePolicy::builder().base_delay(0).max_delay(0);
    let guard = Guard::new(no_wait.lockout_after(100).build().unwrap());
    let mut state = AccountState::new();
    let laptop = remember(&guard, &mut state, NOW);
    let phone = remember(&guard, &mut state, NOW);
    // Each use hands over a new token; the used one is kept, marked.
    let Outcome::Accepted(second) = with_cookie(&guard, &mut state, &laptop, alice(), NOW + 10)
    else {
        panic!("a good token")
    };
    let second = second.to_string();
    assert_ne!(second, laptop);
    assert_eq!(state.remembered.len(), 3);
    assert!(state.remembered[0].rotated && !state.remembered[2].rotated);
    let Outcome::Accepted(third) = with_cookie(&guard, &mut state, &second, alice(), NOW + 20)
    else {
        panic!("the rotated-to token")
    };
    // Clearing the mark in the database makes the record refuse every token.
    let mut unmarked = state.clone();
    unmarked.remembered[0].rotated = false;
    assert_eq!(
        with_cookie(&guard, &mut unmarked, &laptop, alice(), NOW + 25),
        Outcome::Expired
    );
    assert_eq!(unmarked.totp.throttle.failures, 0);
    // The first token again, from the browser it was copied to: a replay,
    // counted, and every remembered device of the account is revoked.
    assert_eq!(
        with_cookie(&guard, &mut state, &laptop, alice(), NOW + 30),
        Outcome::Replayed
    );
    assert_eq!(state.totp.throttle.failures, 1);
    assert!(state.remembered.is_empty());
    for token in [third.to_string(), phone] {
        assert_eq!(
            with_cookie(&guard, &mut state, &token, alice(), NOW + 40),
            Outcome::Expired
        );
    }
}

#[test]
fn rotated_records_make_way_before_live_ones() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let mut live = Vec::new();
    for i in 0..5 {
        live.push(remember(&guard, &mut state, NOW + i));
    }
    // One browser logs in many times: its rotated records never push the
    // other browsers' tokens out.
    let mut token = live.pop().unwrap();
    for i in 0..20 {
        let outcome = with_cookie(&guard, &mut state, &token, alice(), NOW + 100 + i);
        let Outcome::Accepted(next) = outcome else {
            panic!("login {i}: {outcome:?}")
        };
        token = next.to_string();
        assert!(state.remembered.len() <= AccountState::MAX_REMEMBERED);
    }
    for other in live {
        assert!(with_cookie(&guard, &mut state, &other, alice(), NOW + 200).is_accepted());
    }
}

/// Step one allowing SMS, and a code sent for it: the ticket and the code.
fn sms_login(guard: &Guard, state: &mut AccountState, now: u64) -> (String, String) {
    let allowed: SecondFactors = [SecondFactor::OutOfBand].into_iter().collect();
    let ticket = first_step(guard, state, allowed, now);
    (ticket.clone(), send(guard, state, &ticket, now))
}

/// A code sent for the pending login `ticket`.
fn send(guard: &Guard, state: &mut AccountState, ticket: &str, now: u64) -> String {
    let outcome = guard
        .challenge_oob(
            state,
            &OobPolicy::default(),
            &keys()[0],
            &mut getrandom::SysRng,
            &keys(),
            alice(),
            ticket,
            now,
        )
        .unwrap();
    let Outcome::Accepted(code) = outcome else {
        panic!("{outcome:?}")
    };
    code.to_string()
}

fn with_sms(
    guard: &Guard,
    state: &mut AccountState,
    ticket: &str,
    code: &str,
    now: u64,
) -> Outcome<()> {
    guard
        .complete_login_with_oob(state, &keys(), alice(), ticket, code, now)
        .unwrap()
}

#[test]
fn a_second_login_leaves_the_first_logins_sms_code_working() {
    let guard = login::patient();
    let mut state = AccountState::new();
    let (first, first_code) = sms_login(&guard, &mut state, NOW);
    // Someone with the password logs in meanwhile and has a code sent.
    let (second, second_code) = sms_login(&guard, &mut state, NOW + 1);
    // Each code completes its own login only: another login's code is a
    // wrong one there, counted.
    assert!(matches!(
        with_sms(&guard, &mut state, &first, &second_code, NOW + 2),
        Outcome::Invalid { .. }
    ));
    assert_eq!(state.totp.throttle.failures, 1);
    assert!(with_sms(&guard, &mut state, &first, &first_code, NOW + 3).is_accepted());
    assert_eq!(state.totp.throttle.failures, 0);
    assert!(with_sms(&guard, &mut state, &second, &second_code, NOW + 4).is_accepted());
    // Spent with its login, the code is over.
    assert_eq!(
        with_sms(&guard, &mut state, &first, &first_code, NOW + 5),
        Outcome::Expired
    );
}

#[test]
fn an_answer_to_a_replaced_code_is_expired_and_never_counted() {
    let guard = login::patient();
    let mut state = AccountState::new();
    let (ticket, old) = sms_login(&guard, &mut state, NOW);
    let new = send(&guard, &mut state, &ticket, NOW + 30);
    let pending = &state.pending[0];
    let attempts = pending.oob.as_ref().unwrap().attempts_left;
    // The code of the first message, arriving late: expired, not a failure,
    // and the new code keeps every attempt.
    if old != new {
        assert_eq!(
            with_sms(&guard, &mut state, &ticket, &old, NOW + 31),
            Outcome::Expired
        );
        assert_eq!(state.totp.throttle.failures, 0);
        assert_eq!(
            state.pending[0].oob.as_ref().unwrap().attempts_left,
            attempts
        );
    }
    // A code of neither: wrong, and counted.
    let wrong = (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| *c != old && *c != new)
        .unwrap();
    assert!(matches!(
        with_sms(&guard, &mut state, &ticket, &wrong, NOW + 32),
        Outcome::Invalid { .. }
    ));
    assert_eq!(state.totp.throttle.failures, 1);
    assert!(with_sms(&guard, &mut state, &ticket, &new, NOW + 33).is_accepted());
    // A login with no code sent: expired, nothing compared.
    let allowed: SecondFactors = [SecondFactor::OutOfBand].into_iter().collect();
    let unsent = first_step(&guard, &mut state, allowed, NOW + 40);
    assert_eq!(
        with_sms(&guard, &mut state, &unsent, &new, NOW + 41),
        Outcome::Expired
    );
    assert_eq!(state.totp.throttle.failures, 0);
}

#[test]
fn at_the_limit_a_copied_cookie_is_still_caught_and_use_never_extends_a_cookie() {
    let guard = login::patient();
    let mut state = AccountState::new();
    let tokens: Vec<String> = (0..AccountState::MAX_REMEMBERED as u64)
        .map(|i| remember(&guard, &mut state, NOW + i))
        .collect();
    let expires = state.remembered[0].expires_at;
    let Outcome::Accepted(next) =
        with_cookie(&guard, &mut state, &tokens[0], alice(), NOW + 86_400)
    else {
        panic!("a good token")
    };
    assert!(state.remembered.len() <= AccountState::MAX_REMEMBERED);
    let renewed = state.remembered.iter().find(|r| r.id == next.id()).unwrap();
    assert_eq!(
        renewed.expires_at, expires,
        "rotation keeps the first expiry"
    );
    // The rotated record was kept (another browser's made way), so the
    // copy is caught.
    assert_eq!(
        with_cookie(&guard, &mut state, &tokens[0], alice(), NOW + 86_401),
        Outcome::Replayed
    );
    assert!(state.remembered.is_empty());
}

#[test]
fn tickets_and_cookies_that_do_not_verify_change_nothing_and_say_nothing_of_a_lock() {
    let guard = login::patient();
    let mut state = AccountState::new();
    let _genuine = first_step(&guard, &mut state, totp_only(), NOW);
    let before = state.clone();
    let code = totp().generate_at(NOW).unwrap().to_string();
    // 1,000 made-up tickets: never counted, never written.
    for i in 0..1000u32 {
        let suffix: String = format!("{i:08}")
            .bytes()
            .map(|digit| char::from(b'A' + (digit - b'0')))
            .collect();
        let made_up = format!("{}{suffix}A", "A".repeat(43));
        let outcome = guard
            .complete_login(
                &mut state,
                &keys(),
                alice(),
                &made_up,
                SecondFactor::Totp,
                NOW,
                |guard, state| guard.verify_totp(&totp(), &mut state.totp, &code, NOW),
            )
            .unwrap();
        assert_eq!(outcome, Outcome::Expired, "{made_up}");
    }
    assert_eq!(state, before, "nothing written");
    // A locked account: a made-up ticket is answered as over, not locked.
    state.totp.throttle.failures = 100;
    let outcome = guard
        .complete_login(
            &mut state,
            &keys(),
            alice(),
            &"A".repeat(52),
            SecondFactor::Totp,
            NOW,
            |guard, state| guard.verify_totp(&totp(), &mut state.totp, &code, NOW),
        )
        .unwrap();
    assert_eq!(outcome, Outcome::Expired);
}
