//! In-process stand-ins for the benchmarks that measure the engine itself rather than the
//! models: an STT that answers at once, a tone "voice" that yields its audio at once, and a
//! conversation that answers every caller turn with one short line. Also a conversation
//! wrapper that overrides the end-of-turn silence of every listen.

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream};
use futures::StreamExt;
use tokio::time::Instant;

use crate::conversation::{
    CallMs, Conversation, ConversationEffect, ConversationEvent, ListenSpec, Outcome, UtteranceId,
};
use crate::provider::ProviderError;
use crate::stt::{SttProvider, SttRequest, SttResult};
use crate::tts::{TtsProvider, TtsRequest};

/// Transcribes everything as the same text, with no delay.
pub struct InstantStt {
    pub text: String,
}

impl SttProvider for InstantStt {
    fn name(&self) -> &'static str {
        "instant-stt"
    }
    fn transcribe(&self, _: SttRequest) -> BoxFuture<'static, Result<SttResult, ProviderError>> {
        let result = SttResult {
            text: self.text.clone(),
            confidence: 1.0,
        };
        Box::pin(async move { Ok(result) })
    }
}

/// A 24 kHz tone voice: `ms_per_char` of audio per character (at least 200 ms), yielded at
/// once in 100 ms chunks cut from a tone made up front.
pub struct ToneVoice {
    tone: Arc<[i16]>,
    ms_per_char: u32,
}

const TONE_RATE: audio::SampleRate = audio::SampleRate::HZ_24K;
const TONE_CHUNK: usize = 2_400;

impl ToneVoice {
    pub fn new(ms_per_char: u32) -> Self {
        Self {
            tone: audio::synth::sine(440.0, 0.3, 10_000, TONE_RATE).into(),
            ms_per_char,
        }
    }
}

impl TtsProvider for ToneVoice {
    fn name(&self) -> &'static str {
        "tone-voice"
    }
    fn sample_rate(&self) -> u32 {
        TONE_RATE.hz()
    }
    fn synthesize(
        &self,
        request: TtsRequest,
    ) -> BoxStream<'static, Result<Vec<i16>, ProviderError>> {
        let ms = (self.ms_per_char * request.text.chars().count() as u32).clamp(200, 10_000);
        let len = TONE_RATE.samples_for_ms(ms);
        let tone = self.tone.clone();
        stream::iter((0..len.div_ceil(TONE_CHUNK)).map(move |i| {
            let end = ((i + 1) * TONE_CHUNK).min(len);
            Ok(tone[i * TONE_CHUNK..end].to_vec())
        }))
        .boxed()
    }
}

/// Answers every caller turn with `reply`, listening with `end_of_turn_ms` in between, and
/// notes the instant each caller turn reached it (the moment the engine handed it over).
pub struct ReplyConversation {
    pub greeting: Option<String>,
    pub reply: String,
    pub end_of_turn_ms: u32,
    /// Instants at which `CallerSaid` arrived; read by the benchmark after the call.
    pub heard: Arc<Mutex<Vec<Instant>>>,
    next_id: UtteranceId,
}

impl ReplyConversation {
    pub fn new(greeting: Option<&str>, reply: &str, end_of_turn_ms: u32) -> Self {
        Self {
            greeting: greeting.map(str::to_string),
            reply: reply.to_string(),
            end_of_turn_ms,
            heard: Arc::default(),
            next_id: 0,
        }
    }

    fn listen(&self) -> ConversationEffect {
        ConversationEffect::Listen(ListenSpec {
            end_of_turn_silence_ms: self.end_of_turn_ms,
            hints: None,
            no_input_ms: 600_000,
        })
    }

    fn say(&mut self, text: String) -> ConversationEffect {
        self.next_id += 1;
        ConversationEffect::Say {
            id: self.next_id,
            text,
            interruptible: true,
        }
    }
}

impl Conversation for ReplyConversation {
    fn handle(&mut self, event: ConversationEvent, _now: CallMs) -> Vec<ConversationEffect> {
        match event {
            ConversationEvent::CallAnswered => {
                let mut out: Vec<ConversationEffect> = self
                    .greeting
                    .clone()
                    .map(|g| self.say(g))
                    .into_iter()
                    .collect();
                out.push(self.listen());
                out
            }
            ConversationEvent::CallerSaid { .. } => {
                self.heard
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(Instant::now());
                let reply = self.say(self.reply.clone());
                vec![reply, self.listen()]
            }
            ConversationEvent::CallerSilent => vec![self.listen()],
            ConversationEvent::CallerHungUp | ConversationEvent::MaxDurationReached => {
                vec![ConversationEffect::Hangup(Outcome::new(
                    "reached",
                    "bench_done",
                ))]
            }
            _ => Vec::new(),
        }
    }
}

/// Runs `inner` but listens with `end_of_turn_ms` of silence wherever it listens.
pub struct EndOfTurnOverride {
    pub inner: Box<dyn Conversation>,
    pub end_of_turn_ms: u32,
}

impl Conversation for EndOfTurnOverride {
    fn handle(&mut self, event: ConversationEvent, now: CallMs) -> Vec<ConversationEffect> {
        let mut effects = self.inner.handle(event, now);
        for effect in &mut effects {
            if let ConversationEffect::Listen(spec) = effect {
                spec.end_of_turn_silence_ms = self.end_of_turn_ms;
            }
        }
        effects
    }
}

/// The texts the conversation says first when the call is answered (what a greeting cache
/// must hold). Uses a throwaway instance: conversations are deterministic on answer.
pub fn first_lines(conversation: &mut dyn Conversation) -> Vec<String> {
    conversation
        .handle(ConversationEvent::CallAnswered, 0)
        .into_iter()
        .filter_map(|e| match e {
            ConversationEffect::Say { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tone_voice_yields_the_length_asked_for() {
        let voice = ToneVoice::new(60);
        let mut s = voice.synthesize(TtsRequest {
            text: "Okay.".into(),
            voice: None,
        });
        let mut n = 0;
        while let Some(c) = s.next().await {
            n += c.expect("chunk").len();
        }
        assert_eq!(n, TONE_RATE.samples_for_ms(300));
    }

    #[test]
    fn reply_conversation_answers_each_turn_and_override_changes_endpointing() {
        let inner = ReplyConversation::new(Some("Hi."), "Okay.", 400);
        let heard = inner.heard.clone();
        let mut conv = EndOfTurnOverride {
            inner: Box::new(inner),
            end_of_turn_ms: 150,
        };
        let first = conv.handle(ConversationEvent::CallAnswered, 0);
        assert!(matches!(&first[0], ConversationEffect::Say { text, .. } if text == "Hi."));
        assert!(
            matches!(&first[1], ConversationEffect::Listen(l) if l.end_of_turn_silence_ms == 150)
        );
        let said = ConversationEvent::CallerSaid {
            text: "yes".into(),
            confidence: 1.0,
        };
        let effects = conv.handle(said, 1_000);
        assert!(
            matches!(&effects[0], ConversationEffect::Say { text, id: 2, .. } if text == "Okay.")
        );
        assert_eq!(heard.lock().unwrap().len(), 1);
    }
}
