//! The dialogue-graph language: YAML scripts compiled into a graph and executed as a pure
//! state machine (events in, effects out). No tokio, no audio, no network.
