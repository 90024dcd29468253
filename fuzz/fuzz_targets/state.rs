//! An account's stored state, as a store hands it back: any bytes read as
//! an `AccountState` or fail with an error, never a panic and never more
//! than the core's bounds; what reads back writes back the same; and every
//! decision run on a state read this way (a login's two steps, an SMS
//! code, a remembered cookie, a recovery code, a device challenge, a
//! confirmation) answers without panicking and leaves a state within the
//! bounds, which again reads back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofa::{
    AccountState, Binding, DevicePolicy, DigestKey, EnrollmentNames, FirstFactor, Guard, Keyring,
    OobPolicy, RecoveryKeys, RecoveryPolicy, RememberPolicy, SealingKey, SecondFactor,
    SecondFactors, TicketPolicy, Totp,
};

/// A generator that never fails, for the decisions that draw.
struct Counter(u64);

impl rand_core::TryRng for Counter {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Self::Error> {
        for byte in dest {
            *byte = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Counter {}

fn within_bounds(state: &AccountState) {
    assert!(state.pending.len() <= AccountState::MAX_PENDING);
    assert!(state.remembered.len() <= AccountState::MAX_REMEMBERED);
    assert!(state.devices.len() <= AccountState::MAX_DEVICES);
    if let Some(codes) = &state.recovery {
        assert!(codes.digests.len() <= RecoveryPolicy::MAX_COUNT);
    }
    let text = serde_json::to_string(state).expect("a state writes");
    let read: AccountState = serde_json::from_str(&text).expect("what was written reads back");
    assert_eq!(&read, state);
}

fuzz_target!(|data: &[u8]| {
    let Ok(state) = serde_json::from_slice::<AccountState>(data) else {
        return;
    };
    within_bounds(&state);
    let guard = Guard::default();
    let keys = [DigestKey::new(1, [3; 32])];
    let keyring = Keyring::new(SealingKey::new(1, [4; 32]));
    let login = Binding::new("alice", "login");
    let now = 1_700_000_000;
    let allowed: SecondFactors = [
        SecondFactor::Totp,
        SecondFactor::OutOfBand,
        SecondFactor::Device,
        SecondFactor::Recovery,
        SecondFactor::RememberedDevice,
    ]
    .into_iter()
    .collect();
    let ticket = "A".repeat(52);
    // Each decision on its own copy of the state read, each answered.
    let decisions: [&dyn Fn(&mut AccountState) -> Result<(), twofa::Error>; 7] = [
        &|state| {
            guard
                .begin_login(
                    state,
                    &TicketPolicy::default(),
                    &keys[0],
                    &mut Counter(1),
                    login,
                    FirstFactor::Password,
                    allowed,
                    now,
                    || true,
                )
                .map(drop)
        },
        &|state| {
            guard
                .challenge_oob(
                    state,
                    &OobPolicy::default(),
                    &keys[0],
                    &mut Counter(2),
                    &keys,
                    login,
                    &ticket,
                    now,
                )
                .map(drop)
        },
        &|state| {
            guard
                .complete_login_with_oob(state, &keys, login, &ticket, "123456", now)
                .map(drop)
        },
        &|state| {
            guard
                .verify_remembered(
                    state,
                    &RememberPolicy::default(),
                    &keys,
                    &mut Counter(3),
                    login,
                    &ticket,
                    &ticket,
                    now,
                )
                .map(drop)
        },
        &|state| {
            guard
                .challenge_device(
                    state,
                    &DevicePolicy::default(),
                    &mut Counter(4),
                    &keys,
                    login,
                    &ticket,
                    &[0; 16],
                    "",
                    now,
                )
                .map(drop)
        },
        &|state| {
            let names = EnrollmentNames {
                pending: "totp-pending",
                active: "totp",
            };
            guard
                .confirm_totp(
                    state,
                    &keyring,
                    &mut Counter(5),
                    "alice",
                    names,
                    |secret| Ok(Totp::new(secret)),
                    "123456",
                    now,
                )
                .map(drop)
        },
        &|state| {
            let Some(codes) = state.recovery.as_mut() else {
                return Ok(());
            };
            let recovery_keys = RecoveryKeys {
                digest: &keys,
                peppers: &[],
            };
            let policy = RecoveryPolicy::default();
            let owner = Binding::new("alice", "recovery");
            // A cost within bounds is hashed: keep the fuzzer quick by
            // checking a malformed code, which is refused before hashing.
            guard
                .verify_recovery(
                    &mut state.totp.throttle,
                    codes,
                    &policy,
                    recovery_keys,
                    owner,
                    &mut Counter(6),
                    "not a code",
                    now,
                )
                .map(drop)
        },
    ];
    for decide in decisions {
        let mut copy = state.clone();
        // An error is an answer; a panic is the bug this looks for.
        let _ = decide(&mut copy);
        within_bounds(&copy);
    }
});
