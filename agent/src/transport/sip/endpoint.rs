//! The SIP endpoint actor: owns the signalling sockets (UDP, and a TCP listener on the same
//! port whose connections run in [`super::tcp::serve`] tasks) and every call's dialog state,
//! so no lock is shared. It reads datagrams, stream messages, commands from running calls
//! and a 20 ms timer tick,
//! and dispatches: requests to [`super::inbound`], responses to the transactions they
//! answer, timers to retransmissions. Calls run in tasks it spawns into its tracker; on
//! shutdown it hangs up every call and waits for them under a deadline.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};
use tokio::time::{interval, Duration, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::dialog::{DialogId, Retransmit};
use super::media::{MediaEnd, MediaParams};
use super::message::SipMessage;
use super::{HangupCause, SipCallHandler, SipConfig, SipError};

/// How long an ended call is remembered, to answer retransmitted BYEs and ACKs (64·T1).
pub(super) const LINGER: Duration = Duration::from_secs(32);
/// How long shutdown waits for running calls.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

/// What running calls (and `dial`) tell the actor.
pub enum Command {
    Hangup {
        call_id: String,
    },
    Finished {
        call_id: String,
    },
    MediaEnded {
        call_id: String,
        end: MediaEnd,
    },
    Transfer {
        call_id: String,
        target: String,
        reply: super::transfer::TransferReply,
    },
    Dial {
        request: Box<super::outbound::DialRequest>,
        reply: super::outbound::DialReply,
    },
    SendInfo {
        call_id: String,
        digit: char,
        reply: super::info::InfoReply,
    },
    /// A message framed on a TCP connection.
    Stream {
        peer: SocketAddr,
        message: Vec<u8>,
    },
    StreamClosed {
        peer: SocketAddr,
    },
    /// Whether a TCP connection to `peer` is open (before a dial opens one).
    HasStream {
        peer: SocketAddr,
        reply: tokio::sync::oneshot::Sender<bool>,
    },
    /// A TCP connection a dial opened.
    Connected {
        peer: SocketAddr,
        stream: TcpStream,
    },
}

/// A running SIP endpoint. Dropping it does not stop it: cancel the token given to
/// [`SipEndpoint::start`], then await [`SipEndpoint::stopped`].
pub struct SipEndpoint {
    local_addr: SocketAddr,
    pub(super) trunk: Option<super::TrunkConfig>,
    /// To the actor; closed when the actor stops (dial then fails with `Stopped`).
    pub(super) commands: mpsc::Sender<Command>,
    /// The actor; ends after the start token is cancelled and calls are torn down.
    task: tokio::task::JoinHandle<()>,
}

impl SipEndpoint {
    /// Validates `config`, binds its UDP address and starts serving calls with `handler`.
    ///
    /// # Errors
    /// [`SipError::Config`] for an invalid configuration, [`SipError::Bind`] when the
    /// address cannot be bound.
    pub async fn start(
        config: SipConfig,
        handler: Arc<dyn SipCallHandler>,
        cancel: CancellationToken,
    ) -> Result<Self, SipError> {
        config.validate().map_err(SipError::Config)?;
        let socket = UdpSocket::bind(config.bind)
            .await
            .map_err(|source| SipError::Bind {
                addr: config.bind,
                source,
            })?;
        let local_addr = socket.local_addr().map_err(|source| SipError::Bind {
            addr: config.bind,
            source,
        })?;
        let tcp = match TcpListener::bind(local_addr).await {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, %local_addr, "SIP over TCP unavailable");
                None
            }
        };
        let (commands_tx, commands) = mpsc::channel(64);
        let trunk = config.trunk.clone();
        let presence = match &trunk {
            Some(t) if t.register || t.keepalive_secs.is_some() => {
                let addr = super::dial::resolve(&t.host).await;
                if addr.is_none() {
                    tracing::warn!(host = %t.host, "Trunk host does not resolve: no REGISTER");
                }
                addr.and_then(|a| super::register::TrunkPresence::new(t, a, Instant::now()))
            }
            _ => None,
        };
        let dial_tx = commands_tx.clone();
        let actor = Actor {
            config,
            socket: Arc::new(socket),
            tcp,
            streams: HashMap::new(),
            presence,
            local_addr,
            handler,
            calls: HashMap::new(),
            commands_tx,
            commands,
            tasks: TaskTracker::new(),
            nonces: Default::default(),
            cancel,
        };
        tracing::info!(%local_addr, "SIP endpoint listening");
        Ok(Self {
            local_addr,
            trunk,
            commands: dial_tx,
            task: tokio::spawn(actor.run()),
        })
    }

    /// The bound signalling address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Waits until the endpoint has shut down.
    pub async fn stopped(self) {
        let _ = self.task.await;
    }
}

/// Where a call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CallState {
    /// 180 sent; answering at `answer_at`.
    Ringing,
    /// 200 sent, waiting for ACK (the 200 is retransmitted).
    Answered,
    Confirmed,
    /// Our BYE is out, waiting for its response.
    Terminating,
    Ended,
}

/// One call's dialog and the handles of its running parts.
pub(super) struct Call {
    pub dialog: DialogId,
    pub state: CallState,
    pub invite: SipMessage,
    pub invite_branch: String,
    /// Last response to the INVITE, resent when the INVITE is retransmitted.
    pub last_invite_response: Vec<u8>,
    pub retransmit: Option<Retransmit>,
    pub answer_at: Option<Instant>,
    pub expires: Option<Instant>,
    pub cause: watch::Sender<Option<HangupCause>>,
    /// Cancelled when the call ends at the SIP level: stops its media and tells the handler.
    pub token: CancellationToken,
    pub muted: watch::Sender<bool>,
    pub dtmf: mpsc::Sender<char>,
    pub media: MediaParams,
    pub rtp_socket: Arc<UdpSocket>,
    /// RTP port + 1 (unused under rtcp-mux).
    pub rtcp_socket: Arc<UdpSocket>,
    pub rtp_remote: SocketAddr,
    pub sdp_session: u64,
    pub sdp_version: u64,
    /// Everything the handler gets, until the call is answered.
    pub pending: Option<super::call_media::Pending>,
    /// UAC state, for calls we placed.
    pub outbound: Option<super::outbound::Outbound>,
    /// A REFER we sent, until its outcome.
    pub transfer: Option<super::transfer::PendingTransfer>,
    /// A DTMF INFO we sent, until its response.
    pub info: Option<super::info::PendingInfo>,
}

pub(super) struct Actor {
    pub config: SipConfig,
    pub socket: Arc<UdpSocket>,
    /// SIP over TCP on the UDP port, when it could be bound.
    pub tcp: Option<TcpListener>,
    /// Open TCP connections by peer address: every message to that peer goes there.
    pub streams: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    /// REGISTER and OPTIONS keep-alives towards the trunk, when configured.
    pub presence: Option<super::register::TrunkPresence>,
    pub local_addr: SocketAddr,
    pub handler: Arc<dyn SipCallHandler>,
    pub calls: HashMap<String, Call>,
    /// Cloned into every call's control handle; the actor holds one, so never closed.
    pub commands_tx: mpsc::Sender<Command>,
    pub commands: mpsc::Receiver<Command>,
    /// Call media and handler tasks; closed and awaited on shutdown.
    pub tasks: TaskTracker,
    /// Nonces of our outstanding 401 challenges (single use, bounded).
    pub nonces: std::collections::VecDeque<String>,
    pub cancel: CancellationToken,
}

impl Actor {
    async fn run(mut self) {
        let mut tick = interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut buf = vec![0u8; 65_536];
        loop {
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break,
                Some(cmd) = self.commands.recv() => self.on_command(cmd),
                r = self.socket.recv_from(&mut buf) => match r {
                    Ok((n, from)) => self.on_datagram(&buf[..n], from),
                    Err(e) => tracing::debug!(error = %e, "SIP socket receive error"),
                },
                r = accept(self.tcp.as_ref()) => match r {
                    Ok((stream, peer)) => self.add_stream(stream, peer),
                    Err(e) => tracing::debug!(error = %e, "SIP TCP accept error"),
                },
                _ = tick.tick() => self.on_tick(Instant::now()),
            }
        }
        let ids: Vec<String> = self.calls.keys().cloned().collect();
        for id in ids {
            self.hang_up(&id, HangupCause::Shutdown);
        }
        self.tasks.close();
        if tokio::time::timeout(SHUTDOWN_DEADLINE, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::error!(
                still_running = self.tasks.len(),
                "SIP calls did not stop before the shutdown deadline"
            );
        }
        tracing::info!("SIP endpoint stopped");
    }

    /// Sends over the peer's TCP connection when it has one, else over UDP.
    pub(super) fn send(&self, bytes: &[u8], to: SocketAddr) {
        if let Some(stream) = self.streams.get(&to) {
            if stream.try_send(bytes.to_vec()).is_err() {
                tracing::warn!(%to, "SIP message not sent: TCP connection busy or closed");
            }
            return;
        }
        if let Err(e) = self.socket.try_send_to(bytes, to) {
            tracing::warn!(error = %e, %to, "SIP message not sent");
        }
    }

    /// A retransmission: only over UDP (TCP is reliable, RFC 3261 §17.1.1.2).
    pub(super) fn resend(&self, bytes: &[u8], to: SocketAddr) {
        if !self.streams.contains_key(&to) {
            self.send(bytes, to);
        }
    }

    /// Whether messages to `peer` go over TCP.
    pub(super) fn is_stream(&self, peer: SocketAddr) -> bool {
        self.streams.contains_key(&peer)
    }

    /// Serves a TCP connection (accepted, or opened by a dial) and routes `peer` to it.
    pub(super) fn add_stream(&mut self, stream: TcpStream, peer: SocketAddr) {
        let (tx, rx) = mpsc::channel(super::tcp::WRITE_QUEUE);
        self.streams.insert(peer, tx);
        let actor = self.commands_tx.clone();
        let cancel = self.cancel.child_token();
        tracing::debug!(%peer, "SIP TCP connection");
        self.tasks
            .spawn(super::tcp::serve(stream, peer, rx, actor, cancel));
    }

    /// The address we advertise to `peer` in Contact, Via and SDP.
    pub(super) fn advertised_ip(&self, peer: SocketAddr) -> IpAddr {
        if let Some(ip) = self.config.public_addr {
            return ip;
        }
        if !self.local_addr.ip().is_unspecified() {
            return self.local_addr.ip();
        }
        // Ask the routing table which local address reaches the peer.
        std::net::UdpSocket::bind((self.local_addr.ip(), 0))
            .and_then(|s| s.connect(peer).and_then(|()| s.local_addr()))
            .map_or(IpAddr::from([127, 0, 0, 1]), |a| a.ip())
    }

    pub(super) fn sent_by(&self, peer: SocketAddr) -> String {
        SocketAddr::new(self.advertised_ip(peer), self.local_addr.port()).to_string()
    }

    pub(super) fn contact(&self, peer: SocketAddr) -> String {
        let transport = if self.is_stream(peer) {
            ";transport=tcp"
        } else {
            ""
        };
        format!("sip:switchboard@{}{transport}", self.sent_by(peer))
    }

    pub(super) fn on_datagram(&mut self, data: &[u8], from: SocketAddr) {
        if data.iter().all(|b| b.is_ascii_whitespace()) {
            return; // CRLF keep-alive
        }
        let msg = match SipMessage::parse(data) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, %from, "Malformed SIP message dropped");
                return;
            }
        };
        if msg.method().is_some() {
            self.on_request(msg, from);
        } else {
            self.on_response(&msg);
        }
    }

    fn on_response(&mut self, msg: &SipMessage) {
        let Ok((_, method)) = msg.cseq() else { return };
        if self.on_presence_response(msg) {
            return;
        }
        if method == "INVITE" {
            return self.on_invite_response(msg);
        }
        if method == "REFER" {
            return self.on_refer_response(msg);
        }
        if method == "INFO" {
            return self.on_info_response(msg);
        }
        if method == "CANCEL" {
            if let Some(call) = self.calls.get_mut(msg.call_id()) {
                call.retransmit = None;
            }
            return;
        }
        let Some(call) = self.calls.get_mut(msg.call_id()) else {
            return;
        };
        if method == "BYE"
            && call.state == CallState::Terminating
            && msg.status().is_some_and(|c| c >= 200)
        {
            call.state = CallState::Ended;
            call.retransmit = None;
            call.expires = Some(Instant::now() + LINGER);
        }
    }
}

async fn accept(listener: Option<&TcpListener>) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}
