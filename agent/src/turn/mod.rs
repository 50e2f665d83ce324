//! Turn-taking: ingest (VAD and endpointing on caller audio), the controller (who speaks
//! when), and the LLM task that streams replies sentence by sentence.

pub mod answer_gate;
pub mod config;
pub mod controller;
pub mod endpoint;
pub mod ingest;
pub mod llm_task;

pub use config::TurnConfig;
pub use controller::Controller;
pub use endpoint::{EndpointConfig, Endpointer};
