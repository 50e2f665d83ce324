//! The call clock: milliseconds since the call was answered, on tokio's clock so tests can
//! pause and advance time.

use tokio::time::Instant;

/// Shared by every stage of one call; `Copy` so each stage owns its own.
#[derive(Debug, Clone, Copy)]
pub struct CallClock {
    start: Instant,
}

impl CallClock {
    pub fn start_now() -> Self {
        Self {
            start: Instant::now(),
        }
    }

    /// Milliseconds since the call started.
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// The instant `ms` after the call started.
    pub fn instant_at(&self, ms: u64) -> Instant {
        self.start + std::time::Duration::from_millis(ms)
    }
}
