//! A LiveKit room simulator on loopback, for Switchboard's tests and benches (issue 6).
//!
//! There is no LiveKit server on these machines, so this crate plays one: a single TCP port on
//! `127.0.0.1` serves
//! - `/rtc`: the real signal protocol (protobuf `SignalRequest`/`SignalResponse` over a
//!   WebSocket, JWT checked with the configured secret), two PeerConnections per participant
//!   on webrtc-rs (the client's publisher PC is answered here; the subscriber PC is offered
//!   from here, with the `_reliable`/`_lossy` data channels), Opus RTP forwarded from every
//!   publisher to every other participant, `DataPacket`s routed by destination;
//! - `/agent`: the agent-worker protocol (registration, availability, assignment, status);
//! - `/twirp/...`: RoomService, SIP and AgentDispatch calls.
//!
//! Participants can also live inside the simulator ([`Simulator::add_participant`]): they
//! publish a PCM clip as a real Opus track and record what they hear.
//!
//! ```no_run
//! # async fn demo() -> Result<(), livekit_sim::SimError> {
//! use livekit_sim::{ParticipantSpec, SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::default()).await?;
//! // A phone caller already in the room, saying something:
//! let caller = sim
//!     .add_participant("call-1", ParticipantSpec::sip_caller("caller", "+15550100", "+15550199", vec![0; 48_000]))
//!     .await?;
//! // Point the client under test at `sim.ws_url()` with `sim.token("call-1", "agent")`, or
//! // register a worker on `/agent` with `sim.worker_token()` and let dispatch hand it a job.
//! let heard = caller.received_audio(); // 48 kHz mono, what the caller heard
//! # drop(heard);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Lifecycle: [`Simulator::start`] binds the port and spawns the accept loop; every connection
//! and peer gets its own task; [`Simulator::shutdown`] stops accepting and closes every peer.
//! The room state is one mutex-guarded map ([`state::Rooms`]), held only for short,
//! non-awaiting sections: this is test infrastructure, not a call path.

mod agent;
mod data;
mod forward;
mod http;
mod join;
mod peer;
mod publish;
mod sdp;
mod signal;
mod sim;
mod simulator;
mod sip;
mod state;
mod subscriber;
mod twirp;
mod worker;

pub use agent::{JobInfo, WorkerInfo};
pub use sim::{ParticipantSpec, SimParticipant};
pub use simulator::Simulator;
pub use sip::{SipBehaviour, SipTransfer};

/// Credentials the simulator signs and verifies tokens with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// API key (the JWT issuer).
    pub api_key: String,
    /// API secret (HMAC key; LiveKit wants at least 32 characters).
    pub api_secret: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            api_key: "devkey".to_owned(),
            api_secret: "devsecret-devsecret-devsecret-0123".to_owned(),
        }
    }
}

/// What can go wrong while running the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listener could not be bound.
    #[error("binding the simulator's port: {0}")]
    Bind(#[source] std::io::Error),
    /// webrtc-rs refused an operation.
    #[error("webrtc: {0}")]
    WebRtc(#[from] webrtc::error::Error),
    /// The Opus codec failed.
    #[error("opus: {0}")]
    Opus(#[from] audio::codec::opus::OpusError),
    /// A participant with that identity is already in the room.
    #[error("participant {identity} is already in room {room}")]
    DuplicateIdentity {
        /// Room name.
        room: String,
        /// Identity.
        identity: String,
    },
    /// The simulator is shutting down.
    #[error("the simulator is shut down")]
    Closed,
}
