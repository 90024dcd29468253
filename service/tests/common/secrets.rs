//! Every secret the tests use (passwords, PINs, codes, tokens, keys,
//! TOTP secrets, recovery codes), remembered as the client sends or
//! receives it, and a check that a server's log holds none of them.

use std::{collections::BTreeSet, sync::Mutex};

use serde_json::Value;

static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Remembers `secret`.
pub fn remember(secret: &str) {
    let secret = secret.trim();
    if secret.len() >= 4 {
        SEEN.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(secret.to_owned());
    }
}

/// Fields whose values are secrets, in requests and answers alike.
const SECRET_FIELDS: [&str; 15] = [
    "password",
    "mpin",
    "second_auth",
    "code",
    "PIN",
    "TOTP",
    "Key",
    "api_key",
    "access_token",
    "register_token",
    "RequestToken",
    "recovery_codes",
    "key",
    "secret",
    "challenge",
];

/// Remembers every secret field of `value`, however deep, and the secret
/// of an `otpauth://` URI.
pub fn remember_json(value: &Value) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                if SECRET_FIELDS.contains(&name.as_str()) {
                    match field {
                        Value::String(text) => remember(text),
                        Value::Array(items) => {
                            items.iter().filter_map(Value::as_str).for_each(remember)
                        }
                        _ => {}
                    }
                }
                if name == "otpauth_uri"
                    && let Some(secret) = field
                        .as_str()
                        .and_then(|uri| uri.split("secret=").nth(1))
                        .and_then(|rest| rest.split('&').next())
                {
                    remember(secret);
                }
                remember_json(field);
            }
        }
        Value::Array(items) => items.iter().for_each(remember_json),
        _ => {}
    }
}

/// The secrets of `log`: those 12 characters or longer anywhere in it,
/// shorter ones (codes, PINs) as a whole word of letters and digits.
pub fn found_in(log: &str) -> Vec<String> {
    let seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let words: BTreeSet<&str> = log
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    seen.into_iter()
        .filter(|secret| {
            if secret.len() >= 12 {
                log.contains(secret.as_str())
            } else {
                words.contains(secret.as_str())
            }
        })
        .collect()
}

/// How many secrets are remembered.
pub fn count() -> usize {
    SEEN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .len()
}
