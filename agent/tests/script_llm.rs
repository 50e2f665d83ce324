//! A script's LLM steps run by the turn engine: an ask node's fallback classification is
//! asked of the LLM silently (the caller never hears "yes") and fills the slot; an llm node's
//! spoken reply ends the node when the model calls `set_verdict`.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use switchboard::call::report::Speaker;
use switchboard::conversation::script::ScriptConversation;
use switchboard::llm::ChatMessage;
use switchboard::turn::TurnConfig;
use tokio::time::Duration;

fn system_prompt(messages: &[ChatMessage]) -> String {
    match messages.first() {
        Some(ChatMessage::System { content }) => content.clone(),
        other => panic!("no system message first: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn classification_is_silent_and_a_verdict_ends_the_llm_node() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/llm_verdicts.yaml"
    );
    let script = Arc::new(dialogue::load_file(path.as_ref()).expect("fixture compiles"));
    let conversation = Box::new(ScriptConversation::new(
        script,
        &BTreeMap::new(),
        chrono::Utc::now(),
    ));
    let llm = FakeLlm::new(LlmMode::Replies(vec![
        ("Yes".into(), None),
        (
            "Sorry about the parking, we will look into it.".into(),
            Some("done".into()),
        ),
    ]));
    let fakes = Fakes {
        stt: ScriptedStt::new(&["my cousin would like it there", "the parking is terrible"]),
        llm: llm.clone(),
        tts: Arc::new(ToneTts {
            mode: VoiceMode::Good,
            chunk_delay: Duration::ZERO,
        }),
    };
    let caller = caller_audio(&[(3_000, 1_200), (9_000, 1_200)], 20_000);
    let result = run(
        spec(fakes, conversation, TurnConfig::default()),
        caller,
        20_000,
    )
    .await;

    let agent: Vec<String> = result
        .report
        .transcript
        .iter()
        .filter(|l| l.speaker == Speaker::Agent)
        .map(|l| l.text.clone())
        .collect();
    assert_eq!(
        agent,
        [
            "Would you recommend us to a friend?",
            "What could we do better?",
            "Sorry about the parking, we will look into it.",
            "Thanks for your feedback, goodbye.",
        ],
        "the classification must not be spoken and the verdict must end the llm node"
    );
    assert_eq!(
        result.report.answers.get("recommend"),
        Some(&serde_json::json!(true))
    );
    assert_eq!(
        result.report.outcome.expect("outcome").disposition,
        "reached"
    );

    let requests = llm.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests[0].tools.is_empty(),
        "a classification offers no tool"
    );
    let classify = system_prompt(&requests[0].messages);
    assert!(
        classify.contains("exactly one of these words"),
        "{classify}"
    );
    assert!(classify.contains("yes, no"), "{classify}");
    assert_eq!(requests[1].tools.len(), 1);
    assert_eq!(requests[1].tools[0].name, "set_verdict");
}
