//! Admitting a WebSocket on `/rtc`: a new join or the resume of a dropped participant.
//!
//! Lifecycle of a [`Session`] (one remote participant): created on join with its publisher and
//! subscriber PCs; a dropped socket detaches it and starts the departure timer; a resume
//! (`reconnect=1&sid=...`) attaches a new socket to the same session and PCs; `LeaveRequest`,
//! eviction by a new join with the same identity (told with `LeaveRequest{DISCONNECT,
//! DUPLICATE_IDENTITY}`), the server's `LeaveRequest` asking for a full reconnect or a
//! disconnect, or the departure timeout end it. A resume of a session that has ended is
//! refused with `LeaveRequest{RECONNECT, STATE_MISMATCH}`, as LiveKit refuses it, so the
//! client joins anew.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::SinkExt;
use livekit_protocol as proto;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

use crate::data::DataRoute;
use crate::peer::Peer;
use crate::publish::{membership_changes, publisher_events};
use crate::signal::{self, full_permission, Ended};
use crate::simulator::Shared;
use crate::state::{now_ms, Endpoint, Member, RemoteEndpoint, Rooms, SignalLink};

/// Signal protocol version the simulator speaks (below 18: data channels are negotiated
/// in-band, which is what webrtc-rs clients support).
pub(crate) const PROTOCOL: i32 = 16;

/// One remote participant, across resumes.
pub(crate) struct Session {
    pub rooms: Arc<Rooms>,
    pub room: String,
    pub identity: String,
    pub sid: String,
    pub remote: Arc<RemoteEndpoint>,
    pub publisher: Peer,
    /// `AddTrackRequest`s whose media has not arrived yet: (cid, info).
    pub pending_tracks: Mutex<Vec<(String, proto::TrackInfo)>>,
    /// The client's signal protocol version (from the join URL).
    pub protocol: i32,
    generation: AtomicU64,
}

/// Live sessions by (room, identity).
#[derive(Default)]
pub(crate) struct Sessions(Mutex<HashMap<(String, String), Arc<Session>>>);

impl Sessions {
    pub fn get(&self, room: &str, identity: &str) -> Option<Arc<Session>> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(room.to_owned(), identity.to_owned())).cloned()
    }

    fn insert(&self, session: Arc<Session>) -> Option<Arc<Session>> {
        let key = (session.room.clone(), session.identity.clone());
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, session)
    }

    fn remove_if(&self, session: &Arc<Session>) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let key = (session.room.clone(), session.identity.clone());
        if map.get(&key).is_some_and(|s| Arc::ptr_eq(s, session)) {
            map.remove(&key);
            return true;
        }
        false
    }

    /// Every session (for shutdown).
    pub fn all(&self) -> Vec<Arc<Session>> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }
}

/// Serves one admitted `/rtc` socket (the token is already verified).
pub(crate) async fn serve(
    shared: Arc<Shared>,
    mut ws: WebSocketStream<TcpStream>,
    query: HashMap<String, String>,
    claims: livekit_api::access_token::Claims,
) {
    let room = claims.video.room.clone();
    let identity = claims.sub.clone();
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    let session = if query.get("reconnect").map(String::as_str) == Some("1") {
        let sid = query.get("sid").cloned().unwrap_or_default();
        match shared
            .sessions
            .get(&room, &identity)
            .filter(|s| s.sid == sid)
        {
            Some(session) => {
                session.generation.fetch_add(1, Ordering::SeqCst);
                session.remote.signal.attach(Some(tx.clone()));
                session
                    .remote
                    .send(proto::signal_response::Message::Reconnect(
                        proto::ReconnectResponse {
                            server_info: Some(server_info()),
                            ..Default::default()
                        },
                    ));
                session
            }
            None => {
                // As LiveKit: a resume of a session the server no longer has is answered
                // with a LeaveRequest asking for a full reconnect (a new join).
                let protocol = query.get("protocol").and_then(|p| p.parse().ok());
                let leave = full_reconnect(protocol, proto::DisconnectReason::StateMismatch);
                let response = proto::SignalResponse {
                    message: Some(proto::signal_response::Message::Leave(leave)),
                };
                let bytes = prost::Message::encode_to_vec(&response);
                let _ = ws.send(WsMessage::Binary(bytes.into())).await;
                let _ = ws.close(None).await;
                return;
            }
        }
    } else {
        if let Some(old) = shared.sessions.get(&room, &identity) {
            // The older session is replaced: its client is told why, as LiveKit does.
            old.remote.send(proto::signal_response::Message::Leave(
                proto::LeaveRequest {
                    reason: proto::DisconnectReason::DuplicateIdentity as i32,
                    action: proto::leave_request::Action::Disconnect as i32,
                    ..Default::default()
                },
            ));
            end(&shared, &old, proto::DisconnectReason::DuplicateIdentity).await;
        }
        let protocol = query.get("protocol").and_then(|p| p.parse().ok());
        match admit(&shared, &room, &claims, protocol, tx.clone()).await {
            Ok(session) => session,
            Err(e) => {
                tracing::warn!(%e, "join failed");
                let _ = ws.close(None).await;
                return;
            }
        }
    };
    let generation = session.generation.load(Ordering::SeqCst);
    match signal::run(session.clone(), ws, rx).await {
        Ended::Left => end(&shared, &session, proto::DisconnectReason::ClientInitiated).await,
        Ended::ServerLeave(leave)
            if leave.action != proto::leave_request::Action::Resume as i32 =>
        {
            let reason = proto::DisconnectReason::try_from(leave.reason)
                .unwrap_or(proto::DisconnectReason::UnknownReason);
            end(&shared, &session, reason).await;
        }
        Ended::Dropped | Ended::ServerLeave(_) => {
            if session.generation.load(Ordering::SeqCst) != generation {
                return; // already resumed on another socket
            }
            session.remote.signal.detach(&tx);
            let departure = shared.departure;
            tokio::spawn(async move {
                tokio::time::sleep(departure).await;
                if session.generation.load(Ordering::SeqCst) == generation {
                    end(&shared, &session, proto::DisconnectReason::SignalClose).await;
                }
            });
        }
    }
}

/// The server sends the session of `identity` a `LeaveRequest` asking for `action` and closes
/// its socket; RECONNECT and DISCONNECT also end the session (see `Simulator::send_leave`).
/// Returns false when `identity` has no session in `room`.
pub(crate) async fn server_leave(
    shared: &Shared,
    room: &str,
    identity: &str,
    action: proto::leave_request::Action,
    reason: proto::DisconnectReason,
) -> bool {
    use proto::leave_request::Action;
    let Some(session) = shared.sessions.get(room, identity) else {
        return false;
    };
    let leave = match action {
        Action::Reconnect => Some(full_reconnect(Some(session.protocol), reason)),
        _ if session.protocol <= 12 => {
            (action == Action::Disconnect).then(|| proto::LeaveRequest {
                reason: reason as i32,
                ..Default::default()
            })
        }
        _ => Some(proto::LeaveRequest {
            reason: reason as i32,
            action: action as i32,
            ..Default::default()
        }),
    };
    match leave {
        Some(leave) => session
            .remote
            .send(proto::signal_response::Message::Leave(leave)),
        None => session.remote.drop_ws.notify_one(),
    }
    if action != Action::Resume {
        end(shared, &session, reason).await;
    }
    true
}

/// The `LeaveRequest` that asks a client for a full reconnect, in the form its protocol
/// version understands (`action` from 13 on, `can_reconnect` before).
pub(crate) fn full_reconnect(
    protocol: Option<i32>,
    reason: proto::DisconnectReason,
) -> proto::LeaveRequest {
    if protocol.unwrap_or(PROTOCOL) > 12 {
        proto::LeaveRequest {
            reason: reason as i32,
            action: proto::leave_request::Action::Reconnect as i32,
            ..Default::default()
        }
    } else {
        proto::LeaveRequest {
            can_reconnect: true,
            reason: reason as i32,
            ..Default::default()
        }
    }
}

/// Creates the session: JoinResponse first, then the subscriber's offer, then the room.
async fn admit(
    shared: &Arc<Shared>,
    room: &str,
    claims: &livekit_api::access_token::Claims,
    protocol: Option<i32>,
    tx: tokio::sync::mpsc::Sender<proto::SignalResponse>,
) -> Result<Arc<Session>, crate::SimError> {
    let rooms = shared.rooms.clone();
    let (room_info, _) = rooms.ensure_room(room);
    let sid = rooms.new_id("PA_");
    let info = proto::ParticipantInfo {
        sid: sid.clone(),
        identity: claims.sub.clone(),
        name: claims.name.clone(),
        metadata: claims.metadata.clone(),
        attributes: claims.attributes.clone(),
        state: proto::participant_info::State::Active as i32,
        kind: kind_of(&claims.kind) as i32,
        joined_at: now_ms() / 1000,
        joined_at_ms: now_ms(),
        version: 1,
        permission: Some(full_permission()),
        ..Default::default()
    };
    let link = SignalLink::default();
    link.attach(Some(tx));
    let announced = rooms.participants(room);
    link.send(proto::signal_response::Message::Join(proto::JoinResponse {
        room: Some(room_info),
        participant: Some(info.clone()),
        other_participants: announced.clone(),
        server_version: server_info().version,
        subscriber_primary: true,
        ping_timeout: 15,
        ping_interval: 5,
        server_info: Some(server_info()),
        server_region: "sim".to_owned(),
        ..Default::default()
    }));
    let route = DataRoute {
        rooms: rooms.clone(),
        room: room.to_owned(),
        identity: claims.sub.clone(),
        sid: sid.clone(),
        agent: kind_of(&claims.kind) == proto::participant_info::Kind::Agent,
    };
    let subscriber =
        crate::subscriber::spawn(claims.sub.clone(), link.clone(), route.clone()).await?;
    let (events_tx, events) = tokio::sync::mpsc::channel(64);
    let publisher = Peer::new(events_tx).await?;
    let remote = Arc::new(RemoteEndpoint {
        signal: link,
        subscriber,
        drop_ws: tokio::sync::Notify::new(),
    });
    let session = Arc::new(Session {
        rooms: rooms.clone(),
        room: room.to_owned(),
        identity: claims.sub.clone(),
        sid,
        remote: remote.clone(),
        publisher,
        pending_tracks: Mutex::new(Vec::new()),
        protocol: protocol.unwrap_or(PROTOCOL),
        generation: AtomicU64::new(0),
    });
    tokio::spawn(publisher_events(session.clone(), events, route));
    shared.sessions.insert(session.clone());
    let member = Member {
        info,
        endpoint: Endpoint::Remote(remote),
    };
    let Some(present) = rooms.join(room, member) else {
        return Err(crate::SimError::DuplicateIdentity {
            room: room.to_owned(),
            identity: claims.sub.clone(),
        });
    };
    // Members who came or went while the peer connections were built were in neither the
    // JoinResponse nor an update to this member (it was not in the room yet).
    let changed = membership_changes(&announced, present);
    if !changed.is_empty() {
        session
            .remote
            .signal
            .send(crate::state::participant_update(changed));
    }
    rooms.subscribe_existing(room, &claims.sub);
    shared.room_joined(room, kind_of(&claims.kind));
    Ok(session)
}

/// Ends a session: leaves the room (the others see `reason`), closes both PCs, and ends
/// the job of an agent that leaves (as LiveKit terminates a job whose agent left the room).
pub(crate) async fn end(shared: &Shared, session: &Arc<Session>, reason: proto::DisconnectReason) {
    if !shared.sessions.remove_if(session) {
        return;
    }
    session.remote.signal.attach(None);
    let left = shared
        .rooms
        .leave(&session.room, &session.identity, &session.sid, reason);
    if left.is_some() {
        crate::agent::participant_left(shared, &session.room, &session.identity);
    }
    session.remote.subscriber.close();
    session.publisher.close().await;
}

/// The `ServerInfo` the simulator reports.
pub(crate) fn server_info() -> proto::ServerInfo {
    proto::ServerInfo {
        edition: proto::server_info::Edition::Standard as i32,
        version: "1.9.0-sim".to_owned(),
        protocol: PROTOCOL,
        region: "sim".to_owned(),
        node_id: "ND_sim".to_owned(),
        ..Default::default()
    }
}

/// A token's `kind` claim as a participant kind.
fn kind_of(kind: &str) -> proto::participant_info::Kind {
    use proto::participant_info::Kind;
    match kind {
        "agent" => Kind::Agent,
        "sip" => Kind::Sip,
        "ingress" => Kind::Ingress,
        "egress" => Kind::Egress,
        _ => Kind::Standard,
    }
}
