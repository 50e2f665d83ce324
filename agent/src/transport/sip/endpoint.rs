//! The SIP endpoint actor: owns the signalling socket and every call's dialog state, so no
//! lock is shared. It reads datagrams, commands from running calls and a 20 ms timer tick,
//! and dispatches: requests to [`super::inbound`], responses to the transactions they
//! answer, timers to retransmissions. Calls run in tasks it spawns into its tracker; on
//! shutdown it hangs up every call and waits for them under a deadline.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::time::{interval, Duration, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::dialog::{DialogId, Retransmit};
use super::media::{MediaEnd, MediaParams};
use super::message::SipMessage;
use super::{HangupCause, SipCallHandler, SipConfig, SipError};

/// How long an ended call is remembered, to answer retransmitted BYEs and ACKs (64·T1).
const LINGER: Duration = Duration::from_secs(32);
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
        let (commands_tx, commands) = mpsc::channel(64);
        let trunk = config.trunk.clone();
        let dial_tx = commands_tx.clone();
        let actor = Actor {
            config,
            socket: Arc::new(socket),
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
    pub rtp_remote: SocketAddr,
    pub sdp_session: u64,
    pub sdp_version: u64,
    /// Everything the handler gets, until the call is answered.
    pub pending: Option<super::inbound::Pending>,
    /// UAC state, for calls we placed.
    pub outbound: Option<super::outbound::Outbound>,
    /// A REFER we sent, until its outcome.
    pub transfer: Option<super::transfer::PendingTransfer>,
}

pub(super) struct Actor {
    pub config: SipConfig,
    pub socket: Arc<UdpSocket>,
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

    pub(super) fn send(&self, bytes: &[u8], to: SocketAddr) {
        if let Err(e) = self.socket.try_send_to(bytes, to) {
            tracing::warn!(error = %e, %to, "SIP message not sent");
        }
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
        format!("sip:switchboard@{}", self.sent_by(peer))
    }

    fn on_datagram(&mut self, data: &[u8], from: SocketAddr) {
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
        if method == "INVITE" {
            return self.on_invite_response(msg);
        }
        if method == "REFER" {
            return self.on_refer_response(msg);
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

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Hangup { call_id } | Command::Finished { call_id } => {
                self.hang_up(&call_id, HangupCause::LocalHangup);
            }
            Command::Dial { request, reply } => self.on_dial(*request, reply),
            Command::Transfer {
                call_id,
                target,
                reply,
            } => self.on_transfer(&call_id, &target, reply),
            Command::MediaEnded { call_id, end } => {
                if end == MediaEnd::NoRtp {
                    tracing::warn!(%call_id, "No RTP received: ending the call");
                    self.hang_up(&call_id, HangupCause::NoRtp);
                } else if end == MediaEnd::SocketFailed {
                    self.hang_up(&call_id, HangupCause::LocalHangup);
                }
            }
        }
    }

    /// Ends a call from our side: BYE when answered, 480 when still ringing.
    pub(super) fn hang_up(&mut self, call_id: &str, cause: HangupCause) {
        let sent_by = self.calls.get(call_id).map(|c| self.sent_by(c.dialog.peer));
        let contact = self.calls.get(call_id).map(|c| self.contact(c.dialog.peer));
        let (Some(call), Some(sent_by), Some(contact)) =
            (self.calls.get_mut(call_id), sent_by, contact)
        else {
            return;
        };
        let now = Instant::now();
        let out = match call.state {
            CallState::Answered | CallState::Confirmed => {
                let mut bye = call.dialog.request("BYE", &sent_by, &contact);
                if cause == HangupCause::NoRtp {
                    bye.set_header("Reason", "SIP;cause=408;text=\"no RTP\"");
                }
                let bytes = bye.to_bytes();
                call.retransmit = Some(Retransmit::new(bytes.clone(), call.dialog.peer, now));
                call.state = CallState::Terminating;
                Some((bytes, call.dialog.peer))
            }
            CallState::Ringing if call.outbound.is_some() => {
                self.send_cancel(call_id, now);
                return;
            }
            CallState::Ringing => {
                let r = super::dialog::response(
                    &call.invite,
                    480,
                    "Temporarily Unavailable",
                    None,
                    call.dialog.peer,
                );
                call.state = CallState::Ended;
                call.expires = Some(now + LINGER);
                Some((r.to_bytes(), call.dialog.peer))
            }
            CallState::Terminating | CallState::Ended => None,
        };
        finish(call, cause);
        if let Some((bytes, to)) = out {
            self.send(&bytes, to);
        }
    }

    fn on_tick(&mut self, now: Instant) {
        let due: Vec<String> = self
            .calls
            .iter()
            .filter(|(_, c)| c.state == CallState::Ringing && c.answer_at.is_some_and(|t| t <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            self.answer(&id, now);
        }
        self.outbound_tick(now);
        self.transfer_tick(now);
        let mut resend = Vec::new();
        let mut timed_out = Vec::new();
        for (id, call) in &mut self.calls {
            if let Some(r) = call.retransmit.as_mut() {
                match r.poll(now) {
                    Some(true) => resend.push((r.bytes.clone(), r.to)),
                    Some(false) => {}
                    None => timed_out.push(id.clone()),
                }
            }
        }
        for (bytes, to) in resend {
            self.send(&bytes, to);
        }
        for id in timed_out {
            let Some(call) = self.calls.get_mut(&id) else {
                continue;
            };
            call.retransmit = None;
            if call.state == CallState::Ringing && call.outbound.is_some() {
                let cancelled = call.outbound.as_ref().is_some_and(|o| o.cancelled());
                if !cancelled {
                    self.fail_dial(&id, super::DialError::Unreachable);
                }
            } else if call.state == CallState::Answered {
                tracing::warn!(call_id = %id, "No ACK for our 200 OK: hanging up");
                call.state = CallState::Confirmed;
                self.hang_up(&id, HangupCause::AckTimeout);
            } else {
                call.state = CallState::Ended;
                call.expires = Some(now + LINGER);
            }
        }
        self.calls
            .retain(|_, c| !(c.state == CallState::Ended && c.expires.is_some_and(|t| t <= now)));
    }
}

/// Records the cause (first one wins) and stops the call's media and handler.
pub(super) fn finish(call: &mut Call, cause: HangupCause) {
    call.cause.send_if_modified(|c| {
        if c.is_none() {
            *c = Some(cause);
            true
        } else {
            false
        }
    });
    call.pending = None;
    call.token.cancel();
    if call.state == CallState::Ended && call.expires.is_none() {
        call.expires = Some(Instant::now() + LINGER);
    }
}
