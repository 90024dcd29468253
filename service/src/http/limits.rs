//! Per request, before any handler or extractor sees it: the body read
//! whole, up to [`MAX_DRAIN`](super::body::MAX_DRAIN) bytes (kept up to
//! [`MAX_BODY`](super::body::MAX_BODY)), within [`Limits::body_timeout`]
//! (the JSON 408 otherwise, and the connection closed); then at most
//! [`Limits::max_in_flight`] in progress at once (one more is answered
//! the JSON 503 at once). Every answer, a 401 from an extractor included, then goes out
//! after the body was read, so the client gets it rather than a reset.

use std::{convert::Infallible, net::IpAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::request::Parts,
    http::{HeaderValue, StatusCode, header::CONNECTION},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;
use tokio::sync::Semaphore;

use super::body::{Answer, WholeBody, read};
use crate::config::Limits;

/// The client's address, as the connection shows it (`None` where the
/// router is served without [`super::server`]). Behind a proxy this is
/// the proxy's: see the README.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let connected = parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>();
        Ok(Self(connected.map(|ConnectInfo(address)| address.ip())))
    }
}

/// The shared bounds: permits for requests in progress, and the body's
/// deadline.
#[derive(Debug, Clone)]
pub struct RequestLimits {
    in_flight: Arc<Semaphore>,
    body_timeout: std::time::Duration,
}

impl RequestLimits {
    /// The bounds `limits` sets.
    pub fn new(limits: &Limits) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
            body_timeout: limits.body_timeout,
        }
    }
}

/// An error answer after which the connection is closed.
fn closing(status: StatusCode, code: &str, message: &str) -> Response {
    let mut answer = Answer(
        status,
        json!({"status": "error", "code": code, "message": message}),
    )
    .into_response();
    answer
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    answer
}

/// The middleware: see the module's documentation.
pub async fn limit(State(limits): State<RequestLimits>, request: Request, next: Next) -> Response {
    // The body first, within its time: a body still arriving costs a
    // connection (bounded) and at most 16 KiB, never a place among the
    // requests in progress, so half-sent bodies cannot crowd out others.
    let (mut parts, body) = request.into_parts();
    let Ok(whole) = tokio::time::timeout(limits.body_timeout, read(body)).await else {
        let message = "The request's body did not arrive in time";
        return closing(StatusCode::REQUEST_TIMEOUT, "e-408", message);
    };
    let Ok(_permit) = limits.in_flight.clone().try_acquire_owned() else {
        let message = "Service unavailable: try again shortly";
        return closing(StatusCode::SERVICE_UNAVAILABLE, "e-503", message);
    };
    // From here the request is in progress on its connection, which is
    // then no longer one to evict.
    let _in_progress = parts
        .extensions
        .get::<super::server::Connection>()
        .map(super::server::Connection::in_progress);
    parts.extensions.insert(WholeBody(whole));
    next.run(Request::from_parts(parts, axum::body::Body::empty()))
        .await
}
