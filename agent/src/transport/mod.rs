//! Transports connect a call's media to the outside world. `local` plays a WAV (or a
//! simulated caller) as the caller and records the agent, for the demo, tests and benches.

pub mod livekit;
pub mod local;
pub mod local_call;
pub mod sip;
