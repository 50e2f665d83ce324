//! The speaking half of a call: the TTS stage turns each line into audio at the transport's
//! rate, and the playout stage paces it out in 20 ms frames. Every item carries the
//! [`TurnId`] it was produced for; a barge-in raises the minimum turn, so stale audio is
//! dropped by comparing numbers rather than by killing tasks.

pub mod playout;
pub mod synth;

use serde::Serialize;

use crate::conversation::UtteranceId;

/// Generation counter of the agent's turns. Raised on every barge-in that takes the floor.
pub type TurnId = u64;

/// One line for the agent to say.
#[derive(Debug, Clone)]
pub struct SpeakRequest {
    pub turn: TurnId,
    pub utterance: UtteranceId,
    pub text: String,
    pub interruptible: bool,
}

/// Audio for playout, in order; `End` closes an utterance.
#[derive(Debug)]
pub enum PlayoutItem {
    Audio {
        turn: TurnId,
        utterance: UtteranceId,
        samples: Vec<i16>,
    },
    End {
        turn: TurnId,
        utterance: UtteranceId,
    },
}

/// Controller → playout commands, handled before audio.
#[derive(Debug, Clone, Copy)]
pub enum PlayoutControl {
    /// Stop sending audio at once but keep it (a possible barge-in).
    Pause,
    /// Continue where `Pause` stopped (the interruption was a cough or a backchannel).
    Resume,
    /// Drop everything produced for turns before `min_turn`.
    Flush { min_turn: TurnId },
}

/// What the speaker stages report to the controller. Times are call milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SpeakerEvent {
    /// The first audio of a line is ready (TTS time to first audio).
    SynthesisStarted {
        turn: TurnId,
        utterance: UtteranceId,
        at_ms: u64,
    },
    /// Synthesis failed for a line: it will not be heard.
    SynthesisFailed {
        turn: TurnId,
        utterance: UtteranceId,
        error: String,
    },
    /// The first frame of a line went out to the transport.
    PlaybackStarted {
        turn: TurnId,
        utterance: UtteranceId,
        at_ms: u64,
    },
    /// A line finished playing, or was cut off (`interrupted`); `played_ms` is how much was heard.
    PlaybackFinished {
        turn: TurnId,
        utterance: UtteranceId,
        at_ms: u64,
        interrupted: bool,
        played_ms: u64,
    },
    /// Playout stopped sending audio after a `Pause` (barge-in reaction).
    PlaybackPaused { at_ms: u64 },
}

/// Where the agent's audio goes: the transport's sending side. Must not block.
pub trait AudioOut: Send {
    /// The rate frames must have.
    fn rate(&self) -> audio::SampleRate;
    /// Sends one frame of at most 20 ms, due at call time `at_ms`.
    fn send(&mut self, samples: &[i16], at_ms: u64);
}
