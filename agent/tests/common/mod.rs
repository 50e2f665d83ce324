//! In-process fake providers for turn-engine tests (scripted, slow, failing, hanging) and
//! helpers to run a local call with them. Calls run on a paused tokio clock, so a ten-second
//! call takes milliseconds and timings are deterministic.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use audio::vad::{EnergyVad, EnergyVadConfig, VadConfig};
use audio::SampleRate;
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream};
use futures::StreamExt;
use switchboard::call::session::{CallSpec, Providers};
use switchboard::conversation::llm_chat::{LlmChat, LlmChatConfig};
use switchboard::conversation::Conversation;
use switchboard::llm::{ChatRequest, LlmEvent, LlmProvider, ToolCall, Usage};
use switchboard::provider::{ErrorClass, ProviderError};
use switchboard::stt::{SttProvider, SttRequest, SttResult};
use switchboard::transport::local_call::{run_local_call, Caller, LocalCallResult};
use switchboard::tts::{TtsProvider, TtsRequest};
use switchboard::turn::TurnConfig;
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

pub const RATE: SampleRate = SampleRate::HZ_16K;

/// Returns scripted transcripts in order (one per transcribed caller turn).
pub struct ScriptedStt {
    lines: Mutex<VecDeque<String>>,
    pub calls: Arc<Mutex<Vec<Option<String>>>>,
}

impl ScriptedStt {
    pub fn new(lines: &[&str]) -> Arc<Self> {
        Arc::new(Self {
            lines: Mutex::new(lines.iter().map(|s| s.to_string()).collect()),
            calls: Arc::default(),
        })
    }
}

impl SttProvider for ScriptedStt {
    fn name(&self) -> &'static str {
        "scripted-stt"
    }
    fn transcribe(
        &self,
        request: SttRequest,
    ) -> BoxFuture<'static, Result<SttResult, ProviderError>> {
        if request.quick {
            // A running partial of a greeting: no words yet; the lines are the turns'.
            return Box::pin(async {
                Ok(SttResult {
                    text: String::new(),
                    confidence: 0.0,
                })
            });
        }
        self.calls.lock().unwrap().push(request.hints.clone());
        let text = self.lines.lock().unwrap().pop_front().unwrap_or_default();
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            Ok(SttResult {
                text,
                confidence: 0.9,
            })
        })
    }
}

/// How the fake voice behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VoiceMode {
    Good,
    /// Pads each sentence as neural voices do: 300 ms of silence before, 400 ms after.
    Padded,
    /// Every request fails before any audio.
    Fails,
    /// Never yields anything.
    Hangs,
}

/// A tone "voice": 60 ms of 440 Hz per character, in 100 ms chunks at 24 kHz.
pub struct ToneTts {
    pub mode: VoiceMode,
    pub chunk_delay: Duration,
}

pub const TONE_MS_PER_CHAR: u32 = 60;

impl TtsProvider for ToneTts {
    fn name(&self) -> &'static str {
        "tone-tts"
    }
    fn sample_rate(&self) -> u32 {
        24_000
    }
    fn synthesize(
        &self,
        request: TtsRequest,
    ) -> BoxStream<'static, Result<Vec<i16>, ProviderError>> {
        match self.mode {
            VoiceMode::Fails => {
                let e =
                    ProviderError::new("tone-tts", ErrorClass::Server, "voice server error 500");
                return stream::iter([Err(e)]).boxed();
            }
            VoiceMode::Hangs => return stream::pending().boxed(),
            VoiceMode::Good | VoiceMode::Padded => {}
        }
        let tone = |text: &str| {
            let ms = TONE_MS_PER_CHAR * text.chars().count() as u32;
            audio::synth::sine(440.0, 0.3, ms.max(200), SampleRate::HZ_24K)
        };
        let tone = if self.mode == VoiceMode::Padded {
            let pad = |ms| audio::synth::silence(ms, SampleRate::HZ_24K);
            let sentences = request.text.split_inclusive(". ");
            sentences
                .flat_map(|s| [pad(300), tone(s), pad(400)])
                .flatten()
                .collect()
        } else {
            tone(&request.text)
        };
        let chunks: Vec<Vec<i16>> = tone.chunks(2_400).map(<[i16]>::to_vec).collect();
        let delay = self.chunk_delay;
        stream::iter(chunks)
            .then(move |c| async move {
                tokio::time::sleep(delay).await;
                Ok(c)
            })
            .boxed()
    }
}

/// How the fake LLM behaves.
#[derive(Clone, Debug)]
pub enum LlmMode {
    /// Streams this reply in small tokens.
    Reply(String),
    Fails,
    Hangs,
    /// Streams the text, then the connection drops.
    BreaksAfter(String),
    /// One reply per request, in order: its text, then a `set_verdict` call when given.
    Replies(Vec<(String, Option<String>)>),
}

pub struct FakeLlm {
    pub mode: LlmMode,
    pub requests: Arc<Mutex<Vec<ChatRequest>>>,
}

impl FakeLlm {
    pub fn new(mode: LlmMode) -> Arc<Self> {
        Arc::new(Self {
            mode,
            requests: Arc::default(),
        })
    }
}

fn tokens(text: &str) -> Vec<Result<LlmEvent, ProviderError>> {
    text.split_inclusive(' ')
        .map(|t| Ok(LlmEvent::TokenReceived(t.to_string())))
        .collect()
}

impl LlmProvider for FakeLlm {
    fn name(&self) -> &'static str {
        "fake-llm"
    }
    fn stream(&self, request: ChatRequest) -> BoxStream<'static, Result<LlmEvent, ProviderError>> {
        let index = {
            let mut requests = self.requests.lock().unwrap();
            requests.push(request);
            requests.len() - 1
        };
        let broken = || {
            ProviderError::new(
                "fake-llm",
                ErrorClass::Connectivity,
                "stream closed mid-answer",
            )
        };
        match &self.mode {
            LlmMode::Reply(text) => {
                let mut items = tokens(text);
                items.push(Ok(LlmEvent::Finished {
                    usage: Usage {
                        prompt_tokens: 20,
                        completion_tokens: 5,
                    },
                }));
                stream::iter(items).boxed()
            }
            LlmMode::Fails => {
                let e =
                    ProviderError::new("fake-llm", ErrorClass::Server, "model overloaded (503)");
                stream::iter([Err(e)]).boxed()
            }
            LlmMode::Hangs => stream::pending().boxed(),
            LlmMode::BreaksAfter(text) => {
                let mut items = tokens(text);
                items.push(Err(broken()));
                stream::iter(items).boxed()
            }
            LlmMode::Replies(replies) => {
                let Some((text, verdict)) = replies.get(index) else {
                    let e = ProviderError::new("fake-llm", ErrorClass::Server, "no more replies");
                    return stream::iter([Err(e)]).boxed();
                };
                let mut items = tokens(text);
                if let Some(verdict) = verdict {
                    items.push(Ok(LlmEvent::ToolCallReceived(ToolCall {
                        id: format!("call{index}"),
                        name: "set_verdict".into(),
                        arguments: serde_json::json!({ "verdict": verdict }).to_string(),
                    })));
                }
                items.push(Ok(LlmEvent::Finished {
                    usage: Usage::default(),
                }));
                stream::iter(items).boxed()
            }
        }
    }
}

pub fn energy_detector() -> Box<dyn audio::vad::VoiceDetector> {
    Box::new(EnergyVad::new(RATE, EnergyVadConfig::default()).expect("energy VAD"))
}

pub fn vad_config() -> VadConfig {
    VadConfig {
        min_silence_ms: 200,
        ..VadConfig::default()
    }
}

/// An LLM-only conversation whose greeting is `greeting`.
pub fn chat(greeting: &str) -> Box<dyn Conversation> {
    Box::new(LlmChat::new(LlmChatConfig {
        greeting: greeting.into(),
        ..LlmChatConfig::default()
    }))
}

/// A conversation running `agent/tests/fixtures/<name>` with no variables.
pub fn fixture_conversation(name: &str) -> Box<dyn Conversation> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let script = dialogue::load_file(path.as_ref()).expect("fixture compiles");
    Box::new(switchboard::conversation::script::ScriptConversation::new(
        Arc::new(script),
        &std::collections::BTreeMap::new(),
        chrono::Utc::now(),
    ))
}

pub struct Fakes {
    pub stt: Arc<dyn SttProvider>,
    pub llm: Arc<dyn LlmProvider>,
    pub tts: Arc<dyn TtsProvider>,
}

pub fn spec(fakes: Fakes, conversation: Box<dyn Conversation>, turn: TurnConfig) -> CallSpec {
    CallSpec {
        call_id: "test".into(),
        providers: Providers {
            stt: fakes.stt,
            llm: Some(fakes.llm),
            tts: fakes.tts,
        },
        detector: energy_detector(),
        vad: vad_config(),
        turn,
        conversation,
        live: None,
        metrics: Default::default(),
    }
}

/// Silence, then speech-like sound, for each `(start_ms, length_ms)` span.
pub fn caller_audio(spans: &[(u32, u32)], total_ms: u32) -> Vec<i16> {
    let mut audio = audio::synth::silence(total_ms, RATE);
    for (i, (start, len)) in spans.iter().enumerate() {
        let voice = audio::synth::speech_like(140.0, 0.3, *len, RATE, i as u64 + 1);
        let at = RATE.samples_for_ms(*start);
        for (dst, src) in audio[at..].iter_mut().zip(voice) {
            *dst = src;
        }
    }
    audio
}

pub async fn run(spec: CallSpec, caller: Vec<i16>, hang_up_after_ms: u64) -> LocalCallResult {
    let token = CancellationToken::new();
    run_local_call(
        spec,
        Caller::Audio(caller),
        RATE,
        Some(Duration::from_millis(hang_up_after_ms)),
        &token,
    )
    .await
}

/// Ms spans of the recording where the level is above `threshold`, merged across gaps < 60 ms.
pub fn sound_spans(samples: &[i16], threshold: i16) -> Vec<(u64, u64)> {
    let per_ms = RATE.samples_per_ms();
    let mut spans: Vec<(u64, u64)> = Vec::new();
    for (ms, chunk) in samples.chunks(per_ms).enumerate() {
        let loud = chunk.iter().any(|s| s.unsigned_abs() > threshold as u16);
        if !loud {
            continue;
        }
        let ms = ms as u64;
        match spans.last_mut() {
            Some(last) if ms <= last.1 + 60 => last.1 = ms + 1,
            _ => spans.push((ms, ms + 1)),
        }
    }
    spans
}
