//! Resilience layers for TTS providers, the same wrappers as `llm::layers` over audio
//! chunks: [`TtsRetry`], [`TtsFallback`] (e.g. cloud voice → local voice, so a provider outage
//! degrades to another voice instead of dead air) and [`TtsFirstChunkDeadline`]. All decide
//! before the first audio chunk only: a sentence is never spoken twice.

use std::{sync::Arc, time::Duration};

use futures::stream::BoxStream;

use crate::llm::layers::streams::{self, Opener};
pub use crate::llm::layers::RetryPolicy;
use crate::provider::ProviderError;
use crate::tts::{TtsProvider, TtsRequest};

/// Retries a sentence whose synthesis failed before its first chunk, if retryable.
pub struct TtsRetry {
    inner: Arc<dyn TtsProvider>,
    policy: RetryPolicy,
}

impl TtsRetry {
    pub fn new(inner: Arc<dyn TtsProvider>, policy: RetryPolicy) -> Self {
        Self { inner, policy }
    }
}

impl TtsProvider for TtsRetry {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn sample_rate(&self) -> u32 {
        self.inner.sample_rate()
    }

    fn synthesize(
        &self,
        request: TtsRequest,
    ) -> BoxStream<'static, Result<Vec<i16>, ProviderError>> {
        let inner = self.inner.clone();
        streams::retry_before_first(move || inner.synthesize(request.clone()), self.policy)
    }
}

/// Why a TTS fallback chain cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fallback voice {next} produces {next_rate} Hz but {primary} produces {primary_rate} Hz")]
pub struct SampleRateMismatch {
    pub primary: &'static str,
    pub primary_rate: u32,
    pub next: &'static str,
    pub next_rate: u32,
}

/// Synthesises with the first provider that starts producing audio. All providers of the
/// chain must produce the same sample rate (playout does not resample per sentence).
pub struct TtsFallback {
    chain: Vec<Arc<dyn TtsProvider>>,
    /// Voice each fallback uses instead of the request's (a primary's voice name rarely
    /// exists at another provider). `None` = that provider's default.
    fallback_voices: Vec<Option<String>>,
}

impl TtsFallback {
    pub fn new(primary: Arc<dyn TtsProvider>) -> Self {
        Self {
            chain: vec![primary],
            fallback_voices: vec![],
        }
    }

    /// Appends a provider (speaking with `voice`, or its default) to try when all before it
    /// failed before their first chunk.
    ///
    /// # Errors
    /// The provider's sample rate differs from the primary's.
    pub fn then(
        mut self,
        next: Arc<dyn TtsProvider>,
        voice: Option<String>,
    ) -> Result<Self, SampleRateMismatch> {
        let primary = &self.chain[0];
        if next.sample_rate() != primary.sample_rate() {
            return Err(SampleRateMismatch {
                primary: primary.name(),
                primary_rate: primary.sample_rate(),
                next: next.name(),
                next_rate: next.sample_rate(),
            });
        }
        self.chain.push(next);
        self.fallback_voices.push(voice);
        Ok(self)
    }
}

impl TtsProvider for TtsFallback {
    fn name(&self) -> &'static str {
        self.chain[0].name()
    }

    fn sample_rate(&self) -> u32 {
        self.chain[0].sample_rate()
    }

    fn synthesize(
        &self,
        request: TtsRequest,
    ) -> BoxStream<'static, Result<Vec<i16>, ProviderError>> {
        let voices = std::iter::once(request.voice.clone()).chain(self.fallback_voices.clone());
        let openers = self
            .chain
            .iter()
            .zip(voices)
            .map(|(provider, voice)| {
                let provider = provider.clone();
                let request = TtsRequest {
                    text: request.text.clone(),
                    voice,
                };
                Box::new(move || provider.synthesize(request)) as Opener<Vec<i16>>
            })
            .collect();
        streams::first_that_starts(openers)
    }
}

/// Ends a synthesis with a `Connectivity` error if no audio arrives within `limit`.
pub struct TtsFirstChunkDeadline {
    inner: Arc<dyn TtsProvider>,
    limit: Duration,
}

impl TtsFirstChunkDeadline {
    pub fn new(inner: Arc<dyn TtsProvider>, limit: Duration) -> Self {
        Self { inner, limit }
    }
}

impl TtsProvider for TtsFirstChunkDeadline {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn sample_rate(&self) -> u32 {
        self.inner.sample_rate()
    }

    fn synthesize(
        &self,
        request: TtsRequest,
    ) -> BoxStream<'static, Result<Vec<i16>, ProviderError>> {
        streams::first_item_deadline(
            self.inner.synthesize(request),
            self.limit,
            self.inner.name(),
        )
    }
}
