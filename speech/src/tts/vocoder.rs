//! Hibari's waveform generator: the acoustic model predicts, for every 12.5 ms frame, five
//! spectral planes over 601 bins; this module turns them into 24 kHz samples.
//!
//! Per frame the spectrum is the sum of three parts:
//! - a band-limited pulse train at the predicted F0, analysed by an STFT (Hann window, n_fft
//!   1200, hop 300, centred with reflect padding), scaled by `exp(lh)` and rotated by
//!   `π·tanh(theta)` (the harmonic branch);
//! - complex Gaussian noise scaled by `exp(ln)`;
//! - a free-phase part `exp(lr)·e^{i·phi}`;
//!
//! then one inverse real FFT per frame, windowed overlap-add and normalisation by the summed
//! squared window. [`SentenceVocoder`] does this frame by frame so the first samples of a
//! sentence can be played before the last frame is processed.

use std::f32::consts::PI;
use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Output sample rate.
pub const SAMPLE_RATE: u32 = 24_000;
/// FFT size of the synthesis STFT.
pub const N_FFT: usize = 1200;
/// Hop between frames (12.5 ms at 24 kHz).
pub const HOP: usize = 300;
/// Frequency bins per frame.
pub const BINS: usize = N_FFT / 2 + 1;
/// Exponents are clamped here before `exp` so a wild prediction cannot blow up the output.
const LOG_CLAMP: f32 = 7.0;
/// F0 below this is unvoiced (no pulses).
const VOICED_HZ: f32 = 40.0;
/// Harmonics stop below this frequency.
const MAX_HARMONIC_HZ: f32 = 11_000.0;

/// The model's output for one utterance. Each plane is `[BINS][frames]`, row-major, exactly as
/// the ONNX model lays it out (batch dimension dropped); `f0` has one value per frame in Hz.
#[derive(Debug, Clone)]
pub struct Frames {
    /// Log magnitude of the harmonic (pulse-train) filter.
    pub lh: Vec<f32>,
    /// Phase rotation of the harmonic branch, before `π·tanh`.
    pub theta: Vec<f32>,
    /// Log magnitude of the noise branch.
    pub ln: Vec<f32>,
    /// Log magnitude of the free-phase branch.
    pub lr: Vec<f32>,
    /// Phase of the free-phase branch.
    pub phi: Vec<f32>,
    /// Fundamental frequency per frame (Hz); below 40 Hz means unvoiced.
    pub f0: Vec<f32>,
}

impl Frames {
    /// Number of frames.
    pub fn len(&self) -> usize {
        self.f0.len()
    }

    /// True when there are no frames.
    pub fn is_empty(&self) -> bool {
        self.f0.is_empty()
    }
}

/// FFT plans and windows, built once and shared by every synthesis (cloning is cheap).
#[derive(Clone)]
pub struct Vocoder {
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    /// Periodic Hann window (synthesis).
    window: Arc<[f32]>,
    /// Hann window scaled so a unit cosine's STFT peak is 1 (pulse analysis).
    window_src: Arc<[f32]>,
}

impl std::fmt::Debug for Vocoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vocoder")
            .field("n_fft", &N_FFT)
            .field("hop", &HOP)
            .finish()
    }
}

impl Default for Vocoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Vocoder {
    /// Plans the FFTs.
    pub fn new() -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let window: Arc<[f32]> = (0..N_FFT)
            .map(|n| {
                0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / N_FFT as f64).cos() as f32
            })
            .collect();
        let scale = 4.0 / N_FFT as f32;
        let window_src = window.iter().map(|w| w * scale).collect();
        Vocoder {
            forward: planner.plan_fft_forward(N_FFT),
            inverse: planner.plan_fft_inverse(N_FFT),
            window,
            window_src,
        }
    }

    /// Starts the frame-by-frame synthesis of one utterance. `seed` fixes the noise.
    pub fn start(&self, frames: Frames, seed: u64) -> SentenceVocoder {
        let pulses = pulse_train(&frames.f0);
        let total = frames.len() * HOP;
        SentenceVocoder {
            vocoder: self.clone(),
            pulses,
            acc: vec![0.0; total + N_FFT],
            next_frame: 0,
            emitted: 0,
            total,
            rng: NormalRng::new(seed),
            spec: self.forward.make_output_vec(),
            buf: self.forward.make_input_vec(),
            scratch_fwd: self.forward.make_scratch_vec(),
            scratch_inv: self.inverse.make_scratch_vec(),
            frames,
        }
    }

    /// Whole-utterance convenience: every sample at once.
    pub fn synthesize(&self, frames: Frames, seed: u64) -> Vec<f32> {
        let mut run = self.start(frames, seed);
        let mut out = Vec::with_capacity(run.total);
        while let Some(chunk) = run.next_chunk(usize::MAX) {
            out.extend_from_slice(&chunk);
        }
        out
    }
}

/// The synthesis of one utterance in progress. Call [`SentenceVocoder::next_chunk`] until it
/// returns `None`; the concatenated chunks are the whole waveform.
pub struct SentenceVocoder {
    vocoder: Vocoder,
    frames: Frames,
    pulses: Vec<f32>,
    /// Overlap-add accumulator in padded coordinates (sample `n` of the output is `acc[n + N_FFT/2]`).
    acc: Vec<f32>,
    next_frame: usize,
    /// Output samples already returned.
    emitted: usize,
    /// Output length: frames × hop.
    total: usize,
    rng: NormalRng,
    spec: Vec<Complex32>,
    buf: Vec<f32>,
    scratch_fwd: Vec<Complex32>,
    scratch_inv: Vec<Complex32>,
}

impl SentenceVocoder {
    /// Processes up to `max_frames` more frames and returns the samples that became final, or
    /// `None` when the utterance is complete.
    pub fn next_chunk(&mut self, max_frames: usize) -> Option<Vec<f32>> {
        let n_frames = self.frames.len();
        if self.emitted >= self.total {
            return None;
        }
        let end = self
            .next_frame
            .saturating_add(max_frames.max(1))
            .min(n_frames);
        for k in self.next_frame..end {
            self.frame(k);
        }
        self.next_frame = end;
        // Padded positions before the next frame's start receive no more contributions.
        let ready_padded = if end == n_frames {
            self.total + N_FFT / 2
        } else {
            end * HOP
        };
        let ready = ready_padded.saturating_sub(N_FFT / 2).min(self.total);
        let out: Vec<f32> = (self.emitted..ready)
            .map(|n| self.finish_sample(n))
            .collect();
        self.emitted = ready;
        Some(out)
    }

    /// One output sample: accumulated value divided by the squared-window sum at that point.
    fn finish_sample(&self, n: usize) -> f32 {
        let p = n + N_FFT / 2;
        let last = (p / HOP).min(self.frames.len() - 1);
        let mut norm = 0.0f32;
        for k in (0..=last).rev() {
            let off = p - k * HOP;
            if off >= N_FFT {
                break;
            }
            norm += self.vocoder.window[off] * self.vocoder.window[off];
        }
        self.acc[p] / norm.max(1e-11)
    }

    /// Builds frame `k`'s spectrum, inverts it and overlap-adds it.
    fn frame(&mut self, k: usize) {
        let v = &self.vocoder;
        let half = (N_FFT / 2) as isize;
        let len = self.pulses.len() as isize;
        for (i, slot) in self.buf.iter_mut().enumerate() {
            let idx = reflect((k * HOP) as isize - half + i as isize, len);
            *slot = self.pulses[idx] * v.window_src[i];
        }
        // Lengths come from the plan, so processing cannot fail.
        let _ =
            v.forward
                .process_with_scratch(&mut self.buf, &mut self.spec, &mut self.scratch_fwd);
        let f = &self.frames;
        let nf = f.len();
        for (b, s) in self.spec.iter_mut().enumerate() {
            let i = b * nf + k;
            let rot = PI * f.theta[i].tanh();
            let harm = *s * Complex32::from_polar(f.lh[i].min(LOG_CLAMP).exp(), rot);
            let noise_mag = f.ln[i].min(LOG_CLAMP).exp();
            let noise = Complex32::new(self.rng.next() * noise_mag, self.rng.next() * noise_mag);
            let free = Complex32::from_polar(f.lr[i].min(LOG_CLAMP).exp(), f.phi[i]);
            *s = harm + noise + free;
        }
        self.spec[0].im = 0.0;
        self.spec[BINS - 1].im = 0.0;
        let _ =
            v.inverse
                .process_with_scratch(&mut self.spec, &mut self.buf, &mut self.scratch_inv);
        let scale = 1.0 / N_FFT as f32;
        let base = k * HOP;
        for (i, x) in self.buf.iter().enumerate() {
            self.acc[base + i] += x * scale * v.window[i];
        }
    }
}

/// numpy's "reflect" padding index (edge sample not repeated).
fn reflect(i: isize, len: isize) -> usize {
    if len <= 1 {
        return 0;
    }
    let period = 2 * (len - 1);
    let mut j = i.rem_euclid(period);
    if j >= len {
        j = period - j;
    }
    j as usize
}

/// Band-limited pulse train following the per-frame F0 (linearly interpolated per sample):
/// every harmonic below 11 kHz at unit amplitude, zero where unvoiced.
pub fn pulse_train(f0: &[f32]) -> Vec<f32> {
    let nf = f0.len();
    let mut out = Vec::with_capacity(nf * HOP);
    let mut phase = 0.0f64;
    let at = |i: isize| f0[i.clamp(0, nf as isize - 1) as usize];
    for n in 0..nf * HOP {
        let pos = (n as f32 + 0.5) / HOP as f32 - 0.5;
        let i0 = pos.floor();
        let frac = pos - i0;
        let hz = at(i0 as isize) * (1.0 - frac) + at(i0 as isize + 1) * frac;
        let voiced = hz > VOICED_HZ;
        let hz = hz.max(VOICED_HZ);
        phase = (phase + hz as f64 / SAMPLE_RATE as f64).fract();
        let t = (phase * std::f64::consts::TAU) as f32;
        if !voiced {
            out.push(0.0);
            continue;
        }
        let harmonics = (MAX_HARMONIC_HZ / hz).floor() + 0.5;
        let s = 2.0 * (0.5 * t).sin();
        // Dirichlet kernel: sum_{h=1..H} cos(h t) = sin((H + 1/2) t) / (2 sin(t/2)) - 1/2.
        let e = if s.abs() <= 2e-3 {
            harmonics
        } else {
            (harmonics * t).sin() / s
        };
        out.push(e - 0.5);
    }
    out
}

/// Standard normal samples (xorshift64* + Box-Muller); cheap and reproducible from a seed.
struct NormalRng {
    state: u64,
    spare: Option<f32>,
}

impl NormalRng {
    fn new(seed: u64) -> Self {
        // SplitMix64 scramble so small seeds give unrelated streams; never zero.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        NormalRng {
            state: (z ^ (z >> 31)) | 1,
            spare: None,
        }
    }

    fn uniform(&mut self) -> f64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let x = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f32 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        let r = (-2.0 * self.uniform().ln()).sqrt();
        let a = std::f64::consts::TAU * self.uniform();
        self.spare = Some((r * a.sin()) as f32);
        (r * a.cos()) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silent_frames(n: usize, f0: f32) -> Frames {
        let plane = |v: f32| vec![v; BINS * n];
        Frames {
            lh: plane(-20.0),
            theta: plane(0.0),
            ln: plane(-30.0),
            lr: plane(-30.0),
            phi: plane(0.0),
            f0: vec![f0; n],
        }
    }

    #[test]
    fn reflect_matches_numpy_reflect_padding() {
        let got: Vec<usize> = (-3..8).map(|i| reflect(i, 5)).collect();
        assert_eq!(got, vec![3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1]);
    }

    #[test]
    fn pulse_train_is_periodic_at_f0_and_zero_when_unvoiced() {
        let p = pulse_train(&[200.0; 8]);
        assert_eq!(p.len(), 8 * HOP);
        // 200 Hz at 24 kHz: one pulse every 120 samples; peaks are far above the mean.
        let peaks: Vec<usize> = (1..p.len() - 1)
            .filter(|&i| p[i] > 20.0 && p[i] >= p[i - 1] && p[i] >= p[i + 1])
            .collect();
        assert!(peaks.len() >= 18, "{} peaks", peaks.len());
        for w in peaks.windows(2) {
            assert!(
                (w[1] - w[0]).abs_diff(120) <= 1,
                "pulse spacing {}",
                w[1] - w[0]
            );
        }
        assert!(pulse_train(&[0.0; 4]).iter().all(|&x| x == 0.0));
    }

    #[test]
    fn free_phase_branch_reconstructs_a_sinusoid_at_its_bin() {
        // exp(lr) = N/4 at bin 20 (400 Hz) with zero phase: the inverse STFT should give a cosine
        // of amplitude 2·(N/4)/N·... i.e. a clean 400 Hz tone of constant amplitude.
        let n = 16;
        let mut f = silent_frames(n, 0.0);
        for k in 0..n {
            f.lr[20 * n + k] = (N_FFT as f32 / 4.0).ln();
        }
        let v = Vocoder::new();
        let y = v.synthesize(f, 1);
        assert_eq!(y.len(), n * HOP);
        let mid = &y[HOP * 4..HOP * 12];
        let peak = mid.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        // Amplitude of a bin with magnitude N/4 in an unnormalised real spectrum is 2·(N/4)/N = 0.5,
        // times the window/normalisation ratio (hann/sum hann² = 1/1.5 per frame, 3 frames).
        assert!(peak > 0.3 && peak < 1.2, "peak {peak}");
        let zero_crossings = mid.windows(2).filter(|w| w[0] <= 0.0 && w[1] > 0.0).count();
        // 400 Hz over 100 ms = 40 cycles.
        assert!(
            (39..=41).contains(&zero_crossings),
            "{zero_crossings} crossings"
        );
    }

    #[test]
    fn chunked_output_equals_whole_output() {
        let n = 40;
        let mut f = silent_frames(n, 180.0);
        f.lh.iter_mut().for_each(|x| *x = 0.0);
        f.ln.iter_mut().for_each(|x| *x = -3.0);
        let v = Vocoder::new();
        let whole = v.synthesize(f.clone(), 7);
        let mut run = v.start(f, 7);
        let mut parts = Vec::new();
        let mut chunks = 0;
        while let Some(c) = run.next_chunk(3) {
            chunks += 1;
            parts.extend(c);
        }
        assert!(chunks > 10);
        assert_eq!(parts.len(), whole.len());
        assert!(parts.iter().zip(&whole).all(|(a, b)| (a - b).abs() < 1e-6));
        assert!(whole.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn normal_rng_has_unit_variance() {
        let mut r = NormalRng::new(3);
        let xs: Vec<f32> = (0..20_000).map(|_| r.next()).collect();
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / xs.len() as f32;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "mean {mean} var {var}"
        );
    }
}
