//! The [`Simulator`] handle: start, URLs, tokens, in-process participants, shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use livekit_api::access_token::{AccessToken, Claims, TokenVerifier, VideoGrants};
use livekit_protocol as proto;

use crate::agent::{Agents, JobInfo, WorkerInfo};
use crate::join::Sessions;
use crate::sim::{ParticipantSpec, SimParticipant};
use crate::sip::{Sip, SipBehaviour, SipTransfer};
use crate::state::Rooms;
use crate::{SimConfig, SimError};

/// State shared by every connection task.
pub(crate) struct Shared {
    pub config: SimConfig,
    pub rooms: Arc<Rooms>,
    pub sessions: Sessions,
    /// How long a dropped participant is kept for a resume.
    pub departure: Duration,
    /// Agent workers and jobs.
    pub agents: Agents,
    /// `ws://127.0.0.1:<port>` (sent in job assignments).
    pub ws_url: String,
    /// Simulated LiveKit SIP.
    pub sip: Sip,
    verifier: TokenVerifier,
}

impl Shared {
    /// Verifies a JWT signed with the configured secret.
    pub fn verify(&self, token: Option<&str>) -> Result<Claims, String> {
        let token = token.ok_or_else(|| "no token".to_owned())?;
        self.verifier.verify(token).map_err(|e| e.to_string())
    }

    /// Called when a participant joined a room (the automatic agent dispatch).
    pub fn room_joined(&self, room: &str, kind: proto::participant_info::Kind) {
        crate::agent::room_joined(self, room, kind);
    }

    /// A join token for an agent's participant (kind `agent`), as sent in `JobAssignment`.
    pub fn agent_token(
        &self,
        room: &str,
        identity: &str,
        name: &str,
        answer: &proto::AvailabilityResponse,
    ) -> String {
        AccessToken::with_api_key(&self.config.api_key, &self.config.api_secret)
            .with_identity(identity)
            .with_name(name)
            .with_kind("agent")
            .with_metadata(&answer.participant_metadata)
            .with_attributes(answer.participant_attributes.clone())
            .with_grants(VideoGrants {
                room_join: true,
                room: room.to_owned(),
                agent: true,
                can_publish: Some(true),
                can_subscribe: Some(true),
                can_publish_data: Some(true),
                can_update_own_metadata: Some(true),
                ..Default::default()
            })
            .to_jwt()
            .unwrap_or_default()
    }
}

/// A running simulator on `127.0.0.1:<port>`.
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    accept: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Binds `127.0.0.1:0` (WebSocket and HTTP on one port) and starts serving.
    ///
    /// # Errors
    /// [`SimError::Bind`] when the port cannot be bound.
    pub async fn start(config: SimConfig) -> Result<Simulator, SimError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(SimError::Bind)?;
        let addr = listener.local_addr().map_err(SimError::Bind)?;
        let shared = Arc::new(Shared {
            verifier: TokenVerifier::with_api_key(&config.api_key, &config.api_secret),
            config,
            rooms: Arc::new(Rooms::default()),
            sessions: Sessions::default(),
            departure: Duration::from_secs(20),
            agents: Agents::default(),
            ws_url: format!("ws://{addr}"),
            sip: Sip::default(),
        });
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let accept = tokio::spawn(crate::http::accept_loop(listener, shared.clone(), stop_rx));
        Ok(Simulator {
            shared,
            addr,
            stop,
            accept,
        })
    }

    /// `ws://127.0.0.1:<port>` (what clients connect to).
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// `http://127.0.0.1:<port>` (twirp services).
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The configuration (API key and secret).
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// A JWT for `identity` to join `room` (publish, subscribe, data), signed with the secret.
    pub fn token(&self, room: &str, identity: &str) -> String {
        AccessToken::with_api_key(&self.shared.config.api_key, &self.shared.config.api_secret)
            .with_identity(identity)
            .with_name(identity)
            .with_grants(VideoGrants {
                room_join: true,
                room: room.to_owned(),
                can_publish: Some(true),
                can_subscribe: Some(true),
                can_publish_data: Some(true),
                ..Default::default()
            })
            .to_jwt()
            .unwrap_or_default()
    }

    /// A JWT for an agent participant (kind `agent`, as a dispatched job's token), for agents
    /// that join a room directly: LiveKit lets such a participant send text streams on behalf
    /// of others (transcriptions).
    pub fn agent_token(&self, room: &str, identity: &str) -> String {
        self.shared
            .agent_token(room, identity, identity, &Default::default())
    }

    /// Adds a participant living inside the simulator: it publishes `spec.audio` as an Opus
    /// track (20 ms frames in real time, then silence) and records what it receives.
    ///
    /// # Errors
    /// [`SimError::DuplicateIdentity`] if the identity is in the room; [`SimError::Opus`].
    pub async fn add_participant(
        &self,
        room: &str,
        spec: ParticipantSpec,
    ) -> Result<SimParticipant, SimError> {
        let kind = spec.kind;
        let participant = SimParticipant::join(self.shared.rooms.clone(), room, spec)?;
        self.shared.room_joined(room, kind);
        Ok(participant)
    }

    /// A token for an agent worker to register on `/agent` (agent grant).
    pub fn worker_token(&self) -> String {
        AccessToken::with_api_key(&self.shared.config.api_key, &self.shared.config.api_secret)
            .with_identity("worker")
            .with_grants(VideoGrants {
                agent: true,
                ..Default::default()
            })
            .to_jwt()
            .unwrap_or_default()
    }

    /// Dispatches `agent_name` to `room` explicitly (as the AgentDispatch service does);
    /// returns the job id.
    pub fn dispatch(&self, room: &str, agent_name: &str, metadata: &str) -> String {
        crate::agent::dispatch(&self.shared, room, agent_name, metadata)
    }

    /// Every job so far, with its last reported status.
    pub fn jobs(&self) -> Vec<JobInfo> {
        self.shared.agents.jobs()
    }

    /// Registered workers, with their last reported status and load.
    pub fn workers(&self) -> Vec<WorkerInfo> {
        self.shared.agents.workers()
    }

    /// How the far end of `number` behaves when dialled with `CreateSIPParticipant`
    /// (numbers not set answer after 200 ms and stay silent).
    pub fn set_sip_behaviour(&self, number: &str, behaviour: SipBehaviour) {
        self.shared
            .sip
            .behaviours
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(number.to_owned(), behaviour);
    }

    /// A live SIP participant created by `CreateSIPParticipant` (hear what it received, make
    /// it send DTMF with `send_data`, make it speak with `play`).
    pub fn sip_participant(&self, room: &str, identity: &str) -> Option<Arc<SimParticipant>> {
        self.shared
            .sip
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(room.to_owned(), identity.to_owned()))
            .cloned()
    }

    /// Transfers asked so far with `TransferSIPParticipant`.
    pub fn sip_transfers(&self) -> Vec<SipTransfer> {
        self.shared
            .sip
            .transfers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A token for the twirp services (room admin, SIP call and admin grants).
    pub fn admin_token(&self) -> String {
        AccessToken::with_api_key(&self.shared.config.api_key, &self.shared.config.api_secret)
            .with_identity("admin")
            .with_grants(VideoGrants {
                room_admin: true,
                room_create: true,
                room_list: true,
                ..Default::default()
            })
            .with_sip_grants(livekit_api::access_token::SIPGrants {
                admin: true,
                call: true,
            })
            .to_jwt()
            .unwrap_or_default()
    }

    /// Every participant in `room` (empty if the room does not exist).
    pub async fn participants(&self, room: &str) -> Vec<proto::ParticipantInfo> {
        self.shared.rooms.participants(room)
    }

    /// Cuts a remote participant's WebSocket without a `LeaveRequest` (a network drop): its
    /// PeerConnections stay up and it is kept for a resume until the departure timeout.
    pub fn drop_connection(&self, room: &str, identity: &str) {
        if let Some(remote) = self.shared.rooms.remote(room, identity) {
            remote.drop_ws.notify_one();
        }
    }

    /// Sends a remote participant the server's `LeaveRequest` asking for `action`, with
    /// `reason`, then closes its WebSocket, as LiveKit does:
    /// - `Resume`: the session is kept (PeerConnections up) for a resume on a new socket;
    /// - `Reconnect`: the session ends at once (the others see the participant leave, its
    ///   tracks are unpublished, an agent's job is terminated); the client is to join again
    ///   as a new participant;
    /// - `Disconnect`: the session ends; the client is not to come back.
    ///
    /// Clients of protocol 12 and older get `can_reconnect` instead of an action (and
    /// nothing for a resume). Returns false when `identity` has no session in `room`.
    pub async fn send_leave(
        &self,
        room: &str,
        identity: &str,
        action: proto::leave_request::Action,
        reason: proto::DisconnectReason,
    ) -> bool {
        crate::join::server_leave(&self.shared, room, identity, action, reason).await
    }

    /// Cuts a remote participant's WebSocket and forgets its session at once, as a server
    /// does when the departure timeout passes or it restarts: the others see the participant
    /// leave, and its resume (`reconnect=1`) is refused with `LeaveRequest{RECONNECT}`.
    /// Returns false when `identity` has no session in `room`.
    pub async fn expire_session(&self, room: &str, identity: &str) -> bool {
        let Some(session) = self.shared.sessions.get(room, identity) else {
            return false;
        };
        // Forgotten before the socket is cut, so the client's resume cannot race ahead of it.
        crate::join::end(
            &self.shared,
            &session,
            proto::DisconnectReason::StateMismatch,
        )
        .await;
        session.remote.drop_ws.notify_one();
        true
    }

    /// Cuts every agent worker's `/agent` WebSocket (a network drop or a server restart);
    /// returns how many there were. Workers are forgotten and must register again; the
    /// rooms their jobs joined are not touched.
    pub fn drop_workers(&self) -> usize {
        self.shared.agents.drop_all()
    }

    /// Stops accepting, ends every session and closes every PeerConnection.
    pub async fn shutdown(self) {
        self.stop.send_replace(true);
        let _ = self.accept.await;
        for session in self.shared.sessions.all() {
            session.remote.drop_ws.notify_one();
            crate::join::end(
                &self.shared,
                &session,
                proto::DisconnectReason::ServerShutdown,
            )
            .await;
        }
    }
}
