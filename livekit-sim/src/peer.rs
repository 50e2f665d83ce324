//! Server-side PeerConnections on webrtc-rs: construction, events, and the offer/answer steps.
//!
//! Every PC binds UDP on `127.0.0.1:0`, registers only Opus (payload type 111, 48 kHz, two
//! channels in SDP as WebRTC requires) and runs without interceptors. Candidates are gathered
//! before a description is sent, so descriptions carry them (clients may still trickle theirs,
//! which [`Peer::add_candidate`] applies, holding them until a remote description is set).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};
use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceCandidateInit, RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
};

use crate::forward::OPUS_PAYLOAD_TYPE;
use crate::SimError;

/// What a PeerConnection reports to its owner.
pub(crate) enum PeerEvent {
    /// A remote track started (publisher PCs).
    Track(Arc<dyn TrackRemote>),
    /// The remote side opened a data channel.
    DataChannel(Arc<dyn DataChannel>),
    /// The connection state changed.
    State(RTCPeerConnectionState),
}

struct Handler {
    events: tokio::sync::mpsc::Sender<PeerEvent>,
    gathered: tokio::sync::watch::Sender<bool>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.gathered
            .send_replace(state == RTCIceGatheringState::Complete);
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.events.send(PeerEvent::State(state)).await;
    }

    async fn on_data_channel(&self, channel: Arc<dyn DataChannel>) {
        let _ = self.events.send(PeerEvent::DataChannel(channel)).await;
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.events.send(PeerEvent::Track(track)).await;
    }
}

/// One server-side PeerConnection.
pub(crate) struct Peer {
    pub pc: Arc<dyn PeerConnection>,
    gathered: tokio::sync::watch::Receiver<bool>,
    pending: Mutex<Option<Vec<RTCIceCandidateInit>>>,
}

/// The Opus codec as registered on every PC.
pub(crate) fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: "audio/opus".to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

impl Peer {
    /// Builds a PC; its events go to `events`.
    pub async fn new(events: tokio::sync::mpsc::Sender<PeerEvent>) -> Result<Self, SimError> {
        let mut media = MediaEngine::default();
        media.register_codec(
            RTCRtpCodecParameters {
                rtp_codec: opus_codec(),
                payload_type: OPUS_PAYLOAD_TYPE,
            },
            RtpCodecKind::Audio,
        )?;
        let (gathered_tx, gathered) = tokio::sync::watch::channel(false);
        let handler = Arc::new(Handler {
            events,
            gathered: gathered_tx,
        });
        let pc = PeerConnectionBuilder::new()
            .with_media_engine(media)
            .with_handler(handler)
            .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
            .build()
            .await?;
        Ok(Self {
            pc: Arc::new(pc),
            gathered,
            pending: Mutex::new(Some(Vec::new())),
        })
    }

    /// Sets our local description and returns it once candidates are gathered.
    async fn finish_local(&self, desc: RTCSessionDescription) -> Result<String, SimError> {
        self.pc.set_local_description(desc).await?;
        let mut gathered = self.gathered.clone();
        // Loopback gathering takes milliseconds; the bound only guards a stuck gatherer.
        let _ = tokio::time::timeout(Duration::from_secs(3), gathered.wait_for(|g| *g)).await;
        let local = self.pc.local_description().await.ok_or(SimError::Closed)?;
        Ok(local.sdp)
    }

    /// Answers a client's offer; returns the answer SDP.
    pub async fn answer(&self, offer_sdp: String) -> Result<String, SimError> {
        self.pc
            .set_remote_description(RTCSessionDescription::offer(offer_sdp)?)
            .await?;
        self.flush_pending().await;
        let answer = self.pc.create_answer(None).await?;
        self.finish_local(answer).await
    }

    /// Creates and sets a new offer; returns its SDP.
    pub async fn offer(&self) -> Result<String, SimError> {
        let offer = self.pc.create_offer(None).await?;
        self.finish_local(offer).await
    }

    /// Applies the client's answer to our offer.
    pub async fn accept_answer(&self, answer_sdp: String) -> Result<(), SimError> {
        self.pc
            .set_remote_description(RTCSessionDescription::answer(answer_sdp)?)
            .await?;
        self.flush_pending().await;
        Ok(())
    }

    /// Applies a trickled candidate (`candidate_init` JSON), or holds it until the remote
    /// description is set.
    pub async fn add_candidate(&self, candidate_init: &str) {
        let init: RTCIceCandidateInit = match serde_json::from_str(candidate_init) {
            Ok(init) => init,
            Err(e) => {
                tracing::warn!(%e, candidate_init, "unparsable trickle candidate");
                return;
            }
        };
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(pending) = pending.as_mut() {
                pending.push(init);
                return;
            }
        }
        if let Err(e) = self.pc.add_ice_candidate(init).await {
            tracing::debug!(%e, "candidate refused");
        }
    }

    async fn flush_pending(&self) {
        let held = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default();
        for init in held {
            if let Err(e) = self.pc.add_ice_candidate(init).await {
                tracing::debug!(%e, "held candidate refused");
            }
        }
    }

    /// Closes the PC.
    pub async fn close(&self) {
        let _ = self.pc.close().await;
    }
}
