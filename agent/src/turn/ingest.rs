//! The ingest stage: first stage of a call's receive path. Caller audio from the transport
//! (any rate) is resampled to 16 kHz, run through the VAD, and collected into utterances; the
//! endpointer turns voiced spans into turn events for the controller, each carrying the audio
//! STT needs. Real-time consumer: it reads a drop-oldest ring and never blocks the transport.

use std::sync::Arc;

use audio::vad::{StreamingVad, VadEvent, VoiceDetector};
use audio::{AudioFrame, BeepDetector, BeepEvent, Resampler, SampleRate};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::endpoint::{EndpointConfig, EndpointEvent, Endpointer};
use crate::media::{CallClock, RingReceiver};

/// Audio kept from before the VAD confirmed speech, so the first syllable reaches STT.
const PRE_ROLL_MS: usize = 400;
const STT_RATE: SampleRate = SampleRate::HZ_16K;

/// What ingest tells the controller. Times are call milliseconds.
#[derive(Debug, Clone)]
pub enum IngestEvent {
    SpeechStarted {
        onset_ms: u64,
    },
    SpeechSustained {
        onset_ms: u64,
    },
    /// The caller paused: `audio` is the utterance so far, for a speculative transcription
    /// identified by `segment`.
    Paused {
        segment: u64,
        last_voice_ms: u64,
        audio: Arc<[i16]>,
    },
    Resumed,
    /// The turn is over; `segment` names the last pause, whose speculative transcription (if
    /// one was started) covers exactly `audio`.
    TurnEnded {
        segment: u64,
        onset_ms: u64,
        last_voice_ms: u64,
        audio: Arc<[i16]>,
    },
    /// A steady tone (a voicemail beep, a fax or modem tone) sounded from `onset_ms` to
    /// `offset_ms`; reported when it stops, while tone detection is on (outbound calls,
    /// until the answer is classified).
    ToneDetected {
        onset_ms: u64,
        offset_ms: u64,
        frequency_hz: f32,
    },
    /// While tones are looked for (answer detection): everything the callee said from their
    /// first word, every [`GREETING_EVERY_MS`] of speech, for a running transcript.
    Greeting {
        audio: Arc<[i16]>,
    },
    /// The transport closed its audio: the caller is gone.
    InputEnded,
}

/// How often [`IngestEvent::Greeting`] offers the greeting so far, in ms of speech.
pub const GREETING_EVERY_MS: f64 = 250.0;
/// The longest greeting offered (a machine's greeting is decided well before).
const GREETING_MAX_MS: u32 = 20_000;

/// Commands from the controller, handled before audio.
#[derive(Debug, Clone)]
pub enum IngestControl {
    SetEndpointing(EndpointConfig),
    /// The controller ended the turn paused as `segment` early (its speculative transcript
    /// already answered the question): forget that turn instead of ending it again.
    TurnTaken {
        segment: u64,
    },
    /// The answer is classified: stop looking for tones.
    StopToneDetection,
}

/// A boxed detector usable where a concrete [`VoiceDetector`] type is expected.
pub struct DynDetector(pub Box<dyn VoiceDetector>);

impl std::fmt::Debug for DynDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DynDetector")
    }
}

impl VoiceDetector for DynDetector {
    fn rate(&self) -> SampleRate {
        self.0.rate()
    }
    fn chunk_len(&self) -> usize {
        self.0.chunk_len()
    }
    fn speech_probability(&mut self, chunk: &[i16]) -> Result<f32, audio::vad::VadError> {
        self.0.speech_probability(chunk)
    }
    fn reset(&mut self) {
        self.0.reset()
    }
}

pub struct IngestStage {
    /// Caller audio from the transport. Closed by the transport on hang-up → `InputEnded`.
    pub input: RingReceiver<AudioFrame>,
    /// Endpointing changes from the controller; closed when the controller ends.
    pub control: mpsc::Receiver<IngestControl>,
    /// Turn events to the controller; this stage stops when the controller drops it.
    pub events: mpsc::Sender<IngestEvent>,
    pub vad: StreamingVad<DynDetector>,
    /// Probability at which a chunk counts as voiced (the VAD's activation threshold).
    pub vad_threshold: f32,
    pub endpointer: Endpointer,
    /// Looks for beeps in every frame (tones are not speech: the VAD may never see them).
    pub tones: Option<BeepDetector>,
    pub clock: CallClock,
    /// Cancelled by the call supervisor at teardown.
    pub cancel: CancellationToken,
}

/// Per-utterance audio bookkeeping at 16 kHz.
struct Collector {
    pre_roll: std::collections::VecDeque<i16>,
    utterance: Option<Vec<i16>>,
}

impl Collector {
    fn push(&mut self, samples: &[i16]) {
        if let Some(u) = self.utterance.as_mut() {
            u.extend_from_slice(samples);
        }
        self.pre_roll.extend(samples.iter().copied());
        let max = STT_RATE.samples_for_ms(PRE_ROLL_MS as u32);
        while self.pre_roll.len() > max {
            self.pre_roll.pop_front();
        }
    }

    fn start(&mut self) {
        if self.utterance.is_none() {
            self.utterance = Some(self.pre_roll.iter().copied().collect());
        }
    }

    fn snapshot(&self) -> Arc<[i16]> {
        self.utterance.as_deref().unwrap_or_default().into()
    }

    fn take(&mut self) -> Arc<[i16]> {
        self.utterance.take().unwrap_or_default().into()
    }
}

/// The callee's audio from their first word, while answer detection runs.
#[derive(Default)]
struct GreetingTap {
    audio: Option<Vec<i16>>,
    /// Speech since the greeting was last offered.
    speech_ms: f64,
}

impl GreetingTap {
    /// Starts with the pre-roll, but for the `current` frame's samples (which `push` adds).
    fn start(&mut self, pre_roll: &std::collections::VecDeque<i16>, current: usize) {
        if self.audio.is_none() {
            let before = pre_roll.len().saturating_sub(current);
            self.audio = Some(pre_roll.iter().take(before).copied().collect());
        }
    }

    /// Adds a frame; returns the greeting so far when it is due.
    fn push(&mut self, samples: &[i16], speaking: bool) -> Option<Arc<[i16]>> {
        let audio = self.audio.as_mut()?;
        if audio.len() >= STT_RATE.samples_for_ms(GREETING_MAX_MS) {
            return None;
        }
        audio.extend_from_slice(samples);
        if !speaking {
            return None;
        }
        self.speech_ms += STT_RATE.ms_for_samples(samples.len());
        if self.speech_ms < GREETING_EVERY_MS {
            return None;
        }
        self.speech_ms = 0.0;
        Some(audio.as_slice().into())
    }
}

impl IngestStage {
    /// Runs until the transport closes, the controller goes away, or cancellation.
    pub async fn run(mut self) {
        let mut resampler: Option<(SampleRate, Resampler)> = None;
        let mut collector = Collector {
            pre_roll: Default::default(),
            utterance: None,
        };
        let mut segment = 0u64;
        let mut greeting = GreetingTap::default();
        // Call ms at which the VAD's stream time 0 falls (audio arrives in real time).
        let mut media_origin_ms: Option<i64> = None;
        let mut media_ms = 0f64;
        loop {
            let frame = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return,
                Some(ctl) = self.control.recv() => {
                    match ctl {
                        IngestControl::SetEndpointing(cfg) => self.endpointer.set_config(cfg),
                        IngestControl::TurnTaken { segment: taken } => {
                            if taken == segment && self.endpointer.in_turn() {
                                self.endpointer.reset();
                                collector.take();
                            }
                        }
                        IngestControl::StopToneDetection => {
                            self.tones = None;
                            greeting = GreetingTap::default();
                        }
                    }
                    continue;
                }
                frame = self.input.recv() => frame,
            };
            let Some(frame) = frame else {
                let _ = self.events.send(IngestEvent::InputEnded).await;
                return;
            };
            let samples = match to_stt_rate(&mut resampler, frame) {
                Some(s) => s,
                None => continue,
            };
            let arrived_ms = self.clock.now_ms() as i64;
            media_ms += STT_RATE.ms_for_samples(samples.len());
            let origin = *media_origin_ms.get_or_insert(arrived_ms - media_ms as i64);
            let to_call_ms = |m: f64| (origin + m as i64).max(0) as u64;

            collector.push(&samples);
            let vad_events = match self.vad.push(&samples) {
                Ok(events) => events,
                Err(e) => {
                    tracing::warn!(error = %e, "VAD failed on a chunk; chunk ignored");
                    Vec::new()
                }
            };
            // Tone onsets are in the detector's stream time, which starts with the first frame
            // like `media_ms`.
            for tone in self
                .tones
                .as_mut()
                .map(|t| t.push(&samples))
                .unwrap_or_default()
            {
                if let BeepEvent::Ended {
                    onset_ms,
                    offset_ms,
                    frequency_hz,
                } = tone
                {
                    let event = IngestEvent::ToneDetected {
                        onset_ms: to_call_ms(onset_ms as f64),
                        offset_ms: to_call_ms(offset_ms as f64),
                        frequency_hz,
                    };
                    if self.events.send(event).await.is_err() {
                        return;
                    }
                }
            }
            let mut out = Vec::new();
            for ev in vad_events {
                let ep = match ev {
                    VadEvent::SpeechStarted { at_ms } => {
                        if self.tones.is_some() {
                            greeting.start(&collector.pre_roll, samples.len());
                        }
                        collector.start();
                        self.endpointer.speech_started(to_call_ms(at_ms))
                    }
                    VadEvent::SpeechEnded { at_ms, .. } => {
                        self.endpointer.speech_ended(to_call_ms(at_ms))
                    }
                };
                out.extend(ep);
            }
            let voiced = self.vad.last_probability() >= self.vad_threshold;
            out.extend(self.endpointer.tick(to_call_ms(media_ms), voiced));
            if let Some(audio) = greeting.push(&samples, collector.utterance.is_some()) {
                if self
                    .events
                    .send(IngestEvent::Greeting { audio })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            for ep in out {
                let event = match ep {
                    EndpointEvent::SpeechStarted { onset_ms } => {
                        IngestEvent::SpeechStarted { onset_ms }
                    }
                    EndpointEvent::SpeechSustained { onset_ms } => {
                        IngestEvent::SpeechSustained { onset_ms }
                    }
                    EndpointEvent::Paused { last_voice_ms } => {
                        segment += 1;
                        IngestEvent::Paused {
                            segment,
                            last_voice_ms,
                            audio: collector.snapshot(),
                        }
                    }
                    EndpointEvent::Resumed => {
                        // The pause's speculative snapshot no longer covers the turn.
                        segment += 1;
                        IngestEvent::Resumed
                    }
                    EndpointEvent::TurnEnded {
                        onset_ms,
                        last_voice_ms,
                    } => IngestEvent::TurnEnded {
                        segment,
                        onset_ms,
                        last_voice_ms,
                        audio: collector.take(),
                    },
                };
                if self.events.send(event).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn to_stt_rate(
    resampler: &mut Option<(SampleRate, Resampler)>,
    frame: AudioFrame,
) -> Option<Vec<i16>> {
    if frame.rate == STT_RATE {
        return Some(frame.samples);
    }
    if resampler.as_ref().map(|(r, _)| *r) != Some(frame.rate) {
        match Resampler::new(frame.rate, STT_RATE) {
            Ok(r) => *resampler = Some((frame.rate, r)),
            Err(e) => {
                tracing::warn!(error = %e, rate = %frame.rate, "Caller audio at an unsupported rate dropped");
                return None;
            }
        }
    }
    resampler.as_mut().map(|(_, r)| r.process(&frame.samples))
}
