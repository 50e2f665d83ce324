use super::*;
use crate::synth::{silence, sine, white_noise};
use crate::SampleRate;

const RATE: SampleRate = SampleRate::HZ_16K;

fn ms(n: usize) -> usize {
    n * 16
}

fn tone(n: u32) -> Vec<i16> {
    sine(220.0, 0.5, n, RATE)
}

fn trim_in_chunks(line: &[i16], chunk: usize) -> Vec<i16> {
    let mut t = SilenceTrimmer::new(TrimConfig::speech(RATE.hz()));
    let mut out = Vec::new();
    for c in line.chunks(chunk) {
        t.push(c, &mut out);
    }
    t.finish(&mut out);
    out
}

/// (start, end) in ms of each run of sound in `x`, in 10 ms windows.
fn sounding(x: &[i16]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut on = None;
    for (i, w) in x.chunks(ms(10)).enumerate() {
        let loud = w.iter().any(|s| s.unsigned_abs() > 328);
        match (loud, on) {
            (true, None) => on = Some(i * 10),
            (false, Some(s)) => {
                runs.push((s, i * 10));
                on = None;
            }
            _ => {}
        }
    }
    if let Some(s) = on {
        runs.push((s, x.len() / 16));
    }
    runs
}

/// `x` sounds in `want` (ms), to one 10 ms window: a sine's zero crossings are silence too.
fn assert_runs(x: &[i16], want: &[(usize, usize)]) {
    let got = sounding(x);
    let near = |a: usize, b: usize| a.abs_diff(b) <= 10;
    assert!(
        got.len() == want.len()
            && got
                .iter()
                .zip(want)
                .all(|(g, w)| near(g.0, w.0) && near(g.1, w.1)),
        "sounding {got:?}, want {want:?}"
    );
}

/// Two sentences as a neural voice pads them: 300 ms lead, 400 ms decay each.
fn padded_line() -> Vec<i16> {
    [
        silence(300, RATE),
        tone(600),
        silence(400, RATE),
        silence(300, RATE),
        tone(1000),
        silence(400, RATE),
    ]
    .concat()
}

#[test]
fn lead_is_cut_to_50_ms_the_pause_to_300_and_the_decay_to_100() {
    let out = trim_in_chunks(&padded_line(), ms(200));
    assert_runs(&out, &[(50, 650), (950, 1950)]);
    let want = ms(50 + 600 + 300 + 1000 + 100);
    assert!(out.len().abs_diff(want) <= 4, "{} vs {want}", out.len());
}

#[test]
fn short_pauses_and_sound_pass_untouched() {
    let inner = [tone(400), silence(180, RATE), tone(300)].concat();
    let line = [silence(40, RATE), inner, silence(90, RATE)].concat();
    assert!(trim_in_chunks(&line, ms(20)) == line);
}

#[test]
fn the_output_does_not_depend_on_how_the_line_is_chunked() {
    let line = padded_line();
    let whole = trim_in_chunks(&line, line.len());
    for chunk in [1, 7, ms(20), ms(75), ms(333)] {
        let got = trim_in_chunks(&line, chunk);
        let differ = got.iter().zip(&whole).position(|(a, b)| a != b);
        assert!(
            got.len() == whole.len() && differ.is_none(),
            "chunks of {chunk}: {} vs {} samples, first difference at {differ:?}",
            got.len(),
            whole.len()
        );
    }
}

#[test]
fn sound_is_emitted_with_its_chunk_and_only_silence_is_held() {
    let mut t = SilenceTrimmer::new(TrimConfig::speech(RATE.hz()));
    let mut out = Vec::new();
    t.push(&silence(300, RATE), &mut out);
    assert!(out.is_empty(), "silence before the first sound is held");
    t.push(&[tone(200), silence(20, RATE)].concat(), &mut out);
    assert!(out.len().abs_diff(ms(250)) <= 2, "{}", out.len());
    assert!(
        out.last().unwrap().unsigned_abs() > 328,
        "the chunk's silent end waits"
    );
}

#[test]
fn a_silent_line_yields_nothing_and_the_next_line_starts_fresh() {
    let mut t = SilenceTrimmer::new(TrimConfig::speech(RATE.hz()));
    let mut out = Vec::new();
    t.push(&silence(2000, RATE), &mut out);
    t.finish(&mut out);
    assert!(out.is_empty());
    for c in padded_line().chunks(ms(200)) {
        t.push(c, &mut out);
    }
    t.finish(&mut out);
    assert_runs(&out, &[(50, 650), (950, 1950)]);
}

#[test]
fn a_long_pause_holds_bounded_memory() {
    let mut t = SilenceTrimmer::new(TrimConfig::speech(RATE.hz()));
    let mut out = Vec::new();
    t.push(&tone(100), &mut out);
    for _ in 0..1000 {
        t.push(&silence(20, RATE), &mut out);
    }
    assert!(
        t.pending.len() <= 2 * ms(300) + ms(20),
        "{}",
        t.pending.len()
    );
    t.push(&tone(100), &mut out);
    t.finish(&mut out);
    let runs = sounding(&out);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!((runs[1].0 - runs[0].1).abs_diff(300) <= 10, "{runs:?}");
}

#[test]
fn a_noise_floor_above_the_threshold_is_left_alone() {
    let line = [white_noise(0.05, 500, RATE, 7), tone(300)].concat();
    assert!(trim_in_chunks(&line, ms(20)) == line);
}
