//! The HTTP API: the seeds' two login endpoints, and the endpoints that set
//! up an account's factors.

pub mod account;
pub mod admin;
pub mod body;
pub mod factors;
pub mod health;
pub mod limits;
pub mod observe;
pub mod passkeys;
pub mod server;
pub mod session;
pub mod totp_login;
pub mod user_keys;
pub mod web;

use std::sync::Arc;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};

use crate::{app::App, config::Limits};

/// Every route, over `app`, each request held to `limits`
/// ([`limits::limit`]).
pub fn router(app: Arc<App>, limits: &Limits) -> Router {
    Router::new()
        .route(
            "/authentication/v1/user/session",
            post(session::session).delete(session::logout),
        )
        .route(
            "/authentication/v1/user/sessions/end-others",
            post(session::end_other_sessions),
        )
        .route(
            "/VendorsAPI/Service1.svc/TOTPLogin",
            post(totp_login::totp_login),
        )
        .route("/authentication/v1/user/signup", post(account::signup))
        .route(
            "/authentication/v1/user/totp/enroll",
            post(account::enroll_totp),
        )
        .route(
            "/authentication/v1/user/totp/confirm",
            post(account::confirm_totp),
        )
        .route(
            "/authentication/v1/user/device/register/start",
            post(account::register_device_start),
        )
        .route(
            "/authentication/v1/user/device/register/finish",
            post(account::register_device_finish),
        )
        .route(
            "/authentication/v1/device/prompt",
            post(account::device_prompt),
        )
        .route(
            "/authentication/v1/user/recovery-codes",
            post(account::recovery_codes),
        )
        .route("/authentication/v1/user/profile", get(account::profile))
        .route("/authentication/v1/user/factors", get(factors::list))
        .route(
            "/authentication/v1/user/factors/remove",
            post(factors::remove),
        )
        .route(
            "/authentication/v1/user/api-keys",
            post(user_keys::create).get(user_keys::list),
        )
        .route(
            "/authentication/v1/user/api-keys/revoke",
            post(user_keys::revoke),
        )
        .route(
            "/authentication/v1/user/passkeys/register/options",
            post(passkeys::register_options),
        )
        .route(
            "/authentication/v1/user/passkeys/register",
            post(passkeys::register),
        )
        .route(
            "/authentication/v1/user/passkeys/rename",
            post(passkeys::rename),
        )
        .route(
            "/authentication/v1/passkeys/sign-in/options",
            post(passkeys::sign_in_options),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/", get(web::page))
        .route("/app.js", get(web::script))
        .route("/authentication/v1/user/activity", get(account::activity))
        .route("/metrics", get(admin::metrics))
        .route("/admin/v1/unlock", post(admin::unlock))
        .route("/admin/v1/factors", post(admin::factors))
        .route("/admin/v1/factors/revoke", post(admin::revoke))
        .route("/admin/v1/sessions/end", post(admin::end_sessions))
        .route("/admin/v1/trail", post(admin::trail))
        .fallback(body::no_route)
        .method_not_allowed_fallback(body::no_route)
        .layer(DefaultBodyLimit::max(body::MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            observe::observe,
        ))
        .with_state(app)
        .layer(axum::middleware::from_fn_with_state(
            limits::RequestLimits::new(limits),
            limits::limit,
        ))
}
