//! QR codes of `otpauth://` URIs, for a web page (SVG) or a terminal.
//!
//! Encoding is done by `qrcodegen`, Project Nayuki's port of its reference
//! QR Code generator: no dependencies, no unsafe code, and the whole
//! standard (every version, mask and error-correction level).

use alloc::{string::String, vec::Vec};
use core::fmt::{self, Write};

use qrcodegen::{QrCode, QrCodeEcc};
use zeroize::Zeroizing;

use super::{exact::write_exact, uri::KeyUri};
use crate::error::Error;

/// The light border around the code that scanners need: 4 modules
/// (ISO/IEC 18004).
const QUIET_ZONE: usize = 4;

/// A QR code of an [`KeyUri`], at error-correction level M (15 % of the
/// code may be damaged and it still reads).
///
/// The modules encode the secret: this type keeps them in memory that is
/// wiped on drop, and its `Debug` shows only the size. (The encoder's own
/// working buffers are freed without being wiped.)
///
/// ```
/// use twofa::{KeyUri, Secret, Totp};
///
/// // A demo secret, never a real one.
/// let totp = Totp::new(Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?);
/// let qr = KeyUri::new(totp.into(), "alice@example.com")?.with_issuer("ACME")?.to_qr()?;
/// assert!(qr.to_svg().starts_with("<svg"));
/// print!("{}", qr.to_terminal().as_str());
/// # Ok::<(), twofa::Error>(())
/// ```
#[derive(Clone)]
pub struct Qr {
    size: usize,
    /// Row by row, 1 for a dark module.
    modules: Zeroizing<Vec<u8>>,
}

impl KeyUri {
    /// The URI as a QR code, to show to the person enrolling.
    ///
    /// # Errors
    /// [`Error::UriTooLongForQr`] when the URI does not fit in the largest
    /// QR code (about 2300 bytes at level M).
    pub fn to_qr(&self) -> Result<Qr, Error> {
        let uri = self.to_uri();
        let code =
            QrCode::encode_text(&uri, QrCodeEcc::Medium).map_err(|_| Error::UriTooLongForQr)?;
        let size = usize::try_from(code.size()).map_err(|_| Error::UriTooLongForQr)?;
        let mut modules = Zeroizing::new(Vec::with_capacity(size * size));
        for y in 0..code.size() {
            for x in 0..code.size() {
                modules.push(u8::from(code.get_module(x, y)));
            }
        }
        Ok(Qr { size, modules })
    }
}

impl Qr {
    /// The number of modules on a side, without the quiet zone.
    #[must_use]
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether the module at column `x`, row `y` is dark; outside the code
    /// (the quiet zone) every module is light.
    #[must_use]
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.size
            && y < self.size
            && self.modules.get(y * self.size + x).is_some_and(|&m| m == 1)
    }

    /// Whether the module at `(x, y)` of the code drawn with its quiet zone
    /// is dark.
    fn is_dark_with_border(&self, x: usize, y: usize) -> bool {
        match (x.checked_sub(QUIET_ZONE), y.checked_sub(QUIET_ZONE)) {
            (Some(x), Some(y)) => self.is_dark(x, y),
            _ => false,
        }
    }

    /// The code as an SVG image, one unit per module, quiet zone included,
    /// to scale to any size (`width`/`height` attributes or CSS).
    #[must_use]
    pub fn to_svg(&self) -> Zeroizing<String> {
        write_exact(|out| self.write_svg(out))
    }

    fn write_svg(&self, out: &mut dyn Write) -> fmt::Result {
        let side = self.size + 2 * QUIET_ZONE;
        write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
             shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" \
             fill=\"#fff\"/><path fill=\"#000\" d=\""
        )?;
        for y in 0..self.size {
            for x in 0..self.size {
                if self.is_dark(x, y) {
                    write!(out, "M{},{}h1v1h-1z", x + QUIET_ZONE, y + QUIET_ZONE)?;
                }
            }
        }
        out.write_str("\"/></svg>\n")
    }

    /// The code drawn with Unicode half blocks, two rows of modules per
    /// line, quiet zone included. Light modules are drawn and dark ones
    /// left blank, for the light-on-dark colours of most terminals.
    #[must_use]
    pub fn to_terminal(&self) -> Zeroizing<String> {
        write_exact(|out| self.write_terminal(out))
    }

    fn write_terminal(&self, out: &mut dyn Write) -> fmt::Result {
        let side = self.size + 2 * QUIET_ZONE;
        for y in (0..side).step_by(2) {
            for x in 0..side {
                let top = !self.is_dark_with_border(x, y);
                let bottom = y + 1 < side && !self.is_dark_with_border(x, y + 1);
                out.write_char(match (top, bottom) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                })?;
            }
            out.write_char('\n')?;
        }
        Ok(())
    }
}

impl fmt::Debug for Qr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Qr")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}
