//! Admitting a WebSocket on `/rtc`: a new join or the resume of a dropped participant.
//!
//! Lifecycle of a [`Session`] (one remote participant): created on join with its publisher and
//! subscriber PCs; a dropped socket detaches it and starts the departure timer; a resume
//! (`reconnect=1&sid=...`) attaches a new socket to the same session and PCs; `LeaveRequest`,
//! eviction by a new join with the same identity, or the departure timeout end it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use livekit_protocol as proto;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use webrtc::media_stream::track_remote::TrackRemoteEvent;

use crate::data::DataRoute;
use crate::forward::Fanout;
use crate::peer::{Peer, PeerEvent};
use crate::signal::{self, full_permission, Ended};
use crate::simulator::Shared;
use crate::state::{now_ms, Endpoint, Member, Publication, RemoteEndpoint, Rooms, SignalLink};

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
    generation: AtomicU64,
}

/// Live sessions by (room, identity).
#[derive(Default)]
pub(crate) struct Sessions(Mutex<HashMap<(String, String), Arc<Session>>>);

impl Sessions {
    fn get(&self, room: &str, identity: &str) -> Option<Arc<Session>> {
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
                session.remote.signal.attach(Some(tx));
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
                let _ = ws.close(None).await;
                return;
            }
        }
    } else {
        if let Some(old) = shared.sessions.get(&room, &identity) {
            old.remote.drop_ws.notify_one();
            end(&shared, &old).await;
        }
        match admit(&shared, &room, &claims, tx).await {
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
        Ended::Left => end(&shared, &session).await,
        Ended::Dropped => {
            if session.generation.load(Ordering::SeqCst) != generation {
                return; // already resumed on another socket
            }
            session.remote.signal.attach(None);
            let departure = shared.departure;
            tokio::spawn(async move {
                tokio::time::sleep(departure).await;
                if session.generation.load(Ordering::SeqCst) == generation {
                    end(&shared, &session).await;
                }
            });
        }
    }
}

/// Creates the session: JoinResponse first, then the subscriber's offer, then the room.
async fn admit(
    shared: &Arc<Shared>,
    room: &str,
    claims: &livekit_api::access_token::Claims,
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
        session.remote.signal.send(crate::state::participant_update(changed));
    }
    rooms.subscribe_existing(room, &claims.sub);
    shared.room_joined(room, kind_of(&claims.kind));
    Ok(session)
}

/// Who joined since `announced` was taken (their current info) and who left (announced as
/// disconnected).
fn membership_changes(
    announced: &[proto::ParticipantInfo],
    present: Vec<proto::ParticipantInfo>,
) -> Vec<proto::ParticipantInfo> {
    let mut changes: Vec<_> = announced
        .iter()
        .filter(|a| !present.iter().any(|p| p.sid == a.sid))
        .map(|a| proto::ParticipantInfo {
            state: proto::participant_info::State::Disconnected as i32,
            tracks: Vec::new(),
            ..a.clone()
        })
        .collect();
    changes.extend(
        present
            .into_iter()
            .filter(|p| !announced.iter().any(|a| a.sid == p.sid)),
    );
    changes
}

/// Tracks and data channels arriving on the publisher PC.
async fn publisher_events(
    session: Arc<Session>,
    mut events: tokio::sync::mpsc::Receiver<PeerEvent>,
    route: DataRoute,
) {
    while let Some(event) = events.recv().await {
        match event {
            PeerEvent::Track(track) => {
                let track_id = track.track_id().await;
                let info = {
                    let mut pending = session
                        .pending_tracks
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    let index = pending.iter().position(|(cid, _)| *cid == track_id);
                    match index.or(if pending.is_empty() { None } else { Some(0) }) {
                        Some(i) => pending.remove(i).1,
                        None => {
                            tracing::warn!(track_id, "media for a track never announced");
                            continue;
                        }
                    }
                };
                let publication = Arc::new(Publication {
                    owner: session.identity.clone(),
                    owner_sid: session.sid.clone(),
                    info,
                    fanout: Fanout::default(),
                });
                session.rooms.publish(&session.room, publication.clone());
                tokio::spawn(async move {
                    while let Some(event) = track.poll().await {
                        match event {
                            TrackRemoteEvent::OnRtpPacket(packet) => {
                                publication.fanout.forward(&packet).await;
                            }
                            TrackRemoteEvent::OnEnded => break,
                            _ => {}
                        }
                    }
                });
            }
            PeerEvent::DataChannel(channel) => {
                tokio::spawn(crate::subscriber::read_channel(channel, route.clone()));
            }
            PeerEvent::State(state) => {
                tracing::debug!(identity = %session.identity, %state, "publisher PC");
            }
        }
    }
}

/// Ends a session: leaves the room and closes both PCs.
pub(crate) async fn end(shared: &Shared, session: &Arc<Session>) {
    if !shared.sessions.remove_if(session) {
        return;
    }
    session.remote.signal.attach(None);
    shared.rooms.leave(
        &session.room,
        &session.identity,
        proto::DisconnectReason::ClientInitiated,
    );
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
