//! A dialogue script as the conversation: adapts the pure [`dialogue::Engine`] (YAML graph)
//! to the turn engine's [`Conversation`] interface. Times become wall-clock instants from the
//! call's start.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dialogue::engine::{HeaderValue, Message, Role};
use dialogue::{Effect, Engine, Event, LlmOutcome, Script, ToolResult};
use serde_json::json;

use super::verdict::{ask_for_verdict, read_verdict};
use super::{
    CallMs, CallRecord, Conversation, ConversationEffect, ConversationEvent, ListenSpec, Outcome,
    ScriptRef,
};
use crate::llm::{ChatMessage, ChatRequest};
use crate::outcome::sentiment::{score_text, CallSentiment, Sentiment};
use crate::tools::{ToolHeader, ToolRequest};

/// An LLM request in flight: the engine's id, the verdicts it accepts, whether it is heard.
struct LlmRequest {
    id: u64,
    verdicts: Vec<String>,
    spoken: bool,
}

pub struct ScriptConversation {
    engine: Engine,
    started_at: DateTime<Utc>,
    /// Effects produced at creation, carried out when the call is answered.
    initial: Vec<Effect>,
    /// The LLM request the engine waits for.
    llm_request: Option<LlmRequest>,
    /// The LLM reply already streamed to the caller: the engine's `Say` of it is dropped.
    spoken_reply: Option<String>,
    /// The caller's running sentiment, fed to the engine before each utterance.
    mood: CallSentiment,
}

impl ScriptConversation {
    /// Starts `script` with the job's variables; `started_at` anchors call time 0.
    pub fn new(
        script: Arc<Script>,
        vars: &BTreeMap<String, serde_json::Value>,
        started_at: DateTime<Utc>,
    ) -> Self {
        let (engine, initial) = Engine::new(script, vars, started_at);
        Self {
            engine,
            started_at,
            initial,
            llm_request: None,
            spoken_reply: None,
            mood: CallSentiment::new(),
        }
    }

    fn at(&self, now: CallMs) -> DateTime<Utc> {
        self.started_at + chrono::Duration::milliseconds(now as i64)
    }

    fn translate(&mut self, effects: Vec<Effect>) -> Vec<ConversationEffect> {
        let mut out = Vec::new();
        for effect in effects {
            match effect {
                Effect::Say {
                    utterance_id,
                    text,
                    interruptible,
                } => {
                    if self.spoken_reply.as_deref() == Some(text.as_str()) {
                        self.spoken_reply = None;
                        continue;
                    }
                    out.push(ConversationEffect::Say {
                        id: utterance_id,
                        text,
                        interruptible,
                    });
                }
                Effect::Listen {
                    endpointing,
                    hints,
                    no_input_timeout_ms,
                    ..
                } => out.push(ConversationEffect::Listen(ListenSpec {
                    end_of_turn_silence_ms: end_of_turn_ms(endpointing),
                    hints: (!hints.is_empty()).then(|| hints.join(", ")),
                    no_input_ms: no_input_timeout_ms.min(u64::from(u32::MAX)) as u32,
                })),
                Effect::StartTimer { id, after_ms } => {
                    out.push(ConversationEffect::StartTimer { id, after_ms })
                }
                Effect::CancelTimer { id } => out.push(ConversationEffect::CancelTimer { id }),
                Effect::CallTool {
                    call_id,
                    method,
                    url,
                    headers,
                    body,
                    timeout_ms,
                } => out.push(ConversationEffect::CallTool(ToolRequest {
                    id: call_id,
                    method: snake(&method),
                    url,
                    headers: headers
                        .into_iter()
                        .map(|h| match h {
                            HeaderValue::Text { name, value } => ToolHeader::Text { name, value },
                            HeaderValue::Secret { name, secret } => {
                                ToolHeader::Secret { name, secret }
                            }
                        })
                        .collect(),
                    body,
                    timeout: std::time::Duration::from_millis(timeout_ms),
                })),
                Effect::RequestLlm {
                    request_id,
                    system,
                    goal,
                    messages,
                    classify,
                    spoken,
                    ..
                } => {
                    let mut request = chat_request(system, goal, messages);
                    ask_for_verdict(&mut request, &classify, spoken);
                    self.llm_request = Some(LlmRequest {
                        id: request_id,
                        verdicts: classify,
                        spoken,
                    });
                    out.push(ConversationEffect::AskLlm { request, spoken });
                }
                Effect::Transfer { target } => out.push(ConversationEffect::Transfer { target }),
                Effect::Escalate {
                    reason,
                    priority,
                    within_hours,
                    wait_timeout_ms,
                } => out.push(record(
                    "escalation",
                    json!({ "reason": reason, "priority": priority, "within_hours": within_hours,
                            "wait_timeout_ms": wait_timeout_ms }),
                )),
                Effect::ScheduleAction { kind, at, reason } => out.push(record(
                    "scheduled_action",
                    json!({ "kind": kind, "at": at, "reason": reason }),
                )),
                Effect::SetAnswer { slot, value } => out.push(ConversationEffect::SetAnswer {
                    slot,
                    value: value.to_json(),
                }),
                Effect::NodeEntered { id, .. } => {
                    out.push(ConversationEffect::NodeEntered { node: id })
                }
                Effect::HandOver { human, listen } => {
                    out.push(ConversationEffect::HandOver { human, listen })
                }
                Effect::Hangup {
                    disposition,
                    outcome,
                    reason,
                } => out.push(ConversationEffect::Hangup(Outcome {
                    disposition: snake(&disposition),
                    reason: snake(&reason),
                    outcome,
                })),
            }
        }
        out
    }
}

impl Conversation for ScriptConversation {
    fn completes_turn(&self, text: &str) -> bool {
        self.engine.completes_answer(text)
    }

    fn script(&self) -> Option<ScriptRef> {
        let script = self.engine.script();
        Some(ScriptRef {
            id: script.id.clone(),
            version: script.version.clone(),
        })
    }

    fn handle(&mut self, event: ConversationEvent, now: CallMs) -> Vec<ConversationEffect> {
        let at = self.at(now);
        let event = match event {
            ConversationEvent::CallAnswered => {
                let mut effects = std::mem::take(&mut self.initial);
                effects.extend(self.engine.step(Event::Answered { now: at }));
                return self.translate(effects);
            }
            ConversationEvent::VoicemailDetected => {
                let mut effects = std::mem::take(&mut self.initial);
                effects.extend(self.engine.step(Event::VoicemailDetected { now: at }));
                return self.translate(effects);
            }
            ConversationEvent::CallerSaid { text, confidence } => {
                let mood = self.mood.push(score_text(&text));
                let said = Event::UserSaid {
                    text,
                    confidence,
                    now: at,
                };
                return self.caller_said(said, mood, at);
            }
            ConversationEvent::PutThrough => Event::PutThrough { now: at },
            ConversationEvent::CallerSilent => Event::NoInput { now: at },
            ConversationEvent::DtmfReceived { digit } => Event::Dtmf { digit, now: at },
            ConversationEvent::HumanJoined { identity } => Event::HumanJoined { identity, now: at },
            ConversationEvent::SayFinished {
                utterance,
                interrupted,
            } => Event::SayFinished {
                utterance_id: utterance,
                interrupted,
            },
            ConversationEvent::LlmReplied { text, tool_calls } => {
                let Some(request) = self.llm_request.take() else {
                    return Vec::new();
                };
                let verdict = read_verdict(&request.verdicts, &text, &tool_calls, request.spoken);
                if request.spoken {
                    self.spoken_reply = Some(text.clone());
                }
                Event::LlmFinished {
                    request_id: request.id,
                    outcome: LlmOutcome::Reply { text, verdict },
                    now: at,
                }
            }
            ConversationEvent::LlmFailed { reason } => {
                let Some(request) = self.llm_request.take() else {
                    return Vec::new();
                };
                Event::LlmFinished {
                    request_id: request.id,
                    outcome: LlmOutcome::Failed { error: reason },
                    now: at,
                }
            }
            ConversationEvent::MaxDurationReached => Event::MaxDurationReached { now: at },
            ConversationEvent::CallerHungUp => Event::CallerHungUp { now: at },
            ConversationEvent::TimerFired { id } => Event::TimerFired { id, now: at },
            ConversationEvent::ToolFinished { id, result } => Event::ToolFinished {
                call_id: id,
                result: match result {
                    Ok(body) => ToolResult::Ok { body },
                    Err(message) => ToolResult::Error { message },
                },
                now: at,
            },
        };
        let effects = self.engine.step(event);
        self.translate(effects)
    }
}

impl ScriptConversation {
    /// The caller's words first (an explicit request such as "don't call me again" must
    /// win), then their mood: when it trips the script's negative-sentiment handler, the
    /// handler's lines replace whatever the graph would have said next.
    fn caller_said(
        &mut self,
        said: Event,
        mood: Sentiment,
        at: DateTime<Utc>,
    ) -> Vec<ConversationEffect> {
        let effects = self.engine.step(said);
        if mood.confidence <= 0.0 || self.engine.is_ended() {
            return self.translate(effects);
        }
        let measured = Event::SentimentMeasured {
            score: mood.score,
            now: at,
        };
        let escalated = self.engine.step(measured);
        if escalated.is_empty() {
            return self.translate(effects);
        }
        let kept = effects.into_iter().filter(|e| {
            !matches!(
                e,
                Effect::Say { .. } | Effect::Listen { .. } | Effect::RequestLlm { .. }
            )
        });
        let combined = kept.chain(escalated).collect();
        self.translate(combined)
    }
}

/// Silence that ends the caller's turn for each endpointing hint.
fn end_of_turn_ms(hint: dialogue::script::Endpointing) -> u32 {
    use dialogue::script::Endpointing;
    match hint {
        Endpointing::Short => 450,
        Endpointing::Normal => 700,
        Endpointing::Long => 1_200,
    }
}

fn chat_request(system: String, goal: String, messages: Vec<Message>) -> ChatRequest {
    let mut out = vec![ChatMessage::System {
        content: format!("{system}\n\nGoal: {goal}"),
    }];
    out.extend(messages.into_iter().map(|m| match m.role {
        Role::Agent => ChatMessage::Assistant {
            content: m.text,
            tool_calls: Vec::new(),
        },
        Role::Caller => ChatMessage::User { content: m.text },
    }));
    ChatRequest {
        messages: out,
        max_tokens: Some(200),
        ..ChatRequest::default()
    }
}

fn record(kind: &str, detail: serde_json::Value) -> ConversationEffect {
    ConversationEffect::Record(CallRecord {
        kind: kind.into(),
        detail,
    })
}

/// The snake_case name serde gives a unit enum variant.
fn snake<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}
