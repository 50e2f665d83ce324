//! Conversation tests: YAML files (`<script>.test.yaml`) next to each script, replayed
//! against the engine on a simulated clock. Used by `switchboard test` and by the crate's
//! own test that runs every shipped conversation.
//!
//! ```yaml
//! script: survey.yaml            # default: this file's name without `.test`
//! start: 2025-01-15T15:00:00Z    # the simulated clock at dial time (default shown)
//! vars: { first_name: Dana }     # job variables for every case
//! cases:
//!   - name: happy path
//!     vars: {}                   # merged over the file's vars
//!     answer: true               # false: the call is never answered
//!     steps:
//!       - agent: "issue resolved"          # next agent line containing this (case-insensitive)
//!       - agent: { regex: "1 to 5" }       # ... or matching this regex
//!       - user: "yeah it was"              # or { text: "...", confidence: 0.5 }
//!       - silence                          # no input
//!       - dtmf: "5"
//!       - wait: 30s                        # clock jump; due timers fire
//!       - human_joins: agent-7
//!       - tool: { ok: { id: 42 } }         # or { error: "timeout" }
//!       - llm: { reply: "Sure.", verdict: resolved }   # or { error: "..." }
//!       - sentiment: -0.8
//!       - voicemail
//!       - hangup                           # the caller hangs up
//!       - expect: { node: q_rating, slots: { problem_solved: true } }
//!     end:
//!       disposition: reached
//!       outcome: completed
//!       reason: completed
//!       slots: { experience_rating: 4 }
//!       scheduled: [{ kind: sms, reason: survey_fallback, after: 0s }]
//!       not_said: ["sorry"]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::engine::{Event, LlmOutcome, ToolResult};
use crate::script::{ActionKind, Disposition, Script};
use crate::sim::Sim;
use crate::yaml::{from_node, parse};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    script: Option<String>,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    vars: BTreeMap<String, serde_json::Value>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    vars: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    start: Option<String>,
    #[serde(default = "yes")]
    answer: bool,
    #[serde(default)]
    steps: Vec<Step>,
    #[serde(default)]
    end: Option<EndExpect>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Step {
    Agent(LineMatch),
    User(UserLine),
    Silence,
    Dtmf(String),
    Wait(String),
    HumanJoins(String),
    Tool(ToolStep),
    Llm(LlmStep),
    Sentiment(f32),
    Voicemail,
    Hangup,
    Expect(Expect),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum LineMatch {
    Text(String),
    Regex { regex: String },
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum UserLine {
    Text(String),
    Full { text: String, confidence: f32 },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
struct ToolStep {
    #[serde(default)]
    ok: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LlmStep {
    #[serde(default)]
    reply: Option<String>,
    #[serde(default)]
    verdict: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    slots: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    vars: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    ended: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndExpect {
    #[serde(default)]
    disposition: Option<Disposition>,
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    reason: Option<crate::engine::EndReason>,
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    slots: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    scheduled: Vec<SchedExpect>,
    #[serde(default)]
    said: Vec<String>,
    #[serde(default)]
    not_said: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchedExpect {
    kind: ActionKind,
    #[serde(default)]
    reason: Option<String>,
    /// Offset from the case's start time.
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    at: Option<String>,
}

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseReport {
    pub file: String,
    pub case: String,
    /// `None` when the case passed; otherwise a diff-style explanation.
    pub failure: Option<String>,
}

/// Finds the script a test file is about.
fn script_path(test: &Path, declared: Option<&str>) -> PathBuf {
    let dir = test.parent().unwrap_or(Path::new("."));
    match declared {
        Some(s) => dir.join(s),
        None => {
            let name = test.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let stem = name
                .trim_end_matches(".yaml")
                .trim_end_matches(".yml")
                .trim_end_matches(".test");
            dir.join(format!("{stem}.yaml"))
        }
    }
}

/// Runs one conversation file. Scripts are compiled once per file. Errors reading the file or
/// compiling its script are reported as a single failed pseudo-case.
pub fn run_file(path: &Path) -> Vec<CaseReport> {
    let file = path.display().to_string();
    let fail = |case: &str, msg: String| {
        vec![CaseReport {
            file: file.clone(),
            case: case.into(),
            failure: Some(msg),
        }]
    };
    let src = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => return fail("(file)", format!("cannot read: {e}")),
    };
    let tf: TestFile = match parse(&src) {
        Err(e) => {
            return fail(
                "(file)",
                format!("{file}:{}:{}: {}", e.pos.line, e.pos.col, e.message),
            )
        }
        Ok((root, _)) => match from_node(&root) {
            Ok(t) => t,
            Err(e) => {
                let p = e.pos.unwrap_or_default();
                return fail(
                    "(file)",
                    format!("{file}:{}:{}: {}", p.line, p.col, e.message),
                );
            }
        },
    };
    let spath = script_path(path, tf.script.as_deref());
    let script = match crate::load_file(&spath) {
        Ok(s) => Arc::new(s),
        Err(d) => {
            let msgs: Vec<String> = d.iter().map(ToString::to_string).collect();
            return fail("(script)", msgs.join("\n"));
        }
    };
    tf.cases
        .iter()
        .map(|c| {
            let start = c.start.as_deref().or(tf.start.as_deref());
            let failure = run_case(&script, &tf.vars, c, start).err();
            CaseReport {
                file: file.clone(),
                case: c.name.clone(),
                failure,
            }
        })
        .collect()
}

fn parse_time(s: Option<&str>) -> Result<DateTime<Utc>, String> {
    let s = s.unwrap_or("2025-01-15T15:00:00Z");
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("bad time `{s}`: {e}"))
}

fn run_case(
    script: &Arc<Script>,
    file_vars: &BTreeMap<String, serde_json::Value>,
    case: &Case,
    start: Option<&str>,
) -> Result<(), String> {
    let start = parse_time(start)?;
    let mut vars = file_vars.clone();
    vars.extend(case.vars.clone());
    let mut sim = Sim::new(script.clone(), &vars, start);
    if case.answer {
        sim.answer();
    }
    let mut cursor = 0usize; // lines before this index were matched or skipped
    for (i, step) in case.steps.iter().enumerate() {
        let at = |m: String| format!("step {} ({}): {m}", i + 1, step_name(step));
        match step {
            Step::Agent(m) => {
                let found = sim.said[cursor..]
                    .iter()
                    .position(|l| line_matches(m, l))
                    .map(|p| p + cursor);
                match found {
                    Some(p) => cursor = p + 1,
                    None => return Err(at(diff_lines(m, &sim.said[cursor..]))),
                }
            }
            Step::User(u) => {
                cursor = sim.said.len();
                match u {
                    UserLine::Text(t) => sim.user(t, 0.95),
                    UserLine::Full { text, confidence } => sim.user(text, *confidence),
                };
            }
            Step::Silence => {
                cursor = sim.said.len();
                sim.silence();
            }
            Step::Dtmf(d) => {
                cursor = sim.said.len();
                let c = d.chars().next().ok_or_else(|| at("empty dtmf".into()))?;
                sim.dtmf(c);
            }
            Step::Wait(d) => {
                let dur = crate::duration::parse_duration(d)
                    .ok_or_else(|| at(format!("bad duration `{d}`")))?;
                sim.wait(dur);
            }
            Step::HumanJoins(who) => {
                sim.human_joins(who);
            }
            Step::Tool(t) => {
                let result = match (&t.ok, &t.error) {
                    (_, Some(e)) => ToolResult::Error { message: e.clone() },
                    (Some(b), None) => ToolResult::Ok { body: b.clone() },
                    (None, None) => ToolResult::Ok {
                        body: serde_json::Value::Null,
                    },
                };
                sim.tool(result)
                    .ok_or_else(|| at("no tool call is pending".into()))?;
            }
            Step::Llm(l) => {
                let outcome = match &l.error {
                    Some(e) => LlmOutcome::Failed { error: e.clone() },
                    None => LlmOutcome::Reply {
                        text: l.reply.clone().unwrap_or_default(),
                        verdict: l.verdict.clone(),
                    },
                };
                sim.llm(outcome)
                    .ok_or_else(|| at("no LLM request is pending".into()))?;
            }
            Step::Sentiment(s) => {
                sim.sentiment(*s);
            }
            Step::Voicemail => {
                sim.send(Event::VoicemailDetected { now: sim.now });
            }
            Step::Hangup => {
                sim.send(Event::CallerHungUp { now: sim.now });
            }
            Step::Expect(e) => check_expect(&sim, e).map_err(at)?,
        }
    }
    if let Some(end) = &case.end {
        check_end(&sim, end, start)?;
    }
    Ok(())
}

fn step_name(s: &Step) -> &'static str {
    match s {
        Step::Agent(_) => "agent",
        Step::User(_) => "user",
        Step::Silence => "silence",
        Step::Dtmf(_) => "dtmf",
        Step::Wait(_) => "wait",
        Step::HumanJoins(_) => "human_joins",
        Step::Tool(_) => "tool",
        Step::Llm(_) => "llm",
        Step::Sentiment(_) => "sentiment",
        Step::Voicemail => "voicemail",
        Step::Hangup => "hangup",
        Step::Expect(_) => "expect",
    }
}

fn line_matches(m: &LineMatch, line: &str) -> bool {
    match m {
        LineMatch::Text(t) => line.to_lowercase().contains(&t.to_lowercase()),
        LineMatch::Regex { regex } => regex::Regex::new(regex).is_ok_and(|r| r.is_match(line)),
    }
}

fn diff_lines(m: &LineMatch, lines: &[String]) -> String {
    let want = match m {
        LineMatch::Text(t) => format!("\"{t}\""),
        LineMatch::Regex { regex } => format!("/{regex}/"),
    };
    let mut s = format!("no agent line matched\n  - expected: {want}\n");
    if lines.is_empty() {
        s.push_str("  + (the agent said nothing new)");
    }
    for l in lines {
        s.push_str(&format!("  + said: \"{l}\"\n"));
    }
    s.trim_end().to_string()
}

fn check_slots(
    sim: &Sim,
    slots: &BTreeMap<String, serde_json::Value>,
    from_vars: bool,
) -> Result<(), String> {
    let st = sim.engine.state();
    let mut errs = Vec::new();
    for (k, want) in slots {
        let have = if from_vars {
            st.vars.get(k)
        } else {
            st.answers.get(k)
        };
        let have = have
            .map(crate::value::Value::to_json)
            .unwrap_or(serde_json::Value::Null);
        if &have != want {
            errs.push(format!("  - {k}: {want}\n  + {k}: {have}"));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} differ\n{}",
            if from_vars { "variables" } else { "slots" },
            errs.join("\n")
        ))
    }
}

fn check_expect(sim: &Sim, e: &Expect) -> Result<(), String> {
    let st = sim.engine.state();
    if let Some(n) = &e.node {
        if st.node.as_deref() != Some(n) {
            return Err(format!(
                "node differs\n  - {n}\n  + {}\n  path: {}",
                st.node.as_deref().unwrap_or("(none)"),
                sim.path.join(" → ")
            ));
        }
    }
    if let Some(ended) = e.ended {
        if sim.engine.is_ended() != ended {
            return Err(format!(
                "ended differs\n  - {ended}\n  + {}",
                sim.engine.is_ended()
            ));
        }
    }
    check_slots(sim, &e.slots, false)?;
    check_slots(sim, &e.vars, true)
}

fn check_end(sim: &Sim, end: &EndExpect, start: DateTime<Utc>) -> Result<(), String> {
    let st = sim.engine.state();
    let Some(info) = &st.end else {
        return Err(format!(
            "the call did not end\n  at node {}\n  path: {}\n  last lines: {:?}",
            st.node.as_deref().unwrap_or("(none)"),
            sim.path.join(" → "),
            sim.said.iter().rev().take(3).rev().collect::<Vec<_>>()
        ));
    };
    let mut errs = Vec::new();
    if let Some(d) = end.disposition {
        if d != info.disposition {
            errs.push(format!(
                "  - disposition: {d:?}\n  + disposition: {:?}",
                info.disposition
            ));
        }
    }
    if let Some(o) = &end.outcome {
        if Some(o) != info.outcome.as_ref() {
            errs.push(format!(
                "  - outcome: {o}\n  + outcome: {}",
                info.outcome.as_deref().unwrap_or("(none)")
            ));
        }
    }
    if let Some(r) = end.reason {
        if r != info.reason {
            errs.push(format!("  - reason: {r:?}\n  + reason: {:?}", info.reason));
        }
    }
    if let Some(n) = &end.node {
        if st.node.as_deref() != Some(n) {
            errs.push(format!(
                "  - node: {n}\n  + node: {}",
                st.node.as_deref().unwrap_or("(none)")
            ));
        }
    }
    if let Err(e) = check_slots(sim, &end.slots, false) {
        errs.push(e);
    }
    for s in &end.scheduled {
        let want_at = match (&s.at, &s.after) {
            (Some(a), _) => Some(parse_time(Some(a))?),
            (None, Some(a)) => {
                let d = crate::duration::parse_duration(a).ok_or(format!("bad duration `{a}`"))?;
                Some(start + chrono::Duration::milliseconds(d.as_millis() as i64))
            }
            _ => None,
        };
        let hit = sim.scheduled.iter().any(|x| {
            x.kind == s.kind
                && s.reason.as_ref().is_none_or(|r| *r == x.reason)
                && want_at.is_none_or(|t| t == x.at)
        });
        if !hit {
            let have: Vec<String> = sim
                .scheduled
                .iter()
                .map(|x| format!("{:?} {} at {}", x.kind, x.reason, x.at.to_rfc3339()))
                .collect();
            errs.push(format!(
                "  - scheduled: {:?} {} at {}\n  + scheduled: [{}]",
                s.kind,
                s.reason.as_deref().unwrap_or("*"),
                want_at.map_or("*".into(), |t| t.to_rfc3339()),
                have.join(", ")
            ));
        }
    }
    for want in &end.said {
        if !sim
            .said
            .iter()
            .any(|l| l.to_lowercase().contains(&want.to_lowercase()))
        {
            errs.push(format!("  - said: \"{want}\"\n  + (never said)"));
        }
    }
    for bad in &end.not_said {
        if let Some(l) = sim
            .said
            .iter()
            .find(|l| l.to_lowercase().contains(&bad.to_lowercase()))
        {
            errs.push(format!("  - not said: \"{bad}\"\n  + said: \"{l}\""));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "end of call differs (path: {})\n{}",
            sim.path.join(" → "),
            errs.join("\n")
        ))
    }
}
