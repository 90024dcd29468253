//! What a load balancer or an orchestrator asks: `GET /healthz`, whether
//! the process answers at all (it touches nothing), and `GET /readyz`,
//! whether it can serve logins now: the store answers a read within two
//! seconds and, on Redis, its configuration still keeps every save (the
//! check made at start, made again). Not ready is the API's 503.

use std::{sync::Arc, time::Duration};

use axum::extract::State;
use serde_json::json;

use super::body::{Answer, success};
use crate::{
    app::{self, App, Failure},
    keys::SERVICE_ACCOUNT,
    records::ServiceSecrets,
};

/// How long the store has to answer `/readyz`.
const READY_WITHIN: Duration = Duration::from_secs(2);

/// `GET /healthz`.
pub async fn healthz() -> Answer {
    success("alive", json!({}))
}

/// `GET /readyz`.
pub async fn readyz(State(app): State<Arc<App>>) -> Answer {
    let check = async {
        let _: ServiceSecrets = app.load(SERVICE_ACCOUNT).await?;
        app::check_durability(&app.store, app.accept_redis_loss).await
    };
    let ready = match tokio::time::timeout(READY_WITHIN, check).await {
        Ok(checked) => checked,
        Err(_) => Err(Failure(format!(
            "not ready: the {} store did not answer within {READY_WITHIN:?}",
            app.backend
        ))),
    };
    match ready {
        Ok(()) => success("ready", json!({"store": app.backend})),
        Err(failure) => failure.into(),
    }
}
