//! A LiveKit call's room beyond its audio: the call's controls (key presses, transfer through
//! LiveKit SIP, the escalation meeting link), human agents joining (briefed with the
//! transcript), the live transcript and agent state for UIs, and leaving at the end.

use std::sync::Arc;

use futures::future::BoxFuture;
use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_api::services::sip::{SIPClient, TransferSIPParticipantOptions};
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

use super::LiveKitSetup;
use crate::call::live::CallEvent;
use crate::call::report::Speaker;
use crate::call::session::HumanSignal;
use crate::runtime::dial::CallControl;
use crate::runtime::Runtime;
use crate::store::model::NewCall;
use crate::transport::livekit::data::TranscriptSegment;
use crate::transport::livekit::{self, AgentState, ParticipantRole, RoomEvent};

/// Human agents joining the room: each is briefed with the transcript so far (a data packet
/// on [`BRIEFING_TOPIC`]) and announced to the conversation, which speaks the briefing and
/// hands over; their leaving is announced too (a call the agent listens to ends with them).
pub(super) fn forward_humans(
    mut events: mpsc::Receiver<RoomEvent>,
    room: livekit::RoomHandle,
    store: crate::store::Store,
    call: NewCall,
) -> mpsc::Receiver<HumanSignal> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let p = match event {
                RoomEvent::ParticipantJoined(p) if p.role == ParticipantRole::Human => p,
                RoomEvent::ParticipantLeft(p) if p.role == ParticipantRole::Human => {
                    if tx.send(HumanSignal::Left(p.identity)).await.is_err() {
                        return;
                    }
                    continue;
                }
                _ => continue,
            };
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
            if tx.send(HumanSignal::Joined(p.identity)).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// The call's transcript (LiveKit `Transcription` packets, which LiveKit's caption components
/// read) and the agent's state (`lk.agent.state`), published to the room as they happen.
pub(super) async fn publish_live(
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
pub(super) struct RoomControl {
    pub room: livekit::RoomHandle,
    pub room_name: String,
    /// The SIP participant transfers apply to.
    pub caller: String,
    pub setup: LiveKitSetup,
}

impl CallControl for RoomControl {
    fn transfer(&self, target: &str) -> BoxFuture<'_, Result<(), String>> {
        let target = transfer_uri(target);
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
        let token = room_token(
            &self.setup,
            &self.room_name,
            &identity,
            "Human agent",
            TokenKind::Person,
        )
        .ok()?;
        let url = self.setup.config.join_url_template.as_ref().map(|t| {
            t.replace("{url}", &self.setup.config.url)
                .replace("{room}", &self.room_name)
                .replace("{token}", &token)
        });
        Some(json!({ "room": self.room_name, "identity": identity, "token": token, "url": url }))
    }
}

/// LiveKit SIP transfers to a `sip:` or `tel:` URI: a bare number becomes `tel:`.
fn transfer_uri(target: &str) -> String {
    let target = target.trim();
    let uri = ["sip:", "sips:", "tel:"]
        .iter()
        .any(|s| target.starts_with(s));
    if uri {
        target.to_string()
    } else {
        format!("tel:{target}")
    }
}

/// Leaves the room once the call is over (its token cancelled by the host).
pub(super) async fn leave_when_done(handle: livekit::RoomHandle, done: CancellationToken) {
    done.cancelled().await;
    handle.leave().await;
}

/// Who a room token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenKind {
    /// Switchboard itself.
    Agent,
    /// A person: a human agent joining from a meeting link.
    Person,
}

/// A join token for `identity` in `room` (publish, subscribe, data, own metadata).
pub(super) fn room_token(
    setup: &LiveKitSetup,
    room: &str,
    identity: &str,
    name: &str,
    kind: TokenKind,
) -> Result<String, String> {
    let token = AccessToken::with_api_key(&setup.api_key, &setup.api_secret)
        .with_identity(identity)
        .with_name(name);
    // LiveKit forwards an agent's transcriptions (and the text streams it sends on the
    // caller's behalf) only from participants whose token says they are agents.
    let token = match kind {
        TokenKind::Agent => token.with_kind("agent"),
        TokenKind::Person => token,
    };
    token
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

pub(super) fn http_base(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    if let Some(rest) = url.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = url.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        url.to_string()
    }
}
