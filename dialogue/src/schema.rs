//! The YAML language, version 1, as serde types (raw: positions kept, nothing resolved yet).
//! [`crate::compile`] turns these into a checked [`crate::Script`].
//!
//! A node is a mapping with `id`, `type` and the fields of its kind; the loader reads each
//! node and each handler on its own so one bad node does not hide errors in the others.
//! [`ScriptDoc`] exists for the JSON Schema (`switchboard schema`) and documentation.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::value::VarType;
use crate::yaml::Spanned;

pub type S = Spanned<String>;

/// Script metadata and global settings (every top-level key except `nodes` and `handlers`).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Language version; must be 1.
    pub version: Spanned<u32>,
    /// Stable script id, e.g. `sales.gym.cold`.
    pub id: S,
    #[serde(default)]
    pub description: String,
    /// BCP-47 language of the spoken text.
    #[serde(default = "default_language")]
    pub language: String,
    /// TTS voice name (runtime-specific).
    #[serde(default)]
    pub voice: Option<String>,
    /// Cap on the answered call's length, e.g. `300s`.
    #[serde(default)]
    pub max_duration: Option<S>,
    /// How long to ring before the call counts as not answered, e.g. `30s`.
    #[serde(default)]
    pub answer_timeout: Option<S>,
    /// Outbound answer detection: how long the silence after a short greeting ("Hello?",
    /// "Hi.") must last before it counts as a person waiting, from 300ms to 2s; default
    /// 700ms. Longer speaks over fewer voicemail greetings that pause after their first words
    /// ("Hi… this is Sophie… leave a message") and answers every person later. A greeting that
    /// is only a name ("Hi, this is Dana.", "Nomsa.") waits at least 1.2 s whatever this says.
    #[serde(default)]
    pub person_pause: Option<S>,
    /// Default end-of-turn endpointing for listening nodes.
    #[serde(default)]
    pub endpointing: Option<Endpointing>,
    /// Time zone for service hours and spoken date-times (IANA name); default UTC.
    #[serde(default)]
    pub timezone: Option<S>,
    /// Declared variables: job fields, answers, tool results.
    #[serde(default)]
    pub variables: BTreeMap<String, VarDecl>,
    /// Rules choosing this script for a job; the highest priority match wins.
    #[serde(default)]
    pub select: Vec<SelectRule>,
    /// Weekly service hours for escalation to humans.
    #[serde(default)]
    pub service_hours: Option<ServiceHoursDoc>,
    /// Message left on an answering machine.
    #[serde(default)]
    pub voicemail: Option<S>,
    /// Recording / consent notice spoken first on answer.
    #[serde(default)]
    pub consent_notice: Option<S>,
    /// Base system prompt for `llm` nodes.
    #[serde(default)]
    pub system_prompt: Option<S>,
    /// Talking points appended to LLM system prompts.
    #[serde(default)]
    pub key_points: Vec<S>,
    /// What happens when the call is not answered within `answer_timeout`.
    #[serde(default)]
    pub not_answered: Option<NotAnsweredDoc>,
    /// How to get through an automated phone menu (IVR) to a person: when an outbound call
    /// is answered by a menu, the first rule whose phrase the menu says is followed.
    #[serde(default)]
    pub ivr: Vec<IvrRuleDoc>,
    /// Node the call starts at; default: the first node.
    #[serde(default)]
    pub start: Option<S>,
}

fn default_language() -> String {
    "en-US".into()
}

/// The whole file, for the JSON Schema.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ScriptDoc {
    #[serde(flatten)]
    pub header: Header,
    /// Global handlers, checked in list order from any listening node.
    pub handlers: Vec<HandlerDoc>,
    /// The graph.
    pub nodes: Vec<NodeDoc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Endpointing {
    /// Quick turn-taking (after yes/no questions).
    Short,
    #[default]
    Normal,
    /// Patient (after open questions).
    Long,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VarDecl {
    #[serde(rename = "type")]
    pub ty: VarType,
    #[serde(default)]
    pub default: Option<Spanned<serde_json::Value>>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectRule {
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub business_type: Option<String>,
    #[serde(default)]
    pub interest_level: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
}

/// Per-weekday windows like `"09:00-17:00"`; a missing day is closed.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceHoursDoc {
    pub timezone: S,
    #[serde(default)]
    pub monday: Vec<S>,
    #[serde(default)]
    pub tuesday: Vec<S>,
    #[serde(default)]
    pub wednesday: Vec<S>,
    #[serde(default)]
    pub thursday: Vec<S>,
    #[serde(default)]
    pub friday: Vec<S>,
    #[serde(default)]
    pub saturday: Vec<S>,
    #[serde(default)]
    pub sunday: Vec<S>,
}

/// One way through a phone menu: when the menu says one of `phrases`, press `dtmf` or say
/// `say` (exactly one of them).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IvrRuleDoc {
    /// Words of the menu prompt that offer the way, e.g. "operator", "representative".
    pub phrases: Vec<S>,
    /// Keys to press: `0-9`, `*`, `#`, `A-D`; `,` pauses.
    #[serde(default)]
    pub dtmf: Option<S>,
    /// Words to say to a speech-driven menu.
    #[serde(default)]
    pub say: Option<S>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotAnsweredDoc {
    /// Variables to set (expressions).
    #[serde(default)]
    pub set: BTreeMap<String, S>,
    #[serde(default)]
    pub schedule: Vec<ScheduleDoc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Call,
    Sms,
    Email,
}

/// A follow-up for the backend: `kind` at now + `after`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDoc {
    pub kind: ActionKind,
    #[serde(default)]
    pub after: Option<S>,
    /// A `datetime` variable holding the time (falls back to `after` when unset).
    #[serde(default)]
    pub at: Option<S>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    Reached,
    Voicemail,
    NoAnswer,
    Busy,
    CallbackRequested,
    NotInterested,
    Dnc,
    Failed,
}

/// One node: `id`, `type` and the fields of its kind.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NodeDoc {
    pub id: String,
    /// Variables to set on entering the node (expressions).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    #[serde(flatten)]
    pub kind: NodeKindDoc,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeKindDoc {
    Say(SayDoc),
    Ask(AskDoc),
    Llm(LlmDoc),
    Tool(ToolDoc),
    Branch(BranchDoc),
    Transfer(TransferDoc),
    Escalate(EscalateDoc),
    Voicemail(VoicemailDoc),
    End(EndDoc),
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SayDoc {
    pub text: S,
    #[serde(default = "yes")]
    pub interruptible: bool,
    pub next: S,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    YesNo,
    Rating,
    Number,
    Choice,
    Datetime,
    Text,
    Phone,
    Email,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AskDoc {
    pub prompt: S,
    /// Variable that receives the answer.
    pub slot: S,
    pub expect: SlotKind,
    /// Range for `rating` (default 1..5) and `number`.
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    /// `choice` options: value → synonyms.
    #[serde(default)]
    pub options: BTreeMap<String, Vec<String>>,
    /// Said instead of the prompt on a re-ask.
    #[serde(default)]
    pub reprompt: Option<S>,
    /// Re-asks after no match / no input before taking the edge.
    #[serde(default = "one")]
    pub max_retries: u32,
    #[serde(default)]
    pub no_input_timeout: Option<S>,
    #[serde(default)]
    pub endpointing: Option<Endpointing>,
    #[serde(default = "yes")]
    pub interruptible: bool,
    /// Global objection/callback/repeat handlers apply here (dnc and human always do).
    #[serde(default = "yes")]
    pub handlers: bool,
    /// Ask the LLM to classify when the recognisers cannot.
    #[serde(default)]
    pub llm_fallback: bool,
    /// Checked in order after the slot is filled (or on phrase/DTMF) before `next`.
    #[serde(default)]
    pub routes: Vec<EdgeDoc>,
    pub next: S,
    #[serde(default)]
    pub on_no_match: Option<S>,
    #[serde(default)]
    pub on_no_input: Option<S>,
}

fn one() -> u32 {
    1
}

/// A conditional edge: all given conditions must hold.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EdgeDoc {
    #[serde(default)]
    pub when: Option<S>,
    #[serde(default)]
    pub phrases: Vec<String>,
    #[serde(default)]
    pub regex: Option<S>,
    #[serde(default)]
    pub dtmf: Option<String>,
    /// Said before moving.
    #[serde(default)]
    pub say: Option<S>,
    pub goto: S,
}

/// A pre-loaded answer: phrases → spoken reply (no LLM involved).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerDoc {
    pub phrases: Vec<String>,
    pub say: S,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmDoc {
    /// Said on entry before listening.
    #[serde(default)]
    pub prompt: Option<S>,
    #[serde(default)]
    pub system: Option<S>,
    pub goal: S,
    #[serde(default)]
    pub tools: Vec<String>,
    #[serde(default = "six")]
    pub max_turns: u32,
    /// Structured verdicts the LLM may return → target node.
    #[serde(default)]
    pub verdicts: BTreeMap<String, S>,
    /// Deterministic edges, checked before the LLM is asked.
    #[serde(default)]
    pub routes: Vec<EdgeDoc>,
    /// Pre-loaded answers, checked before the LLM is asked.
    #[serde(default)]
    pub answers: Vec<AnswerDoc>,
    /// Said when nothing matched and no LLM answer is available.
    #[serde(default)]
    pub fallback: Option<S>,
    #[serde(default)]
    pub no_input_timeout: Option<S>,
    #[serde(default)]
    pub endpointing: Option<Endpointing>,
    /// After `max_turns` caller turns.
    pub next: S,
    #[serde(default)]
    pub on_error: Option<S>,
}

fn six() -> u32 {
    6
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolDoc {
    pub method: HttpMethod,
    pub url: S,
    /// Plain headers (templates).
    #[serde(default)]
    pub headers: BTreeMap<String, S>,
    /// Header name → secret name, resolved by the runtime.
    #[serde(default)]
    pub secret_headers: BTreeMap<String, String>,
    /// JSON body; string leaves are templates.
    #[serde(default)]
    pub body: Option<Spanned<serde_json::Value>>,
    #[serde(default)]
    pub timeout: Option<S>,
    /// Variable → JSON pointer into the response (`/ticket/id`).
    #[serde(default)]
    pub result: BTreeMap<String, S>,
    /// Said while the call runs.
    #[serde(default)]
    pub say: Option<S>,
    pub next: S,
    pub on_error: S,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseDoc {
    pub when: S,
    pub goto: S,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BranchDoc {
    pub cases: Vec<CaseDoc>,
    #[serde(rename = "else")]
    pub otherwise: S,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferDoc {
    /// E.164 number or SIP URI (template).
    pub target: S,
    #[serde(default)]
    pub say: Option<S>,
}

/// What the AI does once a human agent has joined and been briefed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum AfterJoin {
    /// Leave the call to the human.
    #[default]
    Leave,
    /// Stay in the call, silent, and keep transcribing until the caller leaves.
    Listen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    #[default]
    High,
    Urgent,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateDoc {
    pub reason: S,
    #[serde(default)]
    pub priority: Priority,
    /// How long to wait for a human within service hours (default 5m).
    #[serde(default)]
    pub wait: Option<S>,
    /// Said while waiting.
    pub say_waiting: S,
    /// Remind the waiting caller this often (e.g. `45s`); never if unset.
    #[serde(default)]
    pub remind_every: Option<S>,
    /// Said at each reminder (default: `say_waiting` again).
    #[serde(default)]
    pub still_waiting_say: Option<S>,
    /// Said when a human joins.
    pub on_join_say: S,
    /// Briefing for the human who joined.
    pub briefing: S,
    /// After the briefing: `leave` (default) or `listen` (stay silent and transcribe).
    #[serde(default)]
    pub after_join: AfterJoin,
    /// Said when nobody joined in time.
    pub on_timeout_say: S,
    /// Callback promised after a timeout (default 30m).
    #[serde(default)]
    pub callback_within: Option<S>,
    /// Said outside service hours.
    pub outside_hours_say: S,
    /// Follow-up promised outside hours (default 24h).
    #[serde(default)]
    pub follow_up_within: Option<S>,
    pub joined: S,
    pub timeout: S,
    pub outside_hours: S,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VoicemailDoc {
    /// Defaults to the script's `voicemail`.
    #[serde(default)]
    pub message: Option<S>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndDoc {
    #[serde(default)]
    pub say: Option<S>,
    #[serde(default = "reached")]
    pub disposition: Disposition,
    #[serde(default)]
    pub outcome: Option<String>,
    #[serde(default)]
    pub schedule: Vec<ScheduleDoc>,
}

fn reached() -> Disposition {
    Disposition::Reached
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandlerKind {
    Objection,
    Human,
    Dnc,
    Callback,
    Repeat,
    Silence,
    MaxDuration,
    Sentiment,
}

/// A global handler. Which fields apply depends on `type`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandlerDoc {
    #[serde(rename = "type")]
    pub kind: HandlerKind,
    /// Name (objections).
    #[serde(default)]
    pub name: Option<String>,
    /// Example phrases; built-in defaults exist for human, dnc, callback and repeat.
    #[serde(default)]
    pub phrases: Vec<String>,
    #[serde(default)]
    pub regex: Option<S>,
    #[serde(default)]
    pub say: Option<S>,
    /// Callback: asked when the caller named no time.
    #[serde(default)]
    pub ask_time: Option<S>,
    /// Callback: used when no time is given after asking (default 24h).
    #[serde(default)]
    pub default_delay: Option<S>,
    #[serde(default)]
    pub goto: Option<S>,
    /// Objection: after this many uses go to `on_limit`.
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub on_limit: Option<S>,
    /// Silence: consecutive no-inputs before firing (default 3).
    #[serde(default)]
    pub after: Option<u32>,
    /// Sentiment: fire when the score drops below this (default -0.5).
    #[serde(default)]
    pub below: Option<f64>,
    /// Ending handlers (dnc, callback, silence, max_duration) end with this.
    #[serde(default)]
    pub disposition: Option<Disposition>,
    #[serde(default)]
    pub outcome: Option<String>,
}
