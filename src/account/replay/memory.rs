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

use super::{Acceptance, ReplayStore};

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
/// [`MemoryReplayStore::forget_before`] to drop marks that can no longer
/// matter.
///
/// ```
/// use twofa::{Acceptance, MemoryReplayStore, ReplayStore};
///
/// let store = MemoryReplayStore::new();
/// assert_eq!(store.accept("alice", 7)?, Acceptance::Accepted);
/// assert_eq!(store.accept("alice", 7)?, Acceptance::Replayed);
/// assert_eq!(store.accept("alice", 6)?, Acceptance::Replayed);
/// assert_eq!(store.accept("bob", 7)?, Acceptance::Accepted);
/// # Ok::<(), twofa::StoreFull>(())
/// ```
pub struct MemoryReplayStore {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    accounts: AtomicUsize,
    capacity: usize,
}

/// One shard: account to last accepted step.
type Shard = HashMap<Box<str>, u64>;

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
                .map(|_| Mutex::new(HashMap::new()))
                .collect::<Vec<_>>()
                .into_boxed_slice(),
            hasher: RandomState::new(),
            accounts: AtomicUsize::new(0),
            capacity,
        }
    }

    /// The last accepted step of `account`, if any.
    #[must_use]
    pub fn last_accepted(&self, account: &str) -> Option<u64> {
        self.shard(account).get(account).copied()
    }

    /// The number of accounts with a mark.
    #[must_use]
    pub fn len(&self) -> usize {
        self.accounts.load(Ordering::Relaxed)
    }

    /// Whether no account has a mark.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every account whose last accepted step is below `step`.
    ///
    /// Safe when no verification can look at a step below `step` any more:
    /// for TOTP, the current step minus the window's `behind`, at the
    /// earliest time any caller still verifies with. A mark below that can
    /// never refuse anything, so forgetting it changes no answer.
    pub fn forget_before(&self, step: u64) {
        for shard in &self.shards {
            let mut map = lock(shard);
            let before = map.len();
            map.retain(|_, last| *last >= step);
            self.accounts
                .fetch_sub(before - map.len(), Ordering::Relaxed);
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

/// Locks a shard. A panic while it was held cannot leave a map half
/// updated (each update is one insert or assignment), so poisoning is
/// ignored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ReplayStore for MemoryReplayStore {
    type Error = StoreFull;

    fn accept(&self, account: &str, step: u64) -> Result<Acceptance, StoreFull> {
        let mut map = self.shard(account);
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
