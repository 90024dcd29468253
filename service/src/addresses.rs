//! The per-address limits, on failed first factors and on sign-ups (two
//! [`Addresses`] of their own). A client address
//! (an IPv4 address, or an IPv6 /64, what one subscriber usually holds)
//! that gets passwords or PINs wrong too often waits before its next
//! attempt, whatever account it tries. It slows down someone trying
//! passwords against many accounts, or pushing one account towards its
//! lock, from one place, and it is checked before anything is read or
//! hashed, so it says nothing of any account.
//!
//! Each address has a bucket of `capacity` attempts, one coming back
//! every `refill` seconds; each failure takes one, and an empty bucket
//! refuses. The buckets live in this process only, at most `max_tracked`
//! of them (the least useful go first): nothing a stranger sends makes
//! the store grow. Across `n` instances an address gets `n` buckets, and
//! behind a proxy every client shares the proxy's: see the README.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Mutex, PoisonError},
};

/// The limit's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Failures an address may have in a burst (0: no limit).
    pub capacity: u32,
    /// Seconds for one attempt to come back.
    pub refill: u64,
    /// Addresses kept at most.
    pub max_tracked: usize,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: u32,
    /// When the tokens were last counted (refills are whole).
    at: u64,
}

/// The buckets.
#[derive(Debug)]
pub struct Addresses {
    policy: AddressPolicy,
    buckets: Mutex<HashMap<[u8; 8], Bucket>>,
}

/// The key of an address: an IPv4 address whole (IPv4-mapped IPv6
/// included), an IPv6 address's first 64 bits.
fn key(address: IpAddr) -> [u8; 8] {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            [0, 0, 0, 0, a, b, c, d]
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => key(IpAddr::V4(v4)),
            None => {
                let octets = v6.octets();
                let mut prefix = [0u8; 8];
                prefix.copy_from_slice(&octets[..8]);
                // Never equal to an IPv4 key: those start with four zeros,
                // which no routable IPv6 prefix does.
                prefix
            }
        },
    }
}

impl Addresses {
    /// Empty buckets under `policy`.
    pub fn new(policy: AddressPolicy) -> Self {
        Self {
            policy,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The bucket of `key` as of `now`, refilled.
    fn refilled(&self, bucket: Bucket, now: u64) -> Bucket {
        let refill = self.policy.refill.max(1);
        let back = now.saturating_sub(bucket.at) / refill;
        let tokens = u64::from(bucket.tokens).saturating_add(back);
        if tokens >= u64::from(self.policy.capacity) {
            Bucket {
                tokens: self.policy.capacity,
                at: now,
            }
        } else {
            Bucket {
                tokens: u32::try_from(tokens).unwrap_or(u32::MAX),
                at: bucket.at.saturating_add(back.saturating_mul(refill)),
            }
        }
    }

    /// Whether `address` may try a first factor at `now`; if not, when.
    ///
    /// # Errors
    /// The time of its next attempt.
    pub fn check(&self, address: IpAddr, now: u64) -> Result<(), u64> {
        if self.policy.capacity == 0 {
            return Ok(());
        }
        let buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        match buckets.get(&key(address)) {
            Some(bucket) => {
                let bucket = self.refilled(*bucket, now);
                if bucket.tokens == 0 {
                    Err(bucket.at.saturating_add(self.policy.refill.max(1)))
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        }
    }

    /// Counts one attempt from `address` at `now` (a failed first factor,
    /// or a sign-up).
    pub fn count(&self, address: IpAddr, now: u64) {
        if self.policy.capacity == 0 {
            return;
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let key = key(address);
        if !buckets.contains_key(&key) && buckets.len() >= self.policy.max_tracked {
            // Full buckets are the default: forget them. If none is full,
            // one goes, any one: someone with that many addresses gains
            // nothing by it that the addresses did not already give them.
            buckets.retain(|_, bucket| self.refilled(*bucket, now).tokens < self.policy.capacity);
            if buckets.len() >= self.policy.max_tracked
                && let Some(any) = buckets.keys().next().copied()
            {
                buckets.remove(&any);
            }
        }
        let bucket = buckets.get(&key).map_or(
            Bucket {
                tokens: self.policy.capacity,
                at: now,
            },
            |bucket| self.refilled(*bucket, now),
        );
        buckets.insert(
            key,
            Bucket {
                tokens: bucket.tokens.saturating_sub(1),
                at: bucket.at,
            },
        );
    }

    /// Addresses tracked now.
    pub fn tracked(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses(capacity: u32, max_tracked: usize) -> Addresses {
        Addresses::new(AddressPolicy {
            capacity,
            refill: 60,
            max_tracked,
        })
    }

    #[test]
    fn an_address_waits_once_its_failures_are_spent_and_gets_them_back() {
        let limit = addresses(3, 100);
        let (me, other): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(limit.check(me, 1000), Ok(()));
            limit.count(me, 1000);
        }
        assert_eq!(limit.check(me, 1000), Err(1060));
        assert_eq!(limit.check(me, 1059), Err(1060));
        assert_eq!(limit.check(other, 1000), Ok(()));
        // One back after 60 s, all three after 180.
        assert_eq!(limit.check(me, 1060), Ok(()));
        limit.count(me, 1060);
        assert_eq!(limit.check(me, 1061), Err(1120));
        limit.count(me, 1300);
        limit.count(me, 1300);
        assert_eq!(limit.check(me, 1300), Ok(()));
    }

    #[test]
    fn ipv6_counts_by_its_64_bit_prefix_and_mapped_ipv4_as_ipv4() {
        let limit = addresses(1, 100);
        limit.count("2001:db8:1:2::1".parse().unwrap(), 0);
        assert!(
            limit
                .check("2001:db8:1:2::ffff".parse().unwrap(), 0)
                .is_err()
        );
        assert!(limit.check("2001:db8:1:3::1".parse().unwrap(), 0).is_ok());
        limit.count("::ffff:198.51.100.7".parse().unwrap(), 0);
        assert!(limit.check("198.51.100.7".parse().unwrap(), 0).is_err());
    }

    #[test]
    fn at_most_max_tracked_addresses_are_kept_and_no_limit_keeps_none() {
        let limit = addresses(2, 50);
        for i in 0..1000u32 {
            let address = IpAddr::from(i.to_be_bytes());
            limit.count(address, u64::from(i));
            assert!(limit.tracked() <= 50);
        }
        let none = addresses(0, 50);
        none.count("192.0.2.1".parse().unwrap(), 0);
        assert_eq!(none.tracked(), 0);
        assert_eq!(none.check("192.0.2.1".parse().unwrap(), 0), Ok(()));
    }
}
