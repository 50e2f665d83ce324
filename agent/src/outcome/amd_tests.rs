use super::*;

fn run(events: &[(u64, &str)], until: u64) -> Verdict {
    let mut c = AnswerClassifier::new(AmdConfig::default());
    let mut t = 0;
    let mut events = events.iter().peekable();
    while t <= until {
        while let Some((at, what)) = events.peek() {
            if *at > t {
                break;
            }
            match *what {
                "start" => c.speech_started(*at),
                "stop" => c.speech_stopped(*at),
                "tone" => c.tone(*at),
                text => c.transcript(text, *at),
            }
            events.next();
        }
        if let Some(v) = c.poll(t) {
            return v.clone();
        }
        t += 20;
    }
    panic!("no verdict by {until} ms");
}

#[test]
fn a_short_hello_then_silence_is_a_person() {
    let v = run(&[(400, "start"), (900, "stop")], 5_000);
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    assert!(v.at_ms >= 900 + 700 && v.at_ms < 1_800, "{v:?}");
}

#[test]
fn a_greeting_that_runs_on_is_a_machine() {
    let v = run(&[(300, "start"), (3_000, "stop"), (3_200, "start")], 8_000);
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
}

#[test]
fn transcript_cues_name_the_machine() {
    let cases = [
        (
            "Hi, you've reached Sam, please leave a message",
            AnswerClass::Voicemail,
        ),
        (
            "The person you're calling is using a screening service",
            AnswerClass::Screening,
        ),
        (
            "Thank you for calling Acme. For sales, press one",
            AnswerClass::Ivr,
        ),
    ];
    for (text, class) in cases {
        let v = run(&[(200, "start"), (1_500, text)], 3_000);
        assert_eq!(v.class, class, "{text}: {v:?}");
        assert_eq!(v.at_ms, 1_500);
    }
}

#[test]
fn a_tone_after_speech_is_a_beep_and_before_any_speech_a_fax() {
    let v = run(&[(200, "start"), (1_000, "stop"), (1_200, "tone")], 3_000);
    // The short greeting alone would have been a person at 1,700 ms; the beep came first.
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
    let v = run(&[(500, "tone")], 3_000);
    assert_eq!(v.class, AnswerClass::SilenceOrFax, "{v:?}");
}

#[test]
fn nothing_at_all_is_silence() {
    let v = run(&[], 10_000);
    assert_eq!((v.class, v.at_ms), (AnswerClass::SilenceOrFax, 4_000));
}

#[test]
fn a_person_who_says_a_little_more_is_still_a_person() {
    // "Hello, this is Dana speaking, who's calling?" ~2.3 s, then waits.
    let v = run(
        &[
            (300, "start"),
            (2_600, "stop"),
            (2_700, "hello this is dana speaking who's calling"),
        ],
        8_000,
    );
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
}

#[test]
fn cues_ignore_case_and_punctuation() {
    assert_eq!(
        machine_cue("PLEASE LEAVE A MESSAGE AFTER THE TONE.").map(|c| c.0),
        Some(AnswerClass::Voicemail)
    );
    assert_eq!(machine_cue("Yeah, who's this?"), None);
}
