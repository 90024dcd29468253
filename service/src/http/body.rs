//! Request bodies in, answers out: a JSON extractor whose every rejection
//! (not JSON, a wrong type, an unknown enum value, a body too large) is the
//! seeds' 400 error body, never axum's plain text; the answer shapes; and
//! the bounds on each field.

use axum::{
    Json,
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{app::Failure, records::User};

/// The largest body any endpoint reads, in bytes.
pub const MAX_BODY: usize = 16 * 1024;

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
        eprintln!("error: {failure}");
        Self(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "error", "code": "e-503", "message": "Service unavailable: try again shortly"}),
        )
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
        match Json::<T>::from_request(request, state).await {
            Ok(Json(body)) => Ok(Self(body)),
            Err(rejection) => Err(error("e-100", malformed(&rejection))),
        }
    }
}

/// Why a body was refused, in words that echo nothing of it.
pub fn malformed(rejection: &JsonRejection) -> &'static str {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "Malformed request: Content-Type must be application/json"
        }
        JsonRejection::JsonSyntaxError(_) => "Malformed request: the body is not JSON",
        JsonRejection::JsonDataError(_) => {
            "Malformed request: a field is missing, unknown, of the wrong type or not one of its values"
        }
        JsonRejection::BytesRejection(_) => {
            "Malformed request: the body is too large or unreadable"
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

/// The answer to a request no route takes.
pub async fn no_route() -> Answer {
    Answer(
        StatusCode::NOT_FOUND,
        json!({"status": "error", "code": "e-404", "message": "No such endpoint"}),
    )
}
