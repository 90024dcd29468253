//! Google Authenticator's export: `otpauth-migration://offline?data=…`,
//! the URL-encoded base64 of a protobuf `MigrationPayload`:
//!
//! ```text
//! MigrationPayload { 1: repeated OtpParameters, 2: version, 3: batch_size,
//!                    4: batch_index, 5: batch_id }
//! OtpParameters    { 1: secret (bytes), 2: name, 3: issuer,
//!                    4: algorithm (1 SHA1, 2 SHA256, 3 SHA512, 4 MD5),
//!                    5: digits (1 six, 2 eight), 6: type (1 HOTP, 2 TOTP),
//!                    7: counter }
//! ```
//!
//! An export of many keys comes as several QR codes, one batch each.

use alloc::{format, string::String, vec::Vec};

use zeroize::Zeroizing;

use super::{
    base64,
    error::{ImportError, Origin, Problem},
    imported::{ImportedKey, Kind, generator},
    protobuf::{Fields, Value},
};
use crate::{
    otp::{Algorithm, Totp},
    provision::uri::{KeyUri, percent},
};

/// The longest export URI read: a QR code holds under 3 KB, so this leaves
/// room for exports pasted from elsewhere and bounds the work.
pub const MAX_MIGRATION_URI_LEN: usize = 64 * 1024;

/// Reads a Google Authenticator export: every batch of it (one URI per QR
/// code, in any order), into its keys, batch by batch.
///
/// An HOTP key's counter is taken as the last the app showed: the next
/// expected is one past it, so that a code used before the move is not
/// accepted after it.
///
/// Refuses, naming the batch and key: an MD5 or unknown algorithm, a digit
/// count or type it does not know, a secret under 80 bits, a label the
/// `otpauth://` format cannot hold; and batches that do not make one whole
/// export (one missing or repeated, or from another export).
///
/// ```
/// use twofa::migrate::read_migration;
///
/// // One TOTP key, "ACME:alice", secret "12345678901234567890".
/// let export = "otpauth-migration://offline?data=Ci4KFDEyMzQ1Njc4OTAxMjM0NTY3ODkwEgpBQ01FOmFsaWNlGgRBQ01FIAEoATACEAEYASAAKMCFtor7%2F%2F%2F%2F%2FwE%3D";
/// let keys = read_migration([export])?;
/// assert_eq!(keys[0].key_uri().issuer(), Some("ACME"));
/// assert_eq!(keys[0].key_uri().account(), "alice");
/// # Ok::<(), twofa::migrate::ImportError>(())
/// ```
///
/// # Errors
/// An [`ImportError`] naming the batch (or key) and the problem.
pub fn read_migration<'a>(
    uris: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<ImportedKey>, ImportError> {
    let mut batches: Vec<Batch> = Vec::new();
    for uri in uris {
        let batch = Batch::read(uri)?;
        if let Some(first) = batches.first()
            && (first.id, first.size) != (batch.id, batch.size)
        {
            return Err(batch.error(Problem::Batches("from another export")));
        }
        if batches.iter().any(|seen| seen.index == batch.index) {
            return Err(batch.error(Problem::Batches("given twice")));
        }
        batches.push(batch);
    }
    let Some(first) = batches.first() else {
        return Err(ImportError::file(Problem::Missing("an export URI")));
    };
    if u64::try_from(batches.len()).ok() != Some(first.size) {
        return Err(ImportError::file(Problem::Batches(
            "some are missing: scan every QR code of the export",
        )));
    }
    batches.sort_by_key(|batch| batch.index);
    // Sized first and filled in place: a vector that grows, or one moved
    // from, leaves copies of the secrets behind.
    let mut keys = Vec::with_capacity(batches.iter().map(|batch| batch.count).sum());
    for batch in &batches {
        batch.keys_into(&mut keys)?;
    }
    Ok(keys)
}

/// One QR code's worth of keys, its header read.
struct Batch {
    id: u64,
    size: u64,
    index: u64,
    payload: Zeroizing<Vec<u8>>,
    /// How many keys it holds.
    count: usize,
}

impl Batch {
    fn read(uri: &str) -> Result<Self, ImportError> {
        let file = |problem| ImportError::file(problem);
        if uri.len() > MAX_MIGRATION_URI_LEN {
            return Err(file(Problem::TooLarge("an export URI of 64 KiB")));
        }
        let data = data_parameter(uri).map_err(file)?;
        let data = percent::decode_bytes(data, percent::Part::Path)
            .map_err(|_| file(Problem::Syntax("percent-encoded base64 in data")))?;
        let payload = base64::decode(&data).map_err(file)?;

        let mut batch = Self {
            id: 0,
            size: 1,
            index: 0,
            payload: Zeroizing::new(Vec::new()),
            count: 0,
        };
        for field in Fields::new(&payload) {
            match field.map_err(file)? {
                (1, Value::Bytes(_)) => batch.count += 1,
                (3, Value::Varint(size)) => batch.size = size.max(1),
                (4, Value::Varint(index)) => batch.index = index,
                (5, Value::Varint(id)) => batch.id = id,
                (1 | 3 | 4 | 5, _) => return Err(file(Problem::Syntax("a MigrationPayload"))),
                // The version, and whatever later versions add.
                _ => {}
            }
        }
        if batch.count == 0 {
            return Err(file(Problem::Missing("a key: the export is empty")));
        }
        if batch.index >= batch.size {
            return Err(file(Problem::Batches("an index beyond the batch count")));
        }
        batch.payload = payload;
        Ok(batch)
    }

    /// Reads the batch's keys onto the end of `keys`.
    fn keys_into(&self, keys: &mut Vec<ImportedKey>) -> Result<(), ImportError> {
        let parameters = Fields::new(&self.payload).filter_map(|field| match field {
            Ok((1, Value::Bytes(key))) => Some(key),
            _ => None,
        });
        for (key, parameters) in parameters.enumerate() {
            let origin = self.origin(key + 1);
            let uri =
                key_uri(parameters).map_err(|problem| ImportError::new(origin.clone(), problem))?;
            keys.push(ImportedKey::found(uri, origin));
        }
        Ok(())
    }

    fn origin(&self, key: usize) -> Origin {
        Origin::Migration {
            batch: self
                .index
                .checked_add(1)
                .and_then(|batch| usize::try_from(batch).ok())
                .unwrap_or(usize::MAX),
            key,
        }
    }

    fn error(&self, problem: Problem) -> ImportError {
        ImportError::new(self.origin(0), problem)
    }
}

/// The undecoded `data` parameter of `otpauth-migration://offline?…`.
fn data_parameter(uri: &str) -> Result<&str, Problem> {
    const SCHEME: &str = "otpauth-migration://";
    let not_export = Problem::Syntax("an otpauth-migration://offline?data=… URI");
    let scheme = uri.get(..SCHEME.len()).ok_or(not_export.clone())?;
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Err(not_export);
    }
    let rest = uri.get(SCHEME.len()..).unwrap_or_default();
    let (host, query) = rest.split_once('?').ok_or(not_export.clone())?;
    if !host.trim_end_matches('/').eq_ignore_ascii_case("offline") {
        return Err(not_export);
    }
    let mut data = None;
    for parameter in query.split('&') {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        if name.eq_ignore_ascii_case("data") && data.replace(value).is_some() {
            return Err(Problem::Syntax("one data parameter"));
        }
    }
    data.ok_or(Problem::Missing("the data parameter"))
}

/// One `OtpParameters` message as a URI.
fn key_uri(message: &[u8]) -> Result<KeyUri, Problem> {
    let mut secret: &[u8] = &[];
    let (mut name, mut issuer): (&[u8], &[u8]) = (&[], &[]);
    let (mut algorithm, mut digits, mut kind, mut counter) = (0, 0, 0, 0);
    for field in Fields::new(message) {
        match field? {
            (1, Value::Bytes(bytes)) => secret = bytes,
            (2, Value::Bytes(bytes)) => name = bytes,
            (3, Value::Bytes(bytes)) => issuer = bytes,
            (4, Value::Varint(value)) => algorithm = value,
            (5, Value::Varint(value)) => digits = value,
            (6, Value::Varint(value)) => kind = value,
            (7, Value::Varint(value)) => counter = value,
            (1..=7, _) => return Err(Problem::Syntax("an OtpParameters message")),
            _ => {}
        }
    }
    let algorithm = match algorithm {
        // Unspecified is what older exports leave out: SHA-1.
        0 | 1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha512,
        4 => return Err(Problem::Unsupported("algorithm MD5".into())),
        other => return Err(Problem::Unsupported(format!("algorithm number {other}"))),
    };
    let digits = match digits {
        0 | 1 => 6,
        2 => 8,
        other => return Err(Problem::Unsupported(format!("digit count number {other}"))),
    };
    let kind = match kind {
        // The app moves its counter on before it shows a code: the one
        // exported is the last shown, perhaps used, so the next is one past.
        // An int64 on the wire: a negative one is no counter.
        1 if i64::try_from(counter).is_ok() => Kind::Hotp {
            counter: counter + 1,
        },
        1 => return Err(Problem::Key(crate::Error::InvalidCounter)),
        0 | 2 => Kind::Totp {
            period: Totp::DEFAULT_PERIOD,
            t0: 0,
        },
        other => return Err(Problem::Unsupported(format!("type number {other}"))),
    };
    let text = |bytes| core::str::from_utf8(bytes).map_err(|_| Problem::Syntax("UTF-8 text"));
    let (issuer, account) = label(text(name)?, text(issuer)?);
    let uri = KeyUri::new(generator(secret, algorithm, digits, kind)?, account)?;
    Ok(match issuer {
        Some(issuer) => uri.with_issuer(&issuer)?,
        None => uri,
    })
}

/// The issuer and account of a key the app shows as `name` (often
/// `Issuer:account`) under `issuer`.
fn label<'a>(name: &'a str, issuer: &str) -> (Option<String>, &'a str) {
    let (prefix, account) = match name.split_once(':') {
        Some((prefix, account)) => (Some(prefix), account.trim_start()),
        None => (None, name),
    };
    let issuer = Some(issuer)
        .filter(|issuer| !issuer.is_empty())
        .or(prefix.filter(|prefix| !prefix.is_empty()));
    (issuer.map(String::from), account)
}
