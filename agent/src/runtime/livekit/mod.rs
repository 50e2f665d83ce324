//! Hosting LiveKit in the runtime. A worker registered on the server's `/agent` endpoint
//! takes dispatched rooms (LiveKit SIP callers, browser users) as inbound calls, routed to a
//! tenant and script by the dispatch's metadata or by the number the caller dialled; jobs
//! with transport `livekit` dial out through LiveKit SIP (`CreateSIPParticipant`) into a room
//! of their own, which the agent joins first so it hears the callee's first word.

mod dial;
mod room;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Duration;

use super::host::{host_with, open_inbound};
use super::Runtime;
use crate::store::model::{now_ms, status, Direction, NewCall};
use crate::store::reads::CallRow;
use crate::transport::livekit::{
    worker, JoinedRoom, ParticipantRole, RoomEvent, WorkerConfig, WorkerEvent,
};
use crate::transport::sip::Route;

pub use dial::LiveKitDialer;
pub use room::BRIEFING_TOPIC;
use room::{forward_humans, publish_live, RoomControl};

/// How long a dispatched room may stay without a caller before the job is given up.
const CALLER_WAIT: Duration = Duration::from_secs(20);

/// `[livekit]` settings (`switchboard run --livekit-config`). The API key and secret come
/// from `LIVEKIT_API_KEY` / `LIVEKIT_API_SECRET`, never from the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveKitConfig {
    /// The server, `ws(s)://` or `http(s)://`.
    pub url: String,
    /// Agent name to register; empty takes every new room (automatic dispatch).
    #[serde(default)]
    pub agent_name: String,
    /// Dialled number (`sip.trunkPhoneNumber`) → tenant and script, for LiveKit SIP callers.
    #[serde(default)]
    pub routes: BTreeMap<String, Route>,
    /// For rooms whose dispatch names no script and whose caller dialled no routed number.
    #[serde(default)]
    pub default_route: Option<Route>,
    /// LiveKit SIP outbound trunk for jobs with transport `livekit`.
    #[serde(default)]
    pub outbound_trunk: Option<String>,
    #[serde(default = "default_ring_secs")]
    pub ring_timeout_secs: u64,
    /// Meeting URL a human agent opens to join an escalated call; `{url}`, `{room}` and
    /// `{token}` are filled in (e.g. `https://meet.livekit.io/custom?liveKitUrl={url}&token={token}`).
    #[serde(default)]
    pub join_url_template: Option<String>,
}

fn default_ring_secs() -> u64 {
    30
}

/// The configuration with its credentials.
#[derive(Debug, Clone)]
pub struct LiveKitSetup {
    pub config: LiveKitConfig,
    pub api_key: String,
    pub api_secret: String,
}

/// What a dispatch's metadata may name (JSON): `{"tenant", "script", "variables"}`.
#[derive(Debug, Default, Deserialize)]
struct DispatchMetadata {
    tenant: Option<String>,
    script: Option<String>,
    #[serde(default)]
    variables: Value,
}

/// Registers the worker and hosts the rooms it is given, until the runtime shuts down.
pub fn spawn_worker(rt: Arc<Runtime>, setup: LiveKitSetup) -> anyhow::Result<()> {
    let c = &setup.config;
    let worker_config = WorkerConfig::new(&c.url, &setup.api_key, &setup.api_secret, &c.agent_name);
    let slots = rt.slots.clone();
    let max = rt.config.max_calls.max(1) as f32;
    let load: worker::LoadFn = Arc::new(move || 1.0 - slots.available_permits() as f32 / max);
    let (handle, mut events, _task) =
        worker::start(worker_config, load, rt.shutdown.child_token())?;
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                WorkerEvent::JobStarted { request, room } => {
                    let (rt, setup, handle) = (rt.clone(), setup.clone(), handle.clone());
                    tokio::spawn(async move {
                        let room_handle = room.handle.clone();
                        let job = &request.job;
                        if let Err(e) = run_job(&rt, &setup, job, *room, &handle).await {
                            handle.job_finished(&job.id, Some(e)).await;
                            room_handle.leave().await;
                        }
                    });
                }
                WorkerEvent::JobFailed { job_id, error } => {
                    tracing::warn!(%job_id, %error, "LiveKit job could not join its room");
                }
                WorkerEvent::Registered { .. }
                | WorkerEvent::JobTerminated { .. }
                | WorkerEvent::Disconnected { .. } => {}
            }
        }
    });
    Ok(())
}

/// One dispatched room as an inbound call. When the call ends the job is reported done and
/// the room left (in that order: a server that sees the agent leave a room whose job still
/// runs marks the job failed). An error means the call never started; the caller reports it.
async fn run_job(
    rt: &Arc<Runtime>,
    setup: &LiveKitSetup,
    job: &livekit_protocol::Job,
    room: JoinedRoom,
    worker: &worker::WorkerHandle,
) -> Result<(), String> {
    let Ok(_slot) = rt.slots.clone().try_acquire_owned() else {
        return Err("over capacity".into());
    };
    let room_name = room.room_name.clone();
    let agent_identity = room.identity.clone();
    let (mut connected, handle, mut events) = room.into_connected();
    let meta: DispatchMetadata = serde_json::from_str(&job.metadata).unwrap_or_default();
    // The caller's attributes say which number they dialled (LiveKit SIP).
    let caller = tokio::time::timeout(CALLER_WAIT, async {
        while let Some(event) = events.recv().await {
            if let RoomEvent::ParticipantJoined(p) = event {
                if p.role == ParticipantRole::Caller {
                    return Some(p);
                }
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    let Some(caller) = caller else {
        return Err(format!("no caller joined room {room_name}"));
    };
    let dialled = caller.attributes.get("sip.trunkPhoneNumber").cloned();
    let route = match (&meta.tenant, &meta.script) {
        (Some(tenant), Some(script)) => Some(Route {
            tenant: tenant.clone(),
            script: script.clone(),
        }),
        _ => dialled
            .as_ref()
            .and_then(|n| setup.config.routes.get(n))
            .or(setup.config.default_route.as_ref())
            .cloned(),
    };
    let Some(route) = route else {
        tracing::warn!(room = %room_name, "LiveKit room with no route to a script; left");
        return Err("no route".into());
    };
    let new = NewCall {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: route.tenant.clone(),
        direction: Direction::Inbound,
        transport: "livekit".into(),
        transport_options: json!({ "job_id": job.id, "caller_identity": caller.identity }),
        script_id: Some(route.script.clone()),
        from_number: caller.attributes.get("sip.phoneNumber").cloned(),
        to_number: dialled,
        room: Some(room_name),
        lead_id: None,
        external_refs: json!({}),
        variables: meta.variables,
        time_zone: None,
        idempotency_key: None,
        status: status::IN_PROGRESS.into(),
        queued_at: now_ms(),
        not_before: now_ms(),
        max_attempts: 1,
        claimed_by: Some(rt.config.worker_id.clone()),
        lease_until: Some(now_ms() + rt.config.lease_ms),
    };
    open_inbound(rt, &new).await;
    let cancel = rt.shutdown.child_token();
    connected.control = Some(Arc::new(RoomControl {
        room: handle.clone(),
        room_name: new.room.clone().unwrap_or_default(),
        caller: caller.identity.clone(),
        setup: setup.clone(),
    }));
    let humans = forward_humans(events, handle.clone(), rt.store.clone(), new.clone());
    let identities = (agent_identity, caller.identity.clone());
    let (done, job_id, room_handle) = (cancel.clone(), job.id.clone(), handle.clone());
    let worker = worker.clone();
    tokio::spawn(async move {
        done.cancelled().await;
        worker.job_finished(&job_id, None).await;
        room_handle.leave().await;
    });
    tokio::spawn(publish_live(
        rt.clone(),
        new.clone(),
        handle.clone(),
        identities,
    ));
    host_with(
        rt,
        &CallRow::from_new(&new),
        connected,
        Some(humans),
        cancel,
    )
    .await;
    Ok(())
}
