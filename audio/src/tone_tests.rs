//! Tests of the Goertzel filter and the beep detector on synthetic signals.

use super::*;
use crate::level::dbfs_to_amplitude;
use crate::synth::{self, mix, silence, sine, speech_like, white_noise};

fn run(det: &mut BeepDetector, audio: &[i16]) -> Vec<BeepEvent> {
    // Push in uneven pieces, as a transport would.
    let mut events = Vec::new();
    for piece in audio.chunks(137) {
        events.extend(det.push(piece));
    }
    events
}

#[test]
fn goertzel_measures_component_power() {
    let rate = SampleRate::HZ_8K;
    let x = crate::frame::i16_to_f32(&sine(1000.0, 0.5, 100, rate));
    assert!((goertzel_power(&x, 1000.0, rate) - 0.125).abs() < 0.002);
    assert!(goertzel_power(&x, 1300.0, rate) < 1e-4);
    assert_eq!(goertzel_power(&[], 1000.0, rate), 0.0);
}

#[test]
fn beep_onset_offset_and_frequency() {
    for rate in [SampleRate::HZ_8K, SampleRate::HZ_16K, SampleRate::HZ_48K] {
        for freq in [440.0, 1000.0, 1400.0, 1975.0] {
            let audio = [
                silence(500, rate),
                sine(freq, 0.3, 400, rate),
                silence(300, rate),
            ]
            .concat();
            let mut det = BeepDetector::new(rate, BeepConfig::default());
            let events = run(&mut det, &audio);
            assert_eq!(events.len(), 2, "{rate} {freq}: {events:?}");
            let BeepEvent::Started {
                onset_ms,
                frequency_hz,
            } = events[0]
            else {
                panic!()
            };
            assert!(
                (onset_ms as i64 - 500).abs() <= 15,
                "{rate} {freq}: onset {onset_ms}"
            );
            assert!(
                (f64::from(frequency_hz) - freq).abs() < 10.0,
                "{rate}: {frequency_hz} vs {freq}"
            );
            let BeepEvent::Ended { offset_ms, .. } = events[1] else {
                panic!()
            };
            assert!(
                (offset_ms as i64 - 900).abs() <= 15,
                "{rate} {freq}: offset {offset_ms}"
            );
        }
    }
}

#[test]
fn beep_in_noise_and_speech_is_found() {
    let rate = SampleRate::HZ_8K;
    let beep = [
        silence(1000, rate),
        sine(1000.0, 0.2, 300, rate),
        silence(700, rate),
    ]
    .concat();
    let noise = white_noise(0.2 * dbfs_to_amplitude(-10.0) / 2f32.sqrt(), 2000, rate, 9);
    let events = run(
        &mut BeepDetector::new(rate, BeepConfig::default()),
        &mix(&beep, &noise),
    );
    assert!(
        matches!(events.first(), Some(BeepEvent::Started { onset_ms, .. }) if (*onset_ms as i64 - 1000).abs() <= 20),
        "{events:?}"
    );
    // A beep right after the greeting's last words still counts.
    let after_speech = [
        speech_like(130.0, 0.3, 800, rate, 2),
        sine(800.0, 0.3, 250, rate),
        silence(200, rate),
    ]
    .concat();
    let events = run(
        &mut BeepDetector::new(rate, BeepConfig::default()),
        &after_speech,
    );
    assert!(
        matches!(events.first(), Some(BeepEvent::Started { .. })),
        "{events:?}"
    );
}

#[test]
fn speech_noise_and_short_tones_do_not_trigger() {
    for rate in [SampleRate::HZ_8K, SampleRate::HZ_16K] {
        for (pitch, seed) in [(100.0, 1), (140.0, 2), (210.0, 3), (300.0, 4), (450.0, 5)] {
            let voice = speech_like(pitch, 0.4, 3000, rate, seed);
            let events = run(&mut BeepDetector::new(rate, BeepConfig::default()), &voice);
            assert!(events.is_empty(), "{rate} pitch {pitch}: {events:?}");
        }
        let noise = white_noise(0.3, 2000, rate, 1);
        assert!(run(&mut BeepDetector::new(rate, BeepConfig::default()), &noise).is_empty());
        let short = [
            silence(100, rate),
            sine(1000.0, 0.5, 110, rate),
            silence(300, rate),
        ]
        .concat();
        assert!(run(&mut BeepDetector::new(rate, BeepConfig::default()), &short).is_empty());
        let low = [sine(300.0, 0.5, 500, rate), silence(100, rate)].concat();
        assert!(run(&mut BeepDetector::new(rate, BeepConfig::default()), &low).is_empty());
        // A sweep (e.g. a modem) moves faster than the allowed wander.
        let sweep: Vec<i16> = (0..rate.samples_for_ms(1000))
            .map(|n| {
                let t = n as f64 / f64::from(rate.hz());
                (12_000.0 * (TAU * (500.0 * t + 400.0 * t * t)).sin()) as i16
            })
            .collect();
        assert!(run(&mut BeepDetector::new(rate, BeepConfig::default()), &sweep).is_empty());
    }
}

#[test]
fn garbage_and_reset() {
    let rate = SampleRate::HZ_16K;
    let mut det = BeepDetector::new(rate, BeepConfig::default());
    assert!(det.push(&[]).is_empty());
    assert!(det.push(&[i16::MIN, i16::MAX, 0]).is_empty());
    let mut rng = synth::Rng::new(4);
    let junk: Vec<i16> = (0..20_000).map(|_| rng.next_u64() as i16).collect();
    assert!(det.push(&junk).is_empty());
    det.reset();
    let events = run(
        &mut det,
        &[sine(700.0, 0.3, 200, rate), silence(100, rate)].concat(),
    );
    assert!(
        matches!(
            events[0],
            BeepEvent::Started {
                onset_ms: 0..=10,
                ..
            }
        ),
        "{events:?}"
    );
    // A config with an empty band never fires instead of panicking.
    let weird = BeepConfig {
        min_freq_hz: 3000.0,
        max_freq_hz: 100.0,
        ..BeepConfig::default()
    };
    assert!(BeepDetector::new(SampleRate::HZ_8K, weird)
        .push(&sine(1000.0, 0.5, 500, SampleRate::HZ_8K))
        .is_empty());
}
