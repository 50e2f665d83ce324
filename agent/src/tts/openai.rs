//! OpenAI-compatible speech synthesis (`POST {base_url}/audio/speech`) as a [`TtsProvider`]:
//! the TTS stage sends one sentence, and the raw PCM body (`response_format: "pcm"`, 24 kHz
//! s16le mono for OpenAI) is streamed to playout chunk by chunk as it arrives.
//!
//! Network chunks may split a sample in two; [`PcmDecoder`] carries the odd byte over. The
//! stream is lazy (nothing is sent before the first poll) and dropping it closes the
//! connection. Waits are bounded by [`StreamTimeouts`]; failures are classified errors.

use std::{fmt, sync::Arc, time::Duration};

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use serde_json::json;
use tokio::time::Instant;

use crate::llm::openai::http::Endpoint;
pub use crate::llm::openai::{BuildError, Secret, StreamTimeouts};
use crate::provider::{ErrorClass, ProviderError};
use crate::tts::{TtsProvider, TtsRequest};

/// Where and how to reach an OpenAI-compatible speech API.
#[derive(Debug, Clone)]
pub struct OpenAiTtsConfig {
    /// Short label for logs, metrics and errors.
    pub name: &'static str,
    /// API root, e.g. `https://api.openai.com/v1`; `audio/speech` is appended.
    pub base_url: String,
    pub api_key: Option<Secret>,
    /// e.g. `gpt-4o-mini-tts`, `tts-1`.
    pub model: String,
    /// Used when the request names no voice, e.g. `alloy`.
    pub voice: String,
    /// Rate of the `pcm` the server returns: 24000 for OpenAI.
    pub sample_rate: u32,
    pub timeouts: StreamTimeouts,
}

impl OpenAiTtsConfig {
    pub const DEFAULT_TIMEOUTS: StreamTimeouts = StreamTimeouts {
        connect: Duration::from_secs(3),
        first_chunk: Duration::from_secs(5),
        idle: Duration::from_secs(5),
        total: Duration::from_secs(60),
    };

    /// A config with the default timeouts and OpenAI's 24 kHz PCM.
    pub fn new(
        name: &'static str,
        base_url: impl Into<String>,
        model: impl Into<String>,
        voice: impl Into<String>,
    ) -> Self {
        Self {
            name,
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            voice: voice.into(),
            sample_rate: 24_000,
            timeouts: Self::DEFAULT_TIMEOUTS,
        }
    }

    /// # Errors
    /// An unusable base URL or API key, an empty model or voice, or a zero timeout.
    pub fn build(&self) -> Result<OpenAiTts, BuildError> {
        if self.model.trim().is_empty() {
            return Err(BuildError::EmptyModel);
        }
        if self.voice.trim().is_empty() {
            return Err(BuildError::EmptyVoice);
        }
        self.timeouts.validate()?;
        let endpoint = Endpoint::new(
            self.name,
            &self.base_url,
            "audio/speech",
            self.api_key.as_ref(),
            self.timeouts.connect,
        )?;
        Ok(OpenAiTts {
            endpoint: Arc::new(endpoint),
            model: Arc::from(self.model.as_str()),
            voice: Arc::from(self.voice.as_str()),
            sample_rate: self.sample_rate,
            timeouts: self.timeouts,
        })
    }
}

/// A speech client for one base URL, model and default voice. Clones share the pool.
#[derive(Clone)]
pub struct OpenAiTts {
    endpoint: Arc<Endpoint>,
    model: Arc<str>,
    voice: Arc<str>,
    sample_rate: u32,
    timeouts: StreamTimeouts,
}

impl fmt::Debug for OpenAiTts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiTts")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("voice", &self.voice)
            .finish()
    }
}

impl TtsProvider for OpenAiTts {
    fn name(&self) -> &'static str {
        self.endpoint.provider()
    }

    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn synthesize(
        &self,
        request: TtsRequest,
    ) -> BoxStream<'static, Result<Vec<i16>, ProviderError>> {
        let voice = request.voice.unwrap_or_else(|| self.voice.to_string());
        let body = json!({
            "model": &*self.model,
            "voice": voice,
            "input": request.text,
            "response_format": "pcm",
        });
        let endpoint = self.endpoint.clone();
        let timeouts = self.timeouts;
        futures::stream::once(async move {
            match open(&endpoint, &timeouts, body).await {
                Ok(reading) => pcm_stream(endpoint, timeouts, reading),
                Err(error) => futures::stream::once(async { Err(error) }).boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}

struct Reading {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    decoder: PcmDecoder,
    first_deadline: Option<Instant>,
    total_deadline: Instant,
    ended: bool,
}

async fn open(
    endpoint: &Endpoint,
    timeouts: &StreamTimeouts,
    body: serde_json::Value,
) -> Result<Reading, ProviderError> {
    let started = Instant::now();
    let total_deadline = started + timeouts.total;
    let first_deadline = (started + timeouts.first_chunk).min(total_deadline);
    let response =
        match tokio::time::timeout_at(first_deadline, endpoint.post().json(&body).send()).await {
            Err(_) => return Err(endpoint.timeout_error("no audio", timeouts.first_chunk)),
            Ok(Err(e)) => return Err(endpoint.transport_error("sending the request", &e)),
            Ok(Ok(response)) => response,
        };
    if !response.status().is_success() {
        return Err(endpoint.status_error(response, total_deadline).await);
    }
    Ok(Reading {
        body: response.bytes_stream().boxed(),
        decoder: PcmDecoder::default(),
        first_deadline: Some(first_deadline),
        total_deadline,
        ended: false,
    })
}

fn pcm_stream(
    endpoint: Arc<Endpoint>,
    timeouts: StreamTimeouts,
    reading: Reading,
) -> BoxStream<'static, Result<Vec<i16>, ProviderError>> {
    futures::stream::unfold(reading, move |mut reading| {
        let endpoint = endpoint.clone();
        async move {
            let item = next_chunk(&endpoint, &timeouts, &mut reading).await?;
            if item.is_err() {
                reading.ended = true;
            }
            Some((item, reading))
        }
    })
    .boxed()
}

/// The next non-empty run of samples; `None` at the end of the body.
async fn next_chunk(
    endpoint: &Endpoint,
    timeouts: &StreamTimeouts,
    reading: &mut Reading,
) -> Option<Result<Vec<i16>, ProviderError>> {
    while !reading.ended {
        let idle_deadline = Instant::now() + timeouts.idle;
        let deadline = reading
            .first_deadline
            .unwrap_or(idle_deadline)
            .min(idle_deadline)
            .min(reading.total_deadline);
        let chunk = match tokio::time::timeout_at(deadline, reading.body.next()).await {
            Ok(chunk) => chunk,
            Err(_) if deadline == reading.total_deadline => {
                return Some(Err(
                    endpoint.timeout_error("speech not finished", timeouts.total)
                ));
            }
            Err(_) if Some(deadline) == reading.first_deadline => {
                return Some(Err(endpoint.timeout_error("no audio", timeouts.first_chunk)));
            }
            Err(_) => {
                return Some(Err(
                    endpoint.timeout_error("audio stalled: no data", timeouts.idle)
                ))
            }
        };
        match chunk {
            Some(Ok(bytes)) => {
                let samples = reading.decoder.push(&bytes);
                if !samples.is_empty() {
                    reading.first_deadline = None;
                    return Some(Ok(samples));
                }
            }
            Some(Err(e)) => return Some(Err(endpoint.transport_error("reading the audio", &e))),
            None => {
                reading.ended = true;
                if reading.decoder.has_carry() {
                    tracing::warn!(
                        provider = endpoint.provider(),
                        "Speech audio ended inside a sample; dropping the odd byte."
                    );
                }
                if reading.first_deadline.is_some() {
                    return Some(Err(
                        endpoint.error(ErrorClass::Server, "the speech response had no audio")
                    ));
                }
            }
        }
    }
    None
}

/// Turns little-endian s16 bytes, split anywhere, into samples.
#[derive(Debug, Default)]
pub(crate) struct PcmDecoder {
    /// The first byte of a sample whose second byte has not arrived yet.
    carry: Option<u8>,
}

impl PcmDecoder {
    pub(crate) fn push(&mut self, mut bytes: &[u8]) -> Vec<i16> {
        let mut samples = Vec::with_capacity(bytes.len().div_ceil(2));
        if let (Some(low), Some((&high, rest))) = (self.carry, bytes.split_first()) {
            samples.push(i16::from_le_bytes([low, high]));
            self.carry = None;
            bytes = rest;
        }
        let mut pairs = bytes.chunks_exact(2);
        samples.extend(
            pairs
                .by_ref()
                .map(|pair| i16::from_le_bytes([pair[0], pair[1]])),
        );
        if let [odd] = pairs.remainder() {
            self.carry = Some(*odd);
        }
        samples
    }

    pub(crate) fn has_carry(&self) -> bool {
        self.carry.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_survive_every_split_of_the_bytes() {
        let samples: Vec<i16> = vec![0, 1, -1, i16::MAX, i16::MIN, 258, -300];
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        for piece in 1..=bytes.len() {
            let mut decoder = PcmDecoder::default();
            let decoded: Vec<i16> = bytes.chunks(piece).flat_map(|c| decoder.push(c)).collect();
            assert_eq!(decoded, samples, "piece {piece}");
            assert!(!decoder.has_carry());
        }
    }

    #[test]
    fn a_single_byte_is_carried() {
        let mut decoder = PcmDecoder::default();
        assert!(decoder.push(&[0x34]).is_empty());
        assert!(decoder.has_carry());
        assert_eq!(decoder.push(&[0x12]), vec![0x1234]);
    }
}
