//! Bench (not a test: run with
//! `cargo test -p switchboard --test livekit_bench -- --ignored --nocapture`):
//! join-to-first-audio time and CPU per call of the LiveKit Opus path. The room simulator
//! runs on its own runtime ("sim" threads) so the CPU of Switchboard's side (signal, both
//! PeerConnections' drivers, SRTP, Opus decode + resample of the caller, resample + Opus
//! encode of the agent) is read from the agent runtime's threads alone (/proc/self/task).

use std::collections::HashMap;

use audio::level::dbfs;
use audio::synth::sine;
use audio::SampleRate;
use livekit_sim::{ParticipantSpec, SimConfig, SimParticipant, Simulator};
use switchboard::transport::livekit::{join, CallerRule, JoinedRoom, RoomOptions};
use tokio::runtime::Runtime;
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const RATE: SampleRate = SampleRate::HZ_16K;

fn runtime(name: &str, threads: usize) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .unwrap()
}

/// CPU seconds used so far by this process's threads whose name starts with `prefix`.
fn thread_cpu(prefix: &str) -> f64 {
    let mut ticks = 0u64;
    for entry in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3; utime 14, stime 15.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() > 13 {
            ticks += f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0);
        }
    }
    ticks as f64 / 100.0
}

async fn caller(sim: &Simulator, room: &str) -> SimParticipant {
    sim.add_participant(
        room,
        ParticipantSpec {
            identity: "sip_caller".into(),
            kind: livekit_protocol::participant_info::Kind::Sip,
            attributes: HashMap::new(),
            audio: sine(600.0, 0.3, 120_000, SampleRate::HZ_48K),
        },
    )
    .await
    .unwrap()
}

/// Joins and returns (join ms, join-to-first-audible-frame ms, room).
async fn join_timed(url: String, token: String) -> (f64, f64, JoinedRoom) {
    let mut opts = RoomOptions::new(&url, &token);
    opts.caller = CallerRule::Sip;
    opts.call_rate = RATE;
    opts.udp_bind = "127.0.0.1:0".into();
    let t0 = Instant::now();
    let mut room = join(opts, CancellationToken::new()).await.unwrap();
    let joined = t0.elapsed().as_secs_f64() * 1000.0;
    loop {
        let f = room.media.input.recv().await.unwrap();
        if dbfs(&f.samples) > -40.0 {
            break;
        }
    }
    (joined, t0.elapsed().as_secs_f64() * 1000.0, room)
}

/// Keeps a call busy both ways: drains the caller's audio, speaks a tone continuously.
async fn run_media(mut room: JoinedRoom, until: Instant) -> u64 {
    let clock = room.media.clock;
    let tone = sine(440.0, 0.3, 20, RATE);
    let mut frames = 0;
    let mut at = clock.now_ms() + 20;
    loop {
        tokio::select! {
            f = room.media.input.recv() => if f.is_some() { frames += 1 } else { break },
            _ = tokio::time::sleep_until(clock.instant_at(at)) => {
                room.media.output.send(&tone, at);
                at += 20;
            }
        }
        if Instant::now() >= until {
            break;
        }
    }
    room.handle.leave().await;
    frames
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[test]
#[ignore = "bench: run with --ignored --nocapture"]
fn bench_livekit_opus_path() {
    let sim_rt = runtime("sim", 1);
    let agent_rt = runtime("agent", 1);
    let sim = sim_rt
        .block_on(Simulator::start(SimConfig::default()))
        .unwrap();
    let url = sim.ws_url();

    // Join-to-first-audio, one call at a time.
    let (mut joins, mut firsts) = (Vec::new(), Vec::new());
    for i in 0..10 {
        let room = format!("j{i}");
        let phone = sim_rt.block_on(caller(&sim, &room));
        let token = sim.token(&room, "agent");
        let (j, f, r) = agent_rt.block_on(join_timed(url.clone(), token));
        joins.push(j);
        firsts.push(f);
        agent_rt.block_on(r.handle.leave());
        sim_rt.block_on(phone.leave());
    }
    println!(
        "join: p50 {:.0} ms, max {:.0} ms; join-to-first-audio: p50 {:.0} ms, max {:.0} ms (n=10)",
        pct(joins.clone(), 0.5),
        pct(joins, 1.0),
        pct(firsts.clone(), 0.5),
        pct(firsts, 1.0)
    );

    // CPU per call with N concurrent calls, audio both ways for 10 s.
    for n in [1usize, 4, 8] {
        let phones: Vec<_> = (0..n)
            .map(|i| sim_rt.block_on(caller(&sim, &format!("c{n}-{i}"))))
            .collect();
        let rooms: Vec<_> = (0..n)
            .map(|i| {
                let token = sim.token(&format!("c{n}-{i}"), "agent");
                agent_rt.block_on(join_timed(url.clone(), token)).2
            })
            .collect();
        let secs = 10.0;
        let cpu0 = thread_cpu("agent");
        let frames: u64 = agent_rt.block_on(async {
            let until = Instant::now() + Duration::from_secs_f64(secs);
            let tasks: Vec<_> = rooms
                .into_iter()
                .map(|r| tokio::spawn(run_media(r, until)))
                .collect();
            let mut total = 0;
            for t in tasks {
                total += t.await.unwrap();
            }
            total
        });
        let cpu = thread_cpu("agent") - cpu0;
        println!(
            "{n} concurrent calls: agent-side CPU {:.1}% of one core per call \
             ({:.2} CPU-s over {secs} s; {} caller frames received, {:.0}% of expected)",
            cpu / secs / n as f64 * 100.0,
            cpu,
            frames,
            frames as f64 / (n as f64 * secs * 50.0) * 100.0
        );
        for p in phones {
            sim_rt.block_on(p.leave());
        }
    }
    sim_rt.block_on(sim.shutdown());
}
