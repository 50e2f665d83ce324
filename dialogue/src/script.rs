//! The compiled, checked script the engine runs: node ids resolved to indices, templates and
//! expressions parsed and type-checked, regexes compiled, durations and time zones parsed.
//! Built only by [`crate::compile`]; immutable and shared (`Arc<Script>`) by every call using it.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveTime, Utc};
use chrono_tz::Tz;
use regex::Regex;

use crate::expr::Expr;
pub use crate::schema::{
    ActionKind, AfterJoin, Disposition, Endpointing, HandlerKind, HttpMethod, Priority, SlotKind,
};
use crate::template::Template;
use crate::value::{Value, VarType};
use crate::yaml::Pos;

/// Index of a node in [`Script::nodes`].
pub type NodeId = usize;

/// A checked script.
#[derive(Debug)]
pub struct Script {
    pub id: String,
    /// Content hash of the source (first 16 hex digits of SHA-256).
    pub version: String,
    pub file: String,
    pub description: String,
    pub language: String,
    pub voice: Option<String>,
    pub max_duration: Option<Duration>,
    pub answer_timeout: Option<Duration>,
    /// Silence after a short greeting that makes it a person's (outbound answer detection).
    pub person_pause: Option<Duration>,
    pub endpointing: Endpointing,
    pub tz: Tz,
    pub vars: BTreeMap<String, VarDef>,
    pub select: Vec<SelectRule>,
    pub service_hours: Option<ServiceHours>,
    pub voicemail: Option<Template>,
    pub consent_notice: Option<Template>,
    pub system_prompt: Option<Template>,
    pub key_points: Vec<Template>,
    pub not_answered: Option<Followup>,
    /// Ways through a phone menu to a person, in order.
    pub ivr: Vec<IvrRule>,
    pub start: NodeId,
    pub nodes: Vec<Node>,
    pub handlers: Vec<Handler>,
    pub(crate) index: HashMap<String, NodeId>,
}

impl Script {
    /// The node with this id.
    pub fn node_id(&self, id: &str) -> Option<NodeId> {
        self.index.get(id).copied()
    }

    /// Declared types (including built-ins), for expression checks.
    pub fn var_types(&self) -> BTreeMap<String, VarType> {
        self.vars.iter().map(|(k, v)| (k.clone(), v.ty)).collect()
    }
}

/// A declared variable.
#[derive(Debug, Clone)]
pub struct VarDef {
    pub ty: VarType,
    pub default: Value,
    pub builtin: bool,
}

/// Variables every script has; the engine sets them.
pub const BUILTIN_VARS: &[(&str, VarType)] = &[
    ("last_utterance", VarType::String),
    ("call_answered", VarType::Bool),
    ("callback_at", VarType::Datetime),
    ("llm_verdict", VarType::String),
    ("answers", VarType::String),
    ("within_service_hours", VarType::Bool),
];

/// Selection rule: all present attributes must equal the job's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelectRule {
    pub priority: i32,
    pub business_type: Option<String>,
    pub interest_level: Option<String>,
    pub region: Option<String>,
    pub direction: Option<String>,
}

/// Job attributes used to pick a script.
#[derive(Debug, Clone, Default)]
pub struct SelectionKey {
    pub business_type: Option<String>,
    pub interest_level: Option<String>,
    pub region: Option<String>,
    pub direction: Option<String>,
}

impl SelectRule {
    fn matches(&self, key: &SelectionKey) -> bool {
        let eq = |rule: &Option<String>, have: &Option<String>| match rule {
            None => true,
            Some(r) => have.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(r)),
        };
        eq(&self.business_type, &key.business_type)
            && eq(&self.interest_level, &key.interest_level)
            && eq(&self.region, &key.region)
            && eq(&self.direction, &key.direction)
    }
}

/// Picks the script whose matching rule has the highest priority (ties: first given).
pub fn select_script<'a>(
    scripts: &'a [std::sync::Arc<Script>],
    key: &SelectionKey,
) -> Option<&'a std::sync::Arc<Script>> {
    let mut best: Option<(i32, &std::sync::Arc<Script>)> = None;
    for s in scripts {
        for r in s.select.iter().filter(|r| r.matches(key)) {
            if best.is_none_or(|(p, _)| r.priority > p) {
                best = Some((r.priority, s));
            }
        }
    }
    best.map(|(_, s)| s)
}

/// Weekly opening windows in a time zone.
#[derive(Debug, Clone)]
pub struct ServiceHours {
    pub tz: Tz,
    /// Monday first.
    pub days: [Vec<(NaiveTime, NaiveTime)>; 7],
}

impl ServiceHours {
    /// Whether `at` falls inside a window (start inclusive, end exclusive).
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.tz);
        let day = local.weekday().num_days_from_monday() as usize;
        let t = local.time();
        self.days[day].iter().any(|(s, e)| *s <= t && t < *e)
    }
}

/// One way through a phone menu: when the menu says one of `phrases` (normalised), act.
#[derive(Debug, Clone, PartialEq)]
pub struct IvrRule {
    pub phrases: Vec<String>,
    pub action: IvrAction,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IvrAction {
    /// Press these keys.
    Dtmf(String),
    /// Say these words.
    Say(String),
}

impl IvrRule {
    /// Whether the menu prompt `heard` offers this way.
    pub fn matches(&self, heard: &str) -> bool {
        let heard = crate::recognize::text::normalize(heard);
        self.phrases
            .iter()
            .any(|p| crate::recognize::text::contains_phrase(&heard, p))
    }
}

/// Variables to set and actions to schedule (not-answered handling).
#[derive(Debug, Clone, Default)]
pub struct Followup {
    pub set: Vec<(String, Expr)>,
    pub schedule: Vec<Schedule>,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub kind: ActionKind,
    pub after: Duration,
    /// Datetime variable with the exact time, when given.
    pub at_var: Option<String>,
    pub reason: String,
}

/// A node of the graph.
#[derive(Debug)]
pub struct Node {
    pub id: String,
    pub pos: Pos,
    pub set: Vec<(String, Expr)>,
    pub kind: NodeKind,
}

#[derive(Debug)]
pub enum NodeKind {
    Say {
        text: Template,
        interruptible: bool,
        next: NodeId,
    },
    Ask(Box<Ask>),
    Llm(Box<Llm>),
    Tool(Box<Tool>),
    Branch {
        cases: Vec<(Expr, NodeId)>,
        otherwise: NodeId,
    },
    Transfer {
        target: Template,
        say: Option<Template>,
    },
    Escalate(Box<Escalate>),
    Voicemail {
        message: Template,
    },
    End(Box<End>),
}

impl NodeKind {
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Say { .. } => "say",
            NodeKind::Ask(_) => "ask",
            NodeKind::Llm(_) => "llm",
            NodeKind::Tool(_) => "tool",
            NodeKind::Branch { .. } => "branch",
            NodeKind::Transfer { .. } => "transfer",
            NodeKind::Escalate(_) => "escalate",
            NodeKind::Voicemail { .. } => "voicemail",
            NodeKind::End(_) => "end",
        }
    }

    /// Outgoing edges with a label, for reachability and drawing.
    pub fn edges(&self) -> Vec<(NodeId, String)> {
        let mut out = Vec::new();
        match self {
            NodeKind::Say { next, .. } => out.push((*next, String::new())),
            NodeKind::Ask(a) => {
                out.extend(a.routes.iter().map(|e| (e.goto, e.label())));
                out.push((a.next, "answered".into()));
                out.push((a.on_no_match, "no match".into()));
                out.push((a.on_no_input, "no input".into()));
            }
            NodeKind::Llm(l) => {
                out.extend(l.routes.iter().map(|e| (e.goto, e.label())));
                out.extend(l.verdicts.iter().map(|(v, t)| (*t, format!("verdict {v}"))));
                out.push((l.next, "max turns".into()));
                out.push((l.on_error, "error".into()));
            }
            NodeKind::Tool(t) => {
                out.push((t.next, "ok".into()));
                out.push((t.on_error, "error".into()));
            }
            NodeKind::Branch { cases, otherwise } => {
                out.extend(
                    cases
                        .iter()
                        .enumerate()
                        .map(|(i, (_, t))| (*t, format!("case {}", i + 1))),
                );
                out.push((*otherwise, "else".into()));
            }
            NodeKind::Escalate(e) => {
                out.push((e.joined, "human joined".into()));
                out.push((e.timeout, "nobody joined".into()));
                out.push((e.outside_hours, "outside hours".into()));
            }
            NodeKind::Transfer { .. } | NodeKind::Voicemail { .. } | NodeKind::End(_) => {}
        }
        out
    }

    /// Whether the call ends at this node.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            NodeKind::Transfer { .. } | NodeKind::Voicemail { .. } | NodeKind::End(_)
        )
    }
}

#[derive(Debug)]
pub struct Ask {
    pub prompt: Template,
    pub slot: String,
    pub expect: SlotSpec,
    pub reprompt: Option<Template>,
    pub max_retries: u32,
    pub no_input_timeout: Option<Duration>,
    pub endpointing: Endpointing,
    pub interruptible: bool,
    pub handlers: bool,
    pub llm_fallback: bool,
    pub routes: Vec<Edge>,
    pub next: NodeId,
    pub on_no_match: NodeId,
    pub on_no_input: NodeId,
}

/// What an `ask` node expects.
#[derive(Debug, Clone, PartialEq)]
pub enum SlotSpec {
    YesNo,
    Rating {
        min: i64,
        max: i64,
    },
    Number {
        min: Option<i64>,
        max: Option<i64>,
    },
    /// value → synonyms (the value itself always matches).
    Choice(Vec<(String, Vec<String>)>),
    Datetime,
    Text,
    Phone,
    Email,
}

impl SlotSpec {
    pub fn kind(&self) -> SlotKind {
        match self {
            SlotSpec::YesNo => SlotKind::YesNo,
            SlotSpec::Rating { .. } => SlotKind::Rating,
            SlotSpec::Number { .. } => SlotKind::Number,
            SlotSpec::Choice(_) => SlotKind::Choice,
            SlotSpec::Datetime => SlotKind::Datetime,
            SlotSpec::Text => SlotKind::Text,
            SlotSpec::Phone => SlotKind::Phone,
            SlotSpec::Email => SlotKind::Email,
        }
    }
}

#[derive(Debug)]
pub struct Edge {
    pub when: Option<Expr>,
    pub when_src: Option<String>,
    /// Normalised phrases (any one must occur as words in the utterance).
    pub phrases: Vec<String>,
    pub regex: Option<Regex>,
    pub dtmf: Option<String>,
    pub say: Option<Template>,
    pub goto: NodeId,
}

impl Edge {
    fn label(&self) -> String {
        if let Some(w) = &self.when_src {
            return w.clone();
        }
        if let Some(d) = &self.dtmf {
            return format!("dtmf {d}");
        }
        if let Some(p) = self.phrases.first() {
            return format!("\"{p}\"");
        }
        self.regex
            .as_ref()
            .map(|r| format!("/{}/", r.as_str()))
            .unwrap_or_default()
    }
}

#[derive(Debug)]
pub struct Answer {
    pub phrases: Vec<String>,
    pub say: Template,
}

#[derive(Debug)]
pub struct Llm {
    pub prompt: Option<Template>,
    pub system: Option<Template>,
    pub goal: Template,
    pub tools: Vec<String>,
    pub max_turns: u32,
    pub verdicts: Vec<(String, NodeId)>,
    pub routes: Vec<Edge>,
    pub answers: Vec<Answer>,
    pub fallback: Option<Template>,
    pub no_input_timeout: Option<Duration>,
    pub endpointing: Endpointing,
    pub next: NodeId,
    pub on_error: NodeId,
}

#[derive(Debug)]
pub struct Tool {
    pub method: HttpMethod,
    pub url: Template,
    pub headers: Vec<(String, Template)>,
    pub secret_headers: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
    pub timeout: Duration,
    pub result: Vec<(String, String)>,
    pub say: Option<Template>,
    pub next: NodeId,
    pub on_error: NodeId,
}

#[derive(Debug)]
pub struct Escalate {
    pub reason: Template,
    pub priority: Priority,
    pub wait: Duration,
    pub say_waiting: Template,
    pub remind_every: Option<Duration>,
    pub still_waiting_say: Template,
    pub on_join_say: Template,
    pub briefing: Template,
    pub after_join: AfterJoin,
    pub on_timeout_say: Template,
    pub callback_within: Duration,
    pub outside_hours_say: Template,
    pub follow_up_within: Duration,
    pub joined: NodeId,
    pub timeout: NodeId,
    pub outside_hours: NodeId,
}

#[derive(Debug)]
pub struct End {
    pub say: Option<Template>,
    pub disposition: Disposition,
    pub outcome: Option<String>,
    pub schedule: Vec<Schedule>,
}

/// A compiled global handler.
#[derive(Debug)]
pub struct Handler {
    pub kind: HandlerKind,
    pub name: String,
    pub phrases: Vec<String>,
    pub regex: Option<Regex>,
    pub say: Option<Template>,
    pub ask_time: Option<Template>,
    pub default_delay: Duration,
    pub goto: Option<NodeId>,
    pub limit: Option<u32>,
    pub on_limit: Option<NodeId>,
    pub after: u32,
    pub below: f64,
    pub disposition: Option<Disposition>,
    pub outcome: Option<String>,
}
