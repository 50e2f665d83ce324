//! Call recording: taps a call's media (caller frames as they arrive, agent frames as they
//! are sent) onto two timelines and writes one stereo WAV when the call ends — caller left,
//! agent right, at the caller's line rate. Audio before `start_ms` (the script's recording
//! notice) is not kept.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use audio::{AudioFrame, SampleRate};
use tokio::task::JoinHandle;

use super::session::CallMedia;
use crate::media::{media_ring, CallClock};
use crate::speaker::AudioOut;
use crate::transport::local::Timeline;

/// Frames buffered between the transport and the tap (one second).
const TAP_FRAMES: usize = 50;

pub struct CallRecorder {
    caller: Arc<Mutex<Option<Timeline>>>,
    agent: Timeline,
    tap: JoinHandle<()>,
}

struct TeeOut {
    inner: Box<dyn AudioOut>,
    timeline: Timeline,
}

impl AudioOut for TeeOut {
    fn rate(&self) -> SampleRate {
        self.inner.rate()
    }

    fn send(&mut self, samples: &[i16], at_ms: u64) {
        self.timeline.write(at_ms, samples);
        self.inner.send(samples, at_ms);
    }
}

/// Puts a recorder between `media` and the turn engine.
pub fn tap(media: CallMedia) -> (CallMedia, CallRecorder) {
    let CallMedia {
        mut input,
        output,
        clock,
    } = media;
    let agent = Timeline::new(output.rate());
    let caller: Arc<Mutex<Option<Timeline>>> = Arc::default();
    let (tx, rx) = media_ring::<AudioFrame>(TAP_FRAMES);
    let sink = caller.clone();
    let tap = tokio::spawn(async move {
        while let Some(frame) = input.recv().await {
            record_caller(&sink, &frame, clock);
            tx.push(frame);
        }
        // Dropping `tx` closes the turn engine's input: the caller hung up.
    });
    let media = CallMedia {
        input: rx,
        output: Box::new(TeeOut {
            inner: output,
            timeline: agent.clone(),
        }),
        clock,
    };
    (media, CallRecorder { caller, agent, tap })
}

fn record_caller(sink: &Mutex<Option<Timeline>>, frame: &AudioFrame, clock: CallClock) {
    let mut line = sink.lock().unwrap_or_else(PoisonError::into_inner);
    let timeline = line.get_or_insert_with(|| Timeline::new(frame.rate));
    if timeline.rate() == frame.rate {
        let len_ms = (frame.samples.len() / frame.rate.samples_per_ms()) as u64;
        timeline.write(clock.now_ms().saturating_sub(len_ms), &frame.samples);
    }
}

impl CallRecorder {
    /// Writes the stereo file from `start_ms` on. Returns the number of stereo frames.
    ///
    /// # Errors
    /// The directory or file cannot be written, or the agent's audio cannot be resampled.
    pub async fn finish(self, path: &Path, start_ms: u64) -> anyhow::Result<usize> {
        self.tap.abort();
        let caller = self
            .caller
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let rate = caller.as_ref().map_or(self.agent.rate(), Timeline::rate);
        let caller = caller.map(|t| t.snapshot()).unwrap_or_default();
        let agent = audio::resample_all(&self.agent.snapshot(), self.agent.rate(), rate)?;
        let skip = rate.samples_for_ms(start_ms as u32);
        let len = caller.len().max(agent.len());
        let at = |v: &[i16], i: usize| v.get(i).copied().unwrap_or(0);
        let stereo: Vec<i16> = (skip..len)
            .flat_map(|i| [at(&caller, i), at(&agent, i)])
            .collect();
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let bytes = audio::wav::write_wav_bytes(&stereo, 2, rate)?;
        tokio::fs::write(path, bytes).await?;
        Ok(stereo.len() / 2)
    }
}
