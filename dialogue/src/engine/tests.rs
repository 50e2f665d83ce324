use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::*;
use crate::compile;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-01-15T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

const LLM: &str = r#"
version: 1
id: t.llm
variables: {}
nodes:
  - id: chat
    type: llm
    prompt: "Ask me anything."
    goal: "help"
    max_turns: 3
    verdicts: { done: bye }
    next: bye
  - id: bye
    type: end
    say: "Bye."
"#;

fn engine(src: &str) -> Engine {
    let s = Arc::new(compile("t.yaml", src).expect("compiles"));
    let (mut e, _) = Engine::new(s, &BTreeMap::new(), t0());
    e.step(Event::Answered { now: t0() });
    e
}

fn request_id(effects: &[Effect]) -> Id {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::RequestLlm { request_id, .. } => Some(*request_id),
            _ => None,
        })
        .expect("an LLM request")
}

#[test]
fn superseded_and_late_llm_results_are_discarded() {
    let mut e = engine(LLM);
    let first = request_id(&e.step(Event::UserSaid {
        text: "what is it".into(),
        confidence: 0.9,
        now: t0(),
    }));
    let second = request_id(&e.step(Event::UserSaid {
        text: "hello?".into(),
        confidence: 0.9,
        now: t0(),
    }));
    assert_ne!(first, second);
    let stale = e.step(Event::LlmFinished {
        request_id: first,
        outcome: LlmOutcome::Reply {
            text: "old".into(),
            verdict: Some("done".into()),
        },
        now: t0(),
    });
    assert!(
        stale.is_empty(),
        "a superseded request is ignored: {stale:?}"
    );
    let fresh = e.step(Event::LlmFinished {
        request_id: second,
        outcome: LlmOutcome::Reply {
            text: "It is a demo.".into(),
            verdict: None,
        },
        now: t0(),
    });
    assert!(
        matches!(&fresh[0], Effect::Say { text, .. } if text == "It is a demo."),
        "{fresh:?}"
    );
    // Leave the node via a verdict, then a late reply for it is discarded too.
    let third = request_id(&e.step(Event::UserSaid {
        text: "ok".into(),
        confidence: 0.9,
        now: t0(),
    }));
    e.step(Event::LlmFinished {
        request_id: third,
        outcome: LlmOutcome::Reply {
            text: "Done.".into(),
            verdict: Some("done".into()),
        },
        now: t0(),
    });
    assert!(e.is_ended());
    let late = e.step(Event::LlmFinished {
        request_id: third,
        outcome: LlmOutcome::Reply {
            text: "x".into(),
            verdict: None,
        },
        now: t0(),
    });
    assert!(late.is_empty());
}

#[test]
fn state_round_trips_through_json_and_resumes() {
    let survey = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/survey.yaml"
    ))
    .unwrap();
    let script = Arc::new(compile("survey.yaml", &survey).unwrap());
    let (mut e, _) = Engine::new(script.clone(), &BTreeMap::new(), t0());
    e.step(Event::Answered { now: t0() });
    e.step(Event::UserSaid {
        text: "yes".into(),
        confidence: 0.9,
        now: t0(),
    });
    let json = serde_json::to_string(e.state()).unwrap();
    let state: EngineState = serde_json::from_str(&json).unwrap();
    assert_eq!(&state, e.state());
    let mut resumed = Engine::restore(script.clone(), state).unwrap();
    let a = resumed.step(Event::UserSaid {
        text: "four".into(),
        confidence: 0.9,
        now: t0(),
    });
    let b = e.step(Event::UserSaid {
        text: "four".into(),
        confidence: 0.9,
        now: t0(),
    });
    assert_eq!(a, b, "a resumed engine behaves exactly like the original");
    let other =
        Arc::new(compile("survey.yaml", &survey.replace("Have a great day.", "Bye.")).unwrap());
    assert!(matches!(
        Engine::restore(other, e.state().clone()),
        Err(RestoreError::WrongVersion { .. })
    ));
}

#[test]
fn effects_order_on_answer_is_timer_consent_then_node() {
    let src = LLM.replace(
        "variables: {}",
        "variables: {}\nmax_duration: 60s\nconsent_notice: \"This call is recorded.\"",
    );
    let s = Arc::new(compile("t.yaml", &src).unwrap());
    let (mut e, start) = Engine::new(s, &BTreeMap::new(), t0());
    assert!(start.is_empty(), "no answer timeout configured");
    let fx = e.step(Event::Answered { now: t0() });
    assert!(matches!(fx[0], Effect::SetAnswer { .. }));
    assert!(matches!(
        fx[1],
        Effect::StartTimer {
            after_ms: 60_000,
            ..
        }
    ));
    assert!(
        matches!(&fx[2], Effect::Say { text, interruptible: false, .. } if text == "This call is recorded.")
    );
    assert!(matches!(&fx[3], Effect::NodeEntered { id, .. } if id == "chat"));
    assert!(matches!(fx.last(), Some(Effect::Listen { .. })));
}

const ASK: &str = r#"
version: 1
id: t.ask
variables:
  ok: { type: bool }
  note: { type: string }
nodes:
  - id: q
    type: ask
    prompt: "Did that work?"
    expect: yes_no
    slot: ok
    next: open
  - id: open
    type: ask
    prompt: "Anything else?"
    expect: text
    slot: note
    next: bye
  - id: bye
    type: end
"#;

#[test]
fn a_closed_answer_completes_the_turn_and_free_text_never_does() {
    let mut e = engine(ASK);
    assert!(e.completes_answer("yeah it did"));
    assert!(!e.completes_answer("well let me think about"));
    e.step(Event::UserSaid {
        text: "yes".into(),
        confidence: 0.9,
        now: t0(),
    });
    assert!(
        !e.completes_answer("no that's all"),
        "open questions wait for the silence"
    );
}

/// An escalation at any hour whose node says what the AI does once a human joined.
fn escalation(after_join: &str) -> String {
    let days: String = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .map(|d| format!("  {d}: [\"00:00-23:59\"]\n"))
    .collect();
    format!(
        r#"
version: 1
id: t.escalate
variables: {{}}
service_hours:
  timezone: UTC
{days}nodes:
  - id: escalate
    type: escalate
    reason: "help"
    say_waiting: "Please hold."
    on_join_say: "Connected."
    briefing: "Briefing."
    {after_join}
    on_timeout_say: "Later."
    outside_hours_say: "Closed."
    joined: handed_over
    timeout: handed_over
    outside_hours: handed_over
  - id: handed_over
    type: end
    outcome: escalated
"#
    )
}

#[test]
fn a_human_joining_hands_the_call_over_before_it_ends() {
    for (after_join, listen) in [("", false), ("after_join: listen", true)] {
        let mut e = engine(&escalation(after_join));
        let out = e.step(Event::HumanJoined {
            identity: "agent-7".into(),
            now: t0(),
        });
        let said: Vec<&str> = out
            .iter()
            .filter_map(|e| match e {
                Effect::Say { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(said, ["Connected.", "Briefing."], "{out:?}");
        let hand_over = out
            .iter()
            .position(|e| {
                *e == Effect::HandOver {
                    human: "agent-7".into(),
                    listen,
                }
            })
            .unwrap_or_else(|| panic!("no hand-over with listen={listen}: {out:?}"));
        let hangup = out
            .iter()
            .position(|e| matches!(e, Effect::Hangup { .. }))
            .expect("the end node hangs up");
        assert!(hand_over < hangup, "{out:?}");
    }
}

/// The timer ids started among `effects`.
fn timers(effects: &[Effect]) -> Vec<Id> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::StartTimer { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

#[test]
fn a_waiting_caller_is_reminded_until_a_human_joins() {
    let s = Arc::new(compile("t.yaml", &escalation("remind_every: 20s")).expect("compiles"));
    let (mut e, _) = Engine::new(s, &BTreeMap::new(), t0());
    let started = timers(&e.step(Event::Answered { now: t0() }));
    let mut said = Vec::new();
    let mut reminder = *started.last().expect("timers");
    for _ in 0..2 {
        let out = e.step(Event::TimerFired {
            id: reminder,
            now: t0(),
        });
        said.extend(out.iter().filter_map(|e| match e {
            Effect::Say { text, .. } => Some(text.clone()),
            _ => None,
        }));
        reminder = *timers(&out).first().expect("the reminder restarts");
    }
    assert_eq!(said, ["Please hold.", "Please hold."]);
    let joined = e.step(Event::HumanJoined {
        identity: "agent-7".into(),
        now: t0(),
    });
    assert!(
        joined.contains(&Effect::CancelTimer { id: reminder }),
        "{joined:?}"
    );
    // A stale reminder says nothing.
    let late = e.step(Event::TimerFired {
        id: reminder,
        now: t0(),
    });
    assert!(
        !late.iter().any(|e| matches!(e, Effect::Say { .. })),
        "{late:?}"
    );
}

#[test]
fn a_person_put_through_by_a_screener_hears_the_opening_again() {
    let src = LLM.replace(
        "variables: {}",
        "variables: {}\nmax_duration: 60s\nconsent_notice: \"This call is recorded.\"",
    );
    let s = Arc::new(compile("t.yaml", &src).unwrap());
    let (mut e, _) = Engine::new(s, &BTreeMap::new(), t0());
    let early = e.step(Event::PutThrough { now: t0() });
    assert!(early.is_empty(), "not answered yet: {early:?}");
    e.step(Event::Answered { now: t0() });
    // The screener's words went to answer detection; the opening's LLM turn was under way.
    let stale = request_id(&e.step(Event::UserSaid {
        text: "who is calling".into(),
        confidence: 0.9,
        now: t0(),
    }));
    let fx = e.step(Event::PutThrough { now: t0() });
    let said: Vec<&str> = fx
        .iter()
        .filter_map(|f| match f {
            Effect::Say { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        said,
        ["This call is recorded.", "Ask me anything."],
        "{fx:?}"
    );
    assert!(
        fx.iter()
            .any(|f| matches!(f, Effect::NodeEntered { id, visit: 2, .. } if id == "chat")),
        "{fx:?}"
    );
    assert!(
        !fx.iter().any(|f| matches!(f, Effect::StartTimer { .. })),
        "one max-duration timer per call: {fx:?}"
    );
    assert!(matches!(fx.last(), Some(Effect::Listen { .. })), "{fx:?}");
    let late = e.step(Event::LlmFinished {
        request_id: stale,
        outcome: LlmOutcome::Reply {
            text: "x".into(),
            verdict: None,
        },
        now: t0(),
    });
    assert!(
        late.is_empty(),
        "the screener's turn is not answered: {late:?}"
    );
}
