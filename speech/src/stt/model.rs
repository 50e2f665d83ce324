//! The whisper model: loaded once per process from a ggml file and shared (`Arc`) by every pool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use whisper_rs::{WhisperContext, WhisperContextParameters, WhisperState, WhisperTokenId};

use super::SttError;

/// A loaded whisper model (weights only; decoding state lives in [`super::WhisperPool`]).
pub struct WhisperModel {
    ctx: WhisperContext,
    path: PathBuf,
}

impl std::fmt::Debug for WhisperModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperModel")
            .field("path", &self.path)
            .finish()
    }
}

/// Routes whisper.cpp/ggml logging into `tracing` (target `whisper_rs::…`) instead of stderr.
pub(crate) fn quiet_native_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(whisper_rs::install_logging_hooks);
}

impl WhisperModel {
    /// Loads a ggml whisper model (CPU only). Call once per process and share the `Arc`.
    ///
    /// # Errors
    /// [`SttError::ModelMissing`] if the file does not exist, [`SttError::Load`] if whisper.cpp
    /// rejects it.
    pub fn load(path: &Path) -> Result<Arc<Self>, SttError> {
        if !path.is_file() {
            return Err(SttError::ModelMissing(path.to_path_buf()));
        }
        quiet_native_logs();
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        let ctx =
            WhisperContext::new_with_params(path, params).map_err(|source| SttError::Load {
                path: path.to_path_buf(),
                source,
            })?;
        tracing::info!(path = %path.display(), multilingual = ctx.is_multilingual(), "Loaded whisper model.");
        Ok(Arc::new(Self {
            ctx,
            path: path.to_path_buf(),
        }))
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the model knows languages other than English.
    pub fn is_multilingual(&self) -> bool {
        self.ctx.is_multilingual()
    }

    /// Maximum encoder context (1500 frames = 30 s).
    pub fn max_audio_ctx(&self) -> i32 {
        self.ctx.n_audio_ctx()
    }

    pub(crate) fn new_state(&self) -> Result<WhisperState, SttError> {
        self.ctx.create_state().map_err(SttError::State)
    }

    pub(crate) fn eot(&self) -> WhisperTokenId {
        self.ctx.token_eot()
    }

    /// Tokens of a prompt, NUL bytes removed, at most `max` tokens (keeping the end).
    pub(crate) fn prompt_tokens(&self, prompt: &str, max: usize) -> Vec<WhisperTokenId> {
        let clean: String = prompt.chars().filter(|c| *c != '\0').collect();
        let clean = format!(" {}", clean.trim());
        if clean.trim().is_empty() {
            return Vec::new();
        }
        match self.ctx.tokenize(&clean, 1024) {
            Ok(tokens) => tokens[tokens.len().saturating_sub(max)..].to_vec(),
            Err(e) => {
                tracing::warn!(error = %e, "Could not tokenize the STT prompt; decoding without it.");
                Vec::new()
            }
        }
    }

    /// Checks a language code against this model.
    pub(crate) fn check_language(&self, language: &str) -> Result<(), SttError> {
        let known = whisper_rs::get_lang_id(language).is_some();
        if known && (self.is_multilingual() || language == "en") {
            Ok(())
        } else {
            Err(SttError::UnsupportedLanguage(language.to_string()))
        }
    }
}
