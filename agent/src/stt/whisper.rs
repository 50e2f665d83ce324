//! Local whisper STT: adapts the shared [`speech::stt::WhisperPool`] to [`SttProvider`].
//! Decodes run on tokio's blocking pool; the pool's bounded decoder states limit how many run
//! at once across all calls, and a semaphore of the same size keeps waiting calls off the
//! blocking threads.

use std::sync::Arc;

use futures::future::BoxFuture;
use speech::stt::{DecodeRequest, WhisperPool};
use tokio::sync::Semaphore;

use super::{SttProvider, SttRequest, SttResult};
use crate::provider::{ErrorClass, ProviderError};

const NAME: &str = "whisper";

pub struct LocalWhisper {
    pool: Arc<WhisperPool>,
    permits: Arc<Semaphore>,
}

impl LocalWhisper {
    pub fn new(pool: Arc<WhisperPool>) -> Self {
        let permits = Arc::new(Semaphore::new(pool.size()));
        Self { pool, permits }
    }
}

impl SttProvider for LocalWhisper {
    fn name(&self) -> &'static str {
        NAME
    }

    fn transcribe(
        &self,
        request: SttRequest,
    ) -> BoxFuture<'static, Result<SttResult, ProviderError>> {
        let pool = self.pool.clone();
        let permits = self.permits.clone();
        // A quick partial's loop is left whole for its reader to discard (answer detection
        // drops a looping reading; collapsed, the loop would read as a clean phrase).
        let quick = request.quick;
        Box::pin(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .map_err(|_| ProviderError::new(NAME, ErrorClass::Server, "decoder pool closed"))?;
            let joined = tokio::task::spawn_blocking(move || {
                let audio = audio::i16_to_f32(&request.audio_16k);
                let mut decode = DecodeRequest::new(&audio);
                decode.language = &request.language;
                if let Some(hints) = request.hints.as_deref() {
                    decode = decode.with_prompt(hints);
                }
                if request.quick {
                    decode = decode.partial();
                }
                pool.transcribe(&decode)
            })
            .await;
            match joined {
                Ok(Ok(t)) => Ok(SttResult {
                    confidence: if t.text.is_empty() {
                        0.0
                    } else {
                        calibrated(t.avg_logprob)
                    },
                    text: if quick {
                        t.text
                    } else {
                        collapse_repeats(&t.text)
                    },
                }),
                Ok(Err(e)) => Err(ProviderError::new(
                    NAME,
                    ErrorClass::InvalidRequest,
                    e.to_string(),
                )),
                Err(e) => Err(ProviderError::new(
                    NAME,
                    ErrorClass::Server,
                    format!("decode task failed: {e}"),
                )),
            }
        })
    }
}

/// Maps whisper's mean token log-probability to a 0..1 confidence. The geometric-mean token
/// probability (`exp`) is far too harsh for downstream thresholds: a correct short phrase
/// often averages −0.6. Whisper's own decoder treats −1.0 as the point where a decode has
/// failed, so that is 0.5 here; −0.3 and above is certain, −1.7 and below worthless.
fn calibrated(avg_logprob: f32) -> f32 {
    if avg_logprob.is_nan() {
        return 0.0;
    }
    (1.0 + (avg_logprob + 0.3) / 1.4).clamp(0.0, 1.0)
}

/// Whisper tiny, prompted with the question, sometimes loops on a short answer ("Four. Four.
/// Four."): a text that is one phrase said over and over becomes that phrase once.
fn collapse_repeats(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let key = |w: &str| {
        w.trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase()
    };
    let keys: Vec<String> = words.iter().map(|w| key(w)).collect();
    for period in 1..=words.len() / 2 {
        if (period..keys.len()).all(|i| keys[i] == keys[i % period]) {
            return words[..period].join(" ");
        }
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::{calibrated, collapse_repeats};

    #[test]
    fn a_looping_transcript_is_said_once() {
        assert_eq!(collapse_repeats("Four. Four. Four."), "Four.");
        assert_eq!(
            collapse_repeats("Yes, please. Yes, please. Yes, please"),
            "Yes, please."
        );
        assert_eq!(collapse_repeats("4 4"), "4");
        assert_eq!(collapse_repeats("no no no I said no"), "no no no I said no");
        assert_eq!(
            collapse_repeats("I would give it a four"),
            "I would give it a four"
        );
    }

    #[test]
    fn whisper_failure_threshold_is_a_coin_flip() {
        assert!((calibrated(-1.0) - 0.5).abs() < 1e-6);
        assert_eq!(calibrated(-0.1), 1.0);
        assert_eq!(calibrated(-3.0), 0.0);
        assert_eq!(calibrated(f32::NEG_INFINITY), 0.0);
        assert!(calibrated(-0.6) > calibrated(-0.9));
    }
}
