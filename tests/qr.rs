//! QR codes decode back to the exact URI, and both renderings draw exactly
//! the code's modules.
#![cfg(feature = "qr")]
#![allow(clippy::unwrap_used)]

use twofa::{Algorithm, Error, KeyUri, Qr, Secret, Totp};

fn uris() -> Vec<KeyUri> {
    let demo = || Secret::from_bytes(b"12345678901234567890").unwrap();
    let plain = KeyUri::new(Totp::new(demo()).into(), "alice@example.com")
        .unwrap()
        .with_issuer("ACME Co")
        .unwrap();
    let exotic = Totp::builder(Secret::from_bytes(&[0xA5; Secret::MAX_LEN]).unwrap())
        .algorithm(Algorithm::Sha512)
        .digits(8)
        .period(60)
        .build()
        .unwrap();
    let exotic = KeyUri::new(exotic.into(), "太郎")
        .unwrap()
        .with_issuer("Société Générale")
        .unwrap()
        .with_image("https://example.com/a/rather/long/path/to/the/logo.png")
        .unwrap();
    let steam = KeyUri::new(
        Totp::builder(demo()).steam().build().unwrap().into(),
        "gamer",
    )
    .unwrap();
    vec![plain, exotic, steam]
}

/// The code as a greyscale picture, `scale` pixels a module, and what a
/// QR decoder reads from it.
fn decode(qr: &Qr, scale: usize) -> String {
    let side = (qr.size() + 8) * scale;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
        let (x, y) = (x / scale, y / scale);
        let dark = x >= 4 && y >= 4 && qr.is_dark(x - 4, y - 4);
        if dark { 0 } else { 255 }
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

#[test]
fn the_matrix_decodes_to_the_exact_uri() {
    for uri in uris() {
        let qr = uri.to_qr().unwrap();
        assert_eq!(decode(&qr, 4), uri.to_uri().as_str());
    }
}

#[test]
fn the_svg_draws_exactly_the_dark_modules() {
    for uri in uris() {
        let qr = uri.to_qr().unwrap();
        let svg = qr.to_svg();
        let side = qr.size() + 8;
        assert!(svg.starts_with(&format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\""
        )));
        let path = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut drawn: Vec<(usize, usize)> = path
            .split('M')
            .filter(|s| !s.is_empty())
            .map(|square| {
                let corner = square.strip_suffix("h1v1h-1z").unwrap();
                let (x, y) = corner.split_once(',').unwrap();
                (
                    x.parse::<usize>().unwrap() - 4,
                    y.parse::<usize>().unwrap() - 4,
                )
            })
            .collect();
        drawn.sort_unstable();
        let mut dark = Vec::new();
        for x in 0..qr.size() {
            for y in 0..qr.size() {
                if qr.is_dark(x, y) {
                    dark.push((x, y));
                }
            }
        }
        assert_eq!(drawn, dark);
    }
}

#[test]
fn the_terminal_rendering_draws_exactly_the_light_modules() {
    for uri in uris() {
        let qr = uri.to_qr().unwrap();
        let text = qr.to_terminal();
        let side = qr.size() + 8;
        let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
        assert_eq!(lines.len(), side.div_ceil(2));
        assert!(lines.iter().all(|line| line.len() == side));
        for y in 0..side {
            for (x, &cell) in lines[y / 2].iter().enumerate() {
                let light = if y % 2 == 0 {
                    matches!(cell, '█' | '▀')
                } else {
                    matches!(cell, '█' | '▄')
                };
                let dark = x >= 4 && y >= 4 && qr.is_dark(x - 4, y - 4);
                assert_eq!(light, !dark, "module ({x}, {y})");
            }
        }
    }
}

#[test]
fn too_long_a_uri_is_an_error_and_debug_hides_the_modules() {
    let uri = KeyUri::new(Totp::new(Secret::from_bytes(&[7; 16]).unwrap()).into(), "a")
        .unwrap()
        .with_parameter("padding", &"x".repeat(3000))
        .unwrap();
    assert_eq!(uri.to_qr().unwrap_err(), Error::UriTooLongForQr);
    let qr = uris()[0].to_qr().unwrap();
    assert_eq!(
        format!("{qr:?}"),
        format!("Qr {{ size: {}, .. }}", qr.size())
    );
}

#[test]
fn renderings_are_allocated_once_at_their_exact_size() {
    let uri = KeyUri::new(
        Totp::new(Secret::from_bytes(&[7; 64]).unwrap()).into(),
        &"a".repeat(200),
    )
    .unwrap();
    let qr = uri.to_qr().unwrap();
    for text in [qr.to_svg(), qr.to_terminal()] {
        assert_eq!(text.capacity(), text.len());
    }
}
