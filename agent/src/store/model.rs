//! The store's rows and the writes a call makes. Writes are plain data so the durable spool
//! can keep them while the database is away and replay them, idempotently, when it returns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::call::report::{CallReport, Speaker, TranscriptLine, TurnMetrics, Usage};

/// Epoch milliseconds now: every `*_at` column holds one.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        }
    }
}

/// Where a call is in its life. `claimed` = a worker holds the job but has not dialled.
pub mod status {
    pub const QUEUED: &str = "queued";
    pub const CLAIMED: &str = "claimed";
    pub const DIALLING: &str = "dialling";
    pub const IN_PROGRESS: &str = "in_progress";
    pub const COMPLETED: &str = "completed";
    pub const FAILED: &str = "failed";
    pub const REFUSED: &str = "refused";
    pub const INTERRUPTED: &str = "interrupted";
    pub const CANCELLED: &str = "cancelled";

    /// Statuses of a call that has not ended.
    pub const LIVE: [&str; 3] = [CLAIMED, DIALLING, IN_PROGRESS];
}

/// A call as it is first written: queued by the API, or ringing in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCall {
    pub id: String,
    pub tenant: String,
    pub direction: Direction,
    pub transport: String,
    /// Transport-specific settings (a trunk, a room, the local transport's simulated caller).
    pub transport_options: Value,
    pub script_id: Option<String>,
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub room: Option<String>,
    pub lead_id: Option<String>,
    pub external_refs: Value,
    pub variables: Value,
    pub time_zone: Option<String>,
    pub idempotency_key: Option<String>,
    pub status: String,
    pub queued_at: i64,
    pub not_before: i64,
    pub max_attempts: i64,
    /// The process running the call from the start (inbound calls) and its lease.
    #[serde(default)]
    pub claimed_by: Option<String>,
    #[serde(default)]
    pub lease_until: Option<i64>,
}

/// One utterance as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineRow {
    pub seq: i64,
    pub speaker: String,
    pub text: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub interrupted: bool,
    pub node: Option<String>,
    pub sentiment: Option<f64>,
}

impl LineRow {
    pub fn from_line(seq: usize, line: &TranscriptLine, sentiment: Option<f64>) -> Self {
        Self {
            seq: seq as i64,
            speaker: match line.speaker {
                Speaker::Agent => "agent",
                Speaker::Caller => "caller",
            }
            .into(),
            text: line.text.clone(),
            start_ms: line.start_ms as i64,
            end_ms: line.end_ms as i64,
            interrupted: line.interrupted,
            node: line.node.clone(),
            sentiment,
        }
    }
}

/// How the call went, as the outcome engine judged it (filled from the report until then).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub disposition: String,
    pub outcome: Option<String>,
    pub end_reason: String,
    pub sentiment: Option<(f64, f64)>,
    pub line_sentiments: Vec<Option<f64>>,
    pub summary: Option<String>,
    pub interest_score: Option<i64>,
}

/// Everything written when a call ends, in one transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallEnd {
    pub tenant: String,
    pub call_id: String,
    pub ended_at: i64,
    pub status: String,
    pub answered: bool,
    pub duration_ms: i64,
    pub script_id: Option<String>,
    pub script_version: Option<String>,
    /// The other party's number (callee outbound, caller inbound): a `dnc` ends up on the list.
    pub party_number: Option<String>,
    pub assessment: Assessment,
    pub transcript: Vec<LineRow>,
    pub answers: BTreeMap<String, Value>,
    pub metrics: Vec<MetricsRow>,
    pub records: Vec<RecordRow>,
    pub usage: UsageRow,
    pub recording_path: Option<String>,
    /// Events for the tenant's webhooks, written to the outbox in the same transaction.
    pub events: Vec<OutboxEvent>,
}

/// Per-turn latency as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsRow {
    pub turn: i64,
    pub end_of_utterance_ms: i64,
    pub stt_ms: i64,
    pub stt_wait_ms: i64,
    pub llm_first_token_ms: Option<i64>,
    pub tts_first_audio_ms: Option<i64>,
    pub voice_to_voice_ms: Option<i64>,
}

impl From<&TurnMetrics> for MetricsRow {
    fn from(m: &TurnMetrics) -> Self {
        let ms = |v: Option<u64>| v.map(|v| v as i64);
        Self {
            turn: m.turn as i64,
            end_of_utterance_ms: m.end_of_utterance_delay_ms as i64,
            stt_ms: m.stt_ms as i64,
            stt_wait_ms: m.stt_wait_ms as i64,
            llm_first_token_ms: ms(m.llm_first_token_ms),
            tts_first_audio_ms: ms(m.tts_first_audio_ms),
            voice_to_voice_ms: ms(m.voice_to_voice_ms),
        }
    }
}

/// A result for the backend (`escalation`, `transfer`, `scheduled_action`) with its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordRow {
    pub kind: String,
    pub detail: Value,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageRow {
    pub audio_in_ms: i64,
    pub audio_out_ms: i64,
    pub llm_prompt_tokens: i64,
    pub llm_completion_tokens: i64,
    pub characters_synthesised: i64,
}

impl UsageRow {
    pub fn from_report(report: &CallReport) -> Self {
        let Usage {
            llm_prompt_tokens,
            llm_completion_tokens,
            characters_synthesised,
        } = report.usage;
        let spoken = |speaker: Speaker| {
            report
                .transcript
                .iter()
                .filter(|l| l.speaker == speaker)
                .map(|l| l.end_ms.saturating_sub(l.start_ms) as i64)
                .sum()
        };
        Self {
            audio_in_ms: report.duration_ms as i64,
            audio_out_ms: spoken(Speaker::Agent),
            llm_prompt_tokens: llm_prompt_tokens as i64,
            llm_completion_tokens: llm_completion_tokens as i64,
            characters_synthesised: characters_synthesised as i64,
        }
    }
}

/// An event for the tenant's webhook endpoints. `id` is stable so a replay writes it once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEvent {
    pub id: String,
    pub kind: String,
    pub payload: Value,
}

impl OutboxEvent {
    /// The event `kind` of call `call_id`; at most one per call and kind.
    pub fn for_call(call_id: &str, kind: &str, payload: Value) -> Self {
        Self {
            id: format!("{call_id}:{kind}"),
            kind: kind.into(),
            payload,
        }
    }
}

/// A write the call side makes. Each one is idempotent: applying it twice stores it once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum WriteOp {
    InsertCall(Box<NewCall>),
    Answered {
        tenant: String,
        call_id: String,
        at: i64,
        script_id: Option<String>,
        script_version: Option<String>,
    },
    Line {
        tenant: String,
        call_id: String,
        line: LineRow,
    },
    Answer {
        tenant: String,
        call_id: String,
        slot: String,
        value: Value,
    },
    /// A dial that did not connect: requeued for `retry_at`, or finished with `disposition`.
    DialFailed {
        tenant: String,
        call_id: String,
        attempt: i64,
        disposition: String,
        error: String,
        retry_at: Option<i64>,
        at: i64,
        events: Vec<OutboxEvent>,
    },
    /// An event for the tenant's webhooks outside a call's end (call.started, call.answered).
    Event {
        tenant: String,
        call_id: String,
        event: OutboxEvent,
        at: i64,
    },
    Ended(Box<CallEnd>),
}

impl WriteOp {
    pub fn call_id(&self) -> &str {
        match self {
            Self::InsertCall(c) => &c.id,
            Self::Answered { call_id, .. }
            | Self::Line { call_id, .. }
            | Self::Answer { call_id, .. }
            | Self::DialFailed { call_id, .. }
            | Self::Event { call_id, .. } => call_id,
            Self::Ended(end) => &end.call_id,
        }
    }
}
