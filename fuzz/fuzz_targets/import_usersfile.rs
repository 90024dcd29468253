//! users.oath: any text reads as keys or fails with an error naming its
//! line, never a panic; what was read writes out and reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofa::migrate::{read_users_oath, write_users_oath};

fuzz_target!(|input: (i16, &str)| {
    let (offset, text) = input;
    // Time zones of up to ±9 hours, in seconds.
    let utc_offset = i32::from(offset);
    match read_users_oath(text, utc_offset) {
        Ok(keys) => {
            if let Ok(file) = write_users_oath(&keys, utc_offset) {
                let back = read_users_oath(&file, utc_offset).unwrap();
                assert_eq!(back.len(), keys.len());
                for (read, written) in back.iter().zip(&keys) {
                    assert_eq!(read.key_uri(), written.key_uri());
                    assert_eq!(read.pin(), written.pin());
                    assert_eq!(read.hotp_account(), written.hotp_account());
                    // The drift is not written: no liboath version reads one.
                    assert_eq!(read.last_step(), written.last_step());
                }
            }
        }
        Err(error) => {
            assert!(error.to_string().starts_with("line "), "{error}");
        }
    }
});
