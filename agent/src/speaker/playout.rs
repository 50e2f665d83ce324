//! The playout stage: last stage of the send path. Paces the agent's audio to the transport
//! in 20 ms frames on the call clock, reports when each line starts and ends, and obeys
//! barge-in controls before audio: `Pause` silences output before the next frame.

use std::collections::VecDeque;

use tokio::sync::mpsc;
use tokio::time::{interval_at, Duration, Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::{AudioOut, PlayoutControl, PlayoutItem, SpeakerEvent, TurnId};
use crate::conversation::UtteranceId;
use crate::media::CallClock;

pub const FRAME_MS: u64 = 20;
/// How much audio playout pulls ahead from the TTS stage; the rest waits in the channel.
const LOOKAHEAD_FRAMES: usize = 3;

pub struct PlayoutStage {
    /// Audio from the TTS stage; closed when it stops.
    pub items: mpsc::Receiver<PlayoutItem>,
    /// Barge-in controls from the controller, handled first.
    pub control: mpsc::Receiver<PlayoutControl>,
    pub out: Box<dyn AudioOut>,
    pub events: mpsc::Sender<SpeakerEvent>,
    pub clock: CallClock,
    /// Cancelled by the call supervisor at teardown.
    pub cancel: CancellationToken,
}

struct Current {
    turn: TurnId,
    utterance: UtteranceId,
    played_samples: usize,
}

struct State {
    queue: VecDeque<PlayoutItem>,
    queued_samples: usize,
    current: Option<Current>,
    paused: bool,
    min_turn: TurnId,
    frame_len: usize,
}

impl PlayoutStage {
    pub async fn run(mut self) {
        let rate = self.out.rate();
        let mut st = State {
            queue: VecDeque::new(),
            queued_samples: 0,
            current: None,
            paused: false,
            min_turn: 0,
            frame_len: rate.samples_for_ms(FRAME_MS as u32),
        };
        let mut ticker: Option<Interval> = None;
        let mut items_open = true;
        loop {
            let want_more = items_open && st.queued_samples < st.frame_len * LOOKAHEAD_FRAMES;
            let playing = !st.paused && !st.queue.is_empty();
            if !playing {
                ticker = None;
            }
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return,
                Some(ctl) = self.control.recv() => {
                    if !self.apply(ctl, &mut st).await {
                        return;
                    }
                }
                item = self.items.recv(), if want_more => match item {
                    Some(item) => st.push(item),
                    None => items_open = false,
                },
                _ = tick(&mut ticker), if playing => {
                    if !self.play_frame(&mut st).await {
                        return;
                    }
                }
                else => return,
            }
        }
    }

    async fn apply(&mut self, ctl: PlayoutControl, st: &mut State) -> bool {
        match ctl {
            PlayoutControl::Pause => {
                if st.paused {
                    return true;
                }
                st.paused = true;
                let at_ms = self.clock.now_ms();
                self.events
                    .send(SpeakerEvent::PlaybackPaused { at_ms })
                    .await
                    .is_ok()
            }
            PlayoutControl::Resume => {
                st.paused = false;
                true
            }
            PlayoutControl::Flush { min_turn } => {
                st.paused = false;
                st.min_turn = st.min_turn.max(min_turn);
                st.queue.retain(|item| item_turn(item) >= min_turn);
                st.queued_samples = st.queue.iter().map(item_len).sum();
                match st.current.take() {
                    Some(cur) if cur.turn < min_turn => {
                        self.finished(cur, true, st.frame_len).await
                    }
                    other => {
                        st.current = other;
                        true
                    }
                }
            }
        }
    }

    /// Sends the next 20 ms; closes lines whose audio ran out.
    async fn play_frame(&mut self, st: &mut State) -> bool {
        let mut frame = Vec::with_capacity(st.frame_len);
        while frame.len() < st.frame_len {
            let Some(front) = st.queue.front_mut() else {
                break;
            };
            match front {
                PlayoutItem::Audio {
                    turn,
                    utterance,
                    samples,
                } => {
                    if st.current.as_ref().map(|c| c.utterance) != Some(*utterance) {
                        if let Some(prev) = st.current.take() {
                            if !self.finished(prev, false, st.frame_len).await {
                                return false;
                            }
                        }
                        let (turn, utterance) = (*turn, *utterance);
                        st.current = Some(Current {
                            turn,
                            utterance,
                            played_samples: 0,
                        });
                        let at_ms = self.clock.now_ms();
                        let event = SpeakerEvent::PlaybackStarted {
                            turn,
                            utterance,
                            at_ms,
                        };
                        if self.events.send(event).await.is_err() {
                            return false;
                        }
                        continue;
                    }
                    let take = (st.frame_len - frame.len()).min(samples.len());
                    frame.extend(samples.drain(..take));
                    st.queued_samples -= take;
                    if let Some(cur) = st.current.as_mut() {
                        cur.played_samples += take;
                    }
                    if samples.is_empty() {
                        st.queue.pop_front();
                    }
                }
                PlayoutItem::End { turn, utterance } => {
                    let (turn, utterance) = (*turn, *utterance);
                    st.queue.pop_front();
                    if !frame.is_empty() {
                        frame.resize(st.frame_len, 0);
                        self.out.send(&frame, self.clock.now_ms());
                        frame.clear();
                    }
                    // A line that produced no audio still finishes, so the controller can move on.
                    let cur = match st.current.take() {
                        Some(cur) if cur.utterance == utterance => cur,
                        other => {
                            st.current = other;
                            Current {
                                turn,
                                utterance,
                                played_samples: 0,
                            }
                        }
                    };
                    return self.finished(cur, false, st.frame_len).await;
                }
            }
        }
        if !frame.is_empty() {
            frame.resize(st.frame_len, 0);
            self.out.send(&frame, self.clock.now_ms());
        }
        true
    }

    async fn finished(&mut self, cur: Current, interrupted: bool, frame_len: usize) -> bool {
        let played_ms = (cur.played_samples as u64 * FRAME_MS) / frame_len.max(1) as u64;
        let event = SpeakerEvent::PlaybackFinished {
            turn: cur.turn,
            utterance: cur.utterance,
            at_ms: self.clock.now_ms(),
            interrupted,
            played_ms,
        };
        self.events.send(event).await.is_ok()
    }
}

impl State {
    fn push(&mut self, item: PlayoutItem) {
        if item_turn(&item) < self.min_turn {
            return;
        }
        self.queued_samples += item_len(&item);
        self.queue.push_back(item);
    }
}

fn item_turn(item: &PlayoutItem) -> TurnId {
    match item {
        PlayoutItem::Audio { turn, .. } | PlayoutItem::End { turn, .. } => *turn,
    }
}

fn item_len(item: &PlayoutItem) -> usize {
    match item {
        PlayoutItem::Audio { samples, .. } => samples.len(),
        PlayoutItem::End { .. } => 0,
    }
}

/// Waits for the next frame slot. The first slot after (re)starting is now, without touching
/// the timer: tokio rounds timer deadlines up to the next millisecond, which would delay the
/// first frame of every line by ~1 ms.
async fn tick(ticker: &mut Option<Interval>) {
    match ticker {
        Some(t) => {
            t.tick().await;
        }
        None => {
            let period = Duration::from_millis(FRAME_MS);
            let mut t = interval_at(Instant::now() + period, period);
            t.set_missed_tick_behavior(MissedTickBehavior::Burst);
            *ticker = Some(t);
        }
    }
}
