//! `switchboard call --local` and `switchboard demo`: whole calls on this machine, offline.
//! The call runs through the full audio path (resampling, VAD, endpointing, whisper, the
//! conversation, hibari, 20 ms playout); the results land in an output directory: the
//! agent's audio, a stereo mix (caller left, agent right) and a JSON call report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use audio::SampleRate;
use speech::models::ModelStore;
use tokio::sync::broadcast;
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

use super::llm_args::LlmArgs;
use crate::call::live::CallEvent;
use crate::call::report::{Speaker, TranscriptLine};
use crate::call::session::{CallSpec, Providers};
use crate::conversation::llm_chat::{LlmChat, LlmChatConfig};
use crate::conversation::script::ScriptConversation;
use crate::conversation::Conversation;
use crate::llm::LlmProvider;
use crate::local_models::{espeak, LocalModels};
use crate::transport::local_call::{run_local_call, Caller, LocalCallResult};
use crate::turn::TurnConfig;

/// The line rate of local calls: wideband, like a WebRTC or HD-voice call after decoding.
const LINE_RATE: SampleRate = SampleRate::HZ_16K;

#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// Use the local transport (a WAV file as the caller). Required: the only transport yet.
    #[arg(long, required = true)]
    pub local: bool,
    /// WAV file played as the caller, in real time.
    #[arg(long)]
    pub caller: PathBuf,
    /// Dialogue script to run (default: an LLM-only conversation, which needs --llm-url).
    #[arg(long)]
    pub script: Option<PathBuf>,
    /// Job variables for the script, as key=value.
    #[arg(long = "var", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Where the recordings and the call report go.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Hang up this many seconds after the caller's audio ends.
    #[arg(long, default_value_t = 20)]
    pub hang_up_after: u64,
    #[command(flatten)]
    pub llm: LlmArgs,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Dialogue script the agent runs.
    #[arg(long, default_value = "scripts/survey.yaml")]
    pub script: PathBuf,
    /// What the simulated caller says, one line per turn (default: answers for the survey).
    #[arg(long = "say")]
    pub lines: Vec<String>,
    /// espeak-ng voice of the simulated caller.
    #[arg(long, default_value = "en-us+m3")]
    pub caller_voice: String,
    #[arg(long, default_value = "out/demo")]
    pub out: PathBuf,
    #[command(flatten)]
    pub llm: LlmArgs,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("expected key=value, got {s:?}"))
}

const SURVEY_ANSWERS: &[&str] = &[
    "Yes, it was resolved.",
    "I would give it a four.",
    "The agent was friendly and quick.",
    "Yes, I would.",
];

pub fn call(args: CallArgs) -> ExitCode {
    exit(block_on(async move {
        let (audio, rate) = audio::wav::read_wav_file(&args.caller)
            .with_context(|| format!("reading the caller WAV {}", args.caller.display()))?;
        let models = load_models()?;
        let audio = audio::resample_all(&audio, rate, LINE_RATE)?;
        let vars = args
            .vars
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        let llm = args.llm.build()?;
        let conversation = conversation(args.script.as_deref(), &vars, llm.is_some())?;
        let caller = Caller::Audio(audio);
        let hang_up_after = Duration::from_secs(args.hang_up_after);
        let result = run(&models, llm, conversation, caller, hang_up_after).await?;
        write_outputs(&args.out, &result)
    }))
}

pub fn demo(args: DemoArgs) -> ExitCode {
    exit(block_on(async move {
        let models = load_models()?;
        let llm = args.llm.build()?;
        let conversation = conversation(Some(&args.script), &BTreeMap::new(), llm.is_some())?;
        let lines = if args.lines.is_empty() {
            SURVEY_ANSWERS.iter().map(|s| s.to_string()).collect()
        } else {
            args.lines
        };
        println!(
            "Demo call: agent runs {}, a simulated caller answers.\n",
            args.script.display()
        );
        let caller = Caller::Simulated {
            lines,
            voice: espeak(&args.caller_voice),
            turn_gap: Duration::from_millis(700),
        };
        let result = run(&models, llm, conversation, caller, Duration::from_secs(8)).await?;
        write_outputs(&args.out, &result)
    }))
}

fn load_models() -> anyhow::Result<LocalModels> {
    let store = ModelStore::from_env();
    LocalModels::load(&store)
}

/// The script's conversation, or an LLM-only one when no script is given and an LLM is.
fn conversation(
    script: Option<&Path>,
    vars: &BTreeMap<String, serde_json::Value>,
    have_llm: bool,
) -> anyhow::Result<Box<dyn Conversation>> {
    let Some(path) = script else {
        if have_llm {
            return Ok(Box::new(LlmChat::new(LlmChatConfig::default())));
        }
        bail!("no conversation: pass --script <file.yaml>, or --llm-url for an LLM-only agent");
    };
    let script = dialogue::load_file(path).map_err(|diags| {
        let lines: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        anyhow::anyhow!("{} has errors:\n{}", path.display(), lines.join("\n"))
    })?;
    Ok(Box::new(ScriptConversation::new(
        Arc::new(script),
        vars,
        chrono::Utc::now(),
    )))
}

async fn run(
    models: &LocalModels,
    llm: Option<Arc<dyn LlmProvider>>,
    conversation: Box<dyn Conversation>,
    caller: Caller,
    hang_up_after: Duration,
) -> anyhow::Result<LocalCallResult> {
    let (live_tx, mut live_rx) = broadcast::channel::<CallEvent>(64);
    let printer = tokio::spawn(async move {
        // Agent lines print when they start playing, caller lines when they are final.
        while let Ok(event) = live_rx.recv().await {
            match event {
                CallEvent::Speaking { text, at_ms, .. } => print_line(&TranscriptLine {
                    speaker: Speaker::Agent,
                    text,
                    start_ms: at_ms,
                    end_ms: at_ms,
                    interrupted: false,
                    node: None,
                }),
                CallEvent::Line { line, .. } if line.speaker == Speaker::Caller => {
                    print_line(&line)
                }
                _ => {}
            }
        }
    });
    let spec = CallSpec {
        call_id: format!("local-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S")),
        providers: Providers {
            llm,
            ..models.providers()
        },
        detector: models.detector()?,
        vad: audio::vad::VadConfig {
            // The pause that starts a speculative decode; the turn itself ends on the listen's
            // end-of-turn silence, or earlier when the decode already answers the question.
            min_silence_ms: 120,
            ..audio::vad::VadConfig::default()
        },
        turn: TurnConfig::default(),
        conversation,
        live: Some(live_tx),
        metrics: Default::default(),
    };
    let token = CancellationToken::new();
    let ctrl_c = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctrl_c.cancel();
        }
    });
    let result = run_local_call(spec, caller, LINE_RATE, Some(hang_up_after), &token).await;
    let _ = printer.await;
    Ok(result)
}

fn print_line(line: &TranscriptLine) {
    let who = match line.speaker {
        Speaker::Agent => "agent ",
        Speaker::Caller => "caller",
    };
    let cut = if line.interrupted {
        " [interrupted]"
    } else {
        ""
    };
    println!(
        "[{:>6.1}s] {who}: {}{cut}",
        line.start_ms as f64 / 1000.0,
        line.text
    );
}

fn write_outputs(out: &Path, result: &LocalCallResult) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    audio::wav::write_wav_file(out.join("agent.wav"), &result.agent_audio, 1, result.rate)?;
    audio::wav::write_wav_file(out.join("mix.wav"), &result.stereo_mix(), 2, result.rate)?;
    let report = serde_json::to_string_pretty(&result.report)?;
    std::fs::write(out.join("report.json"), report)?;
    let r = &result.report;
    println!();
    if let Some(o) = &r.outcome {
        println!(
            "Call ended: disposition {}, reason {}.",
            o.disposition, o.reason
        );
    }
    for (slot, value) in &r.answers {
        println!("  answer {slot} = {value}");
    }
    for t in &r.turns {
        if let Some(v2v) = t.voice_to_voice_ms {
            println!(
                "  turn {}: voice-to-voice {v2v} ms (end of utterance {} ms, STT {} ms, waited {} ms)",
                t.turn, t.end_of_utterance_delay_ms, t.stt_ms, t.stt_wait_ms
            );
        }
    }
    println!("Recordings and report in {}", out.display());
    Ok(())
}

pub(crate) fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(
    f: F,
) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(f)
}

pub(crate) fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
