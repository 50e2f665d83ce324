//! The dialogue engine: a pure state machine over a compiled [`Script`]. The turn engine
//! feeds it [`Event`]s and performs the [`Effect`]s it returns. Its whole position is in
//! [`EngineState`] (serde), so the runtime can persist it after every turn and resume or
//! inspect it after a crash with [`Engine::restore`].
//!
//! Stale results are discarded by comparing ids: each node visit gets a new `visit` number and
//! every tool call, LLM request and node timer records the id it is waiting for; a result with
//! another id (for a node already left) is ignored.

pub mod event;
mod flow;
mod input;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use event::{Effect, EndReason, Event, HeaderValue, Id, LlmOutcome, Message, Role, ToolResult};

use crate::script::{Disposition, Script};
use crate::value::Value;

/// Longest conversation history kept for LLM requests.
const MAX_HISTORY: usize = 40;

/// Where the call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Ringing,
    Active,
    Ended,
}

/// What the current node is waiting for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum Wait {
    Nothing,
    /// An `ask` node's answer.
    Answer,
    /// An LLM classification of an `ask` answer the recognisers could not read.
    Classify {
        request_id: Id,
    },
    /// The caller's next turn in an `llm` node (and the pending request, if any).
    Llm {
        request_id: Option<Id>,
    },
    Tool {
        call_id: Id,
    },
    /// A human agent joining (escalation within hours).
    Human {
        timer: Id,
        /// The `remind_every` timer, if the node has one.
        #[serde(default)]
        reminder: Option<Id>,
    },
    /// The callback time after a callback request without one.
    CallbackTime {
        handler: usize,
        asked: u32,
    },
}

/// Why a timer was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    Answer,
    MaxDuration,
    EscalationWait,
    /// Time to tell a caller waiting for a human that they are still waiting.
    EscalationReminder,
}

/// How the call ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndInfo {
    pub disposition: Disposition,
    pub outcome: Option<String>,
    pub reason: EndReason,
}

/// Everything that changes during a call. Serialisable; persist after every step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineState {
    pub script_id: String,
    pub script_version: String,
    pub phase: Phase,
    /// Current node id.
    pub node: Option<String>,
    /// Node entries so far (the generation counter).
    pub visit: u64,
    pub next_id: Id,
    pub vars: BTreeMap<String, Value>,
    /// Slots filled so far (what `SetAnswer` reported).
    pub answers: BTreeMap<String, Value>,
    pub wait: Wait,
    pub retries: u32,
    pub no_inputs: u32,
    pub silence_streak: u32,
    pub llm_turns: u32,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
    /// Last thing said that invited an answer (for "repeat that").
    pub last_prompt: Option<String>,
    pub history: Vec<Message>,
    pub objections: BTreeMap<String, u32>,
    pub sentiment_fired: bool,
    pub timers: BTreeMap<Id, TimerKind>,
    pub end: Option<EndInfo>,
}

/// Why a persisted state cannot be resumed with a script.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RestoreError {
    #[error("state belongs to script {state} but the script is {script}")]
    WrongScript { state: String, script: String },
    #[error("state was written by script version {state}, the loaded version is {script}")]
    WrongVersion { state: String, script: String },
    #[error("state points at node `{0}`, which the script does not have")]
    UnknownNode(String),
}

/// One call's dialogue.
#[derive(Debug, Clone)]
pub struct Engine {
    script: Arc<Script>,
    state: EngineState,
}

impl Engine {
    /// Starts a call: job variables are converted to their declared types (undeclared or
    /// unconvertible ones are ignored; defaults fill the rest). Returns the effects of
    /// [`Event::CallStarted`] (the answer timer, when the script has one).
    pub fn new(
        script: Arc<Script>,
        vars: &BTreeMap<String, serde_json::Value>,
        start_time: DateTime<Utc>,
    ) -> (Engine, Vec<Effect>) {
        let mut values = BTreeMap::new();
        for (name, def) in &script.vars {
            let v = vars
                .get(name)
                .and_then(|j| Value::from_json(j, def.ty))
                .unwrap_or_else(|| def.default.clone());
            if !v.is_null() {
                values.insert(name.clone(), v);
            }
        }
        let state = EngineState {
            script_id: script.id.clone(),
            script_version: script.version.clone(),
            phase: Phase::Ringing,
            node: None,
            visit: 0,
            next_id: 1,
            vars: values,
            answers: BTreeMap::new(),
            wait: Wait::Nothing,
            retries: 0,
            no_inputs: 0,
            silence_streak: 0,
            llm_turns: 0,
            started_at: start_time,
            answered_at: None,
            now: start_time,
            last_prompt: None,
            history: Vec::new(),
            objections: BTreeMap::new(),
            sentiment_fired: false,
            timers: BTreeMap::new(),
            end: None,
        };
        let mut engine = Engine { script, state };
        let mut out = Vec::new();
        engine.call_started(&mut out);
        (engine, out)
    }

    /// Resumes a persisted call.
    ///
    /// # Errors
    /// The state was written for another script or version, or names an unknown node.
    pub fn restore(script: Arc<Script>, state: EngineState) -> Result<Engine, RestoreError> {
        if state.script_id != script.id {
            return Err(RestoreError::WrongScript {
                state: state.script_id,
                script: script.id.clone(),
            });
        }
        if state.script_version != script.version {
            return Err(RestoreError::WrongVersion {
                state: state.script_version,
                script: script.version.clone(),
            });
        }
        if let Some(n) = &state.node {
            if script.node_id(n).is_none() {
                return Err(RestoreError::UnknownNode(n.clone()));
            }
        }
        Ok(Engine { script, state })
    }

    pub fn state(&self) -> &EngineState {
        &self.state
    }

    pub fn script(&self) -> &Arc<Script> {
        &self.script
    }

    /// Whether `text` would be a complete answer to the question being asked now: the current
    /// node is an `ask` with a closed slot (yes/no, rating, number, choice, date, phone,
    /// e-mail; never free text) and its recogniser reads a value from `text`. The turn engine
    /// uses it to end the caller's turn at the first pause instead of waiting out the whole
    /// end-of-turn silence. Changes nothing.
    pub fn completes_answer(&self, text: &str) -> bool {
        use crate::recognize::{recognize, Recognized};
        use crate::script::{NodeKind, SlotSpec};
        let Some(NodeKind::Ask(a)) = self.current().map(|n| &n.kind) else {
            return false;
        };
        if matches!(a.expect, SlotSpec::Text) {
            return false;
        }
        let read = recognize(&a.expect, text, 1.0, self.state.now, self.script.tz);
        matches!(read, Recognized::Match { .. })
    }

    /// Whether the call has ended (further events are ignored).
    pub fn is_ended(&self) -> bool {
        self.state.phase == Phase::Ended
    }

    /// Feeds one event; returns the effects to perform, in order.
    pub fn step(&mut self, event: Event) -> Vec<Effect> {
        let mut out = Vec::new();
        if self.state.phase == Phase::Ended {
            return out;
        }
        if let Some(now) = event.now() {
            self.state.now = self.state.now.max(now);
        }
        match event {
            Event::CallStarted { .. } => self.call_started(&mut out),
            Event::Answered { .. } => self.answered(&mut out),
            Event::PutThrough { .. } => self.put_through(&mut out),
            Event::VoicemailDetected { .. } => self.voicemail_detected(&mut out),
            Event::UserSaid {
                text, confidence, ..
            } => self.user_said(&text, confidence, &mut out),
            Event::NoInput { .. } => self.no_input(&mut out),
            Event::Dtmf { digit, .. } => self.dtmf(digit, &mut out),
            Event::TimerFired { id, .. } => self.timer_fired(id, &mut out),
            Event::ToolFinished {
                call_id, result, ..
            } => self.tool_finished(call_id, result, &mut out),
            Event::LlmFinished {
                request_id,
                outcome,
                ..
            } => self.llm_finished(request_id, outcome, &mut out),
            Event::SayFinished { .. } | Event::HumanLeft { .. } => {}
            Event::HumanJoined { identity, .. } => self.human_joined(identity, &mut out),
            Event::SentimentMeasured { score, .. } => self.sentiment(score, &mut out),
            Event::MaxDurationReached { .. } => self.max_duration(&mut out),
            Event::CallerHungUp { .. } => {
                let disposition = self
                    .state
                    .end
                    .as_ref()
                    .map_or(Disposition::Reached, |e| e.disposition);
                self.end(
                    disposition,
                    Some("caller_hung_up".into()),
                    EndReason::CallerHungUp,
                    &mut out,
                );
            }
        }
        out
    }

    fn new_id(&mut self) -> Id {
        let id = self.state.next_id;
        self.state.next_id += 1;
        id
    }

    fn push_history(&mut self, role: Role, text: &str) {
        self.state.history.push(Message {
            role,
            text: text.to_string(),
        });
        if self.state.history.len() > MAX_HISTORY {
            let excess = self.state.history.len() - MAX_HISTORY;
            self.state.history.drain(..excess);
        }
    }
}

#[cfg(test)]
mod tests;
