//! Streaming DTMF (touch-tone) detection, in the style of ITU-T Q.24 receivers.
//!
//! Runs on inbound audio beside the VAD when the caller's DTMF arrives in-band (no RFC 4733
//! telephone-events): it turns key presses into [`DtmfDigit`]s for the dialogue engine.
//! Each analysis window is 205 samples at 8 kHz (25.6 ms; scaled for other rates), hopped by
//! half a window. A window holds a key when one row tone and one column tone (Goertzel) carry
//! most of its energy evenly across the window, each dominates the other tones of its group by 6 dB, and the twist
//! (level difference between the groups) is within limits. A digit is emitted once it has
//! been present for `min_on_ms`, and the same key must go away before it is emitted again.

use crate::frame::sample_to_f32;
use crate::level::amplitude_to_dbfs;
use crate::tone::Goertzel;
use crate::SampleRate;

const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
const COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// DTMF receiver settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DtmfConfig {
    /// Minimum key duration to accept, measured as the span of the consecutive windows that
    /// hold the key (Q.24: accept ≥ 40 ms, reject < 23 ms; two 25.6 ms windows hopped by half
    /// span 38 ms, hence the default of 35 ms).
    pub min_on_ms: u32,
    /// Silence needed between two presses of the same key before it is reported again.
    pub min_off_ms: u32,
    /// Windows quieter than this (dBFS) hold no key.
    pub min_level_dbfs: f32,
    /// Fraction of the window's energy the two tones must carry together.
    pub min_tone_fraction: f32,
    /// How much louder the low (row) tone may be than the high (column) tone, in dB.
    pub max_reverse_twist_db: f32,
    /// How much louder the high (column) tone may be than the low (row) tone, in dB.
    pub max_twist_db: f32,
    /// Required margin of each tone over the next strongest tone of its group, in dB.
    pub min_group_margin_db: f32,
}

impl Default for DtmfConfig {
    fn default() -> Self {
        Self {
            min_on_ms: 35,
            min_off_ms: 20,
            min_level_dbfs: -40.0,
            min_tone_fraction: 0.65,
            max_reverse_twist_db: 8.0,
            max_twist_db: 6.0,
            min_group_margin_db: 6.0,
        }
    }
}

/// A detected key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfDigit {
    /// `0-9`, `*`, `#` or `A-D`.
    pub digit: char,
    /// When the key started, in ms since the first pushed sample (window resolution).
    pub at_ms: u64,
}

/// Streaming DTMF detector for 8–48 kHz audio.
#[derive(Debug, Clone)]
pub struct DtmfDetector {
    config: DtmfConfig,
    rate: SampleRate,
    rows: [Goertzel; 4],
    cols: [Goertzel; 4],
    window: usize,
    hop: usize,
    buf: Vec<f32>,
    next_window: u64,
    /// Key seen in the previous window, when it started (window index) and whether emitted.
    current: Option<(char, u64, bool)>,
    /// Consecutive windows without a key.
    misses: u32,
}

impl DtmfDetector {
    /// A detector for audio at `rate`.
    pub fn new(rate: SampleRate, config: DtmfConfig) -> Self {
        let window = ((205 * u64::from(rate.hz()) + 4000) / 8000).max(16) as usize;
        Self {
            config,
            rate,
            rows: ROWS.map(|f| Goertzel::new(f, rate)),
            cols: COLS.map(|f| Goertzel::new(f, rate)),
            window,
            hop: window / 2,
            buf: Vec::new(),
            next_window: 0,
            current: None,
            misses: 0,
        }
    }

    /// Feeds samples; returns the digits whose minimum duration was reached in them.
    pub fn push(&mut self, samples: &[i16]) -> Vec<DtmfDigit> {
        self.buf.extend(samples.iter().map(|&s| sample_to_f32(s)));
        let mut digits = Vec::new();
        let mut start = 0;
        while self.buf.len() - start >= self.window {
            let key = self.classify(&self.buf[start..start + self.window]);
            self.step(key, &mut digits);
            start += self.hop;
            self.next_window += 1;
        }
        self.buf.drain(..start);
        digits
    }

    /// The key held in one window, if any.
    fn classify(&self, x: &[f32]) -> Option<char> {
        let mean_sq = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
        if amplitude_to_dbfs(mean_sq.sqrt()) < self.config.min_level_dbfs {
            return None;
        }
        // A key fills the window: both halves carry similar energy. This rejects windows that
        // only catch the edge of a short burst, so a burst's duration is measured honestly.
        let half = x.len() / 2;
        let e1: f32 = x[..half].iter().map(|v| v * v).sum();
        let e2: f32 = x[half..].iter().map(|v| v * v).sum();
        if e1.min(e2) < 0.3 * e1.max(e2) {
            return None;
        }
        let rows = self.rows.map(|g| g.power(x));
        let cols = self.cols.map(|g| g.power(x));
        let (r, pr) = strongest(&rows, self.config.min_group_margin_db)?;
        let (c, pc) = strongest(&cols, self.config.min_group_margin_db)?;
        if (pr + pc) / mean_sq < self.config.min_tone_fraction {
            return None;
        }
        let twist_db = 10.0 * (pc / pr).log10();
        if twist_db > self.config.max_twist_db || -twist_db > self.config.max_reverse_twist_db {
            return None;
        }
        Some(KEYS[r][c])
    }

    fn step(&mut self, key: Option<char>, digits: &mut Vec<DtmfDigit>) {
        let hop_ms = self.rate.ms_for_samples(self.hop);
        let window_ms = self.rate.ms_for_samples(self.window);
        let Some(k) = key else {
            self.misses += 1;
            if f64::from(self.misses) * hop_ms >= f64::from(self.config.min_off_ms) {
                self.current = None;
            }
            return;
        };
        self.misses = 0;
        let now = self.next_window;
        if !matches!(self.current, Some((c, _, _)) if c == k) {
            self.current = Some((k, now, false));
        }
        let Some((cur, first, emitted)) = &mut self.current else {
            return;
        };
        let (cur, first) = (*cur, *first);
        let on_ms = (now - first) as f64 * hop_ms + window_ms;
        if !*emitted && on_ms >= f64::from(self.config.min_on_ms) {
            *emitted = true;
            digits.push(DtmfDigit {
                digit: cur,
                at_ms: (first as f64 * hop_ms) as u64,
            });
        }
    }

    /// Forgets buffered audio and any key in progress; times restart at 0.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.next_window = 0;
        self.current = None;
        self.misses = 0;
    }
}

/// Index and power of the strongest tone if it beats every other by `margin_db`.
fn strongest(p: &[f32; 4], margin_db: f32) -> Option<(usize, f32)> {
    let (best, &peak) = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let margin = 10f32.powf(margin_db / 10.0);
    let beaten = p
        .iter()
        .enumerate()
        .all(|(i, &v)| i == best || v * margin <= peak);
    (beaten && peak > 0.0).then_some((best, peak))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{dtmf, mix, silence, speech_like, white_noise};

    fn detect(rate: SampleRate, audio: &[i16]) -> Vec<DtmfDigit> {
        let mut det = DtmfDetector::new(rate, DtmfConfig::default());
        audio.chunks(160).flat_map(|c| det.push(c)).collect()
    }

    fn keys(digits: &[DtmfDigit]) -> String {
        digits.iter().map(|d| d.digit).collect()
    }

    #[test]
    fn every_key_at_8k_and_16k() {
        let all = "123A456B789C*0#D";
        for rate in [SampleRate::HZ_8K, SampleRate::HZ_16K, SampleRate::HZ_48K] {
            let mut audio = silence(100, rate);
            for d in all.chars() {
                audio.extend(dtmf(d, 0.25, 70, rate));
                audio.extend(silence(60, rate));
            }
            let got = detect(rate, &audio);
            assert_eq!(keys(&got), all, "{rate}");
            // Onsets are 130 ms apart starting at 100 ms, within one hop.
            for (i, d) in got.iter().enumerate() {
                let expected = 100 + 130 * i as i64;
                assert!(
                    (d.at_ms as i64 - expected).abs() <= 14,
                    "{rate} {d:?} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn held_key_is_one_digit_and_repeats_need_a_gap() {
        let rate = SampleRate::HZ_8K;
        let audio = [
            dtmf('5', 0.3, 600, rate),
            silence(50, rate),
            dtmf('5', 0.3, 60, rate),
            silence(50, rate),
        ]
        .concat();
        assert_eq!(keys(&detect(rate, &audio)), "55");
    }

    #[test]
    fn noisy_and_twisted_keys_are_found() {
        let rate = SampleRate::HZ_8K;
        let clean = [
            silence(50, rate),
            dtmf('7', 0.2, 80, rate),
            silence(50, rate),
            dtmf('#', 0.2, 80, rate),
            silence(50, rate),
        ]
        .concat();
        let noisy = mix(&clean, &white_noise(0.02, 400, rate, 3));
        assert_eq!(keys(&detect(rate, &noisy)), "7#");
        // Low tone 5 dB below the high tone (typical positive twist of a phone).
        let twisted: Vec<i16> = crate::synth::sine(852.0, 0.1, 80, rate)
            .iter()
            .zip(crate::synth::sine(1336.0, 0.178, 80, rate))
            .map(|(a, b)| a + b)
            .collect();
        assert_eq!(
            keys(&detect(rate, &[twisted, silence(30, rate)].concat())),
            "8"
        );
    }

    #[test]
    fn rejects_short_single_speech_and_noise() {
        let rate = SampleRate::HZ_8K;
        let short = [dtmf('1', 0.3, 25, rate), silence(100, rate)].concat();
        assert!(detect(rate, &short).is_empty());
        let single = [crate::synth::sine(697.0, 0.4, 200, rate), silence(50, rate)].concat();
        assert!(detect(rate, &single).is_empty());
        for rate in [SampleRate::HZ_8K, SampleRate::HZ_16K] {
            for (pitch, seed) in [(95.0, 1), (120.0, 2), (180.0, 3), (240.0, 4), (330.0, 5)] {
                let voice = speech_like(pitch, 0.4, 3000, rate, seed);
                assert!(detect(rate, &voice).is_empty(), "{rate} pitch {pitch}");
            }
            assert!(detect(rate, &white_noise(0.3, 2000, rate, 8)).is_empty());
        }
        // Too much twist: the column tone 12 dB below the row tone.
        let twisted: Vec<i16> = crate::synth::sine(770.0, 0.4, 100, rate)
            .iter()
            .zip(crate::synth::sine(1209.0, 0.1, 100, rate))
            .map(|(a, b)| a + b)
            .collect();
        assert!(detect(rate, &twisted).is_empty());
    }

    #[test]
    fn garbage_and_reset() {
        let rate = SampleRate::HZ_16K;
        let mut det = DtmfDetector::new(rate, DtmfConfig::default());
        assert!(det.push(&[]).is_empty());
        let mut rng = crate::synth::Rng::new(3);
        let junk: Vec<i16> = (0..50_000).map(|_| rng.next_u64() as i16).collect();
        assert!(det.push(&junk).is_empty());
        det.reset();
        let d = det.push(&[dtmf('9', 0.3, 80, rate), silence(20, rate)].concat());
        assert_eq!(
            d,
            vec![DtmfDigit {
                digit: '9',
                at_ms: 0
            }]
        );
    }
}
