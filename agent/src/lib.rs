//! The Switchboard runtime as a library, so `tests/` can boot it.

pub mod cli;
pub mod llm;
pub mod provider;
pub mod stt;
pub mod tts;
