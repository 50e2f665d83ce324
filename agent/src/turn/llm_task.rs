//! One LLM reply in flight: streams the completion, cuts it into sentences and sends each to
//! the TTS stage as soon as it is complete, so the caller hears the first sentence while the
//! rest is still being generated. Spawned by the controller per request; cancelled (and its
//! output made stale by turn id) when the caller barges in.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use speech::tts::SentenceSplitter;

use crate::conversation::UtteranceId;
use crate::llm::{ChatRequest, LlmEvent, LlmProvider, ToolCall, Usage};
use crate::media::CallClock;
use crate::speaker::{SpeakRequest, TurnId};

/// What the task reports to the controller.
#[derive(Debug, Clone)]
pub enum LlmReport {
    FirstToken {
        turn: TurnId,
        at_ms: u64,
    },
    /// A sentence is about to be queued for speech.
    LineQueued {
        turn: TurnId,
        utterance: UtteranceId,
        text: String,
    },
    /// The reply is complete; `lines` sentences were queued for speech.
    Done {
        turn: TurnId,
        text: String,
        tool_calls: Vec<ToolCall>,
        lines: usize,
        usage: Usage,
    },
    /// The request failed after `lines` sentences were queued.
    Failed {
        turn: TurnId,
        error: String,
        lines: usize,
    },
}

pub struct LlmTask {
    pub llm: Arc<dyn LlmProvider>,
    pub request: ChatRequest,
    /// Whether the reply is said to the caller (a silent one only classifies).
    pub spoken: bool,
    pub turn: TurnId,
    /// First utterance id this task may use; it uses consecutive ids after it.
    pub first_utterance: UtteranceId,
    pub speak: mpsc::Sender<SpeakRequest>,
    pub reports: mpsc::Sender<LlmReport>,
    pub clock: CallClock,
    /// Child of the call token; cancelled on barge-in or teardown.
    pub cancel: CancellationToken,
}

impl LlmTask {
    pub async fn run(self) {
        let mut stream = self.llm.stream(self.request.clone());
        let mut splitter = SentenceSplitter::new();
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        let mut lines = 0usize;
        let mut first = true;
        let report = loop {
            let event = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return,
                e = stream.next() => e,
            };
            let usage = match event {
                Some(Ok(LlmEvent::TokenReceived(token))) => {
                    if first {
                        first = false;
                        let at_ms = self.clock.now_ms();
                        let first_token = LlmReport::FirstToken {
                            turn: self.turn,
                            at_ms,
                        };
                        let _ = self.reports.send(first_token).await;
                    }
                    text.push_str(&token);
                    if !self.spoken {
                        continue;
                    }
                    for sentence in splitter.push(&token) {
                        if !self.say(sentence, &mut lines).await {
                            return;
                        }
                    }
                    continue;
                }
                Some(Ok(LlmEvent::ToolCallReceived(call))) => {
                    tool_calls.push(call);
                    continue;
                }
                Some(Err(e)) => {
                    break LlmReport::Failed {
                        turn: self.turn,
                        error: e.to_string(),
                        lines,
                    };
                }
                Some(Ok(LlmEvent::Finished { usage })) => usage,
                None => Usage::default(),
            };
            if let Some(rest) = splitter.finish().filter(|_| self.spoken) {
                if !self.say(rest, &mut lines).await {
                    return;
                }
            }
            let text = text.trim().to_string();
            break LlmReport::Done {
                turn: self.turn,
                text,
                tool_calls,
                lines,
                usage,
            };
        };
        let _ = self.reports.send(report).await;
    }

    async fn say(&self, text: String, lines: &mut usize) -> bool {
        let utterance = self.first_utterance + *lines as u64;
        *lines += 1;
        let queued = LlmReport::LineQueued {
            turn: self.turn,
            utterance,
            text: text.clone(),
        };
        if self.reports.send(queued).await.is_err() {
            return false;
        }
        let request = SpeakRequest {
            turn: self.turn,
            utterance,
            text,
            interruptible: true,
        };
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => false,
            sent = self.speak.send(request) => sent.is_ok(),
        }
    }
}
