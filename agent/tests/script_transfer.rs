//! A script's `transfer` node through the turn engine: the line before it plays out, then
//! the transport is asked to transfer; success ends the call as transferred, a refusal (or a
//! transport that cannot transfer) is told to the caller and ends the call as
//! `transfer_failed`, never a silent drop. A transfer the control API asks for happens at
//! once and is answered; when it fails the conversation goes on.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use switchboard::call::report::{CallReport, Speaker};
use switchboard::call::session::{run_call_with_signals, CallSignals};
use switchboard::transport::local_call::{connect_local, Caller};
use switchboard::turn::controller::TransferRequest;
use switchboard::turn::TurnConfig;
use tokio::sync::mpsc;
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

/// How the test's transport answers a transfer.
#[derive(Clone, Copy)]
enum Far {
    Accepts,
    Refuses,
    /// The transport has no transfer at all.
    CannotTransfer,
}

/// Runs the transfer fixture; returns the report and the targets (with the call ms at
/// which each was asked) the transport got.
async fn transfer_call(far: Far) -> (CallReport, Vec<(String, u64)>) {
    let (report, asked, _) = call("transfer.yaml", far, None).await;
    (report, asked)
}

/// Runs `fixture` against a silent caller on a transport that answers transfers as `far`;
/// with `api_at_ms`, the control API asks for a transfer to +15550999 then. Returns the
/// report, the transfers the transport got, and the API's answer.
async fn call(
    fixture: &str,
    far: Far,
    api_at_ms: Option<u64>,
) -> (CallReport, Vec<(String, u64)>, Option<Result<(), String>>) {
    let conversation = fixture_conversation(fixture);
    let fakes = Fakes {
        stt: ScriptedStt::new(&[]),
        llm: FakeLlm::new(LlmMode::Replies(Vec::new())),
        tts: Arc::new(ToneTts {
            mode: VoiceMode::Good,
            chunk_delay: Duration::ZERO,
        }),
    };
    let token = CancellationToken::new();
    let (media, session) = connect_local(
        Caller::Audio(caller_audio(&[], 60_000)),
        RATE,
        Some(Duration::from_millis(60_000)),
        &token,
    );
    let asked = Arc::new(Mutex::new(Vec::new()));
    let transfers = match far {
        Far::CannotTransfer => None,
        Far::Accepts | Far::Refuses => {
            let (tx, mut rx) = mpsc::channel::<TransferRequest>(1);
            let (asked, clock) = (asked.clone(), media.clock);
            tokio::spawn(async move {
                while let Some(request) = rx.recv().await {
                    asked
                        .lock()
                        .unwrap()
                        .push((request.target.clone(), clock.now_ms()));
                    // A REFER's answer takes a moment.
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    let result = match far {
                        Far::Accepts => Ok(()),
                        _ => Err("603 Decline".to_string()),
                    };
                    let _ = request.done.send(result);
                }
            });
            Some(tx)
        }
    };
    let (api, transfer_requests) = mpsc::channel(1);
    let api_answer = api_at_ms.map(|at| {
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(at)).await;
            let (done, answer) = tokio::sync::oneshot::channel();
            let target = "+15550999".to_string();
            let _ = api.send(TransferRequest { target, done }).await;
            answer.await.expect("the call answers the API")
        })
    });
    let signals = CallSignals {
        transfers,
        transfer_requests: Some(transfer_requests),
        ..CallSignals::default()
    };
    let spec = spec(fakes, conversation, TurnConfig::default());
    let report = run_call_with_signals(spec, media, signals, &session.cancel).await;
    let report = session.finish(report).await.report;
    let asked = asked.lock().unwrap().clone();
    let api_answer = match api_answer {
        Some(task) => Some(task.await.expect("API task")),
        None => None,
    };
    (report, asked, api_answer)
}

fn agent_lines(report: &CallReport) -> Vec<(String, u64)> {
    report
        .transcript
        .iter()
        .filter(|l| l.speaker == Speaker::Agent)
        .map(|l| (l.text.clone(), l.end_ms))
        .collect()
}

fn record(report: &CallReport, kind: &str) -> serde_json::Value {
    report
        .records
        .iter()
        .find(|r| r.kind == kind)
        .map(|r| r.detail.clone())
        .unwrap_or_else(|| panic!("no {kind} record: {:?}", report.records))
}

#[tokio::test(start_paused = true)]
async fn an_accepted_transfer_follows_the_line_and_ends_the_call_as_transferred() {
    let (report, asked) = transfer_call(Far::Accepts).await;
    let lines = agent_lines(&report);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].0, "Connecting you to our sales team.");
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].0, "+15550777");
    assert!(
        asked[0].1 >= lines[0].1,
        "the transfer ({} ms) cut off the line before it (ended {} ms)",
        asked[0].1,
        lines[0].1
    );
    assert_eq!(record(&report, "transfer")["target"], "+15550777");
    let outcome = report.outcome.expect("an outcome");
    assert_eq!(outcome.reason, "transferred");
    assert_eq!(outcome.outcome.as_deref(), Some("transferred"));
}

#[tokio::test(start_paused = true)]
async fn a_refused_transfer_is_told_to_the_caller() {
    for far in [Far::Refuses, Far::CannotTransfer] {
        let (report, _) = transfer_call(far).await;
        let said: Vec<String> = agent_lines(&report).into_iter().map(|l| l.0).collect();
        assert_eq!(
            said,
            [
                "Connecting you to our sales team.",
                "I'm sorry, I couldn't put you through right now."
            ]
        );
        let failed = record(&report, "transfer_failed");
        assert_eq!(failed["target"], "+15550777");
        assert!(failed["error"].as_str().is_some_and(|e| !e.is_empty()));
        assert!(report.records.iter().all(|r| r.kind != "transfer"));
        let outcome = report.outcome.expect("an outcome");
        assert_eq!(outcome.reason, "transfer_failed");
        assert!(report.duration_ms < 30_000, "{}", report.duration_ms);
    }
}

#[tokio::test(start_paused = true)]
async fn an_api_transfer_ends_the_call_as_transferred_and_a_refused_one_lets_it_go_on() {
    // The escalation fixture asks its question and waits for the caller.
    let (report, asked, answer) = call("escalate_always.yaml", Far::Accepts, Some(4_000)).await;
    assert_eq!(answer, Some(Ok(())));
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].0, "+15550999");
    assert_eq!(record(&report, "transfer")["target"], "+15550999");
    let outcome = report.outcome.expect("an outcome");
    assert_eq!(outcome.reason, "transferred");
    assert!(report.duration_ms < 10_000, "{}", report.duration_ms);

    let (report, _, answer) = call("escalate_always.yaml", Far::Refuses, Some(4_000)).await;
    assert_eq!(answer, Some(Err("603 Decline".into())));
    record(&report, "transfer_failed");
    let said: Vec<String> = agent_lines(&report).into_iter().map(|l| l.0).collect();
    assert!(
        !said.iter().any(|l| l.contains("couldn't put you through")),
        "{said:?}"
    );
    // The conversation went on: the question is asked again when the caller stays silent.
    assert!(said.len() >= 2, "{said:?}");
    assert_ne!(
        report.outcome.expect("an outcome").reason,
        "transfer_failed"
    );
}
