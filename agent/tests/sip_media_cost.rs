//! Bench-style measurement of one SIP call's media path, per 20 ms frame, with the real
//! components: RTP parse → jitter buffer → G.711 decode → 8→16 kHz resample → Silero VAD
//! (inbound), and 24 kHz TTS audio → 24→8 kHz resample → G.711 encode → RTP (outbound).
//! It prints the CPU cost per call; it asserts only behaviour (every frame came through, the
//! VAD found the speech), never a time. Run with `--nocapture` to read the numbers. Needs
//! the model store (`cargo run -p switchboard -- models fetch`) and espeak-ng.

mod support;

use audio::vad::{SileroModel, SileroVad, VoiceDetector};
use audio::{G711Law, JitterBuffer, JitterConfig, Playout, Rechunker, Resampler, SampleRate};
use speech::models::ModelStore;
use support::tmp::tmp;
use switchboard::transport::sip::rtp::RtpPacket;
use tokio::time::{Duration, Instant};

const SECONDS: u32 = 20;

fn espeak_8k(text: &str) -> Vec<i16> {
    let dir = tmp("sip-media-cost");
    let path = dir.join("speech.wav");
    let status = std::process::Command::new("espeak-ng")
        .args(["-v", "en-us", "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .expect("espeak-ng is needed: apt-get install espeak-ng");
    assert!(status.success());
    let (samples, rate) = audio::read_wav_file(&path).expect("espeak-ng wrote a WAV");
    audio::resample_all(&samples, rate, SampleRate::HZ_8K).expect("resample")
}

#[derive(Default)]
struct Stage {
    total: Duration,
}

impl Stage {
    fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.total += t.elapsed();
        out
    }

    fn per_frame_us(&self, frames: u32) -> f64 {
        self.total.as_secs_f64() * 1e6 / f64::from(frames)
    }
}

#[test]
fn media_path_cost_per_call() {
    let store = ModelStore::from_env();
    store
        .check()
        .unwrap_or_else(|e| panic!("{e} (run `cargo run -p switchboard -- models fetch`)"));
    audio::vad::init_onnx_runtime(store.onnxruntime_lib()).expect("ONNX Runtime");
    let model = SileroModel::load(store.silero_vad()).expect("Silero VAD");
    let mut vad = SileroVad::new(model, SampleRate::HZ_16K).expect("VAD at 16 kHz");

    // The caller: espeak-ng speech with pauses, as µ-law RTP packets.
    let rate = SampleRate::HZ_8K;
    let speech = espeak_8k("Yes, it was resolved. I would rate it a four out of five.");
    let mut caller = Vec::new();
    while caller.len() < rate.samples_for_ms(SECONDS * 1000) {
        caller.extend(&speech);
        caller.extend(audio::synth::silence(1_000, rate));
    }
    caller.truncate(rate.samples_for_ms(SECONDS * 1000));
    let packets: Vec<Vec<u8>> = caller
        .chunks(160)
        .enumerate()
        .map(|(i, f)| {
            RtpPacket {
                payload_type: 0,
                marker: i == 0,
                seq: i as u16,
                timestamp: i as u32 * 160,
                ssrc: 1,
                payload: G711Law::MuLaw.encode(f),
            }
            .to_bytes()
        })
        .collect();
    // The agent: 24 kHz TTS output.
    let tts = audio::synth::speech_like(200.0, 0.4, SECONDS * 1000, SampleRate::HZ_24K, 9);

    let (mut rx, mut jitter, mut decode, mut up, mut detect) = Default::default();
    let (mut down, mut encode) = <(Stage, Stage)>::default();
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let mut to_16k = Resampler::new(rate, SampleRate::HZ_16K).unwrap();
    let mut to_8k = Resampler::new(SampleRate::HZ_24K, rate).unwrap();
    let mut chunks = Rechunker::new(vad.chunk_len());
    let mut pcm = Vec::new();
    let (mut decoded, mut speech_chunks, mut sent_bytes) = (0usize, 0usize, 0usize);
    let frames = packets.len() as u32;
    for (i, bytes) in packets.iter().enumerate() {
        let now_ms = i as u64 * 20;
        let p = Stage::time(&mut rx, || RtpPacket::parse(bytes).expect("valid RTP"));
        let out = Stage::time(&mut jitter, || {
            jb.push(p.seq, p.timestamp, now_ms, p.payload);
            jb.pop(now_ms)
        });
        let Some(Playout::Packet { payload, .. }) = out else {
            continue;
        };
        Stage::time(&mut decode, || {
            G711Law::MuLaw.decode_into(&payload, &mut pcm)
        });
        decoded += pcm.len();
        let wide = Stage::time(&mut up, || to_16k.process(&pcm));
        for chunk in chunks.push(&wide) {
            let p = Stage::time(&mut detect, || vad.speech_probability(&chunk).expect("VAD"));
            speech_chunks += usize::from(p > 0.5);
        }
        let agent = &tts[i * 480..(i + 1) * 480];
        let narrow = Stage::time(&mut down, || to_8k.process(agent));
        sent_bytes += Stage::time(&mut encode, || {
            RtpPacket {
                payload_type: 0,
                marker: false,
                seq: i as u16,
                timestamp: i as u32 * 160,
                ssrc: 2,
                payload: G711Law::MuLaw.encode(&narrow),
            }
            .to_bytes()
            .len()
        });
    }

    // Behaviour: all audio but the jitter buffer's initial depth came through, the VAD heard
    // speech in the voiced seconds and not everywhere, and every outbound frame was sent.
    assert!(
        decoded >= caller.len() - 3 * 160,
        "decoded {decoded} of {}",
        caller.len()
    );
    let chunks_total = decoded * 2 / vad.chunk_len();
    assert!(
        speech_chunks > chunks_total / 5 && speech_chunks < chunks_total * 4 / 5,
        "speech in {speech_chunks} of {chunks_total} chunks"
    );
    assert!(sent_bytes >= packets.len() * 150, "sent {sent_bytes} bytes");

    let stages = [
        ("rtp parse", &rx),
        ("jitter buffer", &jitter),
        ("g711 decode", &decode),
        ("resample 8k->16k", &up),
        ("silero vad", &detect),
        ("resample 24k->8k", &down),
        ("g711 encode + rtp", &encode),
    ];
    let total: f64 = stages.iter().map(|(_, s)| s.per_frame_us(frames)).sum();
    println!("SIP media path, per 20 ms frame ({frames} frames):");
    for (name, s) in stages {
        println!("  {name:<20} {:>8.1} us", s.per_frame_us(frames));
    }
    println!(
        "  total {total:.1} us per frame = {:.2} % of one core per call (~{:.0} calls per core)",
        total / 200.0,
        20_000.0 / total
    );
}
