//! Silero VAD v6 through ONNX Runtime: the production speech detector.
//!
//! The agent loads [`SileroModel`] once at startup and shares it (`Arc`) across calls; each
//! call's VAD stage owns a [`SileroVad`] with the stream state (recurrent `state` tensor and
//! the audio context). Per 32 ms chunk at 16 kHz the model gets 64 samples of context plus 512
//! new samples (8 kHz: 32 + 256), the 2×1×128 state from the previous call and the rate as an
//! int64 scalar, and returns the speech probability and the next state. ONNX Runtime is loaded
//! dynamically ([`init_onnx_runtime`] or `ORT_DYLIB_PATH`); sessions use one intra-op thread
//! with spinning off, and a small pool of sessions (one per available core) lets concurrent
//! calls run inference without queueing behind one lock.

use super::{VadError, VoiceDetector};
use crate::frame::sample_to_f32;
use crate::SampleRate;
use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// The process-wide ONNX Runtime environment (ort allows one per process).
static ENVIRONMENT: Mutex<Option<Environment>> = Mutex::new(None);

fn onnx(context: &'static str) -> impl FnOnce(ort::Error) -> VadError {
    move |source| VadError::Onnx { context, source }
}

/// Loads ONNX Runtime from `dylib` (e.g. `<models>/onnxruntime/libonnxruntime.so`) and
/// creates the process-wide environment. Idempotent: later calls return the existing
/// environment and ignore `dylib`. Every crate in the process that runs ONNX models must
/// create its sessions in this environment (ort permits only one).
///
/// # Errors
/// [`VadError::Runtime`] if the file is missing, is not a compatible ONNX Runtime, or another
/// environment was already created outside this function.
pub fn init_onnx_runtime(dylib: impl AsRef<Path>) -> Result<Environment, VadError> {
    let dylib = dylib.as_ref();
    let mut env = ENVIRONMENT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(e) = env.as_ref() {
        return Ok(e.clone());
    }
    if !dylib.is_file() {
        return Err(VadError::Runtime(format!(
            "ONNX Runtime library not found at {} (run `cargo run -p switchboard -- models fetch`)",
            dylib.display()
        )));
    }
    let builder = ort::init_from(dylib).map_err(|e| VadError::Runtime(e.to_string()))?;
    let created = builder
        .with_name("switchboard")
        .with_telemetry(false)
        .build()
        .map_err(|e| VadError::Runtime(format!("creating the ONNX Runtime environment: {e}")))?;
    *env = Some(created.clone());
    Ok(created)
}

/// Adopts an environment created elsewhere in the process (e.g. by the TTS crate), so that
/// Silero sessions are created in it. Returns false (and changes nothing) if this crate
/// already holds one.
pub fn adopt_onnx_environment(env: Environment) -> bool {
    let mut slot = ENVIRONMENT.lock().unwrap_or_else(PoisonError::into_inner);
    if slot.is_some() {
        return false;
    }
    *slot = Some(env);
    true
}

/// The environment created by [`init_onnx_runtime`]; if there is none yet, creates it from
/// the library named by `ORT_DYLIB_PATH`.
///
/// # Errors
/// [`VadError::Runtime`] when nothing was initialised and `ORT_DYLIB_PATH` is unset or bad.
pub fn onnx_environment() -> Result<Environment, VadError> {
    if let Some(e) = ENVIRONMENT
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
    {
        return Ok(e.clone());
    }
    let path = std::env::var_os("ORT_DYLIB_PATH").ok_or_else(|| {
        VadError::Runtime(
            "ONNX Runtime not initialised: call audio::vad::init_onnx_runtime(path) or set \
             ORT_DYLIB_PATH (the library is <models>/onnxruntime/libonnxruntime.so)"
                .into(),
        )
    })?;
    init_onnx_runtime(PathBuf::from(path))
}

/// A loaded Silero model: a pool of ONNX sessions shared by every stream.
pub struct SileroModel {
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
    path: PathBuf,
}

impl std::fmt::Debug for SileroModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroModel")
            .field("path", &self.path)
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

impl SileroModel {
    /// Loads `silero_vad.onnx` with one session per available core (at most 8).
    ///
    /// # Errors
    /// [`VadError::ModelNotFound`], [`VadError::Runtime`] (see [`onnx_environment`]) or
    /// [`VadError::Onnx`] if the file is not a loadable model.
    pub fn load(path: impl AsRef<Path>) -> Result<Arc<Self>, VadError> {
        let n = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        Self::load_with_sessions(path, n)
    }

    /// Loads the model with exactly `sessions` sessions (at least 1).
    ///
    /// # Errors
    /// As [`SileroModel::load`].
    pub fn load_with_sessions(
        path: impl AsRef<Path>,
        sessions: usize,
    ) -> Result<Arc<Self>, VadError> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(VadError::ModelNotFound(path.to_owned()));
        }
        Self::load_in(&onnx_environment()?, path, sessions)
    }

    /// Loads the model into a given environment with `sessions` sessions (at least 1).
    ///
    /// # Errors
    /// [`VadError::ModelNotFound`], or [`VadError::Onnx`] if the file is not a loadable model.
    pub fn load_in(
        env: &Environment,
        path: impl AsRef<Path>,
        sessions: usize,
    ) -> Result<Arc<Self>, VadError> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(VadError::ModelNotFound(path.to_owned()));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| VadError::Runtime(format!("{}: {e}", path.display())))?;
        let sessions = (0..sessions.max(1))
            .map(|_| build_session(env, &bytes).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(Self {
            sessions,
            next: AtomicUsize::new(0),
            path: path.to_owned(),
        }))
    }

    /// Number of sessions in the pool.
    pub fn pool_size(&self) -> usize {
        self.sessions.len()
    }

    /// Runs one inference on a free session (or waits for one, round robin).
    fn infer(&self, input: &[f32], state: &mut [f32], sr: i64) -> Result<f32, VadError> {
        let start = self.next.fetch_add(1, Ordering::Relaxed) % self.sessions.len();
        let n = self.sessions.len();
        let mut guard = (0..n)
            .find_map(|i| self.sessions[(start + i) % n].try_lock().ok())
            .unwrap_or_else(|| {
                self.sessions[start]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
            });
        let inputs = ort::inputs![
            "input" => Tensor::from_array(([1usize, input.len()], input.to_vec())).map_err(onnx("input tensor"))?,
            "state" => Tensor::from_array(([2usize, 1, 128], state.to_vec())).map_err(onnx("state tensor"))?,
            "sr" => Tensor::from_array(((), vec![sr])).map_err(onnx("sr tensor"))?,
        ];
        let outputs = guard.run(inputs).map_err(onnx("inference"))?;
        let (_, prob) = outputs["output"]
            .try_extract_tensor::<f32>()
            .map_err(onnx("output"))?;
        let (_, next) = outputs["stateN"]
            .try_extract_tensor::<f32>()
            .map_err(onnx("stateN"))?;
        if next.len() == state.len() {
            state.copy_from_slice(next);
        }
        Ok(prob.first().copied().unwrap_or(0.0))
    }
}

fn build_session(env: &Environment, model: &[u8]) -> Result<Session, VadError> {
    let build = || -> ort::Result<Session> {
        Session::builder(env)?
            .with_optimization_level(GraphOptimizationLevel::Level3)?
            .with_intra_threads(1)?
            .with_inter_threads(1)?
            .with_intra_op_spinning(false)?
            .commit_from_memory(model)
    };
    build().map_err(onnx("loading the Silero model"))
}

/// Per-stream Silero state. Cheap to create; one per call.
#[derive(Debug)]
pub struct SileroVad {
    model: Arc<SileroModel>,
    rate: SampleRate,
    chunk: usize,
    context: usize,
    /// Context followed by the current chunk, as fed to the model.
    input: Vec<f32>,
    state: Vec<f32>,
}

impl SileroVad {
    /// Stream state for audio at 8 or 16 kHz.
    ///
    /// # Errors
    /// [`VadError::UnsupportedRate`] for any other rate.
    pub fn new(model: Arc<SileroModel>, rate: SampleRate) -> Result<Self, VadError> {
        let (chunk, context) = match rate {
            SampleRate::HZ_16K => (512, 64),
            SampleRate::HZ_8K => (256, 32),
            other => return Err(VadError::UnsupportedRate(other)),
        };
        Ok(Self {
            model,
            rate,
            chunk,
            context,
            input: vec![0.0; context + chunk],
            state: vec![0.0; 256],
        })
    }
}

impl VoiceDetector for SileroVad {
    fn rate(&self) -> SampleRate {
        self.rate
    }

    fn chunk_len(&self) -> usize {
        self.chunk
    }

    fn speech_probability(&mut self, chunk: &[i16]) -> Result<f32, VadError> {
        if chunk.len() != self.chunk {
            return Err(VadError::WrongChunkLength {
                expected: self.chunk,
                got: chunk.len(),
            });
        }
        // Shift the last `context` samples of the previous input to the front.
        let total = self.input.len();
        self.input.copy_within(total - self.context.., 0);
        for (dst, &s) in self.input[self.context..].iter_mut().zip(chunk) {
            *dst = sample_to_f32(s);
        }
        let sr = i64::from(self.rate.hz());
        let p = self.model.infer(&self.input, &mut self.state, sr)?;
        Ok(if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            0.0
        })
    }

    fn reset(&mut self) {
        self.input.fill(0.0);
        self.state.fill(0.0);
    }
}
