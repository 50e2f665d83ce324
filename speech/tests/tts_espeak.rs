//! espeak-ng subprocess voice. Requires espeak-ng (`apt-get install espeak-ng`).

use switchboard_speech::tts::{EspeakVoice, TtsError};

fn require_espeak() {
    assert!(
        EspeakVoice::is_installed(),
        "espeak-ng is not installed: run `apt-get install espeak-ng`"
    );
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

#[test]
fn synthesizes_a_sentence_as_16_bit_mono() {
    require_espeak();
    let (pcm, rate) = EspeakVoice::default()
        .synthesize("Hello, I would like to book a table.")
        .expect("espeak");
    assert_eq!(rate, 22_050);
    let secs = pcm.len() as f64 / rate as f64;
    assert!((1.0..5.0).contains(&secs), "{secs} s");
    assert!(rms(&pcm) > 500.0, "rms {}", rms(&pcm));
}

#[test]
fn voice_and_rate_change_the_output() {
    require_espeak();
    let text = "The meeting is on Tuesday at ten.";
    let (slow, _) = EspeakVoice::new("en-us", 120)
        .synthesize(text)
        .expect("slow");
    let (fast, _) = EspeakVoice::new("en-us", 300)
        .synthesize(text)
        .expect("fast");
    assert!(
        fast.len() * 2 < slow.len() + slow.len() / 4,
        "fast {} vs slow {}",
        fast.len(),
        slow.len()
    );
    let (m3, _) = EspeakVoice::new("en-us+m3", 175)
        .synthesize(text)
        .expect("m3");
    let (f2, _) = EspeakVoice::new("en-gb+f2", 175)
        .synthesize(text)
        .expect("f2");
    assert_ne!(m3, f2);
    let (caller, _) = EspeakVoice::caller().synthesize(text).expect("caller");
    assert!(rms(&caller) > 500.0);
}

#[test]
fn text_that_looks_like_an_option_is_spoken_not_parsed() {
    require_espeak();
    let (pcm, _) = EspeakVoice::default()
        .synthesize("--help me please")
        .expect("espeak");
    assert!(pcm.len() > 10_000, "{} samples", pcm.len());
}

#[test]
fn empty_text_gives_little_or_no_audio() {
    require_espeak();
    let (pcm, rate) = EspeakVoice::default().synthesize("").expect("espeak");
    assert!(pcm.len() < rate as usize / 2, "{} samples", pcm.len());
}

#[test]
fn bad_voice_and_rate_are_errors() {
    require_espeak();
    let err = EspeakVoice::new("xx-nonexistent-voice", 175)
        .synthesize("hello")
        .unwrap_err();
    assert!(matches!(err, TtsError::Espeak(_)), "{err}");
    let err = EspeakVoice::new("-v", 175).synthesize("hello").unwrap_err();
    assert!(matches!(err, TtsError::Espeak(_)), "{err}");
    let err = EspeakVoice::new("en-us", 5)
        .synthesize("hello")
        .unwrap_err();
    assert!(matches!(err, TtsError::Espeak(_)), "{err}");
}

#[test]
fn a_tiny_deadline_times_out_cleanly() {
    require_espeak();
    let long = "This sentence is repeated to make the synthesis take a while. ".repeat(200);
    let res =
        EspeakVoice::default().synthesize_with_timeout(&long, std::time::Duration::from_millis(1));
    assert!(matches!(res, Err(TtsError::EspeakTimeout(_))), "{res:?}");
}
