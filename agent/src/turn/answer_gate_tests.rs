use std::sync::Arc;

use super::*;

fn gate(reply: Option<&str>) -> AnswerGate {
    AnswerGate::new(GateConfig {
        screening_reply: reply.map(String::from),
        ..GateConfig::default()
    })
}

fn utterance(gate: &mut AnswerGate, from: u64, to: u64, audio: Vec<i16>) {
    gate.on_ingest(&IngestEvent::SpeechStarted { onset_ms: from }, from);
    let audio: Arc<[i16]> = audio.into();
    let ev = IngestEvent::TurnEnded {
        segment: 1,
        onset_ms: from,
        last_voice_ms: to,
        audio,
    };
    gate.on_ingest(&ev, to + 100);
}

fn run_until(gate: &mut AnswerGate, from: u64, to: u64) -> (u64, GateAction) {
    (from..=to)
        .step_by(20)
        .map(|t| (t, gate.poll(t)))
        .find(|(_, a)| *a != GateAction::Wait)
        .unwrap_or((to, GateAction::Wait))
}

#[test]
fn the_message_waits_for_the_end_of_a_voicemail_greeting() {
    let mut g = gate(None);
    utterance(&mut g, 300, 2_000, vec![0; 100]);
    g.on_transcript(
        "Hi, you've reached Sam, please leave a message",
        2_200,
        2_200,
    );
    g.on_ingest(&IngestEvent::SpeechStarted { onset_ms: 2_300 }, 2_300);
    // Classified at once, but the greeting goes on: nothing yet.
    assert_eq!(run_until(&mut g, 2_200, 4_000).1, GateAction::Wait);
    let beep = IngestEvent::ToneDetected {
        onset_ms: 4_000,
        offset_ms: 4_500,
        frequency_hz: 1_000.0,
    };
    g.on_ingest(&beep, 4_600);
    let (at, action) = run_until(&mut g, 4_600, 8_000);
    assert_eq!(at, 4_600, "{action:?}");
    assert!(
        matches!(action, GateAction::LeaveVoicemail(ref v) if v.class == AnswerClass::Voicemail)
    );
}

#[test]
fn a_voicemail_greeting_that_ends_on_a_persons_question_was_a_person() {
    let mut g = gate(None);
    utterance(&mut g, 300, 1_500, vec![0; 100]);
    g.on_transcript("Leave a message after the beep.", 1_500, 1_600);
    g.on_transcript("Leave a message after the beep.", 1_600, 1_700);
    g.on_ingest(&IngestEvent::SpeechStarted { onset_ms: 2_000 }, 2_000);
    assert_eq!(run_until(&mut g, 1_700, 3_500).1, GateAction::Wait);
    let joke = "Leave a message after the beep. Ha, just kidding, it's me, what's up?";
    utterance(&mut g, 2_000, 3_500, vec![0; 100]);
    g.on_transcript(joke, 3_500, 3_900);
    let (at, action) = run_until(&mut g, 3_900, 8_000);
    assert_eq!(at, 3_500 + 1_500, "{action:?}");
    assert!(
        matches!(action, GateAction::Answered(ref v) if v.class == AnswerClass::Human
            && v.reason.starts_with("a person after all")),
        "{action:?}"
    );
    // A voicemail that pretends to be a person ends on its own business.
    let mut g = gate(None);
    utterance(&mut g, 300, 3_000, vec![0; 100]);
    let prank = "Hello? Hello? Ha, gotcha, I'm not actually here. Leave a message.";
    g.on_transcript(prank, 3_000, 3_100);
    let (_, action) = run_until(&mut g, 3_100, 8_000);
    assert!(
        matches!(action, GateAction::LeaveVoicemail(_)),
        "{action:?}"
    );
}

#[test]
fn a_voicemail_greeting_that_offers_choices_by_key_was_a_menu() {
    // A dental office's menu opens like a voicemail: taken for one on "can't come to the phone".
    let opening = "Hi, you've reached Kessler Dental. We can't come to the phone right now.";
    let menu = format!(
        "{opening} If you'd like to book an appointment, press one. For billing questions, \
         press two. To leave a message for the front desk, press three."
    );
    let mut g = menu_gate();
    utterance(&mut g, 300, 3_000, vec![0; 100]);
    g.on_transcript(opening, 3_000, 3_100);
    g.on_ingest(&IngestEvent::SpeechStarted { onset_ms: 3_300 }, 3_300);
    g.on_transcript(opening, 3_300, 3_400);
    assert_eq!(run_until(&mut g, 3_400, 9_000).1, GateAction::Wait);
    assert_eq!(g.verdict().map(|v| v.class), Some(AnswerClass::Voicemail));
    utterance(&mut g, 3_300, 9_000, vec![0; 100]);
    g.on_transcript(&menu, 9_000, 9_300);
    // At the greeting's quiet end: the menu's way to the front desk.
    let (at, action) = run_until(&mut g, 9_300, 15_000);
    assert_eq!(at, 9_000 + 1_500);
    assert_eq!(action, GateAction::SendDtmf("0".into()));
    assert_eq!(g.verdict().map(|v| v.class), Some(AnswerClass::Ivr));
    // A voicemail's one key is no menu.
    let mut g = menu_gate();
    let voicemail = "You've reached Sam. Leave a message after the tone. When you have \
                     finished recording, press one for more options.";
    utterance(&mut g, 300, 6_000, vec![0; 100]);
    g.on_transcript(voicemail, 6_000, 6_100);
    let (_, action) = run_until(&mut g, 6_100, 12_000);
    assert!(
        matches!(action, GateAction::LeaveVoicemail(_)),
        "{action:?}"
    );
}

#[test]
fn screening_is_answered_and_a_person_then_starts_the_conversation() {
    let mut g = gate(Some(
        "This is Alex from Daily Event Insurance, calling about your quote.",
    ));
    utterance(&mut g, 300, 2_500, vec![0; 100]);
    g.on_transcript(
        "The person you're calling is using a screening service",
        2_600,
        2_600,
    );
    let (_, action) = run_until(&mut g, 2_600, 3_000);
    assert!(matches!(action, GateAction::Say(_)), "{action:?}");
    utterance(&mut g, 6_000, 6_600, vec![0; 100]);
    g.on_transcript("Hello?", 6_800, 6_800);
    let (_, action) = run_until(&mut g, 6_800, 9_000);
    assert!(
        matches!(action, GateAction::Answered(ref v) if v.class == AnswerClass::Human),
        "{action:?}"
    );
}

/// A gate that has just pressed the "3" a privacy manager asked for.
fn privacy_key_pressed() -> AnswerGate {
    let mut g = gate(Some("This is Alex from Daily Event Insurance."));
    utterance(&mut g, 300, 2_400, vec![0; 100]);
    let asks = "Unknown callers, please press 3 to be connected.";
    g.on_transcript(asks, 2_600, 2_600);
    let (_, action) = run_until(&mut g, 2_600, 3_000);
    assert_eq!(action, GateAction::SendDtmf("3".into()));
    g
}

#[test]
fn a_privacy_manager_gets_its_key_then_the_name_then_the_person_answers() {
    let mut g = privacy_key_pressed();
    let v = g.verdict().expect("the first verdict").clone();
    assert_eq!(
        (v.class, v.reason.as_str()),
        (
            AnswerClass::Screening,
            "transcript cue \"press a key to be connected\""
        )
    );
    // The same screener then asks who is calling: the name and reason, once.
    utterance(&mut g, 4_000, 6_000, vec![0; 100]);
    g.on_transcript("Please say your name after the tone.", 6_200, 6_200);
    let (_, action) = run_until(&mut g, 6_200, 9_000);
    assert!(matches!(action, GateAction::Say(_)), "{action:?}");
    utterance(&mut g, 10_000, 10_600, vec![0; 100]);
    g.on_transcript("Hello, this is Sam.", 10_800, 10_800);
    let (_, action) = run_until(&mut g, 10_800, 13_000);
    assert!(
        matches!(action, GateAction::Answered(ref v) if v.class == AnswerClass::Human),
        "{action:?}"
    );
}

#[test]
fn a_privacy_managers_key_is_waited_for_while_it_is_being_said() {
    let mut g = gate(Some("This is Alex from Daily Event Insurance."));
    g.on_ingest(&IngestEvent::SpeechStarted { onset_ms: 300 }, 300);
    g.on_transcript("To be connected, please press", 2_000, 2_000);
    assert_eq!(run_until(&mut g, 2_000, 2_400).1, GateAction::Wait);
    g.on_transcript("To be connected, please press one.", 2_500, 2_500);
    assert_eq!(
        run_until(&mut g, 2_500, 2_600).1,
        GateAction::SendDtmf("1".into())
    );
}

#[test]
fn after_an_answer_a_screeners_next_key_is_waited_for_while_it_is_being_said() {
    let mut g = privacy_key_pressed();
    // The screener asks for another key; its "press" is decoded before the key: not the
    // name (nobody asked for it), the key.
    utterance(&mut g, 5_000, 6_500, vec![0; 100]);
    g.on_transcript(
        "Thank you. If you are not a robot, please press",
        6_600,
        6_600,
    );
    assert_eq!(run_until(&mut g, 6_600, 7_400).1, GateAction::Wait);
    g.on_transcript(
        "Thank you. If you are not a robot, please press five.",
        7_500,
        7_500,
    );
    assert_eq!(
        run_until(&mut g, 7_500, 7_600).1,
        GateAction::SendDtmf("5".into())
    );
}

#[test]
fn a_connect_key_taken_for_a_menu_is_pressed_without_a_script_way() {
    let mut g = gate(None);
    utterance(&mut g, 300, 2_400, vec![0; 100]);
    // A queue's words (a menu), but its one key is the way through.
    let queue = "Your call is important to us. Please stay on the line or press one to be \
                 connected.";
    g.on_transcript(queue, 2_600, 2_600);
    let (_, action) = run_until(&mut g, 2_600, 3_000);
    assert_eq!(action, GateAction::SendDtmf("1".into()));
    assert_eq!(g.verdict().map(|v| v.class), Some(AnswerClass::Ivr));
    // Nobody comes: the screener is hung up on after the wait, not asked again.
    let (at, action) = run_until(&mut g, 3_000, 40_000);
    assert!(
        matches!(
            action,
            GateAction::HangUp {
                disposition: "screened",
                ..
            }
        ),
        "{action:?}"
    );
    assert!(
        at >= 2_600 + GateConfig::default().screening_wait_ms,
        "{at}"
    );
}

fn menu_gate() -> AnswerGate {
    let front_desk = IvrRule {
        phrases: vec!["front desk".into()],
        action: IvrAction::Dtmf("0".into()),
    };
    AnswerGate::new(GateConfig {
        ivr: vec![front_desk],
        ..GateConfig::default()
    })
}

const MENU: &str = "Thank you for calling. For class times press 1. For the front desk press 0.";

#[test]
fn a_phone_menu_is_navigated_and_the_person_behind_it_answered() {
    let mut g = menu_gate();
    utterance(&mut g, 300, 4_800, vec![0; 100]);
    g.on_transcript(MENU, 5_000, 5_000);
    let (_, action) = run_until(&mut g, 5_000, 6_000);
    assert_eq!(action, GateAction::SendDtmf("0".into()));
    utterance(&mut g, 9_000, 9_600, vec![0; 100]);
    g.on_transcript("Front desk, this is Dana.", 9_800, 9_800);
    let (_, action) = run_until(&mut g, 9_800, 12_000);
    assert!(
        matches!(action, GateAction::Answered(ref v) if v.class == AnswerClass::Human),
        "{action:?}"
    );
}

#[test]
fn a_menu_without_a_known_way_is_hung_up_on() {
    let mut g = menu_gate();
    utterance(&mut g, 300, 4_800, vec![0; 100]);
    g.on_transcript("For billing press 1. For sales press 2.", 5_000, 5_000);
    let (at, action) = run_until(&mut g, 5_000, 30_000);
    assert!(
        matches!(action, GateAction::HangUp { reason: "ivr", .. }),
        "{action:?}"
    );
    assert!(at >= 5_000 + GateConfig::default().ivr_listen_ms, "{at}");
    // Without any ways, at once.
    let mut g = gate(None);
    utterance(&mut g, 300, 4_800, vec![0; 100]);
    g.on_transcript(MENU, 5_000, 5_000);
    let (at, action) = run_until(&mut g, 5_000, 30_000);
    assert!(matches!(action, GateAction::HangUp { reason: "ivr", .. }));
    assert!(at < 6_000, "{at}");
}

#[test]
fn silence_hangs_up_as_no_answer() {
    let mut g = gate(None);
    let (at, action) = run_until(&mut g, 0, 10_000);
    assert_eq!(at, 4_000);
    assert!(matches!(
        action,
        GateAction::HangUp {
            disposition: "no_answer",
            ..
        }
    ));
}

/// A 4.3 s greeting (a machine's length) whose words lean to a voicemail without naming it.
fn doubtful_machine(g: &mut AnswerGate) -> (u64, GateAction) {
    g.on_ingest(&IngestEvent::SpeechStarted { onset_ms: 300 }, 300);
    g.on_transcript(
        "hi it's jordan's phone helper at the moment tell me what you need",
        2_000,
        2_000,
    );
    utterance(g, 300, 4_600, vec![0; 100]);
    run_until(g, 4_700, 10_000)
}

#[test]
fn a_person_inferred_from_a_greeting_that_ran_on_is_put_to_the_llm() {
    // 2.7 s unbroken, words naming nobody, then waiting: a person by the rules, in doubt.
    let reply = "This is Alex from Daily Event Insurance.";
    let ran_on = |g: &mut AnswerGate| {
        g.on_ingest(&IngestEvent::SpeechStarted { onset_ms: 300 }, 300);
        g.on_transcript("hi it's jordan's phone helper", 2_000, 2_000);
        utterance(g, 300, 3_000, vec![0; 100]);
        run_until(g, 3_100, 8_000)
    };
    let mut g = gate(Some(reply)).with_llm();
    let (at, action) = ran_on(&mut g);
    assert_eq!(
        action,
        GateAction::AskLlm("hi it's jordan's phone helper".into())
    );
    g.on_llm_verdict(Some(AnswerClass::Screening));
    assert_eq!(g.poll(at + 20), GateAction::Say(reply.into()));
    // Without an LLM the agent talks to the person.
    let mut g = gate(Some(reply));
    let (_, action) = ran_on(&mut g);
    assert!(
        matches!(action, GateAction::Answered(ref v) if v.class == AnswerClass::Human),
        "{action:?}"
    );
}

#[test]
fn a_machine_the_words_leave_in_doubt_is_put_to_the_llm() {
    let reply = "This is Alex from Daily Event Insurance.";
    let mut g = gate(Some(reply)).with_llm();
    let (at, action) = doubtful_machine(&mut g);
    assert_eq!(
        action,
        GateAction::AskLlm(
            "hi it's jordan's phone helper at the moment tell me what you need".into()
        )
    );
    // Nothing happens until it answers (or its deadline passes).
    assert_eq!(run_until(&mut g, at + 20, at + 500).1, GateAction::Wait);
    g.on_llm_verdict(Some(AnswerClass::Screening));
    assert_eq!(g.poll(at + 520), GateAction::Say(reply.into()));
    let v = g.verdict().expect("verdict");
    assert_eq!(v.class, AnswerClass::Screening);
    assert!(v.reason.starts_with("llm verdict"), "{v:?}");
}

#[test]
fn without_an_llm_answer_the_words_decide_at_the_deadline() {
    let mut g = gate(None).with_llm();
    let (at, action) = doubtful_machine(&mut g);
    assert!(matches!(action, GateAction::AskLlm(_)), "{action:?}");
    let deadline = GateConfig::default().llm_deadline_ms;
    let (when, action) = run_until(&mut g, at + 20, at + deadline + 5_000);
    assert!(when >= at + deadline, "{when} {action:?}");
    // The words alone: a voicemail, whose greeting has ended.
    assert!(
        matches!(action, GateAction::LeaveVoicemail(ref v) if v.class == AnswerClass::Voicemail),
        "{action:?}"
    );
    // An LLM that names no class changes nothing either.
    let mut g = gate(None).with_llm();
    let (at, _) = doubtful_machine(&mut g);
    g.on_llm_verdict(None);
    assert!(matches!(g.poll(at + 20), GateAction::LeaveVoicemail(_)));
}

#[test]
fn clear_words_or_no_llm_never_wait_for_one() {
    let mut g = gate(None).with_llm();
    utterance(&mut g, 300, 2_000, vec![0; 100]);
    g.on_transcript(
        "Hi, you've reached Sam, please leave a message",
        2_200,
        2_200,
    );
    let (_, action) = run_until(&mut g, 2_200, 8_000);
    assert!(
        matches!(action, GateAction::LeaveVoicemail(_)),
        "{action:?}"
    );
    let mut g = gate(None);
    let (_, action) = doubtful_machine(&mut g);
    assert!(
        matches!(action, GateAction::LeaveVoicemail(_)),
        "{action:?}"
    );
}

#[test]
fn a_voicemail_found_after_a_person_verdict_waits_for_its_greeting_to_end() {
    let v = Verdict {
        class: AnswerClass::Voicemail,
        reason: "voicemail words after the person verdict".into(),
        at_ms: 4_000,
        machine_at_ms: Some(4_000),
    };
    let config = GateConfig::default();
    let silence = config.voicemail_silence_ms;
    // Its words heard in a turn whose voice stopped at 3.8 s: the message after the silence
    // that ends a greeting, unless the voice goes on.
    let mut g = AnswerGate::after_all(config.clone(), v.clone(), "", Some(3_800), false);
    let (at, action) = run_until(&mut g, 4_000, 10_000);
    assert_eq!(at, 3_800 + silence, "{action:?}");
    assert!(matches!(action, GateAction::LeaveVoicemail(ref l) if *l == v));
    let mut g = AnswerGate::after_all(config.clone(), v.clone(), "", Some(3_800), false);
    utterance(&mut g, 4_500, 6_000, vec![0; 100]);
    assert_eq!(run_until(&mut g, 4_500, 10_000).0, 6_000 + silence);
    // Its beep heard: at once.
    let mut g = AnswerGate::after_all(config, v, "", None, true);
    assert!(matches!(g.poll(4_000), GateAction::LeaveVoicemail(_)));
}

#[test]
fn a_screener_found_after_a_person_verdict_gets_its_answer_then_the_person_starts() {
    let v = |reason: &str| Verdict {
        class: AnswerClass::Screening,
        reason: reason.into(),
        at_ms: 7_000,
        machine_at_ms: Some(7_000),
    };
    let reply = "This is Alex from Daily Event Insurance, calling about your quote.";
    let config = GateConfig {
        screening_reply: Some(reply.into()),
        ..GateConfig::default()
    };
    let asks = "The subscriber you've called is screening their calls. To continue, please \
                say your name.";
    let mut g = AnswerGate::after_all(config.clone(), v("name"), asks, Some(6_500), false);
    assert_eq!(g.poll(7_000), GateAction::Say(reply.into()));
    utterance(&mut g, 9_000, 9_600, vec![0; 100]);
    g.on_transcript("Hello?", 9_800, 9_800);
    let (_, action) = run_until(&mut g, 9_800, 12_000);
    assert!(
        matches!(action, GateAction::Answered(ref p) if p.class == AnswerClass::Human),
        "{action:?}"
    );
    // A privacy manager's key is pressed instead; without a reply, the screener is hung up on.
    let press = "Hello, this call is screened. To be connected, please press five.";
    let mut g = AnswerGate::after_all(config, v("key"), press, Some(6_500), false);
    assert_eq!(g.poll(7_000), GateAction::SendDtmf("5".into()));
    let mut g = AnswerGate::after_all(GateConfig::default(), v("name"), asks, Some(6_500), false);
    assert!(
        matches!(
            g.poll(7_000),
            GateAction::HangUp {
                disposition: "screened",
                ..
            }
        ),
        "no reply configured"
    );
}

#[test]
fn a_scripts_person_pause_and_menu_rules_reach_the_gate() {
    let src = "version: 1\nid: t.pause\nperson_pause: 1200ms\nivr:\n  - phrases: [operator]\n    dtmf: \"0\"\nnodes:\n  - id: done\n    type: end\n";
    let script = dialogue::compile("t.yaml", src).expect("compiles");
    let config = GateConfig::for_script(&script, "Hi, this is Dana.".into());
    assert_eq!(config.amd.human_silence_ms, 1_200);
    assert_eq!(config.ivr.len(), 1);
    assert_eq!(config.screening_reply.as_deref(), Some("Hi, this is Dana."));
    // Without one, the default pause; nothing else of the classifier changes either way.
    let plain = dialogue::compile("t.yaml", &src.replace("person_pause: 1200ms\n", "")).unwrap();
    let default = GateConfig::for_script(&plain, String::new());
    assert_eq!(default.amd, AmdConfig::default());
    assert_eq!(
        AmdConfig {
            human_silence_ms: AmdConfig::default().human_silence_ms,
            ..config.amd
        },
        AmdConfig::default()
    );
}
