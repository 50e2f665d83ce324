//! The stream combinators behind the resilience layers, generic over what a provider yields
//! (LLM events, TTS audio chunks). Each decides only *before the first item*: once an item has
//! been handed downstream, the rest of that same stream passes through untouched, errors
//! included, so a half-spoken answer is never replayed or spliced with another one.

use std::time::Duration;

use futures::future::ready;
use futures::stream::{self, BoxStream, StreamExt};

use crate::provider::{ErrorClass, ProviderError};

/// A provider's output stream; it ends after its first error.
pub(crate) type ItemStream<T> = BoxStream<'static, Result<T, ProviderError>>;

/// Something that opens one attempt of the same request.
pub(crate) type Opener<T> = Box<dyn FnOnce() -> ItemStream<T> + Send>;

/// How often and how patiently to retry a request that failed before its first item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 = no retry.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubles for each further one.
    pub initial_backoff: Duration,
    /// Upper bound of one wait.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, 200 ms then 400 ms apart: a caller is waiting on the line.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Yields the first item of `stream`, then the rest of it.
fn resume<T: Send + 'static>(first: T, rest: ItemStream<T>) -> ItemStream<T> {
    stream::once(ready(Ok(first))).chain(rest).boxed()
}

fn fail<T: Send + 'static>(error: ProviderError) -> ItemStream<T> {
    stream::once(ready(Err(error))).boxed()
}

/// Opens attempts with `open` until one yields an item, while failures are retryable and
/// attempts remain, sleeping [`RetryPolicy::backoff`] in between.
pub(crate) fn retry_before_first<T, F>(open: F, policy: RetryPolicy) -> ItemStream<T>
where
    T: Send + 'static,
    F: Fn() -> ItemStream<T> + Send + 'static,
{
    stream::once(async move {
        let mut attempt = 1;
        loop {
            let mut attempt_stream = open();
            match attempt_stream.next().await {
                Some(Ok(first)) => return resume(first, attempt_stream),
                None => return stream::empty().boxed(),
                Some(Err(error)) if error.class.is_retryable() && attempt < policy.max_attempts => {
                    let wait = policy.backoff(attempt);
                    tracing::debug!(
                        provider = error.provider,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "Retrying a provider request that failed before its first output: {}",
                        error.message
                    );
                    drop(attempt_stream);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Some(Err(error)) => return fail(error),
            }
        }
    })
    .flatten()
    .boxed()
}

/// Opens the streams in order until one yields an item; the last one's error is returned if
/// all fail. Every error class falls through: the next provider may have other credentials,
/// limits or models.
pub(crate) fn first_that_starts<T: Send + 'static>(openers: Vec<Opener<T>>) -> ItemStream<T> {
    stream::once(async move {
        let count = openers.len();
        for (position, open) in openers.into_iter().enumerate() {
            let mut candidate = open();
            match candidate.next().await {
                Some(Ok(first)) => return resume(first, candidate),
                None => return stream::empty().boxed(),
                Some(Err(error)) if position + 1 == count => return fail(error),
                Some(Err(error)) => tracing::warn!(
                    provider = error.provider,
                    class = ?error.class,
                    "Provider failed before its first output; falling back: {}",
                    error.message
                ),
            }
        }
        stream::empty().boxed()
    })
    .flatten()
    .boxed()
}

/// Fails with a `Connectivity` error if `inner` yields nothing within `limit` of being first
/// polled; dropping `inner` then cancels its request.
pub(crate) fn first_item_deadline<T: Send + 'static>(
    mut inner: ItemStream<T>,
    limit: Duration,
    provider: &'static str,
) -> ItemStream<T> {
    stream::once(async move {
        match tokio::time::timeout(limit, inner.next()).await {
            Ok(Some(Ok(first))) => resume(first, inner),
            Ok(Some(Err(error))) => fail(error),
            Ok(None) => stream::empty().boxed(),
            Err(_) => fail(ProviderError::new(
                provider,
                ErrorClass::Connectivity,
                format!(
                    "no first output within the {}ms deadline",
                    limit.as_millis()
                ),
            )),
        }
    })
    .flatten()
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
        };
        let waits: Vec<u128> = (1..=5).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 500, 500]);
    }
}
