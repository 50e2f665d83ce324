//! The public side of outbound calls: what to dial ([`OutboundCall`]), how a failed attempt
//! is classified ([`DialError`], final SIP responses mapped to dispositions), and
//! [`SipEndpoint::dial`], which resolves the trunk and hands the attempt to the endpoint
//! actor (see `outbound.rs` for the UAC transaction itself).

use tokio::time::Duration;

use super::endpoint::{Command, SipEndpoint};
use super::{Route, SipCall};

/// A call to place.
#[derive(Debug, Clone)]
pub struct OutboundCall {
    /// A number (dialled through the trunk) or a full `sip:` URI.
    pub to: String,
    /// Caller id to present; the trunk's `caller_id` when `None`.
    pub caller_id: Option<String>,
    /// How long to let it ring before CANCEL.
    pub ring_timeout: Duration,
    /// Tenant and script the answered call runs.
    pub route: Route,
}

/// Why an outbound call was not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialError {
    #[error("busy ({0})")]
    Busy(u16),
    /// `0` when our own ringing timeout expired.
    #[error("no answer ({0})")]
    NoAnswer(u16),
    #[error("invalid number ({0})")]
    InvalidNumber(u16),
    #[error("declined")]
    Declined,
    #[error("service unavailable: retry later")]
    RetryLater,
    #[error("rejected: {0} {1}")]
    Rejected(u16, String),
    #[error("the trunk refused our credentials")]
    AuthFailed,
    #[error("no response from the trunk")]
    Unreachable,
    #[error("no trunk configured for outbound calls")]
    NoTrunk,
    #[error("cannot resolve the trunk host {0}")]
    Resolve(String),
    #[error("unusable SDP answer: {0}")]
    Sdp(String),
    #[error("the SIP endpoint has stopped")]
    Stopped,
}

impl DialError {
    /// The call disposition this maps to.
    pub fn disposition(&self) -> &'static str {
        match self {
            DialError::Busy(_) => "busy",
            DialError::NoAnswer(_) => "no_answer",
            DialError::Declined => "declined",
            DialError::RetryLater => "retry_later",
            _ => "failed",
        }
    }

    /// The error for a final response code (≥ 300, not an auth challenge).
    pub fn from_status(code: u16, reason: &str) -> Self {
        match code {
            486 | 600 => DialError::Busy(code),
            408 | 480 | 487 => DialError::NoAnswer(code),
            404 | 484 | 604 => DialError::InvalidNumber(code),
            603 => DialError::Declined,
            503 => DialError::RetryLater,
            _ => DialError::Rejected(code, reason.to_string()),
        }
    }
}

impl SipEndpoint {
    /// Places a call through the trunk and waits until it is answered (the call, to run like
    /// an inbound one; call `control.hangup()` when done) or has failed.
    ///
    /// # Errors
    /// A [`DialError`] whose `disposition()` classifies the failure.
    pub async fn dial(&self, call: OutboundCall) -> Result<SipCall, DialError> {
        let trunk = self.trunk.as_ref().ok_or(DialError::NoTrunk)?;
        let (host, _) = super::uri::split_host_port(&trunk.host)
            .ok_or_else(|| DialError::Resolve(trunk.host.clone()))?;
        let dest = resolve(&trunk.host)
            .await
            .ok_or_else(|| DialError::Resolve(trunk.host.clone()))?;
        let target_uri = if call.to.starts_with("sip:") || call.to.starts_with("sips:") {
            call.to.clone()
        } else {
            format!("sip:{}@{}", call.to, trunk.host)
        };
        let caller = call
            .caller_id
            .clone()
            .unwrap_or_else(|| trunk.caller_id.clone());
        let from_uri = format!("sip:{caller}@{host}");
        let credentials = match (&trunk.user, &trunk.password_env) {
            (Some(user), Some(var)) => Some((user.clone(), std::env::var(var).unwrap_or_default())),
            _ => None,
        };
        let tcp = trunk.transport == super::SipTransport::Tcp;
        if tcp {
            self.connect(dest).await?;
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        let request = Box::new(super::outbound::DialRequest {
            call,
            dest,
            target_uri,
            from_uri,
            credentials,
            tcp,
        });
        self.commands
            .send(Command::Dial { request, reply })
            .await
            .map_err(|_| DialError::Stopped)?;
        answer.await.map_err(|_| DialError::Stopped)?
    }

    /// Makes sure the actor has a TCP connection to `dest`, reusing an open one.
    async fn connect(&self, dest: std::net::SocketAddr) -> Result<(), DialError> {
        let (reply, open) = tokio::sync::oneshot::channel();
        self.commands
            .send(Command::HasStream { peer: dest, reply })
            .await
            .map_err(|_| DialError::Stopped)?;
        if open.await.map_err(|_| DialError::Stopped)? {
            return Ok(());
        }
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(dest))
            .await
            .map_err(|_| DialError::Unreachable)?
            .map_err(|_| DialError::Unreachable)?;
        let _ = stream.set_nodelay(true);
        self.commands
            .send(Command::Connected { peer: dest, stream })
            .await
            .map_err(|_| DialError::Stopped)
    }
}

/// How long opening a TCP connection to the trunk may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The address of `host[:port]` (port 5060 when absent).
pub(super) async fn resolve(host_port: &str) -> Option<std::net::SocketAddr> {
    let (host, port) = super::uri::split_host_port(host_port)?;
    let lookup = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let mut addrs = tokio::net::lookup_host((lookup.as_str(), port.unwrap_or(5060)))
        .await
        .ok()?;
    addrs.next()
}
