//! Resilience layers for LLM providers, composed as wrappers that implement [`LlmProvider`]
//! themselves, so the conversation stage never knows they are there:
//!
//! - [`Retry`]: retries retryable failures (rate limit, connectivity, server) that happen
//!   before the first event, with backoff.
//! - [`Fallback`]: primary → secondary → ...: the next provider gets the request when the
//!   previous one fails before its first event.
//! - [`FirstTokenDeadline`]: a hard bound on the wait for the first event, whatever the
//!   provider.
//!
//! After the first event every layer passes the stream through unchanged: a mid-answer failure
//! reaches the turn engine as an error, never as a replayed or spliced answer. A typical stack:
//! `FirstTokenDeadline(Fallback[Retry(openai), groq])`.

pub(crate) mod streams;

use std::{sync::Arc, time::Duration};

use futures::stream::BoxStream;

pub use streams::RetryPolicy;

use crate::llm::{ChatRequest, LlmEvent, LlmProvider};
use crate::provider::ProviderError;
use streams::Opener;

/// Retries a request that failed before its first event, if the failure is retryable.
pub struct Retry {
    inner: Arc<dyn LlmProvider>,
    policy: RetryPolicy,
}

impl Retry {
    pub fn new(inner: Arc<dyn LlmProvider>, policy: RetryPolicy) -> Self {
        Self { inner, policy }
    }
}

impl LlmProvider for Retry {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn stream(&self, request: ChatRequest) -> BoxStream<'static, Result<LlmEvent, ProviderError>> {
        let inner = self.inner.clone();
        streams::retry_before_first(move || inner.stream(request.clone()), self.policy)
    }
}

/// Sends the request to the first provider that starts answering.
pub struct Fallback {
    chain: Vec<Arc<dyn LlmProvider>>,
}

impl Fallback {
    /// A chain that starts with `primary`; add further providers with [`Fallback::then`].
    pub fn new(primary: Arc<dyn LlmProvider>) -> Self {
        Self {
            chain: vec![primary],
        }
    }

    /// Appends a provider to try when all before it failed before their first event.
    pub fn then(mut self, next: Arc<dyn LlmProvider>) -> Self {
        self.chain.push(next);
        self
    }
}

impl LlmProvider for Fallback {
    /// The primary's name; errors carry the name of the provider that actually failed.
    fn name(&self) -> &'static str {
        self.chain[0].name()
    }

    fn stream(&self, request: ChatRequest) -> BoxStream<'static, Result<LlmEvent, ProviderError>> {
        let openers = self
            .chain
            .iter()
            .map(|provider| {
                let provider = provider.clone();
                let request = request.clone();
                Box::new(move || provider.stream(request)) as Opener<LlmEvent>
            })
            .collect();
        streams::first_that_starts(openers)
    }
}

/// Ends the request with a `Connectivity` error if no event arrives within `limit`.
pub struct FirstTokenDeadline {
    inner: Arc<dyn LlmProvider>,
    limit: Duration,
}

impl FirstTokenDeadline {
    pub fn new(inner: Arc<dyn LlmProvider>, limit: Duration) -> Self {
        Self { inner, limit }
    }
}

impl LlmProvider for FirstTokenDeadline {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn stream(&self, request: ChatRequest) -> BoxStream<'static, Result<LlmEvent, ProviderError>> {
        streams::first_item_deadline(self.inner.stream(request), self.limit, self.inner.name())
    }
}
