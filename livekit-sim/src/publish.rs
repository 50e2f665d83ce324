//! What a participant's publisher PeerConnection brings in (tracks matched to their
//! `AddTrackRequest`, then forwarded to subscribers; data channels routed), and the
//! membership changes a joining participant missed while its PeerConnections were built.

use std::sync::Arc;

use livekit_protocol as proto;
use webrtc::media_stream::track_remote::TrackRemoteEvent;

use crate::data::DataRoute;
use crate::forward::Fanout;
use crate::join::Session;
use crate::peer::PeerEvent;
use crate::state::Publication;

/// Who joined since `announced` was taken (their current info) and who left (announced as
/// disconnected).
pub(crate) fn membership_changes(
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
pub(crate) async fn publisher_events(
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
