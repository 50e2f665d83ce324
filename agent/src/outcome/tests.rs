use serde_json::json;

use super::*;
use crate::call::report::TranscriptLine;
use crate::conversation::{CallRecord, Outcome};

fn line(speaker: Speaker, text: &str) -> TranscriptLine {
    TranscriptLine {
        speaker,
        text: text.into(),
        start_ms: 0,
        end_ms: 0,
        interrupted: false,
        node: None,
    }
}

fn report(lines: &[(Speaker, &str)], outcome: Outcome) -> CallReport {
    CallReport {
        transcript: lines.iter().map(|(s, t)| line(*s, t)).collect(),
        outcome: Some(outcome),
        ..CallReport::default()
    }
}

#[test]
fn a_callback_call_gets_its_time_sentiment_and_summary() {
    let mut r = report(
        &[
            (Speaker::Agent, "Do you have two minutes?"),
            (
                Speaker::Caller,
                "Not now, I'm really busy, can you call me back tomorrow at 3?",
            ),
            (
                Speaker::Agent,
                "Perfect, I'll call you back tomorrow at 3pm.",
            ),
        ],
        Outcome::new("callback_requested", "completed"),
    );
    r.records.push(CallRecord {
        kind: "scheduled_action".into(),
        detail: json!({"kind": "call", "at": "2026-11-23T15:00:00Z", "reason": "callback_requested"}),
    });
    r.answers
        .insert("callback_at".into(), json!("2026-11-23T15:00:00Z"));
    let a = assess(&r, &AssessContext::default());
    assert_eq!(a.disposition, Disposition::CallbackRequested);
    assert_eq!(a.end_reason, EndReason::AgentEnded);
    assert_eq!(
        a.callback_at.map(|t| t.to_rfc3339()),
        Some("2026-11-23T15:00:00+00:00".to_string())
    );
    assert_eq!(a.line_sentiments.len(), 3);
    assert!(a.line_sentiments[0].is_none() && a.line_sentiments[2].is_none());
    assert!(
        a.summary.starts_with("Callback requested."),
        "{}",
        a.summary
    );
    assert!(
        a.summary.contains("callback_at: 2026-11-23T15:00:00Z"),
        "{}",
        a.summary
    );
    assert!(a.summary.contains("call me back tomorrow"), "{}", a.summary);
}

#[test]
fn a_voicemail_recorded_by_the_gate_scores_no_interest() {
    let mut r = report(
        &[(
            Speaker::Agent,
            "Hi Sam, this is Alex from Daily Event Insurance.",
        )],
        Outcome::new("voicemail", "voicemail"),
    );
    r.records.push(CallRecord {
        kind: ANSWER_RECORD.into(),
        detail: json!({"class": "voicemail", "reason": "beep after the greeting", "at_ms": 2100}),
    });
    let ctx = AssessContext {
        dial: Some(DialResult::Answered),
        ..AssessContext::default()
    };
    let a = assess(&r, &ctx);
    assert_eq!(a.answer, Some(AnswerClass::Voicemail));
    assert_eq!(
        (a.disposition, a.end_reason),
        (Disposition::Voicemail, EndReason::VoicemailLeft)
    );
    assert_eq!(a.interest_score, 0);
    assert_eq!(a.sentiment, Sentiment::NEUTRAL);
}

#[test]
fn an_interested_owner_scores_higher_than_a_not_interested_one() {
    let hot = report(
        &[
            (
                Speaker::Caller,
                "Yes, I'm the owner. How much does it cost?",
            ),
            (
                Speaker::Caller,
                "Great, we could start next month, sounds good.",
            ),
        ],
        Outcome::new("reached", "completed"),
    );
    let cold = report(
        &[(
            Speaker::Caller,
            "I'm the owner and I'm not interested, stop calling.",
        )],
        Outcome::new("not_interested", "completed"),
    );
    let (hot, cold) = (
        assess(&hot, &AssessContext::default()),
        assess(&cold, &AssessContext::default()),
    );
    assert!(hot.interest_score >= 60, "{hot:?}");
    assert!(cold.interest_score <= 15, "{cold:?}");
    assert!(hot.sentiment.score > 0.0 && cold.sentiment.score < 0.0);
    assert_eq!(cold.disposition, Disposition::NotInterested);
}

#[test]
fn the_llm_summary_wins_when_given() {
    let r = report(
        &[(Speaker::Caller, "hello?")],
        Outcome::new("reached", "caller_hung_up"),
    );
    let ctx = AssessContext {
        llm_summary: Some("Caller said hello and left.".into()),
        ..AssessContext::default()
    };
    let a = assess(&r, &ctx);
    assert_eq!(a.summary, "Caller said hello and left.");
    assert_eq!(a.end_reason, EndReason::CallerHungUp);
}

#[test]
fn the_llm_review_gives_summary_and_call_sentiment_lines_stay_offline() {
    let reply = "```json\n{\"summary\": \"Wants a demo on Friday.\", \"sentiment\": 0.7, \
                 \"confidence\": 0.9}\n```";
    let review = summary::parse_review(reply);
    assert_eq!(review.summary, "Wants a demo on Friday.");
    let sentiment = review.sentiment.expect("sentiment");
    assert_eq!((sentiment.score, sentiment.confidence), (0.7, 0.9));
    let r = report(
        &[(Speaker::Caller, "this is terrible, I hate it")],
        Outcome::new("reached", "caller_hung_up"),
    );
    let ctx = AssessContext {
        llm_summary: Some(review.summary),
        llm_sentiment: review.sentiment,
        ..AssessContext::default()
    };
    let a = assess(&r, &ctx);
    assert_eq!(a.sentiment, sentiment);
    assert!(a.line_sentiments[0].is_some_and(|s| s < 0.0), "{a:?}");
    // Out of range is clamped; no object means the reply is the summary and no sentiment.
    let wild = summary::parse_review("{\"summary\": \"x\", \"sentiment\": 7}");
    assert_eq!(
        wild.sentiment.map(|s| (s.score, s.confidence)),
        Some((1.0, 0.5))
    );
    let plain = summary::parse_review("Caller hung up early.");
    assert_eq!(
        (plain.summary.as_str(), plain.sentiment),
        ("Caller hung up early.", None)
    );
}
