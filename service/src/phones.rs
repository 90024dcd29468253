//! What an SMS may cost: phone numbers in one form (E.164), and the
//! limits on sends that no single account's throttle sees. A number gets
//! at most so many codes whatever accounts name it, fewer while no
//! account has proved it receives them (a sign-up names any number it
//! likes), and the service as a whole sends at most its budget. Each
//! count is a record of its own, changed in one compare-and-swap, so
//! the limits hold across instances.

use serde::{Deserialize, Serialize};
use twofa_record::json_record;

/// `text` as an E.164 number, `+` and 8 to 15 digits, once spaces,
/// hyphens, dots and parentheses are taken out; `None` if it is not one.
pub fn normalize(text: &str) -> Option<String> {
    if text.len() > 32 {
        return None;
    }
    let kept: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = kept.strip_prefix('+')?;
    let well_formed = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    well_formed.then_some(kept)
}

/// Sends counted in a fixed window of time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// When the window began (Unix seconds).
    pub start: u64,
    /// Sends in it.
    pub sent: u32,
}

impl Window {
    /// Counts one send at `now` if fewer than `max` were made in the
    /// window of `seconds` holding it; otherwise when the next may go.
    ///
    /// # Errors
    /// The Unix time from which one more may be sent.
    pub fn take(&mut self, max: u32, seconds: u64, now: u64) -> Result<(), u64> {
        if now >= self.start.saturating_add(seconds) || now < self.start {
            *self = Self {
                start: now,
                sent: 0,
            };
        }
        if self.sent >= max {
            return Err(self.start.saturating_add(seconds));
        }
        self.sent += 1;
        Ok(())
    }

    /// Gives back a send [`Window::take`] counted in the window that
    /// began at `start` (one that began since is left as it is).
    pub fn give_back(&mut self, start: u64) {
        if self.start == start {
            self.sent = self.sent.saturating_sub(1);
        }
    }
}

/// One phone number's sends (kept under [`PhoneSends::key`]): those for
/// accounts that have proved the number theirs, and those for accounts
/// that have not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneSends {
    /// For accounts whose phone is verified: per hour.
    pub verified: Window,
    /// For accounts whose phone is not yet: per day.
    pub unverified: Window,
}

impl PhoneSends {
    /// The window for verified accounts' sends.
    pub const VERIFIED_WINDOW: u64 = 3600;
    /// The window for the others'.
    pub const UNVERIFIED_WINDOW: u64 = 86_400;

    /// The record key of `phone` (normalized): never a user id, which
    /// cannot hold `#`.
    pub fn key(phone: &str) -> String {
        format!("#phone:{phone}")
    }
}

json_record!(PhoneSends, "phone-sends", |_this| Ok(()));

/// Every send of the service, kept under [`SmsBudget::KEY`]: per hour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsBudget {
    /// This hour's sends.
    pub window: Window,
}

impl SmsBudget {
    /// Its record's key.
    pub const KEY: &'static str = "#sms-budget";
    /// Its window.
    pub const WINDOW: u64 = 3600;
}

json_record!(SmsBudget, "sms-budget", |_this| Ok(()));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_kept_in_one_form() {
        for (typed, kept) in [
            ("+91 98000 00011", Some("+919800000011")),
            ("+1 (415) 555-0100", Some("+14155550100")),
            ("+44.20.7946.0958", Some("+442079460958")),
            ("98000 00011", None),
            ("+0 123 456 789", None),
            ("+12", None),
            ("+1234567890123456", None),
            ("+91 98000 0001x", None),
            ("", None),
        ] {
            assert_eq!(normalize(typed).as_deref(), kept, "{typed}");
        }
    }

    #[test]
    fn a_window_counts_to_its_bound_and_starts_again() {
        let mut window = Window::default();
        for _ in 0..3 {
            assert_eq!(window.take(3, 60, 1000), Ok(()));
        }
        assert_eq!(window.take(3, 60, 1059), Err(1060));
        assert_eq!(window.take(3, 60, 1060), Ok(()));
        assert_eq!(window.sent, 1);
        // A clock set back starts a window too, rather than waiting.
        assert_eq!(window.take(3, 60, 10), Ok(()));
        assert_eq!(window, Window { start: 10, sent: 1 });
        // Given back in its own window only.
        window.give_back(9);
        assert_eq!(window.sent, 1);
        window.give_back(10);
        assert_eq!(window.sent, 0);
    }
}
