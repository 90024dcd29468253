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
//! every `refill` seconds; each attempt takes one before anything is read
//! or hashed (the right password gives it back), and an empty bucket
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

/// The buckets, and each address's attempts in progress.
#[derive(Debug)]
pub struct Addresses {
    policy: AddressPolicy,
    buckets: Mutex<HashMap<[u8; 8], Bucket>>,
    in_progress: Mutex<HashMap<[u8; 8], u32>>,
}

/// One attempt in progress from an address; it ends when this drops.
#[derive(Debug)]
pub struct InProgress<'a> {
    addresses: &'a Addresses,
    key: Option<[u8; 8]>,
}

impl Drop for InProgress<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut in_progress = self
            .addresses
            .in_progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = in_progress.get_mut(&key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                in_progress.remove(&key);
            }
        }
    }
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
            in_progress: Mutex::new(HashMap::new()),
        }
    }

    /// Attempts one address may have in progress at once, right or wrong:
    /// one address cannot fill the hashing queue, even with the right
    /// password (which gives its attempt back).
    pub const MAX_IN_PROGRESS: u32 = 8;

    /// An attempt in progress from `address`, unless
    /// [`Addresses::MAX_IN_PROGRESS`] are already (no limit when the
    /// policy has none).
    pub fn begin(&self, address: IpAddr) -> Option<InProgress<'_>> {
        if self.policy.capacity == 0 {
            return Some(InProgress {
                addresses: self,
                key: None,
            });
        }
        let key = key(address);
        let mut in_progress = self
            .in_progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = in_progress.entry(key).or_insert(0);
        if *count >= Self::MAX_IN_PROGRESS {
            return None;
        }
        *count += 1;
        Some(InProgress {
            addresses: self,
            key: Some(key),
        })
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

    /// Takes one attempt for `address` at `now` (a first factor about to
    /// be checked, or a sign-up), checked and counted under one lock, so
    /// that attempts sent at once cannot all pass one check; if none is
    /// left, when the next comes back. Give it back
    /// ([`Addresses::give_back`]) when the attempt turns out not to count
    /// (the right password).
    ///
    /// # Errors
    /// The time of the address's next attempt.
    pub fn take(&self, address: IpAddr, now: u64) -> Result<(), u64> {
        if self.policy.capacity == 0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let key = key(address);
        let bucket = match buckets.get(&key) {
            Some(bucket) => self.refilled(*bucket, now),
            None => {
                self.make_room(&mut buckets, now);
                Bucket {
                    tokens: self.policy.capacity,
                    at: now,
                }
            }
        };
        if bucket.tokens == 0 {
            buckets.insert(key, bucket);
            return Err(bucket.at.saturating_add(self.policy.refill.max(1)));
        }
        buckets.insert(
            key,
            Bucket {
                tokens: bucket.tokens - 1,
                at: bucket.at,
            },
        );
        Ok(())
    }

    /// Gives back an attempt [`Addresses::take`] took.
    pub fn give_back(&self, address: IpAddr) {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(bucket) = buckets.get_mut(&key(address)) {
            bucket.tokens = bucket.tokens.saturating_add(1).min(self.policy.capacity);
        }
    }

    /// Room for one more address when `max_tracked` are kept: full
    /// buckets are the default, so they go first; if none is full, one
    /// goes, any one (someone with that many addresses gains nothing by it
    /// that the addresses did not already give them).
    fn make_room(&self, buckets: &mut HashMap<[u8; 8], Bucket>, now: u64) {
        if buckets.len() < self.policy.max_tracked {
            return;
        }
        buckets.retain(|_, bucket| self.refilled(*bucket, now).tokens < self.policy.capacity);
        if buckets.len() >= self.policy.max_tracked
            && let Some(any) = buckets.keys().next().copied()
        {
            buckets.remove(&any);
        }
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

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_address_waits_once_its_attempts_are_taken_and_gets_them_back() {
        let limit = addresses(3, 100);
        let (me, other) = (ip("192.0.2.1"), ip("192.0.2.2"));
        for _ in 0..3 {
            assert_eq!(limit.take(me, 1000), Ok(()));
        }
        assert_eq!(limit.take(me, 1000), Err(1060));
        assert_eq!(limit.take(me, 1059), Err(1060));
        assert_eq!(limit.take(other, 1000), Ok(()));
        // One back after 60 s; one given back, one more.
        assert_eq!(limit.take(me, 1060), Ok(()));
        assert_eq!(limit.take(me, 1061), Err(1120));
        limit.give_back(me);
        assert_eq!(limit.take(me, 1061), Ok(()));
        // All three back after 180 s, and never more than three.
        for _ in 0..10 {
            limit.give_back(me);
        }
        for _ in 0..3 {
            assert_eq!(limit.take(me, 1300), Ok(()));
        }
        assert!(limit.take(me, 1300).is_err());
    }

    #[test]
    fn an_address_has_a_few_attempts_in_progress_at_once() {
        let limit = addresses(30, 100);
        let me = ip("192.0.2.7");
        let going: Vec<_> = (0..Addresses::MAX_IN_PROGRESS)
            .map(|_| limit.begin(me).unwrap())
            .collect();
        assert!(limit.begin(me).is_none());
        assert!(limit.begin(ip("192.0.2.8")).is_some());
        drop(going);
        assert!(limit.begin(me).is_some());
        // Without a limit, none.
        let none = addresses(0, 100);
        let going: Vec<_> = (0..100).map(|_| none.begin(me).unwrap()).collect();
        assert_eq!(going.len(), 100);
    }

    #[test]
    fn ipv6_counts_by_its_64_bit_prefix_and_mapped_ipv4_as_ipv4() {
        let limit = addresses(1, 100);
        assert!(limit.take(ip("2001:db8:1:2::1"), 0).is_ok());
        assert!(limit.take(ip("2001:db8:1:2::ffff"), 0).is_err());
        assert!(limit.take(ip("2001:db8:1:3::1"), 0).is_ok());
        assert!(limit.take(ip("::ffff:198.51.100.7"), 0).is_ok());
        assert!(limit.take(ip("198.51.100.7"), 0).is_err());
    }

    #[test]
    fn at_most_max_tracked_addresses_are_kept_and_no_limit_keeps_none() {
        let limit = addresses(2, 50);
        for i in 0..1000u32 {
            assert!(
                limit
                    .take(IpAddr::from(i.to_be_bytes()), u64::from(i))
                    .is_ok()
            );
            assert!(limit.tracked() <= 50);
        }
        let none = addresses(0, 50);
        for _ in 0..10 {
            assert_eq!(none.take(ip("192.0.2.1"), 0), Ok(()));
        }
        assert_eq!(none.tracked(), 0);
    }
}
