//! The crate's main job in one run: enrol a secret, show the current code,
//! verify it once, and refuse it the second time.
//!
//! Run with `cargo run --example quickstart`.

use getrandom::SysRng;
use twofa::{Error, MemoryReplayStore, Secret, Totp};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Enrolment: a fresh 160-bit secret from the operating system's CSPRNG,
    // shown once as base32 for the person's authenticator app.
    let secret = Secret::generate(&mut SysRng)?;
    println!(
        "secret (base32, for the authenticator): {}",
        secret.to_base32().as_str()
    );
    let totp = Totp::new(secret);

    // What the authenticator app shows right now.
    let now = twofa::unix_time()?;
    let code = totp.generate_at(now)?.to_string();
    println!("current code: {code}");

    // Login: the person types the code. The replay store remembers the last
    // accepted time step per account.
    let store = MemoryReplayStore::new();
    match totp.verify_once_at(&store, "alice", &code, now)? {
        Ok(found) => println!("accepted: step {}, drift {}", found.step, found.drift),
        Err(e) => println!("refused: {e}"),
    }

    // The same code again, as an attacker who watched it being typed would.
    match totp.verify_once_at(&store, "alice", &code, now)? {
        Ok(_) => println!("accepted again: this must never happen"),
        Err(Error::Replayed) => println!("refused: OTP has been used in past, please try next OTP"),
        Err(e) => println!("refused: {e}"),
    }

    // A wrong code and a mistyped one.
    for typed in ["000000", "12345"] {
        match totp.verify_once_at(&store, "alice", typed, now)? {
            Ok(_) => println!("{typed}: accepted"),
            Err(Error::InvalidCode) => println!("{typed}: Invalid TOTP"),
            Err(Error::MalformedCode) => println!("{typed}: a code has 6 digits"),
            Err(e) => println!("{typed}: {e}"),
        }
    }
    Ok(())
}
