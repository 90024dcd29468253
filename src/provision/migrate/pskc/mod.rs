//! PSKC, the Portable Symmetric Key Container (RFC 6030): the XML files
//! hardware-token vendors ship seeds in, in the clear or encrypted with
//! AES-CBC under a pre-shared key or a key derived from a password
//! (PBKDF2), with a MAC over each encrypted value.

mod bounds;
mod crypto;
mod write;

use alloc::{format, string::String, vec::Vec};

use roxmltree::{Document, Node, ParsingOptions};
use zeroize::Zeroizing;

pub use self::crypto::MAX_PBKDF2_ITERATIONS;
use self::crypto::MacAlgorithm;
pub use self::write::write_pskc;
use super::{
    base64, civil,
    error::{ImportError, Origin, Problem, Quoted, cut},
    imported::{ImportedKey, KeyPolicy, KeyUsage, Kind, Pin, generator},
};
use crate::{
    otp::{Algorithm, Secret, Totp},
    provision::uri::KeyUri,
};

/// The PSKC namespace.
const NS: &str = "urn:ietf:params:xml:ns:keyprov:pskc";

/// The largest PSKC file read: 8 MiB, tens of thousands of keys.
pub const MAX_PSKC_LEN: usize = 8 * 1024 * 1024;

/// The most XML nodes a PSKC file may have (elements, text, attributes
/// aside): bounds memory whatever the nesting.
const MAX_NODES: u32 = 1_000_000;

/// Reads PSKC files (RFC 6030), opening encrypted values with a
/// pre-shared key or a password, and checking each one's MAC.
///
/// HOTP and TOTP keys are read with their `Counter`, `Time` (taken as
/// `T0`), `TimeInterval`, `TimeDrift`, digits (`ResponseFormat`), hash
/// (`Suite`: HMAC-SHA1, HMAC-SHA256, HMAC-SHA512), serial number, issuer
/// and a `PINPolicy`'s presence. A package holding a token's PIN key
/// (algorithm `…:pin`) is skipped: the PIN is the token's. Any other
/// algorithm (OCRA, SecurID), encryption method (key wrap, 3DES) or
/// response encoding is refused by name. In a file that encrypts (or read
/// with a key), a secret in the clear is refused: whoever could alter the
/// file could have chosen it. XML declaring a DTD is refused, so no entity
/// is ever expanded; size, nodes, attributes per element and namespace
/// declarations are bounded.
///
/// What RFC 6030's MACs cannot say: a `Counter`, `Time`, `TimeInterval`,
/// `TimeDrift` or response format in the clear (as the RFC's own examples
/// have them) is not authenticated, nor is which package an encrypted value
/// sits in (a value moved from one token to another verifies). Only a
/// signature over the file, which this reader does not check, or one code
/// checked per token after import, tells.
///
/// ```
/// use twofa::migrate::PskcReader;
///
/// // RFC 6030, figure 6: AES-128-CBC under a pre-shared key, HMAC-SHA1.
/// let file = include_str!("../../../../tests/data/pskc/rfc6030-figure6.pskcxml");
/// let key = [
///     0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56,
///     0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12,
/// ];
/// let keys = PskcReader::new().pre_shared_key(&key).read(file)?;
/// assert_eq!(keys[0].serial(), Some("987654321"));
/// assert_eq!(keys[0].key_uri().otp().secret().expose_bytes(), b"12345678901234567890");
///
/// // Without the key, or with another, nothing is read.
/// assert!(PskcReader::new().read(file).is_err());
/// assert!(PskcReader::new().pre_shared_key(&[0; 16]).read(file).is_err());
/// # Ok::<(), twofa::migrate::ImportError>(())
/// ```
#[derive(Clone, Default)]
pub struct PskcReader {
    secret: Option<Opener>,
    check_mac: bool,
    now: Option<u64>,
    outside_validity: bool,
    sha256: Option<[u8; 32]>,
    plain_integers: bool,
}

/// What the reader was given to open encrypted values with.
#[derive(Clone)]
enum Opener {
    PreShared(Zeroizing<Vec<u8>>),
    Password(Zeroizing<Vec<u8>>),
}

impl core::fmt::Debug for PskcReader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let opener = match self.secret {
            None => "none",
            Some(Opener::PreShared(_)) => "pre-shared key",
            Some(Opener::Password(_)) => "password",
        };
        f.debug_struct("PskcReader")
            .field("opener", &opener)
            .field("check_mac", &self.check_mac)
            .field("now", &self.now)
            .field("outside_validity", &self.outside_validity)
            .field("sha256", &self.sha256.is_some())
            .field("plain_integers", &self.plain_integers)
            .finish()
    }
}

impl PskcReader {
    /// A reader for files in the clear, checking MACs.
    #[must_use]
    pub fn new() -> Self {
        Self {
            secret: None,
            check_mac: true,
            now: None,
            outside_validity: false,
            sha256: None,
            plain_integers: true,
        }
    }

    /// Refuses, in a file that encrypts, an integer in the clear (a
    /// `Counter`, `Time`, `TimeInterval` or `TimeDrift` `PlainValue`),
    /// which its MACs do not cover: whoever could alter the file could
    /// have set a counter back to replay codes already used, or a drift
    /// to make codes of another time pass. By default they are read, as
    /// RFC 6030's own example (figure 6) has its counter in the clear:
    /// the key is pending then until a code from its token confirms it
    /// ([`ImportedKey::is_pending`]), which a counter or drift moved far
    /// from the token's keeps from passing, and after which no code
    /// before the confirming one is accepted.
    #[must_use]
    pub fn refuse_plain_integers(mut self) -> Self {
        self.plain_integers = false;
        self
    }

    /// Checks the file against the SHA-256 its vendor gave by another
    /// channel (a delivery note, a signed mail): a file that does not match
    /// is refused, and the keys of one that does are not pending
    /// ([`ImportedKey::is_pending`]). Without it, every key read is
    /// pending until a code from its token confirms it.
    #[must_use]
    pub fn expect_sha256(mut self, digest: [u8; 32]) -> Self {
        self.sha256 = Some(digest);
        self
    }

    /// Checks keys' validity periods (their policy's `StartDate` and
    /// `ExpiryDate`) at `unix_time`. Without a time, a key whose policy
    /// gives dates is refused, since they cannot be checked.
    #[must_use]
    pub fn at(mut self, unix_time: u64) -> Self {
        self.now = Some(unix_time);
        self
    }

    /// Reads keys outside their validity period, or with dates and no
    /// time to check them at ([`PskcReader::at`]): for a file whose dates
    /// are known to be wrong. The dates are still carried on
    /// [`ImportedKey::policy`].
    #[must_use]
    pub fn accept_outside_validity(mut self) -> Self {
        self.outside_validity = true;
        self
    }

    /// Opens encrypted values with this pre-shared key (16, 24 or 32 bytes
    /// for AES-128, -192 or -256). Also taken in place of a password-derived
    /// key, as the key derived.
    #[must_use]
    pub fn pre_shared_key(mut self, key: &[u8]) -> Self {
        self.secret = Some(Opener::PreShared(Zeroizing::new(Vec::from(key))));
        self
    }

    /// Opens encrypted values with a key derived from this password by the
    /// file's PBKDF2 parameters (at most [`MAX_PBKDF2_ITERATIONS`]).
    #[must_use]
    pub fn password(mut self, password: &str) -> Self {
        self.secret = Some(Opener::Password(Zeroizing::new(Vec::from(
            password.as_bytes(),
        ))));
        self
    }

    /// Reads encrypted values whose MAC is missing or does not match, and
    /// secrets in the clear in a file that encrypts, for a file whose MACs
    /// are known to be broken (some vendors' tools wrote them wrong). The
    /// values are then unauthenticated: a file altered in transit yields
    /// wrong secrets, or secrets of the attacker's choosing, and a wrong key
    /// goes unnoticed for about one value in sixteen (XML Encryption's
    /// padding is all there is left to check). Check one code of each
    /// token before trusting such an import. A file is still refused for a
    /// MAC it cannot compute at all: an unknown MAC algorithm, a MAC key
    /// kept elsewhere (`MACKeyReference`), or one of under 16 bytes.
    #[must_use]
    pub fn skip_mac_check_known_broken(mut self) -> Self {
        self.check_mac = false;
        self
    }

    /// Reads the keys of a PSKC file.
    ///
    /// # Errors
    /// An [`ImportError`] naming the key package (or the file) and the
    /// problem: XML that is not well formed or declares a DTD, a MAC
    /// missing or not matching, a key or password missing or wrong,
    /// anything unsupported, a value the crate refuses.
    pub fn read(&self, xml: &str) -> Result<Vec<ImportedKey>, ImportError> {
        let file = |problem| ImportError::file(problem);
        if xml.len() > MAX_PSKC_LEN {
            return Err(file(Problem::TooLarge("a PSKC file of 8 MiB")));
        }
        if let Some(expected) = self.sha256
            && <[u8; 32]>::from(<sha2::Sha256 as sha2::Digest>::digest(xml.as_bytes())) != expected
        {
            return Err(file(Problem::DigestMismatch));
        }
        bounds::check(xml).map_err(file)?;
        let options = ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_NODES,
            ..ParsingOptions::default()
        };
        let document = Document::parse_with_options(xml, options)
            .map_err(|error| file(Problem::Xml(format!("{}", Quoted(&format!("{error}"))))))?;
        let root = document.root_element();
        if root.tag_name().name() != "KeyContainer" || root.tag_name().namespace() != Some(NS) {
            return Err(file(Problem::Syntax("a PSKC KeyContainer")));
        }
        match root.attribute("Version") {
            Some("1.0") => {}
            Some(other) => {
                return Err(file(Problem::Unsupported(format!(
                    "PSKC version {}",
                    Quoted(other)
                ))));
            }
            None => return Err(file(Problem::Missing("the KeyContainer's Version"))),
        }
        // What the reader takes, and where keys sit, before any work.
        check_methods(root).map_err(file)?;
        check_layout(root).map_err(file)?;
        check_blocks(root).map_err(file)?;
        let key = self.encryption_key(root).map_err(file)?;
        let mac = mac_key(root, key.as_ref().map(|key| key.as_slice())).map_err(file)?;
        let values = Values {
            key: key.as_ref().map(|key| key.as_slice()),
            mac: mac.as_ref(),
            check_mac: self.check_mac,
            now: self.now,
            outside_validity: self.outside_validity,
            plain_integers: self.plain_integers,
            // A secret in the clear is taken only from a file that
            // encrypts nothing, read without a key.
            encrypted: self.secret.is_some()
                || element(root, "EncryptionKey").is_some()
                || element(root, "MACMethod").is_some(),
        };
        // Sized first: a growing vector would leave copies of the secrets.
        let packages = elements(root, "KeyPackage").count();
        let mut keys = Vec::with_capacity(packages);
        for (index, package) in elements(root, "KeyPackage").enumerate() {
            let element = element(package, "Key");
            let origin = Origin::Package {
                index: index + 1,
                id: element
                    .and_then(|key| key.attribute("Id"))
                    .map(|id| match cut(id) {
                        shown if shown.len() < id.len() => format!("{shown}…"),
                        _ => String::from(id),
                    }),
            };
            let read = element
                .ok_or(Problem::Missing("the Key"))
                .and_then(|key| values.package(package, key));
            match read {
                Ok(Some(key)) if self.sha256.is_some() => keys.push(key.at(origin)),
                // Unauthenticated: pending until its token shows a code.
                Ok(Some(key)) => keys.push(key.at(origin).pending()),
                Ok(None) => {}
                Err(problem) => return Err(ImportError::new(origin, problem)),
            }
        }
        if keys.is_empty() {
            let pins = packages;
            return Err(file(Problem::NoKeys { packages, pins }));
        }
        Ok(keys)
    }

    /// The key encrypted values are opened with, if one was given.
    fn encryption_key(&self, root: Node<'_, '_>) -> Result<Option<Zeroizing<Vec<u8>>>, Problem> {
        match &self.secret {
            None => Ok(None),
            Some(Opener::PreShared(key)) => Ok(Some(key.clone())),
            Some(Opener::Password(password)) => {
                let derived = element(root, "EncryptionKey")
                    .and_then(|key| element(key, "DerivedKey"))
                    .ok_or(Problem::Missing(
                        "a key derivation (PBKDF2) for the password",
                    ))?;
                derive(derived, password).map(Some)
            }
        }
    }
}

/// PBKDF2 as an `xenc11:DerivedKey` describes it.
fn derive(derived: Node<'_, '_>, password: &[u8]) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let method = element(derived, "KeyDerivationMethod")
        .ok_or(Problem::Missing("the KeyDerivationMethod"))?;
    let algorithm = method.attribute("Algorithm").unwrap_or_default();
    if algorithm != crypto::PBKDF2 {
        return Err(Problem::Unsupported(format!(
            "key derivation {} (PBKDF2 only)",
            Quoted(algorithm)
        )));
    }
    let parameters =
        element(method, "PBKDF2-params").ok_or(Problem::Missing("the PBKDF2-params"))?;
    let salt = element(parameters, "Salt")
        .and_then(|salt| element(salt, "Specified"))
        .ok_or(Problem::Missing("the PBKDF2 salt (Specified)"))?;
    let salt = base64::decode(text(salt).as_bytes())?;
    let iterations: u32 = number(
        element(parameters, "IterationCount").ok_or(Problem::Missing("the IterationCount"))?,
    )?;
    if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
        return Err(Problem::TooLarge("PBKDF2 iterations from 1 to 10,000,000"));
    }
    let length: usize = match element(parameters, "KeyLength") {
        Some(length) => number(length)?,
        None => 16,
    };
    if !matches!(length, 16 | 24 | 32) {
        return Err(Problem::Unsupported(format!(
            "a derived key of {length} bytes"
        )));
    }
    let prf = match element(parameters, "PRF").and_then(|prf| prf.attribute("Algorithm")) {
        None => MacAlgorithm::Sha1,
        Some(uri) => uri
            .rsplit('#')
            .next()
            .and_then(MacAlgorithm::from_name)
            .ok_or_else(|| Problem::Unsupported(format!("PBKDF2 PRF {}", Quoted(uri))))?,
    };
    let mut key = Zeroizing::new(alloc::vec![0; length]);
    prf.pbkdf2(password, &salt, iterations, &mut key);
    Ok(key)
}

/// The MAC key of a file, opened.
struct MacKey {
    algorithm: MacAlgorithm,
    key: Zeroizing<Vec<u8>>,
    /// Its cipher blocks (after the IV) as the file has them.
    blocks: Vec<u8>,
    /// Whether its padding held. One that did not is kept, and fails
    /// every MAC check as a wrong key does: nothing authenticates the MAC
    /// key, so refusing it for its padding alone would tell whoever
    /// altered it something of what it decrypts to (a padding oracle).
    intact: bool,
}

/// The most an encrypted value or MAC key may decrypt to: a secret of
/// [`Secret::MAX_LEN`] bytes. Its IV and ciphertext, at the most padding.
const MAX_ENCRYPTED_LEN: usize = 16 + Secret::MAX_LEN + 16;

/// The least a MAC key's IV and ciphertext may take: two blocks after the
/// IV, so at least 16 bytes of key whatever the padding. RFC 6030's
/// examples use 20 bytes, and the MAC key is not itself authenticated, so
/// a short one may have been spliced from known ciphertext. Counted on the
/// ciphertext, which is public, not on what it decrypts to.
const MIN_MAC_KEY_ENCRYPTED_LEN: usize = 16 + 32;

/// The MAC algorithm and key of `MACMethod`, when the file has one and the
/// key to open it was given.
fn mac_key(root: Node<'_, '_>, key: Option<&[u8]>) -> Result<Option<MacKey>, Problem> {
    let Some(method) = element(root, "MACMethod") else {
        return Ok(None);
    };
    let algorithm =
        MacAlgorithm::from_uri(method.attribute("Algorithm").unwrap_or(crypto::HMAC_SHA1))?;
    let Some(key) = key else {
        return Ok(None);
    };
    let mac_key = element(method, "MACKey").ok_or_else(|| {
        Problem::Unsupported("a MACMethod without a MACKey (a MACKeyReference)".into())
    })?;
    let method = encryption_method(mac_key)?;
    let data = cipher_value(mac_key)?;
    if !(MIN_MAC_KEY_ENCRYPTED_LEN..=MAX_ENCRYPTED_LEN).contains(&data.len()) {
        return Err(Problem::Syntax("a MAC key of 16 to 128 bytes"));
    }
    let mut opened = crypto::decrypt_padded(method, key, &data)?;
    let unpadded = crypto::unpadded_len(&opened);
    if let Some(len) = unpadded {
        opened.truncate(len);
    }
    Ok(Some(MacKey {
        algorithm,
        key: opened,
        blocks: data.get(16..).unwrap_or_default().to_vec(),
        intact: unpadded.is_some(),
    }))
}

/// The `EncryptionMethod` of an `xenc:EncryptedData`-shaped element, once
/// it is one the reader takes (anything else is refused by name, before
/// its lengths or MACs are looked at).
fn encryption_method<'a>(encrypted: Node<'a, '_>) -> Result<&'a str, Problem> {
    let method = element(encrypted, "EncryptionMethod")
        .and_then(|method| method.attribute("Algorithm"))
        .ok_or(Problem::Missing("the EncryptionMethod"))?;
    crypto::key_len(method)?;
    Ok(method)
}

/// No AES-CBC block (16 bytes of an IV or a ciphertext) appears twice
/// across the file's encrypted values. With random IVs, a repeat is never
/// chance: it is a value built from another's blocks, which can make a
/// MAC key or a secret of the attacker's choosing when some plaintext is
/// guessable. Values too long to be read are left to be refused as such.
fn check_blocks(root: Node<'_, '_>) -> Result<(), Problem> {
    let mut blocks: Vec<[u8; 16]> = Vec::new();
    for value in root
        .descendants()
        .filter(|node| node.tag_name().name() == "CipherValue")
    {
        let data = base64::decode(text(value).as_bytes())?;
        if data.len() > MAX_ENCRYPTED_LEN {
            continue;
        }
        blocks.extend(
            data.chunks_exact(16)
                .filter_map(|block| <[u8; 16]>::try_from(block).ok()),
        );
    }
    blocks.sort_unstable();
    if blocks.windows(2).any(|pair| pair.first() == pair.get(1)) {
        return Err(Problem::RepeatedBlock);
    }
    Ok(())
}

/// Every encryption method the file names is one the reader takes:
/// checked before anything is derived or decrypted, so that a file in 3DES,
/// key wrap or Camellia is refused as such, never for a length or a MAC it
/// could not have had.
fn check_methods(root: Node<'_, '_>) -> Result<(), Problem> {
    for method in root
        .descendants()
        .filter(|node| node.tag_name().name() == "EncryptionMethod")
    {
        crypto::key_len(method.attribute("Algorithm").unwrap_or_default())?;
    }
    Ok(())
}

fn cipher_value(encrypted: Node<'_, '_>) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let value = element(encrypted, "CipherData")
        .and_then(|data| element(data, "CipherValue"))
        .ok_or(Problem::Missing("the CipherValue"))?;
    base64::decode(text(value).as_bytes())
}

/// How values are opened and checked.
struct Values<'a> {
    key: Option<&'a [u8]>,
    mac: Option<&'a MacKey>,
    check_mac: bool,
    encrypted: bool,
    now: Option<u64>,
    outside_validity: bool,
    plain_integers: bool,
}

/// What a key's `Algorithm` names.
enum KeyAlgorithm {
    Hotp,
    Totp,
    Pin,
}

impl Values<'_> {
    /// The key of one package, or `None` for a PIN key.
    fn package(
        &self,
        package: Node<'_, '_>,
        key: Node<'_, '_>,
    ) -> Result<Option<ImportedKey>, Problem> {
        let algorithm = key
            .attribute("Algorithm")
            .ok_or(Problem::Missing("the Key's Algorithm"))?;
        let kind = match algorithm.rsplit([':', '#']).next() {
            Some("hotp") if algorithm.starts_with("urn:ietf:params:xml:ns:keyprov:pskc") => {
                KeyAlgorithm::Hotp
            }
            Some("totp") if algorithm.starts_with("urn:ietf:params:xml:ns:keyprov:pskc") => {
                KeyAlgorithm::Totp
            }
            Some("pin") => KeyAlgorithm::Pin,
            _ => {
                return Err(Problem::Unsupported(format!(
                    "algorithm {} (HOTP and TOTP only)",
                    Quoted(algorithm)
                )));
            }
        };
        if matches!(kind, KeyAlgorithm::Pin) {
            return Ok(None);
        }
        let parameters = element(key, "AlgorithmParameters");
        let hash = match parameters.and_then(|parameters| element(parameters, "Suite")) {
            None => Algorithm::Sha1,
            Some(suite) => hash(&text(suite))?,
        };
        let digits = match parameters.and_then(|parameters| element(parameters, "ResponseFormat")) {
            None => 6,
            Some(format) => digits(format)?,
        };
        let data = element(key, "Data").ok_or(Problem::Missing("the Data"))?;
        let secret = self.bytes(element(data, "Secret").ok_or(Problem::Missing("the Secret"))?)?;
        let integer = |name| {
            element(data, name)
                .map(|value| self.integer(value))
                .transpose()
        };
        let generator_kind = match kind {
            KeyAlgorithm::Hotp => Kind::Hotp {
                counter: unsigned(integer("Counter")?.unwrap_or(0))?,
            },
            _ => Kind::Totp {
                period: unsigned(
                    integer("TimeInterval")?.unwrap_or(i128::from(Totp::DEFAULT_PERIOD)),
                )?,
                t0: unsigned(integer("Time")?.unwrap_or(0))?,
            },
        };
        let drift = integer("TimeDrift")?.unwrap_or(0);
        let drift =
            i64::try_from(drift).map_err(|_| Problem::Syntax("a TimeDrift within 64 bits"))?;

        let device = element(package, "DeviceInfo");
        let serial = device
            .and_then(|device| element(device, "SerialNo"))
            .map(|serial| String::from(text(serial).as_str()));
        let account = [
            element(key, "UserId"),
            device.and_then(|device| element(device, "UserId")),
            element(key, "FriendlyName"),
            device.and_then(|device| element(device, "SerialNo")),
        ]
        .into_iter()
        .flatten()
        .map(|node| String::from(text(node).as_str()))
        .find(|name| !name.is_empty())
        .or_else(|| key.attribute("Id").map(String::from))
        .ok_or(Problem::Missing(
            "a name for the key (UserId, FriendlyName, SerialNo or Id)",
        ))?;
        let mut uri = KeyUri::new(generator(&secret, hash, digits, generator_kind)?, &account)?;
        if let Some(issuer) = element(key, "Issuer")
            .map(|issuer| text(issuer))
            .filter(|issuer| !issuer.is_empty())
        {
            uri = uri.with_issuer(&issuer)?;
        }
        let (policy, has_pin) = match element(key, "Policy") {
            Some(policy) => read_policy(policy)?,
            None => (KeyPolicy::default(), false),
        };
        self.check_policy(&policy)?;
        let mut imported = ImportedKey::new(uri)
            .with_pin(if has_pin { Pin::Required } else { Pin::None })
            .with_last_step(None, drift)
            .with_policy(policy);
        if let Some(serial) = serial {
            imported = imported.with_serial(serial);
        }
        Ok(Some(imported))
    }

    /// Whether `policy` lets the key be imported as a one-time-password
    /// key now: for one-time passwords if it names uses at all, and within
    /// its dates unless the reader accepts keys outside them by name.
    fn check_policy(&self, policy: &KeyPolicy) -> Result<(), Problem> {
        if !policy.usage.is_empty() && !policy.usage.contains(&KeyUsage::Otp) {
            return Err(Problem::Policy(
                "a KeyUsage without OTP: not a one-time-password key".into(),
            ));
        }
        if self.outside_validity || (policy.start.is_none() && policy.expiry.is_none()) {
            return Ok(());
        }
        let now = self.now.ok_or(Problem::Validity(
            "a validity period (StartDate or ExpiryDate) and no time to check it at (PskcReader::at)",
        ))?;
        if policy.start.is_some_and(|start| now < start) {
            return Err(Problem::Validity("a key not valid yet (its StartDate)"));
        }
        if policy.expiry.is_some_and(|expiry| now >= expiry) {
            return Err(Problem::Validity("an expired key (its ExpiryDate)"));
        }
        Ok(())
    }

    /// A data element's value as bytes: base64 in the clear, or opened.
    /// In a file that encrypts, a secret in the clear is refused (anyone
    /// who could alter the file would choose it) unless MAC checks were
    /// waived.
    fn bytes(&self, value: Node<'_, '_>) -> Result<Zeroizing<Vec<u8>>, Problem> {
        if let Some(plain) = plain_value(value)? {
            if self.encrypted && self.check_mac {
                return Err(Problem::InTheClear);
            }
            return base64::decode(text(plain).as_bytes());
        }
        self.decrypt(value)
    }

    /// A data element's value as a number: decimal in the clear (unless
    /// the file encrypts and the reader refuses plain integers), or opened
    /// as a big-endian integer.
    fn integer(&self, value: Node<'_, '_>) -> Result<i128, Problem> {
        if let Some(plain) = plain_value(value)? {
            if self.encrypted && !self.plain_integers {
                return Err(Problem::IntegerInTheClear);
            }
            return number(plain);
        }
        let bytes = self.decrypt(value)?;
        if bytes.len() > 8 {
            return Err(Problem::Syntax("an encrypted integer of at most 8 bytes"));
        }
        Ok(bytes
            .iter()
            .fold(0, |value, &byte| value << 8 | i128::from(byte)))
    }

    /// An `EncryptedValue`, its MAC checked first.
    fn decrypt(&self, value: Node<'_, '_>) -> Result<Zeroizing<Vec<u8>>, Problem> {
        let encrypted = element(value, "EncryptedValue")
            .ok_or(Problem::Missing("a PlainValue or EncryptedValue"))?;
        let key = self.key.ok_or(Problem::KeyRequired)?;
        let data = cipher_value(encrypted)?;
        if data.len() > MAX_ENCRYPTED_LEN {
            return Err(Problem::Syntax("an encrypted value of at most 128 bytes"));
        }
        let expected = element(value, "ValueMAC")
            .map(|mac| base64::decode(text(mac).as_bytes()))
            .transpose()?;
        let checked = match (self.mac, expected) {
            // The MAC key's own blocks in a value: a value spliced from the
            // (unauthenticated) MAC key, whose MAC anyone could compute.
            (Some(mac), Some(_))
                if data
                    .get(16..)
                    .unwrap_or_default()
                    .chunks(16)
                    .any(|block| mac.blocks.chunks(16).any(|known| known == block)) =>
            {
                Err(Problem::MacMismatch)
            }
            (Some(mac), Some(expected)) => {
                // Computed whether or not the MAC key's padding held.
                if mac.algorithm.verify(&mac.key, &data, &expected) & mac.intact {
                    Ok(())
                } else {
                    Err(Problem::MacMismatch)
                }
            }
            _ => Err(Problem::MacMissing),
        };
        if self.check_mac {
            checked?;
        }
        crypto::decrypt(encryption_method(encrypted)?, key, &data)
    }
}

/// A data element's `PlainValue`, if it has one; one that also has an
/// `EncryptedValue` or a `ValueMAC` is refused: which would count?
fn plain_value<'a, 'input>(value: Node<'a, 'input>) -> Result<Option<Node<'a, 'input>>, Problem> {
    let plain = element(value, "PlainValue");
    if plain.is_some()
        && (element(value, "EncryptedValue").is_some() || element(value, "ValueMAC").is_some())
    {
        return Err(Problem::Syntax(
            "a PlainValue or an EncryptedValue with its ValueMAC, not both",
        ));
    }
    Ok(plain)
}

/// The hash a `Suite` names: `HMAC-SHA1`, `HMAC-SHA256`, `HMAC-SHA512`
/// (or without `HMAC-`).
fn hash(suite: &str) -> Result<Algorithm, Problem> {
    let name = suite.trim();
    let bare = name
        .get(..5)
        .filter(|prefix| prefix.eq_ignore_ascii_case("HMAC-"))
        .map_or(name, |_| name.get(5..).unwrap_or_default());
    bare.replace('-', "").parse().map_err(|_| {
        Problem::Unsupported(format!(
            "suite {} (HMAC-SHA1, HMAC-SHA256, HMAC-SHA512)",
            Quoted(name)
        ))
    })
}

/// The digits of a `ResponseFormat`: decimal only, without a check digit.
fn digits(format: Node<'_, '_>) -> Result<u8, Problem> {
    let encoding = format.attribute("Encoding").unwrap_or("DECIMAL");
    if !encoding.eq_ignore_ascii_case("DECIMAL") {
        return Err(Problem::Unsupported(format!(
            "response encoding {} (DECIMAL only)",
            Quoted(encoding)
        )));
    }
    if matches!(format.attribute("CheckDigits"), Some("true" | "1")) {
        return Err(Problem::Unsupported(
            "a check digit (Luhn) after the code".into(),
        ));
    }
    let length = format
        .attribute("Length")
        .ok_or(Problem::Missing("the ResponseFormat's Length"))?;
    length
        .trim()
        .parse()
        .map_err(|_| Problem::Syntax("a Length of digits"))
}

fn unsigned(value: i128) -> Result<u64, Problem> {
    u64::try_from(value).map_err(|_| Problem::Syntax("a number from 0 to 2^64-1"))
}

/// An element's text as a number.
fn number<T: core::str::FromStr>(node: Node<'_, '_>) -> Result<T, Problem> {
    text(node)
        .trim()
        .parse()
        .map_err(|_| Problem::Syntax("an integer"))
}

/// The first child element named `name` (in any namespace: files put the
/// PKCS #5 parameters in none).
fn element<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children()
        .find(|child| child.is_element() && child.tag_name().name() == name)
}

fn elements<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.children()
        .filter(move |child| child.is_element() && child.tag_name().name() == name)
}

/// An element's text, trimmed, into a string that is wiped: it may be a
/// secret's base64.
/// The elements RFC 6030 has where keys and their settings sit, by
/// parent. Any other element there is refused by name: a reader that
/// skipped it could drop a key, or a restriction on one, silently.
const CONTAINER: &[&str] = &[
    "EncryptionKey",
    "MACMethod",
    "KeyPackage",
    "Signature",
    "Extensions",
];
const PACKAGE: &[&str] = &["DeviceInfo", "CryptoModuleInfo", "Key", "Extensions"];
const KEY: &[&str] = &[
    "Issuer",
    "AlgorithmParameters",
    "KeyProfileId",
    "KeyReference",
    "FriendlyName",
    "Data",
    "UserId",
    "Policy",
    "Extensions",
];
const DATA: &[&str] = &["Secret", "Counter", "Time", "TimeInterval", "TimeDrift"];
/// XML Signature's namespace, of a container's `Signature`.
const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Every element under the container, its key packages, their keys and
/// the keys' data is one the reader understands, in PSKC's namespace (a
/// signature in XML Signature's), and each package holds at most one key.
fn check_layout(root: Node<'_, '_>) -> Result<(), Problem> {
    known(root, CONTAINER, "the KeyContainer")?;
    for package in elements(root, "KeyPackage") {
        known(package, PACKAGE, "a KeyPackage")?;
        if elements(package, "Key").count() > 1 {
            return Err(Problem::Unexpected("a second Key in one KeyPackage".into()));
        }
        for key in elements(package, "Key") {
            known(key, KEY, "a Key")?;
            if let Some(data) = element(key, "Data") {
                known(data, DATA, "a Key's Data")?;
            }
        }
    }
    Ok(())
}

/// Whether every element child of `parent` is one of `names` in PSKC's
/// namespace (or XML Signature's `Signature`).
fn known(parent: Node<'_, '_>, names: &[&str], what: &str) -> Result<(), Problem> {
    for child in parent.children().filter(Node::is_element) {
        let tag = child.tag_name();
        let namespace = match tag.name() {
            "Signature" => DSIG,
            _ => NS,
        };
        if !names.contains(&tag.name()) || tag.namespace() != Some(namespace) {
            return Err(Problem::Unexpected(format!(
                "{} under {what}",
                Quoted(tag.name())
            )));
        }
    }
    Ok(())
}

/// A key's `Policy` (RFC 6030 §5), and whether it asks for a PIN. An
/// element the reader does not understand is refused by name: §5 says a
/// key whose policy a recipient does not understand may not be used.
fn read_policy(policy: Node<'_, '_>) -> Result<(KeyPolicy, bool), Problem> {
    let mut read = KeyPolicy::default();
    let mut pin = false;
    for child in policy.children().filter(Node::is_element) {
        let tag = child.tag_name();
        let name = tag.name();
        if tag.namespace() != Some(NS) {
            return Err(Problem::Policy(format!("{}", Quoted(name))));
        }
        match name {
            "StartDate" => read.start = Some(date_time(&text(child))?),
            "ExpiryDate" => read.expiry = Some(date_time(&text(child))?),
            "PINPolicy" => pin = true,
            "NumberOfTransactions" => {
                let count = text(child)
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| Problem::Syntax("a NumberOfTransactions from 0 to 2^64-1"))?;
                read.transactions = Some(count);
            }
            "KeyUsage" => {
                let usage = text(child);
                let usage = KeyUsage::from_name(usage.trim()).ok_or_else(|| {
                    Problem::Policy(format!("a KeyUsage of {}", Quoted(usage.trim())))
                })?;
                if !read.usage.contains(&usage) {
                    read.usage.push(usage);
                }
            }
            other => return Err(Problem::Policy(format!("{}", Quoted(other)))),
        }
    }
    Ok((read, pin))
}

/// An `xs:dateTime` as Unix time: `YYYY-MM-DDThh:mm:ss`, a fraction of a
/// second (dropped), and `Z` or an offset `±hh:mm` (without one, the time
/// is read as UTC).
fn date_time(text: &str) -> Result<u64, Problem> {
    let invalid = || Problem::Syntax("a date and time as 2026-12-01T00:00:00Z");
    let text = text.trim();
    let bytes = text.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:dd";
    let head = bytes.get(..shape.len()).ok_or_else(invalid)?;
    let fits = head.iter().zip(shape).all(|(&b, &s)| match s {
        b'd' => b.is_ascii_digit(),
        _ => b == s,
    });
    if !fits {
        return Err(invalid());
    }
    let number = |range: core::ops::Range<usize>| {
        text.get(range)
            .and_then(|digits| digits.parse::<i64>().ok())
            .ok_or_else(invalid)
    };
    let date = (number(0..4)?, number(5..7)?, number(8..10)?);
    let time = (number(11..13)?, number(14..16)?, number(17..19)?);
    let mut rest = text.get(shape.len()..).unwrap_or_default();
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        rest = fraction.get(digits..).unwrap_or_default();
    }
    let offset = match rest {
        "" | "Z" => 0,
        zone => {
            let sign = match zone.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return Err(invalid()),
            };
            let zone = zone.get(1..).unwrap_or_default();
            let two = |range: core::ops::Range<usize>| {
                zone.get(range)
                    .filter(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|digits| digits.parse::<i64>().ok())
                    .ok_or_else(invalid)
            };
            if zone.len() != 5 || zone.as_bytes().get(2) != Some(&b':') {
                return Err(invalid());
            }
            let (hours, minutes) = (two(0..2)?, two(3..5)?);
            if hours > 14 || minutes > 59 {
                return Err(invalid());
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };
    civil::unix_time(date, time, offset).ok_or_else(invalid)
}

fn text(node: Node<'_, '_>) -> Zeroizing<String> {
    let len = node
        .children()
        .filter(Node::is_text)
        .filter_map(|child| child.text())
        .map(str::len)
        .sum();
    let mut text = Zeroizing::new(String::with_capacity(len));
    for part in node
        .children()
        .filter(Node::is_text)
        .filter_map(|child| child.text())
    {
        text.push_str(part);
    }
    let trimmed = text.trim();
    if trimmed.len() == text.len() {
        return text;
    }
    let mut exact = Zeroizing::new(String::with_capacity(trimmed.len()));
    exact.push_str(trimmed);
    exact
}
