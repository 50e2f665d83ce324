//! Moving through the graph: entering nodes, speaking, listening, timers, tools, LLM
//! results, escalation and ending the call.

use std::time::Duration;

use super::{
    Effect, EndInfo, EndReason, Engine, Id, LlmOutcome, Phase, Role, TimerKind, ToolResult, Wait,
};
use crate::expr::{eval, truthy};
use crate::script::{
    ActionKind, AfterJoin, Disposition, HandlerKind, NodeId, NodeKind, Schedule, SlotKind, SlotSpec,
};
use crate::template::Template;
use crate::value::Value;

/// Transitions allowed in one step before the engine assumes a loop of non-listening nodes.
const MAX_HOPS: usize = 100;
/// Default silence before `NoInput`, when a node does not set one.
const DEFAULT_NO_INPUT_MS: u64 = 8_000;

impl Engine {
    pub(super) fn call_started(&mut self, out: &mut Vec<Effect>) {
        let has_timer = self.state.timers.values().any(|k| *k == TimerKind::Answer);
        if let (Some(t), false, Phase::Ringing) =
            (self.script.answer_timeout, has_timer, self.state.phase)
        {
            self.start_timer(TimerKind::Answer, t, out);
        }
    }

    pub(super) fn answered(&mut self, out: &mut Vec<Effect>) {
        if self.state.phase != Phase::Ringing {
            return;
        }
        self.cancel_timers(|k| k == TimerKind::Answer, out);
        self.state.phase = Phase::Active;
        self.state.answered_at = Some(self.state.now);
        self.set_answer("call_answered", Value::Bool(true), out);
        if let Some(max) = self.script.max_duration {
            self.start_timer(TimerKind::MaxDuration, max, out);
        }
        if let Some(notice) = self.script.consent_notice.clone() {
            self.say(&notice, false, out);
        }
        self.goto(self.script.start, out);
    }

    /// A person came on after a screener that heard the opening: the opening again, from the
    /// notice on (the screener may have heard it; the person did not).
    pub(super) fn put_through(&mut self, out: &mut Vec<Effect>) {
        if self.state.phase != Phase::Active {
            return;
        }
        if let Some(notice) = self.script.consent_notice.clone() {
            self.say(&notice, false, out);
        }
        self.goto(self.script.start, out);
    }

    pub(super) fn voicemail_detected(&mut self, out: &mut Vec<Effect>) {
        if let Some(msg) = self.script.voicemail.clone() {
            self.say(&msg, false, out);
        }
        self.end(Disposition::Voicemail, None, EndReason::Voicemail, out);
    }

    pub(super) fn timer_fired(&mut self, id: Id, out: &mut Vec<Effect>) {
        let Some(kind) = self.state.timers.remove(&id) else {
            return; // cancelled or stale
        };
        match kind {
            TimerKind::Answer => {
                if self.state.phase != Phase::Ringing {
                    return;
                }
                let followup = self.script.not_answered.clone().unwrap_or_default();
                self.state
                    .vars
                    .insert("call_answered".into(), Value::Bool(false));
                for (var, e) in &followup.set {
                    let v = eval(e, &self.state.vars);
                    self.state.vars.insert(var.clone(), v);
                }
                self.set_answer("call_answered", Value::Bool(false), out);
                self.schedule(&followup.schedule, out);
                self.end(
                    Disposition::NoAnswer,
                    Some("not_answered".into()),
                    EndReason::NotAnswered,
                    out,
                );
            }
            TimerKind::MaxDuration => self.max_duration(out),
            TimerKind::EscalationReminder => self.remind_waiting_caller(id, out),
            TimerKind::EscalationWait => {
                if matches!(self.state.wait, Wait::Human { timer, .. } if timer == id) {
                    self.escalation_timed_out(out);
                }
            }
        }
    }

    pub(super) fn max_duration(&mut self, out: &mut Vec<Effect>) {
        if self.state.phase != Phase::Active {
            return;
        }
        let script = self.script.clone();
        match script
            .handlers
            .iter()
            .find(|h| h.kind == HandlerKind::MaxDuration)
        {
            Some(h) => {
                if let Some(s) = &h.say {
                    self.say(s, false, out);
                }
                match h.goto {
                    Some(target) => self.goto(target, out),
                    None => {
                        let d = h.disposition.unwrap_or(Disposition::Reached);
                        let outcome = h.outcome.clone().or_else(|| Some("max_duration".into()));
                        self.end(d, outcome, EndReason::MaxDuration, out);
                    }
                }
            }
            None => self.end(
                Disposition::Reached,
                Some("max_duration".into()),
                EndReason::MaxDuration,
                out,
            ),
        }
    }

    // ------------------------------------------------------------------ graph moves

    /// Enters `target` and follows non-listening nodes until one waits or the call ends.
    pub(super) fn goto(&mut self, target: NodeId, out: &mut Vec<Effect>) {
        let script = self.script.clone();
        let mut next = Some(target);
        let mut hops = 0;
        while let Some(id) = next.take() {
            if self.state.phase != Phase::Active {
                return;
            }
            hops += 1;
            if hops > MAX_HOPS {
                self.end(
                    Disposition::Failed,
                    Some("loop".into()),
                    EndReason::Error,
                    out,
                );
                return;
            }
            self.leave_node(out);
            let node = &script.nodes[id];
            self.state.visit += 1;
            self.state.node = Some(node.id.clone());
            self.state.retries = 0;
            self.state.no_inputs = 0;
            self.state.llm_turns = 0;
            out.push(Effect::NodeEntered {
                id: node.id.clone(),
                kind: node.kind.name().into(),
                visit: self.state.visit,
            });
            for (var, e) in &node.set {
                let v = eval(e, &self.state.vars);
                self.state.vars.insert(var.clone(), v);
            }
            next = match &node.kind {
                NodeKind::Say {
                    text,
                    interruptible,
                    next,
                } => {
                    self.say(text, *interruptible, out);
                    Some(*next)
                }
                NodeKind::Ask(a) => {
                    self.say_prompt(&a.prompt, a.interruptible, out);
                    self.listen_here(out);
                    self.state.wait = Wait::Answer;
                    None
                }
                NodeKind::Llm(l) => {
                    if let Some(p) = &l.prompt {
                        self.say_prompt(p, true, out);
                        self.listen_here(out);
                        self.state.wait = Wait::Llm { request_id: None };
                    } else {
                        // No opening line: the model speaks first, from the history so far.
                        let classify = l.verdicts.iter().map(|(k, _)| k.clone()).collect();
                        let request_id = self.request_llm(classify, out);
                        self.state.wait = Wait::Llm {
                            request_id: Some(request_id),
                        };
                    }
                    None
                }
                NodeKind::Tool(t) => {
                    if let Some(s) = &t.say {
                        self.say(s, true, out);
                    }
                    self.call_tool(t, out);
                    None
                }
                NodeKind::Branch { cases, otherwise } => Some(
                    cases
                        .iter()
                        .find(|(e, _)| truthy(&eval(e, &self.state.vars)))
                        .map_or(*otherwise, |(_, t)| *t),
                ),
                NodeKind::Transfer { target, say } => {
                    if let Some(s) = say {
                        self.say(s, false, out);
                    }
                    out.push(Effect::Transfer {
                        target: self.render(target),
                    });
                    self.end(
                        Disposition::Reached,
                        Some("transferred".into()),
                        EndReason::Transferred,
                        out,
                    );
                    None
                }
                NodeKind::Escalate(e) => self.escalate(e, out),
                NodeKind::Voicemail { message } => {
                    let msg = if message == &Template::default() {
                        self.script.voicemail.clone()
                    } else {
                        Some(message.clone())
                    };
                    if let Some(m) = msg {
                        self.say(&m, false, out);
                    }
                    self.end(Disposition::Voicemail, None, EndReason::Voicemail, out);
                    None
                }
                NodeKind::End(end) => {
                    if let Some(s) = &end.say {
                        self.say(s, false, out);
                    }
                    self.schedule(&end.schedule, out);
                    let reason = match end.outcome.as_deref() {
                        Some("escalated") => EndReason::Escalated,
                        _ => EndReason::Completed,
                    };
                    self.end(end.disposition, end.outcome.clone(), reason, out);
                    None
                }
            };
        }
    }

    /// Drops whatever the current node was waiting for (its results become stale).
    pub(super) fn leave_node(&mut self, out: &mut Vec<Effect>) {
        if let Wait::Human { timer, reminder } = self.state.wait {
            for id in std::iter::once(timer).chain(reminder) {
                if self.state.timers.remove(&id).is_some() {
                    out.push(Effect::CancelTimer { id });
                }
            }
        }
        self.state.wait = Wait::Nothing;
    }

    pub(super) fn end(
        &mut self,
        disposition: Disposition,
        outcome: Option<String>,
        reason: EndReason,
        out: &mut Vec<Effect>,
    ) {
        if self.state.phase == Phase::Ended {
            return;
        }
        self.leave_node(out);
        self.cancel_timers(|_| true, out);
        self.state.phase = Phase::Ended;
        self.state.end = Some(EndInfo {
            disposition,
            outcome: outcome.clone(),
            reason,
        });
        out.push(Effect::Hangup {
            disposition,
            outcome,
            reason,
        });
    }

    // ------------------------------------------------------------------ output helpers

    pub(super) fn render(&self, t: &Template) -> String {
        t.render(&self.state.vars, self.script.tz)
    }

    pub(super) fn say(&mut self, t: &Template, interruptible: bool, out: &mut Vec<Effect>) {
        let text = self.render(t);
        self.say_text(text, interruptible, out);
    }

    pub(super) fn say_text(&mut self, text: String, interruptible: bool, out: &mut Vec<Effect>) {
        if text.trim().is_empty() {
            return;
        }
        let utterance_id = self.new_id();
        self.push_history(Role::Agent, &text);
        out.push(Effect::Say {
            utterance_id,
            text,
            interruptible,
        });
    }

    /// Says something the caller is expected to answer (remembered for "repeat that").
    pub(super) fn say_prompt(&mut self, t: &Template, interruptible: bool, out: &mut Vec<Effect>) {
        let text = self.render(t);
        self.state.last_prompt = Some(text.clone());
        self.say_text(text, interruptible, out);
    }

    /// Emits `Listen` configured for the current node.
    pub(super) fn listen_here(&mut self, out: &mut Vec<Effect>) {
        let node = self.current();
        let (slot, endpointing, hints, timeout) = match node.map(|n| &n.kind) {
            Some(NodeKind::Ask(a)) => (
                Some(a.expect.kind()),
                a.endpointing,
                hints(&a.expect),
                a.no_input_timeout,
            ),
            Some(NodeKind::Llm(l)) => (None, l.endpointing, Vec::new(), l.no_input_timeout),
            _ => (None, self.script.endpointing, Vec::new(), None),
        };
        let no_input_timeout_ms = timeout.map_or(DEFAULT_NO_INPUT_MS, |d| d.as_millis() as u64);
        out.push(Effect::Listen {
            slot,
            endpointing,
            hints,
            no_input_timeout_ms,
        });
    }

    pub(super) fn listen_for(&mut self, slot: SlotKind, out: &mut Vec<Effect>) {
        out.push(Effect::Listen {
            slot: Some(slot),
            endpointing: self.script.endpointing,
            hints: Vec::new(),
            no_input_timeout_ms: DEFAULT_NO_INPUT_MS,
        });
    }

    pub(super) fn cur_id(&self) -> Option<NodeId> {
        self.script.node_id(self.state.node.as_deref()?)
    }

    pub(super) fn current(&self) -> Option<&crate::script::Node> {
        let id = self.script.node_id(self.state.node.as_deref()?)?;
        self.script.nodes.get(id)
    }

    pub(super) fn set_answer(&mut self, slot: &str, value: Value, out: &mut Vec<Effect>) {
        self.state.vars.insert(slot.to_string(), value.clone());
        if slot != "answers" {
            self.state.answers.insert(slot.to_string(), value.clone());
            let summary: Vec<String> = self
                .state
                .answers
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            self.state
                .vars
                .insert("answers".into(), Value::Str(summary.join("; ")));
        }
        out.push(Effect::SetAnswer {
            slot: slot.to_string(),
            value,
        });
    }

    pub(super) fn schedule(&mut self, list: &[Schedule], out: &mut Vec<Effect>) {
        for s in list {
            let fixed = s
                .at_var
                .as_ref()
                .and_then(|v| match self.state.vars.get(v) {
                    Some(Value::Datetime(d)) => Some(*d),
                    _ => None,
                });
            let at = fixed.unwrap_or(
                self.state.now + chrono::Duration::milliseconds(s.after.as_millis() as i64),
            );
            out.push(Effect::ScheduleAction {
                kind: s.kind,
                at,
                reason: s.reason.clone(),
            });
        }
    }

    fn start_timer(&mut self, kind: TimerKind, after: Duration, out: &mut Vec<Effect>) -> Id {
        let id = self.new_id();
        self.state.timers.insert(id, kind);
        out.push(Effect::StartTimer {
            id,
            after_ms: after.as_millis() as u64,
        });
        id
    }

    fn cancel_timers(&mut self, which: impl Fn(TimerKind) -> bool, out: &mut Vec<Effect>) {
        let ids: Vec<Id> = self
            .state
            .timers
            .iter()
            .filter(|(_, k)| which(**k))
            .map(|(i, _)| *i)
            .collect();
        for id in ids {
            self.state.timers.remove(&id);
            out.push(Effect::CancelTimer { id });
        }
    }

    // ------------------------------------------------------------------ tools and LLM

    fn call_tool(&mut self, t: &crate::script::Tool, out: &mut Vec<Effect>) {
        let call_id = self.new_id();
        let mut headers: Vec<_> = t
            .headers
            .iter()
            .map(|(n, v)| super::HeaderValue::Text {
                name: n.clone(),
                value: self.render(v),
            })
            .collect();
        headers.extend(
            t.secret_headers
                .iter()
                .map(|(n, s)| super::HeaderValue::Secret {
                    name: n.clone(),
                    secret: s.clone(),
                }),
        );
        let body = t.body.as_ref().map(|b| self.render_json(b));
        out.push(Effect::CallTool {
            call_id,
            method: t.method,
            url: self.render(&t.url),
            headers,
            body,
            timeout_ms: t.timeout.as_millis() as u64,
        });
        self.state.wait = Wait::Tool { call_id };
    }

    fn render_json(&self, v: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value as J;
        match v {
            J::String(s) => {
                // A string that is exactly one `{{var}}` keeps the variable's JSON type.
                let t = Template::parse(s).unwrap_or_else(|_| Template::literal(s));
                let vars: Vec<&str> = t.vars().collect();
                if vars.len() == 1
                    && s.trim().starts_with("{{")
                    && s.trim().ends_with("}}")
                    && s.matches("{{").count() == 1
                {
                    return self.state.vars.get(vars[0]).map_or(J::Null, Value::to_json);
                }
                J::String(self.render(&t))
            }
            J::Array(a) => J::Array(a.iter().map(|x| self.render_json(x)).collect()),
            J::Object(o) => J::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.render_json(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    pub(super) fn tool_finished(&mut self, call_id: Id, result: ToolResult, out: &mut Vec<Effect>) {
        if self.state.wait != (Wait::Tool { call_id }) {
            return; // stale: the node was left
        }
        let Some(NodeKind::Tool(t)) = self.current().map(|n| &n.kind) else {
            return;
        };
        let (next, on_error) = (t.next, t.on_error);
        let mapping = t.result.clone();
        match result {
            ToolResult::Ok { body } => {
                for (var, ptr) in &mapping {
                    let ty = self.script.vars.get(var).map(|v| v.ty);
                    let v = body
                        .pointer(ptr)
                        .and_then(|j| ty.and_then(|ty| Value::from_json(j, ty)));
                    match v {
                        Some(v) => {
                            self.state.vars.insert(var.clone(), v);
                        }
                        None => return self.goto(on_error, out),
                    }
                }
                self.goto(next, out);
            }
            ToolResult::Error { .. } => self.goto(on_error, out),
        }
    }

    pub(super) fn request_llm(&mut self, classify: Vec<String>, out: &mut Vec<Effect>) -> Id {
        let request_id = self.new_id();
        // An llm node's reply is spoken to the caller; an ask node's classification is not.
        let (system, goal, tools, spoken) = match self.current().map(|n| &n.kind) {
            Some(NodeKind::Llm(l)) => (
                l.system.clone(),
                Some(l.goal.clone()),
                l.tools.clone(),
                true,
            ),
            _ => (None, None, Vec::new(), false),
        };
        let mut sys = system
            .or_else(|| self.script.system_prompt.clone())
            .map(|t| self.render(&t))
            .unwrap_or_default();
        if !self.script.key_points.is_empty() {
            sys.push_str("\nKey points:");
            for k in &self.script.key_points {
                sys.push_str("\n- ");
                sys.push_str(&self.render(k));
            }
        }
        let goal = match goal {
            Some(g) => self.render(&g),
            None => format!(
                "Classify the caller's last answer to: {}",
                self.state.last_prompt.clone().unwrap_or_default()
            ),
        };
        out.push(Effect::RequestLlm {
            request_id,
            system: sys,
            goal,
            messages: self.state.history.clone(),
            tools,
            classify,
            spoken,
        });
        request_id
    }

    pub(super) fn llm_finished(
        &mut self,
        request_id: Id,
        outcome: LlmOutcome,
        out: &mut Vec<Effect>,
    ) {
        match self.state.wait {
            Wait::Llm {
                request_id: Some(r),
            } if r == request_id => self.llm_reply(outcome, out),
            Wait::Classify { request_id: r } if r == request_id => self.classified(outcome, out),
            _ => {} // stale: the node was left or the request superseded
        }
    }

    fn llm_reply(&mut self, outcome: LlmOutcome, out: &mut Vec<Effect>) {
        let Some(NodeKind::Llm(l)) = self.current().map(|n| &n.kind) else {
            return;
        };
        let (verdicts, next, on_error, max_turns) =
            (l.verdicts.clone(), l.next, l.on_error, l.max_turns);
        self.state.wait = Wait::Llm { request_id: None };
        match outcome {
            LlmOutcome::Failed { .. } => self.goto(on_error, out),
            LlmOutcome::Reply { text, verdict } => {
                if let Some((v, target)) =
                    verdict.and_then(|v| verdicts.iter().find(|(k, _)| *k == v).cloned())
                {
                    self.state.vars.insert("llm_verdict".into(), Value::Str(v));
                    self.say_text(text, true, out);
                    return self.goto(target, out);
                }
                self.say_text(text, true, out);
                self.state.llm_turns += 1;
                if self.state.llm_turns >= max_turns {
                    self.goto(next, out);
                } else {
                    self.listen_here(out);
                }
            }
        }
    }

    fn classified(&mut self, outcome: LlmOutcome, out: &mut Vec<Effect>) {
        self.state.wait = Wait::Answer;
        let verdict = match outcome {
            LlmOutcome::Reply {
                verdict: Some(v), ..
            } => v,
            _ => return self.ask_failed(out),
        };
        let Some(NodeKind::Ask(a)) = self.current().map(|n| &n.kind) else {
            return;
        };
        let value = match &a.expect {
            SlotSpec::YesNo => match verdict.as_str() {
                "yes" => Some(Value::Bool(true)),
                "no" => Some(Value::Bool(false)),
                _ => None,
            },
            SlotSpec::Choice(opts) => opts
                .iter()
                .find(|(k, _)| *k == verdict)
                .map(|(k, _)| Value::Str(k.clone())),
            SlotSpec::Rating { min, max } => verdict
                .parse::<i64>()
                .ok()
                .filter(|v| v >= min && v <= max)
                .map(Value::Int),
            _ => None,
        };
        match value {
            Some(v) => self.slot_filled(v, out),
            None => self.ask_failed(out),
        }
    }

    // ------------------------------------------------------------------ escalation

    fn escalate(&mut self, e: &crate::script::Escalate, out: &mut Vec<Effect>) -> Option<NodeId> {
        let within = self
            .script
            .service_hours
            .as_ref()
            .is_none_or(|h| h.contains(self.state.now));
        self.state
            .vars
            .insert("within_service_hours".into(), Value::Bool(within));
        let reason = self.render(&e.reason);
        if within {
            out.push(Effect::Escalate {
                reason,
                priority: e.priority,
                within_hours: true,
                wait_timeout_ms: Some(e.wait.as_millis() as u64),
            });
            self.say(&e.say_waiting, false, out);
            let timer = self.start_timer(TimerKind::EscalationWait, e.wait, out);
            let reminder = e
                .remind_every
                .map(|every| self.start_timer(TimerKind::EscalationReminder, every, out));
            self.state.wait = Wait::Human { timer, reminder };
            None
        } else {
            out.push(Effect::Escalate {
                reason,
                priority: e.priority,
                within_hours: false,
                wait_timeout_ms: None,
            });
            self.say(&e.outside_hours_say, false, out);
            let s = Schedule {
                kind: ActionKind::Call,
                after: e.follow_up_within,
                at_var: None,
                reason: "escalation_follow_up".into(),
            };
            self.schedule(&[s], out);
            Some(e.outside_hours)
        }
    }

    /// A caller still waiting for a human hears the waiting line again.
    fn remind_waiting_caller(&mut self, id: Id, out: &mut Vec<Effect>) {
        let Wait::Human { timer, reminder } = self.state.wait else {
            return;
        };
        let Some(NodeKind::Escalate(e)) = self.current().map(|n| &n.kind) else {
            return;
        };
        let (Some(every), true) = (e.remind_every, reminder == Some(id)) else {
            return;
        };
        let say = e.still_waiting_say.clone();
        self.say(&say, false, out);
        let reminder = Some(self.start_timer(TimerKind::EscalationReminder, every, out));
        self.state.wait = Wait::Human { timer, reminder };
    }

    fn escalation_timed_out(&mut self, out: &mut Vec<Effect>) {
        let Some(NodeKind::Escalate(e)) = self.current().map(|n| &n.kind) else {
            return;
        };
        let (say, within, target) = (e.on_timeout_say.clone(), e.callback_within, e.timeout);
        self.state.wait = Wait::Nothing;
        self.say(&say, false, out);
        let s = Schedule {
            kind: ActionKind::Call,
            after: within,
            at_var: None,
            reason: "escalation_callback".into(),
        };
        self.schedule(&[s], out);
        self.goto(target, out);
    }

    pub(super) fn human_joined(&mut self, human: String, out: &mut Vec<Effect>) {
        let Wait::Human { .. } = self.state.wait else {
            return;
        };
        let Some(NodeKind::Escalate(e)) = self.current().map(|n| &n.kind) else {
            return;
        };
        let (join, brief, target) = (e.on_join_say.clone(), e.briefing.clone(), e.joined);
        let listen = e.after_join == AfterJoin::Listen;
        self.leave_node(out);
        self.say(&join, false, out);
        self.say(&brief, false, out);
        out.push(Effect::HandOver { human, listen });
        self.goto(target, out);
    }

    pub(super) fn sentiment(&mut self, score: f32, out: &mut Vec<Effect>) {
        if self.state.phase != Phase::Active
            || self.state.sentiment_fired
            || matches!(self.state.wait, Wait::Human { .. })
        {
            return;
        }
        let script = self.script.clone();
        let Some(h) = script
            .handlers
            .iter()
            .find(|h| h.kind == HandlerKind::Sentiment)
        else {
            return;
        };
        if f64::from(score) < h.below {
            self.state.sentiment_fired = true;
            if let Some(s) = &h.say {
                self.say(s, false, out);
            }
            if let Some(t) = h.goto {
                self.goto(t, out);
            }
        }
    }
}

/// STT vocabulary hints for a slot.
fn hints(spec: &SlotSpec) -> Vec<String> {
    let words = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    match spec {
        SlotSpec::YesNo => ["yes", "no", "yeah", "nope"].map(String::from).to_vec(),
        SlotSpec::Rating { min, max } => (*min..=*max)
            .flat_map(|n| {
                let mut v = vec![n.to_string()];
                if let Some(w) = usize::try_from(n).ok().and_then(|i| words.get(i)) {
                    v.push((*w).to_string());
                }
                v
            })
            .collect(),
        SlotSpec::Number { .. } | SlotSpec::Phone => {
            words.iter().map(|w| (*w).to_string()).collect()
        }
        SlotSpec::Choice(opts) => opts
            .iter()
            .flat_map(|(k, syn)| std::iter::once(k.clone()).chain(syn.iter().cloned()))
            .collect(),
        SlotSpec::Email => ["at", "dot"].map(String::from).to_vec(),
        SlotSpec::Datetime => ["today", "tomorrow", "morning", "afternoon", "evening"]
            .map(String::from)
            .to_vec(),
        SlotSpec::Text => Vec::new(),
    }
}
