//! Which TOTP steps an account has used: the last accepted step (a
//! high-water mark), and which of the 128 steps below it were used too,
//! so that a clock set right after running fast is not locked out behind
//! its own mark.
//!
//! A step above the mark is new. A step at or below it is new only while
//! the mark is ahead of the server's own step (the account's clock ran
//! fast, and its codes were accepted through the learned drift) and that
//! step's bit is clear. Once the server's clock reaches the mark, the mark
//! alone decides again: no code older than the last accepted one passes.

use core::ops::RangeInclusive;

/// Steps below the mark that are remembered.
const BELOW: u64 = 128;

/// Whether every step of `steps` is unused, for an account whose mark is
/// `last` with `used_below`, checked at the server's step `server`.
pub(super) fn fresh(
    last: Option<u64>,
    used_below: u128,
    steps: RangeInclusive<u64>,
    server: u64,
) -> bool {
    let Some(last) = last else { return true };
    steps.into_iter().all(|step| {
        if step > last {
            return true;
        }
        let behind = last - step; // at least 1 below the mark, 0 at it
        step < last && last > server && behind <= BELOW && used_below & bit(behind) == 0
    })
}

/// Records every step of `steps` (ascending) as used.
pub(super) fn record(last: &mut Option<u64>, used_below: &mut u128, steps: RangeInclusive<u64>) {
    for step in steps {
        match *last {
            None => {
                *last = Some(step);
                *used_below = 0;
            }
            Some(mark) if step > mark => {
                let shift = step - mark;
                // The old mark becomes the bit `shift` below the new one.
                *used_below = shift_up(*used_below, shift) | bit(shift);
                *last = Some(step);
            }
            Some(mark) if mark - step <= BELOW && step < mark => {
                *used_below |= bit(mark - step);
            }
            Some(_) => {}
        }
    }
}

/// The bit for the step `behind` steps below the mark (1 to 128); none
/// further down.
fn bit(behind: u64) -> u128 {
    u32::try_from(behind - 1)
        .ok()
        .and_then(|index| 1u128.checked_shl(index))
        .unwrap_or(0)
}

/// `used` as seen from a mark `shift` steps higher.
fn shift_up(used: u128, shift: u64) -> u128 {
    u32::try_from(shift)
        .ok()
        .and_then(|shift| used.checked_shl(shift))
        .unwrap_or(0)
}
