//! Slaney-style mel filterbank (the one whisper was trained with: 16 kHz, n_fft 400, 80 or 128
//! bins, area-normalised triangles on the Slaney mel scale). whisper.cpp reads it from the ggml
//! model header, so the CTranslate2 → ggml converter has to compute it.

/// Hz → mel on the Slaney scale: linear below 1 kHz, logarithmic above.
pub fn hz_to_mel(hz: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let log_step = 6.4f64.ln() / 27.0;
    if hz >= MIN_LOG_HZ {
        min_log_mel + (hz / MIN_LOG_HZ).ln() / log_step
    } else {
        hz / F_SP
    }
}

/// Mel → Hz, inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let log_step = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        MIN_LOG_HZ * (log_step * (mel - min_log_mel)).exp()
    } else {
        mel * F_SP
    }
}

/// Row-major `n_mels × (n_fft / 2 + 1)` filterbank from 0 Hz to Nyquist.
///
/// Each filter is a triangle between consecutive mel-spaced edge frequencies, scaled by
/// `2 / (upper − lower)` so every filter has the same area (Slaney normalisation).
pub fn slaney_filterbank(n_mels: usize, n_fft: usize, sample_rate: u32) -> Vec<f32> {
    let n_bins = n_fft / 2 + 1;
    let nyquist = f64::from(sample_rate) / 2.0;
    let bin_hz: Vec<f64> = (0..n_bins)
        .map(|i| i as f64 * nyquist / (n_bins - 1) as f64)
        .collect();
    let top = hz_to_mel(nyquist);
    let edges: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(top * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut out = Vec::with_capacity(n_mels * n_bins);
    for m in 0..n_mels {
        let (lo, mid, hi) = (edges[m], edges[m + 1], edges[m + 2]);
        let norm = 2.0 / (hi - lo);
        for &f in &bin_hz {
            let rising = (f - lo) / (mid - lo);
            let falling = (hi - f) / (hi - mid);
            out.push((rising.min(falling).max(0.0) * norm) as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mel_scale_round_trips_and_is_linear_below_1khz() {
        for hz in [0.0, 300.0, 999.0, 1000.0, 4000.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-6);
        }
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
    }

    #[test]
    fn whisper_filterbank_has_the_expected_shape_and_triangles() {
        let (n_mels, n_bins) = (80, 201);
        let fb = slaney_filterbank(n_mels, 400, 16_000);
        assert_eq!(fb.len(), n_mels * n_bins);
        assert!(fb.iter().all(|v| v.is_finite() && *v >= 0.0));
        let mut last_peak = 0;
        for m in 0..n_mels {
            let row = &fb[m * n_bins..(m + 1) * n_bins];
            let peak = (0..n_bins)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap();
            assert!(row[peak] > 0.0, "filter {m} is empty");
            assert!(peak >= last_peak, "filter peaks must move up in frequency");
            last_peak = peak;
            // Nonzero support is one contiguous run (a triangle).
            let nz: Vec<usize> = (0..n_bins).filter(|&i| row[i] > 0.0).collect();
            assert_eq!(
                nz.last().unwrap() - nz[0] + 1,
                nz.len(),
                "filter {m} not contiguous"
            );
        }
        // Slaney normalisation: 2 / bandwidth. The first filter spans 0..~51 Hz (mel 0..2×0.78).
        let hi = mel_to_hz(2.0 * hz_to_mel(8000.0) / 81.0);
        let peak0 = fb[..n_bins].iter().copied().fold(0.0f32, f32::max);
        assert!(peak0 <= (2.0 / hi) as f32 + 1e-6);
        // Low filters are narrow, high filters wide: the top filter covers many more bins.
        let width = |m: usize| {
            fb[m * n_bins..(m + 1) * n_bins]
                .iter()
                .filter(|v| **v > 0.0)
                .count()
        };
        assert!(width(79) > 5 * width(10));
    }
}
