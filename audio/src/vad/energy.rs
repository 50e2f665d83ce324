//! Cheap energy + zero-crossing voice detector with noise-floor tracking.
//!
//! A pre-gate in front of Silero on the VAD stage (skip the model while the line is quiet)
//! and a fallback when no ONNX Runtime is available. A chunk's probability is a logistic
//! function of its level above the tracked noise floor; noise-like chunks (high zero-crossing
//! rate, as white noise or hiss) need a larger margin. The floor follows quieter chunks at
//! once and louder ones slowly (time constant `floor_rise_ms`), so steady noise is learned
//! while speech, which pauses often, is not.

use super::{VadError, VoiceDetector};
use crate::level::dbfs;
use crate::SampleRate;

/// Energy detector settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EnergyVadConfig {
    /// Chunk length in ms (10, 20 or 30 are typical).
    pub chunk_ms: u32,
    /// Level above the floor at which the probability is 0.5, in dB.
    pub margin_db: f32,
    /// Extra margin for noise-like chunks (zero-crossing rate above `noisy_zcr`).
    pub noisy_extra_db: f32,
    /// Zero-crossing rate (crossings per sample) above which a chunk is noise-like.
    pub noisy_zcr: f32,
    /// Chunks quieter than this are silence whatever the floor.
    pub min_speech_dbfs: f32,
    /// Time constant with which the floor rises towards louder chunks.
    pub floor_rise_ms: u32,
}

impl Default for EnergyVadConfig {
    fn default() -> Self {
        Self {
            chunk_ms: 20,
            margin_db: 10.0,
            noisy_extra_db: 6.0,
            noisy_zcr: 0.35,
            min_speech_dbfs: -55.0,
            floor_rise_ms: 4000,
        }
    }
}

/// The energy detector (one per stream).
#[derive(Debug, Clone)]
pub struct EnergyVad {
    config: EnergyVadConfig,
    rate: SampleRate,
    chunk_len: usize,
    floor_db: Option<f32>,
}

impl EnergyVad {
    /// A detector at `rate`.
    ///
    /// # Errors
    /// [`VadError::InvalidConfig`] when `chunk_ms` holds fewer than 16 samples at `rate`.
    pub fn new(rate: SampleRate, config: EnergyVadConfig) -> Result<Self, VadError> {
        let chunk_len = rate.samples_for_ms(config.chunk_ms);
        if chunk_len < 16 {
            return Err(VadError::InvalidConfig(
                "energy VAD chunk shorter than 16 samples",
            ));
        }
        Ok(Self {
            config,
            rate,
            chunk_len,
            floor_db: None,
        })
    }

    /// The tracked noise floor in dBFS (None before the first chunk).
    pub fn noise_floor_dbfs(&self) -> Option<f32> {
        self.floor_db
    }

    fn track_floor(&mut self, level: f32) -> f32 {
        let floor = match self.floor_db {
            None => level,
            Some(f) if level < f => level,
            Some(f) => {
                let k = self.config.chunk_ms as f32 / self.config.floor_rise_ms.max(1) as f32;
                f + (level - f) * k.min(1.0)
            }
        };
        self.floor_db = Some(floor);
        floor
    }
}

/// Zero crossings per sample.
fn zero_crossing_rate(chunk: &[i16]) -> f32 {
    let crossings = chunk
        .windows(2)
        .filter(|w| (w[0] >= 0) != (w[1] >= 0))
        .count();
    crossings as f32 / chunk.len().max(1) as f32
}

impl VoiceDetector for EnergyVad {
    fn rate(&self) -> SampleRate {
        self.rate
    }

    fn chunk_len(&self) -> usize {
        self.chunk_len
    }

    fn speech_probability(&mut self, chunk: &[i16]) -> Result<f32, VadError> {
        if chunk.len() != self.chunk_len {
            return Err(VadError::WrongChunkLength {
                expected: self.chunk_len,
                got: chunk.len(),
            });
        }
        let level = dbfs(chunk);
        // Compare against the floor before this chunk updates it.
        let floor = self.floor_db.unwrap_or(level);
        self.track_floor(level);
        if level < self.config.min_speech_dbfs {
            return Ok(0.0);
        }
        let mut margin = self.config.margin_db;
        if zero_crossing_rate(chunk) > self.config.noisy_zcr {
            margin += self.config.noisy_extra_db;
        }
        let snr = level - floor;
        Ok(1.0 / (1.0 + (-(snr - margin) / 2.0).exp()))
    }

    fn reset(&mut self) {
        self.floor_db = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{mix, silence, speech_like, white_noise};
    use crate::vad::{StreamingVad, VadConfig, VadEvent};

    fn probs(vad: &mut EnergyVad, audio: &[i16]) -> Vec<f32> {
        audio
            .chunks_exact(vad.chunk_len())
            .map(|c| vad.speech_probability(c).unwrap())
            .collect()
    }

    #[test]
    fn steady_noise_is_learned_and_speech_stands_out() {
        let rate = SampleRate::HZ_16K;
        let noise = white_noise(0.01, 4000, rate, 1);
        let speech = [
            silence(1500, rate),
            speech_like(150.0, 0.2, 1000, rate, 1),
            silence(1500, rate),
        ]
        .concat();
        let mut vad = EnergyVad::new(rate, EnergyVadConfig::default()).unwrap();
        let p = probs(&mut vad, &mix(&noise, &speech));
        // 50 chunks per second: noise only, speech, noise only.
        assert!(p[..75].iter().all(|&x| x < 0.1), "{:?}", &p[..75]);
        // Syllable troughs (the 4 Hz envelope dips 20 dB) read as pauses; the peaks are clear.
        let voiced = p[75..125].iter().filter(|&&x| x > 0.5).count();
        assert!(
            voiced >= 30,
            "{voiced} of 50 speech chunks detected: {:?}",
            &p[75..125]
        );
        assert!(p[75..125].iter().any(|&x| x > 0.95));
        assert!(p[130..].iter().all(|&x| x < 0.1));
        let floor = vad.noise_floor_dbfs().unwrap();
        assert!((floor + 40.0).abs() < 3.0, "floor {floor}");
    }

    #[test]
    fn loud_white_noise_alone_is_not_speech() {
        let rate = SampleRate::HZ_8K;
        let mut vad = EnergyVad::new(rate, EnergyVadConfig::default()).unwrap();
        let p = probs(
            &mut vad,
            &[silence(500, rate), white_noise(0.1, 100, rate, 2)].concat(),
        );
        // A sudden noise burst (e.g. line crackle) 60 dB above digital silence does register:
        // the energy gate cannot tell. The zero-crossing penalty only raises the bar.
        assert!(p[25..].iter().all(|&x| x > 0.5));
        // Once it has been steady for a few seconds it fades to silence.
        let mut vad = EnergyVad::new(rate, EnergyVadConfig::default()).unwrap();
        let p = probs(&mut vad, &white_noise(0.1, 3000, rate, 3));
        assert!(p.iter().all(|&x| x < 0.1));
    }

    #[test]
    fn streaming_events_and_errors() {
        let rate = SampleRate::HZ_16K;
        let audio = [
            silence(500, rate),
            speech_like(120.0, 0.3, 800, rate, 4),
            silence(1000, rate),
        ]
        .concat();
        let vad = EnergyVad::new(rate, EnergyVadConfig::default()).unwrap();
        let mut s = StreamingVad::new(
            vad,
            VadConfig {
                min_silence_ms: 300,
                ..VadConfig::default()
            },
        )
        .unwrap();
        let events: Vec<VadEvent> = audio.chunks(333).flat_map(|c| s.push(c).unwrap()).collect();
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(
            matches!(events[0], VadEvent::SpeechStarted { at_ms } if (at_ms - 500.0).abs() <= 40.0)
        );
        assert!(
            matches!(events[1], VadEvent::SpeechEnded { at_ms, .. } if (at_ms - 1300.0).abs() <= 60.0)
        );
        let mut vad = EnergyVad::new(rate, EnergyVadConfig::default()).unwrap();
        assert!(matches!(
            vad.speech_probability(&[0; 10]),
            Err(VadError::WrongChunkLength {
                expected: 320,
                got: 10
            })
        ));
        assert!(vad.speech_probability(&[]).is_err());
        assert!(EnergyVad::new(
            rate,
            EnergyVadConfig {
                chunk_ms: 0,
                ..Default::default()
            }
        )
        .is_err());
        vad.reset();
        assert_eq!(vad.noise_floor_dbfs(), None);
    }
}
