//! Talking to a joined room from outside its actor: [`RoomHandle`] (cloneable, wraps the
//! actor's bounded command channel) and [`LiveKitControl`], the runtime's [`CallControl`]
//! for a LiveKit call (DTMF to the SIP caller as `sip_dtmf`; transfer is LiveKit SIP's
//! `TransferSIPParticipant`, which needs API credentials and is not done from the room).

use std::collections::HashMap;

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use super::data::{AgentState, TranscriptSegment, AGENT_STATE_ATTRIBUTE};
use super::LiveKitError;
use crate::runtime::dial::CallControl;

/// What the room actor is asked to do.
pub(super) enum Command {
    /// Publish a data packet (already encoded).
    Data { reliable: bool, bytes: Vec<u8> },
    /// Publish a transcript segment from us.
    Transcript(TranscriptSegment),
    /// Set (merge) our participant attributes.
    Attributes(HashMap<String, String>),
    /// Send key presses to the caller.
    Dtmf {
        digits: String,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Leave the room cleanly; answered once the LeaveRequest went out.
    Leave { reply: oneshot::Sender<()> },
}

/// A cloneable handle on a joined room. Every method fails with
/// [`LiveKitError::RoomGone`] once the room actor has ended.
#[derive(Clone)]
pub struct RoomHandle {
    pub(super) commands: mpsc::Sender<Command>,
}

impl RoomHandle {
    async fn send(&self, c: Command) -> Result<(), LiveKitError> {
        self.commands
            .send(c)
            .await
            .map_err(|_| LiveKitError::RoomGone)
    }

    /// Publishes a data packet (e.g. from [`super::data::user_packet`]).
    ///
    /// # Errors
    /// [`LiveKitError::RoomGone`].
    pub async fn publish_data(&self, reliable: bool, bytes: Vec<u8>) -> Result<(), LiveKitError> {
        self.send(Command::Data { reliable, bytes }).await
    }

    /// Publishes a live transcript segment: a legacy `Transcription` packet and an
    /// `lk.transcription` text stream (see [`super::data::text_stream`]), both reliable. An
    /// empty `track_sid` is filled in with the speaker's audio track; a segment whose speaker
    /// has no audio track yet is not published.
    ///
    /// # Errors
    /// [`LiveKitError::RoomGone`].
    pub async fn publish_transcript(&self, segment: TranscriptSegment) -> Result<(), LiveKitError> {
        self.send(Command::Transcript(segment)).await
    }

    /// Sets the `lk.agent.state` attribute.
    ///
    /// # Errors
    /// [`LiveKitError::RoomGone`].
    pub async fn set_agent_state(&self, state: AgentState) -> Result<(), LiveKitError> {
        let attrs = HashMap::from([(
            AGENT_STATE_ATTRIBUTE.to_string(),
            state.as_str().to_string(),
        )]);
        self.send(Command::Attributes(attrs)).await
    }

    /// Merges `attributes` into our participant attributes.
    ///
    /// # Errors
    /// [`LiveKitError::RoomGone`].
    pub async fn set_attributes(
        &self,
        attributes: HashMap<String, String>,
    ) -> Result<(), LiveKitError> {
        self.send(Command::Attributes(attributes)).await
    }

    /// Sends key presses to the caller as `sip_dtmf` packets.
    ///
    /// # Errors
    /// [`LiveKitError::RoomGone`], or the refusal (no SIP caller, bad digit) as text.
    pub async fn send_dtmf(&self, digits: &str) -> Result<(), String> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Dtmf {
            digits: digits.to_string(),
            reply,
        })
        .await
        .map_err(|e| e.to_string())?;
        rx.await.map_err(|_| LiveKitError::RoomGone.to_string())?
    }

    /// Leaves the room (LeaveRequest, then close); returns once the request went out.
    /// Leaving a room that is already gone is not an error.
    pub async fn leave(&self) {
        let (reply, rx) = oneshot::channel();
        if self.send(Command::Leave { reply }).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// The runtime's control of a LiveKit call.
pub struct LiveKitControl {
    pub room: RoomHandle,
}

impl CallControl for LiveKitControl {
    fn transfer(&self, target: &str) -> BoxFuture<'_, Result<(), String>> {
        let target = target.to_string();
        Box::pin(async move {
            Err(format!(
                "transfer to {target} needs LiveKit SIP's TransferSIPParticipant (server API)"
            ))
        })
    }

    fn send_dtmf(&self, digits: &str) -> BoxFuture<'_, Result<(), String>> {
        let digits = digits.to_string();
        Box::pin(async move { self.room.send_dtmf(&digits).await })
    }
}
