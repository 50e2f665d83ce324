//! The Switchboard runtime as a library, so `tests/` can boot it.
//!
//! A call's path: a transport delivers caller audio → [`turn::ingest`] (resample, VAD,
//! endpointing) → [`turn::controller`] (STT, the [`conversation`], LLM) → [`speaker`] (TTS,
//! 20 ms playout) → back to the transport. [`call::session`] wires one call together.

pub mod api;
pub mod bench;
pub mod call;
pub mod cli;
pub mod conversation;
pub mod llm;
pub mod local_models;
pub mod media;
pub mod otlp;
pub mod outcome;
pub mod provider;
pub mod runtime;
pub mod scratch;
pub mod scripts;
pub mod speaker;
pub mod store;
pub mod stt;
pub mod telemetry;
pub mod tools;
pub mod transport;
pub mod tts;
pub mod turn;
