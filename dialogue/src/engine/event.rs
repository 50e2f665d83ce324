//! The engine's conversation interface: [`Event`]s in (things that happened, past tense),
//! [`Effect`]s out (things the runtime must do). Both are plain serde data so the turn engine
//! can log and replay them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::script::{ActionKind, Disposition, Endpointing, HttpMethod, Priority, SlotKind};
use crate::value::Value;

/// Identifier of an utterance, timer, tool call or LLM request (unique per call).
pub type Id = u64;

/// Something that happened on the call. Every event with a clock carries `now`; the engine
/// never reads a clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Dialling (or ringing) began. Starts the answer timer when the script has one.
    CallStarted { now: DateTime<Utc> },
    /// A person (not a machine) picked up; the graph starts.
    Answered { now: DateTime<Utc> },
    /// The call was answered by a call-screening assistant after all (taken for a person, it
    /// heard the opening), and the person it screens for has now come on: the graph starts
    /// over from its start node, answers kept, so that the person hears the opening.
    PutThrough { now: DateTime<Utc> },
    /// Answering-machine detection fired: the engine leaves the voicemail message.
    VoicemailDetected { now: DateTime<Utc> },
    /// A final transcript of the caller's turn.
    UserSaid {
        text: String,
        confidence: f32,
        now: DateTime<Utc>,
    },
    /// The caller stayed silent past the last `Listen`'s `no_input_timeout_ms`.
    NoInput { now: DateTime<Utc> },
    /// A DTMF key press.
    Dtmf { digit: char, now: DateTime<Utc> },
    /// A timer the engine started with [`Effect::StartTimer`] expired.
    TimerFired { id: Id, now: DateTime<Utc> },
    /// A [`Effect::CallTool`] finished.
    ToolFinished {
        call_id: Id,
        result: ToolResult,
        now: DateTime<Utc>,
    },
    /// A [`Effect::RequestLlm`] finished.
    LlmFinished {
        request_id: Id,
        outcome: LlmOutcome,
        now: DateTime<Utc>,
    },
    /// An utterance finished playing (or was cut off by barge-in). Informational.
    SayFinished { utterance_id: Id, interrupted: bool },
    /// A human agent joined the room.
    HumanJoined {
        identity: String,
        now: DateTime<Utc>,
    },
    /// A human agent left the room.
    HumanLeft {
        identity: String,
        now: DateTime<Utc>,
    },
    /// Sentiment of the caller's recent speech, -1..1.
    SentimentMeasured { score: f32, now: DateTime<Utc> },
    /// The runtime's own cap on call length fired (the engine also keeps a timer).
    MaxDurationReached { now: DateTime<Utc> },
    /// The caller hung up.
    CallerHungUp { now: DateTime<Utc> },
}

impl Event {
    /// The event's clock, if it has one.
    pub fn now(&self) -> Option<DateTime<Utc>> {
        match self {
            Event::CallStarted { now }
            | Event::Answered { now }
            | Event::PutThrough { now }
            | Event::VoicemailDetected { now }
            | Event::UserSaid { now, .. }
            | Event::NoInput { now }
            | Event::Dtmf { now, .. }
            | Event::TimerFired { now, .. }
            | Event::ToolFinished { now, .. }
            | Event::LlmFinished { now, .. }
            | Event::HumanJoined { now, .. }
            | Event::HumanLeft { now, .. }
            | Event::SentimentMeasured { now, .. }
            | Event::MaxDurationReached { now }
            | Event::CallerHungUp { now } => Some(*now),
            Event::SayFinished { .. } => None,
        }
    }
}

/// Result of an HTTP tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ToolResult {
    /// A 2xx response with its JSON body (`null` for an empty body).
    Ok { body: serde_json::Value },
    /// Timeout, connection failure or non-2xx status.
    Error { message: String },
}

/// Result of an LLM request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LlmOutcome {
    /// The model's reply, and the verdict it chose when `classify` options were given.
    Reply {
        text: String,
        verdict: Option<String>,
    },
    Failed {
        error: String,
    },
}

/// One message of the conversation history sent with LLM requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Caller,
}

/// A header of a tool call: literal text or a secret the runtime resolves by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HeaderValue {
    Text { name: String, value: String },
    Secret { name: String, secret: String },
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Completed,
    NotAnswered,
    Voicemail,
    MaxDuration,
    Silence,
    Dnc,
    CallbackRequested,
    Escalated,
    Transferred,
    CallerHungUp,
    Error,
}

/// Something the runtime must do, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Speak `text` (TTS). Non-interruptible text must play out even if the caller talks.
    Say {
        utterance_id: Id,
        text: String,
        interruptible: bool,
    },
    /// Listen for the caller's turn with these endpointing settings and STT hints; send
    /// [`Event::NoInput`] after `no_input_timeout_ms` of silence once speech output ended.
    Listen {
        slot: Option<SlotKind>,
        endpointing: Endpointing,
        hints: Vec<String>,
        no_input_timeout_ms: u64,
    },
    /// Send [`Event::TimerFired`] with `id` after `after_ms`.
    StartTimer {
        id: Id,
        after_ms: u64,
    },
    CancelTimer {
        id: Id,
    },
    /// Perform an HTTP call and send [`Event::ToolFinished`].
    CallTool {
        call_id: Id,
        method: HttpMethod,
        url: String,
        headers: Vec<HeaderValue>,
        body: Option<serde_json::Value>,
        timeout_ms: u64,
    },
    /// Ask the LLM and send [`Event::LlmFinished`]. With `classify` non-empty the reply must
    /// carry one of those verdicts (or none). `spoken`: the reply is said to the caller (an
    /// llm node's turn); otherwise it only classifies what the caller said (an ask node's
    /// fallback) and must never be heard.
    RequestLlm {
        request_id: Id,
        system: String,
        goal: String,
        messages: Vec<Message>,
        tools: Vec<String>,
        classify: Vec<String>,
        spoken: bool,
    },
    /// Transfer the call (SIP REFER / LiveKit SIP transfer) to a number or SIP URI.
    Transfer {
        target: String,
    },
    /// Create an escalation (meeting link, notify human agents). `wait_timeout_ms` is set when
    /// the engine waits for a human (within service hours).
    Escalate {
        reason: String,
        priority: Priority,
        within_hours: bool,
        wait_timeout_ms: Option<u64>,
    },
    /// Record a follow-up for the backend.
    ScheduleAction {
        kind: ActionKind,
        at: DateTime<Utc>,
        reason: String,
    },
    /// Persist a collected answer (slot) with its typed value.
    SetAnswer {
        slot: String,
        value: Value,
    },
    /// The graph moved to a node (visit counts node entries in this call).
    NodeEntered {
        id: String,
        kind: String,
        visit: u64,
    },
    /// A human agent took the call over (after the join line and briefing): the AI says
    /// nothing more. With `listen` it stays in the call and keeps transcribing the caller
    /// until they leave; the `Hangup` that follows then ends the AI's part, not the call.
    HandOver {
        human: String,
        listen: bool,
    },
    /// The AI leaves the call once queued speech has played. Always the last effect.
    Hangup {
        disposition: Disposition,
        outcome: Option<String>,
        reason: EndReason,
    },
}
