//! The conversation interface: what the turn engine asks of whatever decides what the agent
//! says. The turn engine turns audio into [`ConversationEvent`]s (a final transcript, silence,
//! DTMF, playback finished) and carries out the [`ConversationEffect`]s it gets back (speak,
//! listen with endpointing hints, ask the LLM, hang up). Implementations are synchronous and
//! pure: time comes in with each event, and anything slow (the LLM) is an effect the turn
//! engine executes and reports back.

pub mod llm_chat;
pub mod script;
pub mod verdict;

use serde::Serialize;

use crate::llm::ChatRequest;

/// Milliseconds since the call was answered.
pub type CallMs = u64;

/// Identifies one line the agent speaks, so playback results can be matched to it.
pub type UtteranceId = u64;

/// Something that happened in the call, as the conversation needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConversationEvent {
    /// The far end answered (or the inbound call was accepted); the conversation may speak.
    CallAnswered,
    /// Answer detection found an answering machine (instead of [`Self::CallAnswered`]) and
    /// its greeting is over: the conversation leaves its message, if any, and hangs up.
    VoicemailDetected,
    /// The call, started with [`Self::CallAnswered`], turned out answered by a call-screening
    /// assistant, and the person it screens for has come on: the opening starts over for them.
    PutThrough,
    /// The caller finished a turn and this is what they said.
    CallerSaid { text: String, confidence: f32 },
    /// The caller said nothing within the current listen's no-input timeout.
    CallerSilent,
    /// The caller pressed a key.
    DtmfReceived { digit: char },
    /// A human agent joined the call (a LiveKit room participant who is not the caller).
    HumanJoined { identity: String },
    /// An agent line finished playing, or was cut off by the caller.
    SayFinished {
        utterance: UtteranceId,
        interrupted: bool,
    },
    /// The LLM answered an [`ConversationEffect::AskLlm`]: its text (spoken, unless the
    /// request was silent) and the tool calls it made (a `set_verdict`, for instance).
    LlmReplied {
        text: String,
        tool_calls: Vec<crate::llm::ToolCall>,
    },
    /// The LLM request failed; the turn engine already spoke a fallback line.
    LlmFailed { reason: String },
    /// The call reached its maximum duration.
    MaxDurationReached,
    /// The caller hung up; only `SetAnswer` and `Hangup` effects still matter.
    CallerHungUp,
    /// A timer the conversation started fired.
    TimerFired { id: u64 },
    /// A tool request finished: its JSON answer, or what went wrong.
    ToolFinished {
        id: u64,
        result: Result<serde_json::Value, String>,
    },
}

/// How the turn engine should listen for the caller's next turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListenSpec {
    /// Silence after speech that ends the caller's turn (short after yes/no questions, longer
    /// after open questions).
    pub end_of_turn_silence_ms: u32,
    /// Vocabulary hints for the recogniser (e.g. digits after a rating question).
    pub hints: Option<String>,
    /// How long the caller may stay silent before [`ConversationEvent::CallerSilent`].
    pub no_input_ms: u32,
}

impl Default for ListenSpec {
    fn default() -> Self {
        Self {
            end_of_turn_silence_ms: 600,
            hints: None,
            no_input_ms: 8_000,
        }
    }
}

/// How a call ended, as the conversation decided it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub disposition: String,
    /// Why the call ended (`caller_hung_up`, `max_duration`, `completed`...).
    pub reason: String,
    /// The script's own label for the result (an end node's `outcome`), if it gave one.
    pub outcome: Option<String>,
}

impl Outcome {
    pub fn new(disposition: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            disposition: disposition.into(),
            reason: reason.into(),
            outcome: None,
        }
    }
}

/// What the conversation wants the turn engine to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum ConversationEffect {
    /// Speak a line. Uninterruptible lines (legal notices) ignore barge-in.
    Say {
        id: UtteranceId,
        text: String,
        interruptible: bool,
    },
    /// Stream an LLM reply to the caller, sentence by sentence (or, when `spoken` is false,
    /// only read it: a classification); report it back with
    /// [`ConversationEvent::LlmReplied`] or [`ConversationEvent::LlmFailed`].
    AskLlm {
        request: ChatRequest,
        spoken: bool,
    },
    /// Listen for the caller's next turn with these settings.
    Listen(ListenSpec),
    /// Record a collected answer.
    SetAnswer {
        slot: String,
        value: serde_json::Value,
    },
    /// The conversation moved to another node (for transcripts and logs).
    NodeEntered {
        node: String,
    },
    /// Make an HTTP tool request; report it back with [`ConversationEvent::ToolFinished`].
    CallTool(crate::tools::ToolRequest),
    /// Start (or restart) timer `id`; it fires as [`ConversationEvent::TimerFired`].
    StartTimer {
        id: u64,
        after_ms: u64,
    },
    CancelTimer {
        id: u64,
    },
    /// Something for the backend to act on after or during the call (a follow-up, an
    /// escalation, a transfer request), recorded in the call report.
    Record(CallRecord),
    /// Transfer the caller (to an E.164 number or SIP URI) once the lines before have
    /// played; the `Hangup` that follows ends the call when the transport has done it.
    Transfer {
        target: String,
    },
    /// A human agent took the call over: the agent says nothing more. With `listen` it stays
    /// and keeps transcribing the caller until they (or every human) leave, and the `Hangup`
    /// that follows only sets the call's outcome; otherwise that `Hangup` leaves as usual.
    HandOver {
        human: String,
        listen: bool,
    },
    /// End the call once everything already queued has been spoken.
    Hangup(Outcome),
}

/// A structured result of the conversation besides answers: `kind` names it
/// (`scheduled_action`, `escalation`, `transfer`), `detail` carries its fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    pub kind: String,
    pub detail: serde_json::Value,
}

/// Which script, at which version (content hash), a call ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptRef {
    pub id: String,
    pub version: String,
}

/// Decides what the agent says. One instance per call, driven by the turn engine.
pub trait Conversation: Send {
    /// Handles one event at `now` and returns the effects to carry out, in order.
    fn handle(&mut self, event: ConversationEvent, now: CallMs) -> Vec<ConversationEffect>;

    /// Whether `text` already answers what the caller was asked, so the caller's turn can end
    /// at the first pause instead of after the whole end-of-turn silence.
    fn completes_turn(&self, _text: &str) -> bool {
        false
    }

    /// The dialogue script behind this conversation, if any (recorded with the call).
    fn script(&self) -> Option<ScriptRef> {
        None
    }
}
