//! otpauth:// URIs: any text reads as a URI or fails with an error, never a
//! panic; what was read, written and read again is the same value; and no
//! error's message carries the secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofa::KeyUri;

fuzz_target!(|text: &str| {
    for parse in [KeyUri::parse, KeyUri::parse_accepting_80_bit] {
        match parse(text) {
            Ok(uri) => {
                let written = uri.to_uri();
                assert_eq!(parse(&written).as_ref(), Ok(&uri), "{}", written.as_str());
                // The description is the URI's path: the secret left out.
                let path = written.split('?').next().unwrap_or_default();
                assert_eq!(uri.to_string(), format!("{path} (secret hidden)"));
                let _ = uri.portability();
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
