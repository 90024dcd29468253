//! The demo page at `/`: plain HTML and JavaScript, no build step, kept
//! in `service/web/` and built into the binary. It uses the same JSON API
//! as any client; its Content-Security-Policy lets it load nothing but
//! itself, and no other site may frame it.

use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_FRAME_OPTIONS};

const PAGE: &str = include_str!("../../web/index.html");
const SCRIPT: &str = include_str!("../../web/app.js");

/// What every answer of the page's sends along.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; frame-ancestors 'none'";

/// A page's answer: its type and policy headers, and its text.
type Served = ([(axum::http::HeaderName, &'static str); 3], &'static str);

/// `GET /`.
pub async fn page() -> Served {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONTENT_SECURITY_POLICY, POLICY),
            (X_FRAME_OPTIONS, "DENY"),
        ],
        PAGE,
    )
}

/// `GET /app.js`.
pub async fn script() -> Served {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CONTENT_SECURITY_POLICY, POLICY),
            (X_FRAME_OPTIONS, "DENY"),
        ],
        SCRIPT,
    )
}
