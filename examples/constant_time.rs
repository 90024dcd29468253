//! Statistical evidence (dudect: Reparaz, Balasch & Verbauwhede, "Dude, is
//! my code constant time?", 2017) that verification time does not depend
//! on whether or where a code matched, nor on how close a wrong code is.
//!
//! Each test times many verifications of two classes of input, shuffled
//! together, and runs Welch's t-test on the two timing distributions
//! (cropped at several percentiles). |t| above 5 is evidence of a leak;
//! below it, none was found at this number of samples.
//!
//! Whether a code matched is tested on `verify_ct_at`, which keeps the
//! decision in a `CtOption`. `answer_hit_vs_miss` times `verify_at`, whose
//! `Result` is built by one branch on that decision: it shows the cost of
//! answering, which any caller's own branch on the answer shares.
//!
//! ```sh
//! cargo run --release --example constant_time
//! cargo run --release --example constant_time -- --continuous totp_hit_vs_miss
//! ```

use dudect_bencher::{BenchRng, Class, CtRunner, ctbench_main, rand::RngExt};
use twofa::{
    Binding, DeviceAlgorithm, DevicePolicy, DigestKey, FirstFactor, OobPolicy, SecondFactor,
    SecondFactors, Secret, TicketPolicy, Totp,
};

/// Samples per test.
const SAMPLES: usize = 200_000;

/// A test's input: the typed code and the time it is checked at.
type Input = (String, u64);

fn totp() -> Totp {
    // A demo secret, never a real one.
    Totp::new(Secret::from_bytes(b"12345678901234567890").expect("a valid demo secret"))
}

/// A time somewhere in this century.
fn time(rng: &mut BenchRng) -> u64 {
    1_000_000_000 + rng.random_range(0..3_000_000_000u64)
}

fn class(rng: &mut BenchRng) -> Class {
    if rng.random::<bool>() {
        Class::Left
    } else {
        Class::Right
    }
}

/// Whether `code` is the code of any step in the ±1 window around `time`.
fn in_window(totp: &Totp, code: &str, time: u64) -> bool {
    (0..3).any(|i| {
        totp.generate_at(time + 30 * i - 30)
            .is_ok_and(|c| c.to_string() == code)
    })
}

/// The inputs of a test: the two classes, shuffled, each input built by
/// `make`; `None` (a rare collision with the window) is drawn again.
fn inputs(
    rng: &mut BenchRng,
    make: impl Fn(&mut BenchRng, Class) -> Option<Input>,
) -> Vec<(Class, Input)> {
    let mut inputs = Vec::with_capacity(SAMPLES);
    while inputs.len() < SAMPLES {
        let class = class(rng);
        if let Some(input) = make(rng, class) {
            inputs.push((class, input));
        }
    }
    inputs
}

/// Times `verify_at` on each input.
fn run(
    runner: &mut CtRunner,
    rng: &mut BenchRng,
    make: impl Fn(&mut BenchRng, Class) -> Option<Input>,
) {
    let totp = totp();
    for (class, (code, time)) in inputs(rng, make) {
        runner.run_one(class, || totp.verify_at(&code, time));
    }
}

/// Left: the code of the current step (a hit). Right: a code of no step in
/// the window (a miss).
fn hit_or_miss(rng: &mut BenchRng, class: Class) -> Option<Input> {
    let totp = totp();
    let now = time(rng);
    let code = match class {
        Class::Left => totp.generate_at(now).ok()?.to_string(),
        Class::Right => {
            let code = totp.generate_at(now + 3600).ok()?.to_string();
            (!in_window(&totp, &code, now)).then_some(code)?
        }
    };
    Some((code, now))
}

/// Whether the code matched, up to the decision (`verify_ct_at`).
fn totp_hit_vs_miss(runner: &mut CtRunner, rng: &mut BenchRng) {
    let totp = totp();
    for (class, (code, time)) in inputs(rng, hit_or_miss) {
        runner.run_one(class, || totp.verify_ct_at(&code, time, 0));
    }
}

/// Whether the code matched, answered as a `Result` (`verify_at`).
fn answer_hit_vs_miss(runner: &mut CtRunner, rng: &mut BenchRng) {
    run(runner, rng, hit_or_miss);
}

/// Left: a match at the first step of the window. Right: at the last.
fn totp_first_vs_last_step(runner: &mut CtRunner, rng: &mut BenchRng) {
    let totp = totp();
    run(runner, rng, |rng, class| {
        let now = time(rng);
        let step_time = match class {
            Class::Left => now - 30,
            Class::Right => now + 30,
        };
        Some((totp.generate_at(step_time).ok()?.to_string(), now))
    });
}

/// Left: a wrong code sharing 5 of 6 digits with the current one. Right: a
/// wrong code sharing none.
fn totp_near_vs_far_miss(runner: &mut CtRunner, rng: &mut BenchRng) {
    let totp = totp();
    run(runner, rng, |rng, class| {
        let now = time(rng);
        let right = totp.generate_at(now).ok()?.to_string();
        let shift = |digit: u8, by: u8| char::from(b'0' + (digit - b'0' + by) % 10);
        let code: String = match class {
            Class::Left => right
                .bytes()
                .enumerate()
                .map(|(i, d)| shift(d, u8::from(i == 5)))
                .collect(),
            Class::Right => right.bytes().map(|d| shift(d, 5)).collect(),
        };
        (!in_window(&totp, &code, now)).then_some((code, now))
    });
}

/// Out-of-band codes. Left: the right code. Right: a wrong one.
fn oob_right_vs_wrong(runner: &mut CtRunner, rng: &mut BenchRng) {
    let keys = [DigestKey::new(1, [7; 32])];
    let binding = Binding::new("alice", "login");
    let policy = OobPolicy::default();
    let mut inputs = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let (code, challenge) = policy
            .issue(&keys[0], &mut getrandom::SysRng, binding, 1_700_000_000)
            .expect("the system generator works");
        let class = class(rng);
        let typed = match class {
            Class::Left => code.to_string(),
            Class::Right => format!("{:06}", (code.expose_value() + 1) % 1_000_000),
        };
        inputs.push((class, typed, challenge));
    }
    for (class, typed, challenge) in inputs {
        runner.run_one(class, || {
            let mut challenge = challenge.clone(); // the same cost for both classes
            challenge.verify(&keys, binding, &typed, 1_700_000_001)
        });
    }
}

/// The ticket key, a ticket issued under it, and its pending login.
fn issued_ticket() -> ([DigestKey; 1], twofa::Token, twofa::PendingLogin) {
    let keys = [DigestKey::new(1, [7; 32])];
    let allowed: SecondFactors = [SecondFactor::Totp].into_iter().collect();
    let (ticket, pending) = TicketPolicy::default()
        .issue(
            &keys[0],
            &mut getrandom::SysRng,
            Binding::new("alice", "login"),
            FirstFactor::Password,
            allowed,
            1_700_000_000,
        )
        .expect("the system generator works");
    (keys, ticket, pending)
}

/// `ticket` with the bytes at `wrong` altered: the public id is kept when
/// they are all in the secret half (16 to 31).
fn forge(ticket: &twofa::Token, wrong: &[usize]) -> twofa::Token {
    let alphabet = base32::Alphabet::Rfc4648 { padding: false };
    let mut bytes = base32::decode(alphabet, &ticket.to_string()).expect("base32");
    for &i in wrong {
        bytes[i] ^= 0x5A;
    }
    base32::encode(alphabet, &bytes).parse().expect("a token")
}

/// Times the pending login's check of `left` against that of `right`.
fn time_ticket_checks(
    runner: &mut CtRunner,
    rng: &mut BenchRng,
    (keys, pending): (&[DigestKey], &twofa::PendingLogin),
    left: &twofa::Token,
    right: &twofa::Token,
) {
    let binding = Binding::new("alice", "login");
    let mut inputs = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let class = class(rng);
        // A copy of its own for each sample, as a service gets one fresh
        // from every request (two shared objects would also measure where
        // they sit in memory).
        let ticket = if matches!(class, Class::Left) {
            left
        } else {
            right
        };
        inputs.push((class, ticket.clone()));
    }
    for (class, ticket) in inputs {
        runner.run_one(class, || {
            pending.check(keys, binding, &ticket, SecondFactor::Totp, 1_700_000_001)
        });
    }
}

/// Pending-login tickets. Left: the ticket issued. Right: a forged one
/// with the same public id (one byte of the secret half altered).
fn ticket_right_vs_wrong(runner: &mut CtRunner, rng: &mut BenchRng) {
    let (keys, ticket, pending) = issued_ticket();
    let forged = forge(&ticket, &[24]);
    time_ticket_checks(runner, rng, (&keys, &pending), &ticket, &forged);
}

/// Forged tickets with the real public id. Left: only the last byte of
/// the secret half wrong. Right: every byte of it wrong. Equal times mean
/// the digest comparison does not stop at the first difference.
fn ticket_near_vs_far_forgery(runner: &mut CtRunner, rng: &mut BenchRng) {
    let (keys, ticket, pending) = issued_ticket();
    let near = forge(&ticket, &[31]);
    let far = forge(&ticket, &(16..32).collect::<Vec<_>>());
    time_ticket_checks(runner, rng, (&keys, &pending), &near, &far);
}

/// A registered device's signature. Left: over the number shown. Right:
/// over a wrong number (what a person who enters the wrong one sends).
fn device_right_vs_wrong_number(runner: &mut CtRunner, rng: &mut BenchRng) {
    use p256::ecdsa::{Signature, SigningKey, signature::Signer};
    let phone = SigningKey::from_slice(&[7; 32]).expect("a valid scalar");
    let public_key = phone
        .verifying_key()
        .to_sec1_point(false)
        .as_bytes()
        .to_vec();
    let policy = DevicePolicy::default();
    let mut registration = policy
        .registration_challenge(&mut getrandom::SysRng, 1_700_000_000)
        .expect("the system generator works");
    let message = registration.message("alice", DeviceAlgorithm::EcdsaP256, &public_key);
    let signature: Signature = phone.sign(&message);
    let keys = [twofa::DigestKey::new(1, [7; 32])];
    let device = registration
        .register(
            &mut getrandom::SysRng,
            &keys[0],
            "alice",
            DeviceAlgorithm::EcdsaP256,
            &public_key,
            &signature.to_bytes(),
            1_700_000_000,
        )
        .expect("the phone's own key");
    let challenge = policy
        .login_challenge(&mut getrandom::SysRng, &device, [3; 16], "", 1_700_000_000)
        .expect("the system generator works");
    let sign = |number: u8| -> Vec<u8> {
        let signature: Signature = phone.sign(&challenge.prompt().message("alice", number));
        signature.to_bytes().to_vec()
    };
    let wrong = if challenge.number == 99 {
        98
    } else {
        challenge.number + 1
    };
    let (right, wrong) = (sign(challenge.number), sign(wrong));
    let mut inputs = Vec::with_capacity(SAMPLES / 10);
    for _ in 0..SAMPLES / 10 {
        let class = class(rng);
        inputs.push((
            class,
            if matches!(class, Class::Left) {
                &right
            } else {
                &wrong
            },
        ));
    }
    for (class, signature) in inputs {
        runner.run_one(class, || {
            let mut challenge = challenge.clone(); // the same cost for both classes
            challenge.verify(&device, &keys, "alice", &[3; 16], signature, 1_700_000_001)
        });
    }
}

ctbench_main!(
    totp_hit_vs_miss,
    answer_hit_vs_miss,
    totp_first_vs_last_step,
    totp_near_vs_far_miss,
    oob_right_vs_wrong,
    ticket_right_vs_wrong,
    ticket_near_vs_far_forgery,
    device_right_vs_wrong_number
);
