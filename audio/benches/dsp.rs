//! Per-frame cost of the audio DSP on the live path. Run with
//! `cargo bench -p switchboard-audio`; prints one line per operation (median of batches).
//! Silero needs the model store (`$SWITCHBOARD_MODELS` or `<workspace>/models/data`).
#![allow(
    clippy::disallowed_types,
    reason = "a benchmark measures wall-clock time"
)]

use std::hint::black_box;
use std::time::Instant;
use switchboard_audio::synth::{speech_like, white_noise};
use switchboard_audio::{
    BeepConfig, BeepDetector, DtmfConfig, DtmfDetector, EnergyVad, EnergyVadConfig, G711Law,
    JitterBuffer, JitterConfig, OpusConfig, OpusDecoder, OpusEncoder, Resampler, SampleRate,
    VoiceDetector,
};

/// Runs `f` in batches and prints the median time per call in microseconds.
fn bench(name: &str, per: &str, mut f: impl FnMut()) {
    for _ in 0..200 {
        f();
    }
    let mut batches: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..200 {
                f();
            }
            t.elapsed().as_secs_f64() * 1e6 / 200.0
        })
        .collect();
    batches.sort_by(f64::total_cmp);
    println!("{name:<42} {:>9.2} µs {per}", batches[batches.len() / 2]);
}

fn main() {
    let r48 = SampleRate::HZ_48K;
    let r16 = SampleRate::HZ_16K;
    let r8 = SampleRate::HZ_8K;
    let voice48 = speech_like(150.0, 0.3, 1000, r48, 1);
    let voice16 = speech_like(150.0, 0.3, 1000, r16, 1);
    let voice8 = speech_like(150.0, 0.3, 1000, r8, 1);
    let frame = |v: &[i16], len: usize, i: usize| v[(i * len) % (v.len() - len)..][..len].to_vec();

    let mut rs = Resampler::new(r48, r16).unwrap();
    let mut i = 0;
    bench("resample 48k->16k (960 in)", "per 20 ms frame", || {
        i += 1;
        black_box(rs.process(&frame(&voice48, 960, i)));
    });
    let mut rs = Resampler::new(SampleRate::HZ_22050, r48).unwrap();
    let voice22 = speech_like(150.0, 0.3, 1000, SampleRate::HZ_22050, 1);
    bench("resample 22.05k->48k (441 in)", "per 20 ms frame", || {
        i += 1;
        black_box(rs.process(&frame(&voice22, 441, i)));
    });
    let mut rs = Resampler::new(r8, r16).unwrap();
    bench("resample 8k->16k (160 in)", "per 20 ms frame", || {
        i += 1;
        black_box(rs.process(&frame(&voice8, 160, i)));
    });

    let pcm8 = frame(&voice8, 160, 3);
    let ulaw = G711Law::MuLaw.encode(&pcm8);
    bench("G.711 µ-law encode (160)", "per 20 ms frame", || {
        black_box(G711Law::MuLaw.encode(black_box(&pcm8)));
    });
    let mut out = Vec::with_capacity(160);
    bench("G.711 µ-law decode (160)", "per 20 ms frame", || {
        G711Law::MuLaw.decode_into(black_box(&ulaw), &mut out);
        black_box(&out);
    });

    let mut enc = OpusEncoder::new(OpusConfig::default()).unwrap();
    let frames48: Vec<Vec<i16>> = voice48.chunks_exact(960).map(<[i16]>::to_vec).collect();
    let packets: Vec<Vec<u8>> = frames48.iter().map(|f| enc.encode(f).unwrap()).collect();
    bench("Opus encode 48k mono (960)", "per 20 ms frame", || {
        i += 1;
        black_box(enc.encode(&frames48[i % frames48.len()]).unwrap());
    });
    let mut dec = OpusDecoder::new().unwrap();
    bench("Opus decode 48k mono", "per 20 ms frame", || {
        i += 1;
        black_box(dec.decode(&packets[i % packets.len()]).unwrap());
    });
    bench("Opus PLC (conceal)", "per 20 ms frame", || {
        black_box(dec.conceal().unwrap());
    });

    let mut energy = EnergyVad::new(r16, EnergyVadConfig::default()).unwrap();
    bench("energy VAD 16k (320)", "per 20 ms chunk", || {
        i += 1;
        black_box(energy.speech_probability(&frame(&voice16, 320, i)).unwrap());
    });

    let mut beep8 = BeepDetector::new(r8, BeepConfig::default());
    bench(
        "beep detector 8k (Goertzel scan)",
        "per 20 ms frame",
        || {
            i += 1;
            black_box(beep8.push(&frame(&voice8, 160, i)));
        },
    );
    let mut beep16 = BeepDetector::new(r16, BeepConfig::default());
    bench(
        "beep detector 16k (Goertzel scan)",
        "per 20 ms frame",
        || {
            i += 1;
            black_box(beep16.push(&frame(&voice16, 320, i)));
        },
    );
    let mut dtmf8 = DtmfDetector::new(r8, DtmfConfig::default());
    bench("DTMF detector 8k", "per 20 ms frame", || {
        i += 1;
        black_box(dtmf8.push(&frame(&voice8, 160, i)));
    });
    let mut dtmf16 = DtmfDetector::new(r16, DtmfConfig::default());
    bench("DTMF detector 16k", "per 20 ms frame", || {
        i += 1;
        black_box(dtmf16.push(&frame(&voice16, 320, i)));
    });

    let mut jb = JitterBuffer::new(JitterConfig::default());
    let payload = vec![0u8; 160];
    let mut seq = 0u16;
    bench("jitter buffer push + pop", "per 20 ms packet", || {
        seq = seq.wrapping_add(1);
        let t = u64::from(seq) * 20;
        jb.push(seq, u32::from(seq) * 160, t, payload.clone());
        black_box(jb.pop(t));
    });

    silero(&voice16, &voice8);
    let _ = white_noise;
}

#[cfg(feature = "silero")]
fn silero(voice16: &[i16], voice8: &[i16]) {
    use std::path::PathBuf;
    use switchboard_audio::vad::{init_onnx_runtime, SileroModel, SileroVad};
    let root = std::env::var_os("SWITCHBOARD_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/data"));
    let ready = init_onnx_runtime(root.join("onnxruntime/libonnxruntime.so"))
        .and_then(|_| SileroModel::load(root.join("silero/silero_vad.onnx")));
    let model = match ready {
        Ok(m) => m,
        Err(e) => {
            println!("Silero skipped: {e}");
            return;
        }
    };
    for (rate, voice, len) in [
        (SampleRate::HZ_16K, voice16, 512usize),
        (SampleRate::HZ_8K, voice8, 256),
    ] {
        let mut vad = SileroVad::new(model.clone(), rate).unwrap();
        let mut i = 0;
        bench(
            &format!("Silero VAD {rate} ({len} new samples)"),
            "per 32 ms chunk",
            || {
                i += 1;
                let start = (i * len) % (voice.len() - len);
                black_box(vad.speech_probability(&voice[start..start + len]).unwrap());
            },
        );
    }
}

#[cfg(not(feature = "silero"))]
fn silero(_: &[i16], _: &[i16]) {
    println!("Silero skipped: built without the `silero` feature");
}
