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
                pool.transcribe(&decode)
            })
            .await;
            match joined {
                Ok(Ok(t)) => Ok(SttResult {
                    text: t.text,
                    confidence: t.confidence,
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
