//! End-of-turn detection, the pure core between VAD and STT. The VAD state machine reports
//! voiced spans (speech started / speech ended after a short pause); the endpointer turns them
//! into turn-level events: a pause (start a speculative transcription now), a resumption
//! (throw it away), sustained speech (enough to count as a barge-in) and the end of the turn
//! (the silence lasted as long as the current question allows).

/// Per-turn endpointing settings, set by the conversation's current listen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointConfig {
    /// Silence after the last voiced frame that ends the caller's turn.
    pub end_of_turn_ms: u64,
    /// Speech must last this long to interrupt the agent.
    pub barge_in_ms: u64,
    /// A turn that runs this long is cut and transcribed anyway.
    pub max_utterance_ms: u64,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            end_of_turn_ms: 600,
            barge_in_ms: 250,
            max_utterance_ms: 20_000,
        }
    }
}

/// What the endpointer concluded; times are call milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointEvent {
    /// The caller started speaking (first voiced frame at `onset_ms`).
    SpeechStarted { onset_ms: u64 },
    /// The caller has been voicing for at least `barge_in_ms` (voiced frames, not hangover).
    SpeechSustained { onset_ms: u64 },
    /// The caller paused; a speculative transcription of the utterance so far may start.
    Paused { last_voice_ms: u64 },
    /// The caller went on speaking after a pause; the speculative result is stale.
    Resumed,
    /// The caller's turn is over.
    TurnEnded { onset_ms: u64, last_voice_ms: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Speaking {
        onset_ms: u64,
        sustained: bool,
    },
    Paused {
        onset_ms: u64,
        last_voice_ms: u64,
        sustained: bool,
    },
}

/// The end-of-turn state machine of one call.
#[derive(Debug, Clone)]
pub struct Endpointer {
    config: EndpointConfig,
    state: State,
}

impl Endpointer {
    pub fn new(config: EndpointConfig) -> Self {
        Self {
            config,
            state: State::Idle,
        }
    }

    /// Changes the settings; applies to the turn in progress too.
    pub fn set_config(&mut self, config: EndpointConfig) {
        self.config = config;
    }

    pub fn config(&self) -> EndpointConfig {
        self.config
    }

    /// Whether the caller is mid-turn (speaking or pausing).
    pub fn in_turn(&self) -> bool {
        self.state != State::Idle
    }

    /// The VAD saw speech begin at `onset_ms`.
    pub fn speech_started(&mut self, onset_ms: u64) -> Option<EndpointEvent> {
        match self.state {
            State::Idle => {
                self.state = State::Speaking {
                    onset_ms,
                    sustained: false,
                };
                Some(EndpointEvent::SpeechStarted { onset_ms })
            }
            State::Paused {
                onset_ms,
                sustained,
                ..
            } => {
                self.state = State::Speaking {
                    onset_ms,
                    sustained,
                };
                Some(EndpointEvent::Resumed)
            }
            State::Speaking { .. } => None,
        }
    }

    /// The VAD saw speech stop; `last_voice_ms` is the end of the last voiced frame.
    pub fn speech_ended(&mut self, last_voice_ms: u64) -> Option<EndpointEvent> {
        match self.state {
            State::Speaking {
                onset_ms,
                sustained,
            } => {
                self.state = State::Paused {
                    onset_ms,
                    last_voice_ms,
                    sustained,
                };
                Some(EndpointEvent::Paused { last_voice_ms })
            }
            State::Idle | State::Paused { .. } => None,
        }
    }

    /// Advances time to `now_ms`; call once per VAD chunk. `voiced` says whether the chunk
    /// ending at `now_ms` held speech: only voiced time counts towards a barge-in, so a cough
    /// followed by the VAD's hangover is not mistaken for sustained speech.
    pub fn tick(&mut self, now_ms: u64, voiced: bool) -> Option<EndpointEvent> {
        match self.state {
            State::Idle => None,
            State::Speaking {
                onset_ms,
                sustained,
            } => {
                let spoken = now_ms.saturating_sub(onset_ms);
                if spoken >= self.config.max_utterance_ms {
                    self.state = State::Idle;
                    return Some(EndpointEvent::TurnEnded {
                        onset_ms,
                        last_voice_ms: now_ms,
                    });
                }
                if !sustained && voiced && spoken >= self.config.barge_in_ms {
                    self.state = State::Speaking {
                        onset_ms,
                        sustained: true,
                    };
                    return Some(EndpointEvent::SpeechSustained { onset_ms });
                }
                None
            }
            State::Paused {
                onset_ms,
                last_voice_ms,
                ..
            } => {
                if now_ms.saturating_sub(last_voice_ms) >= self.config.end_of_turn_ms {
                    self.state = State::Idle;
                    Some(EndpointEvent::TurnEnded {
                        onset_ms,
                        last_voice_ms,
                    })
                } else {
                    None
                }
            }
        }
    }

    /// Forgets the turn in progress (the agent took the floor, or the call ended).
    pub fn reset(&mut self) {
        self.state = State::Idle;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpointer(end_of_turn_ms: u64) -> Endpointer {
        Endpointer::new(EndpointConfig {
            end_of_turn_ms,
            ..EndpointConfig::default()
        })
    }

    #[test]
    fn turn_ends_after_the_configured_silence() {
        let mut ep = endpointer(500);
        assert_eq!(
            ep.speech_started(1_000),
            Some(EndpointEvent::SpeechStarted { onset_ms: 1_000 })
        );
        assert_eq!(
            ep.speech_ended(1_800),
            Some(EndpointEvent::Paused {
                last_voice_ms: 1_800
            })
        );
        assert_eq!(ep.tick(2_200, true), None);
        assert_eq!(
            ep.tick(2_300, true),
            Some(EndpointEvent::TurnEnded {
                onset_ms: 1_000,
                last_voice_ms: 1_800
            })
        );
        assert!(!ep.in_turn());
    }

    #[test]
    fn speech_after_a_pause_resumes_the_same_turn() {
        let mut ep = endpointer(500);
        ep.speech_started(0);
        ep.speech_ended(700);
        assert_eq!(ep.speech_started(1_000), Some(EndpointEvent::Resumed));
        ep.speech_ended(1_500);
        assert_eq!(
            ep.tick(2_000, true),
            Some(EndpointEvent::TurnEnded {
                onset_ms: 0,
                last_voice_ms: 1_500
            })
        );
    }

    #[test]
    fn sustained_speech_is_reported_once() {
        let mut ep = endpointer(500);
        ep.speech_started(100);
        assert_eq!(ep.tick(300, true), None);
        assert_eq!(
            ep.tick(350, true),
            Some(EndpointEvent::SpeechSustained { onset_ms: 100 })
        );
        assert_eq!(ep.tick(400, true), None);
        ep.speech_ended(500);
        ep.speech_started(600);
        assert_eq!(ep.tick(900, true), None, "already sustained in this turn");
    }

    #[test]
    fn a_short_question_ends_sooner_than_an_open_one() {
        let mut short = endpointer(300);
        let mut long = endpointer(1_200);
        for ep in [&mut short, &mut long] {
            ep.speech_started(0);
            ep.speech_ended(400);
        }
        assert!(short.tick(700, true).is_some());
        assert!(long.tick(700, true).is_none());
        assert!(long.tick(1_600, true).is_some());
    }

    #[test]
    fn hangover_after_a_cough_is_not_sustained_speech() {
        let mut ep = endpointer(500);
        ep.speech_started(1_000);
        assert_eq!(ep.tick(1_150, true), None);
        assert_eq!(
            ep.tick(1_300, false),
            None,
            "silence inside the VAD hangover"
        );
        assert_eq!(ep.tick(1_360, false), None);
    }

    #[test]
    fn endless_speech_is_cut_at_the_maximum() {
        let mut ep = Endpointer::new(EndpointConfig {
            max_utterance_ms: 5_000,
            ..EndpointConfig::default()
        });
        ep.speech_started(0);
        assert!(matches!(
            ep.tick(5_000, true),
            Some(EndpointEvent::TurnEnded { .. })
        ));
    }
}
