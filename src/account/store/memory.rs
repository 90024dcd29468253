//! An [`AccountStore`] in one process's memory: for a service with a
//! single instance, for tests, and as the baseline of the stores'
//! benchmarks.

use std::{collections::HashMap, string::String, sync::Mutex};

use super::{AccountStore, Versioned};
use crate::account::replay::lock;

/// Every account's state in a map behind a mutex, with the same
/// versioned compare-and-swap as a database store. Nothing survives the
/// process: a restart forgets used codes and failures, so a service with
/// more than one instance, or that restarts, needs a shared store.
#[derive(Debug, Default)]
pub struct MemoryAccountStore<T> {
    accounts: Mutex<HashMap<String, Versioned<T>>>,
}

impl<T> MemoryAccountStore<T> {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self {
            accounts: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone + Default + Send + Sync> AccountStore<T> for MemoryAccountStore<T> {
    type Error = core::convert::Infallible;

    async fn load(&self, account: &str) -> Result<Versioned<T>, Self::Error> {
        Ok(lock(&self.accounts)
            .get(account)
            .cloned()
            .unwrap_or_default())
    }

    async fn save(&self, account: &str, expected: u64, state: &T) -> Result<bool, Self::Error> {
        let mut accounts = lock(&self.accounts);
        let current = accounts.get(account).map_or(0, |entry| entry.version);
        // A version that cannot grow is never reused: the save fails.
        let Some(version) = expected.checked_add(1).filter(|_| current == expected) else {
            return Ok(false);
        };
        accounts.insert(
            account.into(),
            Versioned {
                state: state.clone(),
                version,
            },
        );
        Ok(true)
    }
}
