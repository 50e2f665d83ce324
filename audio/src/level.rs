//! Signal levels: RMS, dBFS, peak and clipping ratio.
//!
//! Used on both sides of the pipeline: the energy VAD gate and the noise-floor tracker read
//! [`dbfs`], the agent logs input levels and detects clipped (over-driven) callers with
//! [`clipping_ratio`], and tests assert that synthesised audio is neither silent nor clipped.
//! dBFS follows the RMS convention: a full-scale square wave is 0 dBFS, a full-scale sine
//! about -3.01 dBFS.

/// dBFS reported for digital silence and empty input (instead of -inf).
pub const SILENCE_DBFS: f32 = -120.0;

/// Magnitude at or above which a sample counts as clipped.
pub const CLIP_THRESHOLD: u16 = 32_767;

/// Levels of one buffer, computed in a single pass by [`measure`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// Root mean square, normalised to full scale (0.0..=1.0).
    pub rms: f32,
    /// RMS in dB relative to full scale, floored at [`SILENCE_DBFS`].
    pub dbfs: f32,
    /// Largest magnitude (0..=32768).
    pub peak: u16,
    /// Fraction of samples at or above [`CLIP_THRESHOLD`] (0.0..=1.0).
    pub clipping_ratio: f32,
}

/// Computes all levels of `samples` in one pass. Empty input is silence.
pub fn measure(samples: &[i16]) -> Level {
    let mut sum_sq = 0.0f64;
    let mut peak = 0u16;
    let mut clipped = 0usize;
    for &s in samples {
        let m = s.unsigned_abs();
        peak = peak.max(m);
        clipped += usize::from(m >= CLIP_THRESHOLD);
        sum_sq += f64::from(s) * f64::from(s);
    }
    let n = samples.len().max(1) as f64;
    let rms = ((sum_sq / n).sqrt() / 32768.0) as f32;
    Level {
        rms,
        dbfs: amplitude_to_dbfs(rms),
        peak,
        clipping_ratio: (clipped as f64 / n) as f32,
    }
}

/// RMS of `samples` normalised to full scale (0.0 for empty input).
pub fn rms(samples: &[i16]) -> f32 {
    measure(samples).rms
}

/// RMS level in dBFS, floored at [`SILENCE_DBFS`].
pub fn dbfs(samples: &[i16]) -> f32 {
    measure(samples).dbfs
}

/// Largest absolute sample value (32768 for `i16::MIN`).
pub fn peak(samples: &[i16]) -> u16 {
    samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0)
}

/// Fraction of samples at full scale (0.0 for empty input).
pub fn clipping_ratio(samples: &[i16]) -> f32 {
    measure(samples).clipping_ratio
}

/// RMS level of float samples (full scale 1.0) in dBFS, floored at [`SILENCE_DBFS`].
pub fn dbfs_f32(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return SILENCE_DBFS;
    }
    let mean_sq = samples
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        / samples.len() as f64;
    amplitude_to_dbfs(mean_sq.sqrt() as f32)
}

/// Converts a normalised amplitude to dB, floored at [`SILENCE_DBFS`].
pub fn amplitude_to_dbfs(amplitude: f32) -> f32 {
    if amplitude <= 0.0 || amplitude.is_nan() {
        return SILENCE_DBFS;
    }
    (20.0 * amplitude.log10()).max(SILENCE_DBFS)
}

/// Converts dB to a normalised amplitude.
pub fn dbfs_to_amplitude(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;
    use crate::SampleRate;

    #[test]
    fn full_scale_sine_is_minus_three_db() {
        let sine = synth::sine(1000.0, 0.999, 100, SampleRate::HZ_16K);
        let level = measure(&sine);
        assert!((level.dbfs + 3.01).abs() < 0.05, "{level:?}");
        assert!((level.rms - std::f32::consts::FRAC_1_SQRT_2).abs() < 0.005);
        assert!(level.peak >= 32_700);
        assert_eq!(level.clipping_ratio, 0.0);
    }

    #[test]
    fn level_tracks_amplitude() {
        let quiet = synth::sine(440.0, dbfs_to_amplitude(-30.0), 200, SampleRate::HZ_8K);
        assert!((dbfs(&quiet) - (-33.01)).abs() < 0.1, "{}", dbfs(&quiet));
        let square: Vec<i16> = (0..800)
            .map(|i| if i % 40 < 20 { 16384 } else { -16384 })
            .collect();
        assert!((dbfs(&square) - (-6.02)).abs() < 0.01);
    }

    #[test]
    fn silence_and_empty_are_floored() {
        assert_eq!(dbfs(&[]), SILENCE_DBFS);
        assert_eq!(dbfs(&[0; 160]), SILENCE_DBFS);
        assert_eq!(rms(&[]), 0.0);
        assert_eq!(peak(&[]), 0);
        assert_eq!(clipping_ratio(&[]), 0.0);
        assert_eq!(dbfs_f32(&[]), SILENCE_DBFS);
        assert_eq!(amplitude_to_dbfs(f32::NAN), SILENCE_DBFS);
    }

    #[test]
    fn clipping_and_peak() {
        let mut s = vec![1000i16; 96];
        s.extend([i16::MAX, i16::MIN, -32767, 32766]);
        assert_eq!(peak(&s), 32768);
        assert!((clipping_ratio(&s) - 0.03).abs() < 1e-6);
        assert!((dbfs_f32(&[0.5, -0.5]) - (-6.0206)).abs() < 1e-3);
    }
}
