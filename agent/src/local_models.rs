//! The local models of a process, loaded once at startup and shared by every call: Silero VAD,
//! the whisper decoder pool (tiny.en, or base with `SWITCHBOARD_WHISPER=base`) and the hibari
//! voice, all from the model store. A missing model is a startup error that names the command
//! to fetch it.

use std::sync::Arc;

use anyhow::Context;
use audio::vad::{SileroModel, SileroVad, VoiceDetector};
use audio::SampleRate;
use speech::models::{ModelStore, WhisperSize};
use speech::stt::{WhisperModel, WhisperPool};
use speech::tts::{EspeakVoice, HibariVoice};

use crate::call::session::Providers;
use crate::stt::whisper::LocalWhisper;
use crate::tts::local::{LocalEspeak, LocalHibari};
use crate::tts::resilient::TtsFallback;
use crate::tts::TtsProvider;

/// Shared, read-only models. Cloning is cheap.
#[derive(Clone)]
pub struct LocalModels {
    pub silero: Arc<SileroModel>,
    pub whisper: Arc<WhisperPool>,
    pub hibari: Arc<HibariVoice>,
}

impl LocalModels {
    /// Loads every local model from `store`.
    ///
    /// # Errors
    /// A missing model (with the fetch command to run) or a model that fails to load.
    pub fn load(store: &ModelStore) -> anyhow::Result<Self> {
        let size = WhisperSize::from_env().map_err(|e| anyhow::anyhow!(e))?;
        store
            .check_with(&[size.model_id()])
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        audio::vad::init_onnx_runtime(store.onnxruntime_lib()).context("loading ONNX Runtime")?;
        let silero = SileroModel::load(store.silero_vad()).context("loading Silero VAD")?;
        let whisper_model = WhisperModel::load(&store.whisper(size)).context("loading whisper")?;
        let whisper = Arc::new(WhisperPool::per_core(whisper_model).context("whisper pool")?);
        let hibari = HibariVoice::load(store.hibari_dir()).context("loading the hibari voice")?;
        Ok(Self {
            silero,
            whisper,
            hibari,
        })
    }

    /// A fresh per-call VAD stream at 16 kHz over the shared model.
    ///
    /// # Errors
    /// Only if the model cannot run at 16 kHz, which would be a broken model file.
    pub fn detector(&self) -> anyhow::Result<Box<dyn VoiceDetector>> {
        Ok(Box::new(SileroVad::new(
            self.silero.clone(),
            SampleRate::HZ_16K,
        )?))
    }

    /// Offline providers: whisper STT, hibari TTS falling back to espeak-ng, no LLM.
    pub fn providers(&self) -> Providers {
        let hibari: Arc<dyn TtsProvider> = Arc::new(LocalHibari::new(self.hibari.clone()));
        let rate = SampleRate::new(hibari.sample_rate()).unwrap_or(SampleRate::HZ_24K);
        let fallback = Arc::new(LocalEspeak::at_rate(
            EspeakVoice::new("en-us+f3", 165),
            rate,
        ));
        let tts: Arc<dyn TtsProvider> = match TtsFallback::new(hibari.clone()).then(fallback, None)
        {
            Ok(chain) => Arc::new(chain),
            Err(e) => {
                tracing::warn!(error = %e, "No fallback voice");
                hibari
            }
        };
        Providers {
            stt: Arc::new(LocalWhisper::new(self.whisper.clone())),
            llm: None,
            tts,
        }
    }
}

/// The espeak-ng voice as a provider (a fallback voice, and the demo's simulated caller).
pub fn espeak(voice: &str) -> Arc<dyn TtsProvider> {
    Arc::new(LocalEspeak::new(EspeakVoice::new(voice, 165)))
}
