//! authenticatorData (WebAuthn Level 3 §6.1), parsed whole: no byte is
//! left unread, and the extensions' CBOR is walked (bounded) even though
//! its content is not used.
//!
//! ```text
//! rpIdHash (32) | flags (1) | signCount (4, big-endian)
//!   [ aaguid (16) | credentialIdLength (2) | credentialId | COSE_Key ]  if AT
//!   [ extensions (a CBOR map) ]                                          if ED
//! ```

use super::{cbor::Reader, error::WebauthnError};

/// The longest authenticatorData read. An attested credential with the
/// longest id (1,023 bytes) and a 4096-bit RSA key takes about 1.6 KB.
pub const MAX_AUTHENTICATOR_DATA_LEN: usize = 2048;

/// The longest credential id accepted (§5.1: at most 1,023 bytes).
pub const MAX_CREDENTIAL_ID_LEN: usize = 1023;

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;
const ED: u8 = 0x80;

/// The flags byte of authenticatorData.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Flags(u8);

impl Flags {
    pub(super) fn user_present(self) -> bool {
        self.0 & UP != 0
    }
    pub(super) fn user_verified(self) -> bool {
        self.0 & UV != 0
    }
    pub(super) fn backup_eligible(self) -> bool {
        self.0 & BE != 0
    }
    pub(super) fn backed_up(self) -> bool {
        self.0 & BS != 0
    }
}

/// The credential an authenticator attests to at registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct AttestedCredential<'a> {
    pub(super) aaguid: [u8; 16],
    pub(super) credential_id: &'a [u8],
    /// The COSE_Key, as encoded.
    pub(super) public_key: &'a [u8],
}

/// authenticatorData, borrowed from the bytes it was parsed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct AuthenticatorData<'a> {
    pub(super) rp_id_hash: &'a [u8],
    pub(super) flags: Flags,
    pub(super) sign_count: u32,
    pub(super) attested: Option<AttestedCredential<'a>>,
    /// The extensions map, as encoded.
    pub(super) extensions: Option<&'a [u8]>,
}

impl<'a> AuthenticatorData<'a> {
    pub(super) fn parse(bytes: &'a [u8]) -> Result<Self, WebauthnError> {
        if bytes.len() > MAX_AUTHENTICATOR_DATA_LEN {
            return Err(WebauthnError::TooLong);
        }
        let (rp_id_hash, rest) = split(bytes, 32)?;
        let (&flags, rest) = rest
            .split_first()
            .ok_or(WebauthnError::MalformedAuthenticatorData)?;
        let (count, mut rest) = split(rest, 4)?;
        let sign_count = u32::from_be_bytes(
            count
                .try_into()
                .map_err(|_| WebauthnError::MalformedAuthenticatorData)?,
        );
        let attested = if flags & AT != 0 {
            let (aaguid, after) = split(rest, 16)?;
            let (len, after) = split(after, 2)?;
            let len = usize::from(u16::from_be_bytes(
                len.try_into()
                    .map_err(|_| WebauthnError::MalformedAuthenticatorData)?,
            ));
            if len == 0 || len > MAX_CREDENTIAL_ID_LEN {
                return Err(WebauthnError::CredentialIdLength);
            }
            let (credential_id, after) = split(after, len)?;
            let mut reader = Reader::new(after);
            let public_key = reader.skip()?;
            rest = reader.rest();
            Some(AttestedCredential {
                aaguid: aaguid
                    .try_into()
                    .map_err(|_| WebauthnError::MalformedAuthenticatorData)?,
                credential_id,
                public_key,
            })
        } else {
            None
        };
        let extensions = if flags & ED != 0 {
            let mut reader = Reader::new(rest);
            // It must be a map; then the whole map is walked.
            reader.clone().map()?;
            let map = reader.skip()?;
            rest = reader.rest();
            Some(map)
        } else {
            None
        };
        if !rest.is_empty() {
            return Err(WebauthnError::MalformedAuthenticatorData);
        }
        Ok(Self {
            rp_id_hash,
            flags: Flags(flags),
            sign_count,
            attested,
            extensions,
        })
    }
}

fn split(bytes: &[u8], at: usize) -> Result<(&[u8], &[u8]), WebauthnError> {
    if bytes.len() < at {
        return Err(WebauthnError::MalformedAuthenticatorData);
    }
    Ok(bytes.split_at(at))
}
