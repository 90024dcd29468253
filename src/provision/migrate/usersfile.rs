//! OATH Toolkit's `users.oath` (pam_oath, ocserv): one key per line,
//!
//! ```text
//! TYPE USER PIN SECRET_HEX [COUNTER [LAST_OTP [LAST_TIME]]]
//! ```
//!
//! TYPE is `HOTP`, `HOTP/E`, `HOTP/E/N` (counter-based, N digits of 6 to
//! 8), or `HOTP/T30`, `HOTP/T60`, `HOTP/T30/N`, `HOTP/T60/N` (time-based,
//! 30 or 60 s). PIN is `-` for none, `+` for one checked elsewhere, or
//! the PIN itself. Once a code is accepted, liboath writes the counter it
//! matched (for TOTP, the window position it matched at), the code, and
//! the time in the server's local time as `2026-11-22T09:30:00L`.

use alloc::{string::String, vec::Vec};
use core::fmt::{self, Write};

use zeroize::Zeroizing;

use super::{
    civil::{self, civil_from_days},
    error::{ImportError, Origin, Problem},
    imported::{ImportedKey, Kind, Pin, decimal_digits, generator},
};
use crate::{
    otp::{Algorithm, Code, Totp},
    provision::{exact::write_exact, uri::KeyUri, uri::Otp},
};

/// The largest `users.oath` read: 16 MiB, some hundred thousand lines.
pub const MAX_USERS_OATH_LEN: usize = 16 * 1024 * 1024;

/// Reads a `users.oath` file: every type OATH Toolkit accepts, the
/// counter, last code and its time where a line has them; comments (`#`)
/// and blank lines skipped.
///
/// `utc_offset` is the offset from UTC, in seconds, of the time zone of
/// the server that wrote the file (liboath writes local time without a
/// zone): 0 for a server on UTC, 3600 for one on UTC+1.
///
/// ```
/// use twofa::migrate::{Pin, read_users_oath};
///
/// let file = "\
/// ## type user pin secret (hex)
/// HOTP/T30 alice - 3132333435363738393031323334353637383930
/// HOTP/E/8 bob 1234 3132333435363738393031323334353637383930 41 36471723 2026-11-22T09:30:00L
/// ";
/// let keys = read_users_oath(file, 0)?;
/// assert_eq!(keys[0].key_uri().account(), "alice");
/// // The counter after the last one accepted.
/// assert_eq!(keys[1].hotp_account().map(|account| account.counter), Some(42));
/// assert!(matches!(keys[1].pin(), Pin::Stored(_)));
/// # Ok::<(), twofa::migrate::ImportError>(())
/// ```
///
/// # Errors
/// An [`ImportError`] naming the first line that cannot be read.
pub fn read_users_oath(text: &str, utc_offset: i32) -> Result<Vec<ImportedKey>, ImportError> {
    if text.len() > MAX_USERS_OATH_LEN {
        return Err(ImportError::file(Problem::TooLarge(
            "a users.oath file of 16 MiB",
        )));
    }
    // Sized first: a growing vector would leave copies of the secrets.
    let records = text
        .split('\n')
        .filter(|line| record(line).is_some())
        .count();
    let mut keys = Vec::with_capacity(records);
    for (index, line) in text.split('\n').enumerate() {
        let origin = Origin::Line(index + 1);
        let Some(mut fields) = record(line) else {
            continue;
        };
        let Some(kind) = fields.next() else {
            continue;
        };
        let key = read_line(kind, fields, utc_offset)
            .map_err(|problem| ImportError::new(origin.clone(), problem))?;
        keys.push(key.at(origin));
    }
    Ok(keys)
}

/// A line's fields, unless it is blank or a comment.
fn record(line: &str) -> Option<impl Iterator<Item = &str>> {
    let mut fields = line
        .split([' ', '\t', '\r'])
        .filter(|field| !field.is_empty())
        .peekable();
    match fields.peek() {
        Some(first) if !first.starts_with('#') => Some(fields),
        _ => None,
    }
}

/// The digits and, for TOTP, the period a type string names.
fn parse_type(kind: &str) -> Option<(u8, Option<u64>)> {
    let rest = kind.strip_prefix("HOTP")?;
    let (period, digits) = match rest.strip_prefix('/') {
        None if rest.is_empty() => return Some((6, None)),
        None => return None,
        Some(rest) => match rest.split_once('/') {
            Some((mode, digits)) => (mode, Some(digits)),
            None => (rest, None),
        },
    };
    let period = match period {
        "E" => None,
        "T30" => Some(30),
        "T60" => Some(60),
        _ => return None,
    };
    let digits = match digits {
        None | Some("6") => 6,
        Some("7") => 7,
        Some("8") => 8,
        Some(_) => return None,
    };
    Some((digits, period))
}

fn read_line<'a>(
    kind: &str,
    mut fields: impl Iterator<Item = &'a str>,
    utc_offset: i32,
) -> Result<ImportedKey, Problem> {
    let (digits, period) = parse_type(kind).ok_or_else(|| {
        // The field is echoed only when it looks like a type: a line may
        // be a pasted URI or secret.
        let shown = if kind.len() <= 14
            && kind.starts_with("HOTP")
            && kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'/')
        {
            kind
        } else {
            "(not shown)"
        };
        Problem::Unsupported(alloc::format!(
            "token type {shown} (HOTP, HOTP/E/8, HOTP/T30/6, …)"
        ))
    })?;
    let user = fields.next().ok_or(Problem::Missing("the user name"))?;
    let pin = match fields
        .next()
        .ok_or(Problem::Missing("the PIN (- for none)"))?
    {
        "-" => Pin::None,
        "+" => Pin::Delegated,
        pin => Pin::Stored(Zeroizing::new(String::from(pin))),
    };
    let secret = hex(fields.next().ok_or(Problem::Missing("the secret"))?)?;
    let moving = fields.next();
    let last_code = fields.next();
    let last_time = fields
        .next()
        .map(|time| parse_time(time, utc_offset))
        .transpose()?;
    if fields.next().is_some() {
        return Err(Problem::Syntax("at most 7 fields"));
    }
    if !last_code.is_none_or(|code| code.len() <= 10 && code.bytes().all(|b| b.is_ascii_digit())) {
        return Err(Problem::Syntax("the last code as digits"));
    }
    let (generator_kind, hint) = match period {
        None => {
            let counter = match moving {
                Some(counter) => counter
                    .parse::<u64>()
                    .map_err(|_| Problem::Syntax("a counter from 0 to 2^64-1"))?,
                None => 0,
            };
            // liboath records the counter it matched: the next is one past.
            let next = match last_code {
                Some(_) => counter
                    .checked_add(1)
                    .ok_or(Problem::Key(crate::Error::CounterExhausted))?,
                None => counter,
            };
            (Kind::Hotp { counter: next }, None)
        }
        Some(period) => {
            // What liboath writes here changed between versions: the window
            // position of the last code (newer) or a running sum (older).
            // It is only a hint: the step is found from the last code.
            let hint = match moving {
                Some(moving) if moving.parse::<u64>().is_ok() || moving.parse::<i64>().is_ok() => {
                    moving.parse::<i32>().ok()
                }
                Some(_) => return Err(Problem::Syntax("a number after the secret")),
                None => None,
            };
            if last_code.is_some() && last_time.is_none() {
                return Err(Problem::Missing("the last code's time"));
            }
            (Kind::Totp { period, t0: 0 }, hint)
        }
    };
    let otp = generator(&secret, Algorithm::Sha1, digits, generator_kind)?;
    let (last_step, drift) = match (&otp, last_code, last_time) {
        (Otp::Totp(totp), Some(code), Some(time)) => {
            let (step, drift) = last_step(totp, code, time, hint)?;
            (Some(step), drift)
        }
        _ => (None, 0),
    };
    let mut key = ImportedKey::found(KeyUri::new(otp, user)?, Origin::File)
        .with_pin(pin)
        .with_last_step(last_step, drift);
    if let (Some(code), Some(time)) = (last_code, last_time) {
        key = key.with_last_code(code, time);
    }
    Ok(key)
}

/// How far from its recorded time a TOTP key's last code is looked for: two
/// hours (a time-zone offset off by daylight saving time) and a window.
const SEARCH_SECONDS: u64 = 2 * 3600;

/// The step of the last accepted code, and the drift it shows: where the
/// recorded window position (within the search span) gives a step with
/// that code, that step; otherwise the latest step within
/// [`SEARCH_SECONDS`] and 10 steps of the recorded time that has it.
///
/// A code that no step there has is an error: the offset given is wrong
/// (or the line was not written by liboath), and guessing could reopen the
/// codes the old system accepted.
fn last_step(totp: &Totp, code: &str, time: u64, hint: Option<i32>) -> Result<(u64, i64), Problem> {
    let not_found = Problem::Syntax(
        "a last code of a step within two hours of its time (is the UTC offset right?)",
    );
    let code = Code::parse(code, totp.format()).map_err(|_| not_found.clone())?;
    let matches = |step: u64| totp.generate_at_step(step) == code;
    let base = time / totp.period();
    let span = SEARCH_SECONDS / totp.period() + 10;
    if let Some(position) = hint
        && u64::from(position.unsigned_abs()) <= span
        && let Some(step) = base.checked_add_signed(i64::from(position))
        && matches(step)
    {
        return Ok((step, i64::from(position)));
    }
    let step = (base.saturating_sub(span)..=base.saturating_add(span))
        .rev()
        .find(|&step| matches(step))
        .ok_or(not_found)?;
    Ok((step, 0))
}

/// Hex (either case, even length) into bytes that are wiped.
fn hex(text: &str) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let invalid = Problem::Syntax("the secret in hex (an even number of 0-9, a-f)");
    if !text.len().is_multiple_of(2) {
        return Err(invalid);
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(text.len() / 2));
    for pair in text.as_bytes().chunks_exact(2) {
        let digit = |b: u8| char::from(b).to_digit(16).ok_or(invalid.clone());
        let (high, low) = match pair {
            &[high, low] => (digit(high)?, digit(low)?),
            _ => return Err(invalid),
        };
        bytes.push(u8::try_from(high << 4 | low).unwrap_or_default());
    }
    Ok(bytes)
}

/// `YYYY-MM-DDTHH:MM:SSL`, local time `utc_offset` seconds ahead of UTC,
/// as Unix seconds.
fn parse_time(text: &str, utc_offset: i32) -> Result<u64, Problem> {
    let invalid = Problem::Syntax("a time as 2026-11-22T09:30:00L");
    let bytes = text.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:ddL";
    if bytes.len() != shape.len()
        || !bytes.iter().zip(shape).all(|(&b, &s)| {
            if s == b'd' {
                b.is_ascii_digit()
            } else {
                b == s
            }
        })
    {
        return Err(invalid);
    }
    let number = |range: core::ops::Range<usize>| {
        text.get(range)
            .and_then(|digits| digits.parse::<i64>().ok())
            .ok_or(invalid.clone())
    };
    let date = (number(0..4)?, number(5..7)?, number(8..10)?);
    let time = (number(11..13)?, number(14..16)?, number(17..19)?);
    civil::unix_time(date, time, i64::from(utc_offset)).ok_or(invalid)
}

/// The longest secret liboath reads from a users.oath line.
const MAX_SECRET_LEN: usize = 32;

/// A local time as its date and the second of the day.
type LocalTime = (i64, i64, i64, i64);

/// One line to write, checked: writing it cannot fail.
struct Row<'a> {
    kind: &'static str,
    user: &'a str,
    pin: &'a str,
    uri: &'a KeyUri,
    /// The moving factor, the last code and its local time.
    log: Option<(u64, Code, LocalTime)>,
}

/// Writes keys as a `users.oath` file that pam_oath reads, with the
/// state that keeps used codes refused: for an HOTP key past counter 0,
/// the counter before the next, its code, and the key's last use (or
/// 1970-01-02, which liboath only records); for a TOTP key with a last
/// step, that step's code and time. The file holds every secret: it is
/// wiped when dropped, and belongs in a file only its service reads.
///
/// `utc_offset` is the offset from UTC of the zone of the server that will
/// read it, in seconds (liboath reads local time).
///
/// # Errors
/// An [`ImportError`] naming the first key (from 1) the format cannot
/// hold: SHA-256 or SHA-512, more than 8 digits, a period other than 30
/// or 60 s or a `T0` other than 0, a user name with white space, a PIN
/// that would not read back.
pub fn write_users_oath(
    keys: &[ImportedKey],
    utc_offset: i32,
) -> Result<Zeroizing<String>, ImportError> {
    // Sized first: collecting into a `Result` grows the vector, leaving
    // copies of the rows' codes behind.
    let mut rows = Vec::with_capacity(keys.len());
    for (index, key) in keys.iter().enumerate() {
        rows.push(
            row(key, utc_offset)
                .map_err(|problem| ImportError::new(Origin::Entry(index + 1), problem))?,
        );
    }
    Ok(write_exact(|out| {
        rows.iter().try_for_each(|row| write_row(row, out))
    }))
}

fn row(key: &ImportedKey, utc_offset: i32) -> Result<Row<'_>, Problem> {
    let uri = key.key_uri();
    let otp = uri.otp();
    if otp.algorithm() != Algorithm::Sha1 {
        return Err(Problem::NotRepresentable("an algorithm other than SHA-1"));
    }
    let digits = decimal_digits(otp.format())?;
    if otp.secret().byte_len() > MAX_SECRET_LEN {
        return Err(Problem::NotRepresentable(
            "a secret over 32 bytes (liboath's limit)",
        ));
    }
    let user = uri.account();
    if user.starts_with('#') || user.contains(char::is_whitespace) {
        return Err(Problem::NotRepresentable(
            "a user name with white space or a leading #",
        ));
    }
    let pin = match key.pin() {
        Pin::None => "-",
        Pin::Delegated | Pin::Required => "+",
        Pin::Stored(pin)
            if matches!(pin.as_str(), "" | "-" | "+") || pin.contains(char::is_whitespace) =>
        {
            return Err(Problem::NotRepresentable(
                "a PIN that is empty, - or +, or has white space",
            ));
        }
        Pin::Stored(pin) => pin.as_str(),
    };
    let (kind, log) = match otp {
        Otp::Hotp { hotp, counter } => {
            let kind = match digits {
                6 => "HOTP",
                7 => "HOTP/E/7",
                8 => "HOTP/E/8",
                _ => return Err(Problem::NotRepresentable("more than 8 digits")),
            };
            let log = match counter.checked_sub(1) {
                // liboath starts at the recorded counter; a code at it is
                // refused only as the recorded last code.
                Some(last) => {
                    let time = key.last_used().unwrap_or(86_400);
                    Some((last, hotp.generate(last), local_time(time, utc_offset)?))
                }
                None => None,
            };
            (kind, log)
        }
        Otp::Totp(totp) => {
            let kind = match (totp.period(), totp.t0(), digits) {
                (30, 0, 6) => "HOTP/T30",
                (30, 0, 7) => "HOTP/T30/7",
                (30, 0, 8) => "HOTP/T30/8",
                (60, 0, 6) => "HOTP/T60",
                (60, 0, 7) => "HOTP/T60/7",
                (60, 0, 8) => "HOTP/T60/8",
                _ => {
                    return Err(Problem::NotRepresentable(
                        "TOTP other than 30 or 60 s from T0 = 0 with 6 to 8 digits",
                    ));
                }
            };
            // The window position 0 and the step's own time: what every
            // liboath version reads back as this step (the drift is not
            // kept: older versions read the position as a counter).
            let log = match key.last_step() {
                Some(step) => {
                    let time = step
                        .checked_mul(totp.period())
                        .ok_or(Problem::NotRepresentable(
                            "a last step beyond the year 9999",
                        ))?;
                    Some((
                        0,
                        totp.generate_at_step(step),
                        local_time(time, utc_offset)?,
                    ))
                }
                None => None,
            };
            (kind, log)
        }
    };
    Ok(Row {
        kind,
        user,
        pin,
        uri,
        log,
    })
}

/// Unix seconds as days since 1970 and the second of the day, local time.
fn local_time(unix_time: u64, utc_offset: i32) -> Result<LocalTime, Problem> {
    let beyond = Problem::NotRepresentable("a time outside the years 1970 to 9999");
    let local = i64::try_from(unix_time)
        .ok()
        .and_then(|time| time.checked_add(i64::from(utc_offset)))
        .filter(|&time| (0..253_402_300_800).contains(&time))
        .ok_or(beyond)?;
    let (year, month, day) = civil_from_days(local.div_euclid(86_400));
    Ok((year, month, day, local.rem_euclid(86_400)))
}

fn write_row(row: &Row<'_>, out: &mut dyn Write) -> fmt::Result {
    let secret = row.uri.otp().secret().expose_bytes();
    write!(out, "{}\t{}\t{}\t", row.kind, row.user, row.pin)?;
    for byte in secret {
        write!(out, "{byte:02x}")?;
    }
    if let Some((moving, code, (year, month, day, second))) = &row.log {
        write!(
            out,
            "\t{moving}\t{code}\t{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}L",
            second / 3600,
            second / 60 % 60,
            second % 60
        )?;
    }
    out.write_char('\n')
}
