use super::*;

fn run(facts: Vec<CallFact>) -> (Disposition, EndReason) {
    let mut m = DispositionMachine::new();
    for f in facts {
        m.on(f);
    }
    m.finish()
}

fn ended(disposition: &str, reason: &str) -> CallFact {
    CallFact::ConversationEnded {
        disposition: disposition.into(),
        reason: reason.into(),
    }
}

#[test]
fn dial_failures_never_reach_the_conversation() {
    use CallFact::Dialled;
    assert_eq!(
        run(vec![Dialled(DialResult::NoAnswer)]),
        (Disposition::NoAnswer, EndReason::NotConnected)
    );
    assert_eq!(
        run(vec![Dialled(DialResult::Busy)]),
        (Disposition::Busy, EndReason::NotConnected)
    );
    let failed = DialResult::Failed {
        reason: "503".into(),
    };
    assert_eq!(run(vec![Dialled(failed)]).0, Disposition::Failed);
}

#[test]
fn a_voicemail_with_a_message_left_is_voicemail_left() {
    let facts = vec![
        CallFact::Dialled(DialResult::Answered),
        CallFact::AnswerClassified(AnswerClass::Voicemail),
        CallFact::AgentSpoke,
        ended("voicemail", "voicemail"),
    ];
    assert_eq!(
        run(facts),
        (Disposition::Voicemail, EndReason::VoicemailLeft)
    );
    // No message in the script: the agent just hangs up.
    let facts = vec![
        CallFact::AnswerClassified(AnswerClass::Voicemail),
        ended("voicemail", "voicemail"),
    ];
    assert_eq!(run(facts), (Disposition::Voicemail, EndReason::AgentEnded));
}

#[test]
fn the_dialogue_end_node_names_the_disposition_of_a_reached_call() {
    let base = || {
        vec![
            CallFact::AnswerClassified(AnswerClass::Human),
            CallFact::AgentSpoke,
            CallFact::CallerSpoke,
        ]
    };
    for (said, want) in [
        ("dnc", Disposition::Dnc),
        ("not_interested", Disposition::NotInterested),
        ("callback_requested", Disposition::CallbackRequested),
        ("reached", Disposition::Reached),
    ] {
        let mut facts = base();
        facts.push(ended(said, "completed"));
        assert_eq!(run(facts), (want, EndReason::AgentEnded), "{said}");
    }
}

#[test]
fn who_ended_the_call_first_is_the_end_reason() {
    let facts = vec![
        CallFact::CallerSpoke,
        CallFact::CallerHungUp,
        ended("reached", "caller_hung_up"),
    ];
    assert_eq!(run(facts), (Disposition::Reached, EndReason::CallerHungUp));
    let facts = vec![
        CallFact::CallerSpoke,
        CallFact::MaxDurationReached,
        ended("reached", "max_duration"),
        CallFact::CallerHungUp,
    ];
    assert_eq!(run(facts), (Disposition::Reached, EndReason::MaxDuration));
    let facts = vec![
        CallFact::CallerSpoke,
        CallFact::Transferred,
        CallFact::CallerHungUp,
    ];
    assert_eq!(run(facts), (Disposition::Reached, EndReason::Transferred));
}

#[test]
fn a_callback_record_with_a_time_makes_a_callback() {
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-23T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let mut m = DispositionMachine::new();
    m.on(CallFact::CallerSpoke);
    m.on(CallFact::CallbackScheduled { at: Some(at) });
    m.on(ended("reached", "completed"));
    assert_eq!(m.finish().0, Disposition::CallbackRequested);
    assert_eq!(m.callback_at(), Some(at));
}

#[test]
fn screening_and_silence_without_a_person_are_not_reached() {
    let facts = vec![
        CallFact::AnswerClassified(AnswerClass::Screening),
        CallFact::AgentSpoke,
        CallFact::CallerHungUp,
    ];
    assert_eq!(run(facts).0, Disposition::Screened);
    let facts = vec![CallFact::AnswerClassified(AnswerClass::SilenceOrFax)];
    assert_eq!(run(facts).0, Disposition::NoAnswer);
    // Screening that put the person through: a normal call.
    let facts = vec![
        CallFact::AnswerClassified(AnswerClass::Screening),
        CallFact::CallerSpoke,
        ended("not_interested", "completed"),
    ];
    assert_eq!(run(facts).0, Disposition::NotInterested);
}

#[test]
fn silent_hang_up_is_declined_and_errors_fail() {
    let facts = vec![
        CallFact::AgentSpoke,
        CallFact::CallerHungUp,
        ended("reached", "caller_hung_up"),
    ];
    assert_eq!(run(facts), (Disposition::Declined, EndReason::CallerHungUp));
    let facts = vec![CallFact::Failed {
        reason: "llm_unavailable".into(),
    }];
    assert_eq!(run(facts), (Disposition::Failed, EndReason::Error));
}
