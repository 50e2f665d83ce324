//! Call summaries for the backend: an extractive summary (the disposition, the collected
//! answers and the caller's key lines) that needs nothing but the report, and an LLM summary
//! through the runtime's [`LlmProvider`] when one is configured. The extractive path is pure;
//! the LLM path is one bounded request run after the call, never on the call's media path.

use std::time::Duration;

use super::disposition::Disposition;
use super::sentiment::Sentiment;
use crate::call::report::{CallReport, Speaker};
use crate::llm::{ChatMessage, ChatRequest, LlmProvider};
use crate::provider::ProviderError;

/// At most this many caller lines are quoted.
const KEY_LINES: usize = 3;

/// The extractive summary: "Reached (demo_requested). Answers: next_step=demo. Caller: "…"".
/// `line_sentiments` are index-aligned with `report.transcript`.
pub fn extractive(
    report: &CallReport,
    disposition: Disposition,
    line_sentiments: &[Option<f32>],
) -> String {
    let mut out = disposition_phrase(disposition).to_string();
    out.push('.');
    if !report.answers.is_empty() {
        let answers: Vec<String> = report
            .answers
            .iter()
            .map(|(slot, value)| match value {
                serde_json::Value::String(s) => format!("{slot}: {s}"),
                other => format!("{slot}: {other}"),
            })
            .collect();
        out.push_str(&format!(" Answers: {}.", answers.join("; ")));
    }
    let key = key_lines(report, line_sentiments);
    if !key.is_empty() {
        let quoted: Vec<String> = key.iter().map(|l| format!("\"{l}\"")).collect();
        out.push_str(&format!(" Caller said: {}.", quoted.join(" ")));
    }
    out
}

/// The caller's most telling lines, in call order: the strongest feelings and the longest
/// statements (questions and objections carry the most words).
fn key_lines<'a>(report: &'a CallReport, sentiments: &[Option<f32>]) -> Vec<&'a str> {
    let mut ranked: Vec<(usize, f32)> = report
        .transcript
        .iter()
        .enumerate()
        .filter(|(_, l)| l.speaker == Speaker::Caller)
        .map(|(i, l)| {
            let words = l.text.split_whitespace().count() as f32;
            let feeling = sentiments.get(i).copied().flatten().unwrap_or(0.0).abs();
            let question = if l.text.contains('?') { 2.0 } else { 0.0 };
            (i, words.min(20.0) / 4.0 + feeling * 6.0 + question)
        })
        .filter(|(i, _)| report.transcript[*i].text.split_whitespace().count() >= 2)
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.truncate(KEY_LINES);
    ranked.sort_by_key(|r| r.0);
    ranked
        .iter()
        .map(|(i, _)| report.transcript[*i].text.as_str())
        .collect()
}

fn disposition_phrase(d: Disposition) -> &'static str {
    match d {
        Disposition::Reached => "Reached",
        Disposition::Voicemail => "Voicemail",
        Disposition::NoAnswer => "No answer",
        Disposition::Busy => "Busy",
        Disposition::CallbackRequested => "Callback requested",
        Disposition::NotInterested => "Not interested",
        Disposition::Dnc => "Asked not to be called again",
        Disposition::Screened => "Screened by an assistant, no person reached",
        Disposition::Declined => "Answered and hung up without speaking",
        Disposition::Failed => "Call failed",
    }
}

/// What the LLM makes of a finished call: its summary and the caller's overall sentiment.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmReview {
    pub summary: String,
    /// `None` when the reply carried no usable score.
    pub sentiment: Option<Sentiment>,
}

const REVIEW_INSTRUCTION: &str = "You review phone calls for a CRM. Reply with one JSON \
    object and nothing else: {\"summary\": at most two sentences on what the caller wants, \
    their objections and the agreed next step; \"sentiment\": the caller's overall sentiment \
    from -1 (very negative) to 1 (very positive), 0 neutral; \"confidence\": 0 to 1, how \
    clearly the call shows it}.";

/// Asks `llm` to review the call's transcript.
///
/// # Errors
/// The provider's error, or a timeout after `deadline` (classed as connectivity).
pub async fn review_with_llm(
    llm: &dyn LlmProvider,
    report: &CallReport,
    deadline: Duration,
) -> Result<LlmReview, ProviderError> {
    let transcript: Vec<String> = report
        .transcript
        .iter()
        .map(|l| {
            let who = match l.speaker {
                Speaker::Agent => "Agent",
                Speaker::Caller => "Caller",
            };
            format!("{who}: {}", l.text)
        })
        .collect();
    let request = ChatRequest {
        messages: vec![
            ChatMessage::System {
                content: REVIEW_INSTRUCTION.into(),
            },
            ChatMessage::User {
                content: transcript.join("\n"),
            },
        ],
        max_tokens: Some(200),
        ..ChatRequest::default()
    };
    let reply = crate::llm::complete(llm, request, deadline).await?;
    Ok(parse_review(&reply))
}

/// Reads the review from a reply: the JSON object in it (code fences and chatter around it
/// tolerated; scores clamped to their ranges), or the whole reply as the summary when it holds
/// none.
pub fn parse_review(reply: &str) -> LlmReview {
    #[derive(serde::Deserialize)]
    struct Reply {
        summary: String,
        sentiment: Option<f32>,
        confidence: Option<f32>,
    }
    let object = reply
        .find('{')
        .zip(reply.rfind('}'))
        .and_then(|(a, b)| reply.get(a..=b))
        .and_then(|json| serde_json::from_str::<Reply>(json).ok());
    match object {
        Some(r) => LlmReview {
            summary: r.summary.trim().to_string(),
            sentiment: r
                .sentiment
                .filter(|s| s.is_finite())
                .map(|score| Sentiment {
                    score: score.clamp(-1.0, 1.0),
                    confidence: r
                        .confidence
                        .filter(|c| c.is_finite())
                        .map_or(0.5, |c| c.clamp(0.0, 1.0)),
                }),
        },
        None => LlmReview {
            summary: reply.trim().to_string(),
            sentiment: None,
        },
    }
}
