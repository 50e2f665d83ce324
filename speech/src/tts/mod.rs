//! Local speech synthesis: the last stage of VAD → STT → LLM → **TTS**.
//!
//! Two voices, both synchronous and CPU-bound (the agent runs them on blocking threads):
//!
//! - [`HibariVoice`]: the offline default. An ONNX acoustic model (hibari, Apache-2.0) predicts
//!   spectral frames from phoneme ids; [`vocoder`] turns them into 24 kHz audio. Text becomes
//!   phonemes through our own English [`g2p`] (lexicon + normaliser + OOV network), so no GPL
//!   code is linked. Loaded once per process and shared (`Arc`), `Send + Sync`.
//! - [`EspeakVoice`]: an `espeak-ng` subprocess (GPL, never linked). A fallback voice and the
//!   voice of simulated callers in demos and tests.
//!
//! [`SentenceSplitter`] cuts a stream of LLM tokens into speakable pieces so the first audio can
//! start before the LLM has finished.

mod espeak;
pub mod g2p;
mod hibari;
mod ort_env;
mod splitter;
pub mod vocoder;

pub use espeak::{EspeakVoice, ESPEAK_SAMPLE_RATE, ESPEAK_TIMEOUT};
pub use hibari::{HibariStream, HibariVoice, SynthOptions, HIBARI_SAMPLE_RATE};
pub use splitter::SentenceSplitter;

use std::path::PathBuf;

/// Errors of the speech synthesis layer.
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    /// A model or data file is missing from the model store.
    #[error("missing TTS model file {path}: run `cargo run -p switchboard -- models fetch`")]
    MissingModel {
        /// The file that was looked for.
        path: PathBuf,
    },
    /// The ONNX Runtime shared library could not be found or loaded.
    #[error("ONNX Runtime library unavailable ({0}); set ORT_DYLIB_PATH or run `cargo run -p switchboard -- models fetch`")]
    Runtime(String),
    /// ONNX Runtime failed to load or run a model.
    #[error("ONNX Runtime error: {0}")]
    Onnx(String),
    /// A data file (vocabulary, lexicon, tables) could not be read or parsed.
    #[error("bad TTS data file {path}: {reason}")]
    BadData {
        /// The offending file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// The model produced something other than the expected tensors.
    #[error("unexpected model output: {0}")]
    BadOutput(String),
    /// Synthesis options out of range.
    #[error("invalid synthesis options: {0}")]
    InvalidOptions(String),
    /// `espeak-ng` is not installed.
    #[error("espeak-ng not found on PATH: install it with `apt-get install espeak-ng`")]
    EspeakMissing,
    /// `espeak-ng` ran but failed or produced unusable output.
    #[error("espeak-ng failed: {0}")]
    Espeak(String),
    /// `espeak-ng` did not finish within its deadline.
    #[error("espeak-ng timed out after {0:?}")]
    EspeakTimeout(std::time::Duration),
}

impl From<ort::Error> for TtsError {
    fn from(e: ort::Error) -> Self {
        TtsError::Onnx(e.to_string())
    }
}
