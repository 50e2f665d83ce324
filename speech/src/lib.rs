//! Local speech models: where they live on disk (`models`), speech recognition (`stt`) and
//! speech synthesis (`tts`). Synchronous, CPU-bound cores; the agent runs them on blocking
//! threads and adapts them to its streaming stages.

pub mod models;
pub mod stt;
pub mod tts;
