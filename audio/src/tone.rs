//! Goertzel single-bin analysis and a streaming voicemail-beep detector.
//!
//! Runs beside the VAD on inbound audio (after decode and resampling): when an outbound call
//! reaches a voicemail box, the agent waits for [`BeepEvent::Ended`] before leaving its
//! message. A beep is a steady single tone between 400 and 2000 Hz lasting at least 150 ms.
//! The detector slides a 20 ms Hann window in 10 ms hops, scans the band in 20 Hz steps with
//! Goertzel filters and accepts a window when one frequency holds most of the window's energy
//! ("tonality"); a run of such windows whose frequency stays within ±1.5 % is a beep. Speech
//! fails both tests: its energy is spread over harmonics and its pitch moves.
//! DTMF detection lives in [`crate::dtmf`].

use crate::frame::sample_to_f32;
use crate::SampleRate;
use std::f64::consts::TAU;

/// Power of the `freq` component of `samples` (rectangular window), normalised so that a sine
/// of amplitude `A` exactly on a bin gives `A²/2`, its mean-square contribution.
pub fn goertzel_power(samples: &[f32], freq: f64, rate: SampleRate) -> f32 {
    Goertzel::new(freq, rate).power(samples)
}

/// A Goertzel filter tuned to one frequency.
#[derive(Debug, Clone, Copy)]
pub struct Goertzel {
    coeff: f32,
    freq: f64,
}

impl Goertzel {
    /// A filter for `freq` Hz at `rate`.
    pub fn new(freq: f64, rate: SampleRate) -> Self {
        Self {
            coeff: (2.0 * (TAU * freq / f64::from(rate.hz())).cos()) as f32,
            freq,
        }
    }

    /// Frequency the filter is tuned to.
    pub fn freq(&self) -> f64 {
        self.freq
    }

    /// Normalised power over `samples` (0.0 for an empty slice).
    pub fn power(&self, samples: &[f32]) -> f32 {
        self.raw(samples.iter().copied(), samples.len(), 2.0)
    }

    /// Normalised power over `samples × window` (the window must be as long as the samples);
    /// `gain` is `2 / (Σw / N)²` for the window (8 for Hann).
    fn raw(&self, samples: impl Iterator<Item = f32>, n: usize, gain: f32) -> f32 {
        if n == 0 {
            return 0.0;
        }
        let (mut s1, mut s2) = (0.0f32, 0.0f32);
        for x in samples {
            let s = x + self.coeff * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        let p = s1 * s1 + s2 * s2 - self.coeff * s1 * s2;
        gain * p.max(0.0) / (n as f32 * n as f32)
    }
}

/// Beep detector settings.
#[derive(Debug, Clone, PartialEq)]
pub struct BeepConfig {
    /// Lowest beep frequency in Hz.
    pub min_freq_hz: f32,
    /// Highest beep frequency in Hz.
    pub max_freq_hz: f32,
    /// Minimum duration of a steady tone to be reported.
    pub min_duration_ms: u32,
    /// Fraction of a window's energy the peak frequency must hold (0–1).
    pub min_tonality: f32,
    /// Windows quieter than this (dBFS) are never a beep.
    pub min_level_dbfs: f32,
    /// Allowed frequency wander around the run's mean, relative (0.015 = ±1.5 %).
    pub max_freq_deviation: f32,
}

impl Default for BeepConfig {
    fn default() -> Self {
        Self {
            min_freq_hz: 400.0,
            max_freq_hz: 2000.0,
            min_duration_ms: 150,
            min_tonality: 0.6,
            min_level_dbfs: -45.0,
            max_freq_deviation: 0.015,
        }
    }
}

/// What the beep detector reports, with times in ms since the first pushed sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BeepEvent {
    /// A steady tone has lasted `min_duration_ms`; reported while it continues.
    Started {
        /// When the tone began.
        onset_ms: u64,
        /// Its frequency in Hz (±10 Hz).
        frequency_hz: f32,
    },
    /// The tone reported by `Started` has stopped.
    Ended {
        /// When it began.
        onset_ms: u64,
        /// When it stopped.
        offset_ms: u64,
        /// Its mean frequency in Hz.
        frequency_hz: f32,
    },
}

/// Streaming beep detector; push audio of any length, get events.
#[derive(Debug, Clone)]
pub struct BeepDetector {
    config: BeepConfig,
    rate: SampleRate,
    filters: Vec<Goertzel>,
    window: Vec<f32>,
    hop: usize,
    buf: Vec<f32>,
    /// Index (in hops) of the next window to analyse.
    next_window: u64,
    run: Option<Run>,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    first_window: u64,
    windows: u32,
    freq_sum: f64,
    reported: bool,
}

impl Run {
    fn mean(&self) -> f32 {
        (self.freq_sum / f64::from(self.windows)) as f32
    }
}

impl BeepDetector {
    /// A detector for audio at `rate`.
    pub fn new(rate: SampleRate, config: BeepConfig) -> Self {
        let n = rate.samples_for_ms(20).max(8);
        let window = (0..n)
            .map(|i| (0.5 - 0.5 * (TAU * i as f64 / n as f64).cos()) as f32)
            .collect();
        let nyquist = rate.hz() as f32 / 2.0 - 50.0;
        let (lo, hi) = (
            config.min_freq_hz.max(20.0),
            config.max_freq_hz.min(nyquist),
        );
        let filters = if hi >= lo {
            let steps = ((hi - lo) / 20.0) as usize;
            (0..=steps)
                .map(|i| Goertzel::new(f64::from(lo + 20.0 * i as f32), rate))
                .collect()
        } else {
            Vec::new()
        };
        Self {
            config,
            rate,
            filters,
            window,
            hop: n / 2,
            buf: Vec::new(),
            next_window: 0,
            run: None,
        }
    }

    /// Duration of one hop in ms (the time resolution of events).
    fn hop_ms(&self) -> f64 {
        self.rate.ms_for_samples(self.hop)
    }

    /// Feeds samples; returns events completed by them.
    pub fn push(&mut self, samples: &[i16]) -> Vec<BeepEvent> {
        self.buf.extend(samples.iter().map(|&s| sample_to_f32(s)));
        let n = self.window.len();
        let mut events = Vec::new();
        let mut start = 0;
        while self.buf.len() - start >= n {
            let freq = self.analyse(&self.buf[start..start + n]);
            self.step(freq, &mut events);
            start += self.hop;
            self.next_window += 1;
        }
        self.buf.drain(..start);
        events
    }

    /// The peak frequency of a window if the window is tonal and loud enough.
    fn analyse(&self, x: &[f32]) -> Option<f32> {
        let mean_sq = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
        if crate::level::amplitude_to_dbfs(mean_sq.sqrt()) < self.config.min_level_dbfs {
            return None;
        }
        let windowed: Vec<f32> = x.iter().zip(&self.window).map(|(a, w)| a * w).collect();
        let powers: Vec<f32> = self
            .filters
            .iter()
            .map(|g| g.raw(windowed.iter().copied(), x.len(), 8.0))
            .collect();
        let (best, &peak) = powers
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        if peak / mean_sq < self.config.min_tonality {
            return None;
        }
        // Parabolic interpolation between the neighbouring 20 Hz steps.
        let at = |i: usize| powers.get(i).copied().unwrap_or(0.0);
        let (l, r) = (if best > 0 { at(best - 1) } else { 0.0 }, at(best + 1));
        let denom = l - 2.0 * peak + r;
        let delta = if denom.abs() > f32::EPSILON {
            (0.5 * (l - r) / denom).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        Some(self.filters[best].freq() as f32 + 20.0 * delta)
    }

    fn step(&mut self, freq: Option<f32>, events: &mut Vec<BeepEvent>) {
        let hop_ms = self.hop_ms();
        let continues = match (freq, &self.run) {
            (Some(f), Some(run)) => {
                (f - run.mean()).abs() <= run.mean() * self.config.max_freq_deviation + 5.0
            }
            _ => false,
        };
        if continues {
            let f = freq.unwrap_or_default();
            if let Some(run) = &mut self.run {
                run.windows += 1;
                run.freq_sum += f64::from(f);
            }
        } else {
            if let Some(run) = self.run.take() {
                if run.reported {
                    let onset_ms = (run.first_window as f64 * hop_ms + hop_ms / 2.0) as u64;
                    let offset_ms = ((run.first_window + u64::from(run.windows)) as f64 * hop_ms
                        + hop_ms / 2.0) as u64;
                    events.push(BeepEvent::Ended {
                        onset_ms,
                        offset_ms,
                        frequency_hz: run.mean(),
                    });
                }
            }
            self.run = freq.map(|f| Run {
                first_window: self.next_window,
                windows: 1,
                freq_sum: f64::from(f),
                reported: false,
            });
        }
        if let Some(run) = &mut self.run {
            if !run.reported
                && f64::from(run.windows) * hop_ms >= f64::from(self.config.min_duration_ms)
            {
                run.reported = true;
                events.push(BeepEvent::Started {
                    onset_ms: (run.first_window as f64 * hop_ms + hop_ms / 2.0) as u64,
                    frequency_hz: run.mean(),
                });
            }
        }
    }

    /// Forgets buffered audio and any tone in progress; times restart at 0.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.next_window = 0;
        self.run = None;
    }
}

#[cfg(test)]
#[path = "tone_tests.rs"]
mod tests;
