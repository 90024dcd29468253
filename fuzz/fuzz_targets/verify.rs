//! HOTP and TOTP verification over arbitrary parameters, secrets, times,
//! windows and codes: never panics, and agrees with a plain reference
//! implementation of RFC 4226 §5.3 over the `hmac` crate.
#![no_main]

#[path = "../../tests/support/reference.rs"]
mod reference;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use twofa::{Algorithm, Error, Hotp, Secret, Totp};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    algorithm: u8,
    key: &'a [u8],
    digits: u8,
    time: u64,
    period: u64,
    t0: u64,
    behind: u8,
    ahead: u8,
    counter: u64,
    look_ahead: u8,
    /// Either the typed text as it is, or a code generated at this offset.
    code: &'a str,
    generated_at: Option<i8>,
}

/// What verification must answer: the highest matching counter, or why not.
fn expected(
    algorithm: Algorithm,
    key: &[u8],
    first: u64,
    last: u64,
    code: &str,
    digits: u8,
) -> Result<u64, Error> {
    let typed: String = code.chars().filter(|c| *c != ' ' && *c != '-').collect();
    let value: u64 = typed.parse().map_err(|_| Error::MalformedCode)?;
    reference::scan(algorithm, key, first, last, value, digits).ok_or(Error::InvalidCode)
}

fuzz_target!(|input: Input<'_>| {
    let algorithm = Algorithm::ALL[usize::from(input.algorithm % 3)];
    let Ok(secret) = Secret::from_bytes_accepting_80_bit(input.key) else {
        return;
    };

    // TOTP: whatever the parameters, building either fails with a typed
    // error or gives a verifier that agrees with the reference.
    let built = Totp::builder(secret.clone())
        .algorithm(algorithm)
        .digits(input.digits)
        .period(input.period)
        .t0(input.t0)
        .window(u64::from(input.behind), u64::from(input.ahead))
        .build();
    if let Ok(totp) = built {
        match totp.step_at(input.time) {
            Err(e) => assert_eq!(e, Error::TimeBeforeEpoch),
            Ok(now) => {
                let code = match input
                    .generated_at
                    .and_then(|o| now.checked_add_signed(o.into()))
                {
                    Some(step) => totp.generate_at_step(step).to_string(),
                    None => input.code.to_owned(),
                };
                let got = totp.verify_at(&code, input.time);
                let (behind, ahead) = totp.window();
                let first = now.saturating_sub(behind);
                let last = now.saturating_add(ahead);
                match twofa::Code::parse(&code, totp.format()) {
                    Err(e) => assert_eq!(got.map(|m| m.step), Err(e)),
                    Ok(_) => assert_eq!(
                        got.map(|m| m.step),
                        expected(algorithm, input.key, first, last, &code, input.digits)
                    ),
                }
            }
        }
    }

    // HOTP, the same way.
    if let Ok(hotp) = Hotp::builder(secret)
        .algorithm(algorithm)
        .digits(input.digits)
        .look_ahead(u64::from(input.look_ahead))
        .build()
    {
        let code = match input
            .generated_at
            .and_then(|o| input.counter.checked_add(o.unsigned_abs().into()))
        {
            Some(counter) => hotp.generate(counter).to_string(),
            None => input.code.to_owned(),
        };
        let got = hotp.verify(&code, input.counter).map(|m| m.counter);
        let last = input.counter.saturating_add(hotp.look_ahead());
        match twofa::Code::parse(&code, hotp.format()) {
            Err(e) => assert_eq!(got, Err(e)),
            Ok(_) => assert_eq!(
                got,
                expected(
                    algorithm,
                    input.key,
                    input.counter,
                    last,
                    &code,
                    input.digits
                )
            ),
        }
    }
});
