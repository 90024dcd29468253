//! Request bodies in, answers out: a JSON extractor whose every rejection
//! (not JSON, a wrong type, an unknown enum value, a body too large) is the
//! seeds' 400 error body, never axum's plain text; the answer shapes; and
//! the bounds on each field.

use std::{convert::Infallible, future::poll_fn, pin::pin};

use axum::{
    Json,
    body::HttpBody as _,
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::{StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{app::Failure, records::User};

/// The largest body any endpoint reads, in bytes.
pub const MAX_BODY: usize = 16 * 1024;

/// How much of a body larger than [`MAX_BODY`] is read and thrown away
/// before the answer (see [`Parsed`]); past this many bytes the client may
/// lose the answer to the connection's reset.
pub const MAX_DRAIN: usize = 4 * 1024 * 1024;

/// The longest second-factor value (a DER signature in hex is at most 144).
pub const MAX_SECOND_AUTH: usize = 256;

/// An answer: a status and a JSON body.
#[derive(Debug)]
pub struct Answer(pub StatusCode, pub Value);

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

/// Seed 004's success: 200, `status`, `code`, `message`, `data`.
pub fn success(message: &str, data: Value) -> Answer {
    Answer(
        StatusCode::OK,
        json!({"status": "success", "code": "s-101", "message": message, "data": data}),
    )
}

/// Seed 004's error: 400, `status`, `code`, `message`.
pub fn error(code: &str, message: &str) -> Answer {
    Answer(
        StatusCode::BAD_REQUEST,
        json!({"status": "error", "code": code, "message": message}),
    )
}

impl From<Failure> for Answer {
    /// The store or a key failed: 503 in the seed's error shape, the
    /// details to the log (they hold no secret).
    fn from(failure: Failure) -> Self {
        log_failure(&failure);
        Self(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "error", "code": "e-503", "message": "Service unavailable: try again shortly"}),
        )
    }
}

/// The body of a request, read whole by the [`limits`](super::limits)
/// middleware: `None` if it was larger than [`MAX_BODY`] or broke off.
#[derive(Debug, Clone)]
pub struct WholeBody(pub Option<Vec<u8>>);

/// Logs `failure`, at most one line a second: a flood of them (a full
/// hashing queue, a store that is down) says how many it left out rather
/// than fill the log.
fn log_failure(failure: &Failure) {
    static LAST: std::sync::Mutex<(Option<std::time::Instant>, u64)> =
        std::sync::Mutex::new((None, 0));
    let mut last = LAST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let now = std::time::Instant::now();
    if last
        .0
        .is_some_and(|at| now.duration_since(at) < std::time::Duration::from_secs(1))
    {
        last.1 += 1;
        return;
    }
    let left_out = std::mem::take(&mut last.1);
    last.0 = Some(now);
    if left_out > 0 {
        tracing::error!(%failure, left_out, "failed (and more in the second before, not shown)");
    } else {
        tracing::error!(%failure, "failed");
    }
}

/// A JSON body of type `T`, or why it was refused: for an endpoint that
/// answers a refusal in a shape of its own. Never rejects.
///
/// The body is read before it is judged, whatever is wrong with it (up to
/// [`MAX_DRAIN`] bytes): a server that answers without reading what the
/// client sent closes the connection with data unread, and a client that
/// reuses that connection, or is still sending, loses its next answer.
#[derive(Debug)]
pub struct Parsed<T>(pub Result<T, &'static str>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Parsed<T> {
    type Rejection = Infallible;

    async fn from_request(mut request: Request, _: &S) -> Result<Self, Infallible> {
        let json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(is_json);
        let whole = match request.extensions_mut().remove::<WholeBody>() {
            Some(WholeBody(whole)) => whole,
            None => read(request.into_body()).await,
        };
        let Some(bytes) = whole else {
            return Ok(Self(Err(TOO_LARGE)));
        };
        if !json {
            return Ok(Self(Err(
                "Malformed request: Content-Type must be application/json",
            )));
        }
        Ok(Self(
            Json::<T>::from_bytes(&bytes)
                .map(|Json(body)| body)
                .map_err(|rejection| malformed(&rejection)),
        ))
    }
}

/// A JSON body of type `T`, or the seed's 400 answer. The reason given
/// names the problem, never the values sent (a password typed into the
/// wrong field is not echoed back).
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Answer;

    async fn from_request(request: Request, state: &S) -> Result<Self, Answer> {
        let Ok(Parsed(parsed)) = Parsed::from_request(request, state).await;
        parsed.map(Self).map_err(|reason| error("e-100", reason))
    }
}

/// A body over [`MAX_BODY`], or one that could not be read.
const TOO_LARGE: &str = "Malformed request: the body is too large or unreadable";

/// Whether a `Content-Type` is JSON: `application/json`, or a type with a
/// `+json` suffix, with any parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5
            && essence
                .get(essence.len() - 5..)
                .is_some_and(|suffix| suffix.eq_ignore_ascii_case("+json"))
            && essence.starts_with("application/"))
}

/// The whole body, up to [`MAX_BODY`] bytes; `None` for one larger (whose
/// rest is read and thrown away up to [`MAX_DRAIN`]) or one that breaks
/// off.
pub async fn read(body: axum::body::Body) -> Option<Vec<u8>> {
    let mut body = pin!(body);
    let mut bytes = Vec::new();
    let mut read = 0;
    while read <= MAX_DRAIN {
        match poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            Some(Ok(frame)) => {
                let data = frame.data_ref().map_or(&[][..], |data| data.as_ref());
                read += data.len();
                if read <= MAX_BODY {
                    bytes.extend_from_slice(data);
                }
            }
            Some(Err(_)) => return None,
            None => return (read <= MAX_BODY).then_some(bytes),
        }
    }
    None
}

/// Why a body that was read whole does not parse, in words that echo
/// nothing of it.
fn malformed(rejection: &JsonRejection) -> &'static str {
    match rejection {
        JsonRejection::JsonSyntaxError(_) => "Malformed request: the body is not JSON",
        JsonRejection::JsonDataError(_) => {
            "Malformed request: a field is missing, unknown, of the wrong type or not one of its values"
        }
        _ => "Malformed request",
    }
}

/// A user id ([`User::valid_id`]).
///
/// # Errors
/// The seed's 400 answer.
pub fn check_user_id(user_id: &str) -> Result<(), Answer> {
    if !User::valid_id(user_id) {
        return Err(error(
            "e-100",
            "Malformed request: user_id must be 1 to 64 letters, digits or ._@+-",
        ));
    }
    Ok(())
}

/// A field no longer than `max` bytes.
///
/// # Errors
/// The seed's 400 answer, naming the field.
pub fn check_len(field: &str, value: &str, max: usize) -> Result<(), Answer> {
    if value.len() > max {
        return Err(error(
            "e-100",
            &format!("Malformed request: {field} is longer than {max} bytes"),
        ));
    }
    Ok(())
}

/// The answer to a request no route or method takes, once its body is
/// read (and dropped): answered before it, a client still sending would
/// see its connection broken rather than this answer.
pub async fn no_route(request: Request) -> Answer {
    let _ = read(request.into_body()).await;
    Answer(
        StatusCode::NOT_FOUND,
        json!({"status": "error", "code": "e-404", "message": "No such endpoint"}),
    )
}
