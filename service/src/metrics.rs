//! What `/metrics` serves, in Prometheus's text format (written by the
//! Prometheus project's own client crate): logins by endpoint, factor and
//! outcome, every event by name, lockouts, SMS sends and refusals, store
//! latency and contention retries, the Argon2id queue, and HTTP requests
//! by route and status. Labels hold only names the service chose (routes
//! as declared, factors, reasons): never an account, an address or
//! anything a caller typed.

use std::time::Duration;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use twofa::{Event, EventKind, events::Factor};

/// A route, as the router declares it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// `/authentication/v1/user/session`, …; `unmatched` for no route.
    pub route: String,
}

/// A route and the status answered.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// As in [`RouteLabels`].
    pub route: String,
    /// The HTTP status code.
    pub status: u16,
}

/// A login attempt.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LoginLabels {
    /// The route it came by.
    pub endpoint: String,
    /// The factor tried ([`Factor::name`]).
    pub factor: String,
    /// `succeeded`, or why it failed ([`twofa::events::Reason::name`]).
    pub outcome: String,
}

/// An event, by its stable name.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    /// [`twofa::EventKind::name`], or the service's own (`admin.unlock`).
    pub event: String,
}

/// What became of a code or notice for a phone.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SmsLabels {
    /// `code` or `notice`.
    pub kind: String,
    /// `sent` (the gateway took it), `refused_throttled` and
    /// `refused_locked` (the account's send limit), `refused_phone` (the
    /// number's limit or the hourly budget), or `failed` (the gateway).
    pub outcome: String,
}

/// A store operation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreLabels {
    /// `decide` (a load, a decision and a compare-and-swap, retries
    /// included) or `trail` (an append to the audit trail).
    pub operation: String,
}

/// A class of Argon2id work.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HashLabels {
    /// `login` or `change`.
    pub class: String,
}

/// Every metric the service keeps, registered once.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    logins: Family<LoginLabels, Counter>,
    events: Family<EventLabels, Counter>,
    lockouts: Counter,
    sms: Family<SmsLabels, Counter>,
    store: Family<StoreLabels, Histogram>,
    retries: Counter,
    trail_failures: Counter,
    hashes: Family<HashLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero, registered under `twofa_`.
    #[must_use]
    pub fn new() -> Self {
        let seconds = || Histogram::new(exponential_buckets(0.000_25, 2.0, 16));
        let this = Self {
            registry: Registry::with_prefix("twofa"),
            requests: Family::default(),
            latency: Family::new_with_constructor(seconds),
            logins: Family::default(),
            events: Family::default(),
            lockouts: Counter::default(),
            sms: Family::default(),
            store: Family::new_with_constructor(seconds),
            retries: Counter::default(),
            trail_failures: Counter::default(),
            hashes: Family::default(),
        };
        let mut this = this;
        let registry = &mut this.registry;
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            this.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            this.latency.clone(),
        );
        registry.register(
            "logins",
            "Login attempts, by endpoint, factor and outcome",
            this.logins.clone(),
        );
        registry.register(
            "events",
            "Events of decisions and factor changes, by name",
            this.events.clone(),
        );
        registry.register(
            "lockouts",
            "Accounts locked by a failure",
            this.lockouts.clone(),
        );
        registry.register(
            "sms",
            "Codes and notices for phones, by what became of them",
            this.sms.clone(),
        );
        registry.register(
            "store_duration_seconds",
            "Time of a store operation, retries included",
            this.store.clone(),
        );
        registry.register(
            "store_contention_retries",
            "Compare-and-swap rounds lost to another writer and run again",
            this.retries.clone(),
        );
        registry.register(
            "trail_failures",
            "Events a decision made that the audit trail could not keep",
            this.trail_failures.clone(),
        );
        registry.register(
            "argon2_queue_depth",
            "Argon2id hashes waiting or running, by class",
            this.hashes.clone(),
        );
        this
    }

    /// The text `/metrics` answers, the Argon2id queue read now.
    #[must_use]
    pub fn encode(&self) -> String {
        for (class, name) in [
            (crate::hashing::Class::Login, "login"),
            (crate::hashing::Class::Change, "change"),
        ] {
            let depth = i64::try_from(crate::hashing::in_use(class)).unwrap_or(i64::MAX);
            self.hashes
                .get_or_create(&HashLabels {
                    class: name.to_owned(),
                })
                .set(depth);
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// An HTTP request answered with `status` after `elapsed`.
    pub fn request(&self, route: &str, status: u16, elapsed: Duration) {
        let route = route.to_owned();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.clone(),
            })
            .observe(elapsed.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels { route, status })
            .inc();
    }

    /// An event of a decision made on a request to `endpoint`.
    pub fn event(&self, endpoint: &str, event: &Event) {
        self.named(event.name());
        let login = |factor: &Factor, outcome: &str| {
            self.logins
                .get_or_create(&LoginLabels {
                    endpoint: endpoint.to_owned(),
                    factor: factor.name().to_owned(),
                    outcome: outcome.to_owned(),
                })
                .inc();
        };
        match &event.kind {
            EventKind::LoginSucceeded { factor, .. } => login(factor, "succeeded"),
            EventKind::LoginFailed { factor, reason } => login(factor, reason.name()),
            EventKind::LockStarted { .. } => {
                self.lockouts.inc();
            }
            EventKind::SendRefused {
                factor: Factor::OutOfBand,
                reason,
            } => self.sms("code", &format!("refused_{}", reason.name())),
            _ => {}
        }
    }

    /// An event of the service's own, by name.
    pub fn named(&self, name: &str) {
        self.events
            .get_or_create(&EventLabels {
                event: name.to_owned(),
            })
            .inc();
    }

    /// A code or notice for a phone: `kind` `code` or `notice`.
    pub fn sms(&self, kind: &str, outcome: &str) {
        self.sms
            .get_or_create(&SmsLabels {
                kind: kind.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// A store operation that took `elapsed`.
    pub fn store(&self, operation: &str, elapsed: Duration) {
        self.store
            .get_or_create(&StoreLabels {
                operation: operation.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// A compare-and-swap round lost and run again.
    pub fn retried(&self) {
        self.retries.inc();
    }

    /// Events the trail could not keep.
    pub fn trail_failed(&self, events: usize) {
        self.trail_failures
            .inc_by(u64::try_from(events).unwrap_or(u64::MAX));
    }
}
