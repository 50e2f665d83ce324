//! Deterministic test-signal synthesis: tones, DTMF digits, noise and speech-like harmonics.
//!
//! Not part of the live pipeline: tests, benches and simulated peers (a fake caller pressing
//! DTMF keys, a voicemail beep) use these to produce audio with known content. Everything is
//! seeded, so the same call always yields the same samples.

use crate::frame::f32_to_sample;
use crate::SampleRate;
use std::f64::consts::TAU;

/// Small deterministic PRNG (xorshift64*), good enough for noise and fuzzing.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeds the generator (a zero seed is replaced by a fixed constant).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform float in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// Between 0 and `max_len - 1` random bytes (a random length, then the bytes).
    pub fn bytes_below(&mut self, max_len: usize) -> Vec<u8> {
        let len = self.below(max_len);
        self.bytes(len)
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

fn to_samples(x: impl Iterator<Item = f64>) -> Vec<i16> {
    x.map(|v| f32_to_sample(v as f32)).collect()
}

/// A sine of `freq` Hz with peak `amplitude` (full scale 1.0) lasting `ms` milliseconds.
pub fn sine(freq: f64, amplitude: f32, ms: u32, rate: SampleRate) -> Vec<i16> {
    let sr = f64::from(rate.hz());
    let a = f64::from(amplitude);
    to_samples((0..rate.samples_for_ms(ms)).map(|n| a * (TAU * freq * n as f64 / sr).sin()))
}

/// `ms` milliseconds of zeros.
pub fn silence(ms: u32, rate: SampleRate) -> Vec<i16> {
    vec![0; rate.samples_for_ms(ms)]
}

/// Uniform white noise with RMS `rms` (full scale 1.0).
pub fn white_noise(rms: f32, ms: u32, rate: SampleRate, seed: u64) -> Vec<i16> {
    let mut rng = Rng::new(seed);
    // A uniform variable on [-1, 1) has RMS 1/sqrt(3).
    let scale = f64::from(rms) * 3f64.sqrt();
    to_samples((0..rate.samples_for_ms(ms)).map(|_| scale * (rng.next_f64() * 2.0 - 1.0)))
}

/// Low and high DTMF frequencies of a key (`0-9`, `*`, `#`, `A-D`), or None.
pub fn dtmf_frequencies(digit: char) -> Option<(f64, f64)> {
    const KEYS: [[char; 4]; 4] = [
        ['1', '2', '3', 'A'],
        ['4', '5', '6', 'B'],
        ['7', '8', '9', 'C'],
        ['*', '0', '#', 'D'],
    ];
    const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    let d = digit.to_ascii_uppercase();
    KEYS.iter()
        .enumerate()
        .find_map(|(r, row)| row.iter().position(|&k| k == d).map(|c| (ROWS[r], COLS[c])))
}

/// A DTMF key: both tones at `amplitude` each; silence for an unknown key.
pub fn dtmf(digit: char, amplitude: f32, ms: u32, rate: SampleRate) -> Vec<i16> {
    let Some((low, high)) = dtmf_frequencies(digit) else {
        return silence(ms, rate);
    };
    let sr = f64::from(rate.hz());
    let a = f64::from(amplitude);
    to_samples((0..rate.samples_for_ms(ms)).map(|n| {
        let t = n as f64 / sr;
        a * ((TAU * low * t).sin() + (TAU * high * t).sin())
    }))
}

/// A voiced, speech-like signal: a harmonic series (amplitudes 1/k up to 3.4 kHz) whose pitch
/// glides around `pitch_hz` by ±25 % (3 Hz vibrato plus a slow drift), with a syllabic
/// amplitude envelope at 4 Hz. It has the spectral look of vowels without being a steady tone.
pub fn speech_like(
    pitch_hz: f64,
    amplitude: f32,
    ms: u32,
    rate: SampleRate,
    seed: u64,
) -> Vec<i16> {
    let sr = f64::from(rate.hz());
    let mut rng = Rng::new(seed);
    let drift_phase = rng.next_f64() * TAU;
    let n_harm = ((3400.0f64.min(sr / 2.0 - 200.0)) / (pitch_hz * 1.25))
        .floor()
        .max(1.0) as usize;
    let norm: f64 = (1..=n_harm).map(|k| 1.0 / k as f64).sum();
    let mut phase = 0.0f64;
    to_samples((0..rate.samples_for_ms(ms)).map(|n| {
        let t = n as f64 / sr;
        let f0 = pitch_hz
            * (1.0 + 0.15 * (TAU * 3.0 * t).sin() + 0.10 * (TAU * 0.7 * t + drift_phase).sin());
        phase += TAU * f0 / sr;
        let env = 0.55 - 0.45 * (TAU * 4.0 * t).cos();
        let v: f64 = (1..=n_harm)
            .map(|k| (k as f64 * phase).sin() / k as f64)
            .sum();
        f64::from(amplitude) * env * v / norm * 1.6
    }))
}

/// Adds `b` to `a` sample by sample (saturating); the result has `a`'s length.
pub fn mix(a: &[i16], b: &[i16]) -> Vec<i16> {
    a.iter()
        .enumerate()
        .map(|(i, &x)| x.saturating_add(b.get(i).copied().unwrap_or(0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::dbfs;

    #[test]
    fn generators_have_the_requested_levels() {
        let r = SampleRate::HZ_8K;
        assert_eq!(sine(440.0, 0.5, 100, r).len(), 800);
        assert!((dbfs(&white_noise(0.1, 500, r, 3)) - (-20.0)).abs() < 0.5);
        assert_eq!(white_noise(0.1, 20, r, 3), white_noise(0.1, 20, r, 3));
        assert_ne!(white_noise(0.1, 20, r, 3), white_noise(0.1, 20, r, 4));
        assert_eq!(dtmf_frequencies('5'), Some((770.0, 1336.0)));
        assert_eq!(dtmf_frequencies('#'), Some((941.0, 1477.0)));
        assert_eq!(dtmf_frequencies('x'), None);
        let voice = speech_like(140.0, 0.3, 1000, SampleRate::HZ_16K, 1);
        assert!(
            dbfs(&voice) > -30.0 && dbfs(&voice) < -8.0,
            "{}",
            dbfs(&voice)
        );
        assert_eq!(mix(&[i16::MAX, 1], &[5]), vec![i16::MAX, 1]);
    }
}
