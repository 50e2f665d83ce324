//! Sending key presses as RFC 4733 telephone-events: [`DtmfSchedule`] turns a digit string
//! into one step per 20 ms packet interval. Each event's first packet carries the marker bit;
//! its packets share one RTP timestamp (the event start) and grow `duration`; the end packet
//! is sent three times; digits are separated by a gap and `,` is a pause. Pure: the RTP sender
//! ([`super::sender`]) walks the steps on its own clock.

use super::rtp::{event_for_digit, TelephoneEvent};

/// Packet interval of event updates.
pub const STEP_MS: u64 = 20;
/// How long each key is held.
pub const TONE_MS: u64 = 160;
/// Silence between two keys.
pub const GAP_MS: u64 = 100;
/// What `,` waits.
pub const PAUSE_MS: u64 = 500;
/// Times the end packet is sent (RFC 4733 §2.5.1.4).
const END_PACKETS: u64 = 3;
/// Event volume, -dBm0.
const VOLUME: u8 = 10;

/// Why a digit string cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DtmfError {
    #[error("{0:?} is not a DTMF key (0-9, *, #, A-D, or , to pause)")]
    InvalidDigit(char),
    #[error("the call has ended")]
    CallEnded,
    #[error("another key sequence is still being sent")]
    Busy,
    #[error("the far end refused our SIP INFO ({0})")]
    Refused(u16),
    #[error("the far end did not answer our SIP INFO")]
    NoResponse,
}

/// One key of a digit string, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Digit(char),
    Pause,
}

/// Validates `digits` (whitespace is ignored).
///
/// # Errors
/// [`DtmfError::InvalidDigit`] for the first character that is not a key.
pub fn parse_keys(digits: &str) -> Result<Vec<Key>, DtmfError> {
    digits
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            ',' => Ok(Key::Pause),
            c if event_for_digit(c).is_some() => Ok(Key::Digit(c.to_ascii_uppercase())),
            c => Err(DtmfError::InvalidDigit(c)),
        })
        .collect()
}

/// What to do in one 20 ms step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send this event packet; `marker` starts a new event (and a new RTP timestamp).
    Event { event: TelephoneEvent, marker: bool },
    /// Send nothing from the schedule (audio may flow again).
    Idle,
}

/// The packet steps of a key sequence, one per [`STEP_MS`].
#[derive(Debug, Clone)]
pub struct DtmfSchedule {
    keys: std::vec::IntoIter<Key>,
    current: Option<(Key, u64)>,
}

impl DtmfSchedule {
    pub fn new(keys: Vec<Key>) -> Self {
        Self {
            keys: keys.into_iter(),
            current: None,
        }
    }

    /// Steps a key takes: tone updates, extra end packets, then the gap (or the pause).
    fn steps_for(key: Key) -> u64 {
        match key {
            Key::Digit(_) => TONE_MS / STEP_MS + (END_PACKETS - 1) + GAP_MS / STEP_MS,
            Key::Pause => PAUSE_MS / STEP_MS,
        }
    }
}

impl Iterator for DtmfSchedule {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        loop {
            match self.current {
                Some((key, i)) if i < Self::steps_for(key) => {
                    self.current = Some((key, i + 1));
                    let Key::Digit(c) = key else {
                        return Some(Step::Idle);
                    };
                    let updates = TONE_MS / STEP_MS;
                    if i >= updates + END_PACKETS - 1 {
                        return Some(Step::Idle);
                    }
                    let packets = (i + 1).min(updates);
                    let event = TelephoneEvent {
                        event: event_for_digit(c).unwrap_or(0),
                        end: i + 1 >= updates,
                        volume: VOLUME,
                        duration: (packets * STEP_MS * 8) as u16,
                    };
                    return Some(Step::Event {
                        event,
                        marker: i == 0,
                    });
                }
                _ => self.current = Some((self.keys.next()?, 0)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digit_is_marked_growing_ended_three_times_then_silent() {
        let steps: Vec<Step> = DtmfSchedule::new(parse_keys("5").unwrap()).collect();
        let events: Vec<TelephoneEvent> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Event { event, .. } => Some(*event),
                Step::Idle => None,
            })
            .collect();
        assert_eq!(events.len(), 8 + 2);
        assert!(matches!(steps[0], Step::Event { marker: true, .. }));
        assert!(steps[1..]
            .iter()
            .all(|s| !matches!(s, Step::Event { marker: true, .. })));
        assert!(events.iter().all(|e| e.event == 5 && e.volume == 10));
        let durations: Vec<u16> = events.iter().map(|e| e.duration).collect();
        assert_eq!(
            durations,
            [160, 320, 480, 640, 800, 960, 1120, 1280, 1280, 1280]
        );
        assert_eq!(events.iter().filter(|e| e.end).count(), 3);
        assert!(!events[6].end && events[7].end);
        assert_eq!(steps.len() as u64, 10 + GAP_MS / STEP_MS);
        assert!(steps[10..].iter().all(|s| *s == Step::Idle));
    }

    #[test]
    fn pauses_and_several_digits() {
        let keys = parse_keys("1,#").unwrap();
        assert_eq!(keys, [Key::Digit('1'), Key::Pause, Key::Digit('#')]);
        let steps: Vec<Step> = DtmfSchedule::new(keys).collect();
        let starts: Vec<usize> = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s, Step::Event { marker: true, .. }))
            .map(|(i, _)| i)
            .collect();
        let per_digit = (TONE_MS / STEP_MS + 2 + GAP_MS / STEP_MS) as usize;
        assert_eq!(starts, [0, per_digit + (PAUSE_MS / STEP_MS) as usize]);
        assert_eq!(parse_keys("12x"), Err(DtmfError::InvalidDigit('x')));
        assert_eq!(
            parse_keys("a b").unwrap(),
            [Key::Digit('A'), Key::Digit('B')]
        );
    }
}
