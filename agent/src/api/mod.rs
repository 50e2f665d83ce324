//! The control HTTP port (axum): dispatch and follow calls, scripts, health, metrics and
//! LiveKit webhooks. Every `/v1` route but the LiveKit webhook and this document needs an API
//! key; a key's tenant scopes what it sees (another tenant's call is a 404).

pub mod auth;
pub mod calls;
pub mod error;
pub mod livekit;
pub mod openapi;
pub mod ops;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{middleware, Json, Router};

use crate::runtime::Runtime;

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT: usize = 256 * 1024;

#[derive(Clone)]
pub struct ApiState {
    pub rt: Arc<Runtime>,
    pub limiter: auth::RateLimiter,
    pub livekit: Option<Arc<livekit::WebhookVerifier>>,
}

pub fn router(state: ApiState) -> Router {
    let keyed = Router::new()
        .route("/v1/calls", post(calls::dispatch).get(calls::list))
        .route("/v1/calls/{id}", get(calls::get))
        .route("/v1/calls/{id}/hangup", post(calls::hangup))
        .route("/v1/calls/{id}/transfer", post(calls::transfer))
        .route("/v1/calls/{id}/events", get(calls::events))
        .route("/v1/scripts", get(ops::list_scripts))
        .route("/v1/scripts/validate", post(ops::validate_script))
        .route("/v1/scripts/reload", post(ops::reload_scripts))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ));
    Router::new()
        .merge(keyed)
        .route("/v1/webhooks/livekit", post(ops::livekit_webhook))
        .route(
            "/v1/openapi.json",
            get(|| async { Json(openapi::document()) }),
        )
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .fallback(|| async {
            error::ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "no_route",
                "no such route",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}
