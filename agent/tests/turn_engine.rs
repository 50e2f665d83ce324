//! Turn-taking behaviour of the whole call pipeline with fake providers on a paused clock:
//! barge-in, backchannels and coughs, provider faults, and teardown.

mod common;

use std::sync::Arc;

use common::*;
use switchboard::call::report::Speaker;
use switchboard::turn::TurnConfig;
use tokio::time::Duration;

const GREETING: &str = "Hello and thank you for calling the demo line, this is a rather long \
                        greeting so that the caller has time to talk over it.";

fn fakes(stt: &[&str], llm: LlmMode, voice: VoiceMode) -> Fakes {
    Fakes {
        stt: ScriptedStt::new(stt),
        llm: FakeLlm::new(llm),
        tts: Arc::new(ToneTts {
            mode: voice,
            chunk_delay: Duration::from_millis(5),
        }),
    }
}

fn agent_lines(
    result: &switchboard::transport::local_call::LocalCallResult,
) -> Vec<(String, bool)> {
    result
        .report
        .transcript
        .iter()
        .filter(|l| l.speaker == Speaker::Agent)
        .map(|l| (l.text.clone(), l.interrupted))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn barge_in_silences_the_agent_within_one_playout_chunk() {
    let f = fakes(
        &["wait, I have a question"],
        LlmMode::Reply("Sure, go ahead.".into()),
        VoiceMode::Good,
    );
    let caller = caller_audio(&[(1_500, 1_200)], 4_000);
    let result = run(
        spec(f, chat(GREETING), TurnConfig::default()),
        caller,
        3_000,
    )
    .await;

    let barge = result
        .report
        .barge_ins
        .first()
        .expect("a barge-in was recorded");
    assert!(!barge.resumed, "real words must take the floor: {barge:?}");
    let lines = agent_lines(&result);
    assert_eq!(
        lines[0],
        (GREETING.to_string(), true),
        "greeting cut off: {lines:?}"
    );
    assert!(
        lines.iter().any(|(t, _)| t == "Sure, go ahead."),
        "reply spoken: {lines:?}"
    );

    // After the pause, at most one 20 ms frame already in flight may still sound, and the
    // agent stays silent until the caller's turn has ended.
    let paused_at = barge.onset_ms + barge.reaction_ms;
    let spans = sound_spans(&result.agent_audio, 500);
    let caller_end = 2_700;
    for (start, end) in &spans {
        let overlaps = *end > paused_at + 20 && *start < caller_end;
        assert!(
            !overlaps,
            "agent audible at {start}..{end} ms after pausing at {paused_at} ms: {spans:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_voice_padding_is_not_heard_as_latency_or_a_turn_ending_pause() {
    let line = "Hi there. This is a quick follow-up about your recent conversation.";
    let f = fakes(&[], LlmMode::Reply("unused".into()), VoiceMode::Padded);
    let result = run(spec(f, chat(line), TurnConfig::default()), vec![], 8_000).await;

    let said = &result.report.transcript[0];
    assert_eq!((said.text.as_str(), said.interrupted), (line, false));
    let spans = sound_spans(&result.agent_audio, 500);
    assert_eq!(spans.len(), 2, "two sentences: {spans:?}");
    // The line was sent from `start_ms`; the voice's 300 ms lead is cut to 50 ms.
    let lead = spans[0].0.saturating_sub(said.start_ms);
    assert!(lead <= 70, "{lead} ms before the first sound: {spans:?}");
    // 400 ms after one sentence plus 300 before the next is cut to a 300 ms pause.
    let pause = spans[1].0 - spans[0].1;
    assert!((280..=320).contains(&pause), "{pause} ms between sentences");
    let decay = said.end_ms.saturating_sub(spans[1].1);
    assert!(
        decay <= 140,
        "line ends {decay} ms after its last sound: {spans:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_backchannel_pauses_then_resumes_the_same_sentence() {
    let f = fakes(&["mhm"], LlmMode::Reply("unused".into()), VoiceMode::Good);
    let caller = caller_audio(&[(1_500, 500)], 3_000);
    let result = run(
        spec(f, chat(GREETING), TurnConfig::default()),
        caller,
        8_000,
    )
    .await;

    let barge = result
        .report
        .barge_ins
        .first()
        .expect("the agent paused for the caller");
    assert!(
        barge.resumed,
        "a backchannel must not take the floor: {barge:?}"
    );
    let lines = agent_lines(&result);
    assert_eq!(
        lines[0],
        (GREETING.to_string(), false),
        "greeting completed: {lines:?}"
    );
    // Nothing of the greeting was lost: it played for its whole length.
    let spans = sound_spans(&result.agent_audio, 500);
    let heard: u64 = spans.iter().map(|(s, e)| e - s).sum();
    let expected = u64::from(TONE_MS_PER_CHAR) * GREETING.len() as u64;
    assert!(
        heard + 100 >= expected,
        "heard {heard} ms of {expected} ms: {spans:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_cough_shorter_than_the_barge_in_threshold_is_ignored() {
    let f = fakes(&[""], LlmMode::Reply("unused".into()), VoiceMode::Good);
    let caller = caller_audio(&[(1_500, 150)], 3_000);
    let result = run(
        spec(f, chat(GREETING), TurnConfig::default()),
        caller,
        8_000,
    )
    .await;
    assert!(
        result.report.barge_ins.is_empty(),
        "{:?}",
        result.report.barge_ins
    );
    assert_eq!(agent_lines(&result)[0], (GREETING.to_string(), false));
}

#[tokio::test(start_paused = true)]
async fn a_failing_llm_gets_a_fallback_line_and_then_a_polite_end() {
    let f = fakes(
        &["what are your hours", "hello?"],
        LlmMode::Fails,
        VoiceMode::Good,
    );
    let caller = caller_audio(&[(2_000, 1_000), (8_000, 1_000)], 12_000);
    let turn = TurnConfig::default();
    let fallback = turn.llm_fallback_line.clone();
    let result = run(spec(f, chat("Hi."), turn), caller, 10_000).await;

    let lines = agent_lines(&result);
    let fallbacks = lines.iter().filter(|(t, _)| *t == fallback).count();
    assert_eq!(fallbacks, 2, "one fallback per failed reply: {lines:?}");
    let outcome = result.report.outcome.expect("outcome recorded");
    assert_eq!(
        (outcome.disposition.as_str(), outcome.reason.as_str()),
        ("failed", "llm_unavailable")
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_llm_gets_a_filler_then_is_cut_off_at_its_deadline() {
    let f = fakes(&["what are your hours"], LlmMode::Hangs, VoiceMode::Good);
    let caller = caller_audio(&[(1_000, 1_000)], 3_000);
    let turn = TurnConfig {
        llm_timeout: Duration::from_secs(5),
        ..TurnConfig::default()
    };
    let (filler, fallback) = (turn.filler_line.clone(), turn.llm_fallback_line.clone());
    let result = run(spec(f, chat("Hi."), turn), caller, 15_000).await;

    let lines: Vec<String> = agent_lines(&result).into_iter().map(|l| l.0).collect();
    let filler_at = lines
        .iter()
        .position(|t| *t == filler)
        .expect("filler spoken");
    let fallback_at = lines
        .iter()
        .position(|t| *t == fallback)
        .expect("fallback spoken");
    assert!(filler_at < fallback_at, "{lines:?}");
}

#[tokio::test(start_paused = true)]
async fn a_reply_cut_mid_stream_keeps_what_was_said_and_apologises() {
    let f = fakes(
        &["what are your hours"],
        LlmMode::BreaksAfter("We open at nine. And we close".into()),
        VoiceMode::Good,
    );
    let caller = caller_audio(&[(1_000, 1_000)], 3_000);
    let turn = TurnConfig::default();
    let fallback = turn.llm_fallback_line.clone();
    let result = run(spec(f, chat("Hi."), turn), caller, 8_000).await;
    let lines: Vec<String> = agent_lines(&result).into_iter().map(|l| l.0).collect();
    let said = lines
        .iter()
        .position(|t| t == "We open at nine.")
        .expect("complete sentence spoken");
    let sorry = lines
        .iter()
        .position(|t| *t == fallback)
        .expect("fallback spoken");
    assert!(said < sorry, "{lines:?}");
    assert!(
        !lines.iter().any(|t| t.contains("we close")),
        "half sentence never spoken: {lines:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_voice_does_not_stall_the_call() {
    let f = fakes(&[], LlmMode::Reply("unused".into()), VoiceMode::Fails);
    let result = run(
        spec(f, chat("Hi."), TurnConfig::default()),
        Vec::new(),
        2_000,
    )
    .await;
    let outcome = result.report.outcome.expect("outcome recorded");
    assert_eq!(outcome.reason, "caller_hung_up");
    assert!(sound_spans(&result.agent_audio, 500).is_empty());
}

#[tokio::test(start_paused = true)]
async fn one_call_failing_leaves_a_concurrent_call_untouched() {
    let bad = fakes(&["hours?"], LlmMode::Fails, VoiceMode::Good);
    let good = fakes(
        &["hours?"],
        LlmMode::Reply("Nine to five.".into()),
        VoiceMode::Good,
    );
    let caller = caller_audio(&[(1_000, 800)], 3_000);
    let (bad, good) = tokio::join!(
        run(
            spec(bad, chat("Hi."), TurnConfig::default()),
            caller.clone(),
            4_000
        ),
        run(
            spec(good, chat("Hi."), TurnConfig::default()),
            caller,
            4_000
        ),
    );
    assert!(agent_lines(&bad).iter().any(|(t, _)| t.contains("trouble")));
    assert!(agent_lines(&good).iter().any(|(t, _)| t == "Nine to five."));
}

#[tokio::test(start_paused = true)]
async fn silence_from_the_caller_re_prompts_then_ends_the_call() {
    let f = fakes(&[], LlmMode::Reply("unused".into()), VoiceMode::Good);
    let result = run(
        spec(f, chat("Hi."), TurnConfig::default()),
        Vec::new(),
        60_000,
    )
    .await;
    let lines: Vec<String> = agent_lines(&result).into_iter().map(|l| l.0).collect();
    assert_eq!(lines.len(), 3, "greeting, still there, goodbye: {lines:?}");
    assert_eq!(result.report.outcome.unwrap().reason, "caller_silent");
}

#[tokio::test(start_paused = true)]
async fn max_duration_ends_the_call() {
    let f = fakes(&[], LlmMode::Reply("unused".into()), VoiceMode::Good);
    let turn = TurnConfig {
        max_duration: Duration::from_secs(5),
        ..TurnConfig::default()
    };
    let result = run(spec(f, chat("Hi."), turn), Vec::new(), 60_000).await;
    assert_eq!(result.report.outcome.unwrap().reason, "max_duration");
    assert!(result.report.duration_ms < 30_000);
}

/// Resident memory of this process in bytes.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("procfs");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("rss field");
    pages * 4096
}

#[tokio::test(start_paused = true)]
async fn a_hundred_calls_in_sequence_leave_no_tasks_and_flat_memory() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();
    let mut rss_at_20 = 0;
    for i in 0..100 {
        let f = fakes(
            &["hello"],
            LlmMode::Reply("Hi there.".into()),
            VoiceMode::Good,
        );
        let caller = caller_audio(&[(500, 400)], 1_500);
        let result = run(spec(f, chat("Hi."), TurnConfig::default()), caller, 1_500).await;
        assert!(result.report.outcome.is_some());
        if i == 19 {
            rss_at_20 = rss_bytes();
        }
    }
    tokio::task::yield_now().await;
    assert_eq!(metrics.num_alive_tasks(), tasks_before, "tasks left behind");
    let growth = rss_bytes().saturating_sub(rss_at_20);
    assert!(growth < 4 << 20, "memory grew {growth} bytes over 80 calls");
}
