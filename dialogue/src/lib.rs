//! The dialogue-graph language: YAML scripts compiled into a checked graph and executed as a
//! pure state machine (events in, effects out). No tokio, no audio, no network, no clock: time
//! always arrives inside events. The only I/O is [`load_file`]/[`load_dir`], a convenience for
//! reading scripts from disk.
//!
//! # Pipeline
//! `YAML text` → [`compile`] → [`Script`] (or every error as [`Diagnostic`]s with file, line
//! and column) → `Arc<Script>` shared by calls → one [`Engine`] per call.
//!
//! # Contract with the turn engine (agent crate)
//! The turn engine owns audio, VAD, STT, LLM, TTS, timers and I/O; it drives this engine:
//! - Create the engine with [`Engine::new`] when dialling or ringing (it may ask for an answer
//!   timer), then send [`Event::Answered`] when a human picks up, or
//!   [`Event::VoicemailDetected`] when a machine does. A call answered as a person that turns
//!   out a call-screening assistant sends [`Event::PutThrough`] once the person comes on: the
//!   graph starts over for them. Persist [`Engine::state`] after every
//!   step; [`Engine::restore`] resumes it (same script version only).
//! - Perform the returned [`Effect`]s in order:
//!   - `Say` → synthesise and play; `interruptible: false` means barge-in must not cut it.
//!     Report `SayFinished` (informational).
//!   - `Listen` → apply the endpointing hint (`short` after yes/no, `long` after open
//!     questions) and STT vocabulary hints; then feed the final transcript as
//!     `UserSaid { text, confidence }`, or `NoInput` after `no_input_timeout_ms` of silence
//!     measured from the end of the agent's speech; feed key presses as `Dtmf`.
//!   - `StartTimer`/`CancelTimer` → a timer that sends `TimerFired { id }`.
//!   - `CallTool` → the HTTP request (resolve `Secret` headers by name from the tenant's
//!     secrets, never log them), then `ToolFinished`.
//!   - `RequestLlm` → the LLM (with `classify` options the reply must carry a verdict), then
//!     `LlmFinished`. Results for a request the engine no longer waits for are ignored, so
//!     the runtime need not cancel them (it may, to save tokens).
//!   - `Escalate` → create the escalation (meeting link, notify agents), then `HumanJoined`
//!     when an agent enters the room; `Transfer` → SIP REFER / LiveKit SIP transfer.
//!   - `SetAnswer`, `ScheduleAction`, `NodeEntered` → persist (answers, follow-ups, the
//!     node per transcript line).
//!   - `Hangup` (always last) → let queued speech finish, then leave the call and record the
//!     disposition, outcome and end reason.
//! - `SentimentMeasured`, `MaxDurationReached`, `HumanLeft`, `CallerHungUp` may be sent any
//!   time; after `Hangup` every event is ignored.

pub mod compile;
pub mod diag;
pub mod duration;
pub mod engine;
pub mod expr;
pub mod graph;
pub mod load;
pub mod recognize;
pub mod schema;
pub mod script;
pub mod sim;
pub mod template;
pub mod testing;
pub mod value;
pub mod yaml;

pub use compile::compile;
pub use diag::{DiagKind, Diagnostic};
pub use engine::{Effect, EndReason, Engine, EngineState, Event, LlmOutcome, ToolResult};
pub use load::{load_dir, load_file};
pub use script::{select_script, Disposition, Script, SelectionKey};
pub use value::{Value, VarType};

/// The JSON Schema of the language (for editors).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(schema::ScriptDoc)).unwrap_or_default()
}
