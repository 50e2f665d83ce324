//! Speech-to-text providers: the STT stage hands over one endpointed caller utterance and
//! gets its transcript back. Local whisper decodes on a shared bounded pool; cloud providers
//! speak their own wire formats.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Serialize;

use crate::provider::ProviderError;

pub mod openai;
pub mod whisper;

/// One caller utterance to transcribe: 16 kHz mono PCM.
#[derive(Debug, Clone)]
pub struct SttRequest {
    pub audio_16k: Arc<[i16]>,
    /// Words the caller is likely to say now (from the dialogue's current question).
    pub hints: Option<String>,
    pub language: String,
    /// A running partial (answer detection's transcript of a greeting): one quick pass,
    /// a few seconds' worth of tokens, no slow retries; the next partial comes soon.
    pub quick: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SttResult {
    pub text: String,
    /// 0..1; how sure the recogniser is.
    pub confidence: f32,
}

/// An utterance-level speech recogniser.
pub trait SttProvider: Send + Sync {
    fn name(&self) -> &'static str;
    fn transcribe(
        &self,
        request: SttRequest,
    ) -> BoxFuture<'static, Result<SttResult, ProviderError>>;
}
