//! Serving connections within limits. `axum::serve` sets none: a client
//! could keep a connection open sending nothing, send its headers or body
//! a byte a minute, or open connections until the process has no
//! descriptors left, and real logins would go unanswered.
//!
//! Here every connection is held to [`Limits`]:
//! - its headers (and the wait for them, before the first request and
//!   between requests) within `header_timeout`, or it is closed;
//! - at most `max_connections` open: one more evicts the oldest that has
//!   no request in progress (idle, or still sending a request's headers or
//!   body: a request is in progress once its body is in), closed at once,
//!   and with none to evict it gets the JSON 503 and is closed;
//! - the request bodies and the in-flight bound, in [`super::limits`].

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Router, extract::ConnectInfo};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{net::TcpListener, sync::Notify};

use crate::config::Limits;

/// An open connection: how many of its requests are in progress, and how
/// to tell it to close.
#[derive(Debug, Default)]
pub struct Open {
    requests: AtomicUsize,
    close: Notify,
}

/// Every open connection, oldest first.
#[derive(Debug, Default)]
struct Connections {
    open: Mutex<(u64, BTreeMap<u64, Arc<Open>>)>,
}

impl Connections {
    /// Registers a new connection, evicting the oldest idle one when
    /// `max` are open: `None` if all are busy.
    fn admit(&self, max: usize) -> Option<(u64, Arc<Open>)> {
        let mut guard = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let (next, open) = &mut *guard;
        if open.len() >= max {
            let idle = open
                .iter()
                .find(|(_, conn)| conn.requests.load(Ordering::SeqCst) == 0)
                .map(|(id, _)| *id)?;
            if let Some(evicted) = open.remove(&idle) {
                evicted.close.notify_one();
            }
        }
        let id = *next;
        *next += 1;
        let conn = Arc::new(Open::default());
        open.insert(id, conn.clone());
        Some((id, conn))
    }

    fn remove(&self, id: u64) {
        let mut guard = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        guard.1.remove(&id);
    }

    fn count(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .len()
    }

    /// Tells every connection to close once its requests are answered.
    fn close_all(&self) {
        let guard = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        for conn in guard.1.values() {
            conn.close.notify_one();
        }
    }
}

/// The connection a request came on, in its extensions: the request is
/// counted in progress on it (no longer evictable) from the moment its
/// body is in ([`Connection::in_progress`], by the limits middleware), so
/// a connection still sending a body can be evicted like an idle one.
#[derive(Debug, Clone)]
pub struct Connection(Arc<Open>);

impl Connection {
    /// The request counted in progress until the returned value drops.
    pub fn in_progress(&self) -> InProgress {
        InProgress::new(&self.0)
    }
}

/// A request in progress on a connection: counted while it lives.
#[derive(Debug)]
pub struct InProgress(Arc<Open>);

impl InProgress {
    fn new(conn: &Arc<Open>) -> Self {
        conn.requests.fetch_add(1, Ordering::SeqCst);
        Self(conn.clone())
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.requests.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a connection refused for load is sent before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 84\r\n\r\n{\"status\":\"error\",\"code\":\"e-503\",\"message\":\"Service unavailable: try again shortly\"}";

/// Serves `router` on `listener` within `limits` until `shutdown`
/// completes; then stops accepting, lets the requests in progress finish
/// (up to `limits.header_timeout`) and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let connections = Arc::new(Connections::default());
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_warning: Option<Instant> = None;
    let mut warn = |what: &str| {
        // At most one line every 10 s, however hard the flood.
        if last_warning.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
            tracing::warn!("{what}");
            last_warning = Some(Instant::now());
        }
    };
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, most likely: wait for some to close.
                warn(&format!("accepting a connection failed: {e}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some((id, conn)) = connections.admit(limits.max_connections) else {
            warn(&format!(
                "{} connections, all with a request in progress: refusing more (TWOFA_MAX_CONNECTIONS)",
                limits.max_connections
            ));
            // Never waits: a client that does not read loses the answer.
            let _ = stream.try_write(BUSY);
            continue;
        };
        let (router, connections) = (router.clone(), connections.clone());
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let connection = Connection(conn.clone());
            let service = service_fn(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request.extensions_mut().insert(connection.clone());
                let mut router = router.clone();
                async move { tower_service::Service::call(&mut router, request).await }
            });
            let served = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let mut served = std::pin::pin!(served);
            tokio::select! {
                _ = served.as_mut() => {}
                () = conn.close.notified() => {
                    // Evicted with nothing in progress (idle, or still
                    // sending): closed at once. Told to close at shutdown
                    // with a request in progress: that one is answered.
                    if conn.requests.load(Ordering::SeqCst) > 0 {
                        served.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(header_timeout, served).await;
                    }
                }
            }
            connections.remove(id);
        });
    }
    connections.close_all();
    let deadline = Instant::now() + limits.header_timeout;
    while connections.count() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `limits`, with at most as many connections as the process's
/// descriptor limit leaves room for (64 kept for the store and files),
/// and a warning when that lowers the setting. Read from Linux's `/proc`;
/// elsewhere `limits` as they are.
pub fn within_descriptors(limits: Limits) -> Limits {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("Max open files"))
                .and_then(|line| line.split_whitespace().nth(3))
                .and_then(|soft| soft.parse::<usize>().ok())
        });
    match soft {
        Some(soft) if limits.max_connections + 64 > soft => {
            let fitted = soft.saturating_sub(64).max(1);
            tracing::warn!(
                "{soft} descriptors allow {fitted} connections, not TWOFA_MAX_CONNECTIONS={}",
                limits.max_connections
            );
            Limits {
                max_connections: fitted,
                ..limits
            }
        }
        _ => limits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busy_answer_is_the_apis_503_with_its_length() {
        let text = std::str::from_utf8(BUSY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length: "))
            .unwrap();
        assert_eq!(length.parse::<usize>().unwrap(), body.len());
        let answer = super::super::body::Answer::from(crate::app::Failure(String::new()));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(body).unwrap(),
            answer.1
        );
        assert!(head.starts_with("HTTP/1.1 503 "));
    }

    #[test]
    fn one_connection_too_many_evicts_the_oldest_idle_one() {
        let connections = Connections::default();
        let (first, a) = connections.admit(2).unwrap();
        let (_, b) = connections.admit(2).unwrap();
        let busy = InProgress::new(&a);
        // The oldest is busy: the next oldest, idle, is told to close.
        let (_, c) = connections.admit(2).unwrap();
        assert_eq!(connections.count(), 2);
        assert_eq!(b.requests.load(Ordering::SeqCst), 0);
        let _c_busy = InProgress::new(&c);
        // Both open ones busy: refused.
        assert!(connections.admit(2).is_none());
        drop(busy);
        assert!(connections.admit(2).is_some());
        connections.remove(first);
    }
}
