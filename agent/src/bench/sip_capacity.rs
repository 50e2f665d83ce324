//! Simultaneous SIP calls the process holds: SIPp (Debian `sip-tester`) places K calls to a
//! real [`SipEndpoint`] on loopback, each streaming a µ-law WAV over RTP (`rtp_stream`) for
//! a few seconds; every call's handler takes the decoded frames from our media path (RTP →
//! latching → jitter buffer → G.711 → ring) and echoes them back out (ring → RTP sender).
//! A frame is late when it reaches the handler more than 20 ms after its slot (the first
//! frame's arrival + n × 20 ms). K doubles until a trial fails, then is bisected. A trial
//! passes when SIPp completed every call, every call was answered and < 1 % of frames were
//! late. This measures the SIP/RTP path only: no VAD, STT or TTS.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Context;
use futures::future::BoxFuture;
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use super::stats::{fmt, Section, Table};
use crate::scratch::ScratchDir;
use crate::transport::sip::{SipCall, SipCallHandler, SipConfig, SipEndpoint};

#[derive(Debug, Clone)]
pub struct SipCapacityConfig {
    /// First K tried; doubled until a trial fails.
    pub start_calls: usize,
    pub max_calls: usize,
    /// How long each call streams audio.
    pub seconds: u32,
    pub bisect_steps: u32,
}

impl Default for SipCapacityConfig {
    fn default() -> Self {
        Self {
            start_calls: 25,
            max_calls: 1600,
            seconds: 10,
            bisect_steps: 3,
        }
    }
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    frames: AtomicU64,
    late: AtomicU64,
    worst_ms: AtomicU64,
}

/// Echoes every call's audio and counts late frames.
struct Echo(Arc<Counters>);

impl SipCallHandler for Echo {
    fn handle(&self, mut call: SipCall) -> BoxFuture<'static, ()> {
        let c = self.0.clone();
        Box::pin(async move {
            c.calls.fetch_add(1, Ordering::Relaxed);
            let mut first: Option<Instant> = None;
            let mut n = 0u64;
            while let Some(frame) = call.media.input.recv().await {
                let now = Instant::now();
                let t0 = *first.get_or_insert(now);
                let due = t0 + Duration::from_millis(20 * n);
                let behind = now.saturating_duration_since(due).as_millis() as u64;
                if behind > 20 {
                    c.late.fetch_add(1, Ordering::Relaxed);
                }
                c.worst_ms.fetch_max(behind, Ordering::Relaxed);
                c.frames.fetch_add(1, Ordering::Relaxed);
                n += 1;
                let at = call.media.clock.now_ms();
                call.media.output.send(&frame.samples, at);
            }
        })
    }
}

struct Trial {
    calls: usize,
    answered: u64,
    sipp_ok: bool,
    frames: u64,
    late: u64,
    worst_ms: u64,
    cpu_share: f64,
}

impl Trial {
    fn late_pct(&self) -> f64 {
        100.0 * self.late as f64 / self.frames.max(1) as f64
    }

    fn passed(&self) -> bool {
        self.sipp_ok
            && self.answered == self.calls as u64
            && self.frames > 0
            && self.late_pct() < 1.0
    }
}

/// Runs the search; needs `sipp` on the PATH.
pub async fn run(cfg: &SipCapacityConfig) -> anyhow::Result<Section> {
    let dir = ScratchDir::create("sip-capacity")?;
    let scenario = write_scenario(dir.path(), cfg.seconds)?;
    let mut trials = Vec::new();
    let (mut best, mut worst) = (0usize, None::<usize>);
    let mut k = cfg.start_calls.max(1);
    while k <= cfg.max_calls {
        let t = trial(k, &scenario, cfg.seconds).await?;
        let ok = t.passed();
        trials.push(t);
        if !ok {
            worst = Some(k);
            break;
        }
        best = k;
        k *= 2;
    }
    if let Some(mut hi) = worst {
        let mut lo = best;
        for _ in 0..cfg.bisect_steps {
            let mid = (lo + hi) / 2;
            if mid <= lo {
                break;
            }
            let t = trial(mid, &scenario, cfg.seconds).await?;
            if t.passed() {
                lo = mid;
                best = best.max(mid);
            } else {
                hi = mid;
            }
            trials.push(t);
        }
    }
    drop(dir);
    let mut section = Section::new("Simultaneous SIP calls (SIPp, RTP echo, < 1 % late frames)");
    section.para(format!(
        "SIPp places K calls to the SIP endpoint on loopback (all started within 1 s), each \
         streaming µ-law audio for {} s; each call echoes its decoded frames back over RTP. \
         Late: a frame reached the call more than 20 ms after its slot. The process runtime's \
         worker threads and SIPp share the machine's cores. Holds {best} calls.",
        cfg.seconds
    ));
    let mut table = Table::new(&[
        "K calls",
        "answered",
        "frames",
        "late %",
        "worst lag (ms)",
        "process CPU (% of one core)",
        "pass",
    ]);
    trials.sort_by_key(|t| t.calls);
    for t in &trials {
        table.row(vec![
            t.calls.to_string(),
            t.answered.to_string(),
            t.frames.to_string(),
            fmt(t.late_pct(), 2),
            t.worst_ms.to_string(),
            fmt(t.cpu_share * 100.0, 0),
            if t.passed() { "yes" } else { "no" }.into(),
        ]);
    }
    section.table(&table);
    Ok(section)
}

async fn trial(k: usize, scenario: &Path, seconds: u32) -> anyhow::Result<Trial> {
    let config: SipConfig = serde_json::from_value(serde_json::json!({
        "bind": "127.0.0.1:0",
        "routes": {"*": {"tenant": "bench", "script": "bench"}},
    }))?;
    let counters = Arc::new(Counters::default());
    let cancel = CancellationToken::new();
    let ep = SipEndpoint::start(config, Arc::new(Echo(counters.clone())), cancel.clone())
        .await
        .context("SIP endpoint")?;
    let cpu0 = process_cpu_secs();
    let wall0 = Instant::now();
    let status = tokio::process::Command::new("sipp")
        .arg("-sf")
        .arg(scenario)
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            "0",
            "-nostdin",
            "-m",
            &k.to_string(),
        ])
        .args(["-l", &k.to_string(), "-r", &k.to_string(), "-rp", "1000"])
        .args(["-mi", "127.0.0.1", "-timeout", &(seconds + 60).to_string()])
        .arg(ep.local_addr().to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .status()
        .await
        .context("sipp runs (apt-get install sip-tester)")?;
    let cpu_share = (process_cpu_secs() - cpu0) / wall0.elapsed().as_secs_f64();
    cancel.cancel();
    ep.stopped().await;
    let c = &counters;
    Ok(Trial {
        calls: k,
        answered: c.calls.load(Ordering::Relaxed),
        sipp_ok: status.success(),
        frames: c.frames.load(Ordering::Relaxed),
        late: c.late.load(Ordering::Relaxed),
        worst_ms: c.worst_ms.load(Ordering::Relaxed),
        cpu_share,
    })
}

/// User + system CPU seconds of this process (Linux `/proc/self/stat`, 100 ticks/s).
fn process_cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// A µ-law WAV (a 400 Hz tone) and a UAC scenario that streams it for `seconds`.
fn write_scenario(dir: &Path, seconds: u32) -> anyhow::Result<PathBuf> {
    let tone = audio::synth::sine(400.0, 0.3, 2_000, audio::SampleRate::HZ_8K);
    let law = audio::G711Law::MuLaw.encode(&tone);
    let wav = dir.join("tone-ulaw.wav");
    let mut f = std::fs::File::create(&wav)?;
    let data = law.len() as u32;
    f.write_all(b"RIFF")?;
    f.write_all(&(36 + data).to_le_bytes())?;
    f.write_all(b"WAVEfmt ")?;
    f.write_all(&16u32.to_le_bytes())?;
    // Format 7 (µ-law), mono, 8 kHz, 8000 bytes/s, block 1, 8 bits.
    for v in [7u16, 1] {
        f.write_all(&v.to_le_bytes())?;
    }
    f.write_all(&8000u32.to_le_bytes())?;
    f.write_all(&8000u32.to_le_bytes())?;
    f.write_all(&1u16.to_le_bytes())?;
    f.write_all(&8u16.to_le_bytes())?;
    f.write_all(b"data")?;
    f.write_all(&data.to_le_bytes())?;
    f.write_all(&law)?;
    let scenario = dir.join("uac_stream.xml");
    let xml = UAC_SCENARIO
        .replace("WAV_PATH", &wav.display().to_string())
        .replace("STREAM_MS", &(seconds * 1000).to_string());
    std::fs::write(&scenario, xml)?;
    Ok(scenario)
}

/// SIPp caller: INVITE with PCMU, ACK the 200, stream the WAV in a loop, BYE.
const UAC_SCENARIO: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uac streaming µ-law">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:bench@[local_ip]:[local_port]>;tag=[pid]b[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:bench@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [auto_media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="200" />
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:bench@[local_ip]:[local_port]>;tag=[pid]b[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <nop><action><exec rtp_stream="WAV_PATH,-1,0" /></action></nop>
  <pause milliseconds="STREAM_MS" />
  <nop><action><exec rtp_stream="pause" /></action></nop>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:bench@[local_ip]:[local_port]>;tag=[pid]b[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" />
</scenario>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// A small trial end to end against SIPp: every call answered, its audio through.
    /// `SIP_CAPACITY_SEARCH=1` runs the whole search instead and prints the table.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sipp_calls_stream_through_the_endpoint() {
        let found = std::process::Command::new("sh")
            .args(["-c", "command -v sipp"])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(found, "sipp is needed: apt-get install sip-tester");
        let search = std::env::var("SIP_CAPACITY_SEARCH").is_ok();
        let cfg = if search {
            SipCapacityConfig::default()
        } else {
            SipCapacityConfig {
                start_calls: 4,
                max_calls: 4,
                seconds: 3,
                bisect_steps: 0,
            }
        };
        let section = run(&cfg).await.expect("the bench runs");
        println!("## {}\n{}", section.title, section.body);
        assert!(
            search || section.body.contains("| 4 | 4 |"),
            "{}",
            section.body
        );
    }
}
