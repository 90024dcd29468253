//! An account's sealed secrets by name, kept inside its [`AccountState`]
//! so that a factor's secret changes in the same compare-and-swap as the
//! rest of the account: a login opens the secret from the very state it
//! decides on, and an enrollment that replaces a secret ends every login
//! decided after it.
//!
//! [`AccountState`]: super::AccountState

use alloc::{collections::BTreeMap, string::String};
use core::fmt;

use crate::{
    error::Error,
    factor::Binding,
    otp::Secret,
    seal::{Keyring, Sealed, SecretKind},
};

/// An account's sealed secrets by name (`"totp"`, `"hotp"`, a pending
/// enrollment's, or names of the service's own), at most
/// [`SealedSecrets::MAX`].
///
/// Each is sealed for the account and for its own name as the purpose
/// ([`Binding::new(account, name)`](Binding::new)), so a sealed form moved
/// to another name or another account does not open. Sealed forms are not
/// themselves secret ([`Sealed`]); `Debug` lists the names alone.
///
/// With the `serde` feature, a JSON object from each name to the sealed
/// form's text; a name given twice, a form that does not parse, or bounds
/// not kept are refused when read.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SealedSecrets {
    by_name: BTreeMap<String, Sealed>,
}

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

    /// Whether a secret is kept under `name`.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Opens the secret kept under `name`, sealed as `kind` for `account`
    /// and that name: `None` when there is none.
    ///
    /// # Errors
    /// As [`Keyring::open_secret`]: a form sealed for another account or
    /// name, altered, or under a key the keyring lacks.
    pub fn open(
        &self,
        keyring: &Keyring,
        account: &str,
        name: &str,
        kind: SecretKind,
    ) -> Result<Option<Secret>, Error> {
        let Some(sealed) = self.by_name.get(name) else {
            return Ok(None);
        };
        let opened = keyring.open_secret(sealed, kind, Binding::new(account, name))?;
        Ok(Some(opened.value))
    }

    /// Keeps `sealed` under `name`, returning the secret it replaces.
    /// Installing or replacing an active factor's secret is a change of
    /// credentials: call [`AccountState::credentials_changed`] in the same
    /// decision (the guard's enrollment calls do).
    ///
    /// # Errors
    /// [`Error::BadSecretName`] for an empty name or one longer than
    /// [`SealedSecrets::MAX_NAME`], [`Error::TooManySecrets`] for a new
    /// name past [`SealedSecrets::MAX`]; nothing changes.
    ///
    /// [`AccountState::credentials_changed`]: super::AccountState::credentials_changed
    pub fn insert(&mut self, name: &str, sealed: Sealed) -> Result<Option<Sealed>, Error> {
        if name.is_empty() || name.len() > Self::MAX_NAME {
            return Err(Error::BadSecretName);
        }
        if !self.by_name.contains_key(name) && self.by_name.len() >= Self::MAX {
            return Err(Error::TooManySecrets);
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

#[cfg(feature = "serde")]
mod serde_impl {
    use alloc::{format, string::String, string::ToString};
    use core::fmt;

    use serde::{
        Deserialize, Deserializer, Serialize, Serializer,
        de::{Error as _, MapAccess, Visitor},
        ser::SerializeMap,
    };

    use super::SealedSecrets;
    use crate::seal::Sealed;

    impl Serialize for SealedSecrets {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(self.by_name.len()))?;
            for (name, sealed) in &self.by_name {
                map.serialize_entry(name, &sealed.to_string())?;
            }
            map.end()
        }
    }

    impl<'de> Deserialize<'de> for SealedSecrets {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_map(Names)
        }
    }

    struct Names;

    impl<'de> Visitor<'de> for Names {
        type Value = SealedSecrets;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of sealed forms by name")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SealedSecrets, A::Error> {
            let mut secrets = SealedSecrets::new();
            while let Some((name, text)) = map.next_entry::<String, String>()? {
                if secrets.contains(&name) {
                    return Err(A::Error::custom("a sealed secret's name given twice"));
                }
                let sealed: Sealed = text
                    .parse()
                    .map_err(|_| A::Error::custom("a sealed secret that is not a sealed form"))?;
                secrets
                    .insert(&name, sealed)
                    .map_err(|e| A::Error::custom(format!("sealed secrets: {e}")))?;
            }
            Ok(secrets)
        }
    }
}
