//! What a call leaves behind: the timed transcript, per-turn latency metrics, collected
//! answers and the outcome. Built up by the controller while the call runs, so nothing is
//! lost when it ends early; written as JSON by the local transport and persisted by the store.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::conversation::{CallRecord, Outcome, ScriptRef};
use crate::speaker::TurnId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Agent,
    Caller,
}

/// One utterance, timed in call milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptLine {
    pub speaker: Speaker,
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// Agent line cut off by the caller.
    pub interrupted: bool,
    pub node: Option<String>,
}

/// Latency of one agent turn, from the caller's last voiced frame onwards (call ms).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TurnMetrics {
    pub turn: TurnId,
    pub last_voice_ms: u64,
    /// Silence waited before the turn was declared over.
    pub end_of_utterance_delay_ms: u64,
    /// Decode time of the transcript used (it may have started before the turn ended).
    pub stt_ms: u64,
    /// Time the turn waited for STT after it ended (0 when speculation finished first).
    pub stt_wait_ms: u64,
    pub llm_first_token_ms: Option<u64>,
    /// From the turn's end to the first synthesised audio of the reply.
    pub tts_first_audio_ms: Option<u64>,
    /// Caller's last voiced frame → agent's first audio frame sent.
    pub voice_to_voice_ms: Option<u64>,
}

/// How quickly a barge-in silenced the agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BargeIn {
    pub onset_ms: u64,
    /// Caller speech onset → agent audio stopped.
    pub reaction_ms: u64,
    /// Whether the agent resumed (the interruption was a cough or a backchannel).
    pub resumed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Usage {
    pub llm_prompt_tokens: u64,
    pub llm_completion_tokens: u64,
    pub characters_synthesised: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CallReport {
    pub call_id: String,
    /// The dialogue script and version the call ran, if it ran one.
    pub script: Option<ScriptRef>,
    pub duration_ms: u64,
    pub transcript: Vec<TranscriptLine>,
    pub turns: Vec<TurnMetrics>,
    pub barge_ins: Vec<BargeIn>,
    pub answers: BTreeMap<String, serde_json::Value>,
    /// Follow-ups, escalations and transfers the conversation asked for.
    pub records: Vec<CallRecord>,
    pub outcome: Option<Outcome>,
    pub usage: Usage,
    /// Caller frames dropped because ingest fell behind.
    pub dropped_frames: u64,
}

impl CallReport {
    pub fn turn_mut(&mut self, turn: TurnId) -> Option<&mut TurnMetrics> {
        self.turns.iter_mut().rev().find(|m| m.turn == turn)
    }
}
