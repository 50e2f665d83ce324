//! Input screening before whisper sees the audio: reject garbage with a clear error, skip audio
//! that cannot hold a word (too short, digital silence), and pad short clips to one second
//! (whisper hallucinates less on padded input and refuses clips under 100 ms).

use super::{SttError, SAMPLE_RATE};

/// RMS below which a clip is treated as silence and not decoded (≈ −60 dBFS).
pub const SILENCE_RMS: f32 = 1e-3;

/// Shortest clip that can hold a word (150 ms).
const MIN_SAMPLES: usize = SAMPLE_RATE as usize * 15 / 100;

/// Clips shorter than this are zero-padded to it (1 s).
const PAD_TO_SAMPLES: usize = SAMPLE_RATE as usize;

/// Peak beyond which the samples are certainly not −1..1 floats (e.g. raw i16 values).
const MAX_PEAK: f32 = 2.0;

/// What to do with a clip.
#[derive(Debug, Clone, PartialEq)]
pub enum AudioCheck {
    /// Nothing to decode: return an empty transcript.
    NoSpeech,
    /// Decode these samples (clamped to −1..1 and padded to at least one second).
    Decode(Vec<f32>),
}

impl AudioCheck {
    /// Screens a clip.
    ///
    /// # Errors
    /// [`SttError::InvalidAudio`] for NaN/∞ samples or a peak above 2.0.
    pub fn of(samples: &[f32]) -> Result<Self, SttError> {
        if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
            return Err(SttError::InvalidAudio(format!(
                "sample {i} is {}",
                samples[i]
            )));
        }
        let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        if peak > MAX_PEAK {
            return Err(SttError::InvalidAudio(format!(
                "peak {peak} is outside -1..1 (scale i16 samples by 1/32768)"
            )));
        }
        if samples.len() < MIN_SAMPLES {
            return Ok(Self::NoSpeech);
        }
        let energy: f64 = samples.iter().map(|s| f64::from(*s) * f64::from(*s)).sum();
        let rms = (energy / samples.len() as f64).sqrt() as f32;
        if rms < SILENCE_RMS {
            return Ok(Self::NoSpeech);
        }
        let mut out: Vec<f32> = samples.iter().map(|s| s.clamp(-1.0, 1.0)).collect();
        if out.len() < PAD_TO_SAMPLES {
            out.resize(PAD_TO_SAMPLES, 0.0);
        }
        Ok(Self::Decode(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(secs: f32, amp: f32) -> Vec<f32> {
        let n = (secs * SAMPLE_RATE as f32) as usize;
        (0..n)
            .map(|i| amp * (i as f32 * 440.0 * std::f32::consts::TAU / SAMPLE_RATE as f32).sin())
            .collect()
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut a = tone(1.0, 0.5);
        a[10] = f32::NAN;
        assert!(matches!(AudioCheck::of(&a), Err(SttError::InvalidAudio(m)) if m.contains("10")));
        a[10] = f32::INFINITY;
        assert!(AudioCheck::of(&a).is_err());
        let loud = tone(1.0, 20_000.0);
        assert!(
            matches!(AudioCheck::of(&loud), Err(SttError::InvalidAudio(m)) if m.contains("i16"))
        );
    }

    #[test]
    fn empty_short_and_silent_clips_are_not_decoded() {
        assert_eq!(AudioCheck::of(&[]).unwrap(), AudioCheck::NoSpeech);
        assert_eq!(
            AudioCheck::of(&tone(0.1, 0.5)).unwrap(),
            AudioCheck::NoSpeech
        );
        assert_eq!(
            AudioCheck::of(&vec![0.0; 32_000]).unwrap(),
            AudioCheck::NoSpeech
        );
        assert_eq!(
            AudioCheck::of(&tone(2.0, 0.0005)).unwrap(),
            AudioCheck::NoSpeech
        );
    }

    #[test]
    fn short_speech_is_padded_and_overshoot_clamped() {
        let AudioCheck::Decode(a) = AudioCheck::of(&tone(0.4, 1.5)).unwrap() else {
            panic!("expected Decode");
        };
        assert_eq!(a.len(), SAMPLE_RATE as usize);
        assert!(a.iter().all(|s| s.abs() <= 1.0));
        assert!(a[8_000..].iter().all(|s| *s == 0.0));
        let AudioCheck::Decode(b) = AudioCheck::of(&tone(3.0, 0.3)).unwrap() else {
            panic!("expected Decode");
        };
        assert_eq!(b.len(), 48_000);
    }
}
