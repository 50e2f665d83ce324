//! How the runtime reaches a callee: one [`Dialer`] per transport name (`local`, `sip`,
//! `livekit`). A dial either connects (media for the turn engine plus a control handle) or
//! fails with an answer the disposition can be read from.

use std::sync::Arc;

use audio::SampleRate;
use futures::future::BoxFuture;
use serde::Deserialize;
use tokio::task::JoinHandle;
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::call::session::CallMedia;
use crate::store::reads::CallRow;
use crate::transport::local_call::{connect_local, Caller};
use crate::tts::TtsProvider;

/// Why a dial did not connect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialError {
    #[error("busy")]
    Busy,
    #[error("no answer")]
    NoAnswer,
    #[error("declined")]
    Declined,
    /// Worth retrying later (503, a transport hiccup).
    #[error("temporarily unavailable: {0}")]
    RetryLater(String),
    /// Never worth retrying (invalid number, bad options).
    #[error("failed: {0}")]
    Failed(String),
}

impl DialError {
    pub fn disposition(&self) -> &'static str {
        match self {
            Self::Busy => "busy",
            Self::NoAnswer | Self::RetryLater(_) => "no_answer",
            Self::Declined => "declined",
            Self::Failed(_) => "failed",
        }
    }

    /// Whether another attempt may reach the callee.
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Busy | Self::NoAnswer | Self::RetryLater(_))
    }
}

/// Controls of a connected call besides hanging up (which cancels its token).
pub trait CallControl: Send + Sync {
    /// Blind transfer to a number or SIP URI.
    fn transfer(&self, target: &str) -> BoxFuture<'_, Result<(), String>>;
    /// Sends key presses to the far end (RFC 4733 events, SIP INFO or a LiveKit `sip_dtmf`
    /// packet), e.g. to navigate an IVR menu. Digits are `0-9`, `*`, `#`, `A-D`; `,` pauses.
    fn send_dtmf(&self, digits: &str) -> BoxFuture<'_, Result<(), String>> {
        let _ = digits;
        Box::pin(async { Err("this transport cannot send DTMF".to_string()) })
    }

    /// Where a human agent joins this call when it is escalated (a LiveKit room: its name, a
    /// join token and a meeting URL), for the `escalation.created` webhook.
    fn meeting_link(&self) -> Option<serde_json::Value> {
        None
    }
}

/// A connected call.
pub struct Connected {
    pub media: CallMedia,
    pub control: Option<Arc<dyn CallControl>>,
    /// Work the transport does on the far side; awaited after the call ends.
    pub far_end: Option<JoinHandle<()>>,
    /// Key presses received out of band (SIP RFC 4733 / INFO), if the transport has them.
    pub dtmf: Option<tokio::sync::mpsc::Receiver<char>>,
}

pub trait Dialer: Send + Sync {
    /// Dials `call`; `cancel` abandons the attempt (and later ends the call).
    fn dial<'a>(
        &'a self,
        call: &'a CallRow,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<Connected, DialError>>;
}

/// The local transport as a dialer: the callee is a simulated caller on this machine who says
/// `transport_options.caller_lines` in turn (or a scripted dial result, to exercise the
/// busy / no-answer paths). For script authors' dry runs and end-to-end tests of the API.
pub struct LocalDialer {
    pub voice: Arc<dyn TtsProvider>,
    pub rate: SampleRate,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocalOptions {
    #[serde(default)]
    caller_lines: Vec<String>,
    /// `busy`, `no_answer`, `declined` or `failed`: the dial fails so.
    #[serde(default)]
    result: Option<String>,
    /// The simulated caller hangs up after this long.
    #[serde(default)]
    hang_up_after_ms: Option<u64>,
}

impl Dialer for LocalDialer {
    fn dial<'a>(
        &'a self,
        call: &'a CallRow,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<Connected, DialError>> {
        Box::pin(async move {
            let options: LocalOptions = serde_json::from_value(call.transport_options.clone())
                .map_err(|e| DialError::Failed(format!("transport_options: {e}")))?;
            match options.result.as_deref() {
                None => {}
                Some("busy") => return Err(DialError::Busy),
                Some("no_answer") => return Err(DialError::NoAnswer),
                Some("declined") => return Err(DialError::Declined),
                Some(other) => return Err(DialError::Failed(format!("scripted result {other}"))),
            }
            let caller = Caller::Simulated {
                lines: options.caller_lines,
                voice: self.voice.clone(),
                turn_gap: Duration::from_millis(700),
            };
            let hang_up = options.hang_up_after_ms.map(Duration::from_millis);
            let (media, session) = connect_local(caller, self.rate, hang_up, &cancel);
            let done = session.cancel.clone();
            let far_end = tokio::spawn(async move {
                done.cancelled().await;
                drop(session);
            });
            Ok(Connected {
                media,
                control: None,
                far_end: Some(far_end),
                dtmf: None,
            })
        })
    }
}
