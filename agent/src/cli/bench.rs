//! `switchboard bench`: runs the turn-engine benchmarks (see [`crate::bench`]) and prints
//! each as a Markdown section; `bench all` prints everything under the BENCHMARKS.md heading,
//! with the machine and load it ran on.

use std::process::ExitCode;

use anyhow::Context;
use speech::models::ModelStore;
use tokio::time::Instant;

use crate::bench::api::{self, ApiBenchConfig};
use crate::bench::barge_in::{self, BargeInConfig};
use crate::bench::capacity::{self, CapacityConfig};
use crate::bench::greeting::{self, GreetingConfig};
use crate::bench::memory::{self, MemoryConfig, VadKind};
use crate::bench::overhead::{self, OverheadConfig};
use crate::bench::voice_to_voice::{self, VoiceToVoiceConfig};
use crate::bench::{capacity_speech, load_average, machine, BenchModels, Section};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub which: Which,
}

#[derive(Debug, clap::Subcommand)]
pub enum Which {
    /// Voice-to-voice latency over short caller answers (local models).
    VoiceToVoice {
        #[arg(long, default_value_t = 50)]
        answers: usize,
        /// Override the script's end-of-turn silence (ms).
        #[arg(long)]
        end_of_turn_ms: Option<u32>,
        /// The simulated caller answers after this much agent silence (ms).
        #[arg(long, default_value_t = 400)]
        turn_gap_ms: u64,
        /// Also list every turn with what whisper heard.
        #[arg(long)]
        details: bool,
    },
    /// Answer classification (person, voicemail, screening, IVR, silence/fax) on a generated
    /// corpus: accuracy, confusion, time to verdict (local models; espeak-ng, festival, hibari).
    Amd {
        /// Only the first N recordings of each class (quick runs).
        #[arg(long)]
        limit: Option<usize>,
        /// Which corpus: the tuning one (scored on its test half), the held-out one, or one of
        /// the fresh ones written by people who never saw the phrase model (every clip scored).
        #[arg(long, value_enum, default_value = "tune")]
        corpus: crate::bench::amd::Corpus,
        /// Speak the corpus with voices close to people (hibari, festival's HTS and diphone
        /// voices; needs `apt-get install festival festvox-us-slt-hts festvox-kallpc16k`)
        /// instead of its own espeak-ng voices.
        #[arg(long)]
        natural_voices: bool,
        /// Print every partial transcript and verdict.
        #[arg(long)]
        details: bool,
        /// Clips classified at once (1 measures decode times on an otherwise idle machine).
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Try a classifier threshold other than its default, e.g. `--set human_silence_ms=500`
        /// (repeatable; the names are `AmdConfig`'s fields).
        #[arg(long = "set", value_name = "NAME=MS", value_parser = amd_setting)]
        set: Vec<(String, u64)>,
    },
    /// Answer → first agent audio, live and with a cached greeting (local models).
    Greeting {
        #[arg(long, default_value_t = 10)]
        calls: usize,
    },
    /// Caller speech onset → agent silence (local models).
    BargeIn {
        #[arg(long, default_value_t = 24)]
        count: usize,
    },
    /// The engine's own time per turn, with instant fake providers.
    Overhead {
        #[arg(long, default_value_t = 200)]
        turns: usize,
        #[arg(long, default_value_t = 4)]
        calls: usize,
        #[arg(long, default_value_t = 300)]
        end_of_turn_ms: u32,
    },
    /// Resident memory per call, shared models excluded.
    Memory {
        #[arg(long, default_value_t = 100)]
        calls: usize,
    },
    /// Calls one core carries with Silero VAD and no late frames.
    Capacity {
        #[arg(long, default_value_t = 8)]
        start: usize,
        #[arg(long, default_value_t = 512)]
        max: usize,
        /// Seconds of caller audio per trial.
        #[arg(long, default_value_t = 8)]
        seconds: u32,
    },
    /// Control-port requests/s and latency (`POST /v1/calls`, `GET /v1/calls/{id}`, with
    /// `wrk` as a cross-check when installed) and job-claim throughput across store handles.
    Api {
        /// Postgres URL; an SQLite temp file without it.
        #[arg(long)]
        database_url: Option<String>,
        /// Seconds per HTTP route.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Jobs enqueued for the claim measurement.
        #[arg(long, default_value_t = 5000)]
        jobs: usize,
        /// Store handles (own pools, as separate processes) claiming at once.
        #[arg(long, default_value_t = 4)]
        claimers: usize,
        /// Jobs per claim.
        #[arg(long, default_value_t = 10)]
        batch: i64,
        /// Directory of dialogue scripts (needs `survey.yaml`).
        #[arg(long, default_value = "scripts")]
        scripts: std::path::PathBuf,
    },
    /// Simultaneous SIPp calls (µ-law audio streamed and echoed) the SIP/RTP path holds with
    /// < 1 % late frames (needs `sipp`: apt-get install sip-tester).
    SipCapacity,
    /// Everything, as Markdown for BENCHMARKS.md.
    All,
    /// One memory variant in this process (run by `memory`; prints one `rss-bytes` line).
    #[command(hide = true)]
    MemoryProbe {
        #[arg(long, value_enum)]
        vad: VadKind,
        #[arg(long)]
        calls: usize,
    },
}

/// `NAME=MS` of `bench amd --set`, the name checked against the classifier's settings.
fn amd_setting(arg: &str) -> Result<(String, u64), String> {
    let (name, ms) = arg
        .split_once('=')
        .ok_or_else(|| format!("\"{arg}\": expected NAME=MS, e.g. human_silence_ms=500"))?;
    let ms: u64 = ms
        .trim()
        .parse()
        .map_err(|_| format!("\"{arg}\": {ms:?} is not a whole number of milliseconds"))?;
    let name = name.trim().to_string();
    crate::outcome::AmdConfig::default().set(&name, ms)?;
    Ok((name, ms))
}

pub fn run(args: BenchArgs) -> ExitCode {
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
        .and_then(|rt| rt.block_on(bench(args.which)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(which: Which) -> anyhow::Result<()> {
    let mut models = BenchModels::new(ModelStore::from_env());
    if let Which::MemoryProbe { vad, calls } = which {
        let rss = memory::probe(vad, calls, models.silero()?).await?;
        println!("{}", rss.to_line());
        return Ok(());
    }
    let all = matches!(which, Which::All);
    let started = Instant::now();
    if all {
        println!("## Turn engine (`switchboard bench`)\n");
        println!("{}", machine());
    }
    let mut steps: Vec<Which> = match which {
        Which::All => vec![
            Which::Overhead {
                turns: 200,
                calls: 4,
                end_of_turn_ms: 300,
            },
            Which::Memory { calls: 100 },
            Which::Capacity {
                start: 8,
                max: 512,
                seconds: 8,
            },
            Which::Greeting { calls: 10 },
            Which::BargeIn { count: 24 },
            Which::VoiceToVoice {
                answers: 50,
                end_of_turn_ms: None,
                turn_gap_ms: 400,
                details: false,
            },
        ],
        one => vec![one],
    };
    for step in steps.drain(..) {
        let t = Instant::now();
        let section = run_one(step, &mut models).await?;
        println!("{}", section.to_markdown());
        println!(
            "_Took {:.0} s; load average after: {}._\n",
            t.elapsed().as_secs_f64(),
            load_average()
        );
    }
    if all {
        println!(
            "_All measurements took {:.0} s._",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

async fn run_one(which: Which, models: &mut BenchModels) -> anyhow::Result<Section> {
    match which {
        Which::VoiceToVoice {
            answers,
            end_of_turn_ms,
            turn_gap_ms,
            details,
        } => {
            let cfg = VoiceToVoiceConfig {
                answers,
                end_of_turn_ms,
                turn_gap_ms,
                details,
            };
            eprintln!("Measuring voice-to-voice over {answers} answers…");
            voice_to_voice::run(&cfg, models.local()?).await
        }
        Which::Greeting { calls } => {
            eprintln!("Measuring the first greeting over {calls} calls per variant…");
            greeting::run(&GreetingConfig { calls }, models.local()?).await
        }
        Which::BargeIn { count } => {
            eprintln!("Measuring {count} barge-ins…");
            barge_in::run(&BargeInConfig { barge_ins: count }, models.local()?).await
        }
        Which::Overhead {
            turns,
            calls,
            end_of_turn_ms,
        } => {
            eprintln!("Measuring the pipeline overhead over {turns} turns…");
            let cfg = OverheadConfig {
                turns,
                calls,
                end_of_turn_ms,
            };
            overhead::run(&cfg).await
        }
        Which::Memory { calls } => {
            eprintln!("Measuring memory with {calls} calls at once…");
            memory::run(&MemoryConfig { calls }).await
        }
        Which::Capacity {
            start,
            max,
            seconds,
        } => {
            eprintln!("Searching the calls one core carries…");
            let silero = models.silero()?;
            let speech = capacity_speech().await?;
            let cfg = CapacityConfig {
                start_calls: start,
                max_calls: max,
                seconds,
                ..CapacityConfig::default()
            };
            capacity::run(&cfg, silero, &speech).await
        }
        Which::Amd {
            limit,
            corpus,
            natural_voices,
            details,
            jobs,
            set,
        } => {
            eprintln!("Classifying the answer-detection corpus…");
            let bench = crate::bench::amd::AmdBench {
                corpus,
                natural_voices,
                limit_per_class: limit,
                details,
                jobs,
                set,
            };
            crate::bench::amd::run(models.local()?, &bench)
        }
        Which::Api {
            database_url,
            seconds,
            concurrency,
            jobs,
            claimers,
            batch,
            scripts,
        } => {
            let cfg = ApiBenchConfig {
                database_url,
                seconds,
                concurrency,
                jobs,
                claimers,
                batch,
                scripts_dir: scripts,
            };
            api::run(&cfg, models.local()?.clone()).await
        }
        Which::SipCapacity => {
            eprintln!("Searching the SIP calls two cores hold…");
            let cfg = crate::bench::sip_capacity::SipCapacityConfig::default();
            crate::bench::sip_capacity::run(&cfg).await
        }
        Which::All | Which::MemoryProbe { .. } => anyhow::bail!("not a single measurement"),
    }
}
