//! PSKC files: any text reads as keys or fails with an error naming the
//! record, never a panic, whatever its XML, encryption or MACs; keys read
//! write out and read back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofa::migrate::{PskcReader, write_pskc};

/// RFC 6030 figure 6's pre-shared key, so that the seeds' encrypted values
/// open and mutations reach the MAC and padding checks.
const KEY: [u8; 16] = [
    0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12,
];

/// A counter generator: the IVs need not be random here.
struct Counting(u8);

impl rand_core::TryRng for Counting {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from(self.next()))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from(self.next()))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.iter_mut().for_each(|byte| *byte = self.next());
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Counting {}

impl Counting {
    fn next(&mut self) -> u8 {
        self.0 = self.0.wrapping_add(1);
        self.0
    }
}

fuzz_target!(|text: &str| {
    for reader in [
        PskcReader::new(),
        PskcReader::new().pre_shared_key(&KEY),
        PskcReader::new()
            .pre_shared_key(&KEY)
            .skip_mac_check_known_broken(),
    ] {
        match reader.read(text) {
            Ok(keys) => {
                // Keys whose names XML can carry write out and read back.
                if let Ok(file) = write_pskc(&keys, &KEY, &mut Counting(0)) {
                    let back = PskcReader::new().pre_shared_key(&KEY).read(&file).unwrap();
                    assert_eq!(back.len(), keys.len());
                    for (read, written) in back.iter().zip(&keys) {
                        assert_eq!(read.key_uri(), written.key_uri());
                    }
                }
            }
            Err(error) => {
                let _ = error.to_string();
            }
        }
    }
});
