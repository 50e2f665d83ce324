//! The SIP endpoint's pure parsers, compiled from the agent's own source files so the fuzz
//! targets exercise exactly the shipped code without building the agent's native
//! dependencies (whisper.cpp, ONNX Runtime). The modules sit at the crate root, as siblings,
//! the way they do under `transport::sip`.

#![allow(dead_code)]

#[path = "../../agent/src/transport/sip/message.rs"]
pub mod message;
#[path = "../../agent/src/transport/sip/rtp.rs"]
pub mod rtp;
#[path = "../../agent/src/transport/sip/sdp.rs"]
pub mod sdp;
#[path = "../../agent/src/transport/sip/uri.rs"]
pub mod uri;
#[path = "../../agent/src/transport/sip/rtcp.rs"]
pub mod rtcp;
#[path = "../../agent/src/transport/sip/framing.rs"]
pub mod framing;
