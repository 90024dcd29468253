//! Writing PSKC: every secret encrypted under a pre-shared key with
//! AES-CBC, and MACed with HMAC-SHA1 under a fresh MAC key (RFC 6030 §6.1),
//! so that the readers of every PSKC implementation take it.

use alloc::{string::String, vec::Vec};
use core::fmt::Write;

use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use super::{
    super::{
        base64,
        error::{ImportError, Origin, Problem},
        imported::{ImportedKey, Pin, decimal_digits},
    },
    NS,
    crypto::{self, HMAC_SHA1, MacAlgorithm},
};
use crate::{error::Error, otp::Algorithm, provision::uri::Otp};

const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Writes keys as a PSKC file (RFC 6030): each secret encrypted with
/// AES-CBC under `pre_shared_key` (16, 24 or 32 bytes: AES-128, -192,
/// -256) with a fresh IV, and its MAC (HMAC-SHA1 under a fresh key, itself
/// encrypted). HOTP keys carry their next counter; TOTP keys their period,
/// `T0` (as `Time`) when not 0, and drift. The account name is written as
/// `UserId`, the serial number as `SerialNo`, a required PIN as an empty
/// `PINPolicy`. No secret is in the clear: the text can be kept and sent
/// like any encrypted file, the pre-shared key by another way.
///
/// # Errors
/// An [`ImportError`] for a pre-shared key of another length or a failing
/// generator (the file), or naming the first key (from 1) the format
/// cannot hold: Steam Guard codes, a PIN kept outside the token, a name
/// with control characters (those XML 1.0 cannot carry, and the C1
/// controls, which it discourages).
pub fn write_pskc<R: TryCryptoRng + ?Sized>(
    keys: &[ImportedKey],
    pre_shared_key: &[u8],
    rng: &mut R,
) -> Result<String, ImportError> {
    let file = |problem| ImportError::file(problem);
    let method = crypto::method_for_key_len(pre_shared_key.len()).ok_or_else(|| {
        file(Problem::Unsupported(
            "a pre-shared key of 16, 24 or 32 bytes".into(),
        ))
    })?;
    let mut mac_key = Zeroizing::new([0u8; 20]);
    rng.try_fill_bytes(&mut *mac_key)
        .map_err(|_| file(Problem::Key(Error::RngFailure)))?;
    let mut encrypt = |plain: &[u8]| -> Result<Zeroizing<Vec<u8>>, Problem> {
        let mut iv = [0u8; 16];
        rng.try_fill_bytes(&mut iv)
            .map_err(|_| Problem::Key(Error::RngFailure))?;
        crypto::encrypt(pre_shared_key, &iv, plain)
    };
    let sealed_mac_key = encrypt(&*mac_key).map_err(file)?;

    let mut out = String::new();
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <KeyContainer Version=\"1.0\" xmlns=\"{NS}\" xmlns:ds=\"{DS}\" xmlns:xenc=\"{XENC}\">\n\
         \x20 <EncryptionKey>\n\
         \x20   <ds:KeyName>Pre-shared-key</ds:KeyName>\n\
         \x20 </EncryptionKey>\n\
         \x20 <MACMethod Algorithm=\"{HMAC_SHA1}\">\n\
         \x20   <MACKey>\n"
    );
    encrypted(&mut out, "      ", method, &sealed_mac_key);
    out.push_str("    </MACKey>\n  </MACMethod>\n");
    for (index, key) in keys.iter().enumerate() {
        let entry = |problem| ImportError::new(Origin::Entry(index + 1), problem);
        let sealed = encrypt(key.key_uri().otp().secret().expose_bytes()).map_err(entry)?;
        let mac = MacAlgorithm::Sha1.mac(&*mac_key, &sealed);
        package(&mut out, index + 1, key, method, &sealed, &mac).map_err(entry)?;
    }
    out.push_str("</KeyContainer>\n");
    Ok(out)
}

/// One `KeyPackage`.
fn package(
    out: &mut String,
    id: usize,
    key: &ImportedKey,
    method: &str,
    sealed: &[u8],
    mac: &[u8],
) -> Result<(), Problem> {
    let uri = key.key_uri();
    let otp = uri.otp();
    let digits = decimal_digits(otp.format())?;
    let has_pin = match key.pin() {
        Pin::None => false,
        Pin::Required => true,
        Pin::Delegated | Pin::Stored(_) => {
            return Err(Problem::NotRepresentable(
                "a PIN kept outside the token (users.oath only)",
            ));
        }
    };
    out.push_str("  <KeyPackage>\n");
    if let Some(serial) = key.serial() {
        out.push_str("    <DeviceInfo>\n      <SerialNo>");
        escape(out, serial)?;
        out.push_str("</SerialNo>\n    </DeviceInfo>\n");
    }
    let kind = match otp {
        Otp::Totp(_) => "totp",
        Otp::Hotp { .. } => "hotp",
    };
    let _ = writeln!(out, "    <Key Id=\"{id}\" Algorithm=\"{NS}:{kind}\">");
    if let Some(issuer) = uri.issuer() {
        out.push_str("      <Issuer>");
        escape(out, issuer)?;
        out.push_str("</Issuer>\n");
    }
    out.push_str("      <AlgorithmParameters>\n");
    if otp.algorithm() != Algorithm::Sha1 {
        let _ = writeln!(
            out,
            "        <Suite>HMAC-{}</Suite>",
            otp.algorithm().name()
        );
    }
    let _ = write!(
        out,
        "        <ResponseFormat Length=\"{digits}\" Encoding=\"DECIMAL\"/>\n\
         \x20     </AlgorithmParameters>\n\
         \x20     <Data>\n\
         \x20       <Secret>\n\
         \x20         <EncryptedValue>\n"
    );
    encrypted(out, "            ", method, sealed);
    let _ = write!(
        out,
        "          </EncryptedValue>\n\
         \x20         <ValueMAC>{}</ValueMAC>\n\
         \x20       </Secret>\n",
        base64::encode(mac).as_str()
    );
    let plain = |out: &mut String, name: &str, value: &dyn core::fmt::Display| {
        let _ = writeln!(
            out,
            "        <{name}><PlainValue>{value}</PlainValue></{name}>"
        );
    };
    match otp {
        Otp::Hotp { counter, .. } => plain(out, "Counter", counter),
        Otp::Totp(totp) => {
            if totp.t0() != 0 {
                plain(out, "Time", &totp.t0());
            }
            plain(out, "TimeInterval", &totp.period());
            if key.drift() != 0 {
                plain(out, "TimeDrift", &key.drift());
            }
        }
    }
    out.push_str("      </Data>\n      <UserId>");
    escape(out, uri.account())?;
    out.push_str("</UserId>\n");
    if has_pin {
        out.push_str("      <Policy>\n        <PINPolicy/>\n      </Policy>\n");
    }
    out.push_str("    </Key>\n  </KeyPackage>\n");
    Ok(())
}

/// `xenc:EncryptionMethod` and `xenc:CipherData` for `iv || ciphertext`.
fn encrypted(out: &mut String, indent: &str, method: &str, data: &[u8]) {
    let _ = write!(
        out,
        "{indent}<xenc:EncryptionMethod Algorithm=\"{method}\"/>\n\
         {indent}<xenc:CipherData>\n\
         {indent}  <xenc:CipherValue>{}</xenc:CipherValue>\n\
         {indent}</xenc:CipherData>\n",
        base64::encode(data).as_str()
    );
}

/// Text as XML character data, or why it cannot be.
fn escape(out: &mut String, text: &str) -> Result<(), Problem> {
    // Readers trim the white space around a value.
    if text.trim() != text {
        return Err(Problem::NotRepresentable(
            "a name that starts or ends with white space",
        ));
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {
                return Err(Problem::NotRepresentable("a control character in a name"));
            }
            c => out.push(c),
        }
    }
    Ok(())
}
