//! Hosting LiveKit in the runtime. A worker registered on the server's `/agent` endpoint
//! takes dispatched rooms (LiveKit SIP callers, browser users) as inbound calls, routed to a
//! tenant and script by the dispatch's metadata or by the number the caller dialled; jobs
//! with transport `livekit` dial out through LiveKit SIP (`CreateSIPParticipant`) into a room
//! of their own, which the agent joins first so it hears the callee's first word.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_api::services::sip::{
    CreateSIPParticipantOptions, SIPClient, TransferSIPParticipantOptions,
};
use livekit_api::services::{ServerError, ServiceError};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

use super::dial::{CallControl, Connected, DialError, Dialer};
use super::host::host_with;
use super::Runtime;
use crate::call::live::CallEvent;
use crate::call::report::Speaker;
use crate::media::CallClock;
use crate::speaker::AudioOut;
use crate::store::model::{now_ms, status, Direction, NewCall, OutboxEvent, WriteOp};
use crate::store::reads::CallRow;
use crate::transport::livekit::data::TranscriptSegment;
use crate::transport::livekit::{
    self, worker, AgentState, CallerRule, JoinedRoom, ParticipantRole, RoomEvent, RoomOptions,
    WorkerConfig, WorkerEvent,
};
use crate::transport::sip::Route;

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
                        let job_id = request.job.id.clone();
                        let error = run_job(&rt, &setup, &request.job, *room).await.err();
                        handle.job_finished(&job_id, error).await;
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

/// One dispatched room as an inbound call.
async fn run_job(
    rt: &Arc<Runtime>,
    setup: &LiveKitSetup,
    job: &livekit_protocol::Job,
    room: JoinedRoom,
) -> Result<(), String> {
    let Ok(_slot) = rt.slots.clone().try_acquire_owned() else {
        room.handle.leave().await;
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
        handle.leave().await;
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
        handle.leave().await;
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
    rt.store
        .record(WriteOp::InsertCall(Box::new(new.clone())))
        .await;
    let started = OutboxEvent::for_call(
        &new.id,
        "call.started",
        json!({ "call_id": new.id, "direction": "inbound" }),
    );
    rt.store
        .record(WriteOp::Event {
            tenant: new.tenant.clone(),
            call_id: new.id.clone(),
            event: started,
            at: now_ms(),
        })
        .await;
    let cancel = rt.shutdown.child_token();
    connected.control = Some(Arc::new(RoomControl {
        room: handle.clone(),
        room_name: new.room.clone().unwrap_or_default(),
        caller: caller.identity.clone(),
        setup: setup.clone(),
    }));
    let humans = forward_humans(events, handle.clone(), rt.store.clone(), new.clone());
    let identities = (agent_identity, caller.identity.clone());
    tokio::spawn(publish_live(
        rt.clone(),
        new.clone(),
        handle.clone(),
        identities,
    ));
    tokio::spawn(leave_when_done(handle, cancel.clone()));
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

/// Human agents joining the room: each is briefed with the transcript so far (a data packet
/// on [`BRIEFING_TOPIC`]) and announced to the conversation, which speaks the briefing and
/// hands over.
fn forward_humans(
    mut events: mpsc::Receiver<RoomEvent>,
    room: livekit::RoomHandle,
    store: crate::store::Store,
    call: NewCall,
) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let RoomEvent::ParticipantJoined(p) = event else {
                continue;
            };
            if p.role != ParticipantRole::Human {
                continue;
            }
            let transcript = store
                .transcript(&call.tenant, &call.id)
                .await
                .unwrap_or_default();
            let lines: Vec<Value> = transcript
                .iter()
                .map(|l| json!({ "speaker": l.speaker, "text": l.text, "start_ms": l.start_ms }))
                .collect();
            let briefing = json!({ "call_id": call.id, "transcript": lines });
            let packet = livekit::data::user_packet(
                "switchboard",
                BRIEFING_TOPIC,
                briefing.to_string().into_bytes(),
            );
            if let Err(e) = room.publish_data(true, packet).await {
                tracing::warn!(error = %e, "Briefing packet not sent");
            }
            if tx.send(p.identity).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// The call's transcript (LiveKit `Transcription` packets, which LiveKit's caption components
/// read) and the agent's state (`lk.agent.state`), published to the room as they happen.
async fn publish_live(
    rt: Arc<Runtime>,
    call: NewCall,
    room: livekit::RoomHandle,
    (agent, caller): (String, String),
) {
    // The host registers the call as it starts.
    let mut live = None;
    for _ in 0..250 {
        live = rt.live.get(&call.tenant, &call.id);
        if live.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Some(live) = live else { return };
    let mut events = live.events.subscribe();
    drop(live);
    let _ = room.set_agent_state(AgentState::Listening).await;
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let result = match event {
            CallEvent::Speaking { .. } => room.set_agent_state(AgentState::Speaking).await,
            CallEvent::Line { seq, line } => {
                let by_agent = line.speaker == Speaker::Agent;
                let segment = TranscriptSegment {
                    speaker_identity: if by_agent { &agent } else { &caller }.clone(),
                    track_sid: String::new(),
                    id: format!("{}-{seq}", call.id),
                    text: line.text,
                    is_final: true,
                    start_ms: line.start_ms,
                    end_ms: line.end_ms,
                };
                let published = room.publish_transcript(segment).await;
                let next = if by_agent {
                    AgentState::Listening
                } else {
                    AgentState::Thinking
                };
                published.and(room.set_agent_state(next).await)
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::debug!(error = %e, "Live transcript not published to the room");
        }
    }
}

/// Topic of the data packet that briefs a human agent joining a call.
pub const BRIEFING_TOPIC: &str = "switchboard.briefing";

/// A LiveKit call's controls: key presses as `sip_dtmf`, transfer through LiveKit SIP, and
/// the meeting link for escalations.
struct RoomControl {
    room: livekit::RoomHandle,
    room_name: String,
    /// The SIP participant transfers apply to.
    caller: String,
    setup: LiveKitSetup,
}

impl CallControl for RoomControl {
    fn transfer(&self, target: &str) -> BoxFuture<'_, Result<(), String>> {
        let target = target.to_string();
        Box::pin(async move {
            let c = &self.setup;
            let sip = SIPClient::with_api_key(&http_base(&c.config.url), &c.api_key, &c.api_secret);
            sip.transfer_sip_participant(
                self.room_name.clone(),
                self.caller.clone(),
                target,
                TransferSIPParticipantOptions::default(),
            )
            .await
            .map_err(|e| e.to_string())
        })
    }

    fn send_dtmf(&self, digits: &str) -> BoxFuture<'_, Result<(), String>> {
        let digits = digits.to_string();
        Box::pin(async move { self.room.send_dtmf(&digits).await })
    }

    fn meeting_link(&self) -> Option<Value> {
        let identity = format!("human-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let token = room_token(&self.setup, &self.room_name, &identity, "Human agent").ok()?;
        let url = self.setup.config.join_url_template.as_ref().map(|t| {
            t.replace("{url}", &self.setup.config.url)
                .replace("{room}", &self.room_name)
                .replace("{token}", &token)
        });
        Some(json!({ "room": self.room_name, "identity": identity, "token": token, "url": url }))
    }
}

/// Leaves the room once the call is over (its token cancelled by the host).
async fn leave_when_done(handle: livekit::RoomHandle, done: CancellationToken) {
    done.cancelled().await;
    handle.leave().await;
}

/// Dials jobs with transport `livekit` through LiveKit SIP.
pub struct LiveKitDialer {
    pub setup: LiveKitSetup,
}

/// `transport_options` of a `livekit` job.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DialOptions {
    /// Overrides the configured outbound trunk.
    trunk: Option<String>,
    /// Room to use; default `call-<id>`.
    room: Option<String>,
}

impl Dialer for LiveKitDialer {
    fn dial<'a>(
        &'a self,
        call: &'a CallRow,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<Connected, DialError>> {
        Box::pin(async move {
            let options: DialOptions = serde_json::from_value(call.transport_options.clone())
                .map_err(|e| DialError::Failed(format!("transport_options: {e}")))?;
            let c = &self.setup.config;
            let trunk = options
                .trunk
                .or_else(|| c.outbound_trunk.clone())
                .ok_or_else(|| DialError::Failed("no LiveKit SIP outbound trunk".into()))?;
            let room_name = options
                .room
                .or_else(|| call.room.clone())
                .unwrap_or_else(|| format!("call-{}", call.id));
            let callee = format!("phone-{}", call.id);
            let agent = format!("switchboard-{}", uuid::Uuid::new_v4().simple());
            let token = room_token(&self.setup, &room_name, &agent, "Switchboard agent")
                .map_err(|e| DialError::Failed(format!("token: {e}")))?;
            let mut room_options = RoomOptions::new(&c.url, &token);
            room_options.caller = CallerRule::Identity(callee.clone());
            // Join first: the callee's "Hello?" must not be lost while we connect.
            let room = livekit::join(room_options, cancel.clone())
                .await
                .map_err(|e| DialError::RetryLater(format!("joining room: {e}")))?;
            let sip = SIPClient::with_api_key(
                &http_base(&c.url),
                &self.setup.api_key,
                &self.setup.api_secret,
            );
            let request = CreateSIPParticipantOptions {
                participant_identity: callee.clone(),
                sip_number: call.from.clone(),
                wait_until_answered: Some(true),
                ringing_timeout: Some(Duration::from_secs(c.ring_timeout_secs)),
                ..Default::default()
            };
            let to = call.to.clone().unwrap_or_default();
            let dialled = tokio::select! {
                r = sip.create_sip_participant(trunk, to, room_name.clone(), request, None) => r,
                _ = cancel.cancelled() => {
                    room.handle.leave().await;
                    return Err(DialError::NoAnswer);
                }
            };
            if let Err(e) = dialled {
                room.handle.leave().await;
                return Err(dial_error(e));
            }
            let (mut connected, handle, _events) = room.into_connected();
            connected.control = Some(Arc::new(RoomControl {
                room: handle.clone(),
                room_name: room_name.clone(),
                caller: callee.clone(),
                setup: self.setup.clone(),
            }));
            answered_now(&mut connected);
            tokio::spawn(leave_when_done(handle, cancel));
            Ok(connected)
        })
    }
}

/// A join token for `identity` in `room` (publish, subscribe, data, own metadata).
fn room_token(
    setup: &LiveKitSetup,
    room: &str,
    identity: &str,
    name: &str,
) -> Result<String, String> {
    AccessToken::with_api_key(&setup.api_key, &setup.api_secret)
        .with_identity(identity)
        .with_name(name)
        .with_grants(VideoGrants {
            room_join: true,
            room: room.to_string(),
            can_publish: Some(true),
            can_subscribe: Some(true),
            can_publish_data: Some(true),
            can_update_own_metadata: Some(true),
            ..Default::default()
        })
        .to_jwt()
        .map_err(|e| e.to_string())
}

/// Call time 0 is the answer (answer detection times the callee's first seconds), while the
/// room's sender paces agent audio on the room's clock from the join: agent frames are
/// shifted back onto it.
fn answered_now(connected: &mut Connected) {
    let offset_ms = connected.media.clock.now_ms();
    connected.media.clock = CallClock::start_now();
    let inner = std::mem::replace(&mut connected.media.output, Box::new(Nowhere));
    connected.media.output = Box::new(Shifted { inner, offset_ms });
}

struct Shifted {
    inner: Box<dyn AudioOut>,
    offset_ms: u64,
}

impl AudioOut for Shifted {
    fn rate(&self) -> audio::SampleRate {
        self.inner.rate()
    }
    fn send(&mut self, samples: &[i16], at_ms: u64) {
        self.inner.send(samples, at_ms + self.offset_ms);
    }
}

/// A placeholder output for the moment of the swap.
struct Nowhere;

impl AudioOut for Nowhere {
    fn rate(&self) -> audio::SampleRate {
        audio::SampleRate::HZ_16K
    }
    fn send(&mut self, _: &[i16], _: u64) {}
}

/// The SIP status LiveKit reports with a failed dial, as the job queue understands it.
fn dial_error(e: ServiceError) -> DialError {
    let ServiceError::Twirp(ServerError::Twirp(code)) = &e else {
        return DialError::RetryLater(e.to_string());
    };
    let sip: Option<u16> = code
        .meta
        .get("sip_status_code")
        .and_then(|s| s.parse().ok());
    match sip {
        Some(486 | 600) => DialError::Busy,
        Some(408 | 480 | 487) => DialError::NoAnswer,
        Some(603) => DialError::Declined,
        Some(404 | 484 | 604) => DialError::Failed(format!("invalid number ({})", code.msg)),
        Some(503) | None if code.code == "unavailable" => DialError::RetryLater(code.msg.clone()),
        _ => DialError::Failed(format!("{}: {}", code.code, code.msg)),
    }
}

fn http_base(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    if let Some(rest) = url.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = url.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        url.to_string()
    }
}
