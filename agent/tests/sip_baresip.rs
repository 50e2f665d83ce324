//! A real SIP user agent (baresip) calls the SIP endpoint, which runs the real turn engine
//! with the local models (Silero VAD, whisper tiny.en, hibari) on the survey script. The
//! caller's audio is an espeak-ng recording played by baresip's `aufile` source; baresip's
//! `sndfile` module records what it heard. Checks: the agent understood the caller, and the
//! caller's recording is the agent's speech. Needs the model store (`cargo run -p switchboard
//! -- models fetch`) and `apt-get install baresip-core espeak-ng sox`.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use audio::SampleRate;
use futures::future::BoxFuture;
use speech::stt::DecodeRequest;
use support::tmp::tmp;
use switchboard::call::report::{CallReport, Speaker};
use switchboard::call::session::{run_call, CallSpec};
use switchboard::conversation::script::ScriptConversation;
use switchboard::local_models::LocalModels;
use switchboard::transport::sip::{
    OutboundCall, Route, SipCall, SipCallHandler, SipConfig, SipEndpoint,
};
use switchboard::turn::TurnConfig;
use tokio::sync::{mpsc, Mutex};
use tokio::time::{timeout, Duration};
use tokio_util::sync::CancellationToken;

/// Guard against a hung test only.
const GUARD: Duration = Duration::from_secs(120);

fn models() -> &'static LocalModels {
    support::models::local()
}

fn require_tool(tool: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(found, "{tool} is needed: apt-get install {package}");
}

fn survey_spec(call_id: &str) -> CallSpec {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/survey.yaml");
    let script = dialogue::load_file(path.as_ref()).expect("survey script compiles");
    let m = models();
    CallSpec {
        call_id: call_id.into(),
        providers: m.providers(),
        detector: m.detector().expect("VAD"),
        vad: audio::vad::VadConfig {
            min_silence_ms: 200,
            ..Default::default()
        },
        turn: TurnConfig::default(),
        conversation: Box::new(ScriptConversation::new(
            Arc::new(script),
            &BTreeMap::new(),
            chrono::Utc::now(),
        )),
        live: None,
        metrics: Default::default(),
    }
}

/// Runs each accepted call through the real turn engine and reports it.
struct TurnEngine {
    reports: mpsc::Sender<CallReport>,
}

impl SipCallHandler for TurnEngine {
    fn handle(&self, call: SipCall) -> BoxFuture<'static, ()> {
        let reports = self.reports.clone();
        Box::pin(async move {
            let spec = survey_spec(&call.call_id);
            let report = run_call(spec, call.media, &CancellationToken::new()).await;
            let _ = reports.send(report).await;
        })
    }
}

fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

/// The caller's line: 7 s of silence (the greeting), the answer, then silence.
fn caller_wav(dir: &Path) -> PathBuf {
    let speech = dir.join("speech.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", "en-gb+f2", "-s", "150", "-w"])
        .arg(&speech)
        .arg("Yes, it was resolved.")
        .status()
        .expect("espeak-ng runs");
    assert!(status.success());
    let wav = dir.join("caller.wav");
    let status = Command::new("sox")
        .arg(&speech)
        .args(["-r", "8000", "-c", "1", "-b", "16"])
        .arg(&wav)
        .args(["pad", "7", "15"])
        .status()
        .expect("sox runs");
    assert!(status.success());
    wav
}

fn write_baresip_config(dir: &Path, sip_port: u16, wav: &Path, answer_mode: &str) {
    let config = format!(
        "sip_listen\t\t127.0.0.1:{sip_port}\nnet_interface\t\t127.0.0.1\n\
         audio_source\t\taufile,{wav}\naudio_player\t\talsa,null\naudio_alert\t\talsa,null\n\
         module_path\t\t/usr/lib/baresip/modules\nmodule\t\t\tg711.so\nmodule\t\t\taufile.so\n\
         module\t\t\talsa.so\nmodule\t\t\tsndfile.so\nmodule_app\t\taccount.so\n\
         module_app\t\tmenu.so\nsnd_path\t\t{dir}\n",
        wav = wav.display(),
        dir = dir.display()
    );
    std::fs::write(dir.join("config"), config).unwrap();
    let account = format!(
        "<sip:caller@127.0.0.1:{sip_port}>;regint=0;audio_codecs=PCMU;answermode={answer_mode}\n"
    );
    std::fs::write(dir.join("accounts"), account).unwrap();
}

fn transcribe(samples: &[i16], rate: SampleRate) -> String {
    let at_16k = audio::resample_all(samples, rate, SampleRate::HZ_16K).expect("resample");
    let pcm = audio::i16_to_f32(&at_16k);
    let t = models()
        .whisper
        .transcribe(&DecodeRequest::new(&pcm))
        .expect("decode");
    t.text.to_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_calls_in_and_the_agent_understands_and_answers() {
    let _turn = ONE_CALL_AT_A_TIME.lock().await;
    require_tool("baresip", "baresip-core");
    require_tool("espeak-ng", "espeak-ng");
    require_tool("sox", "sox");
    models();
    // Outlives baresip (declared before it): its config, the caller's WAV and its recording.
    let scratch = tmp("sip-baresip");
    let dir = scratch.path();
    let wav = caller_wav(dir);
    write_baresip_config(dir, free_udp_port(), &wav, "manual");

    let config: SipConfig = serde_json::from_value(serde_json::json!({
        "bind": "127.0.0.1:0",
        "routes": {"+15550100": {"tenant": "acme", "script": "survey.post_conversation"}},
        "allow_from": ["127.0.0.1"],
    }))
    .unwrap();
    let (tx, mut reports) = mpsc::channel(2);
    let cancel = CancellationToken::new();
    let endpoint = SipEndpoint::start(config, Arc::new(TurnEngine { reports: tx }), cancel.clone())
        .await
        .expect("endpoint starts");
    let target = format!("/dial sip:+15550100@{}", endpoint.local_addr());

    // baresip hangs up (and exits) after 20 s: greeting, answer, next question.
    let log = baresip_log(baresip(dir, &[&target], 20)).await;
    let report = timeout(GUARD, reports.recv())
        .await
        .unwrap_or_else(|_| panic!("no call reached the agent; baresip said:\n{log}"))
        .expect("a report");
    cancel.cancel();
    endpoint.stopped().await;

    let said = report
        .transcript
        .iter()
        .find(|l| l.speaker == Speaker::Caller)
        .unwrap_or_else(|| {
            panic!(
                "caller not heard: {:#?}\nbaresip:\n{log}",
                report.transcript
            )
        });
    let text = said.text.to_lowercase();
    assert!(
        text.contains("yes") || text.contains("resolved"),
        "heard {text:?}"
    );
    assert_eq!(
        report.answers.get("problem_solved"),
        Some(&serde_json::json!(true)),
        "{report:#?}"
    );

    assert_greeting_recorded(dir, &log);
}

/// What baresip heard (its decoded receive stream) is the agent's greeting.
fn assert_greeting_recorded(dir: &Path, log: &str) {
    let heard = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("dump-") && name.ends_with("-dec.wav")
        })
        .unwrap_or_else(|| panic!("baresip recorded nothing in {}\n{log}", dir.display()));
    let (samples, rate) = audio::read_wav_file(&heard).expect("baresip's recording reads");
    let first_6s = &samples[..samples.len().min(rate.samples_for_ms(6_500))];
    let heard_text = transcribe(first_6s, rate);
    let greeting_words = ["follow", "conversation", "issue", "resolved"];
    eprintln!("baresip heard {heard_text:?}");
    let hits = greeting_words
        .iter()
        .filter(|w| heard_text.contains(*w))
        .count();
    assert!(hits >= 2, "baresip heard {heard_text:?}");
}

fn baresip(dir: &Path, commands: &[&str], seconds: u32) -> tokio::process::Child {
    let mut cmd = tokio::process::Command::new("baresip");
    cmd.arg("-f").arg(dir);
    for c in commands {
        cmd.args(["-e", c]);
    }
    cmd.args(["-t", &seconds.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("baresip starts")
}

/// The two calls take turns: each is a real-time call with its own decoders, and run at once
/// on two cores with baresip twice they starve each other's receive path (the caller's "Yes,
/// it was resolved" heard as "it's wandering around…"), which is not what they test.
static ONE_CALL_AT_A_TIME: Mutex<()> = Mutex::const_new(());

async fn baresip_log(child: tokio::process::Child) -> String {
    let out = timeout(GUARD, child.wait_with_output())
        .await
        .expect("baresip exits")
        .expect("baresip ran");
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_dials_out_to_baresip_which_answers_and_hears_the_script() {
    let _turn = ONE_CALL_AT_A_TIME.lock().await;
    require_tool("baresip", "baresip-core");
    require_tool("espeak-ng", "espeak-ng");
    require_tool("sox", "sox");
    models();
    let scratch = tmp("sip-baresip-out");
    let dir = scratch.path();
    let wav = caller_wav(dir);
    let callee_port = free_udp_port();
    write_baresip_config(dir, callee_port, &wav, "auto");
    let callee = baresip(dir, &[], 25);

    let config: SipConfig = serde_json::from_value(serde_json::json!({
        "bind": "127.0.0.1:0",
        "trunk": {"host": format!("127.0.0.1:{callee_port}"), "caller_id": "+15550199"},
    }))
    .unwrap();
    let (tx, _reports) = mpsc::channel(1);
    let cancel = CancellationToken::new();
    let endpoint = SipEndpoint::start(config, Arc::new(TurnEngine { reports: tx }), cancel.clone())
        .await
        .expect("endpoint starts");
    let call = timeout(
        GUARD,
        endpoint.dial(OutboundCall {
            to: "caller".into(),
            caller_id: None,
            ring_timeout: Duration::from_secs(15),
            route: Route {
                tenant: "acme".into(),
                script: "survey.post_conversation".into(),
            },
        }),
    )
    .await
    .expect("dial finishes")
    .unwrap_or_else(|e| panic!("baresip did not answer: {e}"));

    // Run the script for 15 s (greeting, the callee's answer, the next question), hang up.
    let stop = CancellationToken::new();
    let stopper = stop.clone();
    let control = call.control.clone();
    let run =
        tokio::spawn(
            async move { run_call(survey_spec(&call.call_id), call.media, &stopper).await },
        );
    tokio::time::sleep(Duration::from_secs(15)).await;
    stop.cancel();
    let report = run.await.expect("call task");
    control.hangup().await;
    let log = baresip_log(callee).await;
    cancel.cancel();
    endpoint.stopped().await;

    eprintln!("outbound transcript: {:?}", report.transcript);
    let said = report
        .transcript
        .iter()
        .find(|l| l.speaker == Speaker::Caller)
        .unwrap_or_else(|| {
            panic!(
                "callee not heard: {:#?}\nbaresip:\n{log}",
                report.transcript
            )
        });
    let text = said.text.to_lowercase();
    assert!(
        text.contains("yes") || text.contains("resolved"),
        "heard {text:?}"
    );
    assert_greeting_recorded(dir, &log);
}
