//! The service's own kinds of record, kept by the same stores as the
//! core's (one record per account and kind, versioned): the user's first
//! factors and phone, the request tokens issued to them, their own API
//! keys and device names, and the service's own secrets. The SMS counts are in [`crate::phones`].

use serde::{Deserialize, Serialize};
use twofa::{Binding, DigestKey, RememberedDevice, SealedSecrets};
use twofa_record::json_record;

/// A user of the service: what the first step checks, and where SMS codes
/// go. The default (an empty password hash) is "no such user".
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The password's Argon2id hash, as a PHC string.
    pub password: String,
    /// The MPIN's Argon2id hash, as a PHC string.
    pub pin: String,
    /// The phone number SMS codes are sent to, in E.164 form.
    pub phone: String,
    /// Whether a code sent to `phone` came back: the number is the
    /// user's. Until then it gets only the few codes of an unverified
    /// number ([`crate::phones::PhoneSends`]).
    #[serde(default)]
    pub phone_verified: bool,
    /// The id of the digest key `mac` was made under.
    #[serde(default)]
    pub key_id: u32,
    /// A keyed digest of every field above, bound to the account
    /// ([`User::seal`]): a record written by someone without the key, or
    /// copied from another account, is refused as corrupt.
    #[serde(default, with = "twofa::byte_text::array")]
    pub mac: [u8; 32],
}

impl User {
    /// The longest user id.
    pub const MAX_ID: usize = 64;

    /// Whether `id` can name a user: 1 to [`User::MAX_ID`] letters,
    /// digits and `._@+-` (so never the service's own `#service`).
    pub fn valid_id(id: &str) -> bool {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "._@+-".contains(c);
        !id.is_empty() && id.len() <= Self::MAX_ID && id.chars().all(allowed)
    }

    /// Whether this record is a user (signed up), not the empty default.
    pub fn exists(&self) -> bool {
        !self.password.is_empty()
    }

    /// The purpose the record's digest is bound to.
    const PURPOSE: &'static str = "user";

    /// The fields the digest covers.
    fn parts(&self) -> [&[u8]; 4] {
        [
            self.password.as_bytes(),
            self.pin.as_bytes(),
            self.phone.as_bytes(),
            if self.phone_verified {
                b"verified"
            } else {
                b"unverified"
            },
        ]
    }

    /// Makes the record's digest under `key`, for `account`: call it after
    /// every change of its fields, before it is saved.
    pub fn seal(&mut self, key: &DigestKey, account: &str) {
        let binding = Binding::new(account, Self::PURPOSE);
        self.mac = key.record_digest(binding, &self.parts());
        self.key_id = key.id();
    }

    /// Whether the record is one the service wrote for `account`.
    ///
    /// # Errors
    /// [`twofa::Error::UnknownKeyId`] when its key is not among `keys`.
    pub fn is_genuine(&self, keys: &[DigestKey], account: &str) -> Result<bool, twofa::Error> {
        let binding = Binding::new(account, Self::PURPOSE);
        DigestKey::record_digest_matches(keys, self.key_id, binding, &self.parts(), &self.mac)
    }
}

impl core::fmt::Debug for User {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Hashes stay out of logs, and so does the phone number.
        f.debug_struct("User")
            .field("exists", &self.exists())
            .finish_non_exhaustive()
    }
}

// Format 2: the digest is base64url text; format-1 bodies still read.
json_record!(User, "user", format 2 from 1, |this| {
    let phc = |hash: &str| hash.is_empty() || hash.starts_with("$argon2id$");
    if !phc(&this.password) || !phc(&this.pin) {
        return Err("a first factor that is not an Argon2id hash");
    }
    if this.phone.len() > 32 {
        return Err("a phone number longer than 32 bytes");
    }
    Ok(())
});

/// The request tokens (seed 001's `RequestToken`, seed 004's
/// `access_token`) issued to one user and not yet expired: only their
/// keyed digests, bound to the account and its credential version, so a
/// password or factor change ends every session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    /// Oldest first. Whether a session's login checked a second factor is
    /// bound into its digest (the purpose it is made for).
    pub tokens: Vec<RememberedDevice>,
}

impl Sessions {
    /// Sessions kept per user: a new one ends the oldest beyond this.
    pub const MAX: usize = 16;

    /// Adds `token`, dropping expired ones, those of credentials older
    /// than `credential_version`, and the oldest beyond [`Sessions::MAX`].
    /// Tokens of newer credentials stay: a login that read the account
    /// before a factor change never drops the session that change issued.
    pub fn add(&mut self, token: RememberedDevice, credential_version: u64, now: u64) {
        self.tokens
            .retain(|old| old.credential_version >= credential_version && now < old.expires_at);
        let excess = (self.tokens.len() + 1).saturating_sub(Self::MAX);
        self.tokens.drain(..excess);
        self.tokens.push(token);
    }
}

// Format 2: each token's record carries its rotation mark. Format 3: the
// tokens' ids and digests are base64url text (as the core writes every
// byte field of a state now); format-2 bodies still read.
json_record!(Sessions, "sessions", format 3 from 2, |this| {
    if this.tokens.len() > Sessions::MAX {
        return Err("more sessions than Sessions::MAX");
    }
    Ok(())
});

/// The service's own sealed secrets (its digest key and recovery pepper),
/// kept under the service's account name in a record of their own: a JSON
/// object from each name to the sealed form's text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceSecrets(pub SealedSecrets);

// Within bounds by construction: [`SealedSecrets::insert`] keeps them.
json_record!(ServiceSecrets, "secrets", |_this| Ok(()));

/// The names people gave their devices, by device id (hex): shown in the
/// list of factors, trusted for nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceNames(pub std::collections::BTreeMap<String, String>);

impl DeviceNames {
    /// The longest name, in bytes.
    pub const MAX_NAME: usize = 64;
    /// Names kept: as many as an account's state keeps devices.
    pub const MAX: usize = twofa::AccountState::MAX_DEVICES;

    /// Names device `id`, forgetting the names of devices not in `kept`.
    pub fn name(&mut self, id: String, name: String, kept: &[String]) {
        self.0.retain(|known, _| kept.contains(known));
        self.0.insert(id, name);
        while self.0.len() > Self::MAX {
            self.0.pop_first();
        }
    }
}

json_record!(DeviceNames, "device-names", |this| {
    if this.0.len() > DeviceNames::MAX
        || this
            .0
            .iter()
            .any(|(id, name)| id.len() != 32 || name.len() > DeviceNames::MAX_NAME)
    {
        return Err("more device names than devices, or one too long");
    }
    Ok(())
});

/// A user's own API keys (seed 001's `head.Key`): only their keyed
/// digests, bound to the account, each with its expiry. Unlike sessions
/// they outlive factor changes; the user revokes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserKeys {
    /// Oldest first.
    pub keys: Vec<RememberedDevice>,
}

impl UserKeys {
    /// Keys a user may hold at once.
    pub const MAX: usize = 10;
    /// The purpose their digests are bound to.
    pub const PURPOSE: &'static str = "api key";
}

// Format 2: the keys' ids and digests are base64url text; format-1 bodies
// still read.
json_record!(UserKeys, "user-keys", format 2 from 1, |this| {
    if this.keys.len() > UserKeys::MAX {
        return Err("more API keys than UserKeys::MAX");
    }
    Ok(())
});

/// Which account a credential id is registered to: the index a passkey
/// sign-in finds the account by, and the check that no credential id is
/// registered to two accounts. Kept under the name
/// [`PasskeyOwner::index_name`], with a keyed digest bound to that name,
/// so a record written by someone without the key names nobody.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyOwner {
    /// The account, or empty for none.
    pub account: String,
    /// The id of the digest key `mac` was made under.
    pub key_id: u32,
    /// A keyed digest of `account`, bound to the index name.
    #[serde(with = "twofa::byte_text::array")]
    pub mac: [u8; 32],
    /// How often it was claimed: every claim changes the record, so a
    /// claim decided on an older reading of it fails its compare-and-swap
    /// even when the owner is the same.
    #[serde(default)]
    pub claims: u64,
}

impl core::fmt::Debug for PasskeyOwner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PasskeyOwner")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl PasskeyOwner {
    /// The purpose the digest is bound to.
    const PURPOSE: &'static str = "passkey owner";

    /// The record name of credential id `id`: never a user's (users'
    /// names have no `#`).
    pub fn index_name(id: &[u8]) -> String {
        use sha2::Digest;
        format!("#passkey:{}", crate::login::hex(&sha2::Sha256::digest(id)))
    }

    /// Sets the owner to `account` (empty: none), sealed under `key` for
    /// index record `name`.
    pub fn set(&mut self, key: &DigestKey, name: &str, account: &str) {
        self.account = account.to_owned();
        self.claims = self.claims.wrapping_add(1);
        self.key_id = key.id();
        self.mac = key.record_digest(Binding::new(name, Self::PURPOSE), &[account.as_bytes()]);
    }

    /// The owner this record names, if it is one the service wrote for
    /// index record `name`.
    pub fn owner(&self, keys: &[DigestKey], name: &str) -> Option<&str> {
        let binding = Binding::new(name, Self::PURPOSE);
        let genuine = DigestKey::record_digest_matches(
            keys,
            self.key_id,
            binding,
            &[self.account.as_bytes()],
            &self.mac,
        )
        .unwrap_or(false);
        (genuine && !self.account.is_empty()).then_some(self.account.as_str())
    }
}

// Format 2: the digest is base64url text; format-1 bodies still read.
json_record!(PasskeyOwner, "passkey-owner", format 2 from 1, |this| {
    if this.account.len() > User::MAX_ID {
        return Err("an owner longer than a user id");
    }
    Ok(())
});

#[cfg(test)]
mod tests {
    use super::*;

    fn token(id: u8, credential_version: u64) -> RememberedDevice {
        RememberedDevice {
            id: [id; 16],
            key_id: 1,
            digest: [0; 32],
            credential_version,
            issued_at: 0,
            expires_at: 100,
            rotated: false,
        }
    }

    #[test]
    fn user_and_owner_digests_are_text_and_format_1_bodies_still_read() {
        use twofa_record::{Record, decode};
        let key = DigestKey::new(3, [5; 32]);
        let mut user = User {
            password: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            phone: "+919800000011".into(),
            ..User::default()
        };
        user.seal(&key, "alice");
        let mut owner = PasskeyOwner::default();
        owner.set(&key, "#passkey:00", "alice");
        for (body, old) in [
            (
                user.encode::<()>().unwrap(),
                serde_json::to_value(&user).unwrap(),
            ),
            (
                owner.encode::<()>().unwrap(),
                serde_json::to_value(&owner).unwrap(),
            ),
        ] {
            let written: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert!(written["mac"].is_string(), "{body}");
            // The same record as format 1 wrote it: the digest as numbers.
            let mut old = old;
            let text = old["mac"].as_str().unwrap().to_owned();
            let bytes = from_text(&text);
            old["mac"] = serde_json::json!(bytes);
            let old = old.to_string();
            if written.get("password").is_some() {
                assert_eq!(decode::<User>(1, 1, &old).unwrap().state, user);
                assert!(decode::<User>(1, 3, &body).is_err());
            } else {
                assert_eq!(decode::<PasskeyOwner>(1, 1, &old).unwrap().state, owner);
            }
        }
        let keys = [key];
        assert!(user.is_genuine(&keys, "alice").unwrap());
        assert_eq!(owner.owner(&keys, "#passkey:00"), Some("alice"));
    }

    /// Unpadded base64url `text` as bytes.
    fn from_text(text: &str) -> Vec<u8> {
        use base64ct::{Base64UrlUnpadded, Encoding};
        Base64UrlUnpadded::decode_vec(text).unwrap()
    }

    #[test]
    fn a_session_added_on_an_older_reading_keeps_the_newer_ones() {
        let mut sessions = Sessions::default();
        sessions.add(token(1, 5), 5, 10);
        // A factor change moved the version to 6 and issued its token...
        sessions.add(token(2, 6), 6, 11);
        assert_eq!(sessions.tokens.len(), 1, "the version-5 token goes");
        // ...and a login decided before it adds its own, at 5: the
        // change's token stays (the login's is refused when checked).
        sessions.add(token(3, 5), 5, 12);
        let ids: Vec<u8> = sessions.tokens.iter().map(|t| t.id[0]).collect();
        assert_eq!(ids, [2, 3]);
        // Expired ones go whatever their version.
        sessions.add(token(4, 6), 6, 100);
        let ids: Vec<u8> = sessions.tokens.iter().map(|t| t.id[0]).collect();
        assert_eq!(ids, [4]);
    }
}
