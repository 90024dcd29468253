//! Branch-free byte classification, for reading secrets as people type
//! them (base32 secrets, Steam codes, recovery codes) without a branch or
//! a table lookup that depends on a secret character.

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

/// `0xFF` when `lo <= x <= hi`, else `0`, without a branch.
pub(crate) fn in_range(x: u8, lo: u8, hi: u8) -> u8 {
    let x = i32::from(x);
    let below = i32::from(lo) - 1 - x; // negative when x >= lo
    let above = x - i32::from(hi) - 1; // negative when x <= hi
    // Both negative only inside the range: the sign bit spreads to all bits.
    ((below & above) >> 8) as u8
}

/// `c` with `A`–`Z` turned to lower case, and every other byte unchanged.
#[cfg(feature = "alloc")]
pub(crate) fn to_lower(c: u8) -> u8 {
    c | (in_range(c, b'A', b'Z') & 0x20)
}

/// `c` with `a`–`z` turned to upper case, and every other byte unchanged.
pub(crate) fn to_upper(c: u8) -> u8 {
    c & !(in_range(c, b'a', b'z') & 0x20)
}

/// The position of `c` in `alphabet` (at most 256 symbols), and whether it
/// is there at all, found by comparing `c` with every symbol.
pub(crate) fn lookup(alphabet: &[u8], c: u8) -> (u8, Choice) {
    let mut value = 0u8;
    let mut found = Choice::from(0);
    for (position, symbol) in (0u8..=u8::MAX).zip(alphabet) {
        let hit = symbol.ct_eq(&c);
        value.conditional_assign(&position, hit);
        found |= hit;
    }
    (value, found)
}
