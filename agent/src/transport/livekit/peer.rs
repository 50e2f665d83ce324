//! Building the two PeerConnections of a LiveKit session on webrtc-rs, and forwarding their
//! events (local ICE candidates, state changes, remote tracks, server-created data
//! channels) to the room actor through one bounded channel. The handler never blocks the
//! webrtc driver for long: a full channel drops the event and logs it (candidates and
//! tracks are few; a dropped state change is superseded by the next one).

use std::sync::Arc;

use livekit_protocol as proto;
use tokio::sync::mpsc;
use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceServer, RTCPeerConnectionIceEvent,
    RTCPeerConnectionState,
};

use super::{rtc_err, LiveKitError};

/// Which of the two PeerConnections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Publisher,
    Subscriber,
}

impl Target {
    pub fn signal(self) -> proto::SignalTarget {
        match self {
            Self::Publisher => proto::SignalTarget::Publisher,
            Self::Subscriber => proto::SignalTarget::Subscriber,
        }
    }

    pub fn from_signal(t: i32) -> Self {
        if t == proto::SignalTarget::Subscriber as i32 {
            Self::Subscriber
        } else {
            Self::Publisher
        }
    }
}

/// An event of one PeerConnection, tagged with the session generation that built it (a
/// full reconnect builds new PCs; events of the old ones are ignored).
pub enum PcEvent {
    Candidate {
        generation: u64,
        target: Target,
        init: RTCIceCandidateInit,
    },
    State {
        generation: u64,
        target: Target,
        state: RTCPeerConnectionState,
    },
    Track {
        generation: u64,
        track: Arc<dyn TrackRemote>,
    },
    DataChannel {
        generation: u64,
        channel: Arc<dyn DataChannel>,
    },
}

struct Handler {
    generation: u64,
    target: Target,
    events: mpsc::Sender<PcEvent>,
}

impl Handler {
    fn forward(&self, ev: PcEvent) {
        if self.events.try_send(ev).is_err() {
            tracing::warn!(target = ?self.target, "PeerConnection event dropped (room busy or gone).");
        }
    }
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json() {
            Ok(init) => self.forward(PcEvent::Candidate {
                generation: self.generation,
                target: self.target,
                init,
            }),
            Err(e) => tracing::debug!(error = %e, "Local ICE candidate not serialisable."),
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.forward(PcEvent::State {
            generation: self.generation,
            target: self.target,
            state,
        });
    }

    async fn on_data_channel(&self, channel: Arc<dyn DataChannel>) {
        self.forward(PcEvent::DataChannel {
            generation: self.generation,
            channel,
        });
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        self.forward(PcEvent::Track {
            generation: self.generation,
            track,
        });
    }
}

/// LiveKit's ICE servers as webrtc-rs wants them (TURN credentials are passwords).
pub fn ice_servers(servers: &[proto::IceServer]) -> Vec<RTCIceServer> {
    servers
        .iter()
        .map(|s| RTCIceServer {
            urls: s.urls.clone(),
            username: s.username.clone(),
            credential: s.credential.clone(),
        })
        .collect()
}

/// The PC type every session uses.
pub type Pc = Arc<dyn PeerConnection>;

/// Builds one PeerConnection with the default codecs (Opus among them) and no interceptors
/// (LiveKit's transport-wide congestion feedback is not needed for one audio track).
///
/// # Errors
/// [`LiveKitError::WebRtc`] when webrtc-rs refuses the configuration or cannot bind.
pub async fn build(
    generation: u64,
    target: Target,
    servers: &[proto::IceServer],
    udp_bind: &str,
    events: mpsc::Sender<PcEvent>,
) -> Result<Pc, LiveKitError> {
    let mut media = MediaEngine::default();
    media
        .register_default_codecs()
        .map_err(rtc_err("register codecs"))?;
    let config = RTCConfigurationBuilder::new()
        .with_ice_servers(ice_servers(servers))
        .build();
    let pc = PeerConnectionBuilder::new()
        .with_configuration(config)
        .with_media_engine(media)
        .with_handler(Arc::new(Handler {
            generation,
            target,
            events,
        }))
        .with_udp_addrs(vec![udp_bind.to_string()])
        .build()
        .await
        .map_err(rtc_err("build PeerConnection"))?;
    Ok(Arc::new(pc))
}
