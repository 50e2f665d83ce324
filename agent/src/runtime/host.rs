//! Running one connected call under the runtime: the script, the live-call entry the control
//! API sees, a recorder writing each utterance and answer as it becomes final, and the end of
//! the call written in one transaction with its webhook events.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{Connected, LiveCall, Runtime};
use crate::call::live::CallEvent;
use crate::call::recording::{self, CallRecorder};
use crate::call::report::{CallReport, Speaker};
use crate::call::session::{run_call_with_signals, CallSignals, CallSpec, HumanSignal};
use crate::conversation::script::ScriptConversation;
use crate::outcome;
use crate::store::model::{
    now_ms, status, Assessment, CallEnd, LineRow, MetricsRow, NewCall, OutboxEvent, RecordRow,
    UsageRow, WriteOp,
};
use crate::store::reads::CallRow;
use crate::store::Store;
use crate::turn::answer_gate::GateConfig;
use crate::turn::controller::TransferRequest;
use crate::turn::TurnConfig;

/// Runs `call`, already connected, to its end and persists it. Returns the report.
///
/// # Errors
/// The call's script is unknown or the VAD cannot start; the call is then ended as failed.
pub async fn host(
    rt: &Arc<Runtime>,
    call: &CallRow,
    connected: Connected,
    cancel: CancellationToken,
) -> CallReport {
    host_with(rt, call, connected, None, cancel).await
}

/// [`host`] for transports where human agents join the call (LiveKit rooms): `humans`
/// says who comes and goes (an escalation waits for one).
pub async fn host_with(
    rt: &Arc<Runtime>,
    call: &CallRow,
    connected: Connected,
    humans: Option<tokio::sync::mpsc::Receiver<HumanSignal>>,
    cancel: CancellationToken,
) -> CallReport {
    let Connected {
        media,
        control,
        far_end,
        dtmf,
    } = connected;
    let (media, tape) = match &rt.config.recordings_dir {
        Some(_) => {
            let (media, tape) = recording::tap(media);
            (media, Some(tape))
        }
        None => (media, None),
    };
    let store = &rt.store;
    let script = call.script_id.as_deref().and_then(|id| rt.scripts.get(id));
    let (events, _) = broadcast::channel(256);
    let hangup_requested = Arc::new(AtomicBool::new(false));
    let (api_transfers, transfer_requests) = match control {
        Some(_) => {
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            (Some(tx), Some(rx))
        }
        None => (None, None),
    };
    rt.live.insert(
        &call.id,
        LiveCall {
            tenant: call.tenant.clone(),
            events: events.clone(),
            cancel: cancel.clone(),
            hangup_requested: hangup_requested.clone(),
            control: control.clone(),
            transfers: api_transfers,
        },
    );
    let recorder = tokio::spawn(record(
        store.clone(),
        call.tenant.clone(),
        call.id.clone(),
        events.subscribe(),
        control.clone(),
    ));
    let answered_at = now_ms();
    store
        .record(WriteOp::Answered {
            tenant: call.tenant.clone(),
            call_id: call.id.clone(),
            at: answered_at,
            script_id: script.as_ref().map(|s| s.id.clone()),
            script_version: script.as_ref().map(|s| s.version.clone()),
        })
        .await;
    store
        .record(WriteOp::Event {
            tenant: call.tenant.clone(),
            call_id: call.id.clone(),
            event: OutboxEvent::for_call(&call.id, "call.answered", json!({ "call_id": call.id })),
            at: answered_at,
        })
        .await;

    let notice = script.as_ref().is_some_and(|s| s.consent_notice.is_some());
    let report = match (script, rt.models.detector()) {
        (Some(script), Ok(detector)) => {
            let vars: BTreeMap<String, Value> = match &call.variables {
                Value::Object(map) => map.clone().into_iter().collect(),
                _ => BTreeMap::new(),
            };
            let turn = turn_config(rt, call, &script);
            let conversation = ScriptConversation::new(script, &vars, chrono::Utc::now());
            let spec = CallSpec {
                call_id: call.id.clone(),
                providers: rt.providers.clone(),
                detector,
                vad: audio::vad::VadConfig {
                    min_silence_ms: 120,
                    ..audio::vad::VadConfig::default()
                },
                turn,
                conversation: Box::new(conversation),
                live: Some(events.clone()),
                metrics: rt.metrics.clone(),
            };
            let span = tracing::info_span!("call", call_id = %call.id, tenant = %call.tenant);
            let signals = CallSignals {
                dtmf_in: dtmf,
                dtmf_out: control.clone().map(|c| key_sender(c, cancel.clone())),
                humans,
                transfers: control.clone().map(|c| transferer(c, cancel.clone())),
                transfer_requests,
            };
            run_call_with_signals(spec, media, signals, &cancel)
                .instrument(span)
                .await
        }
        (None, _) => failed_report(call, "unknown_script"),
        (_, Err(e)) => {
            tracing::error!(call_id = %call.id, error = %e, "Call not started: no VAD");
            failed_report(call, "vad_unavailable")
        }
    };
    tracing::debug!(call_id = %call.id, "Call ended; persisting");
    let hung_up_by_api = hangup_requested.load(Ordering::SeqCst);
    let shut_down = cancel.is_cancelled() && !hung_up_by_api;
    cancel.cancel();
    rt.live.remove(&call.id);
    drop(events);
    let _ = recorder.await;
    if let Some(far_end) = far_end {
        let _ = far_end.await;
    }
    let ended_by = match (hung_up_by_api, shut_down) {
        (true, _) => Some("api_hangup"),
        (_, true) => Some("shutdown"),
        _ => None,
    };
    let review = review(rt, &report).await;
    let mut end = call_end(call, &report, answered_at, ended_by, review);
    if let (Some(tape), Some(dir)) = (tape, &rt.config.recordings_dir) {
        end.recording_path = save_recording(tape, dir, call, &report, notice).await;
    }
    store.record(WriteOp::Ended(Box::new(end))).await;
    report
}

/// Writes the call's stereo recording, from the end of the recording notice (the script's
/// first line) when the script has one.
async fn save_recording(
    tape: CallRecorder,
    dir: &std::path::Path,
    call: &CallRow,
    report: &CallReport,
    notice: bool,
) -> Option<String> {
    let start_ms = if notice {
        report
            .transcript
            .iter()
            .find(|l| l.speaker == Speaker::Agent)
            .map_or(0, |l| l.end_ms)
    } else {
        0
    };
    let path = dir.join(&call.tenant).join(format!("{}.wav", call.id));
    match tape.finish(&path, start_ms).await {
        Ok(_) => Some(path.display().to_string()),
        Err(e) => {
            tracing::error!(call_id = %call.id, error = %e, "Call recording not written");
            None
        }
    }
}

/// Outbound calls on real lines classify who answered before the agent speaks (voicemail,
/// screening, IVR); the local transport's simulated callers skip it unless asked.
fn turn_config(rt: &Runtime, call: &CallRow, script: &dialogue::Script) -> TurnConfig {
    let options = &call.transport_options;
    let detect = call.direction == "outbound"
        && options
            .get("answer_detection")
            .and_then(Value::as_bool)
            .unwrap_or(call.transport != "local");
    let screening_reply = options
        .get("screening_reply")
        .and_then(Value::as_str)
        .map_or_else(|| rt.config.screening_reply.clone(), str::to_owned);
    TurnConfig {
        answer_gate: detect.then(|| GateConfig::for_script(script, screening_reply)),
        ..TurnConfig::default()
    }
}

/// Records a call that arrived (an inbound SIP call, a dispatched LiveKit room), already under
/// this process's lease, and announces it (`call.started`).
pub async fn open_inbound(rt: &Runtime, new: &NewCall) {
    rt.store
        .record(WriteOp::InsertCall(Box::new(new.clone())))
        .await;
    let started = OutboxEvent::for_call(
        &new.id,
        "call.started",
        json!({ "call_id": new.id, "direction": "inbound" }),
    );
    rt.store
        .record(WriteOp::Event {
            tenant: new.tenant.clone(),
            call_id: new.id.clone(),
            event: started,
            at: now_ms(),
        })
        .await;
}

/// Carries the conversation's transfers to the transport.
fn transferer(
    control: Arc<dyn super::dial::CallControl>,
    cancel: CancellationToken,
) -> tokio::sync::mpsc::Sender<TransferRequest> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<TransferRequest>(1);
    tokio::spawn(async move {
        loop {
            let request = tokio::select! {
                _ = cancel.cancelled() => return,
                r = rx.recv() => match r { Some(r) => r, None => return },
            };
            let _ = request.done.send(control.transfer(&request.target).await);
        }
    });
    tx
}

/// Carries the agent's key presses to the transport, one sequence at a time.
fn key_sender(
    control: Arc<dyn super::dial::CallControl>,
    cancel: CancellationToken,
) -> tokio::sync::mpsc::Sender<String> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(4);
    tokio::spawn(async move {
        loop {
            let keys = tokio::select! {
                _ = cancel.cancelled() => return,
                k = rx.recv() => match k { Some(k) => k, None => return },
            };
            if let Err(e) = control.send_dtmf(&keys).await {
                tracing::warn!(error = %e, "Key presses not sent");
            }
        }
    });
    tx
}

fn failed_report(call: &CallRow, reason: &str) -> CallReport {
    tracing::error!(call_id = %call.id, script = ?call.script_id, reason, "Call failed to start");
    CallReport {
        call_id: call.id.clone(),
        outcome: Some(crate::conversation::Outcome::new("failed", reason)),
        ..CallReport::default()
    }
}

/// Writes each final utterance and answer as it happens. A lagging recorder only delays
/// rows: the end of the call writes them all again.
async fn record(
    store: Store,
    tenant: String,
    call_id: String,
    mut events: broadcast::Receiver<CallEvent>,
    control: Option<Arc<dyn super::dial::CallControl>>,
) {
    let mut escalations = 0;
    loop {
        let op = match events.recv().await {
            Ok(CallEvent::Line { seq, line }) => WriteOp::Line {
                tenant: tenant.clone(),
                call_id: call_id.clone(),
                line: LineRow::from_line(seq, &line, None),
            },
            Ok(CallEvent::Answer { slot, value }) => WriteOp::Answer {
                tenant: tenant.clone(),
                call_id: call_id.clone(),
                slot,
                value,
            },
            // Human agents must hear of an escalation while the caller waits, not after.
            Ok(CallEvent::Record { record }) if record.kind == "escalation" => {
                let join = control.as_ref().and_then(|c| c.meeting_link());
                let payload = json!({ "call_id": call_id, "detail": record.detail, "join": join });
                escalations += 1;
                WriteOp::Event {
                    tenant: tenant.clone(),
                    call_id: call_id.clone(),
                    event: escalation_event(&call_id, escalations, payload),
                    at: now_ms(),
                }
            }
            Ok(_) => continue,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(%call_id, skipped = n, "Recorder lagged; the call's end writes the rest");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        store.record(op).await;
    }
}

/// The LLM's review of a conversation (summary and sentiment), when an LLM is configured
/// (else the outcome engine's extractive summary and offline sentiment stand).
async fn review(rt: &Runtime, report: &CallReport) -> Option<outcome::summary::LlmReview> {
    let llm = rt.providers.llm.as_ref()?;
    if !report
        .transcript
        .iter()
        .any(|l| l.speaker == Speaker::Caller)
    {
        return None;
    }
    let deadline = std::time::Duration::from_secs(10);
    match outcome::summary::review_with_llm(llm.as_ref(), report, deadline).await {
        Ok(review) => Some(review),
        Err(e) => {
            tracing::warn!(call_id = %report.call_id, error = %e, "LLM review failed; extractive summary and offline sentiment kept");
            None
        }
    }
}

/// The end-of-call write for `report`; the LLM's `review` replaces the extractive summary and
/// the offline call sentiment.
pub fn call_end(
    call: &CallRow,
    report: &CallReport,
    answered_at: i64,
    ended_by: Option<&str>,
    review: Option<outcome::summary::LlmReview>,
) -> CallEnd {
    let assessment = assess(report, ended_by, review);
    let ended_at = now_ms();
    let status = if assessment.disposition == "failed" {
        status::FAILED
    } else {
        status::COMPLETED
    };
    let records: Vec<RecordRow> = report
        .records
        .iter()
        .map(|r| RecordRow {
            kind: r.kind.clone(),
            detail: r.detail.clone(),
        })
        .collect();
    let events = events(call, report, &assessment, &records);
    let line_sentiments = assessment.line_sentiments.clone();
    CallEnd {
        tenant: call.tenant.clone(),
        call_id: call.id.clone(),
        ended_at,
        status: status.into(),
        answered: true,
        duration_ms: (ended_at - answered_at).max(report.duration_ms as i64),
        script_id: report.script.as_ref().map(|s| s.id.clone()),
        script_version: report.script.as_ref().map(|s| s.version.clone()),
        party_number: match call.direction.as_str() {
            "inbound" => call.from.clone(),
            _ => call.to.clone(),
        },
        assessment,
        transcript: report
            .transcript
            .iter()
            .enumerate()
            .map(|(seq, line)| {
                let sentiment = line_sentiments.get(seq).copied().flatten();
                LineRow::from_line(seq, line, sentiment)
            })
            .collect(),
        answers: report.answers.clone(),
        metrics: report.turns.iter().map(MetricsRow::from).collect(),
        records,
        usage: UsageRow::from_report(report),
        recording_path: None,
        events,
    }
}

/// The outcome engine's judgement of the call, in the store's terms. `ended_by` names who
/// cut the call short (`api_hangup`, `shutdown`) before the conversation ended it.
fn assess(
    report: &CallReport,
    ended_by: Option<&str>,
    review: Option<outcome::summary::LlmReview>,
) -> Assessment {
    let ctx = outcome::AssessContext {
        llm_sentiment: review.as_ref().and_then(|r| r.sentiment),
        llm_summary: review.map(|r| r.summary),
        ..outcome::AssessContext::default()
    };
    // The controller reports a cancelled call as failed/cancelled.
    let cancelled = report
        .outcome
        .as_ref()
        .is_none_or(|o| o.reason == "cancelled");
    let cut_short = cancelled.then_some(ended_by).flatten();
    let judged = match cut_short {
        // The call was up and was ended from outside: judge it as ended by the agent.
        Some(_) => {
            let mut report = report.clone();
            report.outcome = Some(crate::conversation::Outcome::new("reached", "agent_ended"));
            outcome::assess(&report, &ctx)
        }
        None => outcome::assess(report, &ctx),
    };
    let name = |v: serde_json::Result<Value>| {
        v.ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let script_outcome = report.outcome.as_ref().and_then(|o| o.outcome.clone());
    let end_reason = match cut_short {
        Some(by) => by.to_owned(),
        None => name(serde_json::to_value(judged.end_reason)),
    };
    Assessment {
        disposition: name(serde_json::to_value(judged.disposition)),
        outcome: script_outcome,
        end_reason,
        sentiment: (judged.sentiment.confidence > 0.0).then(|| {
            (
                f64::from(judged.sentiment.score),
                f64::from(judged.sentiment.confidence),
            )
        }),
        line_sentiments: judged
            .line_sentiments
            .iter()
            .map(|s| s.map(f64::from))
            .collect(),
        summary: Some(judged.summary).filter(|s| !s.is_empty()),
        interest_score: Some(i64::from(judged.interest_score)),
    }
}

/// The `n`th escalation of a call, under an id the live and the end-of-call writes share.
fn escalation_event(call_id: &str, n: usize, payload: Value) -> OutboxEvent {
    OutboxEvent {
        id: format!("{call_id}:escalation.created:{n}"),
        kind: "escalation.created".into(),
        payload,
    }
}

/// The webhook events a finished call emits.
fn events(
    call: &CallRow,
    report: &CallReport,
    a: &Assessment,
    records: &[RecordRow],
) -> Vec<OutboxEvent> {
    let id = call.id.as_str();
    let mut out = vec![OutboxEvent::for_call(
        id,
        "call.ended",
        json!({
            "call_id": id, "disposition": a.disposition, "outcome": a.outcome,
            "end_reason": a.end_reason, "answers": report.answers,
            "duration_ms": report.duration_ms,
        }),
    )];
    let mut escalations = 0;
    for (i, r) in records.iter().enumerate() {
        let kind = match r.kind.as_str() {
            "escalation" => {
                // Already sent when it happened (same id), unless the recorder lagged.
                escalations += 1;
                let payload = json!({ "call_id": id, "detail": r.detail });
                out.push(escalation_event(id, escalations, payload));
                continue;
            }
            "scheduled_action" if a.disposition == "callback_requested" => "callback.requested",
            _ => continue,
        };
        out.push(OutboxEvent {
            id: format!("{id}:{kind}:{i}"),
            kind: kind.into(),
            payload: json!({ "call_id": id, "detail": r.detail }),
        });
    }
    let survey = report
        .script
        .as_ref()
        .is_some_and(|s| s.id.starts_with("survey."));
    if survey && a.outcome.as_deref() == Some("completed") {
        out.push(OutboxEvent::for_call(
            id,
            "survey.completed",
            json!({ "call_id": id, "answers": report.answers }),
        ));
    }
    out
}
