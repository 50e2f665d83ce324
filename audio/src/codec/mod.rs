//! Codecs between transport payloads and PCM: G.711 for SIP/RTP trunks, Opus for WebRTC.
//!
//! The transport layer decodes each received payload here (after the jitter buffer has ordered
//! it) and encodes each outbound 20 ms frame of TTS audio.

pub mod g711;
#[cfg(feature = "opus")]
pub mod opus;

pub use g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode, G711Law};
#[cfg(feature = "opus")]
pub use opus::{OpusConfig, OpusDecoder, OpusEncoder, OpusError};
