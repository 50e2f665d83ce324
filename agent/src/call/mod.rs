//! One call: the supervisor that wires the stages together, runs them under one cancellation
//! token, and tears them down with a deadline; plus the report a call leaves behind.

pub mod live;
pub mod recording;
pub mod report;
pub mod session;
