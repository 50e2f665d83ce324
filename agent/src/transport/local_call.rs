//! A whole call over the local transport: a caller (a WAV file, or a simulated caller whose
//! lines are synthesised with a different voice and spoken whenever the agent falls silent)
//! talks to the agent through the full audio path. Used by `switchboard call --local`,
//! `switchboard demo`, the integration tests and the benchmarks.

use std::sync::Arc;

use audio::{Resampler, SampleRate};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{sleep, Duration};
use tokio_util::sync::CancellationToken;

use super::local::{CallerFeed, LocalLine, RecordingOut, Timeline};
use crate::call::report::CallReport;
use crate::call::session::{run_call, CallMedia, CallSpec};
use crate::media::CallClock;
use crate::tts::{TtsProvider, TtsRequest};

/// Who is on the other end of a local call.
pub enum Caller {
    /// Plays this audio (at the line rate) from the start of the call, then stays silent.
    Audio(Vec<i16>),
    /// Says each line once the agent has been quiet for `turn_gap` after speaking.
    Simulated {
        lines: Vec<String>,
        voice: Arc<dyn TtsProvider>,
        turn_gap: Duration,
    },
}

/// What a local call produced besides its report.
pub struct LocalCallResult {
    pub report: CallReport,
    pub rate: SampleRate,
    pub caller_audio: Vec<i16>,
    pub agent_audio: Vec<i16>,
}

impl LocalCallResult {
    /// Caller left, agent right, interleaved.
    pub fn stereo_mix(&self) -> Vec<i16> {
        let len = self.caller_audio.len().max(self.agent_audio.len());
        let at = |v: &[i16], i: usize| v.get(i).copied().unwrap_or(0);
        (0..len)
            .flat_map(|i| [at(&self.caller_audio, i), at(&self.agent_audio, i)])
            .collect()
    }
}

/// Runs `spec` against `caller` on a local line at `rate`.
pub async fn run_local_call(
    spec: CallSpec,
    caller: Caller,
    rate: SampleRate,
    hang_up_after: Option<Duration>,
    parent: &CancellationToken,
) -> LocalCallResult {
    let (media, session) = connect_local(caller, rate, hang_up_after, parent);
    let report = run_call(spec, media, &session.cancel).await;
    session.finish(report).await
}

/// The caller's side of a connected local line.
pub struct LocalSession {
    rate: SampleRate,
    line_recordings: (Timeline, Timeline),
    feed: JoinHandle<()>,
    director: Option<JoinHandle<()>>,
    /// Ends the caller's side; run the call under it.
    pub cancel: CancellationToken,
}

/// Connects `caller` to a new local line at `rate`; the agent's side is the returned media.
pub fn connect_local(
    caller: Caller,
    rate: SampleRate,
    hang_up_after: Option<Duration>,
    parent: &CancellationToken,
) -> (CallMedia, LocalSession) {
    let line = LocalLine::new(rate);
    let clock = CallClock::start_now();
    let cancel = parent.child_token();
    let (utter_tx, utter_rx) = mpsc::channel(4);
    let feed = CallerFeed {
        sender: line.caller_tx,
        recording: line.caller_recording.clone(),
        utterances: utter_rx,
        clock,
        hang_up_after,
        cancel: cancel.clone(),
    };
    let feed = tokio::spawn(feed.run());
    let director = match caller {
        Caller::Audio(audio) => {
            // The channel holds 4 utterances: this first send never waits.
            let _ = utter_tx.try_send(audio);
            None
        }
        Caller::Simulated {
            lines,
            voice,
            turn_gap,
        } => {
            let agent = line.agent_recording.clone();
            let cancel = cancel.clone();
            Some(tokio::spawn(simulate(
                lines, voice, turn_gap, rate, agent, clock, utter_tx, cancel,
            )))
        }
    };
    let media = CallMedia {
        input: line.agent_in,
        output: Box::new(RecordingOut {
            timeline: line.agent_recording.clone(),
        }),
        clock,
    };
    let session = LocalSession {
        rate,
        line_recordings: (line.caller_recording, line.agent_recording),
        feed,
        director,
        cancel,
    };
    (media, session)
}

impl LocalSession {
    /// Hangs up the caller's side and collects both recordings.
    pub async fn finish(self, report: CallReport) -> LocalCallResult {
        self.cancel.cancel();
        let _ = self.feed.await;
        if let Some(d) = self.director {
            let _ = d.await;
        }
        let (caller, agent) = self.line_recordings;
        LocalCallResult {
            report,
            rate: self.rate,
            caller_audio: caller.snapshot(),
            agent_audio: agent.snapshot(),
        }
    }
}

/// The simulated caller's turn-taking: wait for the agent to speak and fall silent, answer.
#[allow(clippy::too_many_arguments)]
async fn simulate(
    lines: Vec<String>,
    voice: Arc<dyn TtsProvider>,
    turn_gap: Duration,
    rate: SampleRate,
    agent: Timeline,
    clock: CallClock,
    utterances: mpsc::Sender<Vec<i16>>,
    cancel: CancellationToken,
) {
    let mut answered_up_to = 0u64;
    for text in lines {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = sleep(Duration::from_millis(50)) => {}
            }
            let Some(last) = agent.last_sound_ms(300) else {
                continue;
            };
            if last > answered_up_to
                && clock.now_ms().saturating_sub(last) >= turn_gap.as_millis() as u64
            {
                break;
            }
        }
        let audio = match synthesise(&*voice, &text, rate).await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "Simulated caller could not synthesise its line");
                return;
            }
        };
        let spoken_ms = (audio.len() / rate.samples_per_ms()) as u64;
        answered_up_to = clock.now_ms() + spoken_ms;
        if utterances.send(audio).await.is_err() {
            return;
        }
    }
}

/// Synthesises `text` with `voice` and resamples it to `rate`.
///
/// # Errors
/// The provider's error, or an unusable provider sample rate.
pub async fn synthesise(
    voice: &dyn TtsProvider,
    text: &str,
    rate: SampleRate,
) -> Result<Vec<i16>, String> {
    let mut stream = voice.synthesize(TtsRequest {
        text: text.to_string(),
        voice: None,
    });
    let mut pcm = Vec::new();
    while let Some(chunk) = stream.next().await {
        pcm.extend(chunk.map_err(|e| e.to_string())?);
    }
    let from = SampleRate::new(voice.sample_rate()).map_err(|e| e.to_string())?;
    let mut resampler = Resampler::new(from, rate).map_err(|e| e.to_string())?;
    let mut out = resampler.process(&pcm);
    out.extend(resampler.flush());
    Ok(out)
}
