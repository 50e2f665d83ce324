//! One `/rtc` WebSocket: the signal loop of a participant.
//!
//! Lifecycle: [`crate::join`] admits the participant (new join or resume) and hands the
//! WebSocket here. The loop forwards queued `SignalResponse`s, applies `SignalRequest`s, and
//! ends on `LeaveRequest` (the participant leaves), on a closed socket or on
//! `Simulator::drop_connection` (the participant stays for a resume until the departure
//! timeout), or after the server's own `LeaveRequest` went out (`Simulator::send_leave`: the
//! socket is closed behind it, as LiveKit closes the signal connection).

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use livekit_protocol as proto;
use prost::Message as _;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::join::Session;
use crate::state::now_ms;

/// How a signal loop ended.
#[derive(Debug, PartialEq)]
pub(crate) enum Ended {
    /// The client sent `LeaveRequest`.
    Left,
    /// The socket closed or was cut without a leave.
    Dropped,
    /// The server sent this `LeaveRequest` and closed the socket.
    ServerLeave(proto::LeaveRequest),
}

/// Runs the loop until the socket ends.
pub(crate) async fn run(
    session: Arc<Session>,
    mut ws: WebSocketStream<TcpStream>,
    mut outgoing: tokio::sync::mpsc::Receiver<proto::SignalResponse>,
) -> Ended {
    loop {
        tokio::select! {
            biased;
            () = session.remote.drop_ws.notified() => return Ended::Dropped,
            Some(response) = outgoing.recv() => {
                let bytes = response.encode_to_vec();
                if ws.send(Message::Binary(bytes.into())).await.is_err() {
                    return Ended::Dropped;
                }
                if let Some(proto::signal_response::Message::Leave(leave)) = response.message {
                    let _ = ws.close(None).await;
                    return Ended::ServerLeave(leave);
                }
            }
            frame = ws.next() => match frame {
                Some(Ok(Message::Binary(bytes))) => {
                    match proto::SignalRequest::decode(bytes.as_ref()) {
                        Ok(request) => {
                            if let Some(message) = request.message {
                                if handle(&session, message).await {
                                    let _ = ws.close(None).await;
                                    return Ended::Left;
                                }
                            }
                        }
                        Err(e) => tracing::warn!(%e, "undecodable signal request"),
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ended::Dropped,
                Some(Ok(_)) => {}
            }
        }
    }
}

/// Applies one request; returns true when the participant left.
#[allow(deprecated)] // stereo/disable_dtx: still sent by current clients
async fn handle(session: &Session, message: proto::signal_request::Message) -> bool {
    use proto::signal_request::Message as Req;
    use proto::signal_response::Message as Resp;
    match message {
        Req::Offer(offer) => match session.publisher.answer(offer.sdp).await {
            Ok(sdp) => session.remote.send(Resp::Answer(proto::SessionDescription {
                r#type: "answer".to_owned(),
                sdp,
                id: offer.id,
                mid_to_track_id: Default::default(),
            })),
            Err(e) => tracing::warn!(%e, "publisher offer refused"),
        },
        Req::Answer(answer) => session.remote.subscriber.answer(answer.sdp),
        Req::Trickle(trickle) => {
            if trickle.target == proto::SignalTarget::Subscriber as i32 {
                session.remote.subscriber.candidate(trickle.candidate_init);
            } else {
                session
                    .publisher
                    .add_candidate(&trickle.candidate_init)
                    .await;
            }
        }
        Req::AddTrack(request) => {
            let mut info = audio_track_info(session.rooms.new_id("TR_"), request.name.clone());
            info.source = request.source;
            info.muted = request.muted;
            info.stereo = request.stereo;
            info.disable_dtx = request.disable_dtx;
            info.stream = request.stream.clone();
            session
                .pending_tracks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((request.cid.clone(), info.clone()));
            session
                .remote
                .send(Resp::TrackPublished(proto::TrackPublishedResponse {
                    cid: request.cid,
                    track: Some(info),
                }));
        }
        Req::Leave(_) => return true,
        Req::Ping(timestamp) => session.remote.send(Resp::Pong(timestamp)),
        Req::PingReq(ping) => session.remote.send(Resp::PongResp(proto::Pong {
            last_ping_timestamp: ping.timestamp,
            timestamp: now_ms(),
        })),
        Req::UpdateMetadata(update) => {
            session
                .rooms
                .update_info(&session.room, &session.identity, |info| {
                    if !update.name.is_empty() {
                        info.name = update.name.clone();
                    }
                    if !update.metadata.is_empty() {
                        info.metadata = update.metadata.clone();
                    }
                    for (key, value) in &update.attributes {
                        if value.is_empty() {
                            info.attributes.remove(key);
                        } else {
                            info.attributes.insert(key.clone(), value.clone());
                        }
                    }
                });
        }
        Req::Mute(mute) => {
            session
                .rooms
                .update_info(&session.room, &session.identity, |info| {
                    for track in info.tracks.iter_mut().filter(|t| t.sid == mute.sid) {
                        track.muted = mute.muted;
                    }
                });
        }
        // Auto-subscribe only; layers, settings, sync state and the rest need no action here.
        _ => {}
    }
    false
}

/// A published audio track's info before media arrives.
pub(crate) fn audio_track_info(sid: String, name: String) -> proto::TrackInfo {
    proto::TrackInfo {
        sid,
        name,
        r#type: proto::TrackType::Audio as i32,
        source: proto::TrackSource::Microphone as i32,
        mime_type: "audio/opus".to_owned(),
        ..Default::default()
    }
}

/// Everything allowed (the simulator does not police grants beyond room join).
pub(crate) fn full_permission() -> proto::ParticipantPermission {
    proto::ParticipantPermission {
        can_subscribe: true,
        can_publish: true,
        can_publish_data: true,
        can_update_metadata: true,
        ..Default::default()
    }
}
