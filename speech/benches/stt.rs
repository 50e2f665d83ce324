//! Whisper tiny.en decode time for 1 s, 3 s and 6 s utterances (espeak-ng fixtures padded or
//! trimmed to length), one thread per decode as in production. Prints ms and real-time factor.
//! Run: `cargo bench -p switchboard-speech --bench stt` (needs `switchboard models fetch`);
//! `STT_BENCH_BASE=1` adds the optional base model, `STT_BENCH_ITERS` sets the repetitions.
#![allow(clippy::disallowed_types)] // A bench measures wall time with std::time::Instant.

use std::path::PathBuf;
use std::time::Instant;

use switchboard_speech::models::{ModelStore, WhisperSize};
use switchboard_speech::stt::{DecodeRequest, WhisperModel, WhisperPool};

fn fixture(name: &str, secs: f32) -> Vec<f32> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let mut reader =
        hound::WavReader::open(&path).expect("fixture (tests/fixtures/make_fixtures.sh)");
    let mut audio: Vec<f32> = reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    audio.resize((secs * 16_000.0) as usize, 0.0);
    audio
}

fn bench(size: WhisperSize, label: &str, iterations: usize) {
    let path = ModelStore::from_env().whisper(size);
    let started = Instant::now();
    let model = WhisperModel::load(&path).expect("model (run `switchboard models fetch`)");
    println!(
        "{label} load: {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let pool = WhisperPool::new(model, 1).expect("state");
    for (name, secs) in [
        ("yes_short.wav", 1.0f32),
        ("call_back.wav", 3.0),
        ("long_reply.wav", 6.0),
    ] {
        let audio = fixture(name, secs);
        let req = DecodeRequest::new(&audio);
        let text = pool.transcribe(&req).expect("decode").text; // warm-up
        let mut ms: Vec<f64> = (0..iterations)
            .map(|_| pool.transcribe(&req).expect("decode").decode_ms)
            .collect();
        ms.sort_by(f64::total_cmp);
        let median = ms[ms.len() / 2];
        println!(
            "{label} {secs:.0} s: median {median:.0} ms (min {:.0}, max {:.0}), RTF {:.3}  {text:?}",
            ms[0],
            ms[ms.len() - 1],
            median / 1000.0 / f64::from(secs)
        );
    }
}

fn main() {
    let iterations: usize = std::env::var("STT_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    bench(WhisperSize::TinyEn, "tiny.en", iterations);
    // The base model is optional: benchmarked only when asked for, never skipped silently.
    if std::env::var_os("STT_BENCH_BASE").is_some() {
        bench(WhisperSize::Base, "base", iterations);
    } else {
        println!(
            "base: not benchmarked (set STT_BENCH_BASE=1 after `models fetch --with whisper-base`)"
        );
    }
}
