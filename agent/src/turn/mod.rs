//! Turn-taking: ingest (VAD and endpointing on caller audio), the controller (who speaks
//! when), and the LLM task that streams replies sentence by sentence.

pub mod controller;
pub mod endpoint;
pub mod ingest;
pub mod llm_task;

pub use controller::{Controller, TurnConfig};
pub use endpoint::{EndpointConfig, Endpointer};
