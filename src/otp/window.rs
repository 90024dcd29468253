//! The constant-time scan over a window of counters, shared by HOTP, TOTP
//! and resynchronisation of both.

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, CtOption};

use super::{Code, Format, keyed::KeyedHmac};
use crate::error::Error;

/// Finds which counter in `counters` (ascending) produces `code`, under a
/// keyed HMAC.
///
/// Every candidate is computed and compared, and
/// the work done does not depend on whether or where a candidate matched.
/// When several counters produce the code, the highest wins, so that a
/// replay check against the last accepted counter sees the newest match.
pub(crate) fn scan(
    mac: &KeyedHmac,
    counters: impl Iterator<Item = u64>,
    code: &Code,
) -> CtOption<u64> {
    scan_run(mac, counters, code.format(), [code])
}

/// Resynchronisation (RFC 4226 §7.4): 2 or 3 typed `codes` matching
/// consecutive counters. `counters(n)` gives the counters to scan when `n`
/// codes were typed (a run's earlier codes need `n - 1` counters before
/// the last one's). The match is the counter of the run's last code.
///
/// # Errors
/// [`Error::ResyncCodeCount`] unless 2 or 3 codes are given, or
/// [`Error::MalformedCode`] before any HMAC is computed.
pub(crate) fn scan_resync<I: Iterator<Item = u64>>(
    mac: &KeyedHmac,
    format: Format,
    codes: &[&str],
    counters: impl FnOnce(u64) -> I,
) -> Result<CtOption<u64>, Error> {
    match *codes {
        [first, second] => {
            let (first, second) = (Code::parse(first, format)?, Code::parse(second, format)?);
            Ok(scan_run(mac, counters(2), format, [&first, &second]))
        }
        [first, second, third] => {
            let (first, second, third) = (
                Code::parse(first, format)?,
                Code::parse(second, format)?,
                Code::parse(third, format)?,
            );
            Ok(scan_run(
                mac,
                counters(3),
                format,
                [&first, &second, &third],
            ))
        }
        _ => Err(Error::ResyncCodeCount),
    }
}

/// Finds a run of `N` consecutive counters in `counters` producing
/// `codes` in order, and returns the counter of the run's last code (the
/// highest such run wins). As [`scan`], every candidate is computed and
/// compared against every code, whatever matched. The codes are all in
/// `format`, so each candidate's code is worked out once.
fn scan_run<const N: usize>(
    mac: &KeyedHmac,
    counters: impl Iterator<Item = u64>,
    format: Format,
    codes: [&Code; N],
) -> CtOption<u64> {
    let reducer = format.reducer();
    // runs[j]: codes 0..=j matched the counters ending at this one.
    let mut runs = [Choice::from(0); N];
    let mut found = Choice::from(0);
    let mut matched = 0u64;
    mac.for_each_truncated(counters, |counter, truncated| {
        let value = u64::from(reducer.reduce(truncated));
        let mut previous = Choice::from(1);
        for (run, code) in runs.iter_mut().zip(codes) {
            let extended = previous & value.ct_eq(&code.expose_value());
            previous = *run;
            *run = extended;
        }
        let hit = runs.last().copied().unwrap_or(Choice::from(0));
        found |= hit;
        matched.conditional_assign(&counter, hit);
    });
    CtOption::new(matched, found)
}
