//! `/v1/calls`: dispatch an outbound call, read one (status, transcript so far, answers,
//! metrics), list them, hang up, transfer, and follow one live as server-sent events.

use std::convert::Infallible;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::{Extension, Json};
use futures::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::error::{ApiError, JsonBody};
use super::ApiState;
use crate::runtime::compliance;
use crate::store::keys::ApiKey;
use crate::store::model::{now_ms, status, Direction, NewCall};
use crate::store::reads::CallFilter;
use crate::turn::controller::TransferRequest as CallTransfer;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchRequest {
    pub to: String,
    #[serde(default)]
    pub from: Option<String>,
    pub transport: String,
    #[serde(default)]
    pub script_id: Option<String>,
    /// Choose the script by its selection rules instead of by id.
    #[serde(default)]
    pub selection: Option<Selection>,
    #[serde(default)]
    pub variables: serde_json::Map<String, Value>,
    /// RFC 3339; the call is not dialled before.
    #[serde(default)]
    pub not_before: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    #[serde(default)]
    pub lead_id: Option<String>,
    #[serde(default)]
    pub external_refs: serde_json::Map<String, Value>,
    /// The callee's IANA time zone, for calling hours.
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub max_attempts: Option<i64>,
    #[serde(default)]
    pub transport_options: serde_json::Map<String, Value>,
    /// Consent the backend holds for this number, recorded before the gate checks it.
    #[serde(default)]
    pub consent: Option<Consent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    pub business_type: Option<String>,
    pub interest_level: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    pub granted: bool,
    pub source: String,
}

pub async fn dispatch(
    State(st): State<ApiState>,
    Extension(key): Extension<ApiKey>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<DispatchRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let rt = &st.rt;
    if !compliance::is_e164(&req.to) {
        return Err(ApiError::field(
            "to",
            "must be an E.164 number such as +14155550123",
        ));
    }
    if let Some(from) = &req.from {
        if !compliance::is_e164(from) {
            return Err(ApiError::field("from", "must be an E.164 number"));
        }
    }
    if !rt.dialers.contains_key(&req.transport) {
        let mut known: Vec<&str> = rt.dialers.keys().map(String::as_str).collect();
        known.sort_unstable();
        return Err(ApiError::field(
            "transport",
            format!(
                "unknown or disabled transport {:?}; enabled: {}",
                req.transport,
                known.join(", ")
            ),
        ));
    }
    let script = match (&req.script_id, &req.selection) {
        (Some(id), _) => rt
            .scripts
            .get(id)
            .ok_or_else(|| ApiError::field("script_id", format!("no live script {id:?}")))?,
        (None, Some(sel)) => rt
            .scripts
            .select(&dialogue::SelectionKey {
                business_type: sel.business_type.clone(),
                interest_level: sel.interest_level.clone(),
                region: sel.region.clone(),
                direction: Some("outbound".into()),
            })
            .ok_or_else(|| ApiError::field("selection", "no live script matches"))?,
        (None, None) => return Err(ApiError::field("script_id", "give script_id or selection")),
    };
    if let Err(e) = compliance::time_zone(&rt.config.policy, req.time_zone.as_deref()) {
        return Err(ApiError::field("time_zone", e));
    }
    let not_before = match &req.not_before {
        None => now_ms(),
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map_err(|e| ApiError::field("not_before", format!("not RFC 3339: {e}")))?
            .timestamp_millis(),
    };
    let max_attempts = req.max_attempts.unwrap_or(3);
    if !(1..=10).contains(&max_attempts) {
        return Err(ApiError::field("max_attempts", "must be 1 to 10"));
    }
    let idempotency_key = req.idempotency_key.clone().or_else(|| {
        headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    if let Some(consent) = &req.consent {
        rt.store
            .record_consent(&key.tenant, &req.to, consent.granted, &consent.source)
            .await?;
    }
    let call = NewCall {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: key.tenant.clone(),
        direction: Direction::Outbound,
        transport: req.transport,
        transport_options: Value::Object(req.transport_options),
        script_id: Some(script.id.clone()),
        from_number: req.from,
        to_number: Some(req.to),
        room: None,
        lead_id: req.lead_id,
        external_refs: Value::Object(req.external_refs),
        variables: Value::Object(req.variables),
        time_zone: req.time_zone,
        idempotency_key,
        status: status::QUEUED.into(),
        queued_at: now_ms(),
        not_before,
        max_attempts,
        claimed_by: None,
        lease_until: None,
    };
    let done = rt.store.enqueue(&call).await?;
    let code = if done.created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((
        code,
        Json(json!({ "id": done.id, "status": status::QUEUED, "created": done.created })),
    ))
}

pub async fn get(
    State(st): State<ApiState>,
    Extension(key): Extension<ApiKey>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = &st.rt.store;
    let call = store
        .call(&key.tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("call"))?;
    let transcript = store.transcript(&key.tenant, &id).await?;
    let answers = store.answers(&key.tenant, &id).await?;
    let metrics = store.metrics(&key.tenant, &id).await?;
    let live = st.rt.live.get(&key.tenant, &id).is_some();
    Ok(Json(json!({
        "call": call, "live": live, "transcript": transcript, "answers": answers,
        "metrics": metrics,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    disposition: Option<String>,
    script_id: Option<String>,
    direction: Option<String>,
    /// Epoch ms bounds on the queue time.
    since: Option<i64>,
    until: Option<i64>,
    limit: Option<i64>,
    cursor: Option<String>,
}

pub async fn list(
    State(st): State<ApiState>,
    Extension(key): Extension<ApiKey>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "must be 1 to 500"));
    }
    let before = match &q.cursor {
        None => None,
        Some(c) => {
            let (at, id) = c
                .split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_owned())))
                .ok_or_else(|| ApiError::field("cursor", "not a cursor from a previous page"))?;
            Some((at, id))
        }
    };
    let filter = CallFilter {
        status: q.status,
        disposition: q.disposition,
        script_id: q.script_id,
        direction: q.direction,
        since: q.since,
        until: q.until,
        before,
        limit,
    };
    let calls = st.rt.store.list_calls(&key.tenant, &filter).await?;
    let next = (calls.len() as i64 == limit)
        .then(|| calls.last().map(|c| format!("{}.{}", c.queued_at, c.id)))
        .flatten();
    Ok(Json(json!({ "calls": calls, "next_cursor": next })))
}

pub async fn hangup(
    State(st): State<ApiState>,
    Extension(key): Extension<ApiKey>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if let Some(live) = st.rt.live.get(&key.tenant, &id) {
        live.hang_up();
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "id": id, "status": "hanging_up" })),
        ));
    }
    if st.rt.store.cancel_queued(&key.tenant, &id).await? {
        return Ok((
            StatusCode::OK,
            Json(json!({ "id": id, "status": status::CANCELLED })),
        ));
    }
    match st.rt.store.call(&key.tenant, &id).await? {
        None => Err(ApiError::not_found("call")),
        Some(c) => Err(ApiError::conflict(format!(
            "call is {}: it is not running in this process and cannot be hung up",
            c.status
        ))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub target: String,
}

pub async fn transfer(
    State(st): State<ApiState>,
    Extension(key): Extension<ApiKey>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<TransferRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let target = req.target.trim();
    if !(compliance::is_e164(target) || target.starts_with("sip:") || target.starts_with("sips:")) {
        return Err(ApiError::field(
            "target",
            "must be an E.164 number or a sip: URI",
        ));
    }
    let Some(live) = st.rt.live.get(&key.tenant, &id) else {
        return match st.rt.store.call(&key.tenant, &id).await? {
            None => Err(ApiError::not_found("call")),
            Some(c) => Err(ApiError::conflict(format!(
                "call is {}, not live here",
                c.status
            ))),
        };
    };
    let Some(transfers) = live.transfers else {
        return Err(ApiError::conflict("this call's transport cannot transfer"));
    };
    // The call carries it out, so its record and outcome say it was transferred.
    let (done, result) = tokio::sync::oneshot::channel();
    let request = CallTransfer {
        target: target.to_string(),
        done,
    };
    let gone = || ApiError::conflict("the call ended");
    transfers.send(request).await.map_err(|_| gone())?;
    result
        .await
        .map_err(|_| gone())?
        .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, "transfer_failed", e))?;
    Ok((
        StatusCode::OK,
        Json(json!({ "id": id, "status": "transferred" })),
    ))
}

/// Server-sent events of a call: `speaking`, `line`, `node`, `answer`, `record` while it runs,
/// then `ended` with the stored result. A call that already ended gets `ended` at once.
pub async fn events(
    State(st): State<ApiState>,
    Extension(key): Extension<ApiKey>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let store = st.rt.store.clone();
    let call = store
        .call(&key.tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("call"))?;
    let receiver = st
        .rt
        .live
        .get(&key.tenant, &id)
        .map(|c| c.events.subscribe());
    let waiting =
        receiver.is_none() && matches!(call.status.as_str(), "queued" | "claimed" | "dialling");
    let live = st.rt.live.clone();
    let tenant = key.tenant.clone();
    let call_id = id.clone();
    // Queued calls: wait (polling) until the call starts here, then follow it.
    let receiver = if waiting {
        let mut found = None;
        for _ in 0..1200 {
            if let Some(c) = live.get(&tenant, &call_id) {
                found = Some(c.events.subscribe());
                break;
            }
            match store.call(&tenant, &call_id).await {
                Ok(Some(c)) if matches!(c.status.as_str(), "queued" | "claimed" | "dialling") => {}
                _ => break,
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        found
    } else {
        receiver
    };
    let live_events = stream::unfold(receiver, |rx| async move {
        let mut rx = rx?;
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    let kind = match &ev {
                        crate::call::live::CallEvent::Speaking { .. } => "speaking",
                        crate::call::live::CallEvent::Line { .. } => "line",
                        crate::call::live::CallEvent::Node { .. } => "node",
                        crate::call::live::CallEvent::Answer { .. } => "answer",
                        crate::call::live::CallEvent::Record { .. } => "record",
                    };
                    let event = Event::default()
                        .event(kind)
                        .json_data(&ev)
                        .unwrap_or_default();
                    return Some((Ok(event), Some(rx)));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let ended = stream::once(async move {
        // The end-of-call write may still be in flight: give it a moment.
        let mut last = None;
        for _ in 0..40 {
            match store.call(&tenant, &id).await {
                Ok(Some(c)) => {
                    let done = c.ended_at.is_some();
                    last = Some(c);
                    if done {
                        break;
                    }
                }
                _ => break,
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let body = json!({ "call": last });
        Ok(Event::default()
            .event("ended")
            .json_data(&body)
            .unwrap_or_default())
    });
    Ok(Sse::new(live_events.chain(ended)).keep_alive(KeepAlive::default()))
}
