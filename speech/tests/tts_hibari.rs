//! Hibari synthesis with the real model: the waveform must be plausible speech.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use switchboard_speech::tts::{HibariVoice, SynthOptions, TtsError, HIBARI_SAMPLE_RATE};

fn models_root() -> PathBuf {
    std::env::var_os("SWITCHBOARD_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/data"))
}

fn voice() -> Arc<HibariVoice> {
    static V: OnceLock<Arc<HibariVoice>> = OnceLock::new();
    V.get_or_init(|| {
        let dir = models_root().join("hibari");
        HibariVoice::load(&dir).unwrap_or_else(|e| {
            panic!(
                "cannot load hibari from {}: {e} (run `cargo run -p switchboard -- models fetch`)",
                dir.display()
            )
        })
    })
    .clone()
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

#[test]
fn hello_sentence_is_plausible_speech() {
    let text = "Hello, thanks for taking my call.";
    let audio = voice()
        .synthesize(
            text,
            &SynthOptions {
                seed: Some(1),
                ..Default::default()
            },
        )
        .expect("synthesize");
    let secs = audio.len() as f32 / HIBARI_SAMPLE_RATE as f32;
    let per_char = secs / text.chars().count() as f32;
    // Conversational English runs about 12-18 characters per second.
    assert!(
        (0.03..0.15).contains(&per_char),
        "{secs:.2} s for {} chars",
        text.chars().count()
    );
    assert!(audio.iter().all(|x| x.is_finite()), "NaN or inf in output");
    let peak = audio.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(peak <= 1.0, "peak {peak}");
    assert!(rms(&audio) > 0.01, "too quiet: rms {}", rms(&audio));
    // Speech has pauses and louder parts: 20 ms frame energies must vary a lot.
    let frames: Vec<f32> = audio.chunks(480).map(rms).collect();
    let loud = frames.iter().filter(|&&e| e > 0.05).count();
    let quiet = frames.iter().filter(|&&e| e < 0.01).count();
    assert!(
        loud > frames.len() / 4,
        "only {loud}/{} loud frames",
        frames.len()
    );
    assert!(
        quiet > 0,
        "no quiet frame at all in {} frames",
        frames.len()
    );
}

#[test]
fn seed_makes_output_repeatable_and_speed_changes_length() {
    let v = voice();
    let opts = SynthOptions {
        speed: 1.0,
        seed: Some(42),
    };
    let a = v
        .synthesize("The meeting is on Tuesday.", &opts)
        .expect("a");
    let b = v
        .synthesize("The meeting is on Tuesday.", &opts)
        .expect("b");
    assert_eq!(a, b);
    let fast = v
        .synthesize(
            "The meeting is on Tuesday.",
            &SynthOptions {
                speed: 1.5,
                seed: Some(42),
            },
        )
        .expect("fast");
    assert!(
        (fast.len() as f32) < a.len() as f32 * 0.85,
        "fast {} vs normal {}",
        fast.len(),
        a.len()
    );
}

#[test]
fn stream_chunks_concatenate_to_the_whole_and_start_small() {
    let v = voice();
    let text = "First sentence here. And a second, somewhat longer sentence follows it.";
    let opts = SynthOptions {
        seed: Some(3),
        ..Default::default()
    };
    let chunks: Vec<Vec<f32>> = v
        .stream(text, &opts)
        .expect("stream")
        .collect::<Result<_, _>>()
        .expect("chunks");
    assert!(chunks.len() > 4, "{} chunks", chunks.len());
    assert!(
        chunks[0].len() <= 8 * 300,
        "first chunk {} samples",
        chunks[0].len()
    );
    let joined: Vec<f32> = chunks.concat();
    let whole = v.synthesize(text, &opts).expect("whole");
    assert_eq!(joined, whole);
}

#[test]
fn empty_and_punctuation_only_text_give_no_audio() {
    let v = voice();
    assert!(v
        .synthesize("", &SynthOptions::default())
        .expect("empty")
        .is_empty());
    assert!(
        v.synthesize("  ...  ", &SynthOptions::default())
            .expect("dots")
            .len()
            < HIBARI_SAMPLE_RATE as usize
    );
}

#[test]
fn invalid_speed_is_an_error() {
    let err = voice()
        .synthesize(
            "Hi.",
            &SynthOptions {
                speed: 5.0,
                seed: None,
            },
        )
        .unwrap_err();
    assert!(matches!(err, TtsError::InvalidOptions(_)), "{err}");
}

#[test]
fn concurrent_calls_share_one_voice() {
    let v = voice();
    let handles: Vec<_> = (0..3)
        .map(|i| {
            let v = v.clone();
            std::thread::spawn(move || {
                v.synthesize(
                    "Concurrent speech works.",
                    &SynthOptions {
                        seed: Some(i),
                        ..Default::default()
                    },
                )
            })
        })
        .collect();
    for h in handles {
        let audio = h.join().expect("thread").expect("synth");
        assert!(rms(&audio) > 0.01);
    }
}

#[test]
fn missing_model_dir_names_the_fetch_command() {
    let err = HibariVoice::load("/nonexistent/hibari").unwrap_err();
    assert!(matches!(err, TtsError::MissingModel { .. }), "{err}");
    assert!(err.to_string().contains("models fetch"), "{err}");
}

#[test]
fn write_sample_wav_for_listening() {
    // Not an assertion of quality: leaves a WAV in the target dir for a human to listen to.
    let audio = voice()
        .synthesize(
            "Hello, thanks for taking my call. The meeting is on Tuesday.",
            &SynthOptions::default(),
        )
        .expect("synth");
    let dir = std::env::temp_dir().join("switchboard-tts");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: HIBARI_SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(dir.join("hibari_hello.wav"), spec).expect("wav");
    for s in &audio {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
            .expect("write");
    }
    w.finalize().expect("finalize");
}

#[test]
fn waveform_matches_the_reference_implementation_envelope() {
    // 20 ms RMS envelopes of the Python hibari-tts 0.2.1 output for the same phonemes: the
    // model is deterministic and only the noise differs, so the envelopes must line up.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tts/hibari_reference_envelope.json"
    );
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    for case in fixture["cases"].as_array().expect("cases") {
        let ps = case["phonemes"].as_str().expect("phonemes");
        let want: Vec<f32> = case["rms_20ms"]
            .as_array()
            .expect("env")
            .iter()
            .map(|v| v.as_f64().unwrap_or(0.0) as f32)
            .collect();
        let audio = voice()
            .synthesize_phonemes(
                ps,
                &SynthOptions {
                    seed: Some(1),
                    ..Default::default()
                },
            )
            .expect("synth");
        assert_eq!(
            audio.len() as u64,
            case["samples"].as_u64().expect("samples"),
            "{ps}"
        );
        let got: Vec<f32> = audio.chunks(480).map(rms).collect();
        assert_eq!(got.len(), want.len());
        let mean = |x: &[f32]| x.iter().sum::<f32>() / x.len() as f32;
        let (mg, mw) = (mean(&got), mean(&want));
        let cov: f32 = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - mg) * (b - mw))
            .sum();
        let vg: f32 = got.iter().map(|a| (a - mg) * (a - mg)).sum();
        let vw: f32 = want.iter().map(|b| (b - mw) * (b - mw)).sum();
        let corr = cov / (vg.sqrt() * vw.sqrt());
        assert!(corr > 0.99, "{ps}: envelope correlation {corr}");
        assert!((mg / mw - 1.0).abs() < 0.05, "{ps}: level {mg} vs {mw}");
    }
}
