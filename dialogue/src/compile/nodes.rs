//! Reading and compiling nodes and handlers, one at a time.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Cx;
use crate::diag::DiagKind;
use crate::recognize::text::normalize;
use crate::schema::*;
use crate::script::{self, Edge, Handler, NodeKind, SlotSpec};
use crate::template::Template;
use crate::value::VarType;
use crate::yaml::{from_node, Kind, Node, Pos, Spanned};

/// A node as read, before targets are resolved.
pub(crate) struct RawNode {
    pub id: S,
    pub pos: Pos,
    pub set: BTreeMap<String, S>,
    pub kind: RawKind,
}

pub(crate) enum RawKind {
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

const KINDS: &str = "say, ask, llm, tool, branch, transfer, escalate, voicemail, end";

pub(crate) fn read_nodes(cx: &mut Cx, n: &Node) -> Vec<RawNode> {
    let Kind::Seq(items) = &n.kind else {
        cx.sink
            .push(n.pos, DiagKind::BadValue, "`nodes` must be a list");
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| read_node(cx, item))
        .collect()
}

fn read_node(cx: &mut Cx, item: &Node) -> Option<RawNode> {
    let Kind::Map(entries) = &item.kind else {
        cx.sink.push(
            item.pos,
            DiagKind::BadValue,
            format!("a node is a mapping, found {}", item.describe()),
        );
        return None;
    };
    let id: Option<S> = match item.get("id") {
        None => {
            cx.sink
                .push(item.pos, DiagKind::BadValue, "node without `id`");
            None
        }
        Some(n) => from_node(n).map_err(|e| cx.de_error(n.pos, e)).ok(),
    };
    let set: BTreeMap<String, S> = match item.get("set") {
        None => BTreeMap::new(),
        Some(n) => from_node(n)
            .map_err(|e| cx.de_error(n.pos, e))
            .unwrap_or_default(),
    };
    let ty = item.get("type");
    let rest = Node {
        pos: item.pos,
        kind: Kind::Map(
            entries
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), Some("id" | "type" | "set" | "description")))
                .cloned()
                .collect(),
        ),
    };
    fn de<'a, T: serde::Deserialize<'a>>(
        cx: &mut Cx,
        n: &'a Node,
        f: fn(T) -> RawKind,
    ) -> Option<RawKind> {
        from_node::<T>(n)
            .map(f)
            .map_err(|e| cx.de_error(n.pos, e))
            .ok()
    }
    let kind = match ty.and_then(Node::as_str) {
        Some("say") => de(cx, &rest, RawKind::Say),
        Some("ask") => de(cx, &rest, RawKind::Ask),
        Some("llm") => de(cx, &rest, RawKind::Llm),
        Some("tool") => de(cx, &rest, RawKind::Tool),
        Some("branch") => de(cx, &rest, RawKind::Branch),
        Some("transfer") => de(cx, &rest, RawKind::Transfer),
        Some("escalate") => de(cx, &rest, RawKind::Escalate),
        Some("voicemail") => de(cx, &rest, RawKind::Voicemail),
        Some("end") => de(cx, &rest, RawKind::End),
        Some(other) => {
            let pos = ty.map_or(item.pos, |t| t.pos);
            cx.sink.push(
                pos,
                DiagKind::BadValue,
                format!("unknown node type `{other}` (one of {KINDS})"),
            );
            None
        }
        None => {
            cx.sink.push(
                item.pos,
                DiagKind::BadValue,
                format!("node without `type` (one of {KINDS})"),
            );
            None
        }
    };
    Some(RawNode {
        id: id?,
        pos: item.pos,
        set,
        kind: kind?,
    })
}

/// Compiles one node; `None` if anything in it was wrong (already reported).
pub(crate) fn compile_node(cx: &mut Cx, raw: &RawNode) -> Option<script::Node> {
    let before = cx.sink.diags.len();
    let set = cx.assignments(&raw.set);
    let kind = match &raw.kind {
        RawKind::Say(d) => NodeKind::Say {
            text: cx.template(&d.text).unwrap_or_default(),
            interruptible: d.interruptible,
            next: cx.target(&d.next),
        },
        RawKind::Ask(d) => NodeKind::Ask(Box::new(ask(cx, d))),
        RawKind::Llm(d) => NodeKind::Llm(Box::new(llm(cx, d))),
        RawKind::Tool(d) => NodeKind::Tool(Box::new(tool(cx, d))),
        RawKind::Branch(d) => NodeKind::Branch {
            cases: d
                .cases
                .iter()
                .filter_map(|c| Some((cx.expr(&c.when, Some(VarType::Bool))?, cx.target(&c.goto))))
                .collect(),
            otherwise: cx.target(&d.otherwise),
        },
        RawKind::Transfer(d) => NodeKind::Transfer {
            target: cx.template(&d.target).unwrap_or_default(),
            say: cx.opt_template(d.say.as_ref()),
        },
        RawKind::Escalate(d) => NodeKind::Escalate(Box::new(escalate(cx, d))),
        RawKind::Voicemail(d) => NodeKind::Voicemail {
            message: match &d.message {
                Some(m) => cx.template(m).unwrap_or_default(),
                None => Template::default(),
            },
        },
        RawKind::End(d) => NodeKind::End(Box::new(script::End {
            say: cx.opt_template(d.say.as_ref()),
            disposition: d.disposition,
            outcome: d.outcome.clone(),
            schedule: d.schedule.iter().filter_map(|s| cx.schedule(s)).collect(),
        })),
    };
    (cx.sink.diags.len() == before).then(|| script::Node {
        id: raw.id.value.clone(),
        pos: raw.pos,
        set,
        kind,
    })
}

fn phrases(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|p| normalize(p))
        .filter(|p| !p.is_empty())
        .collect()
}

fn edges(cx: &mut Cx, docs: &[EdgeDoc]) -> Vec<Edge> {
    docs.iter()
        .map(|e| Edge {
            when: e
                .when
                .as_ref()
                .and_then(|w| cx.expr(w, Some(VarType::Bool))),
            when_src: e.when.as_ref().map(|w| w.value.clone()),
            phrases: phrases(&e.phrases),
            regex: e.regex.as_ref().and_then(|r| cx.regex(r)),
            dtmf: e.dtmf.clone(),
            say: cx.opt_template(e.say.as_ref()),
            goto: cx.target(&e.goto),
        })
        .collect()
}

fn ask(cx: &mut Cx, d: &AskDoc) -> script::Ask {
    let expect = match d.expect {
        SlotKind::YesNo => SlotSpec::YesNo,
        SlotKind::Rating => SlotSpec::Rating {
            min: d.min.unwrap_or(1),
            max: d.max.unwrap_or(5),
        },
        SlotKind::Number => SlotSpec::Number {
            min: d.min,
            max: d.max,
        },
        SlotKind::Choice => {
            if d.options.is_empty() {
                cx.sink.push(
                    d.slot.pos,
                    DiagKind::BadValue,
                    "a `choice` slot needs `options`",
                );
            }
            SlotSpec::Choice(
                d.options
                    .iter()
                    .map(|(k, syn)| (k.clone(), phrases(syn)))
                    .collect(),
            )
        }
        SlotKind::Datetime => SlotSpec::Datetime,
        SlotKind::Text => SlotSpec::Text,
        SlotKind::Phone => SlotSpec::Phone,
        SlotKind::Email => SlotSpec::Email,
    };
    if let SlotSpec::Rating { min, max } = expect {
        if min >= max {
            cx.sink.push(
                d.slot.pos,
                DiagKind::BadValue,
                format!("rating range {min}..{max} is empty"),
            );
        }
    }
    let want = match d.expect {
        SlotKind::YesNo => VarType::Bool,
        SlotKind::Rating | SlotKind::Number => VarType::Int,
        SlotKind::Datetime => VarType::Datetime,
        _ => VarType::String,
    };
    match cx.vars.get(&d.slot.value).map(|v| v.ty) {
        None if cx.vars_known => {
            let msg = format!("slot `{}` is not a declared variable", d.slot.value);
            cx.sink.push(d.slot.pos, DiagKind::UndeclaredVariable, msg);
        }
        Some(t) if t != want && !(want == VarType::Int && t == VarType::Float) => {
            let msg = format!(
                "`{}` slot stores {want} but `{}` is declared {t}",
                kind_name(d.expect),
                d.slot.value
            );
            cx.sink.push(d.slot.pos, DiagKind::TypeMismatch, msg);
        }
        _ => {}
    }
    let next = cx.target(&d.next);
    script::Ask {
        prompt: cx.template(&d.prompt).unwrap_or_default(),
        slot: d.slot.value.clone(),
        expect,
        reprompt: cx.opt_template(d.reprompt.as_ref()),
        max_retries: d.max_retries,
        no_input_timeout: d.no_input_timeout.as_ref().and_then(|t| cx.duration(t)),
        endpointing: d.endpointing.unwrap_or(match d.expect {
            SlotKind::YesNo | SlotKind::Rating | SlotKind::Number | SlotKind::Choice => {
                Endpointing::Short
            }
            SlotKind::Text => Endpointing::Long,
            _ => Endpointing::Normal,
        }),
        interruptible: d.interruptible,
        handlers: d.handlers,
        llm_fallback: d.llm_fallback,
        routes: edges(cx, &d.routes),
        next,
        on_no_match: d.on_no_match.as_ref().map_or(next, |t| cx.target(t)),
        on_no_input: d.on_no_input.as_ref().map_or(next, |t| cx.target(t)),
    }
}

fn kind_name(k: SlotKind) -> &'static str {
    match k {
        SlotKind::YesNo => "yes_no",
        SlotKind::Rating => "rating",
        SlotKind::Number => "number",
        SlotKind::Choice => "choice",
        SlotKind::Datetime => "datetime",
        SlotKind::Text => "text",
        SlotKind::Phone => "phone",
        SlotKind::Email => "email",
    }
}

fn llm(cx: &mut Cx, d: &LlmDoc) -> script::Llm {
    let next = cx.target(&d.next);
    script::Llm {
        prompt: cx.opt_template(d.prompt.as_ref()),
        system: cx.opt_template(d.system.as_ref()),
        goal: cx.template(&d.goal).unwrap_or_default(),
        tools: d.tools.clone(),
        max_turns: d.max_turns.max(1),
        verdicts: d
            .verdicts
            .iter()
            .map(|(k, t)| (k.clone(), cx.target(t)))
            .collect(),
        routes: edges(cx, &d.routes),
        answers: d
            .answers
            .iter()
            .map(|a| script::Answer {
                phrases: phrases(&a.phrases),
                say: cx.template(&a.say).unwrap_or_default(),
            })
            .collect(),
        fallback: cx.opt_template(d.fallback.as_ref()),
        no_input_timeout: d.no_input_timeout.as_ref().and_then(|t| cx.duration(t)),
        endpointing: d.endpointing.unwrap_or(Endpointing::Long),
        next,
        on_error: d.on_error.as_ref().map_or(next, |t| cx.target(t)),
    }
}

fn tool(cx: &mut Cx, d: &ToolDoc) -> script::Tool {
    if let Some(body) = &d.body {
        check_json_templates(cx, &body.value, body.pos);
    }
    let result = d
        .result
        .iter()
        .filter_map(|(var, ptr)| {
            if !cx.vars.contains_key(var) && cx.vars_known {
                let msg = format!("`result` maps into undeclared variable `{var}`");
                cx.sink.push(ptr.pos, DiagKind::UndeclaredVariable, msg);
                return None;
            }
            if !(ptr.value.is_empty() || ptr.value.starts_with('/')) {
                let msg = format!("`{}` is not a JSON pointer (write /field/sub)", ptr.value);
                cx.sink.push(ptr.pos, DiagKind::BadValue, msg);
                return None;
            }
            Some((var.clone(), ptr.value.clone()))
        })
        .collect();
    script::Tool {
        method: d.method,
        url: cx.template(&d.url).unwrap_or_default(),
        headers: d
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), cx.template(v)?)))
            .collect(),
        secret_headers: d
            .secret_headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        body: d.body.as_ref().map(|b| b.value.clone()),
        timeout: cx.duration_or(d.timeout.as_ref(), Duration::from_secs(10)),
        result,
        say: cx.opt_template(d.say.as_ref()),
        next: cx.target(&d.next),
        on_error: cx.target(&d.on_error),
    }
}

fn check_json_templates(cx: &mut Cx, v: &serde_json::Value, pos: Pos) {
    match v {
        serde_json::Value::String(s) => {
            let _ = cx.template(&Spanned {
                pos,
                value: s.clone(),
            });
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| check_json_templates(cx, x, pos)),
        serde_json::Value::Object(o) => o.values().for_each(|x| check_json_templates(cx, x, pos)),
        _ => {}
    }
}

fn escalate(cx: &mut Cx, d: &EscalateDoc) -> script::Escalate {
    script::Escalate {
        reason: cx.template(&d.reason).unwrap_or_default(),
        priority: d.priority,
        wait: cx.duration_or(d.wait.as_ref(), Duration::from_secs(300)),
        say_waiting: cx.template(&d.say_waiting).unwrap_or_default(),
        remind_every: d.remind_every.as_ref().and_then(|s| cx.duration(s)),
        still_waiting_say: cx
            .template(d.still_waiting_say.as_ref().unwrap_or(&d.say_waiting))
            .unwrap_or_default(),
        on_join_say: cx.template(&d.on_join_say).unwrap_or_default(),
        briefing: cx.template(&d.briefing).unwrap_or_default(),
        after_join: d.after_join,
        on_timeout_say: cx.template(&d.on_timeout_say).unwrap_or_default(),
        callback_within: cx.duration_or(d.callback_within.as_ref(), Duration::from_secs(1800)),
        outside_hours_say: cx.template(&d.outside_hours_say).unwrap_or_default(),
        follow_up_within: cx.duration_or(d.follow_up_within.as_ref(), Duration::from_secs(86_400)),
        joined: cx.target(&d.joined),
        timeout: cx.target(&d.timeout),
        outside_hours: cx.target(&d.outside_hours),
    }
}

/// Built-in phrases for handlers that may omit `phrases`.
fn default_phrases(kind: HandlerKind) -> &'static [&'static str] {
    match kind {
        HandlerKind::Human => &[
            "talk to a human",
            "speak to a human",
            "talk to a person",
            "speak to a person",
            "real person",
            "human being",
            "talk to someone",
            "speak to someone",
            "speak to an agent",
            "talk to an agent",
            "speak to a representative",
            "representative",
            "operator",
            "live agent",
        ],
        HandlerKind::Dnc => &[
            "dont call me again",
            "do not call me again",
            "stop calling",
            "never call",
            "remove me from your list",
            "take me off your list",
            "put me on your do not call list",
            "do not call list",
            "dont ever call",
            "lose my number",
        ],
        HandlerKind::Callback => &[
            "call me back",
            "call back",
            "call me later",
            "call me tomorrow",
            "not a good time",
            "bad time",
            "try me later",
            "ring me back",
        ],
        HandlerKind::Repeat => &[
            "say that again",
            "repeat that",
            "can you repeat",
            "could you repeat",
            "please repeat",
            "pardon",
            "come again",
            "what did you say",
            "sorry what",
            "i didnt catch that",
            "didnt hear you",
        ],
        _ => &[],
    }
}

pub(crate) fn compile_handler(cx: &mut Cx, pos: Pos, d: &HandlerDoc) -> Option<Handler> {
    let before = cx.sink.diags.len();
    let mut phr = phrases(&d.phrases);
    if phr.is_empty() {
        phr = default_phrases(d.kind)
            .iter()
            .map(|p| (*p).to_string())
            .collect();
    }
    let needs_phrases = matches!(d.kind, HandlerKind::Objection);
    if needs_phrases && d.phrases.is_empty() && d.regex.is_none() {
        cx.sink.push(
            pos,
            DiagKind::BadValue,
            "an objection handler needs `phrases` or `regex`",
        );
    }
    if d.kind == HandlerKind::Objection && d.say.is_none() {
        cx.sink
            .push(pos, DiagKind::BadValue, "an objection handler needs `say`");
    }
    if matches!(d.kind, HandlerKind::Human | HandlerKind::Sentiment) && d.goto.is_none() {
        cx.sink.push(
            pos,
            DiagKind::BadValue,
            "this handler needs `goto` (usually the escalate node)",
        );
    }
    if d.limit.is_some() != d.on_limit.is_some() {
        cx.sink.push(
            pos,
            DiagKind::BadValue,
            "`limit` and `on_limit` go together",
        );
    }
    let h = Handler {
        kind: d.kind,
        name: d
            .name
            .clone()
            .unwrap_or_else(|| format!("{:?}", d.kind).to_lowercase()),
        phrases: phr,
        regex: d.regex.as_ref().and_then(|r| cx.regex(r)),
        say: cx.opt_template(d.say.as_ref()),
        ask_time: cx.opt_template(d.ask_time.as_ref()),
        default_delay: cx.duration_or(d.default_delay.as_ref(), Duration::from_secs(86_400)),
        goto: d.goto.as_ref().map(|g| cx.target(g)),
        limit: d.limit,
        on_limit: d.on_limit.as_ref().map(|g| cx.target(g)),
        after: d.after.unwrap_or(3).max(1),
        below: d.below.unwrap_or(-0.5),
        disposition: d.disposition,
        outcome: d.outcome.clone(),
    };
    (cx.sink.diags.len() == before).then_some(h)
}
