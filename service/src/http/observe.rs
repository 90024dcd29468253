//! Every request seen from the outside: an id of its own, the route it
//! matched, a log line when it is answered (status and latency), and its
//! count and time in the metrics. The route and id are known to whatever
//! the request's handler logs or counts ([`current`]).

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};

use crate::app::App;

/// What the request being answered is.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// 16 hex digits, random: also the `x-request-id` answered.
    pub id: String,
    /// The route as declared (`/authentication/v1/user/session`), or
    /// `unmatched`.
    pub route: String,
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// The request this task answers, if it answers one.
#[must_use]
pub fn current() -> Option<RequestContext> {
    REQUEST.try_with(Clone::clone).ok()
}

/// Runs `work` as part of the request `context` names (work the request
/// handed to another thread: a recovery code's check on a hashing
/// thread), so that what it logs and counts is the request's.
pub async fn within<F: Future>(context: Option<RequestContext>, work: F) -> F::Output {
    use tracing::Instrument;
    match context {
        Some(context) => {
            let span =
                tracing::info_span!("request", request_id = %context.id, route = %context.route);
            REQUEST.scope(context, work).instrument(span).await
        }
        None => work.await,
    }
}

/// The middleware: runs the request inside its context and span, then
/// logs and counts the answer.
pub async fn observe(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let mut bytes = [0u8; 8];
    // Without randomness the id is zeros: the request is still answered.
    let _ = getrandom::fill(&mut bytes);
    let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let method = request.method().clone();
    let context = RequestContext {
        id: id.clone(),
        route: route.clone(),
    };
    let started = Instant::now();
    let span = tracing::info_span!("request", request_id = %id, route = %route);
    let mut response = {
        use tracing::Instrument;
        REQUEST
            .scope(context, next.run(request))
            .instrument(span.clone())
            .await
    };
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    app.metrics.request(&route, status, elapsed);
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            status,
            latency_ms = %format_args!("{:.3}", elapsed.as_secs_f64() * 1000.0),
            "answered"
        );
    });
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
