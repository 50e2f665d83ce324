//! A human agent taking a call over: by default the agent leaves once it has said the join
//! line and the briefing; a script's `after_join: listen` keeps it in the call, silent, still
//! transcribing the caller, until the caller hangs up or every human agent has left.

mod common;

use std::sync::Arc;

use common::*;
use switchboard::call::report::{CallReport, Speaker};
use switchboard::call::session::{run_call_with_signals, CallSignals, HumanSignal};
use switchboard::transport::local_call::{connect_local, Caller};
use switchboard::turn::TurnConfig;
use tokio::sync::mpsc;
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

/// The caller asks for help at 3 s and speaks again at 16 s; the caller hangs up at 30 s.
/// A human agent joins at 9 s and, if `leaves_at_ms` is set, leaves then.
async fn escalated_call(fixture: &str, leaves_at_ms: Option<u64>) -> CallReport {
    let conversation = fixture_conversation(fixture);
    let fakes = Fakes {
        stt: ScriptedStt::new(&["my internet is down", "thanks, the router light is red"]),
        llm: FakeLlm::new(LlmMode::Replies(Vec::new())),
        tts: Arc::new(ToneTts {
            mode: VoiceMode::Good,
            chunk_delay: Duration::ZERO,
        }),
    };
    let caller = caller_audio(&[(3_000, 1_200), (16_000, 1_500)], 30_000);
    let token = CancellationToken::new();
    let (media, session) = connect_local(
        Caller::Audio(caller),
        RATE,
        Some(Duration::from_millis(30_000)),
        &token,
    );
    let (humans_tx, humans) = mpsc::channel(4);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(9_000)).await;
        let _ = humans_tx.send(HumanSignal::Joined("agent-7".into())).await;
        if let Some(at) = leaves_at_ms {
            tokio::time::sleep(Duration::from_millis(at - 9_000)).await;
            let _ = humans_tx.send(HumanSignal::Left("agent-7".into())).await;
        }
        // Hold the channel open for the rest of the call.
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    let signals = CallSignals {
        humans: Some(humans),
        ..CallSignals::default()
    };
    let spec = spec(fakes, conversation, TurnConfig::default());
    let report = run_call_with_signals(spec, media, signals, &session.cancel).await;
    session.finish(report).await.report
}

fn lines(report: &CallReport, speaker: Speaker) -> Vec<String> {
    report
        .transcript
        .iter()
        .filter(|l| l.speaker == speaker)
        .map(|l| l.text.clone())
        .collect()
}

fn hand_over(report: &CallReport) -> serde_json::Value {
    report
        .records
        .iter()
        .find(|r| r.kind == "hand_over")
        .map(|r| r.detail.clone())
        .unwrap_or_else(|| panic!("no hand-over record: {:?}", report.records))
}

#[tokio::test(start_paused = true)]
async fn by_default_the_agent_leaves_after_briefing_the_human() {
    let report = escalated_call("escalate_always.yaml", None).await;
    let agent = lines(&report, Speaker::Agent);
    assert_eq!(
        agent.last().map(String::as_str),
        Some("Briefing: the caller said my internet is down."),
        "{agent:?}"
    );
    assert_eq!(hand_over(&report)["listen"], false);
    assert_eq!(lines(&report, Speaker::Caller), ["my internet is down"]);
    let outcome = report.outcome.expect("an outcome");
    assert_eq!(outcome.outcome.as_deref(), Some("escalated"));
    assert!(
        report.duration_ms < 16_000,
        "the agent stayed until {} ms",
        report.duration_ms
    );
}

#[tokio::test(start_paused = true)]
async fn a_listening_agent_stays_silent_and_transcribes_until_the_caller_leaves() {
    let report = escalated_call("escalate_listen.yaml", None).await;
    let agent = lines(&report, Speaker::Agent);
    assert_eq!(
        agent.last().map(String::as_str),
        Some("Briefing: the caller said my internet is down."),
        "the agent spoke after the hand-over: {agent:?}"
    );
    assert_eq!(hand_over(&report)["listen"], true);
    assert_eq!(
        lines(&report, Speaker::Caller),
        ["my internet is down", "thanks, the router light is red"],
        "what the caller said to the human was not transcribed"
    );
    // Only the caller's first turn is a turn the agent answered.
    assert_eq!(report.turns.len(), 1, "{:?}", report.turns);
    let outcome = report.outcome.expect("an outcome");
    assert_eq!(outcome.outcome.as_deref(), Some("escalated"));
    assert_eq!(outcome.disposition, "reached");
    assert!(
        report.duration_ms >= 29_000,
        "the call ended at {} ms, before the caller hung up",
        report.duration_ms
    );
}

#[tokio::test(start_paused = true)]
async fn a_listening_agent_leaves_when_the_last_human_does() {
    let report = escalated_call("escalate_listen.yaml", Some(20_000)).await;
    assert_eq!(
        lines(&report, Speaker::Caller),
        ["my internet is down", "thanks, the router light is red"]
    );
    assert_eq!(
        report.outcome.expect("an outcome").outcome.as_deref(),
        Some("escalated")
    );
    assert!(
        (20_000..25_000).contains(&report.duration_ms),
        "the call ended at {} ms, not when the human left at 20 s",
        report.duration_ms
    );
}
