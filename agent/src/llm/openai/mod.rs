//! OpenAI-compatible chat completions (OpenAI, Groq, vLLM, Ollama, llama.cpp server) as an
//! [`LlmProvider`]: the conversation stage's request goes out as one streamed
//! `POST {base_url}/chat/completions`, and the SSE answer comes back as tokens, assembled tool
//! calls and a final `Finished` with usage.
//!
//! The stream is lazy: nothing is sent until it is first polled, and dropping it closes the
//! connection (that is how a barge-in cancels a completion). Every wait is bounded by the
//! [`StreamTimeouts`]; every failure is a classified [`ProviderError`] after which the stream
//! ends. Built on `reqwest` and our own SSE decoder (see `sse`, `wire`).

mod config;
pub(crate) mod http;
mod sse;
mod wire;

use std::{collections::VecDeque, fmt, sync::Arc};

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use tokio::time::Instant;

pub use config::OpenAiLlmConfig;
pub use http::{BuildError, Secret, StreamTimeouts};

use crate::llm::{ChatRequest, LlmEvent, LlmProvider};
use crate::provider::ProviderError;
use http::Endpoint;
use sse::SseDecoder;
use wire::{Assembler, Progress};

/// A chat-completions client for one base URL and model. Cheap to clone; clones share the
/// connection pool.
#[derive(Clone)]
pub struct OpenAiLlm {
    endpoint: Arc<Endpoint>,
    model: Arc<str>,
    timeouts: StreamTimeouts,
    include_usage: bool,
}

impl fmt::Debug for OpenAiLlm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiLlm")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

impl LlmProvider for OpenAiLlm {
    fn name(&self) -> &'static str {
        self.endpoint.provider()
    }

    fn stream(&self, request: ChatRequest) -> BoxStream<'static, Result<LlmEvent, ProviderError>> {
        let body = wire::request_body(&self.model, &request, self.include_usage);
        let driver = Driver {
            endpoint: self.endpoint.clone(),
            timeouts: self.timeouts,
            state: State::NotSent(body),
            pending: VecDeque::new(),
        };
        futures::stream::unfold(driver, |mut driver| async move {
            let item = driver.next().await?;
            Some((item, driver))
        })
        .boxed()
    }
}

/// One completion in flight: owns the response body; dropping it closes the connection.
struct Driver {
    endpoint: Arc<Endpoint>,
    timeouts: StreamTimeouts,
    state: State,
    /// Events decoded but not yet handed out.
    pending: VecDeque<LlmEvent>,
}

enum State {
    NotSent(serde_json::Value),
    Streaming(Box<Reading>),
    /// `Finished` or an error was produced; the stream yields nothing more.
    Ended,
}

struct Reading {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    sse: SseDecoder,
    assembler: Assembler,
    payloads: Vec<String>,
    first_deadline: Option<Instant>,
    total_deadline: Instant,
}

impl Driver {
    async fn next(&mut self) -> Option<Result<LlmEvent, ProviderError>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            match &mut self.state {
                State::Ended => return None,
                State::NotSent(_) => match self.send().await {
                    Ok(reading) => self.state = State::Streaming(reading),
                    Err(error) => return Some(Err(self.end(error))),
                },
                State::Streaming(reading) => {
                    if let Err(error) =
                        read_some(&self.endpoint, &self.timeouts, reading, &mut self.pending).await
                    {
                        return Some(Err(self.end(error)));
                    }
                    if matches!(self.pending.back(), Some(LlmEvent::Finished { .. })) {
                        self.state = State::Ended;
                    }
                }
            }
        }
    }

    fn end(&mut self, error: ProviderError) -> ProviderError {
        self.state = State::Ended;
        self.pending.clear();
        tracing::debug!(provider = error.provider, class = ?error.class, "Chat completion failed: {}", error.message);
        error
    }

    /// Sends the request and waits for a 2xx status, within the first-token deadline.
    async fn send(&mut self) -> Result<Box<Reading>, ProviderError> {
        let State::NotSent(body) = std::mem::replace(&mut self.state, State::Ended) else {
            unreachable!("send is only called before the request went out");
        };
        let started = Instant::now();
        let total_deadline = started + self.timeouts.total;
        let first_deadline = (started + self.timeouts.first_chunk).min(total_deadline);
        let request = self.endpoint.post().json(&body).send();
        let response = match tokio::time::timeout_at(first_deadline, request).await {
            Err(_) => return Err(self.first_token_timeout()),
            Ok(Err(e)) => return Err(self.endpoint.transport_error("sending the request", &e)),
            Ok(Ok(response)) => response,
        };
        if !response.status().is_success() {
            return Err(self.endpoint.status_error(response, total_deadline).await);
        }
        Ok(Box::new(Reading {
            body: response.bytes_stream().boxed(),
            sse: SseDecoder::default(),
            assembler: Assembler::default(),
            payloads: Vec::new(),
            first_deadline: Some(first_deadline),
            total_deadline,
        }))
    }

    fn first_token_timeout(&self) -> ProviderError {
        self.endpoint
            .timeout_error("no first token", self.timeouts.first_chunk)
    }
}

/// Reads one body chunk and decodes it into `pending`; an empty `pending` after `Ok` just
/// means the chunk completed no event.
async fn read_some(
    endpoint: &Endpoint,
    timeouts: &StreamTimeouts,
    reading: &mut Reading,
    pending: &mut VecDeque<LlmEvent>,
) -> Result<(), ProviderError> {
    let idle_deadline = Instant::now() + timeouts.idle;
    let deadline = reading
        .first_deadline
        .unwrap_or(idle_deadline)
        .min(idle_deadline)
        .min(reading.total_deadline);
    let chunk = match tokio::time::timeout_at(deadline, reading.body.next()).await {
        Ok(chunk) => chunk,
        Err(_) if deadline == reading.total_deadline => {
            return Err(endpoint.timeout_error("completion not finished", timeouts.total));
        }
        Err(_) if Some(deadline) == reading.first_deadline => {
            return Err(endpoint.timeout_error("no first token", timeouts.first_chunk));
        }
        Err(_) => return Err(endpoint.timeout_error("stream stalled: no data", timeouts.idle)),
    };
    let bytes = match chunk {
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => return Err(endpoint.transport_error("reading the stream", &e)),
        None => return end_of_body(endpoint, reading, pending),
    };
    reading.sse.push(&bytes, &mut reading.payloads);
    for payload in reading.payloads.drain(..) {
        let progress = reading
            .assembler
            .feed(&payload, pending)
            .map_err(|e| endpoint.error(e.class, e.message))?;
        match progress {
            Progress::Content => reading.first_deadline = None,
            Progress::Done => return Ok(()),
            Progress::Nothing => {}
        }
    }
    Ok(())
}

/// The body ended without `[DONE]`: fine if the model had already finished, otherwise the
/// answer was cut off.
fn end_of_body(
    endpoint: &Endpoint,
    reading: &mut Reading,
    pending: &mut VecDeque<LlmEvent>,
) -> Result<(), ProviderError> {
    if reading.assembler.finish_seen() && !reading.sse.has_partial_event() {
        return reading
            .assembler
            .finish(pending)
            .map_err(|e| endpoint.error(e.class, e.message));
    }
    Err(endpoint.error(
        crate::provider::ErrorClass::Connectivity,
        "connection closed before the completion finished",
    ))
}
