//! Outbound calls through LiveKit SIP: the agent joins a room of the call's own, then
//! `CreateSIPParticipant` rings the callee and waits for the answer; the SIP status of a failed
//! dial becomes the disposition.

use std::sync::Arc;

use futures::future::BoxFuture;
use livekit_api::services::sip::{CreateSIPParticipantOptions, SIPClient};
use livekit_api::services::{ServerError, ServiceError};
use serde::Deserialize;
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

use super::room::{http_base, leave_when_done, room_token, RoomControl, TokenKind};
use super::LiveKitSetup;
use crate::media::CallClock;
use crate::runtime::dial::{Connected, DialError, Dialer};
use crate::speaker::AudioOut;
use crate::store::reads::CallRow;
use crate::transport::livekit::{self, CallerRule, RoomOptions};

/// Dials jobs with transport `livekit` through LiveKit SIP.
pub struct LiveKitDialer {
    pub setup: LiveKitSetup,
}

/// `transport_options` of a `livekit` job.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DialOptions {
    /// Overrides the configured outbound trunk.
    trunk: Option<String>,
    /// Room to use; default `call-<id>`.
    room: Option<String>,
}

impl Dialer for LiveKitDialer {
    fn dial<'a>(
        &'a self,
        call: &'a CallRow,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<Connected, DialError>> {
        Box::pin(async move {
            let options: DialOptions = serde_json::from_value(call.transport_options.clone())
                .map_err(|e| DialError::Failed(format!("transport_options: {e}")))?;
            let c = &self.setup.config;
            let trunk = options
                .trunk
                .or_else(|| c.outbound_trunk.clone())
                .ok_or_else(|| DialError::Failed("no LiveKit SIP outbound trunk".into()))?;
            let room_name = options
                .room
                .or_else(|| call.room.clone())
                .unwrap_or_else(|| format!("call-{}", call.id));
            let callee = format!("phone-{}", call.id);
            let agent = format!("switchboard-{}", uuid::Uuid::new_v4().simple());
            let token = room_token(
                &self.setup,
                &room_name,
                &agent,
                "Switchboard agent",
                TokenKind::Agent,
            )
            .map_err(|e| DialError::Failed(format!("token: {e}")))?;
            let mut room_options = RoomOptions::new(&c.url, &token);
            room_options.caller = CallerRule::Identity(callee.clone());
            // Join first: the callee's "Hello?" must not be lost while we connect.
            let room = livekit::join(room_options, cancel.clone())
                .await
                .map_err(|e| DialError::RetryLater(format!("joining room: {e}")))?;
            let sip = SIPClient::with_api_key(
                &http_base(&c.url),
                &self.setup.api_key,
                &self.setup.api_secret,
            );
            let request = CreateSIPParticipantOptions {
                participant_identity: callee.clone(),
                sip_number: call.from.clone(),
                wait_until_answered: Some(true),
                ringing_timeout: Some(Duration::from_secs(c.ring_timeout_secs)),
                ..Default::default()
            };
            let to = call.to.clone().unwrap_or_default();
            let dialled = tokio::select! {
                r = sip.create_sip_participant(trunk, to, room_name.clone(), request, None) => r,
                _ = cancel.cancelled() => {
                    room.handle.leave().await;
                    return Err(DialError::NoAnswer);
                }
            };
            if let Err(e) = dialled {
                room.handle.leave().await;
                return Err(dial_error(e));
            }
            let (mut connected, handle, _events) = room.into_connected();
            connected.control = Some(Arc::new(RoomControl {
                room: handle.clone(),
                room_name: room_name.clone(),
                caller: callee.clone(),
                setup: self.setup.clone(),
            }));
            answered_now(&mut connected);
            tokio::spawn(leave_when_done(handle, cancel));
            Ok(connected)
        })
    }
}

/// Call time 0 is the answer (answer detection times the callee's first seconds), while the
/// room's sender paces agent audio on the room's clock from the join: agent frames are
/// shifted back onto it.
fn answered_now(connected: &mut Connected) {
    let offset_ms = connected.media.clock.now_ms();
    connected.media.clock = CallClock::start_now();
    let inner = std::mem::replace(&mut connected.media.output, Box::new(Nowhere));
    connected.media.output = Box::new(Shifted { inner, offset_ms });
}

struct Shifted {
    inner: Box<dyn AudioOut>,
    offset_ms: u64,
}

impl AudioOut for Shifted {
    fn rate(&self) -> audio::SampleRate {
        self.inner.rate()
    }
    fn send(&mut self, samples: &[i16], at_ms: u64) {
        self.inner.send(samples, at_ms + self.offset_ms);
    }
}

/// A placeholder output for the moment of the swap.
struct Nowhere;

impl AudioOut for Nowhere {
    fn rate(&self) -> audio::SampleRate {
        audio::SampleRate::HZ_16K
    }
    fn send(&mut self, _: &[i16], _: u64) {}
}

/// The SIP status LiveKit reports with a failed dial, as the job queue understands it.
fn dial_error(e: ServiceError) -> DialError {
    let ServiceError::Twirp(ServerError::Twirp(code)) = &e else {
        return DialError::RetryLater(e.to_string());
    };
    let sip: Option<u16> = code
        .meta
        .get("sip_status_code")
        .and_then(|s| s.parse().ok());
    match sip {
        Some(486 | 600) => DialError::Busy,
        Some(408 | 480 | 487) => DialError::NoAnswer,
        Some(603) => DialError::Declined,
        Some(404 | 484 | 604) => DialError::Failed(format!("invalid number ({})", code.msg)),
        Some(503) | None if code.code == "unavailable" => DialError::RetryLater(code.msg.clone()),
        _ => DialError::Failed(format!("{}: {}", code.code, code.msg)),
    }
}
