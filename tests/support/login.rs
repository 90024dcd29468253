//! What the two-step login tests share: alice's binding and keys, and the
//! two steps of a TOTP login.
#![allow(dead_code)] // each test uses the part it needs

use twofa::{
    AccountState, Binding, DigestKey, FirstFactor, Guard, Outcome, SecondFactor, SecondFactors,
    Secret, ThrottlePolicy, TicketPolicy, Totp,
};

pub(crate) const NOW: u64 = 1_700_000_000;

pub(crate) fn keys() -> [DigestKey; 1] {
    [DigestKey::new(1, [5; 32])]
}

pub(crate) fn alice() -> Binding<'static> {
    Binding::new("alice", "login")
}

/// No waits, between failures or between sends.
pub(crate) fn patient() -> Guard {
    let none = || {
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(100)
            .build()
            .unwrap()
    };
    Guard::new(none()).with_send_policy(none())
}

pub(crate) fn totp() -> Totp {
    Totp::new(Secret::from_bytes(b"12345678901234567890").unwrap())
}

pub(crate) fn totp_only() -> SecondFactors {
    [SecondFactor::Totp].into_iter().collect()
}

/// Step one for alice with her password right: the ticket.
pub(crate) fn first_step(
    guard: &Guard,
    state: &mut AccountState,
    allowed: SecondFactors,
    now: u64,
) -> String {
    let outcome = guard
        .begin_login(
            state,
            &TicketPolicy::default(),
            &keys()[0],
            &mut getrandom::SysRng,
            alice(),
            FirstFactor::Password,
            allowed,
            now,
            || true,
        )
        .unwrap();
    let Outcome::Accepted(ticket) = outcome else {
        panic!("{outcome:?}")
    };
    ticket.to_string()
}

pub(crate) fn second_step_totp(
    guard: &Guard,
    state: &mut AccountState,
    ticket: &str,
    code: &str,
    now: u64,
) -> Outcome<twofa::TotpMatch> {
    guard
        .complete_login(
            state,
            &keys(),
            alice(),
            ticket,
            SecondFactor::Totp,
            now,
            |guard, state| guard.verify_totp(&totp(), &mut state.totp, code, now),
        )
        .unwrap()
}
