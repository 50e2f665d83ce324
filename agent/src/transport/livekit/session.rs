//! One connection generation of a room: the signal link, the two PeerConnections, our
//! published microphone track and the publisher's data channels. The room actor owns it
//! and calls its methods from its loop; a full reconnect replaces it with a new one (a new
//! generation), a resume keeps it and swaps only the signal link.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::BytesMut;
use livekit_protocol as proto;
use proto::signal_request::Message as Req;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::mpsc;
use tokio::time::Instant;
use webrtc::data_channel::{DataChannel, RTCDataChannelInit, RTCDataChannelState};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::{MediaStreamTrack, Track};
use webrtc::peer_connection::{RTCIceCandidateInit, RTCSdpType, RTCSessionDescription};

use super::bridge::Publication;
use super::peer::{self, Pc, PcEvent, Target};
use super::signal::{connect_rtc, ConnectMode, Keepalive, SignalLink};
use super::{rtc_err, LiveKitError};

/// Data packets held while the publisher's channel is not open yet.
const HELD_DATA: usize = 64;
/// The cid (client track id) of our microphone track.
pub const MIC_CID: &str = "switchboard-mic";

/// What `establish` needs.
pub struct SessionConfig<'a> {
    pub url: &'a str,
    pub token: &'a str,
    pub udp_bind: &'a str,
    pub track_name: &'a str,
}

pub struct Session {
    pub link: SignalLink,
    pub join: proto::JoinResponse,
    pub publisher: Pc,
    pub subscriber: Pc,
    /// Our `_reliable` / `_lossy` channels on the publisher PC.
    pub reliable: Arc<dyn DataChannel>,
    pub lossy: Arc<dyn DataChannel>,
    held: VecDeque<(bool, Vec<u8>)>,
    /// Remote candidates that arrived before the PC's remote description.
    early: [Vec<RTCIceCandidateInit>; 2],
    pub keepalive: Keepalive,
    pub mic: Arc<TrackLocalStaticRTP>,
    mic_ssrc: u32,
    pub mic_sender: Option<Arc<dyn webrtc::rtp_transceiver::RtpSender>>,
    /// The server's answer to our AddTrackRequest.
    pub published: Option<proto::TrackPublishedResponse>,
}

fn slot(t: Target) -> usize {
    match t {
        Target::Publisher => 0,
        Target::Subscriber => 1,
    }
}

pub(super) fn mic_track(ssrc: u32) -> MediaStreamTrack {
    MediaStreamTrack::new(
        "switchboard".to_string(),
        MIC_CID.to_string(),
        "microphone".to_string(),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: RTCRtpCodec {
                mime_type: MIME_TYPE_OPUS.to_string(),
                clock_rate: 48_000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".to_string(),
                rtcp_feedback: vec![],
            },
            ..Default::default()
        }],
    )
}

impl Session {
    /// Joins: opens the signal link, builds both PCs and the publisher's data channels, and
    /// asks to publish our microphone (the offer follows `TrackPublished`).
    ///
    /// # Errors
    /// Signal or WebRTC setup failures.
    pub async fn establish(
        cfg: &SessionConfig<'_>,
        generation: u64,
        pc_events: mpsc::Sender<PcEvent>,
    ) -> Result<Self, LiveKitError> {
        let (mut link, first) = connect_rtc(cfg.url, cfg.token, &ConnectMode::Join).await?;
        let proto::signal_response::Message::Join(join) = first else {
            return Err(LiveKitError::Unexpected(
                "first response is not a join".into(),
            ));
        };
        let publisher = peer::build(
            generation,
            Target::Publisher,
            &join.ice_servers,
            cfg.udp_bind,
            pc_events.clone(),
        )
        .await?;
        let subscriber = peer::build(
            generation,
            Target::Subscriber,
            &join.ice_servers,
            cfg.udp_bind,
            pc_events,
        )
        .await?;
        let reliable = publisher
            .create_data_channel(
                "_reliable",
                Some(RTCDataChannelInit {
                    ordered: true,
                    ..Default::default()
                }),
            )
            .await
            .map_err(rtc_err("create _reliable"))?;
        let lossy = publisher
            .create_data_channel(
                "_lossy",
                Some(RTCDataChannelInit {
                    ordered: false,
                    max_retransmits: Some(0),
                    ..Default::default()
                }),
            )
            .await
            .map_err(rtc_err("create _lossy"))?;
        let mic_ssrc = (uuid::Uuid::new_v4().as_u128() & 0xffff_ffff) as u32;
        let mic = Arc::new(TrackLocalStaticRTP::new(mic_track(mic_ssrc)));
        link.send(&request(Req::AddTrack(proto::AddTrackRequest {
            cid: MIC_CID.to_string(),
            name: cfg.track_name.to_string(),
            r#type: proto::TrackType::Audio as i32,
            source: proto::TrackSource::Microphone as i32,
            ..Default::default()
        })))
        .await?;
        let keepalive = Keepalive::new(join.ping_interval, join.ping_timeout, Instant::now());
        Ok(Self {
            link,
            join,
            publisher,
            subscriber,
            reliable,
            lossy,
            held: VecDeque::new(),
            early: [Vec::new(), Vec::new()],
            keepalive,
            mic,
            mic_ssrc,
            mic_sender: None,
            published: None,
        })
    }

    pub fn own_sid(&self) -> &str {
        self.join
            .participant
            .as_ref()
            .map_or("", |p| p.sid.as_str())
    }

    pub fn own_identity(&self) -> &str {
        self.join
            .participant
            .as_ref()
            .map_or("", |p| p.identity.as_str())
    }

    fn pc(&self, t: Target) -> &Pc {
        match t {
            Target::Publisher => &self.publisher,
            Target::Subscriber => &self.subscriber,
        }
    }

    /// Sends a request on the signal link.
    ///
    /// # Errors
    /// [`LiveKitError::Closed`] when the link is down.
    pub async fn send(&mut self, m: Req) -> Result<(), LiveKitError> {
        self.link.send(&request(m)).await
    }

    /// `TrackPublished` for our microphone: adds the track and offers.
    ///
    /// # Errors
    /// WebRTC or signal failures.
    pub async fn on_track_published(
        &mut self,
        resp: proto::TrackPublishedResponse,
    ) -> Result<(), LiveKitError> {
        if resp.cid != MIC_CID {
            return Ok(());
        }
        let first = self.published.is_none();
        self.published = Some(resp);
        if first {
            let sender = self
                .publisher
                .add_track(self.mic.clone() as Arc<dyn TrackLocal>)
                .await
                .map_err(rtc_err("add microphone track"))?;
            self.mic_sender = Some(sender);
        }
        self.offer_publisher().await
    }

    /// Creates and sends a publisher offer (with an ICE restart when one was requested).
    ///
    /// # Errors
    /// WebRTC or signal failures.
    pub async fn offer_publisher(&mut self) -> Result<(), LiveKitError> {
        let offer = self
            .publisher
            .create_offer(None)
            .await
            .map_err(rtc_err("publisher offer"))?;
        self.publisher
            .set_local_description(offer.clone())
            .await
            .map_err(rtc_err("publisher local description"))?;
        self.send(Req::Offer(to_proto(&offer))).await
    }

    /// The server's answer to our publisher offer.
    ///
    /// # Errors
    /// WebRTC failures.
    pub async fn on_answer(&mut self, sd: proto::SessionDescription) -> Result<(), LiveKitError> {
        let desc = RTCSessionDescription::answer(sd.sdp).map_err(rtc_err("parse answer"))?;
        self.publisher
            .set_remote_description(desc)
            .await
            .map_err(rtc_err("publisher remote description"))?;
        self.flush_candidates(Target::Publisher).await;
        Ok(())
    }

    /// A server offer for the subscriber PC: answer it.
    ///
    /// # Errors
    /// WebRTC or signal failures.
    pub async fn on_offer(&mut self, sd: proto::SessionDescription) -> Result<(), LiveKitError> {
        let id = sd.id;
        let desc = RTCSessionDescription::offer(sd.sdp).map_err(rtc_err("parse offer"))?;
        self.subscriber
            .set_remote_description(desc)
            .await
            .map_err(rtc_err("subscriber remote description"))?;
        self.flush_candidates(Target::Subscriber).await;
        let answer = self
            .subscriber
            .create_answer(None)
            .await
            .map_err(rtc_err("subscriber answer"))?;
        self.subscriber
            .set_local_description(answer.clone())
            .await
            .map_err(rtc_err("subscriber local description"))?;
        let mut a = to_proto(&answer);
        a.id = id;
        self.send(Req::Answer(a)).await
    }

    /// A remote ICE candidate from the server.
    pub async fn on_trickle(&mut self, t: proto::TrickleRequest) {
        let target = Target::from_signal(t.target);
        let init: RTCIceCandidateInit = match serde_json::from_str(&t.candidate_init) {
            Ok(i) => i,
            Err(e) => {
                tracing::debug!(error = %e, "Unparsable trickle candidate ignored.");
                return;
            }
        };
        if self.pc(target).remote_description().await.is_none() {
            self.early[slot(target)].push(init);
            return;
        }
        if let Err(e) = self.pc(target).add_ice_candidate(init).await {
            tracing::debug!(error = %e, ?target, "Remote candidate rejected.");
        }
    }

    async fn flush_candidates(&mut self, target: Target) {
        for init in std::mem::take(&mut self.early[slot(target)]) {
            if let Err(e) = self.pc(target).add_ice_candidate(init).await {
                tracing::debug!(error = %e, ?target, "Early remote candidate rejected.");
            }
        }
    }

    /// One of our local candidates, trickled to the server.
    ///
    /// # Errors
    /// [`LiveKitError::Closed`] when the link is down.
    pub async fn trickle_local(
        &mut self,
        target: Target,
        init: &RTCIceCandidateInit,
    ) -> Result<(), LiveKitError> {
        let json = serde_json::to_string(init).unwrap_or_default();
        self.send(Req::Trickle(proto::TrickleRequest {
            candidate_init: json,
            target: target.signal() as i32,
            r#final: false,
        }))
        .await
    }

    /// What the sender writes to, once the publisher has negotiated a payload type.
    pub async fn publication(&self) -> Option<Publication> {
        let sender = self.mic_sender.as_ref()?;
        let params = sender.get_parameters().await.ok()?;
        let codec = params.rtp_parameters.codecs.first()?;
        Some(Publication {
            track: self.mic.clone(),
            ssrc: self
                .mic
                .ssrcs()
                .await
                .first()
                .copied()
                .unwrap_or(self.mic_ssrc),
            payload_type: codec.payload_type,
        })
    }

    /// Publishes a data packet on our reliable (or lossy) channel, holding it while the
    /// channel opens; the oldest held packet goes when the hold is full.
    pub async fn publish_data(&mut self, reliable: bool, bytes: Vec<u8>) {
        if self.held.len() >= HELD_DATA {
            self.held.pop_front();
            tracing::warn!("Data packet dropped: the data channel has not opened.");
        }
        self.held.push_back((reliable, bytes));
        self.flush_data().await;
    }

    /// Sends held data packets if the channel is open.
    pub async fn flush_data(&mut self) {
        if self.held.is_empty()
            || !matches!(
                self.reliable.ready_state().await,
                Ok(RTCDataChannelState::Open)
            )
        {
            return;
        }
        while let Some((reliable, bytes)) = self.held.pop_front() {
            let dc = if reliable {
                &self.reliable
            } else {
                &self.lossy
            };
            if let Err(e) = dc.send(BytesMut::from(bytes.as_slice())).await {
                tracing::warn!(error = %e, "Data packet not sent.");
            }
        }
    }

    /// The SyncState that tells the server what this client has after a resume.
    pub async fn sync_state(&self, subscribed: Vec<String>) -> proto::SyncState {
        let answer = self
            .subscriber
            .current_local_description()
            .await
            .map(|d| to_proto(&d));
        let offer = self
            .publisher
            .local_description()
            .await
            .map(|d| to_proto(&d));
        let data_channels = [(&self.reliable, "_reliable"), (&self.lossy, "_lossy")]
            .iter()
            .map(|(dc, label)| proto::DataChannelInfo {
                label: label.to_string(),
                id: dc.id() as u32,
                target: proto::SignalTarget::Publisher as i32,
            })
            .collect();
        proto::SyncState {
            answer,
            offer,
            subscription: Some(proto::UpdateSubscription {
                track_sids: subscribed,
                subscribe: true,
                ..Default::default()
            }),
            publish_tracks: self.published.iter().cloned().collect(),
            data_channels,
            ..Default::default()
        }
    }

    /// Closes both PCs and the link (no LeaveRequest: see `leave`).
    pub async fn close(&mut self) {
        let _ = self.publisher.close().await;
        let _ = self.subscriber.close().await;
        self.link.close().await;
    }

    /// Sends a LeaveRequest (client initiated, disconnect) and closes everything.
    pub async fn leave(&mut self) {
        let _ = self
            .send(Req::Leave(proto::LeaveRequest {
                can_reconnect: false,
                reason: proto::DisconnectReason::ClientInitiated as i32,
                action: proto::leave_request::Action::Disconnect as i32,
                ..Default::default()
            }))
            .await;
        self.close().await;
    }
}

pub fn request(m: Req) -> proto::SignalRequest {
    proto::SignalRequest { message: Some(m) }
}

fn to_proto(d: &RTCSessionDescription) -> proto::SessionDescription {
    proto::SessionDescription {
        r#type: match d.sdp_type {
            RTCSdpType::Offer => "offer",
            RTCSdpType::Pranswer => "pranswer",
            RTCSdpType::Rollback => "rollback",
            _ => "answer",
        }
        .to_string(),
        sdp: d.sdp.clone(),
        ..Default::default()
    }
}
