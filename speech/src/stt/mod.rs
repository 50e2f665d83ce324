//! Local speech recognition: whisper.cpp (through whisper-rs) turns one finished utterance
//! (16 kHz mono f32, cut by the VAD stage) into a [`Transcript`] for the dialogue/LLM stage.
//!
//! Load the model once per process ([`WhisperModel::load`]) and share one [`WhisperPool`]: it
//! holds a bounded set of decoder states, and [`WhisperPool::transcribe`] blocks until one is
//! free, so callers run it on a blocking thread. Decoding is tuned for short replies on CPU:
//! `audio_ctx` sized to the utterance, greedy, no timestamps, one thread per decode.

mod audio;
mod model;
mod params;
mod pool;

pub use audio::{AudioCheck, SILENCE_RMS};
pub use model::WhisperModel;
pub use params::audio_ctx_for;
pub use pool::WhisperPool;

use std::path::PathBuf;

/// Sample rate every request must use.
pub const SAMPLE_RATE: u32 = 16_000;

/// One utterance to transcribe.
#[derive(Debug, Clone, Copy)]
pub struct DecodeRequest<'a> {
    /// Mono PCM at 16 kHz, nominally in −1..1.
    pub audio_16k: &'a [f32],
    /// Vocabulary hint shown to the decoder as preceding text (e.g. "1, 2, 3, 4, 5").
    pub initial_prompt: Option<&'a str>,
    /// ISO 639-1 code; English-only models accept only `"en"`.
    pub language: &'a str,
    /// Upper bound on decoded tokens (≈ 64 for a spoken reply; more for long audio).
    pub max_tokens: u32,
    /// Whisper's temperature fallback: a decode that looks failed is retried at higher
    /// temperatures (slow). Off for speculative partials, whose successor comes soon.
    pub fallback: bool,
}

/// Tokens a decode may produce per second of audio: fast English runs ~4.5 (3.5 words a
/// second); the bound stops a decoder loop, never a long utterance's last words.
const TOKENS_PER_SECOND: u32 = 6;

impl<'a> DecodeRequest<'a> {
    /// English, no prompt, tokens bounded by the audio's length (at least 64).
    pub fn new(audio_16k: &'a [f32]) -> Self {
        Self {
            audio_16k,
            initial_prompt: None,
            language: "en",
            max_tokens: token_bound(audio_16k.len(), 64),
            fallback: true,
        }
    }

    /// A speculative partial: one greedy pass, no temperature fallback, and a tighter token
    /// bound (at least 32): its successor comes soon.
    pub fn partial(mut self) -> Self {
        self.fallback = false;
        self.max_tokens = token_bound(self.audio_16k.len(), 32);
        self
    }

    /// Sets the vocabulary hint.
    pub fn with_prompt(mut self, prompt: &'a str) -> Self {
        self.initial_prompt = Some(prompt);
        self
    }
}

/// The token bound of a decode of `samples` (16 kHz), at least `floor`: a 14 s voicemail
/// greeting says ~45 words, past a fixed bound of 32 ("…please hang up and dial 911. Otherwise"
/// and not the "leave a message" that follows).
fn token_bound(samples: usize, floor: u32) -> u32 {
    let seconds = samples.div_ceil(SAMPLE_RATE as usize) as u32;
    floor.max(8 + seconds * TOKENS_PER_SECOND)
}

/// Result of one decode.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    /// Recognised text, trimmed; empty for silence, noise or too-short audio.
    pub text: String,
    /// Mean log-probability of the text tokens (0 is certain; −∞ when there is no text).
    pub avg_logprob: f32,
    /// Geometric-mean token probability, 0..1 (`exp(avg_logprob)`); 0 for empty text.
    pub confidence: f32,
    /// whisper's probability that the audio holds no speech, when it produced a segment
    /// (`None` when the audio was rejected early or whisper dropped it as no speech).
    pub no_speech_prob: Option<f32>,
    /// Wall time spent in whisper (0 when the audio was rejected before decoding).
    pub decode_ms: f64,
}

impl Transcript {
    /// The empty result for audio that holds no speech.
    pub fn empty() -> Self {
        Self {
            text: String::new(),
            avg_logprob: f32::NEG_INFINITY,
            confidence: 0.0,
            no_speech_prob: None,
            decode_ms: 0.0,
        }
    }
}

/// Errors of the local STT core.
#[derive(Debug, thiserror::Error)]
pub enum SttError {
    /// The model file does not exist.
    #[error("whisper model not found at {0}: run `switchboard models fetch`")]
    ModelMissing(PathBuf),
    /// whisper.cpp refused the file.
    #[error("cannot load whisper model {path}: {source} (corrupt? delete it and run `switchboard models fetch`)")]
    Load {
        path: PathBuf,
        source: whisper_rs::WhisperError,
    },
    /// Allocating a decoder state failed (out of memory).
    #[error("cannot create a whisper decoder state: {0}")]
    State(whisper_rs::WhisperError),
    /// The audio holds NaN/∞ or is far outside −1..1.
    #[error("invalid audio: {0}")]
    InvalidAudio(String),
    /// The model does not know this language.
    #[error("language `{0}` is not supported by this whisper model")]
    UnsupportedLanguage(String),
    /// whisper.cpp failed while decoding.
    #[error("whisper decode failed: {0}")]
    Decode(whisper_rs::WhisperError),
}
