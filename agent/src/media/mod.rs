//! Media plumbing inside a call: the drop-oldest ring that carries PCM between a transport and
//! the ingest and playout stages, and the call clock that timestamps everything.

pub mod clock;
pub mod ring;

pub use clock::CallClock;
pub use ring::{media_ring, RingReceiver, RingSender};
