//! The LLM-only conversation: a system prompt, a greeting, then every caller turn goes to the
//! LLM with the whole history. Used when no dialogue script is configured.

use super::{
    CallMs, Conversation, ConversationEffect, ConversationEvent, ListenSpec, Outcome, UtteranceId,
};
use crate::llm::{ChatMessage, ChatRequest};

/// Settings of an LLM-only conversation.
#[derive(Debug, Clone)]
pub struct LlmChatConfig {
    pub system_prompt: String,
    pub greeting: String,
    /// Said once when the caller stays silent; a second silence ends the call.
    pub still_there: String,
    pub goodbye: String,
    pub max_tokens: u32,
}

impl Default for LlmChatConfig {
    fn default() -> Self {
        Self {
            system_prompt: "You are a friendly, concise phone assistant. Answer in one or two \
                            short spoken sentences, without lists or markup."
                .into(),
            greeting: "Hello! How can I help you today?".into(),
            still_there: "Are you still there?".into(),
            goodbye: "It seems we got disconnected. Goodbye!".into(),
            max_tokens: 160,
        }
    }
}

pub struct LlmChat {
    config: LlmChatConfig,
    history: Vec<ChatMessage>,
    next_utterance: UtteranceId,
    silences: u32,
}

impl LlmChat {
    pub fn new(config: LlmChatConfig) -> Self {
        let history = vec![ChatMessage::System {
            content: config.system_prompt.clone(),
        }];
        Self {
            config,
            history,
            next_utterance: 1,
            silences: 0,
        }
    }

    fn say(&mut self, text: String) -> ConversationEffect {
        let id = self.next_utterance;
        self.next_utterance += 1;
        ConversationEffect::Say {
            id,
            text,
            interruptible: true,
        }
    }

    fn ask(&self) -> ConversationEffect {
        ConversationEffect::AskLlm {
            request: ChatRequest {
                messages: self.history.clone(),
                max_tokens: Some(self.config.max_tokens),
                ..ChatRequest::default()
            },
            spoken: true,
        }
    }
}

impl Conversation for LlmChat {
    fn handle(&mut self, event: ConversationEvent, _now: CallMs) -> Vec<ConversationEffect> {
        let listen = ConversationEffect::Listen(ListenSpec::default());
        match event {
            ConversationEvent::CallAnswered | ConversationEvent::PutThrough => {
                let greeting = self.config.greeting.clone();
                self.history.push(ChatMessage::Assistant {
                    content: greeting.clone(),
                    tool_calls: Vec::new(),
                });
                vec![self.say(greeting), listen]
            }
            ConversationEvent::CallerSaid { text, .. } => {
                self.silences = 0;
                self.history.push(ChatMessage::User { content: text });
                vec![self.ask()]
            }
            ConversationEvent::DtmfReceived { digit } => {
                self.history.push(ChatMessage::User {
                    content: format!("(pressed key {digit})"),
                });
                vec![self.ask()]
            }
            ConversationEvent::LlmReplied { text, .. } => {
                self.history.push(ChatMessage::Assistant {
                    content: text,
                    tool_calls: Vec::new(),
                });
                vec![listen]
            }
            ConversationEvent::LlmFailed { .. } => vec![listen],
            ConversationEvent::CallerSilent => {
                self.silences += 1;
                if self.silences >= 2 {
                    let bye = self.config.goodbye.clone();
                    vec![
                        self.say(bye),
                        ConversationEffect::Hangup(Outcome::new("reached", "caller_silent")),
                    ]
                } else {
                    let text = self.config.still_there.clone();
                    vec![self.say(text), listen]
                }
            }
            ConversationEvent::MaxDurationReached => {
                let bye = self.config.goodbye.clone();
                vec![
                    self.say(bye),
                    ConversationEffect::Hangup(Outcome::new("reached", "max_duration")),
                ]
            }
            ConversationEvent::VoicemailDetected => {
                vec![ConversationEffect::Hangup(Outcome::new(
                    "voicemail",
                    "voicemail",
                ))]
            }
            ConversationEvent::CallerHungUp => vec![ConversationEffect::Hangup(Outcome::new(
                "reached",
                "caller_hung_up",
            ))],
            ConversationEvent::SayFinished { .. }
            | ConversationEvent::TimerFired { .. }
            | ConversationEvent::ToolFinished { .. }
            | ConversationEvent::HumanJoined { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_turn_is_sent_to_the_llm_with_history() {
        let mut chat = LlmChat::new(LlmChatConfig::default());
        let first = chat.handle(ConversationEvent::CallAnswered, 0);
        assert!(matches!(first[0], ConversationEffect::Say { .. }));
        let effects = chat.handle(
            ConversationEvent::CallerSaid {
                text: "What are your opening hours?".into(),
                confidence: 0.9,
            },
            3_000,
        );
        let ConversationEffect::AskLlm { request, .. } = &effects[0] else {
            panic!("expected AskLlm, got {effects:?}");
        };
        assert_eq!(request.messages.len(), 3, "system, greeting, caller");
        assert!(
            matches!(&request.messages[2], ChatMessage::User { content } if content.contains("opening"))
        );
    }

    #[test]
    fn second_silence_hangs_up() {
        let mut chat = LlmChat::new(LlmChatConfig::default());
        chat.handle(ConversationEvent::CallAnswered, 0);
        let once = chat.handle(ConversationEvent::CallerSilent, 8_000);
        assert!(!once
            .iter()
            .any(|e| matches!(e, ConversationEffect::Hangup(_))));
        let twice = chat.handle(ConversationEvent::CallerSilent, 16_000);
        assert!(twice
            .iter()
            .any(|e| matches!(e, ConversationEffect::Hangup(o) if o.reason == "caller_silent")));
    }
}
