//! Hibari → whisper round trip: what the agent says must be understood by speech recognition.
//! Needs the hibari data and whisper tiny.en (`cargo run -p switchboard -- models fetch`).

use std::path::PathBuf;

use switchboard_speech::stt::{DecodeRequest, WhisperModel, WhisperPool};
use switchboard_speech::tts::{HibariVoice, SynthOptions};

fn models_root() -> PathBuf {
    std::env::var_os("SWITCHBOARD_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/data"))
}

/// 24 kHz → 16 kHz: windowed-sinc low-pass at 7.2 kHz evaluated at every 1.5th input sample.
fn to_16k(x: &[f32]) -> Vec<f32> {
    const TAPS: isize = 24;
    let cutoff = 7_200.0 / 24_000.0;
    let n_out = x.len() * 2 / 3;
    (0..n_out)
        .map(|i| {
            let center = i as f64 * 1.5;
            let c = center.floor() as isize;
            let mut acc = 0.0f64;
            for k in c - TAPS..=c + TAPS {
                if k < 0 || k as usize >= x.len() {
                    continue;
                }
                let t = k as f64 - center;
                let sinc = if t == 0.0 {
                    1.0
                } else {
                    (std::f64::consts::PI * 2.0 * cutoff * t).sin()
                        / (std::f64::consts::PI * t)
                        / (2.0 * cutoff)
                };
                let w = 0.5 + 0.5 * (std::f64::consts::PI * t / (TAPS as f64 + 1.0)).cos();
                acc += x[k as usize] as f64 * sinc * w * 2.0 * cutoff;
            }
            acc as f32
        })
        .collect()
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn whisper_understands_hibari() {
    let root = models_root();
    let voice = HibariVoice::load(root.join("hibari"))
        .unwrap_or_else(|e| panic!("hibari: {e} (run `cargo run -p switchboard -- models fetch`)"));
    let whisper_path = root.join("whisper/ggml-tiny.en.bin");
    let model = WhisperModel::load(&whisper_path).unwrap_or_else(|e| {
        panic!(
            "whisper {}: {e} (run `cargo run -p switchboard -- models fetch`)",
            whisper_path.display()
        )
    });
    let pool = WhisperPool::new(model, 1).expect("pool");
    for text in [
        "The meeting is on Tuesday.",
        "Hello, thanks for taking my call.",
    ] {
        let audio = voice
            .synthesize(
                text,
                &SynthOptions {
                    seed: Some(5),
                    ..Default::default()
                },
            )
            .expect("synth");
        let mut padded = vec![0.0f32; 8_000];
        padded.extend(to_16k(&audio));
        padded.extend(vec![0.0f32; 8_000]);
        let t = pool
            .transcribe(&DecodeRequest::new(&padded))
            .expect("transcribe");
        assert_eq!(
            words(&t.text),
            words(text),
            "whisper heard {:?} for {text:?}",
            t.text
        );
    }
}
