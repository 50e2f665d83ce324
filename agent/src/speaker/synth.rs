//! The TTS stage: takes one line at a time from the controller (or the LLM task), streams it
//! through the TTS provider, shortens the voice's padding silences ([`audio::trim`]: a line
//! starts with its first sound, sentences are at most 300 ms apart), resamples to the
//! transport rate and hands the audio to playout.
//! Bounded on both sides: a slow provider makes `SpeakRequest` senders wait (backpressure up
//! to the LLM), and a full playout queue makes this stage wait.

use std::sync::Arc;

use audio::{Resampler, SampleRate, SilenceTrimmer, TrimConfig};
use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::{PlayoutItem, SpeakRequest, SpeakerEvent, TurnId};
use crate::media::CallClock;
use crate::tts::{TtsProvider, TtsRequest};

pub struct SynthStage {
    /// Lines to say; closed when the controller and every LLM task have dropped their senders.
    pub requests: mpsc::Receiver<SpeakRequest>,
    /// Minimum live turn, raised by the controller on barge-in; older lines are abandoned.
    pub min_turn: watch::Receiver<TurnId>,
    pub tts: Arc<dyn TtsProvider>,
    pub out_rate: SampleRate,
    /// To playout; this stage waits when playout is full.
    pub playout: mpsc::Sender<PlayoutItem>,
    pub events: mpsc::Sender<SpeakerEvent>,
    pub clock: CallClock,
    /// Cancelled by the call supervisor at teardown.
    pub cancel: CancellationToken,
}

impl SynthStage {
    pub async fn run(mut self) {
        let mut resampler: Option<(u32, Resampler)> = None;
        loop {
            let request = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return,
                r = self.requests.recv() => match r { Some(r) => r, None => return },
            };
            if request.turn < *self.min_turn.borrow() {
                continue;
            }
            if !self.speak(&request, &mut resampler).await {
                return;
            }
        }
    }

    /// Synthesises one line. Returns `false` when the stage must stop.
    async fn speak(
        &mut self,
        req: &SpeakRequest,
        resampler: &mut Option<(u32, Resampler)>,
    ) -> bool {
        let rate = self.tts.sample_rate();
        if resampler.as_ref().map(|(r, _)| *r) != Some(rate) {
            let built = SampleRate::new(rate)
                .map_err(|e| e.to_string())
                .and_then(|from| Resampler::new(from, self.out_rate).map_err(|e| e.to_string()));
            match built {
                Ok(r) => *resampler = Some((rate, r)),
                Err(error) => {
                    return self
                        .failed(req, format!("TTS rate {rate} Hz unusable: {error}"))
                        .await;
                }
            }
        }
        let Some((_, resampler)) = resampler.as_mut() else {
            return true;
        };
        resampler.reset();
        let mut trimmer = SilenceTrimmer::new(TrimConfig::speech(rate));
        let mut kept = Vec::new();
        let mut stream = self.tts.synthesize(TtsRequest {
            text: req.text.clone(),
            voice: None,
        });
        let mut first = true;
        loop {
            let chunk = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return false,
                _ = stale(&mut self.min_turn, req.turn) => return true,
                c = stream.next() => c,
            };
            match chunk {
                None => break,
                Some(Ok(pcm)) => trimmer.push(&pcm, &mut kept),
                Some(Err(e)) => return self.failed(req, e.to_string()).await,
            }
            if kept.is_empty() {
                continue;
            }
            let samples = resampler.process(&kept);
            kept.clear();
            if first {
                first = false;
                let at_ms = self.clock.now_ms();
                let event = SpeakerEvent::SynthesisStarted {
                    turn: req.turn,
                    utterance: req.utterance,
                    at_ms,
                };
                if self.events.send(event).await.is_err() {
                    return false;
                }
            }
            if !self.forward(req, samples).await {
                return false;
            }
        }
        trimmer.finish(&mut kept);
        let mut tail = resampler.process(&kept);
        tail.extend(resampler.flush());
        if !tail.is_empty() && !self.forward(req, tail).await {
            return false;
        }
        let end = PlayoutItem::End {
            turn: req.turn,
            utterance: req.utterance,
        };
        self.playout.send(end).await.is_ok()
    }

    async fn forward(&mut self, req: &SpeakRequest, samples: Vec<i16>) -> bool {
        let item = PlayoutItem::Audio {
            turn: req.turn,
            utterance: req.utterance,
            samples,
        };
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => false,
            _ = stale(&mut self.min_turn, req.turn) => true,
            sent = self.playout.send(item) => sent.is_ok(),
        }
    }

    async fn failed(&mut self, req: &SpeakRequest, error: String) -> bool {
        tracing::warn!(utterance = req.utterance, %error, "Speech synthesis failed");
        let event = SpeakerEvent::SynthesisFailed {
            turn: req.turn,
            utterance: req.utterance,
            error,
        };
        self.events.send(event).await.is_ok()
    }
}

/// Resolves once `turn` is older than the minimum live turn.
async fn stale(min_turn: &mut watch::Receiver<TurnId>, turn: TurnId) {
    if min_turn.wait_for(|min| turn < *min).await.is_err() {
        std::future::pending::<()>().await;
    }
}
