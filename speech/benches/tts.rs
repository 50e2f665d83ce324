//! TTS benchmark: load time, time to first audio and real-time factor (RTF = synthesis time /
//! audio duration) for hibari (one ONNX thread) and the espeak-ng subprocess.
//! Run: `cargo bench -p switchboard-speech --bench tts`.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "a benchmark measures wall time"
)]

use std::path::PathBuf;
use std::time::Instant;

use switchboard_speech::tts::{EspeakVoice, HibariVoice, SynthOptions, HIBARI_SAMPLE_RATE};

const SHORT: &str = "Hello, thanks for taking my call.";
const MEDIUM: &str = "I can book you in for Tuesday the 14th at 3:30 pm with Dr. Smith, \
and the consultation fee is $45, which you can pay on arrival.";
const RUNS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let root = std::env::var_os("SWITCHBOARD_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/data"));
    let t = Instant::now();
    let voice = HibariVoice::load(root.join("hibari"))
        .expect("load hibari (run `cargo run -p switchboard -- models fetch`)");
    println!("hibari load: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    voice
        .synthesize("Warm up.", &SynthOptions::default())
        .expect("warm up");

    for (name, text) in [("short", SHORT), ("medium", MEDIUM)] {
        let t = Instant::now();
        for _ in 0..20 {
            std::hint::black_box(voice.phonemize(text));
        }
        let g2p_us = t.elapsed().as_secs_f64() * 1e6 / 20.0;
        let (mut first, mut rtf, mut audio_s) = (Vec::new(), Vec::new(), 0.0);
        for _ in 0..RUNS {
            let t = Instant::now();
            let mut samples = 0usize;
            let mut first_ms = None;
            for chunk in voice
                .stream(text, &SynthOptions::default())
                .expect("stream")
            {
                samples += chunk.expect("chunk").len();
                first_ms.get_or_insert(t.elapsed().as_secs_f64() * 1e3);
            }
            let total = t.elapsed().as_secs_f64();
            audio_s = samples as f64 / HIBARI_SAMPLE_RATE as f64;
            first.push(first_ms.unwrap_or(0.0));
            rtf.push(total / audio_s);
        }
        println!(
            "hibari {name:6}: audio {audio_s:.2} s, G2P {g2p_us:.0} µs, first audio {:.0} ms, RTF {:.3} (median of {RUNS})",
            median(first),
            median(rtf)
        );
    }

    let espeak = EspeakVoice::default();
    if !EspeakVoice::is_installed() {
        println!("espeak-ng not installed (apt-get install espeak-ng): skipped");
        return;
    }
    for (name, text) in [("short", SHORT), ("medium", MEDIUM)] {
        let (mut wall, mut audio_s) = (Vec::new(), 0.0);
        for _ in 0..RUNS {
            let t = Instant::now();
            let (pcm, rate) = espeak.synthesize(text).expect("espeak");
            wall.push(t.elapsed().as_secs_f64());
            audio_s = pcm.len() as f64 / rate as f64;
        }
        let w = median(wall);
        println!(
            "espeak {name:6}: audio {audio_s:.2} s, first audio (whole call) {:.0} ms, RTF {:.3}",
            w * 1e3,
            w / audio_s
        );
    }
}
