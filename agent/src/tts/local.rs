//! Local TTS voices: hibari (ONNX, the offline default) and espeak-ng (a subprocess, the
//! fallback). Synthesis runs on tokio's blocking pool; hibari streams chunks as the vocoder
//! produces them, through a small bounded channel, so the first audio of a sentence plays
//! while the rest is still being made.

use std::sync::Arc;

use futures::stream::BoxStream;
use futures::StreamExt;
use speech::tts::{EspeakVoice, HibariVoice, SynthOptions};
use tokio::sync::mpsc;

use super::{TtsProvider, TtsRequest};
use crate::provider::{ErrorClass, ProviderError};

pub struct LocalHibari {
    voice: Arc<HibariVoice>,
}

impl LocalHibari {
    pub fn new(voice: Arc<HibariVoice>) -> Self {
        Self { voice }
    }
}

impl TtsProvider for LocalHibari {
    fn name(&self) -> &'static str {
        "hibari"
    }

    fn sample_rate(&self) -> u32 {
        self.voice.sample_rate()
    }

    fn synthesize(
        &self,
        request: TtsRequest,
    ) -> BoxStream<'static, Result<Vec<i16>, ProviderError>> {
        let voice = self.voice.clone();
        // Room for several seconds of audio, so the next sentence's inference runs while the
        // current one plays (no gap between sentences); dropped with the stream on barge-in.
        let (tx, rx) = mpsc::channel(64);
        tokio::task::spawn_blocking(move || {
            let err = |e: speech::tts::TtsError| {
                ProviderError::new("hibari", ErrorClass::InvalidRequest, e.to_string())
            };
            let stream = match voice.stream(&request.text, &SynthOptions::default()) {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.blocking_send(Err(err(e)));
                    return;
                }
            };
            for chunk in stream {
                let item = chunk.map(|c| audio::f32_to_i16(&c)).map_err(err);
                // The receiver is gone when the line was interrupted: stop synthesising.
                if tx.blocking_send(item).is_err() {
                    return;
                }
            }
        });
        futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .boxed()
    }
}

pub struct LocalEspeak {
    voice: EspeakVoice,
    /// Rate the audio is resampled to, so espeak can stand in for a voice of another rate.
    rate: u32,
}

impl LocalEspeak {
    pub fn new(voice: EspeakVoice) -> Self {
        Self {
            voice,
            rate: speech::tts::ESPEAK_SAMPLE_RATE,
        }
    }

    /// Yields audio at `rate` (8, 16, 22.05, 24 or 48 kHz) instead of espeak's own.
    pub fn at_rate(voice: EspeakVoice, rate: audio::SampleRate) -> Self {
        Self {
            voice,
            rate: rate.hz(),
        }
    }
}

impl TtsProvider for LocalEspeak {
    fn name(&self) -> &'static str {
        "espeak-ng"
    }

    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn synthesize(
        &self,
        request: TtsRequest,
    ) -> BoxStream<'static, Result<Vec<i16>, ProviderError>> {
        let voice = self.voice.clone();
        let rate = self.rate;
        let fut = async move {
            let joined = tokio::task::spawn_blocking(move || {
                let (pcm, from) = voice.synthesize(&request.text)?;
                let (from, to) = (audio::SampleRate::new(from), audio::SampleRate::new(rate));
                match (from, to) {
                    (Ok(from), Ok(to)) => audio::resample_all(&pcm, from, to)
                        .map_err(|e| speech::tts::TtsError::Espeak(e.to_string())),
                    _ => Err(speech::tts::TtsError::Espeak(format!(
                        "unusable rate {rate} Hz"
                    ))),
                }
            })
            .await;
            match joined {
                Ok(Ok(pcm)) => Ok(pcm),
                Ok(Err(e)) => Err(ProviderError::new(
                    "espeak-ng",
                    ErrorClass::Server,
                    e.to_string(),
                )),
                Err(e) => Err(ProviderError::new(
                    "espeak-ng",
                    ErrorClass::Server,
                    e.to_string(),
                )),
            }
        };
        futures::stream::once(fut).boxed()
    }
}
