//! Text-to-speech providers: the TTS stage sends one sentence at a time and streams the
//! audio chunks to playout as they arrive.

use futures::stream::BoxStream;

use crate::provider::ProviderError;

pub mod cache;
pub mod local;
pub mod openai;
pub mod resilient;

#[derive(Debug, Clone, PartialEq)]
pub struct TtsRequest {
    pub text: String,
    /// Provider-specific voice name; `None` = the provider's configured default.
    pub voice: Option<String>,
}

/// A sentence-level speech synthesiser.
pub trait TtsProvider: Send + Sync {
    fn name(&self) -> &'static str;
    /// Sample rate of the PCM this provider yields.
    fn sample_rate(&self) -> u32;
    /// Synthesises one sentence; yields mono i16 PCM chunks in order.
    fn synthesize(
        &self,
        request: TtsRequest,
    ) -> BoxStream<'static, Result<Vec<i16>, ProviderError>>;
}
