//! Helpers for the simulator's integration tests: the independent Python client, WAV files and
//! tone detection.

#![allow(dead_code)] // each test binary uses a subset

use std::path::{Path, PathBuf};

/// The LiveKit Python SDK's venv (`SWITCHBOARD_LIVEKIT_VENV`, else
/// `~/.cache/switchboard/livekit-venv`), checked to import `livekit.rtc` and `numpy`.
///
/// # Panics
/// With install instructions when the venv or the SDK is missing.
pub fn python() -> PathBuf {
    let venv = std::env::var_os("SWITCHBOARD_LIVEKIT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/switchboard/livekit-venv")
        });
    let python = venv.join("bin/python");
    let ok = std::process::Command::new(&python)
        .args(["-c", "import livekit.rtc, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the LiveKit Python SDK is missing at {}: run ./setup.sh, or \
         `python3 -m venv {v} && {v}/bin/pip install -r tests/livekit/requirements.txt` \
         (or set SWITCHBOARD_LIVEKIT_VENV to such a venv)",
        python.display(),
        v = venv.display()
    );
    python
}

/// `tests/livekit/client.py` in the workspace.
pub fn client_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/livekit/client.py")
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("livekit-sim-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `seconds` of a sine at `hz`, 48 kHz mono.
pub fn tone(hz: f64, seconds: f64, amplitude: f64) -> Vec<i16> {
    let n = (48_000.0 * seconds) as usize;
    (0..n)
        .map(|i| (amplitude * (2.0 * std::f64::consts::PI * hz * i as f64 / 48_000.0).sin()) as i16)
        .collect()
}

/// Writes 48 kHz mono 16-bit PCM.
pub fn write_wav(path: &Path, pcm: &[i16]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("create wav");
    for s in pcm {
        writer.write_sample(*s).expect("write sample");
    }
    writer.finalize().expect("finalize wav");
}

/// Reads a 48 kHz mono 16-bit WAV.
pub fn read_wav(path: &Path) -> Vec<i16> {
    let mut reader = hound::WavReader::open(path).expect("open recorded wav");
    assert_eq!(reader.spec().sample_rate, 48_000);
    reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect()
}

/// Mean power of the `hz` component (Goertzel), normalised per sample.
pub fn power_at(pcm: &[i16], hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / 48_000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in pcm {
        let s = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    power / (pcm.len().max(1) as f64).powi(2)
}

/// How many samples are louder than `threshold`.
pub fn loud_samples(pcm: &[i16], threshold: i16) -> usize {
    pcm.iter()
        .filter(|s| s.unsigned_abs() > threshold.unsigned_abs())
        .count()
}

/// How many 100 ms windows carry a clean tone at `hz` of at least `min_amplitude` (its power
/// dominates a probe at 1 kHz by 20 dB).
pub fn windows_with_tone(pcm: &[i16], hz: f64, min_amplitude: f64) -> usize {
    pcm.chunks_exact(4_800)
        .filter(|w| {
            let p = power_at(w, hz);
            p >= min_amplitude * min_amplitude / 4.0 && p > 100.0 * power_at(w, 1_000.0)
        })
        .count()
}

/// Runs `tests/livekit/client.py` with `args` and returns its JSON summary.
///
/// # Panics
/// When the client fails or prints no summary.
pub async fn run_client(args: Vec<String>) -> serde_json::Value {
    let output = tokio::process::Command::new(python())
        .arg(client_script())
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .output()
        .await
        .expect("run the Python client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "client failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("client summary {line:?}: {e}"))
}
