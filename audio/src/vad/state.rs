//! Hysteresis state machine from per-chunk speech probabilities to speech segments.
//!
//! Consumes the output of a [`super::VoiceDetector`] and emits [`VadEvent`]s for the agent's
//! turn-taking stage: `SpeechStarted` starts STT streaming and barge-in, `SpeechEnded` (after
//! the hangover) closes the user's turn. Speech starts when the probability reaches the
//! activation threshold and stays above the deactivation threshold for `min_speech_ms`; it
//! ends after `min_silence_ms` below the deactivation threshold. Event times are the true
//! bounds (the first chunk above / below threshold), not the detection instants, so callers
//! can cut audio precisely; [`PreRollBuffer`] keeps the audio preceding a start.

use super::VadError;
use crate::SampleRate;
use std::collections::VecDeque;

/// Thresholds and durations of the state machine. Can change between turns.
#[derive(Debug, Clone, PartialEq)]
pub struct VadConfig {
    /// Probability at which speech may start (0–1).
    pub activation_threshold: f32,
    /// Probability under which speech counts as silence (≤ activation).
    pub deactivation_threshold: f32,
    /// Speech must last this long before `SpeechStarted` (rejects clicks and coughs).
    pub min_speech_ms: u32,
    /// Silence must last this long before `SpeechEnded` (the hangover).
    pub min_silence_ms: u32,
    /// Audio to keep before a start, for STT (see [`PreRollBuffer`]).
    pub pre_roll_ms: u32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            activation_threshold: 0.5,
            deactivation_threshold: 0.35,
            min_speech_ms: 100,
            min_silence_ms: 500,
            pre_roll_ms: 300,
        }
    }
}

impl VadConfig {
    /// Checks the thresholds.
    ///
    /// # Errors
    /// [`VadError::InvalidConfig`] for thresholds outside 0–1 or deactivation above activation.
    pub fn validate(&self) -> Result<(), VadError> {
        let (a, d) = (self.activation_threshold, self.deactivation_threshold);
        if !(0.0..=1.0).contains(&a) || !(0.0..=1.0).contains(&d) {
            return Err(VadError::InvalidConfig("thresholds must be within 0..=1"));
        }
        if d > a {
            return Err(VadError::InvalidConfig(
                "deactivation threshold above activation threshold",
            ));
        }
        Ok(())
    }
}

/// A speech boundary, in ms since the stream started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VadEvent {
    /// Speech began at `at_ms` (reported `min_speech_ms` later).
    SpeechStarted {
        /// Start of the first speech chunk.
        at_ms: f64,
    },
    /// Speech stopped at `at_ms` (reported `min_silence_ms` later).
    SpeechEnded {
        /// Start of the first silent chunk.
        at_ms: f64,
        /// Length of the segment.
        speech_ms: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Silence,
    /// Above activation since `start`, not yet long enough.
    Pending {
        start: f64,
    },
    /// In speech since `start`; `quiet_since` is set during a possible ending.
    Speech {
        start: f64,
        quiet_since: Option<f64>,
    },
}

/// The state machine. Feed it one probability per chunk, in order.
#[derive(Debug, Clone)]
pub struct VadStateMachine {
    config: VadConfig,
    state: State,
    now_ms: f64,
}

impl VadStateMachine {
    /// A machine in the silence state at time 0.
    ///
    /// # Errors
    /// [`VadError::InvalidConfig`] as for [`VadConfig::validate`].
    pub fn new(config: VadConfig) -> Result<Self, VadError> {
        config.validate()?;
        Ok(Self {
            config,
            state: State::Silence,
            now_ms: 0.0,
        })
    }

    /// Current configuration.
    pub fn config(&self) -> &VadConfig {
        &self.config
    }

    /// Replaces the configuration (e.g. a longer hangover for an open question); applies from
    /// the next chunk, keeping the current state.
    ///
    /// # Errors
    /// [`VadError::InvalidConfig`]; the old configuration stays in place.
    pub fn set_config(&mut self, config: VadConfig) -> Result<(), VadError> {
        config.validate()?;
        self.config = config;
        Ok(())
    }

    /// Changes only the hangover.
    pub fn set_min_silence_ms(&mut self, ms: u32) {
        self.config.min_silence_ms = ms;
    }

    /// True between `SpeechStarted` and `SpeechEnded`.
    pub fn in_speech(&self) -> bool {
        matches!(self.state, State::Speech { .. })
    }

    /// Time consumed so far, in ms.
    pub fn now_ms(&self) -> f64 {
        self.now_ms
    }

    /// Feeds the probability of the next chunk lasting `chunk_ms`. NaN counts as silence.
    pub fn update(&mut self, probability: f32, chunk_ms: f64) -> Option<VadEvent> {
        let start = self.now_ms;
        self.now_ms += chunk_ms.max(0.0);
        let end = self.now_ms;
        let p = if probability.is_nan() {
            0.0
        } else {
            probability
        };
        let (act, deact) = (
            self.config.activation_threshold,
            self.config.deactivation_threshold,
        );
        match self.state {
            State::Silence if p >= act => {
                self.state = State::Pending { start };
                self.confirm(end)
            }
            State::Silence => None,
            State::Pending { .. } if p < deact => {
                self.state = State::Silence;
                None
            }
            State::Pending { .. } => self.confirm(end),
            State::Speech {
                start: s,
                quiet_since,
            } => {
                if p >= deact {
                    self.state = State::Speech {
                        start: s,
                        quiet_since: None,
                    };
                    return None;
                }
                let quiet = quiet_since.unwrap_or(start);
                if end - quiet >= f64::from(self.config.min_silence_ms) {
                    self.state = State::Silence;
                    return Some(VadEvent::SpeechEnded {
                        at_ms: quiet,
                        speech_ms: quiet - s,
                    });
                }
                self.state = State::Speech {
                    start: s,
                    quiet_since: Some(quiet),
                };
                None
            }
        }
    }

    fn confirm(&mut self, end: f64) -> Option<VadEvent> {
        let State::Pending { start } = self.state else {
            return None;
        };
        if end - start >= f64::from(self.config.min_speech_ms) {
            self.state = State::Speech {
                start,
                quiet_since: None,
            };
            return Some(VadEvent::SpeechStarted { at_ms: start });
        }
        None
    }

    /// Ends the stream: a segment in progress ends now (or where its silence began).
    pub fn finish(&mut self) -> Option<VadEvent> {
        let state = std::mem::replace(&mut self.state, State::Silence);
        match state {
            State::Speech { start, quiet_since } => {
                let at_ms = quiet_since.unwrap_or(self.now_ms);
                Some(VadEvent::SpeechEnded {
                    at_ms,
                    speech_ms: at_ms - start,
                })
            }
            _ => None,
        }
    }

    /// Back to silence at time 0.
    pub fn reset(&mut self) {
        self.state = State::Silence;
        self.now_ms = 0.0;
    }
}

/// A bounded ring of the most recent audio, so that the audio just before a `SpeechStarted`
/// (which is reported `min_speech_ms` late) can be sent to STT.
#[derive(Debug, Clone)]
pub struct PreRollBuffer {
    samples: VecDeque<i16>,
    capacity: usize,
}

impl PreRollBuffer {
    /// Keeps the last `ms` milliseconds at `rate`.
    pub fn new(rate: SampleRate, ms: u32) -> Self {
        let capacity = rate.samples_for_ms(ms);
        Self {
            samples: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Appends audio, forgetting the oldest beyond capacity.
    pub fn push(&mut self, samples: &[i16]) {
        let skip = samples.len().saturating_sub(self.capacity);
        self.samples.extend(&samples[skip..]);
        let excess = self.samples.len().saturating_sub(self.capacity);
        self.samples.drain(..excess);
    }

    /// Takes the buffered audio, oldest first, leaving the buffer empty.
    pub fn take(&mut self) -> Vec<i16> {
        self.samples.drain(..).collect()
    }

    /// Samples held.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(m: &mut VadStateMachine, probs: &[f32]) -> Vec<VadEvent> {
        probs.iter().filter_map(|&p| m.update(p, 32.0)).collect()
    }

    fn machine(min_speech_ms: u32, min_silence_ms: u32) -> VadStateMachine {
        VadStateMachine::new(VadConfig {
            min_speech_ms,
            min_silence_ms,
            ..VadConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn start_and_end_report_true_bounds() {
        let mut m = machine(96, 320);
        let mut probs = vec![0.1; 10];
        probs.extend([0.9; 20]);
        probs.extend([0.05; 15]);
        let events = feed(&mut m, &probs);
        assert_eq!(
            events,
            vec![
                VadEvent::SpeechStarted { at_ms: 320.0 },
                VadEvent::SpeechEnded {
                    at_ms: 960.0,
                    speech_ms: 640.0
                }
            ]
        );
        assert!(!m.in_speech());
    }

    #[test]
    fn hysteresis_and_short_blips() {
        let mut m = machine(96, 320);
        // A 64 ms blip is too short; 0.4 sits between the thresholds.
        assert!(feed(&mut m, &[0.9, 0.9, 0.1, 0.1]).is_empty());
        let ev = feed(&mut m, &[0.6, 0.4, 0.4, 0.4]);
        assert_eq!(ev, vec![VadEvent::SpeechStarted { at_ms: 128.0 }]);
        // Dips shorter than the hangover do not end speech; 0.4 keeps speech alive.
        assert!(feed(&mut m, &[0.1, 0.1, 0.1, 0.4, 0.1, 0.1, 0.9]).is_empty());
        assert!(m.in_speech());
        let ev = feed(&mut m, &[0.0; 10]);
        assert!(matches!(ev[..], [VadEvent::SpeechEnded { at_ms, .. }] if at_ms == 480.0));
    }

    #[test]
    fn hangover_changes_at_runtime() {
        let mut m = machine(0, 1000);
        feed(&mut m, &[0.9]);
        assert!(m.in_speech());
        m.set_min_silence_ms(64);
        let ev = feed(&mut m, &[0.1, 0.1]);
        assert_eq!(
            ev,
            vec![VadEvent::SpeechEnded {
                at_ms: 32.0,
                speech_ms: 32.0
            }]
        );
        assert!(m
            .set_config(VadConfig {
                deactivation_threshold: 0.9,
                ..VadConfig::default()
            })
            .is_err());
        assert_eq!(m.config().min_silence_ms, 64);
    }

    #[test]
    fn finish_reset_and_bad_input() {
        let mut m = machine(0, 500);
        feed(&mut m, &[0.9, 0.9, f32::NAN]);
        assert_eq!(
            m.finish(),
            Some(VadEvent::SpeechEnded {
                at_ms: 64.0,
                speech_ms: 64.0
            })
        );
        assert_eq!(m.finish(), None);
        m.reset();
        assert_eq!(m.now_ms(), 0.0);
        assert!(m.update(0.9, -5.0).is_some());
        for bad in [
            VadConfig {
                activation_threshold: 1.5,
                ..VadConfig::default()
            },
            VadConfig {
                deactivation_threshold: -0.1,
                ..VadConfig::default()
            },
            VadConfig {
                activation_threshold: 0.2,
                deactivation_threshold: 0.3,
                ..VadConfig::default()
            },
        ] {
            assert!(matches!(
                VadStateMachine::new(bad),
                Err(VadError::InvalidConfig(_))
            ));
        }
    }

    #[test]
    fn pre_roll_keeps_the_latest_audio() {
        let mut p = PreRollBuffer::new(SampleRate::HZ_8K, 1);
        assert!(p.is_empty());
        p.push(&[1, 2, 3, 4, 5]);
        p.push(&(10..20).collect::<Vec<i16>>());
        assert_eq!(p.len(), 8);
        assert_eq!(p.take(), (12..20).collect::<Vec<i16>>());
        assert!(p.take().is_empty());
        p.push(&[]);
        assert!(p.is_empty());
    }
}
