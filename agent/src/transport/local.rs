//! The local transport: no network. Caller audio comes from a WAV file or a simulated caller
//! and is fed in 20 ms frames on the real clock; the agent's audio is recorded on a timeline
//! at the call time each frame was sent, so the recording shows gaps and overlaps as a caller
//! would have heard them.

use std::sync::{Arc, Mutex};

use audio::{AudioFrame, SampleRate};
use tokio::sync::mpsc;
use tokio::time::{interval, Duration, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::media::{media_ring, CallClock, RingReceiver, RingSender};
use crate::speaker::AudioOut;

pub const FRAME_MS: u32 = 20;

/// A mono recording indexed by call time; shared between a writer and whoever reads it.
#[derive(Debug, Clone)]
pub struct Timeline {
    rate: SampleRate,
    samples: Arc<Mutex<Vec<i16>>>,
}

impl Timeline {
    pub fn new(rate: SampleRate) -> Self {
        Self {
            rate,
            samples: Arc::default(),
        }
    }

    pub fn rate(&self) -> SampleRate {
        self.rate
    }

    /// Writes `frame` starting at call time `at_ms` (mixing over anything already there).
    pub fn write(&self, at_ms: u64, frame: &[i16]) {
        let start = self.rate.samples_for_ms(at_ms as u32);
        let mut buf = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if buf.len() < start + frame.len() {
            buf.resize(start + frame.len(), 0);
        }
        for (dst, src) in buf[start..].iter_mut().zip(frame) {
            *dst = dst.saturating_add(*src);
        }
    }

    pub fn snapshot(&self) -> Vec<i16> {
        self.samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Call ms of the last non-silent sample, if any.
    pub fn last_sound_ms(&self, threshold: i16) -> Option<u64> {
        let buf = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let idx = buf
            .iter()
            .rposition(|s| s.unsigned_abs() > threshold as u16)?;
        Some((idx / self.rate.samples_per_ms()) as u64)
    }
}

/// The agent's side of the local line: records every frame on a timeline.
pub struct RecordingOut {
    pub timeline: Timeline,
}

impl AudioOut for RecordingOut {
    fn rate(&self) -> SampleRate {
        self.timeline.rate()
    }
    fn send(&mut self, samples: &[i16], at_ms: u64) {
        self.timeline.write(at_ms, samples);
    }
}

/// Both ends of a local call line at one rate.
pub struct LocalLine {
    pub caller_tx: RingSender<AudioFrame>,
    pub agent_in: RingReceiver<AudioFrame>,
    pub caller_recording: Timeline,
    pub agent_recording: Timeline,
}

impl LocalLine {
    pub fn new(rate: SampleRate) -> Self {
        // 50 frames = 1 s of caller audio before the oldest is dropped.
        let (caller_tx, agent_in) = media_ring(50);
        Self {
            caller_tx,
            agent_in,
            caller_recording: Timeline::new(rate),
            agent_recording: Timeline::new(rate),
        }
    }
}

/// The caller's side of a local line: plays queued utterances in real time, silence between
/// them, and records what it sent. Dropping the ring sender when this returns tells the call
/// the caller hung up.
pub struct CallerFeed {
    pub sender: RingSender<AudioFrame>,
    pub recording: Timeline,
    /// Utterances to say, at the recording's rate; closed = nothing more to say.
    pub utterances: mpsc::Receiver<Vec<i16>>,
    pub clock: CallClock,
    /// Hang up this long after the last utterance was said and nothing more is queued.
    pub hang_up_after: Option<Duration>,
    pub cancel: CancellationToken,
}

impl CallerFeed {
    pub async fn run(mut self) {
        let rate = self.recording.rate();
        let frame_len = rate.samples_for_ms(FRAME_MS);
        let mut ticker = interval(Duration::from_millis(FRAME_MS.into()));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut current: std::collections::VecDeque<i16> = Default::default();
        let mut open = true;
        let mut quiet_ms = 0u64;
        loop {
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return,
                _ = ticker.tick() => {}
            }
            if current.is_empty() && open {
                match self.utterances.try_recv() {
                    Ok(u) => current.extend(u),
                    Err(mpsc::error::TryRecvError::Empty) => {}
                    Err(mpsc::error::TryRecvError::Disconnected) => open = false,
                }
            }
            let n = frame_len.min(current.len());
            let mut frame: Vec<i16> = current.drain(..n).collect();
            if n == 0 {
                quiet_ms += u64::from(FRAME_MS);
                if !open
                    && self
                        .hang_up_after
                        .is_some_and(|d| quiet_ms >= d.as_millis() as u64)
                {
                    return;
                }
            } else {
                quiet_ms = 0;
            }
            frame.resize(frame_len, 0);
            self.recording.write(self.clock.now_ms(), &frame);
            self.sender.push(AudioFrame::new(frame, rate));
        }
    }
}
