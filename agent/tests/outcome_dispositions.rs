//! Dispositions end to end through the local transport: an outbound call with the answer gate
//! on, a shipped sales script, fake STT/TTS on a paused clock, and `outcome::assess` on the
//! report the call leaves behind.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use futures::future::BoxFuture;
use switchboard::call::report::{CallReport, Speaker, TranscriptLine};
use switchboard::call::session::{run_call_with_signals, CallSignals};
use switchboard::conversation::script::ScriptConversation;
use switchboard::outcome::{
    assess, AnswerClass, AssessContext, DialResult, Disposition, EndReason,
};
use switchboard::provider::ProviderError;
use switchboard::stt::{SttProvider, SttRequest, SttResult};
use switchboard::transport::local_call::{connect_local, Caller};
use switchboard::turn::answer_gate::GateConfig;
use switchboard::turn::TurnConfig;
use tokio::sync::mpsc;
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

fn sales_call(stt: &[&str]) -> switchboard::call::session::CallSpec {
    sales_call_with(stt, FakeLlm::new(LlmMode::Fails), None)
}

/// The sales call with this LLM, answering screening assistants with `screening_reply`.
fn sales_call_with(
    stt: &[&str],
    llm: Arc<FakeLlm>,
    screening_reply: Option<&str>,
) -> switchboard::call::session::CallSpec {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/sales_gym_cold.yaml"
    );
    let script =
        Arc::new(dialogue::load_file(std::path::Path::new(path)).expect("script compiles"));
    let vars = BTreeMap::from([
        ("first_name".to_string(), serde_json::json!("Sam")),
        ("business_name".to_string(), serde_json::json!("Summit Gym")),
        ("estimated_participants".to_string(), serde_json::json!(400)),
    ]);
    let ivr = script.ivr.clone();
    let conversation = Box::new(ScriptConversation::new(script, &vars, chrono::Utc::now()));
    let fakes = Fakes {
        stt: ScriptedStt::new(stt),
        llm,
        tts: Arc::new(ToneTts {
            mode: VoiceMode::Good,
            chunk_delay: Duration::from_millis(5),
        }),
    };
    let turn = TurnConfig {
        answer_gate: Some(GateConfig {
            ivr,
            screening_reply: screening_reply.map(String::from),
            ..GateConfig::default()
        }),
        ..TurnConfig::default()
    };
    spec(fakes, conversation, turn)
}

fn assessed(report: &CallReport) -> switchboard::outcome::CallAssessment {
    let ctx = AssessContext {
        dial: Some(DialResult::Answered),
        ..AssessContext::default()
    };
    assess(report, &ctx)
}

/// The call ended as a voicemail with its message left.
fn assert_voicemail_left(report: &CallReport) {
    let a = assessed(report);
    assert_eq!(
        a.answer,
        Some(AnswerClass::Voicemail),
        "{:?}",
        report.records
    );
    assert_eq!(
        (a.disposition, a.end_reason),
        (Disposition::Voicemail, EndReason::VoicemailLeft),
        "{report:?}"
    );
}

/// A call first taken for a person, then a voicemail after all: the opening the agent started
/// and the voicemail message it left instead, after it.
fn opening_then_message(report: &CallReport) -> (&TranscriptLine, &TranscriptLine) {
    assert_voicemail_left(report);
    let record = &report.records[0].detail;
    assert_eq!(record["first_verdict"]["class"], "human", "{record}");
    let agent: Vec<_> = report
        .transcript
        .iter()
        .filter(|l| l.speaker == Speaker::Agent)
        .collect();
    let opening = agent.first().expect("the opening started");
    assert!(opening.text.starts_with("Hello, is this Sam?"), "{agent:?}");
    let message = agent
        .iter()
        .find(|l| l.text.contains("I'll send you a short text"))
        .unwrap_or_else(|| panic!("no voicemail message: {agent:?}"));
    assert!(opening.end_ms <= message.start_ms, "{agent:?}");
    (opening, message)
}

#[tokio::test(start_paused = true)]
async fn voicemail_gets_its_message_after_the_greeting_and_disposition_voicemail() {
    let greeting = "Hi, you've reached Sam, please leave a message after the tone";
    let caller = caller_audio(&[(300, 3_800)], 12_000);
    let result = run(sales_call(&[greeting; 6]), caller, 40_000).await;
    let report = &result.report;

    let first_agent = report
        .transcript
        .iter()
        .find(|l| l.speaker == Speaker::Agent)
        .expect("the voicemail message was left");
    assert!(
        first_agent.text.contains("Daily Event Insurance"),
        "{first_agent:?}"
    );
    assert!(
        first_agent.start_ms >= 4_100,
        "the agent talked over the greeting: {first_agent:?}"
    );
    assert_voicemail_left(report);
}

#[tokio::test(start_paused = true)]
async fn the_voicemail_message_starts_right_after_the_beep() {
    // Greeting, a short pause, then a 1 kHz beep from 4.4 s to 4.9 s: the message follows the
    // beep at once (not after the 1.5 s of silence that ends a greeting without one).
    let greeting = "Hi, you've reached Sam, please leave a message after the tone";
    let mut caller = caller_audio(&[(300, 3_800)], 12_000);
    let beep = audio::synth::sine(1_000.0, 0.4, 500, RATE);
    let at = RATE.samples_for_ms(4_400);
    caller[at..at + beep.len()].copy_from_slice(&beep);
    let result = run(sales_call(&[greeting; 6]), caller, 40_000).await;
    let report = &result.report;
    let first_agent = report
        .transcript
        .iter()
        .find(|l| l.speaker == Speaker::Agent)
        .expect("the voicemail message was left");
    assert!(
        (4_900..5_400).contains(&first_agent.start_ms),
        "the message should start right after the beep: {first_agent:?}"
    );
    assert_eq!(assessed(report).disposition, Disposition::Voicemail);
}

#[tokio::test(start_paused = true)]
async fn the_llm_settles_a_greeting_whose_words_name_no_class() {
    // A 3 s greeting whose words the phrase model cannot place; the LLM calls it a screener,
    // so the agent gives the screening reply instead of leaving a voicemail.
    let greeting = "Hi, it's Jordan's phone helper, tell me what you need";
    let reply = "This is Alex from Daily Event Insurance, calling about event cover.";
    let llm = FakeLlm::new(LlmMode::Reply("screening".into()));
    let spec = sales_call_with(&[greeting; 6], llm.clone(), Some(reply));
    let result = run(spec, caller_audio(&[(300, 3_000)], 20_000), 20_000).await;
    let report = &result.report;
    let first_agent = report
        .transcript
        .iter()
        .find(|l| l.speaker == Speaker::Agent)
        .expect("the agent spoke");
    assert_eq!(first_agent.text, reply, "{report:#?}");
    let asked = llm.requests.lock().unwrap();
    let heard = asked.iter().any(|r| {
        r.messages.iter().any(|m| {
            matches!(m, switchboard::llm::ChatMessage::User { content } if content.contains("phone helper"))
        })
    });
    assert!(heard, "the LLM was asked about the greeting: {asked:#?}");
    let answer = report
        .records
        .iter()
        .find(|r| r.kind == switchboard::outcome::ANSWER_RECORD)
        .expect("answer record");
    assert_eq!(answer.detail["class"], "screening", "{answer:?}");
    assert!(
        answer.detail["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("llm verdict")),
        "{answer:?}"
    );
}

/// Whisper on a voicemail greeting: a running partial holds the words of the audio so far
/// (one per 300 ms); a finished turn, all of them. Counts the partials asked for.
struct GreetingStt {
    partials: Arc<std::sync::atomic::AtomicUsize>,
}

const GREETING: &str = "Hi you've reached Sam at Summit Gym I can't take your call right now so \
                        please leave your name and number after the tone";

impl SttProvider for GreetingStt {
    fn name(&self) -> &'static str {
        "greeting"
    }
    fn transcribe(
        &self,
        request: SttRequest,
    ) -> BoxFuture<'static, Result<SttResult, ProviderError>> {
        let words = if request.quick {
            self.partials
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            request.audio_16k.len() / 4_800
        } else {
            usize::MAX
        };
        let text: Vec<&str> = GREETING.split_whitespace().take(words).collect();
        let text = text.join(" ");
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(SttResult {
                text,
                confidence: 0.9,
            })
        })
    }
}

#[tokio::test(start_paused = true)]
async fn running_partials_of_a_greeting_find_the_machine_before_the_greeting_ends() {
    let partials = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut spec = sales_call(&[]);
    spec.providers.stt = Arc::new(GreetingStt {
        partials: partials.clone(),
    });
    // Six seconds of greeting from 0.3 s.
    let result = run(spec, caller_audio(&[(300, 6_000)], 14_000), 40_000).await;
    let report = &result.report;
    let verdict = report
        .records
        .iter()
        .find(|r| r.kind == switchboard::outcome::ANSWER_RECORD)
        .map(|r| r.detail.clone())
        .expect("an answer verdict");
    assert_eq!(verdict["class"], "voicemail", "{verdict}");
    assert!(
        verdict["reason"]
            .as_str()
            .is_some_and(|r| r.contains("transcript cue")),
        "{verdict}"
    );
    // "…I can't take your call" settles it from the partials (the one that first reads it and
    // the next that keeps it) while the greeting still plays, well before it ends at 6.3 s
    // ("you've reached" alone does not: phone menus say it too).
    let at = verdict["at_ms"].as_u64().expect("verdict time");
    assert!(at < 5_000, "verdict at {at} ms: {verdict}");
    assert!(
        partials.load(std::sync::atomic::Ordering::SeqCst) >= 3,
        "the greeting was not transcribed as it went"
    );
}

/// Transcribes by length: a long utterance is the machine (the gym's phone menu, a privacy
/// manager), a short one the person at the front desk. Running partials of a greeting hear no
/// words yet (the turns decide).
struct MachineThenPerson(&'static str);

impl SttProvider for MachineThenPerson {
    fn name(&self) -> &'static str {
        "machine-then-person"
    }
    fn transcribe(
        &self,
        request: SttRequest,
    ) -> BoxFuture<'static, Result<SttResult, ProviderError>> {
        let text = if request.quick {
            ""
        } else if request.audio_16k.len() > 24_000 {
            self.0
        } else {
            "Hello, front desk."
        };
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            Ok(SttResult {
                text: text.into(),
                confidence: 0.9,
            })
        })
    }
}

/// Runs the sales call against a machine whose words are `machine` (three sentences with
/// pauses between them), then a person at 9 s; the keys the agent pressed and the report.
async fn machine_then_person(machine: &'static str) -> (Vec<String>, CallReport) {
    let mut spec = sales_call(&[]);
    spec.providers.stt = Arc::new(MachineThenPerson(machine));
    let caller = caller_audio(
        &[(300, 1_800), (2_500, 1_800), (4_700, 1_500), (9_000, 700)],
        30_000,
    );
    let token = CancellationToken::new();
    let (media, session) = connect_local(
        Caller::Audio(caller),
        RATE,
        Some(Duration::from_millis(30_000)),
        &token,
    );
    let (keys_tx, mut keys_rx) = mpsc::channel(4);
    let signals = CallSignals {
        dtmf_out: Some(keys_tx),
        ..CallSignals::default()
    };
    let report = run_call_with_signals(spec, media, signals, &session.cancel).await;
    let report = session.finish(report).await.report;
    let mut keys = Vec::new();
    while let Ok(k) = keys_rx.try_recv() {
        keys.push(k);
    }
    (keys, report)
}

/// The person heard the opening, after they spoke.
fn assert_person_heard_the_opening(report: &CallReport) {
    let opening = report
        .transcript
        .iter()
        .find(|l| l.speaker == Speaker::Agent)
        .unwrap_or_else(|| panic!("the person heard no opening: {report:#?}"));
    assert!(
        opening.text.starts_with("Hello, is this Sam?"),
        "{opening:?}"
    );
    assert!(
        opening.start_ms > 9_700,
        "spoke before the person: {opening:?}"
    );
    assert_eq!(assessed(report).answer, Some(AnswerClass::Human));
}

#[tokio::test(start_paused = true)]
async fn a_phone_menu_is_navigated_by_keys_to_a_person_who_hears_the_opening() {
    let menu =
        "Thank you for calling Summit Gym. For class times press 1. For the front desk press 0.";
    let (keys, report) = machine_then_person(menu).await;
    // One key: the menu finishing its prompt is not a new menu.
    assert_eq!(keys, ["0"], "{:?}", report.records);
    assert_person_heard_the_opening(&report);
}

#[tokio::test(start_paused = true)]
async fn a_privacy_manager_gets_the_key_it_asks_for_and_the_person_hears_the_opening() {
    let privacy = "Calls from unlisted numbers are not accepted. To be connected, press five.";
    let (keys, report) = machine_then_person(privacy).await;
    assert_eq!(keys, ["5"], "{:?}", report.records);
    assert_person_heard_the_opening(&report);
}

/// The opening line for Sam at Summit Gym, as the script renders it.
const OPENING: &str = "Hello, is this Sam? This is Alex calling from Daily Event Insurance. I \
                       noticed you recently looked at liability coverage for Summit Gym. I wanted \
                       to personally reach out because gyms like yours can actually generate \
                       additional revenue by offering same-day insurance to members. Do you have \
                       two minutes to hear how this works?";

/// Call ms at which a line of `chars` characters started at `start_ms` has finished playing
/// with the tone voice, plus a margin.
fn after(start_ms: u32, chars: usize) -> u32 {
    start_ms + TONE_MS_PER_CHAR * chars as u32 + 1_500
}

/// A person says "Hello?" at 0.5 s, hears the opening, then says `reply` (1 s of sound) and,
/// when `then` is given, that too once the agent's `gap_chars`-long answer has played.
async fn person(replies: &[&str], then_after_chars: Option<usize>) -> CallReport {
    let opening_end = after(1_800, OPENING.len());
    let mut spans = vec![(500, 500), (opening_end, 1_000)];
    if let Some(chars) = then_after_chars {
        spans.push((after(opening_end + 1_800, chars), 1_000));
    }
    let end = spans.last().map_or(0, |s| s.0 + s.1) + 20_000;
    let mut stt = vec!["Hello?"];
    stt.extend_from_slice(replies);
    let result = run(sales_call(&stt), caller_audio(&spans, end), u64::from(end)).await;
    result.report
}

fn agent_said(report: &CallReport, needle: &str) -> bool {
    report
        .transcript
        .iter()
        .any(|l| l.speaker == Speaker::Agent && l.text.contains(needle))
}

#[tokio::test(start_paused = true)]
async fn a_person_who_says_hello_hears_the_opening_and_is_reached() {
    let report = person(&["Sure, go ahead."], None).await;
    let opening = report
        .transcript
        .iter()
        .find(|l| l.speaker == Speaker::Agent)
        .expect("the opening was spoken");
    assert!(
        opening.text.starts_with("Hello, is this Sam?"),
        "{opening:?}"
    );
    assert!(
        opening.start_ms >= 1_000,
        "spoke before the verdict: {opening:?}"
    );
    assert!(
        agent_said(&report, "members a month"),
        "the pitch followed: {report:#?}"
    );
    let a = assessed(&report);
    assert_eq!(a.answer, Some(AnswerClass::Human));
    assert_eq!(
        (a.disposition, a.end_reason),
        // After "go ahead" the caller stays silent through the pitch and its reprompts, so
        // the script's silence handler ends the call.
        (Disposition::Reached, EndReason::Silence),
        "{report:#?}"
    );
}

#[tokio::test(start_paused = true)]
async fn not_interested_twice_is_not_interested() {
    let objection = "I understand. Many gym owners said the same until they saw it was pure \
                     extra revenue with no work. Can I take thirty seconds to show you the numbers?";
    let report = person(
        &["I'm not interested.", "No, I said I'm not interested."],
        Some(objection.len() + 60),
    )
    .await;
    let a = assessed(&report);
    assert_eq!(a.disposition, Disposition::NotInterested, "{report:#?}");
    assert_eq!(a.end_reason, EndReason::AgentEnded);
    assert!(a.sentiment.score < 0.0, "{a:?}");
    assert!(a.interest_score <= 15, "{a:?}");
}

#[tokio::test(start_paused = true)]
async fn do_not_call_is_honoured_even_when_said_crossly() {
    let report = person(
        &["Stop calling me. Take me off your list and don't call me again."],
        None,
    )
    .await;
    assert!(agent_said(&report, "don't call you again"), "{report:#?}");
    let a = assessed(&report);
    assert_eq!(
        (a.disposition, a.end_reason),
        (Disposition::Dnc, EndReason::AgentEnded)
    );
    assert_eq!(
        report.answers.get("do_not_call"),
        Some(&serde_json::json!(true))
    );
}

#[tokio::test(start_paused = true)]
async fn a_callback_request_keeps_its_time() {
    let report = person(
        &["I'm with a client, can you call me back tomorrow afternoon?"],
        None,
    )
    .await;
    let a = assessed(&report);
    assert_eq!(a.disposition, Disposition::CallbackRequested, "{report:#?}");
    let at = a.callback_at.expect("the requested time");
    assert!(at > chrono::Utc::now(), "{at}");
    assert!(
        a.summary.starts_with("Callback requested."),
        "{}",
        a.summary
    );
}

#[tokio::test(start_paused = true)]
async fn a_beep_after_a_person_verdict_stops_the_opening_and_leaves_the_message() {
    // "Mm, it's Liam." and a pause: a person's "Hello?" by its cadence, so the opening starts.
    // Then "Leave one." and a beep: a voicemail after all.
    let mut caller = caller_audio(&[(300, 700), (2_800, 800)], 14_000);
    let beep = audio::synth::sine(1_000.0, 0.4, 500, RATE);
    let at = RATE.samples_for_ms(4_000);
    caller[at..at + beep.len()].copy_from_slice(&beep);
    let result = run(
        sales_call(&["Mm, it's Liam.", "Leave one."]),
        caller,
        40_000,
    )
    .await;
    let (opening, message) = opening_then_message(&result.report);
    assert!(opening.start_ms < 2_800, "{opening:?}");
    assert!(
        opening.end_ms <= 4_600,
        "the opening went on after the beep: {opening:?}"
    );
    assert!(
        (4_500..5_200).contains(&message.start_ms),
        "the message should follow the beep: {message:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_beep_long_after_a_person_verdict_changes_nothing() {
    // The person's "Hello?", the opening, then a tone from their side well after the watch.
    let mut caller = caller_audio(&[(500, 500)], 30_000);
    let watch = GateConfig::default().late_voicemail_ms as u32;
    let beep = audio::synth::sine(1_000.0, 0.4, 500, RATE);
    let at = RATE.samples_for_ms(2_000 + watch + 1_000);
    caller[at..at + beep.len()].copy_from_slice(&beep);
    let result = run(sales_call(&["Hello?"]), caller, 30_000).await;
    let report = &result.report;
    assert!(
        !agent_said(report, "I'll send you a short text"),
        "{report:?}"
    );
    assert_eq!(assessed(report).answer, Some(AnswerClass::Human));
}

/// The call turned to the voicemail path on a voicemail's words after a person verdict.
fn assert_found_by_voicemail_words(report: &CallReport) {
    let reason = &report.records[0].detail["reason"];
    assert!(
        reason.as_str().unwrap().starts_with("voicemail words"),
        "{reason}"
    );
}

/// The call stayed a person's: no voicemail message.
fn assert_still_a_person(report: &CallReport) {
    assert!(
        !agent_said(report, "I'll send you a short text"),
        "{report:?}"
    );
    assert_eq!(assessed(report).answer, Some(AnswerClass::Human));
}

#[tokio::test(start_paused = true)]
async fn voicemail_words_right_after_a_person_verdict_stop_the_opening_and_wait_for_the_greeting() {
    // "Hi, it's Liam." and a pause (a person by its cadence), then at once "Leave a message
    // after the tone." without a beep: the agent stops, and its message follows the greeting,
    // however long the greeting goes on (here past the 10 s beep watch too).
    for went_on_ms in [1_500u32, 12_000] {
        let end = u64::from(2_300 + went_on_ms);
        let caller = caller_audio(
            &[(300, 700), (2_300, went_on_ms)],
            2_300 + went_on_ms + 12_000,
        );
        let stt = ["Hi, it's Liam.", "Leave a message after the tone."];
        let result = run(sales_call(&stt), caller, 60_000).await;
        let (_, message) = opening_then_message(&result.report);
        let silence_ms = GateConfig::default().voicemail_silence_ms;
        assert!(
            message.start_ms >= end - 100 + silence_ms
                && message.start_ms < end + silence_ms + 1_500,
            "{went_on_ms}: the message should follow the end of the greeting: {message:?}"
        );
        assert_found_by_voicemail_words(&result.report);
    }
}

/// "Hello?" at 0.3 s (a person's by its cadence: the opening starts), "Hello?" again at 2.2 s,
/// then `words` (`ms` long) from `at_ms`.
async fn hello_twice_then(at_ms: u32, ms: u32, words: &str) -> CallReport {
    let caller = caller_audio(&[(300, 600), (2_200, 600), (at_ms, ms)], 25_000);
    let stt = ["Hello?", "Hello?", words];
    run(sales_call(&stt), caller, 60_000).await.report
}

#[tokio::test(start_paused = true)]
async fn a_voicemail_that_says_hello_twice_before_its_words_gets_the_message_after_them() {
    // "Hello? … Hello? … Ha, gotcha, this is my voicemail. Leave a message.": the second
    // "Hello?" goes on at once, and so do the voicemail's words after it; the agent stops and
    // leaves its message after them.
    let words = "Ha, gotcha, this is my voicemail. Leave a message.";
    let report = hello_twice_then(3_900, 3_000, words).await;
    let (_, message) = opening_then_message(&report);
    assert!(message.start_ms >= 6_900, "{message:?}");
    assert_found_by_voicemail_words(&report);
}

#[tokio::test(start_paused = true)]
async fn a_person_who_says_hello_twice_and_then_mentions_a_message_is_still_a_person() {
    // The same kind of words from someone who waited for the agent after their second "Hello?".
    let words = "Sorry, she's out, you can leave a message with me.";
    let report = hello_twice_then(6_000, 2_000, words).await;
    assert_still_a_person(&report);
}

#[tokio::test(start_paused = true)]
async fn a_person_who_mentions_a_message_after_hearing_the_opening_is_still_a_person() {
    let report = person(
        &["Sorry, she's not here, you can leave a message with me."],
        None,
    )
    .await;
    assert_still_a_person(&report);
}

#[tokio::test(start_paused = true)]
async fn a_screener_that_opens_like_a_person_gets_its_answer_and_the_person_hears_the_opening() {
    // "Hello?" and a pause (a person by its cadence), so the opening starts; then at once the
    // screener's request. The agent stops, gives its name and reason, and the person it puts
    // through hears the opening from the start.
    let reply = "This is Alex from Daily Event Insurance, calling for Sam.";
    let stt = [
        "Hello?",
        "The subscriber you've called is screening their calls. To continue, please say your name.",
        "Hello?",
    ];
    let caller = caller_audio(&[(300, 600), (2_300, 3_000), (11_000, 600)], 45_000);
    let spec = sales_call_with(&stt, FakeLlm::new(LlmMode::Fails), Some(reply));
    let report = run(spec, caller, 45_000).await.report;
    let agent: Vec<_> = report
        .transcript
        .iter()
        .filter(|l| l.speaker == Speaker::Agent)
        .collect();
    let [first, answer, again, ..] = agent[..] else {
        panic!("opening, reply, opening again: {agent:#?}");
    };
    assert!(first.text.starts_with("Hello, is this Sam?"), "{agent:#?}");
    assert!(first.start_ms < 2_300 && first.end_ms < 6_500, "{first:?}");
    assert_eq!(answer.text, reply);
    assert!(answer.start_ms > 5_300, "{answer:?}");
    assert!(again.text.starts_with("Hello, is this Sam?"), "{agent:#?}");
    assert!(
        again.start_ms > 11_600,
        "before the person spoke: {again:?}"
    );
    let record = &report.records[0].detail;
    assert_eq!(record["class"], "human", "{record}");
    let reason = record["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("a person after screening"), "{record}");
    assert_eq!(record["first_verdict"]["class"], "human", "{record}");
    assert_eq!(assessed(&report).disposition, Disposition::Reached);
}
