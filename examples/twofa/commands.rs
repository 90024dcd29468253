//! The commands that make and check codes: `new`, `code`, `verify`, `uri`.

use twofa::{KeyUri, Otp, Secret};

use crate::{Failure, Safe, options::Options};

pub(crate) fn new(options: &Options) -> Result<(), Failure> {
    let issuer = options
        .issuer
        .as_deref()
        .ok_or_else(|| Failure::usage("new needs --issuer"))?;
    let account = options
        .account
        .as_deref()
        .ok_or_else(|| Failure::usage("new needs --account"))?;
    let secret = Secret::generate(&mut getrandom::SysRng)?;
    let otp = match options.counter {
        Some(counter) => Otp::Hotp {
            hotp: options.hotp(secret)?,
            counter,
        },
        None => Otp::Totp(options.totp(secret)?),
    };
    let uri = KeyUri::new(otp, account)?.with_issuer(issuer)?;
    println!("secret: {}", uri.otp().secret().expose_base32());
    println!("uri:    {}", uri.to_uri().as_str());
    for warning in uri.portability() {
        println!("note:   {warning}");
    }
    show_qr(&uri)?;
    Ok(())
}

#[cfg(feature = "qr")]
fn show_qr(uri: &KeyUri) -> Result<(), Failure> {
    print!("{}", uri.to_qr()?.to_terminal().as_str());
    Ok(())
}

#[cfg(not(feature = "qr"))]
fn show_qr(_: &KeyUri) -> Result<(), Failure> {
    println!("(run with --features qr to see the QR code)");
    Ok(())
}

pub(crate) fn code(options: &Options) -> Result<(), Failure> {
    let (text, _) = options.secret_text()?;
    let otp = options.otp(&text)?;
    let code = match &otp {
        Otp::Totp(totp) => totp.generate_at(options.time()?)?,
        Otp::Hotp { hotp, counter } => hotp.generate(*counter),
    };
    println!("{code}");
    Ok(())
}

pub(crate) fn verify(options: &Options) -> Result<(), Failure> {
    let (text, next) = options.secret_text()?;
    let otp = options.otp(&text)?;
    let typed = options.positional(next, "CODE")?;
    let outcome = match &otp {
        Otp::Totp(totp) => totp
            .verify_at(typed, options.time()?)
            .map(|found| format!("valid: step {}, drift {:+}", found.step, found.drift)),
        Otp::Hotp { hotp, counter } => hotp.verify(typed, *counter).map(|found| {
            format!(
                "valid: counter {}, {} ahead; next counter {}",
                found.counter,
                found.ahead,
                found
                    .next_counter()
                    .map_or_else(|| "none (exhausted)".to_owned(), |n| n.to_string())
            )
        }),
    };
    match outcome {
        Ok(message) => {
            println!("{message}");
            Ok(())
        }
        Err(twofa::Error::InvalidCode) => Err(Failure {
            message: "invalid code".to_owned(),
            status: 1,
        }),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn explain(options: &Options) -> Result<(), Failure> {
    let (text, _) = options.secret_text()?;
    let uri = KeyUri::parse_accepting_80_bit(&text)?;
    let otp = uri.otp();
    println!("type:      {}", otp.kind());
    println!("issuer:    {}", Safe(uri.issuer().unwrap_or("(none)")));
    println!("account:   {}", Safe(uri.account()));
    let bits = otp.secret().byte_len() * 8;
    println!(
        "secret:    {bits} bits{}",
        if bits < 128 {
            " (below RFC 4226's 128)"
        } else {
            ""
        }
    );
    println!("algorithm: {}", otp.algorithm());
    println!("codes:     {}", otp.format());
    match otp {
        Otp::Totp(totp) => println!("period:    {} s", totp.period()),
        Otp::Hotp { counter, .. } => println!("counter:   {counter}"),
    }
    if let Some(image) = uri.image() {
        println!("image:     {}", Safe(image));
    }
    for (name, value) in uri.extra_parameters() {
        println!("unknown:   {}={} (apps ignore it)", Safe(name), Safe(value));
    }
    let warnings = uri.portability();
    if warnings.is_empty() {
        println!("portable:  every authenticator app shows these codes");
    }
    for warning in warnings {
        println!("warning:   {warning}");
    }
    Ok(())
}
