//! Voice activity detection: per-chunk speech probability plus a hysteresis state machine.
//!
//! The agent's VAD stage sits after decode and resampling and before STT and turn-taking:
//! inbound audio is cut into the detector's chunk size ([`StreamingVad`] does it), each chunk
//! gets a speech probability from a [`VoiceDetector`] ([`SileroVad`] or the cheap
//! [`EnergyVad`] pre-gate), and [`VadStateMachine`] turns probabilities into
//! `SpeechStarted`/`SpeechEnded` events that drive endpointing and barge-in.

pub mod energy;
#[cfg(feature = "silero")]
pub mod silero;
pub mod state;

pub use energy::{EnergyVad, EnergyVadConfig};
#[cfg(feature = "silero")]
pub use silero::{
    adopt_onnx_environment, init_onnx_runtime, onnx_environment, SileroModel, SileroVad,
};
pub use state::{PreRollBuffer, VadConfig, VadEvent, VadStateMachine};

use crate::frame::Rechunker;
use crate::SampleRate;

/// Errors from voice detectors and their configuration.
#[derive(Debug, thiserror::Error)]
pub enum VadError {
    /// A chunk of the wrong size was given to a detector.
    #[error("VAD chunk must be {expected} samples, got {got}")]
    WrongChunkLength {
        /// The detector's [`VoiceDetector::chunk_len`].
        expected: usize,
        /// Samples given.
        got: usize,
    },
    /// The detector does not run at this rate.
    #[error("VAD does not support {0} (resample first)")]
    UnsupportedRate(SampleRate),
    /// Thresholds or durations that cannot work.
    #[error("invalid VAD configuration: {0}")]
    InvalidConfig(&'static str),
    /// The ONNX model file is missing.
    #[error("VAD model not found at {0} (run `cargo run -p switchboard -- models fetch`)")]
    ModelNotFound(std::path::PathBuf),
    /// ONNX Runtime could not be loaded or initialised.
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    /// ONNX Runtime failed to load the model or run it.
    #[cfg(feature = "silero")]
    #[error("ONNX {context}: {source}")]
    Onnx {
        /// What was being done.
        context: &'static str,
        /// The runtime's error.
        source: ort::Error,
    },
}

/// A per-stream speech detector working on fixed-size chunks of mono PCM.
pub trait VoiceDetector: Send {
    /// The rate chunks must have.
    fn rate(&self) -> SampleRate;

    /// The number of samples every chunk must have.
    fn chunk_len(&self) -> usize;

    /// Probability (0–1) that `chunk` contains speech; updates the stream state.
    ///
    /// # Errors
    /// [`VadError::WrongChunkLength`] unless `chunk.len() == self.chunk_len()`; model errors
    /// for detectors that run a model.
    fn speech_probability(&mut self, chunk: &[i16]) -> Result<f32, VadError>;

    /// Forgets the stream state (new call or new turn).
    fn reset(&mut self);
}

/// A detector, a rechunker and a state machine: push audio of any length, get events.
#[derive(Debug)]
pub struct StreamingVad<D> {
    detector: D,
    chunker: Rechunker,
    machine: VadStateMachine,
    last_probability: f32,
}

impl<D: VoiceDetector> StreamingVad<D> {
    /// Combines `detector` with a state machine using `config`.
    ///
    /// # Errors
    /// [`VadError::InvalidConfig`] as for [`VadStateMachine::new`].
    pub fn new(detector: D, config: VadConfig) -> Result<Self, VadError> {
        let chunker = Rechunker::new(detector.chunk_len());
        Ok(Self {
            detector,
            chunker,
            machine: VadStateMachine::new(config)?,
            last_probability: 0.0,
        })
    }

    /// Feeds audio at the detector's rate; returns the events it completes.
    ///
    /// # Errors
    /// Errors of the detector (the chunk that failed is dropped; the stream stays usable).
    pub fn push(&mut self, samples: &[i16]) -> Result<Vec<VadEvent>, VadError> {
        let chunk_ms = self
            .detector
            .rate()
            .ms_for_samples(self.detector.chunk_len());
        let mut events = Vec::new();
        for chunk in self.chunker.push(samples) {
            let p = self.detector.speech_probability(&chunk)?;
            self.last_probability = p;
            events.extend(self.machine.update(p, chunk_ms));
        }
        Ok(events)
    }

    /// Ends the stream: closes a speech segment in progress.
    pub fn finish(&mut self) -> Option<VadEvent> {
        self.chunker.clear();
        self.machine.finish()
    }

    /// Probability of the last chunk.
    pub fn last_probability(&self) -> f32 {
        self.last_probability
    }

    /// The state machine (to change the hangover between turns).
    pub fn machine_mut(&mut self) -> &mut VadStateMachine {
        &mut self.machine
    }

    /// Resets detector, buffered audio and state machine; the clock restarts at 0.
    pub fn reset(&mut self) {
        self.detector.reset();
        self.chunker.clear();
        self.machine.reset();
    }
}
