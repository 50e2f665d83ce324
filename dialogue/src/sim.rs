//! A simulated call around an [`Engine`]: a virtual clock, the timers the engine started,
//! the lines it said and the tool/LLM requests it is waiting for. Used by the conversation
//! test runner and by `switchboard chat`; no real time passes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::engine::{Effect, Engine, Event, Id, LlmOutcome, ToolResult};
use crate::script::Script;

/// A scheduled follow-up the engine asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduled {
    pub kind: crate::script::ActionKind,
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// A simulated call.
#[derive(Debug)]
pub struct Sim {
    pub engine: Engine,
    pub now: DateTime<Utc>,
    pub start: DateTime<Utc>,
    /// Timers by id → due time.
    pub timers: BTreeMap<Id, DateTime<Utc>>,
    /// Every line said, in order.
    pub said: Vec<String>,
    /// Nodes entered, in order.
    pub path: Vec<String>,
    pub scheduled: Vec<Scheduled>,
    pub pending_tool: Option<Id>,
    pub pending_llm: Option<Id>,
    /// Every effect, in order.
    pub log: Vec<Effect>,
}

impl Sim {
    pub fn new(
        script: Arc<Script>,
        vars: &BTreeMap<String, serde_json::Value>,
        start: DateTime<Utc>,
    ) -> Sim {
        let (engine, effects) = Engine::new(script, vars, start);
        let mut sim = Sim {
            engine,
            now: start,
            start,
            timers: BTreeMap::new(),
            said: Vec::new(),
            path: Vec::new(),
            scheduled: Vec::new(),
            pending_tool: None,
            pending_llm: None,
            log: Vec::new(),
        };
        sim.absorb(effects);
        sim
    }

    /// Sends an event and records its effects; returns them too.
    pub fn send(&mut self, event: Event) -> Vec<Effect> {
        let effects = self.engine.step(event);
        self.absorb(effects.clone());
        effects
    }

    fn absorb(&mut self, effects: Vec<Effect>) {
        for e in &effects {
            match e {
                Effect::Say { text, .. } => self.said.push(text.clone()),
                Effect::StartTimer { id, after_ms } => {
                    self.timers.insert(
                        *id,
                        self.now + chrono::Duration::milliseconds(*after_ms as i64),
                    );
                }
                Effect::CancelTimer { id } => {
                    self.timers.remove(id);
                }
                Effect::CallTool { call_id, .. } => self.pending_tool = Some(*call_id),
                Effect::RequestLlm { request_id, .. } => self.pending_llm = Some(*request_id),
                Effect::ScheduleAction { kind, at, reason } => self.scheduled.push(Scheduled {
                    kind: *kind,
                    at: *at,
                    reason: reason.clone(),
                }),
                Effect::NodeEntered { id, .. } => self.path.push(id.clone()),
                _ => {}
            }
        }
        self.log.extend(effects);
    }

    pub fn answer(&mut self) -> Vec<Effect> {
        self.send(Event::Answered { now: self.now })
    }

    pub fn user(&mut self, text: &str, confidence: f32) -> Vec<Effect> {
        self.send(Event::UserSaid {
            text: text.to_string(),
            confidence,
            now: self.now,
        })
    }

    pub fn silence(&mut self) -> Vec<Effect> {
        self.send(Event::NoInput { now: self.now })
    }

    pub fn dtmf(&mut self, digit: char) -> Vec<Effect> {
        self.send(Event::Dtmf {
            digit,
            now: self.now,
        })
    }

    /// Advances the clock by `d`, firing due timers in order at their due times.
    pub fn wait(&mut self, d: Duration) -> Vec<Effect> {
        let target = self.now + chrono::Duration::milliseconds(d.as_millis() as i64);
        let mut out = Vec::new();
        loop {
            let due = self
                .timers
                .iter()
                .filter(|(_, t)| **t <= target)
                .min_by_key(|(id, t)| (**t, **id))
                .map(|(i, t)| (*i, *t));
            let Some((id, at)) = due else { break };
            self.timers.remove(&id);
            self.now = self.now.max(at);
            out.extend(self.send(Event::TimerFired { id, now: self.now }));
        }
        self.now = target;
        out
    }

    /// Answers the latest tool call. `None` when nothing is pending.
    pub fn tool(&mut self, result: ToolResult) -> Option<Vec<Effect>> {
        let call_id = self.pending_tool.take()?;
        Some(self.send(Event::ToolFinished {
            call_id,
            result,
            now: self.now,
        }))
    }

    /// Answers the latest LLM request. `None` when nothing is pending.
    pub fn llm(&mut self, outcome: LlmOutcome) -> Option<Vec<Effect>> {
        let request_id = self.pending_llm.take()?;
        Some(self.send(Event::LlmFinished {
            request_id,
            outcome,
            now: self.now,
        }))
    }

    pub fn human_joins(&mut self, identity: &str) -> Vec<Effect> {
        self.send(Event::HumanJoined {
            identity: identity.to_string(),
            now: self.now,
        })
    }

    pub fn sentiment(&mut self, score: f32) -> Vec<Effect> {
        self.send(Event::SentimentMeasured {
            score,
            now: self.now,
        })
    }
}

impl Sim {
    /// One line of the `switchboard chat` REPL: plain text is the caller speaking; commands
    /// are `/silence`, `/dtmf 5`, `/wait 30s`, `/human-joins [name]`, `/tool-ok {json}`,
    /// `/tool-error msg`, `/llm reply text [| verdict]`, `/llm-error msg`, `/sentiment -0.7`,
    /// `/voicemail`, `/answer`, `/hangup`.
    ///
    /// # Errors
    /// An unknown command or a bad argument, as a message for the user.
    pub fn command(&mut self, line: &str) -> Result<Vec<Effect>, String> {
        let line = line.trim();
        let Some(cmd) = line.strip_prefix('/') else {
            return Ok(self.user(line, 0.95));
        };
        let (name, arg) = cmd
            .split_once(' ')
            .map_or((cmd, ""), |(a, b)| (a, b.trim()));
        Ok(match name {
            "silence" => self.silence(),
            "dtmf" => self.dtmf(arg.chars().next().ok_or("usage: /dtmf 5")?),
            "wait" => self.wait(crate::duration::parse_duration(arg).ok_or("usage: /wait 30s")?),
            "human-joins" => self.human_joins(if arg.is_empty() { "agent" } else { arg }),
            "tool-ok" => {
                let body = if arg.is_empty() {
                    serde_json::Value::Null
                } else {
                    serde_json::from_str(arg).map_err(|e| e.to_string())?
                };
                self.tool(ToolResult::Ok { body })
                    .ok_or("no tool call is pending")?
            }
            "tool-error" => self
                .tool(ToolResult::Error {
                    message: arg.to_string(),
                })
                .ok_or("no tool call is pending")?,
            "llm" => {
                let (text, verdict) = arg
                    .split_once('|')
                    .map_or((arg, None), |(t, v)| (t.trim(), Some(v.trim().to_string())));
                self.llm(LlmOutcome::Reply {
                    text: text.to_string(),
                    verdict,
                })
                .ok_or("no LLM request is pending")?
            }
            "llm-error" => self
                .llm(LlmOutcome::Failed {
                    error: arg.to_string(),
                })
                .ok_or("no LLM request is pending")?,
            "sentiment" => self.sentiment(arg.parse().map_err(|_| "usage: /sentiment -0.7")?),
            "voicemail" => self.send(Event::VoicemailDetected { now: self.now }),
            "answer" => self.answer(),
            "hangup" => self.send(Event::CallerHungUp { now: self.now }),
            other => return Err(format!("unknown command /{other}")),
        })
    }
}

/// A one-line human description of an effect (for `switchboard chat`).
pub fn describe(e: &Effect) -> String {
    match e {
        Effect::Say { text, interruptible, .. } => format!("agent: {text}{}", if *interruptible { "" } else { "  [no barge-in]" }),
        Effect::Listen { slot, endpointing, no_input_timeout_ms, .. } => {
            format!("  (listening: {} endpointing {:?}, no input after {} ms)", slot.map_or("free".into(), |s| format!("{s:?}")), endpointing, no_input_timeout_ms)
        }
        Effect::StartTimer { id, after_ms } => format!("  (timer {id} in {after_ms} ms)"),
        Effect::CancelTimer { id } => format!("  (timer {id} cancelled)"),
        Effect::CallTool { method, url, call_id, .. } => format!("  (tool call {call_id}: {method:?} {url} -> answer with /tool-ok {{json}} or /tool-error)"),
        Effect::RequestLlm { request_id, classify, .. } => {
            format!("  (LLM request {request_id}{} -> answer with /llm text | verdict)", if classify.is_empty() { String::new() } else { format!(", verdicts {classify:?}") })
        }
        Effect::Transfer { target } => format!("  (transfer to {target})"),
        Effect::Escalate { reason, priority, within_hours, wait_timeout_ms } => {
            format!("  (escalation {priority:?}: {reason}; within hours: {within_hours}; wait {wait_timeout_ms:?} ms)")
        }
        Effect::ScheduleAction { kind, at, reason } => format!("  (scheduled {kind:?} at {} for {reason})", at.to_rfc3339()),
        Effect::SetAnswer { slot, value } => format!("  (answer {slot} = {})", value.to_json()),
        Effect::NodeEntered { id, kind, visit } => format!("[node {id} ({kind}), visit {visit}]"),
        Effect::HandOver { human, listen } => {
            format!("  (handed over to {human}{})", if *listen { "; the AI stays and transcribes" } else { "" })
        }
        Effect::Hangup { disposition, outcome, reason } => {
            format!("  (hangup: disposition {disposition:?}, outcome {}, reason {reason:?})", outcome.as_deref().unwrap_or("-"))
        }
    }
}
