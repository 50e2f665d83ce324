//! ONNX Runtime setup for the TTS models: find and load the shared library once per process
//! (idempotent, safe to race with the other model users) and build single-threaded sessions.

use std::path::{Path, PathBuf};

use ort::environment::Environment;
use ort::session::Session;

use super::TtsError;

/// Path of the runtime library inside a model store root.
const LIB_IN_STORE: &str = "onnxruntime/libonnxruntime.so";

/// Makes sure the ONNX Runtime library is loaded, sharing the process's single environment
/// with the VAD (`audio::vad::init_onnx_runtime`): ONNX Runtime allows one per process.
/// `ORT_DYLIB_PATH` wins; otherwise the library is looked for in the model store that holds
/// `model_dir` (its parent directory).
///
/// # Errors
/// [`TtsError::Runtime`] when no library file exists or it cannot be loaded.
pub(crate) fn ensure_runtime(model_dir: &Path) -> Result<Environment, TtsError> {
    let path = match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => model_dir
            .parent()
            .map(|root| root.join(LIB_IN_STORE))
            .unwrap_or_else(|| PathBuf::from(LIB_IN_STORE)),
    };
    audio::vad::init_onnx_runtime(&path).map_err(|e| TtsError::Runtime(e.to_string()))
}

/// Builds a session with one intra-op thread, no spinning, and quiet logging.
///
/// # Errors
/// [`TtsError::MissingModel`] when the file is absent, [`TtsError::Onnx`] when it cannot load.
pub(crate) fn session(env: &Environment, model: &Path) -> Result<Session, TtsError> {
    if !model.is_file() {
        return Err(TtsError::MissingModel {
            path: model.to_path_buf(),
        });
    }
    let onnx = |e: ort::Error<ort::session::builder::SessionBuilder>| TtsError::Onnx(e.to_string());
    Session::builder(env)?
        .with_intra_threads(1)
        .map_err(onnx)?
        .with_inter_threads(1)
        .map_err(onnx)?
        .with_intra_op_spinning(false)
        .map_err(onnx)?
        .with_inter_op_spinning(false)
        .map_err(onnx)?
        .commit_from_file(model)
        .map_err(|e| TtsError::Onnx(format!("{}: {e}", model.display())))
}
