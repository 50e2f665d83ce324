//! LiveKit rooms without libwebrtc: Switchboard joins a room as an AI agent participant over
//! the LiveKit signal protocol (`/rtc`, protobuf over WebSocket) and two webrtc-rs
//! PeerConnections, and takes jobs from LiveKit's agent dispatch (`/agent`).
//!
//! ```text
//! /rtc WebSocket ─ signal (SignalRequest/Response, ping/pong) ─┐
//!                                                              ▼
//!   subscriber PC (answers server offers) ── caller's Opus track ─ bridge::decode ─→ CallMedia.input
//!   publisher PC  (offers after AddTrack) ←─ bridge::encode ←─ LiveKitOut ←────── CallMedia.output
//!   data channels `_reliable`/`_lossy` ─ data (sip_dtmf → DTMF; transcript/state out)
//!                                    room (actor: participants, resume, reconnect)
//! /agent WebSocket ─ worker (register, availability by load, assignment → room::join)
//! ```
//!
//! Files: `signal` is the WebSocket link, `peer` builds PeerConnections and forwards their
//! events, `participants` and `data` are pure (who is the caller; DataPacket codecs),
//! `bridge` converts between Opus 48 kHz RTP and the call's frames, `room` is the actor that
//! owns one session and `session` its connection state, `worker` the dispatch client.

pub mod bridge;
pub mod data;
mod handle;
#[cfg(test)]
mod loopback_tests;
pub mod participants;
mod peer;
mod reconnect;
pub mod room;
mod session;
pub mod signal;
mod tracks;
pub mod worker;

pub use data::{AgentState, DataMessage};
pub use handle::{LiveKitControl, RoomHandle};
pub use participants::{CallerRule, Participant, ParticipantRole};
pub use room::{join, JoinedRoom, RoomEvent, RoomOptions};
pub use worker::{JobRequest, WorkerConfig, WorkerEvent, WorkerHandle};

/// Errors of the LiveKit transport.
#[derive(Debug, thiserror::Error)]
pub enum LiveKitError {
    /// The URL is not a ws/wss/http/https URL.
    #[error("invalid LiveKit URL {0:?}")]
    InvalidUrl(String),
    /// The WebSocket could not be opened (refused, TLS, HTTP status such as 401).
    #[error("signal connection to {url} failed: {reason}")]
    Connect { url: String, reason: String },
    /// The server did not send its first response (JoinResponse, ReconnectResponse,
    /// RegisterWorkerResponse) in time.
    #[error("no {0} from the server in time")]
    NoResponse(&'static str),
    /// The server sent something other than what the protocol expects at this point.
    #[error("unexpected server message: {0}")]
    Unexpected(String),
    /// A frame did not decode as protobuf.
    #[error("malformed message: {0}")]
    Decode(#[from] prost::DecodeError),
    /// The WebSocket failed or closed.
    #[error("signal link closed: {0}")]
    Closed(String),
    /// The server asked us to leave (`LeaveRequest` that allows no reconnect).
    #[error("the server asked us to leave: {0}")]
    Left(String),
    /// A WebRTC operation failed.
    #[error("WebRTC {context}: {source}")]
    WebRtc {
        context: &'static str,
        source: webrtc::error::Error,
    },
    /// The Opus codec or the resampler failed.
    #[error("audio: {0}")]
    Audio(String),
    /// Token generation failed.
    #[error("access token: {0}")]
    Token(String),
    /// The room actor is gone (the room was left or failed).
    #[error("the room is no longer joined")]
    RoomGone,
}

impl LiveKitError {
    /// Whether a later attempt may succeed (network trouble rather than a refusal).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Connect { reason, .. } => !reason.contains("401") && !reason.contains("403"),
            Self::NoResponse(_) | Self::Closed(_) | Self::WebRtc { .. } => true,
            _ => false,
        }
    }
}

/// Wraps a webrtc-rs error with what was being done.
pub(crate) fn rtc_err(context: &'static str) -> impl FnOnce(webrtc::error::Error) -> LiveKitError {
    move |source| LiveKitError::WebRtc { context, source }
}
