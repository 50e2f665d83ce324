//! The server-side subscriber PeerConnection of one remote participant, as an actor.
//!
//! Lifecycle: spawned when the participant joins; creates the `_reliable` and `_lossy` data
//! channels (LiveKit puts them on the subscriber PC when `subscriber_primary`), sends the
//! first offer, then serialises every change: a track added or removed while an offer is
//! outstanding is folded into the next offer, sent when the answer arrives. Offers carry
//! `mid_to_track_id`. Ends on `Close` or when every handle is dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use livekit_protocol as proto;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use webrtc::data_channel::{DataChannel, DataChannelEvent, RTCDataChannelInit};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::MediaStreamTrack;
use webrtc::rtp_transceiver::RtpSender;

use crate::data::DataRoute;
use crate::forward::Sink;
use crate::peer::{opus_codec, Peer};
use crate::state::{Publication, SignalLink};
use crate::SimError;

enum Command {
    AddTrack(Arc<Publication>),
    RemoveTrack(String),
    Answer(String),
    Candidate(String),
    Close,
}

/// The two data channels toward the client.
#[derive(Default)]
struct Channels {
    reliable: Mutex<Option<Arc<dyn DataChannel>>>,
    lossy: Mutex<Option<Arc<dyn DataChannel>>>,
}

/// Talks to a subscriber actor.
#[derive(Clone)]
pub(crate) struct SubscriberHandle {
    commands: tokio::sync::mpsc::Sender<Command>,
    channels: Arc<Channels>,
}

impl SubscriberHandle {
    fn command(&self, command: Command) {
        if self.commands.try_send(command).is_err() {
            tracing::warn!("subscriber actor queue full or gone: command dropped");
        }
    }

    /// Subscribes the participant to a publication (renegotiates).
    pub fn add_track(&self, publication: Arc<Publication>) {
        self.command(Command::AddTrack(publication));
    }

    /// Removes a publication's track (renegotiates).
    pub fn remove_track(&self, track_sid: String) {
        self.command(Command::RemoveTrack(track_sid));
    }

    /// The client's answer to our last offer.
    pub fn answer(&self, sdp: String) {
        self.command(Command::Answer(sdp));
    }

    /// A candidate the client trickled for this PC.
    pub fn candidate(&self, candidate_init: String) {
        self.command(Command::Candidate(candidate_init));
    }

    /// Closes the PC and ends the actor.
    pub fn close(&self) {
        self.command(Command::Close);
    }

    /// Sends an encoded `DataPacket` on `_reliable` (or `_lossy`).
    pub async fn send_data(&self, bytes: &[u8], reliable: bool) {
        let slot = if reliable {
            &self.channels.reliable
        } else {
            &self.channels.lossy
        };
        let channel = slot.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(channel) = channel {
            if let Err(e) = channel.send(BytesMut::from(bytes)).await {
                tracing::debug!(%e, "data channel send failed");
            }
        }
    }
}

struct Actor {
    identity: String,
    peer: Peer,
    signal: SignalLink,
    senders: HashMap<String, (Arc<dyn RtpSender>, Arc<Publication>)>,
    awaiting_answer: bool,
    dirty: bool,
    offers: u32,
}

/// Starts the actor for `identity`; data the client sends on these channels is routed too.
pub(crate) async fn spawn(
    identity: String,
    signal: SignalLink,
    route: DataRoute,
) -> Result<SubscriberHandle, SimError> {
    let (events_tx, mut events) = tokio::sync::mpsc::channel(64);
    let peer = Peer::new(events_tx).await?;
    let channels = Arc::new(Channels::default());
    let reliable = peer.pc.create_data_channel("_reliable", None).await?;
    let lossy_init = RTCDataChannelInit {
        ordered: false,
        max_retransmits: Some(0),
        ..Default::default()
    };
    let lossy = peer
        .pc
        .create_data_channel("_lossy", Some(lossy_init))
        .await?;
    for channel in [reliable.clone(), lossy.clone()] {
        tokio::spawn(read_channel(channel, route.clone()));
    }
    *channels.reliable.lock().unwrap_or_else(|e| e.into_inner()) = Some(reliable);
    *channels.lossy.lock().unwrap_or_else(|e| e.into_inner()) = Some(lossy);
    // Remote-initiated events on a subscriber PC are not expected; drain them.
    tokio::spawn(async move { while events.recv().await.is_some() {} });

    let (commands, mut rx) = tokio::sync::mpsc::channel(256);
    let mut actor = Actor {
        identity,
        peer,
        signal,
        senders: HashMap::new(),
        awaiting_answer: false,
        dirty: false,
        offers: 0,
    };
    tokio::spawn(async move {
        actor.negotiate().await;
        while let Some(command) = rx.recv().await {
            if !actor.handle(command).await {
                break;
            }
        }
        actor.peer.close().await;
    });
    Ok(SubscriberHandle { commands, channels })
}

/// Reads one data channel the client may write to, routing its packets.
pub(crate) async fn read_channel(channel: Arc<dyn DataChannel>, route: DataRoute) {
    let label = channel.label().await.unwrap_or_default();
    while let Some(event) = channel.poll().await {
        tracing::trace!(label, identity = %route.identity, "data channel event");
        match event {
            DataChannelEvent::OnMessage(message) => route.route(&message.data).await,
            DataChannelEvent::OnClose => break,
            _ => {}
        }
    }
}

impl Actor {
    async fn handle(&mut self, command: Command) -> bool {
        match command {
            Command::AddTrack(publication) => {
                if let Err(e) = self.add_track(publication).await {
                    tracing::warn!(%e, identity = %self.identity, "subscribing failed");
                }
                self.negotiate().await;
            }
            Command::RemoveTrack(sid) => {
                if let Some((sender, _)) = self.senders.remove(&sid) {
                    let _ = self.peer.pc.remove_track(&sender).await;
                    self.negotiate().await;
                }
            }
            Command::Answer(sdp) => {
                if let Err(e) = self.peer.accept_answer(sdp).await {
                    tracing::warn!(%e, identity = %self.identity, "subscriber answer refused");
                }
                self.awaiting_answer = false;
                if std::mem::take(&mut self.dirty) {
                    self.negotiate().await;
                }
            }
            Command::Candidate(init) => self.peer.add_candidate(&init).await,
            Command::Close => return false,
        }
        true
    }

    async fn add_track(&mut self, publication: Arc<Publication>) -> Result<(), SimError> {
        let sid = publication.info.sid.clone();
        if self.senders.contains_key(&sid) {
            return Ok(());
        }
        let ssrc = ssrc_for(&self.identity, &sid);
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            format!("{}|{}", publication.owner_sid, sid),
            sid.clone(),
            publication.info.name.clone(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: opus_codec(),
                ..Default::default()
            }],
        )));
        let sender = self.peer.pc.add_track(track.clone()).await?;
        publication
            .fanout
            .add(self.identity.clone(), Sink::Rtp(track, ssrc));
        self.senders.insert(sid, (sender, publication));
        Ok(())
    }

    async fn negotiate(&mut self) {
        if self.awaiting_answer {
            self.dirty = true;
            return;
        }
        match self.peer.offer().await {
            Ok(sdp) => {
                self.offers += 1;
                let mid_to_track_id = crate::sdp::mid_to_track_id(&sdp);
                self.signal.send(proto::signal_response::Message::Offer(
                    proto::SessionDescription {
                        r#type: "offer".to_owned(),
                        sdp,
                        id: self.offers,
                        mid_to_track_id,
                    },
                ));
                self.awaiting_answer = true;
            }
            Err(e) => tracing::warn!(%e, identity = %self.identity, "subscriber offer failed"),
        }
    }
}

/// A stable, distinct SSRC per (subscriber, track).
fn ssrc_for(identity: &str, track_sid: &str) -> u32 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (identity, track_sid).hash(&mut hasher);
    (hasher.finish() as u32) | 1
}
