//! The twofa guide, compiled: each page of this folder is the
//! documentation of one item below, so `cargo test -p twofa-guide` runs
//! every Rust block in it as a doctest. The pages themselves are read as
//! Markdown, beside the README; `tests/links.rs` checks their links.
#![cfg(doctest)]

/// Generates one documented item per page.
macro_rules! pages {
    ($($item:ident => $file:literal),* $(,)?) => {
        $(
            #[doc = include_str!($file)]
            pub struct $item;
        )*
    };
}

pages! {
    Index => "README.md",
    SettingUp => "setting-up.md",
    Migrating => "migrating.md",
    Protecting => "protecting.md",
    TwoStep => "two-step.md",
    Passkeys => "passkeys.md",
    Instances => "instances.md",
    Operating => "operating.md",
    Service => "service.md",
    Secrets => "secrets.md",
    Security => "security.md",
    Performance => "performance.md",
    ConstantTime => "constant-time.md",
    Fuzzing => "fuzzing.md",
    Layout => "layout.md",
}
