//! Operational routes: health, readiness, Prometheus metrics, the scripts (list, validate a
//! body, reload), and LiveKit's webhooks (signature checked).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, JsonBody};
use super::ApiState;

pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 when the database answers (models are loaded before the port opens).
pub async fn readyz(State(st): State<ApiState>) -> (StatusCode, Json<Value>) {
    let db = st.rt.store.ping().await;
    let spooled = st.rt.store.spooled().await;
    let code = if db {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(
            json!({ "database": db, "models": true, "spooled_writes": spooled,
                     "live_calls": st.rt.live.len() }),
        ),
    )
}

pub async fn metrics(State(st): State<ApiState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        st.rt.metrics.encode(),
    )
        .into_response()
}

pub async fn list_scripts(State(st): State<ApiState>) -> Json<Value> {
    let scripts: Vec<Value> = st
        .rt
        .scripts
        .all()
        .iter()
        .map(|s| {
            json!({ "id": s.id, "version": s.version, "file": s.file,
                    "description": s.description, "language": s.language })
        })
        .collect();
    Json(json!({ "scripts": scripts }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateRequest {
    /// The script's YAML source.
    pub yaml: String,
    #[serde(default)]
    pub file: Option<String>,
}

/// Compiles a script sent in the body; every problem with its line and column.
pub async fn validate_script(JsonBody(req): JsonBody<ValidateRequest>) -> Json<Value> {
    let file = req.file.unwrap_or_else(|| "request.yaml".into());
    match dialogue::compile(&file, &req.yaml) {
        Ok(s) => Json(json!({ "valid": true, "id": s.id, "version": s.version,
                              "nodes": s.nodes.len() })),
        Err(diags) => {
            let errors: Vec<Value> = diags
                .iter()
                .map(|d| {
                    json!({ "line": d.line, "column": d.col, "message": d.message,
                                 "kind": format!("{:?}", d.kind) })
                })
                .collect();
            Json(json!({ "valid": false, "errors": errors }))
        }
    }
}

pub async fn reload_scripts(State(st): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let registry = Arc::clone(&st.rt.scripts);
    let report = tokio::task::spawn_blocking(move || registry.reload())
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let versions = |v: &[crate::scripts::ScriptVersion]| -> Vec<Value> {
        v.iter()
            .map(|s| json!({ "id": s.id, "version": s.version, "file": s.file }))
            .collect()
    };
    let updated: Vec<Value> = report
        .updated
        .iter()
        .map(|u| json!({ "id": u.id, "from": u.from, "to": u.to, "file": u.file }))
        .collect();
    let refused: Vec<Value> = report
        .refused
        .iter()
        .map(|r| {
            json!({
                "file": r.file.display().to_string(),
                "errors": r.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "kept_version": r.kept.as_ref().map(|k| k.version.clone()),
            })
        })
        .collect();
    Ok(Json(json!({
        "loaded": versions(&report.loaded), "updated": updated,
        "unchanged": versions(&report.unchanged), "removed": versions(&report.removed),
        "refused": refused,
    })))
}

/// LiveKit's webhook: the `Authorization` header is a JWT signed with the API secret whose
/// `sha256` claim is the body's hash. Forged, stale or replayed deliveries are refused.
pub async fn livekit_webhook(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let Some(verifier) = &st.livekit else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "livekit_not_configured",
            "set LIVEKIT_API_KEY and LIVEKIT_API_SECRET to receive LiveKit webhooks",
        ));
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v))
        .ok_or_else(|| ApiError::unauthorized("missing LiveKit webhook signature"))?;
    let event = verifier
        .verify(token, &body)
        .map_err(|e| ApiError::unauthorized(&e))?;
    let kind = event.get("event").and_then(Value::as_str).unwrap_or("?");
    tracing::info!(event = kind, "LiveKit webhook received");
    Ok(Json(json!({ "received": true })))
}
