//! Caller input: transcripts, silence and DTMF. Deterministic first: global handlers, then the
//! node's phrase/regex/DTMF edges, then the slot recognisers; the LLM is asked only when those
//! cannot decide and the node allows it.

use chrono::{DateTime, Utc};

use super::{Effect, EndReason, Engine, Phase, Role, Wait};
use crate::expr::{eval, truthy};
use crate::recognize::{
    self, datetime::datetime, text::contains_phrase, text::normalize, Recognized,
};
use crate::script::{Disposition, Edge, HandlerKind, NodeKind, SlotKind, SlotSpec};
use crate::value::Value;

impl Engine {
    pub(super) fn user_said(&mut self, text: &str, confidence: f32, out: &mut Vec<Effect>) {
        if self.state.phase != Phase::Active {
            return;
        }
        self.state.silence_streak = 0;
        self.state
            .vars
            .insert("last_utterance".into(), Value::Str(text.to_string()));
        self.push_history(Role::Caller, text);
        let norm = normalize(text);
        match self.state.wait.clone() {
            Wait::Human { .. } => self.while_waiting(text, &norm, out),
            Wait::CallbackTime { handler, asked } => self.callback_time(handler, asked, text, out),
            Wait::Answer | Wait::Classify { .. } => self.answer(text, &norm, confidence, out),
            Wait::Llm { .. } => self.llm_turn(text, &norm, out),
            Wait::Tool { .. } | Wait::Nothing => {
                if let Some(h) =
                    self.find_handler(text, &norm, &[HandlerKind::Dnc, HandlerKind::Human])
                {
                    self.fire_handler(h, text, out);
                }
            }
        }
    }

    /// The caller speaks while waiting for a human agent: "don't call me again" ends the
    /// call, a callback request gives up the wait for a call later, "say that again" repeats
    /// the waiting line; anything else is left for the human who joins.
    fn while_waiting(&mut self, text: &str, norm: &str, out: &mut Vec<Effect>) {
        let kinds = [HandlerKind::Dnc, HandlerKind::Callback, HandlerKind::Repeat];
        let Some(h) = self.find_handler(text, norm, &kinds) else {
            return;
        };
        match self.script.handlers[h].kind {
            HandlerKind::Repeat => {
                if let Some(NodeKind::Escalate(e)) = self.current().map(|n| &n.kind) {
                    let waiting = e.say_waiting.clone();
                    self.say(&waiting, false, out);
                }
            }
            HandlerKind::Callback => {
                self.leave_node(out);
                self.fire_handler(h, text, out);
            }
            _ => self.fire_handler(h, text, out),
        }
    }

    /// The first handler (in script order) of the given kinds whose phrases or regex match.
    fn find_handler(&self, raw: &str, norm: &str, kinds: &[HandlerKind]) -> Option<usize> {
        self.script.handlers.iter().position(|h| {
            kinds.contains(&h.kind)
                && (h.phrases.iter().any(|p| contains_phrase(norm, p))
                    || h.regex.as_ref().is_some_and(|r| r.is_match(raw)))
        })
    }

    fn fire_handler(&mut self, idx: usize, text: &str, out: &mut Vec<Effect>) {
        let script = self.script.clone();
        let h = &script.handlers[idx];
        match h.kind {
            HandlerKind::Objection => {
                let count = self.state.objections.entry(h.name.clone()).or_insert(0);
                *count += 1;
                if let (Some(limit), Some(target)) = (h.limit, h.on_limit) {
                    if *count > limit {
                        return self.goto(target, out);
                    }
                }
                if let Some(s) = &h.say {
                    self.say(s, true, out);
                }
                match h.goto {
                    Some(t) => self.goto(t, out),
                    None => self.return_to_node(out),
                }
            }
            HandlerKind::Human => {
                if let Some(s) = &h.say {
                    self.say(s, false, out);
                }
                if let Some(t) = h.goto {
                    self.goto(t, out);
                }
            }
            HandlerKind::Dnc => {
                match &h.say {
                    Some(s) => self.say(s, false, out),
                    None => self.say_text(
                        "Understood. We won't call you again. Goodbye.".into(),
                        false,
                        out,
                    ),
                }
                self.set_answer("do_not_call", Value::Bool(true), out);
                let d = h.disposition.unwrap_or(Disposition::Dnc);
                self.end(
                    d,
                    h.outcome.clone().or_else(|| Some("dnc".into())),
                    EndReason::Dnc,
                    out,
                );
            }
            HandlerKind::Callback => match datetime(text, self.state.now, self.script.tz) {
                Recognized::Match { value, .. } => self.schedule_callback(idx, value, out),
                _ => match &h.ask_time {
                    Some(ask) => {
                        self.say_prompt(ask, true, out);
                        self.listen_for(SlotKind::Datetime, out);
                        self.state.wait = Wait::CallbackTime {
                            handler: idx,
                            asked: 0,
                        };
                    }
                    None => {
                        let at = self.state.now
                            + chrono::Duration::milliseconds(h.default_delay.as_millis() as i64);
                        self.schedule_callback(idx, at, out);
                    }
                },
            },
            HandlerKind::Repeat => {
                let last = self.state.last_prompt.clone().unwrap_or_default();
                self.say_text(last, true, out);
                match self.state.wait {
                    Wait::CallbackTime { .. } => self.listen_for(SlotKind::Datetime, out),
                    _ => self.listen_here(out),
                }
            }
            HandlerKind::Silence | HandlerKind::MaxDuration | HandlerKind::Sentiment => {}
        }
    }

    /// After an objection answer: ask the current question again / keep listening.
    fn return_to_node(&mut self, out: &mut Vec<Effect>) {
        let prompt = match self.current().map(|n| &n.kind) {
            Some(NodeKind::Ask(a)) => Some(a.prompt.clone()),
            _ => None,
        };
        if let Some(p) = prompt {
            self.say_prompt(&p, true, out);
        }
        self.state.wait = match self.state.wait {
            Wait::Classify { .. } => Wait::Answer,
            ref w => w.clone(),
        };
        self.listen_here(out);
    }

    fn callback_time(&mut self, handler: usize, asked: u32, text: &str, out: &mut Vec<Effect>) {
        let norm = normalize(text);
        if let Some(h) = self.find_handler(text, &norm, &[HandlerKind::Dnc]) {
            return self.fire_handler(h, text, out);
        }
        match datetime(text, self.state.now, self.script.tz) {
            Recognized::Match { value, .. } => self.schedule_callback(handler, value, out),
            _ if asked == 0 => {
                self.say_text("Sorry, what day and time suit you best?".into(), true, out);
                self.listen_for(SlotKind::Datetime, out);
                self.state.wait = Wait::CallbackTime { handler, asked: 1 };
            }
            _ => self.callback_default(handler, out),
        }
    }

    fn callback_default(&mut self, handler: usize, out: &mut Vec<Effect>) {
        let delay = self.script.handlers[handler].default_delay;
        let at = self.state.now + chrono::Duration::milliseconds(delay.as_millis() as i64);
        self.schedule_callback(handler, at, out);
    }

    fn schedule_callback(&mut self, handler: usize, at: DateTime<Utc>, out: &mut Vec<Effect>) {
        let script = self.script.clone();
        let h = &script.handlers[handler];
        self.set_answer("callback_at", Value::Datetime(at), out);
        out.push(Effect::ScheduleAction {
            kind: crate::script::ActionKind::Call,
            at,
            reason: "callback_requested".into(),
        });
        match &h.say {
            Some(s) => self.say(s, false, out),
            None => {
                let when = at.with_timezone(&self.script.tz).format("%A at %-I:%M %p");
                self.say_text(
                    format!("No problem, I'll call you back on {when}. Goodbye."),
                    false,
                    out,
                );
            }
        }
        let d = h.disposition.unwrap_or(Disposition::CallbackRequested);
        let outcome = h
            .outcome
            .clone()
            .or_else(|| Some("callback_requested".into()));
        self.end(d, outcome, EndReason::CallbackRequested, out);
    }

    // ------------------------------------------------------------------ ask nodes

    fn answer(&mut self, text: &str, norm: &str, confidence: f32, out: &mut Vec<Effect>) {
        let script = self.script.clone();
        let Some(NodeKind::Ask(a)) = self.cur_id().map(|i| &script.nodes[i].kind) else {
            return;
        };
        let kinds: &[HandlerKind] = if a.handlers {
            &[
                HandlerKind::Dnc,
                HandlerKind::Human,
                HandlerKind::Callback,
                HandlerKind::Objection,
                HandlerKind::Repeat,
            ]
        } else {
            &[HandlerKind::Dnc, HandlerKind::Human]
        };
        self.state.wait = Wait::Answer;
        if let Some(h) = self.find_handler(text, norm, kinds) {
            return self.fire_handler(h, text, out);
        }
        if let Some(edge) = a
            .routes
            .iter()
            .find(|e| self.input_edge_matches(e, text, norm, None))
        {
            // Keep the answer too when it reads as one (e.g. a text slot).
            if let Recognized::Match { value, .. } =
                recognize::recognize(&a.expect, text, confidence, self.state.now, self.script.tz)
            {
                self.set_answer(&a.slot, value, out);
            }
            return self.take_edge(edge, out);
        }
        match recognize::recognize(&a.expect, text, confidence, self.state.now, self.script.tz) {
            Recognized::Match { value, .. } => self.slot_filled(value, out),
            _ if a.llm_fallback => {
                let classify = match &a.expect {
                    SlotSpec::YesNo => vec!["yes".to_string(), "no".to_string()],
                    SlotSpec::Choice(o) => o.iter().map(|(k, _)| k.clone()).collect(),
                    SlotSpec::Rating { min, max } => (*min..=*max).map(|n| n.to_string()).collect(),
                    _ => Vec::new(),
                };
                if classify.is_empty() {
                    return self.ask_failed(out);
                }
                let request_id = self.request_llm(classify, out);
                self.state.wait = Wait::Classify { request_id };
            }
            _ => self.ask_failed(out),
        }
    }

    /// An edge with an input condition (phrases, regex, DTMF) that holds, and whose `when`
    /// (if any) is true.
    fn input_edge_matches(&self, e: &Edge, raw: &str, norm: &str, dtmf: Option<char>) -> bool {
        let by_input = match dtmf {
            Some(d) => e
                .dtmf
                .as_deref()
                .is_some_and(|x| x.len() == 1 && x.starts_with(d)),
            None => {
                e.phrases.iter().any(|p| contains_phrase(norm, p))
                    || e.regex.as_ref().is_some_and(|r| r.is_match(raw))
            }
        };
        by_input
            && e.when
                .as_ref()
                .is_none_or(|w| truthy(&eval(w, &self.state.vars)))
    }

    fn take_edge(&mut self, e: &Edge, out: &mut Vec<Effect>) {
        if let Some(s) = &e.say {
            self.say(s, true, out);
        }
        self.goto(e.goto, out);
    }

    pub(super) fn slot_filled(&mut self, value: Value, out: &mut Vec<Effect>) {
        let script = self.script.clone();
        let Some(NodeKind::Ask(a2)) = self.cur_id().map(|i| &script.nodes[i].kind) else {
            return;
        };
        self.set_answer(&a2.slot, value, out);
        let pure = |e: &&Edge| e.phrases.is_empty() && e.regex.is_none() && e.dtmf.is_none();
        let hit = a2.routes.iter().filter(pure).find(|e| {
            e.when
                .as_ref()
                .is_none_or(|w| truthy(&eval(w, &self.state.vars)))
        });
        match hit {
            Some(e) => self.take_edge(e, out),
            None => self.goto(a2.next, out),
        }
    }

    pub(super) fn ask_failed(&mut self, out: &mut Vec<Effect>) {
        let script = self.script.clone();
        let Some(node) = self.cur_id().map(|i| &script.nodes[i]) else {
            return;
        };
        let NodeKind::Ask(a) = &node.kind else { return };
        self.state.retries += 1;
        self.state.wait = Wait::Answer;
        if self.state.retries <= a.max_retries {
            let p = a.reprompt.as_ref().unwrap_or(&a.prompt);
            self.say_prompt(p, a.interruptible, out);
            self.listen_here(out);
        } else {
            self.goto(a.on_no_match, out);
        }
    }

    // ------------------------------------------------------------------ llm nodes

    fn llm_turn(&mut self, text: &str, norm: &str, out: &mut Vec<Effect>) {
        let script = self.script.clone();
        let Some(node) = self.cur_id().map(|i| &script.nodes[i]) else {
            return;
        };
        let NodeKind::Llm(l) = &node.kind else { return };
        let kinds = [
            HandlerKind::Dnc,
            HandlerKind::Human,
            HandlerKind::Callback,
            HandlerKind::Objection,
            HandlerKind::Repeat,
        ];
        if let Some(h) = self.find_handler(text, norm, &kinds) {
            return self.fire_handler(h, text, out);
        }
        if let Some(edge) = l.routes.iter().find(|e| {
            self.input_edge_matches(e, text, norm, None)
                || (e.phrases.is_empty()
                    && e.regex.is_none()
                    && e.dtmf.is_none()
                    && e.when
                        .as_ref()
                        .is_some_and(|w| truthy(&eval(w, &self.state.vars))))
        }) {
            return self.take_edge(edge, out);
        }
        let canned = l
            .answers
            .iter()
            .find(|a| a.phrases.iter().any(|p| contains_phrase(norm, p)))
            .map(|a| a.say.clone());
        let reply = canned.or_else(|| l.fallback.clone());
        match reply {
            Some(t) => {
                self.say(&t, true, out);
                self.state.llm_turns += 1;
                if self.state.llm_turns >= l.max_turns {
                    self.goto(l.next, out);
                } else {
                    self.listen_here(out);
                }
            }
            None => {
                // A newer request supersedes an unanswered one (its result becomes stale).
                let request_id =
                    self.request_llm(l.verdicts.iter().map(|(k, _)| k.clone()).collect(), out);
                self.state.wait = Wait::Llm {
                    request_id: Some(request_id),
                };
            }
        }
    }

    // ------------------------------------------------------------------ silence and keys

    pub(super) fn no_input(&mut self, out: &mut Vec<Effect>) {
        if self.state.phase != Phase::Active {
            return;
        }
        self.state.silence_streak += 1;
        let script = self.script.clone();
        let listening = matches!(
            self.state.wait,
            Wait::Answer | Wait::Llm { .. } | Wait::CallbackTime { .. }
        );
        if let Some(h) = script
            .handlers
            .iter()
            .find(|h| h.kind == HandlerKind::Silence)
        {
            if listening && self.state.silence_streak >= h.after {
                if let Some(s) = &h.say {
                    self.say(s, false, out);
                }
                return match h.goto {
                    Some(t) => self.goto(t, out),
                    None => {
                        let d = h.disposition.unwrap_or(Disposition::Reached);
                        let outcome = h.outcome.clone().or_else(|| Some("no_response".into()));
                        self.end(d, outcome, EndReason::Silence, out)
                    }
                };
            }
        }
        let Some(node) = self.cur_id().map(|i| &script.nodes[i]) else {
            return;
        };
        match (&self.state.wait, &node.kind) {
            (Wait::CallbackTime { handler, .. }, _) => self.callback_default(*handler, out),
            (Wait::Answer, NodeKind::Ask(a)) => {
                self.state.no_inputs += 1;
                if self.state.no_inputs <= a.max_retries {
                    let p = a.reprompt.as_ref().unwrap_or(&a.prompt);
                    self.say_prompt(p, a.interruptible, out);
                    self.listen_here(out);
                } else {
                    self.goto(a.on_no_input, out);
                }
            }
            (Wait::Llm { .. }, NodeKind::Llm(l)) => {
                self.state.llm_turns += 1;
                if self.state.llm_turns >= l.max_turns {
                    self.goto(l.next, out);
                } else {
                    if let Some(p) = &l.prompt {
                        self.say_prompt(p, true, out);
                    }
                    self.listen_here(out);
                }
            }
            _ => {}
        }
    }

    pub(super) fn dtmf(&mut self, digit: char, out: &mut Vec<Effect>) {
        if self.state.phase != Phase::Active {
            return;
        }
        self.state.silence_streak = 0;
        let script = self.script.clone();
        let Some(node) = self.cur_id().map(|i| &script.nodes[i]) else {
            return;
        };
        let routes = match &node.kind {
            NodeKind::Ask(a) if self.state.wait == Wait::Answer => &a.routes,
            NodeKind::Llm(l) if matches!(self.state.wait, Wait::Llm { .. }) => &l.routes,
            _ => return,
        };
        if let Some(edge) = routes
            .iter()
            .find(|e| self.input_edge_matches(e, "", "", Some(digit)))
        {
            return self.take_edge(edge, out);
        }
        let NodeKind::Ask(a) = &node.kind else { return };
        let value = match (&a.expect, digit) {
            (SlotSpec::YesNo, '1') => Some(Value::Bool(true)),
            (SlotSpec::YesNo, '2') => Some(Value::Bool(false)),
            (SlotSpec::Rating { min, max }, d)
            | (
                SlotSpec::Number {
                    min: Some(min),
                    max: Some(max),
                },
                d,
            ) => d
                .to_digit(10)
                .map(i64::from)
                .filter(|v| v >= min && v <= max)
                .map(Value::Int),
            (SlotSpec::Number { .. }, d) => d.to_digit(10).map(|v| Value::Int(i64::from(v))),
            (SlotSpec::Choice(opts), d) => match recognize::choice(&d.to_string(), opts) {
                Recognized::Match { value, .. } => Some(Value::Str(value)),
                _ => None,
            },
            _ => None,
        };
        match value {
            Some(v) => self.slot_filled(v, out),
            None => self.ask_failed(out),
        }
    }
}
