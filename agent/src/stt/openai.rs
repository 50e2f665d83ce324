//! OpenAI-compatible transcription (`POST {base_url}/audio/transcriptions`: OpenAI, Groq,
//! whisper.cpp server, faster-whisper servers) as an [`SttProvider`]: the STT stage's endpointed
//! 16 kHz utterance goes out as a WAV file in a multipart form with the model, the language and
//! the dialogue's hints as `prompt`; the JSON answer's `text` comes back.
//!
//! `response_format` is `json`, which carries no confidence for whisper models: the result's
//! confidence is then [`UNREPORTED_CONFIDENCE`]. Models that return `logprobs` (requested with
//! `request_logprobs`, e.g. `gpt-4o-transcribe`) get `exp(mean logprob)`.

use std::{fmt, io::Cursor, sync::Arc, time::Duration};

use futures::future::{BoxFuture, FutureExt};
use reqwest::multipart::{Form, Part};
use serde::Deserialize;
use tokio::time::Instant;

use crate::llm::openai::http::Endpoint;
pub use crate::llm::openai::{BuildError, Secret};
use crate::provider::{ErrorClass, ProviderError};
use crate::stt::{SttProvider, SttRequest, SttResult};

/// Confidence reported when the provider gives none: the transcript is taken at face value.
pub const UNREPORTED_CONFIDENCE: f32 = 1.0;

const SAMPLE_RATE: u32 = 16_000;

/// Deadlines for one transcription request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SttTimeouts {
    pub connect: Duration,
    /// From sending the audio to having the whole JSON answer.
    pub total: Duration,
}

/// Where and how to reach an OpenAI-compatible transcription API.
#[derive(Debug, Clone)]
pub struct OpenAiSttConfig {
    /// Short label for logs, metrics and errors.
    pub name: &'static str,
    /// API root, e.g. `https://api.openai.com/v1`; `audio/transcriptions` is appended.
    pub base_url: String,
    pub api_key: Option<Secret>,
    /// e.g. `whisper-1`, `gpt-4o-mini-transcribe`, `whisper-large-v3-turbo` (Groq).
    pub model: String,
    pub timeouts: SttTimeouts,
    /// Send `include[]=logprobs` (only models that support it accept the field).
    pub request_logprobs: bool,
}

impl OpenAiSttConfig {
    pub const DEFAULT_TIMEOUTS: SttTimeouts = SttTimeouts {
        connect: Duration::from_secs(3),
        total: Duration::from_secs(10),
    };

    pub fn new(name: &'static str, base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            name,
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            timeouts: Self::DEFAULT_TIMEOUTS,
            request_logprobs: false,
        }
    }

    /// # Errors
    /// An unusable base URL or API key, an empty model name or a zero timeout.
    pub fn build(&self) -> Result<OpenAiStt, BuildError> {
        if self.model.trim().is_empty() {
            return Err(BuildError::EmptyModel);
        }
        if self.timeouts.total.is_zero() {
            return Err(BuildError::ZeroTimeout("total"));
        }
        let endpoint = Endpoint::new(
            self.name,
            &self.base_url,
            "audio/transcriptions",
            self.api_key.as_ref(),
            self.timeouts.connect,
        )?;
        Ok(OpenAiStt {
            endpoint: Arc::new(endpoint),
            model: Arc::from(self.model.as_str()),
            timeouts: self.timeouts,
            request_logprobs: self.request_logprobs,
        })
    }
}

/// A transcription client for one base URL and model. Clones share the pool.
#[derive(Clone)]
pub struct OpenAiStt {
    endpoint: Arc<Endpoint>,
    model: Arc<str>,
    timeouts: SttTimeouts,
    request_logprobs: bool,
}

impl fmt::Debug for OpenAiStt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiStt")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .finish()
    }
}

#[derive(Debug, Deserialize)]
struct Transcription {
    text: String,
    logprobs: Option<Vec<TokenLogprob>>,
}

#[derive(Debug, Deserialize)]
struct TokenLogprob {
    logprob: f32,
}

impl SttProvider for OpenAiStt {
    fn name(&self) -> &'static str {
        self.endpoint.provider()
    }

    fn transcribe(
        &self,
        request: SttRequest,
    ) -> BoxFuture<'static, Result<SttResult, ProviderError>> {
        let this = self.clone();
        async move { this.run(request).await }.boxed()
    }
}

impl OpenAiStt {
    async fn run(self, request: SttRequest) -> Result<SttResult, ProviderError> {
        let endpoint = &self.endpoint;
        if request.audio_16k.is_empty() {
            return Err(endpoint.error(ErrorClass::InvalidRequest, "no audio to transcribe"));
        }
        let wav = wav_bytes(&request.audio_16k).map_err(|e| {
            endpoint.error(ErrorClass::InvalidRequest, format!("WAV encoding: {e}"))
        })?;
        let file = Part::bytes(wav)
            .file_name("audio.wav")
            .mime_str("audio/wav")
            .map_err(|e| endpoint.error(ErrorClass::InvalidRequest, e.to_string()))?;
        let mut form = Form::new()
            .part("file", file)
            .text("model", self.model.to_string())
            .text("response_format", "json");
        if !request.language.is_empty() {
            form = form.text("language", request.language.clone());
        }
        if let Some(hints) = request.hints.filter(|h| !h.trim().is_empty()) {
            form = form.text("prompt", hints);
        }
        if self.request_logprobs {
            form = form.text("include[]", "logprobs");
        }
        let deadline = Instant::now() + self.timeouts.total;
        let exchange = async {
            let response = endpoint
                .post()
                .multipart(form)
                .send()
                .await
                .map_err(|e| endpoint.transport_error("sending the audio", &e))?;
            if !response.status().is_success() {
                return Err(endpoint.status_error(response, deadline).await);
            }
            response
                .bytes()
                .await
                .map_err(|e| endpoint.transport_error("reading the transcript", &e))
        };
        let body = tokio::time::timeout_at(deadline, exchange)
            .await
            .map_err(|_| endpoint.timeout_error("no transcript", self.timeouts.total))??;
        let transcription: Transcription = serde_json::from_slice(&body).map_err(|e| {
            endpoint.error(
                ErrorClass::Server,
                format!("unreadable transcription response ({e})"),
            )
        })?;
        Ok(SttResult {
            text: transcription.text.trim().to_owned(),
            confidence: confidence(transcription.logprobs.as_deref()),
        })
    }
}

fn confidence(logprobs: Option<&[TokenLogprob]>) -> f32 {
    match logprobs {
        Some(tokens) if !tokens.is_empty() => {
            let mean = tokens.iter().map(|t| t.logprob).sum::<f32>() / tokens.len() as f32;
            mean.exp().clamp(0.0, 1.0)
        }
        _ => UNREPORTED_CONFIDENCE,
    }
}

/// A 16 kHz mono 16-bit WAV file holding `samples`.
fn wav_bytes(samples: &[i16]) -> Result<Vec<u8>, hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let mut writer = hound::WavWriter::new(&mut cursor, spec)?;
    for &sample in samples {
        writer.write_sample(sample)?;
    }
    writer.finalize()?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_round_trips_the_samples() {
        let samples = vec![0i16, 100, -100, i16::MAX, i16::MIN];
        let bytes = wav_bytes(&samples).unwrap();
        let mut reader = hound::WavReader::new(Cursor::new(bytes)).unwrap();
        assert_eq!(reader.spec().sample_rate, 16_000);
        let back: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(back, samples);
    }

    #[test]
    fn confidence_comes_from_logprobs_when_present() {
        let tokens = [
            TokenLogprob { logprob: -0.1 },
            TokenLogprob { logprob: -0.3 },
        ];
        assert!((confidence(Some(&tokens)) - (-0.2f32).exp()).abs() < 1e-6);
        assert_eq!(confidence(None), UNREPORTED_CONFIDENCE);
    }
}
