//! Google Authenticator exports: any URI, and any protobuf payload wrapped
//! in one, reads as keys or fails with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofa::migrate::read_migration;

fuzz_target!(|input: (bool, &[u8])| {
    let (raw, bytes) = input;
    let uri = if raw {
        // The URI as given, the payload's own bytes: the protobuf reader.
        let data: String = base64_encode(bytes)
            .bytes()
            .map(|byte| match byte {
                b'+' => "%2B".to_owned(),
                b'/' => "%2F".to_owned(),
                b'=' => "%3D".to_owned(),
                other => char::from(other).to_string(),
            })
            .collect();
        format!("otpauth-migration://offline?data={data}")
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    };
    match read_migration([uri.as_str()]) {
        Ok(keys) => {
            for key in keys {
                let _ = key.key_uri().to_uri();
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});

/// Standard base64 with padding.
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
