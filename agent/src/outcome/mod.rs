//! Call outcomes: what a call amounted to. Pure cores over the call report and the callee's
//! first seconds of audio; the turn engine runs answer detection and sentiment during the
//! call, and the runtime calls [`assess`] once a call has ended, then persists the result.
//!
//! - [`amd`]: answer classification for outbound calls (human, voicemail, screening, IVR,
//!   silence or fax);
//! - [`sentiment`]: per-utterance and per-call caller sentiment, -1..1 with a confidence;
//! - [`disposition`]: the state machine from call facts to a disposition and end reason;
//! - [`summary`]: extractive summary, or an LLM summary when one is configured;
//! - [`interest`]: lead interest score 0–100.

pub mod amd;
pub mod amd_llm;
pub mod disposition;
pub mod interest;
mod lexicon;
pub mod sentiment;
pub mod summary;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use amd::{
    after_all_cue, asks_for_key, connect_key, greeting_prompt, is_bare_answer, menu_after_all,
    person_after_all, words_class, AmdConfig, AnswerClass, AnswerClassifier, Verdict,
};
pub use disposition::{CallFact, DialResult, Disposition, DispositionMachine, EndReason};
pub use interest::InterestSignals;
pub use sentiment::{CallSentiment, Sentiment};

use crate::call::report::{CallReport, Speaker};

/// The kind of the call record the answer gate leaves with its verdict.
pub const ANSWER_RECORD: &str = "answer_detection";

/// What [`assess`] knows besides the report.
#[derive(Debug, Clone, Default)]
pub struct AssessContext {
    /// How dialling went (outbound calls; `None` for inbound).
    pub dial: Option<DialResult>,
    /// Answer detection's verdict; when `None`, read from the report's records.
    pub answer: Option<AnswerClass>,
    /// A summary the LLM wrote ([`summary::review_with_llm`]); the extractive one otherwise.
    pub llm_summary: Option<String>,
    /// The call's sentiment as the LLM judged it; the offline scorer's otherwise (lines are
    /// always scored offline, as they are during the call).
    pub llm_sentiment: Option<Sentiment>,
    /// Competitor names that count as a competitor mention.
    pub competitors: Vec<String>,
}

/// Everything the backend files about a finished call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallAssessment {
    pub disposition: Disposition,
    pub end_reason: EndReason,
    /// When the caller asked to be called back, if they named a time.
    pub callback_at: Option<DateTime<Utc>>,
    /// What answered the call, when answer detection ran.
    pub answer: Option<AnswerClass>,
    /// Call-level caller sentiment (recency-weighted).
    pub sentiment: Sentiment,
    /// Sentiment score of each caller line that carried any, index-aligned with
    /// `report.transcript` (`None` for agent lines and neutral caller lines).
    pub line_sentiments: Vec<Option<f32>>,
    pub summary: String,
    /// Lead interest 0–100 (0 when nobody was reached).
    pub interest_score: u8,
    pub signals: InterestSignals,
}

/// Assesses a finished call. Pure and deterministic.
pub fn assess(report: &CallReport, ctx: &AssessContext) -> CallAssessment {
    let answer = ctx.answer.or_else(|| answer_from_records(report));
    let mut machine = DispositionMachine::new();
    for fact in facts(report, ctx, answer) {
        machine.on(fact);
    }
    let (disposition, end_reason) = machine.finish();

    let mut call = CallSentiment::new();
    let line_sentiments: Vec<Option<f32>> = report
        .transcript
        .iter()
        .map(|line| {
            if line.speaker != Speaker::Caller {
                return None;
            }
            let s = sentiment::score_text(&line.text);
            call.push(s);
            (s.confidence > 0.0).then_some(s.score)
        })
        .collect();
    let sentiment = ctx.llm_sentiment.unwrap_or_else(|| call.current());

    let reached = !matches!(
        disposition,
        Disposition::Voicemail
            | Disposition::NoAnswer
            | Disposition::Busy
            | Disposition::Screened
            | Disposition::Failed
    );
    let signals = interest::signals(
        report
            .transcript
            .iter()
            .filter(|l| l.speaker == Speaker::Caller)
            .map(|l| l.text.as_str()),
        &ctx.competitors,
    );
    let interest_score = match disposition {
        _ if !reached => 0,
        Disposition::Dnc => 0,
        Disposition::NotInterested | Disposition::Declined => {
            interest::score(&signals, sentiment).min(15)
        }
        _ => interest::score(&signals, sentiment),
    };
    let summary = ctx
        .llm_summary
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| summary::extractive(report, disposition, &line_sentiments));
    CallAssessment {
        disposition,
        end_reason,
        callback_at: machine.callback_at(),
        answer,
        sentiment,
        line_sentiments,
        summary,
        interest_score,
        signals,
    }
}

/// The call's facts in order: dial, answer, who spoke, follow-ups, how it ended.
fn facts(report: &CallReport, ctx: &AssessContext, answer: Option<AnswerClass>) -> Vec<CallFact> {
    let mut facts = Vec::new();
    if let Some(d) = &ctx.dial {
        facts.push(CallFact::Dialled(d.clone()));
    }
    if let Some(a) = answer {
        facts.push(CallFact::AnswerClassified(a));
    }
    // A person's "Hello?" went to answer detection, not into the transcript.
    let greeted = report
        .records
        .iter()
        .filter(|r| r.kind == ANSWER_RECORD)
        .filter_map(|r| r.detail.get("heard").and_then(|h| h.as_str()))
        .any(|h| !h.trim().is_empty());
    if answer == Some(AnswerClass::Human) && greeted {
        facts.push(CallFact::CallerSpoke);
    }
    for line in &report.transcript {
        let spoke = !line.text.trim().is_empty();
        match line.speaker {
            Speaker::Agent if spoke => facts.push(CallFact::AgentSpoke),
            Speaker::Caller if spoke => facts.push(CallFact::CallerSpoke),
            _ => {}
        }
    }
    for record in &report.records {
        match record.kind.as_str() {
            "transfer" => facts.push(CallFact::Transferred),
            "scheduled_action" if is_callback(&record.detail) => {
                let at = record
                    .detail
                    .get("at")
                    .and_then(|v| v.as_str())
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.with_timezone(&Utc));
                facts.push(CallFact::CallbackScheduled { at });
            }
            _ => {}
        }
    }
    if let Some(o) = &report.outcome {
        match disposition::end_reason_of(&o.reason) {
            EndReason::CallerHungUp => facts.push(CallFact::CallerHungUp),
            EndReason::MaxDuration => facts.push(CallFact::MaxDurationReached),
            EndReason::Error => facts.push(CallFact::Failed {
                reason: o.reason.clone(),
            }),
            _ => {}
        }
        facts.push(CallFact::ConversationEnded {
            disposition: o.disposition.clone(),
            reason: o.reason.clone(),
        });
    }
    facts
}

/// A scheduled call whose reason is the caller's callback request.
fn is_callback(detail: &serde_json::Value) -> bool {
    let field = |k: &str| detail.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    field("kind") == "call" && field("reason").contains("callback")
}

fn answer_from_records(report: &CallReport) -> Option<AnswerClass> {
    let record = report.records.iter().find(|r| r.kind == ANSWER_RECORD)?;
    let class = record.detail.get("class")?.as_str()?;
    AnswerClass::ALL.into_iter().find(|c| c.name() == class)
}

#[cfg(test)]
mod tests;
