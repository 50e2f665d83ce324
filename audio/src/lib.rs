//! Pure audio DSP for Switchboard: everything between a transport's bytes and a model's
//! samples. No tokio, no network, no threads of its own; deterministic and benchmarkable.
//!
//! Inbound path: RTP packets → [`jitter`] (order, pace, loss) → [`codec`] (G.711 / Opus with
//! PLC) → [`resample`] (to 16 kHz) → [`vad`] (speech probability → speech segments) and
//! [`tone`]/[`dtmf`] (voicemail beep, touch tones) → STT. Outbound path: TTS PCM → [`trim`]
//! (shorter silences) → [`resample`] → [`codec`] → transport. [`frame`] holds the shared
//! types, [`level`] signal levels, [`wav`] file I/O for prompts and fixtures, [`synth`] test
//! signals.

pub mod codec;
pub mod dtmf;
pub mod frame;
pub mod jitter;
pub mod level;
pub mod resample;
pub mod synth;
pub mod tone;
pub mod trim;
pub mod vad;
pub mod wav;

pub use codec::G711Law;
#[cfg(feature = "opus")]
pub use codec::{OpusConfig, OpusDecoder, OpusEncoder, OpusError};
pub use dtmf::{DtmfConfig, DtmfDetector, DtmfDigit};
pub use frame::{f32_to_i16, i16_to_f32, AudioFrame, FrameError, Rechunker, SampleRate};
pub use jitter::{JitterBuffer, JitterConfig, JitterStats, Playout, PushOutcome};
pub use level::Level;
pub use resample::{resample_all, ResampleError, Resampler};
pub use tone::{BeepConfig, BeepDetector, BeepEvent, Goertzel};
pub use trim::{SilenceTrimmer, TrimConfig};
pub use vad::{
    EnergyVad, EnergyVadConfig, PreRollBuffer, StreamingVad, VadConfig, VadError, VadEvent,
    VadStateMachine, VoiceDetector,
};
#[cfg(feature = "silero")]
pub use vad::{SileroModel, SileroVad};
pub use wav::{read_wav_bytes, read_wav_file, write_wav_bytes, write_wav_file, WavError};
