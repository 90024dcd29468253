//! A thread-safe, bounded, in-memory [`ReplayStore`] for one process.

use std::{
    boxed::Box,
    collections::HashMap,
    fmt,
    hash::{BuildHasher, RandomState},
    sync::{
        Mutex, MutexGuard, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    vec::Vec,
};

use super::{Acceptance, ReplayStore, Sequence};
use crate::otp::Totp;

/// Last accepted steps kept in this process's memory.
///
/// Good for a single instance, tests and examples. Several instances of a
/// service each holding their own would accept the same code once each:
/// they need a shared store implementing [`ReplayStore`].
///
/// Accounts are spread over independently locked shards, so threads
/// verifying different accounts rarely wait for each other. The store is
/// bounded: once it holds `capacity` accounts, a new account is refused
/// with [`StoreFull`] (failing closed) rather than evicting another
/// account's mark, which would let its last code in again. Call
/// [`MemoryReplayStore::forget_totp_before`] to drop TOTP marks that can
/// no longer matter; HOTP marks are never dropped by time.
///
/// ```
/// use twofa::{Acceptance, MemoryReplayStore, ReplayStore, Sequence::{HotpCounter, TotpStep}};
///
/// let store = MemoryReplayStore::new();
/// assert_eq!(store.accept("alice", TotpStep, 7)?, Acceptance::Accepted);
/// assert_eq!(store.accept("alice", TotpStep, 7)?, Acceptance::Replayed);
/// assert_eq!(store.accept("alice", TotpStep, 6)?, Acceptance::Replayed);
/// assert_eq!(store.accept("bob", TotpStep, 7)?, Acceptance::Accepted);
/// // Alice's HOTP counters are a sequence of their own.
/// assert_eq!(store.accept("alice", HotpCounter, 3)?, Acceptance::Accepted);
/// # Ok::<(), twofa::StoreFull>(())
/// ```
pub struct MemoryReplayStore {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    accounts: AtomicUsize,
    capacity: usize,
}

/// One shard: for each sequence, account to last accepted step.
#[derive(Default)]
struct Shard {
    totp: HashMap<Box<str>, u64>,
    hotp: HashMap<Box<str>, u64>,
}

impl Shard {
    fn marks(&mut self, sequence: Sequence) -> &mut HashMap<Box<str>, u64> {
        match sequence {
            Sequence::TotpStep => &mut self.totp,
            Sequence::HotpCounter => &mut self.hotp,
        }
    }
}

/// The store is at capacity and cannot take a new account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StoreFull;

impl fmt::Display for StoreFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("replay store is full")
    }
}

impl core::error::Error for StoreFull {}

impl MemoryReplayStore {
    /// The number of accounts [`MemoryReplayStore::new`] holds.
    pub const DEFAULT_CAPACITY: usize = 1 << 20;
    const SHARDS: usize = 64;

    /// An empty store for up to [`MemoryReplayStore::DEFAULT_CAPACITY`]
    /// accounts.
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// An empty store for up to `capacity` accounts.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            shards: (0..Self::SHARDS)
                .map(|_| Mutex::new(Shard::default()))
                .collect::<Vec<_>>()
                .into_boxed_slice(),
            hasher: RandomState::new(),
            accounts: AtomicUsize::new(0),
            capacity,
        }
    }

    /// The last accepted step of `account`'s `sequence`, if any.
    #[must_use]
    pub fn last_accepted(&self, account: &str, sequence: Sequence) -> Option<u64> {
        self.shard(account).marks(sequence).get(account).copied()
    }

    /// The number of marks (an account with TOTP and HOTP has two).
    #[must_use]
    pub fn len(&self) -> usize {
        self.accounts.load(Ordering::Relaxed)
    }

    /// Whether no account has a mark.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every TOTP mark below `step`; HOTP counters are kept.
    ///
    /// Safe when no verification can look at a step below `step` any more:
    /// [`Totp::earliest_step_checked`] at the earliest time any caller
    /// still verifies with, counting the learned drift and
    /// resynchronisation. A mark below that can never refuse anything, so
    /// forgetting it changes no answer; see
    /// [`MemoryReplayStore::forget_unreachable`].
    pub fn forget_totp_before(&self, step: u64) {
        for shard in &self.shards {
            let map = &mut lock(shard).totp;
            let before = map.len();
            map.retain(|_, last| *last >= step);
            self.accounts
                .fetch_sub(before - map.len(), Ordering::Relaxed);
        }
    }

    /// Forgets every TOTP mark that no verification with `totp` at
    /// `unix_time` or later can reach, with drift up to `max_drift` steps
    /// ([`Guard::max_drift`](crate::Guard::max_drift); 0 without a guard)
    /// and resynchronisation.
    ///
    /// Step numbers depend on the period and `T0`: every TOTP account in
    /// this store must share `totp`'s. Accounts with other periods (a
    /// 60-second key imported beside 30-second ones) need a store of their
    /// own, or pruning with the smallest bound of all their configurations.
    pub fn forget_unreachable(&self, totp: &Totp, unix_time: u64, max_drift: u64) {
        if let Ok(step) = totp.earliest_step_checked(unix_time, max_drift) {
            self.forget_totp_before(step);
        }
    }

    fn shard(&self, account: &str) -> MutexGuard<'_, Shard> {
        let index = self.hasher.hash_one(account) as usize % Self::SHARDS;
        #[expect(
            clippy::indexing_slicing,
            reason = "index is reduced modulo SHARDS, the slice's length"
        )]
        lock(&self.shards[index])
    }
}

/// Locks a map of the in-memory stores. A panic while it was held cannot
/// leave the map half updated (each update is one insert or assignment),
/// so poisoning is ignored.
pub(in crate::account) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ReplayStore for MemoryReplayStore {
    type Error = StoreFull;

    fn accept(
        &self,
        account: &str,
        sequence: Sequence,
        step: u64,
    ) -> Result<Acceptance, StoreFull> {
        let mut shard = self.shard(account);
        let map = shard.marks(sequence);
        if let Some(last) = map.get_mut(account) {
            return Ok(if step > *last {
                *last = step;
                Acceptance::Accepted
            } else {
                Acceptance::Replayed
            });
        }
        if self.accounts.fetch_add(1, Ordering::Relaxed) >= self.capacity {
            self.accounts.fetch_sub(1, Ordering::Relaxed);
            return Err(StoreFull);
        }
        map.insert(account.into(), step);
        Ok(Acceptance::Accepted)
    }
}

impl Default for MemoryReplayStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReplayStore")
            .field("accounts", &self.len())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}
