//! An account's sealed secrets (its TOTP or HOTP secret, say), kept by
//! name in one record of kind `secrets`.

use std::collections::BTreeMap;

use core::fmt;
use serde::{
    Deserialize, Deserializer,
    de::{Error as _, MapAccess},
};
use twofa::Sealed;

use crate::{Corrupt, Record, StoreError};

/// An account's sealed secrets by name (`"totp"`, `"hotp"`, or names of
/// the service's own). Sealed forms are not themselves secret (see
/// [`Sealed`]); they open only under the service's keyring, for the
/// account and purpose they were sealed for.
///
/// Enrolling through the store's compare-and-swap makes an enrollment
/// single: `if secrets.get("totp").is_none() { secrets.insert(…) }` in a
/// decision saves for one of two racing instances, and the other, deciding
/// again on what was saved, finds the secret there.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SealedSecrets {
    by_name: BTreeMap<String, Sealed>,
}

/// Why a sealed secret was not added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretsRefusal {
    /// The name is empty or longer than [`SealedSecrets::MAX_NAME`].
    BadName,
    /// The account already holds [`SealedSecrets::MAX`] secrets.
    Full,
}

impl fmt::Display for SecretsRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadName => "a secret's name is 1 to 64 bytes",
            Self::Full => "the account holds as many sealed secrets as it may",
        })
    }
}

impl std::error::Error for SecretsRefusal {}

impl SealedSecrets {
    /// The most secrets one account holds.
    pub const MAX: usize = 16;
    /// The longest name, in bytes.
    pub const MAX_NAME: usize = 64;

    /// No secrets.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The secret sealed under `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Sealed> {
        self.by_name.get(name)
    }

    /// Keeps `sealed` under `name`, returning the secret it replaces.
    ///
    /// # Errors
    /// [`SecretsRefusal`]; nothing changes.
    pub fn insert(&mut self, name: &str, sealed: Sealed) -> Result<Option<Sealed>, SecretsRefusal> {
        if name.is_empty() || name.len() > Self::MAX_NAME {
            return Err(SecretsRefusal::BadName);
        }
        if !self.by_name.contains_key(name) && self.by_name.len() >= Self::MAX {
            return Err(SecretsRefusal::Full);
        }
        Ok(self.by_name.insert(name.into(), sealed))
    }

    /// Removes the secret under `name`, returning it.
    pub fn remove(&mut self, name: &str) -> Option<Sealed> {
        self.by_name.remove(name)
    }

    /// The names and their secrets, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Sealed)> {
        self.by_name
            .iter()
            .map(|(name, sealed)| (name.as_str(), sealed))
    }

    /// How many secrets the account holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether it holds none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

impl fmt::Debug for SealedSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.by_name.keys()).finish()
    }
}

impl Record for SealedSecrets {
    const KIND: &'static str = "secrets";

    /// A JSON object from each name to the sealed form's text.
    fn encode<E>(&self) -> Result<String, StoreError<E>> {
        self.check().map_err(StoreError::Unwritable)?;
        let texts: BTreeMap<&str, String> = self
            .by_name
            .iter()
            .map(|(name, sealed)| (name.as_str(), sealed.to_string()))
            .collect();
        serde_json::to_string(&texts).map_err(|_| StoreError::Unwritable("not serializable"))
    }

    fn decode(body: &str) -> Result<Self, Corrupt> {
        let Distinct(texts) =
            serde_json::from_str(body).map_err(|e| Corrupt::new(Self::KIND, e.to_string()))?;
        let mut secrets = Self::new();
        for (name, text) in texts {
            let sealed = text
                .parse()
                .map_err(|_| Corrupt::new(Self::KIND, format!("{name:?} is not a sealed form")))?;
            secrets
                .insert(&name, sealed)
                .map_err(|refusal| Corrupt::new(Self::KIND, refusal.to_string()))?;
        }
        Ok(secrets)
    }

    /// Within bounds by construction: [`SealedSecrets::insert`] keeps them.
    fn check(&self) -> Result<(), &'static str> {
        if self.by_name.len() > Self::MAX {
            return Err("more sealed secrets than SealedSecrets::MAX");
        }
        Ok(())
    }
}

/// A JSON object whose names are distinct: a name given twice is an
/// error, not the last of its values.
struct Distinct(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for Distinct {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Distinct;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of sealed forms by name")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Distinct, A::Error> {
                let mut texts = BTreeMap::new();
                while let Some((name, text)) = map.next_entry::<String, String>()? {
                    if texts.contains_key(&name) {
                        return Err(A::Error::custom(format!("name {name:?} given twice")));
                    }
                    texts.insert(name, text);
                }
                Ok(Distinct(texts))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}
