//! The built-in SIP trunk endpoint: phone calls over SIP/UDP and RTP reach the turn engine.
//!
//! ```text
//! UDP :5060 ─ message (parse) ─ endpoint (actor: transactions, dialogs, routing)
//!                                   │ accepted call: SipCall { CallMedia, dtmf, control }
//!                                   ▼
//!                           SipCallHandler::handle  (runs `run_call`)
//! UDP rtp ─ rtp ─ media::RtpReceiver ─ jitter → G.711 decode → ring → ingest
//!         ←────── media::RtpOut ←─ G.711 encode ←─────────────────── playout
//! ```
//!
//! Files: `message`/`uri`/`sdp`/`rtp`/`digest` are pure parsers and builders; `dialog` holds
//! dialog identifiers, response building and RFC 3261 retransmission timing; `endpoint` is
//! the actor; `inbound`/`in_dialog` the UAS side, `outbound`/`dial` the UAC side, `transfer`
//! REFER; `media` bridges RTP and the call's audio; `config` the settings.
//!
//! [`SipEndpoint::start`] binds the signalling socket and spawns the actor; the host gives it
//! a [`SipCallHandler`] that runs each accepted call. A call ends when the far end sends BYE
//! (the call's audio input closes), when no RTP arrives for the configured time, when the
//! handler returns (we send BYE), or when the process token is cancelled.

mod call_media;
pub mod config;
pub mod dial;
pub mod dialog;
pub mod digest;
pub mod dtmf;
pub mod endpoint;
pub mod framing;
mod in_dialog;
mod inbound;
mod info;
mod lifecycle;
pub mod media;
pub mod message;
pub mod outbound;
pub mod register;
mod ringing;
pub mod rtcp;
pub mod rtp;
pub mod sdp;
pub mod sender;
pub mod tcp;
pub mod transfer;
pub mod uri;

use futures::future::BoxFuture;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

pub use config::{Cidr, DigestUser, Route, SipConfig, SipTransport, TrunkConfig};
pub use dial::{DialError, OutboundCall};
pub use dtmf::DtmfError;
pub use endpoint::SipEndpoint;
pub use media::{MediaStats, RemoteReport};
pub use message::{ParseError, SipMessage};
pub use transfer::TransferError;

use crate::call::session::CallMedia;

/// Errors starting or driving the endpoint.
#[derive(Debug, thiserror::Error)]
pub enum SipError {
    #[error("invalid SIP configuration: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Config(Vec<config::ConfigError>),
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the SIP endpoint has stopped")]
    Stopped,
}

/// Why a call ended at the SIP level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HangupCause {
    /// The far end sent BYE (or CANCEL before answer).
    RemoteHangup,
    /// We hung up (the handler returned or asked to).
    LocalHangup,
    /// No RTP arrived for the configured time.
    NoRtp,
    /// The far end never acknowledged our 200 OK.
    AckTimeout,
    /// The endpoint shut down.
    Shutdown,
    /// We hung up after a successful blind transfer.
    Transferred,
}

impl HangupCause {
    pub fn as_str(self) -> &'static str {
        match self {
            HangupCause::RemoteHangup => "remote_hangup",
            HangupCause::LocalHangup => "local_hangup",
            HangupCause::NoRtp => "no_rtp",
            HangupCause::AckTimeout => "ack_timeout",
            HangupCause::Shutdown => "shutdown",
            HangupCause::Transferred => "transferred",
        }
    }
}

/// An accepted inbound call, handed to the [`SipCallHandler`].
pub struct SipCall {
    pub call_id: String,
    /// The dialled number (Request-URI user part).
    pub dialled: String,
    /// The caller (From user part, or the whole From URI).
    pub caller: String,
    pub route: Route,
    /// Audio for `run_call`: the input closes when the call ends at the SIP level.
    pub media: CallMedia,
    /// Key presses (RFC 4733 events and SIP INFO), in order; closes with the call.
    pub dtmf: mpsc::Receiver<char>,
    pub control: CallControl,
}

/// The handler's grip on its call.
#[derive(Clone)]
pub struct CallControl {
    pub(crate) call_id: String,
    pub(crate) commands: mpsc::Sender<endpoint::Command>,
    pub(crate) cause: watch::Receiver<Option<HangupCause>>,
    /// Cancelled once the call is over at the SIP level (after `cause` is set).
    pub ended: CancellationToken,
    /// Key sequences for the RTP sender, when the peer takes telephone-events.
    pub(crate) keys: Option<mpsc::Sender<sender::DtmfJob>>,
    pub(crate) stats: watch::Receiver<MediaStats>,
}

impl CallControl {
    /// Sends BYE (idempotent; returns once the endpoint has the request).
    pub async fn hangup(&self) {
        let _ = self
            .commands
            .send(endpoint::Command::Hangup {
                call_id: self.call_id.clone(),
            })
            .await;
    }

    /// Blind transfer to `target` (a number dialled through the trunk, or a SIP URI). On
    /// success the far end has reached the target and we have hung up.
    ///
    /// # Errors
    /// [`TransferError`] when refused, failed or timed out; the call is then still up.
    pub async fn transfer(&self, target: &str) -> Result<(), TransferError> {
        let (reply, outcome) = tokio::sync::oneshot::channel();
        self.commands
            .send(endpoint::Command::Transfer {
                call_id: self.call_id.clone(),
                target: target.to_string(),
                reply,
            })
            .await
            .map_err(|_| TransferError::Stopped)?;
        outcome.await.map_err(|_| TransferError::Stopped)?
    }

    /// Sends key presses (`0-9 * # A-D`, `,` pauses 500 ms): RFC 4733 telephone-events on
    /// the negotiated payload type, or one SIP INFO (`application/dtmf-relay`) per key when
    /// the peer did not offer telephone-event. Returns once the last key has been sent (INFO:
    /// acknowledged).
    ///
    /// # Errors
    /// [`DtmfError`]: an invalid key (nothing sent), another sequence still being sent, the
    /// peer refusing an INFO, or the call ending first.
    pub async fn send_dtmf(&self, digits: &str) -> Result<(), DtmfError> {
        let keys = dtmf::parse_keys(digits)?;
        let Some(tx) = &self.keys else {
            return self.send_dtmf_info(keys).await;
        };
        let (reply, done) = tokio::sync::oneshot::channel();
        tx.try_send(sender::DtmfJob { keys, reply })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => DtmfError::Busy,
                mpsc::error::TrySendError::Closed(_) => DtmfError::CallEnded,
            })?;
        done.await.map_err(|_| DtmfError::CallEnded)?
    }

    async fn send_dtmf_info(&self, keys: Vec<dtmf::Key>) -> Result<(), DtmfError> {
        let pause = |ms| async move {
            tokio::select! {
                _ = self.ended.cancelled() => Err(DtmfError::CallEnded),
                _ = tokio::time::sleep(tokio::time::Duration::from_millis(ms)) => Ok(()),
            }
        };
        for key in keys {
            let dtmf::Key::Digit(digit) = key else {
                pause(dtmf::PAUSE_MS).await?;
                continue;
            };
            let (reply, done) = tokio::sync::oneshot::channel();
            self.commands
                .send(endpoint::Command::SendInfo {
                    call_id: self.call_id.clone(),
                    digit,
                    reply,
                })
                .await
                .map_err(|_| DtmfError::CallEnded)?;
            done.await.map_err(|_| DtmfError::CallEnded)??;
            pause(dtmf::GAP_MS).await?;
        }
        Ok(())
    }

    /// The call's media statistics so far (loss, jitter, RTCP from the peer).
    pub fn media_stats(&self) -> MediaStats {
        self.stats.borrow().clone()
    }

    /// Why the call ended, once it has.
    pub fn cause(&self) -> Option<HangupCause> {
        *self.cause.borrow()
    }
}

/// Runs accepted calls. `handle` returns when the call is over; the endpoint then sends BYE
/// if the far end has not hung up already.
pub trait SipCallHandler: Send + Sync + 'static {
    fn handle(&self, call: SipCall) -> BoxFuture<'static, ()>;
}
