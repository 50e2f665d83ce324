//! Concurrent rooms through the simulator. Run with `cargo bench -p livekit-sim`.
//!
//! 1. In-process rooms: N rooms × 2 simulated participants exchanging Opus in real time
//!    (encode, fan-out, decode, mix) for 5 s; prints the simulator's CPU per room and checks
//!    every participant heard its peer.
//! 2. WebRTC forwarding: two LiveKit Python SDK clients (real libwebrtc) in one room, one
//!    publishing 6 s of tone; prints the simulator's CPU while it forwards that stream (SRTP,
//!    DTLS, ICE on webrtc-rs) — the clients' own CPU is not counted. Needs the SDK venv
//!    (`./setup.sh`); without it this part says so and is left out.
#![allow(
    clippy::disallowed_types,
    reason = "a benchmark measures wall-clock time"
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use livekit_sim::{ParticipantSpec, SimConfig, Simulator};

/// This process's user + system CPU time (Linux `/proc/self/stat`, in clock ticks of 10 ms).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, s)| s).unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the command name: state is field 0, utime field 11, stime field 12.
    (ticks(11) + ticks(12)) / 100.0
}

fn tone(hz: f64, seconds: f64) -> Vec<i16> {
    (0..(48_000.0 * seconds) as usize)
        .map(|i| (8_000.0 * (2.0 * std::f64::consts::PI * hz * i as f64 / 48_000.0).sin()) as i16)
        .collect()
}

async fn in_process_rooms(rooms: usize) {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let mut participants = Vec::new();
    for r in 0..rooms {
        let room = format!("bench-{r}");
        for (name, hz) in [("a", 440.0), ("b", 660.0)] {
            let spec = ParticipantSpec {
                identity: name.to_owned(),
                audio: tone(hz, 10.0),
                ..Default::default()
            };
            participants.push(sim.add_participant(&room, spec).await.expect("join"));
        }
    }
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (cpu, wall) = (cpu_seconds() - cpu0, t0.elapsed().as_secs_f64());
    let deaf = participants
        .iter()
        .filter(|p| {
            p.received_audio()
                .iter()
                .filter(|s| s.abs() > 2_000)
                .count()
                < 48_000
        })
        .count();
    println!(
        "in-process rooms={rooms:3} (2 participants each): simulator CPU {:6.1}% of one core, \
         {:5.2}% per room; participants that heard less than 1 s: {deaf}",
        100.0 * cpu / wall,
        100.0 * cpu / wall / rooms as f64,
    );
    drop(participants);
    sim.shutdown().await;
}

fn python() -> Option<PathBuf> {
    let venv = std::env::var_os("SWITCHBOARD_LIVEKIT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/switchboard/livekit-venv")
        });
    let python = venv.join("bin/python");
    python.exists().then_some(python)
}

async fn webrtc_forwarding() {
    let Some(python) = python() else {
        println!(
            "webrtc forwarding: LiveKit Python SDK venv missing (run ./setup.sh): not measured"
        );
        return;
    };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/livekit/client.py");
    let dir = std::env::temp_dir().join(format!("livekit-sim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let wav = dir.join("tone.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&wav, spec).expect("wav");
    for s in tone(440.0, 6.0) {
        writer.write_sample(s).expect("sample");
    }
    writer.finalize().expect("wav");
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let client = |identity: &str, extra: Vec<String>| {
        let mut command = tokio::process::Command::new(&python);
        command
            .arg(&script)
            .args([
                "--url",
                &sim.ws_url(),
                "--token",
                &sim.token("fwd", identity),
            ])
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command.spawn().expect("spawn client")
    };
    let mut bob = client("bob", vec!["--duration".into(), "10".into()]);
    let mut alice = client(
        "alice",
        vec![
            "--publish".into(),
            wav.display().to_string(),
            "--duration".into(),
            "9".into(),
        ],
    );
    // Measure the middle of the publication, once both have joined and negotiated.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (cpu, wall) = (cpu_seconds() - cpu0, t0.elapsed().as_secs_f64());
    println!(
        "webrtc forwarding (1 published Opus stream → 1 subscriber, real libwebrtc clients): \
         simulator CPU {:5.2}% of one core",
        100.0 * cpu / wall
    );
    let _ = alice.wait().await;
    let _ = bob.wait().await;
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for rooms in [1, 10, 50] {
            in_process_rooms(rooms).await;
        }
        webrtc_forwarding().await;
    });
}
