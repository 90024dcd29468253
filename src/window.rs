//! The constant-time scan over a window of counters, shared by HOTP and
//! TOTP.

use core::ops::RangeInclusive;

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, CtOption};

use crate::{
    Code,
    algorithm::{Algorithm, MacJob},
    code,
    mac::{BlockHash, Mac},
};

/// Finds which counter in `counters` produces `code`, under a key.
///
/// The HMAC is keyed once; every candidate is computed and compared, and
/// the work done does not depend on whether or where a candidate matched.
/// When several counters produce the code, the highest wins, so that a
/// replay check against the last accepted counter sees the newest match.
pub(crate) fn scan(
    algorithm: Algorithm,
    key: &[u8],
    counters: RangeInclusive<u64>,
    code: &Code,
) -> CtOption<u64> {
    algorithm.with_mac(key, Scan { counters, code })
}

struct Scan<'a> {
    counters: RangeInclusive<u64>,
    code: &'a Code,
}

impl MacJob for Scan<'_> {
    type Output = CtOption<u64>;

    fn run<H: BlockHash>(self, mac: &mut Mac<H>) -> CtOption<u64> {
        let reducer = self.code.format().reducer();
        let wanted = self.code.expose_value();
        let mut found = Choice::from(0);
        let mut matched = 0u64;
        for counter in self.counters {
            let value = reducer.reduce(code::truncate(mac.compute(counter)));
            let hit = u64::from(value).ct_eq(&wanted);
            found |= hit;
            matched.conditional_assign(&counter, hit);
        }
        CtOption::new(matched, found)
    }
}
