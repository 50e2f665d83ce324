//! A bare call line for the engine benchmarks: caller audio pushed into each call's input
//! ring in 20 ms frames on the real clock by a feeder (which may run on a thread of its own,
//! like a transport's receive loop), and an agent output that notes when every frame was
//! sent. Nothing is recorded beyond timestamps, so many calls can run at once.

use std::sync::{Arc, Mutex, OnceLock};

use audio::vad::{VadConfig, VoiceDetector};
use audio::{AudioFrame, SampleRate};
use tokio::time::{interval, Duration, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::call::report::CallReport;
use crate::call::session::{run_call, CallMedia, CallSpec, Providers};
use crate::conversation::Conversation;
use crate::media::{media_ring, CallClock, RingReceiver, RingSender};
use crate::speaker::AudioOut;
use crate::telemetry::Metrics;
use crate::turn::TurnConfig;

/// The line rate of the benchmark calls.
pub const RATE: SampleRate = SampleRate::HZ_16K;
pub const FRAME_MS: u64 = 20;

/// Call ms of the first sound (a 1 ms window with a sample above the TTS trimmer's silence
/// threshold, -40 dBFS) at or after `from_ms` in a local call's recording at [`RATE`]: what the
/// other side first heard.
pub fn first_sound_ms(recording: &[i16], from_ms: u64) -> Option<u64> {
    let per_ms = RATE.samples_per_ms();
    let after = recording.get(from_ms as usize * per_ms..)?;
    let silence = audio::TrimConfig::speech(RATE.hz()).threshold;
    let loud = |c: &[i16]| c.iter().any(|s| s.unsigned_abs() > silence);
    let ms = after.chunks(per_ms).position(loud)?;
    Some(from_ms + ms as u64)
}
const FRAME_LEN: usize = 320;

/// One frame sent by the agent: when, and whether it carried sound.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub at: Instant,
    pub loud: bool,
}

/// The agent's side of a bench line: timestamps every frame.
#[derive(Clone, Default)]
pub struct TimingOut {
    pub sent: Arc<Mutex<Vec<Sent>>>,
}

impl AudioOut for TimingOut {
    fn rate(&self) -> SampleRate {
        RATE
    }
    fn send(&mut self, samples: &[i16], _at_ms: u64) {
        let at = Instant::now();
        let loud = samples.iter().any(|s| s.unsigned_abs() > 300);
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Sent { at, loud });
    }
}

impl TimingOut {
    pub fn snapshot(&self) -> Vec<Sent> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Lateness of every frame against its line's 20 ms schedule (ms). Lines are runs of
    /// frames separated by more than 400 ms; the first frame of a line sets its schedule.
    pub fn lateness_ms(&self) -> Vec<f64> {
        let sent = self.snapshot();
        let mut out = Vec::with_capacity(sent.len());
        let mut line_start: Option<(Instant, u32)> = None;
        let mut prev: Option<Instant> = None;
        for s in sent {
            let new_line = prev.is_none_or(|p| s.at.duration_since(p) > Duration::from_millis(400));
            prev = Some(s.at);
            let (start, idx) = match line_start {
                Some((start, idx)) if !new_line => (start, idx + 1),
                _ => (s.at, 0),
            };
            line_start = Some((start, idx));
            let due = start + Duration::from_millis(FRAME_MS * u64::from(idx));
            out.push(s.at.saturating_duration_since(due).as_secs_f64() * 1e3);
        }
        out
    }
}

/// When the feeder started pushing: frame `n` of every call is due at `start + n × 20 ms`.
pub type FeedStart = Arc<OnceLock<Instant>>;

/// A call's input ring and the caller audio to push into it.
pub type CallerLine = (RingSender<AudioFrame>, Arc<[i16]>);

/// Pushes each call's caller audio in 20 ms frames; a call's ring is closed (the caller hangs
/// up) when its audio runs out. With `phases` > 1 the calls are spread over that many evenly
/// spaced arrival times within each 20 ms, as independent streams arrive; call `i` is in
/// phase `i % phases` and its frames are due [`phase_offset_ms`] after the frame tick.
pub struct Feeder {
    pub lines: Vec<CallerLine>,
    pub start: FeedStart,
    /// 1, 2, 4 or 5 arrival phases per frame.
    pub phases: usize,
    /// Keep the actual push instants (per call), for latency attribution.
    pub keep_pushes: bool,
    pub cancel: CancellationToken,
}

impl Feeder {
    /// Runs until every line's audio is sent; returns the push instants per call (empty
    /// unless `keep_pushes`).
    pub async fn run(self) -> Vec<Vec<Instant>> {
        let phases = self.phases.clamp(1, 5);
        let mut ticker = interval(Duration::from_millis(FRAME_MS / phases as u64));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut lines: Vec<Option<CallerLine>> = self.lines.into_iter().map(Some).collect();
        let mut pushes: Vec<Vec<Instant>> = vec![Vec::new(); lines.len()];
        let mut tick = 0usize;
        loop {
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break,
                t = ticker.tick() => { let _ = self.start.set(t); }
            }
            let (frame, phase) = (tick / phases, tick % phases);
            tick += 1;
            let mut open = 0;
            for (i, slot) in lines.iter_mut().enumerate() {
                let Some((tx, audio)) = slot else { continue };
                if i % phases != phase {
                    open += 1;
                    continue;
                }
                let from = frame * FRAME_LEN;
                if from >= audio.len() {
                    *slot = None;
                    continue;
                }
                let mut samples = audio[from..(from + FRAME_LEN).min(audio.len())].to_vec();
                samples.resize(FRAME_LEN, 0);
                // Stamped before the push: the call may handle the frame before `push` returns.
                let at = Instant::now();
                tx.push(AudioFrame::new(samples, RATE));
                if self.keep_pushes {
                    pushes[i].push(at);
                }
                open += 1;
            }
            if open == 0 {
                break;
            }
        }
        pushes
    }
}

/// How long after its frame tick call `i`'s frames are due with `phases` arrival phases.
pub fn phase_offset_ms(i: usize, phases: usize) -> u64 {
    let phases = phases.clamp(1, 5);
    (i % phases) as u64 * (FRAME_MS / phases as u64)
}

/// Wraps a detector and notes, for every chunk it is given, how long after its last frame
/// was due the chunk was processed (ingest lag, ms).
pub struct LagProbe {
    pub inner: Box<dyn VoiceDetector>,
    pub start: FeedStart,
    /// This call's [`phase_offset_ms`].
    pub offset_ms: u64,
    pub lags: Arc<Mutex<Vec<f32>>>,
    pub samples_seen: usize,
}

impl VoiceDetector for LagProbe {
    fn rate(&self) -> SampleRate {
        self.inner.rate()
    }
    fn chunk_len(&self) -> usize {
        self.inner.chunk_len()
    }
    fn speech_probability(&mut self, chunk: &[i16]) -> Result<f32, audio::vad::VadError> {
        self.samples_seen += chunk.len();
        if let Some(start) = self.start.get() {
            let frame = (self.samples_seen.saturating_sub(1) / FRAME_LEN) as u64;
            let due = *start + Duration::from_millis(frame * FRAME_MS + self.offset_ms);
            let lag = Instant::now().saturating_duration_since(due).as_secs_f32() * 1e3;
            self.lags
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(lag);
        }
        self.inner.speech_probability(chunk)
    }
    fn reset(&mut self) {
        self.inner.reset()
    }
}

/// The VAD settings the local calls use (`switchboard call --local`, `demo`).
pub fn vad_config() -> VadConfig {
    VadConfig {
        min_silence_ms: 200,
        ..VadConfig::default()
    }
}

/// Turn settings for bench calls: no filler, no time limit that a bench could reach.
pub fn turn_config() -> TurnConfig {
    TurnConfig {
        max_duration: Duration::from_secs(3_600),
        filler_after: Duration::from_secs(3_600),
        ..TurnConfig::default()
    }
}

pub fn spec(
    call_id: String,
    providers: Providers,
    detector: Box<dyn VoiceDetector>,
    conversation: Box<dyn Conversation>,
) -> CallSpec {
    CallSpec {
        call_id,
        providers,
        detector,
        vad: vad_config(),
        turn: turn_config(),
        conversation,
        live: None,
        metrics: metrics(),
    }
}

/// One metrics registry for every bench call, as in a server process.
fn metrics() -> Arc<Metrics> {
    static METRICS: OnceLock<Arc<Metrics>> = OnceLock::new();
    METRICS.get_or_init(Arc::default).clone()
}

/// One call's line: the ring's sending half for the feeder, the agent output, and the call
/// itself as a future that ends when the caller hangs up.
pub struct BenchCall {
    pub caller: RingSender<AudioFrame>,
    pub out: TimingOut,
    input: RingReceiver<AudioFrame>,
}

impl BenchCall {
    /// A line whose input ring holds `ring_frames` frames before dropping the oldest.
    pub fn new(ring_frames: usize) -> Self {
        let (caller, input) = media_ring(ring_frames);
        Self {
            caller,
            out: TimingOut::default(),
            input,
        }
    }

    /// Splits into the feeder's sender, the output handle and the call future.
    pub fn start(
        self,
        spec: CallSpec,
        parent: CancellationToken,
    ) -> (
        RingSender<AudioFrame>,
        TimingOut,
        impl std::future::Future<Output = CallReport> + Send + 'static,
    ) {
        let media = CallMedia {
            input: self.input,
            output: Box::new(self.out.clone()),
            clock: CallClock::start_now(),
        };
        let call = async move { run_call(spec, media, &parent).await };
        (self.caller, self.out, call)
    }
}

/// Caller audio: `lead_ms` of silence, then `turns` × (utterance, `gap_ms` of silence).
pub fn caller_turns(utterance: &[i16], lead_ms: u32, gap_ms: u32, turns: usize) -> Arc<[i16]> {
    let mut audio = audio::synth::silence(lead_ms, RATE);
    let gap = audio::synth::silence(gap_ms, RATE);
    for _ in 0..turns {
        audio.extend_from_slice(utterance);
        audio.extend_from_slice(&gap);
    }
    audio.into()
}

/// Resident set size of this process in bytes, from `/proc/self/statm` (4 KiB pages).
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4_096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_turns_lays_out_silence_and_speech() {
        let utt = vec![1000i16; RATE.samples_for_ms(100)];
        let audio = caller_turns(&utt, 200, 300, 2);
        assert_eq!(audio.len(), RATE.samples_for_ms(200 + 2 * 400));
        assert_eq!(audio[RATE.samples_for_ms(200)], 1000);
        assert_eq!(audio[RATE.samples_for_ms(350)], 0);
    }

    #[test]
    fn rss_is_readable() {
        assert!(rss_bytes().is_some_and(|b| b > 1_000_000));
    }
}
