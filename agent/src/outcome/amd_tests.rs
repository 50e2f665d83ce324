use super::*;

pub(super) fn run(events: &[(u64, &str)], until: u64) -> Verdict {
    run_with(AmdConfig::default(), events, until)
}

fn run_with(config: AmdConfig, events: &[(u64, &str)], until: u64) -> Verdict {
    let mut c = AnswerClassifier::new(config);
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
                "decoding" => c.decode_started(*at),
                text => c.transcript(text, *at, *at),
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
    let c = AmdConfig::default();
    // Its words in: a person once the pause is a person's.
    let v = run(&[(400, "start"), (900, "stop"), (1_250, "hello")], 5_000);
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    assert!(
        v.at_ms >= 900 + c.hello_silence_ms && v.at_ms < 1_800,
        "{v:?}"
    );
    // No words decoded (the decoder lags, or heard nothing): the pause decides, later.
    let v = run(&[(400, "start"), (900, "stop")], 5_000);
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    let late = 900 + c.human_silence_ms + c.human_words_wait_ms;
    assert!(v.at_ms >= late && v.at_ms < late + 100, "{v:?}");
}

#[test]
fn a_recordings_first_sentence_and_its_pause_wait_for_its_words() {
    // "Welcome to CarePlus Pharmacy." then a 900 ms pause before the menu: the words of the
    // sentence, decoded 600 ms after it, keep the pause from making it a person.
    let v = run(
        &[
            (300, "start"),
            (1_900, "welcome to"),
            (2_200, "stop"),
            (2_800, "welcome to careplus pharmacy"),
            (3_100, "start"),
            (4_400, "welcome to careplus pharmacy to help us find your prescription"),
            (6_000, "welcome to careplus pharmacy to help us find your prescription please say or enter"),
            (6_500, "stop"),
        ],
        12_000,
    );
    assert_eq!(v.class, AnswerClass::Ivr, "{v:?}");
}

#[test]
fn a_greeting_that_runs_on_is_a_machine() {
    // It never stops: a machine from its length, its class (no words: voicemail) when it has
    // talked for the longest a class may wait.
    let v = run(&[(300, "start"), (3_000, "stop"), (3_200, "start")], 30_000);
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
    assert_eq!(v.at_ms, AmdConfig::default().machine_class_max_ms, "{v:?}");
    let run_on = AmdConfig::default().machine_run_ms;
    assert_eq!(v.machine_at_ms, Some(300 + run_on), "{v:?}");
}

#[test]
fn a_phrase_the_next_reading_drops_decides_nothing() {
    // Whisper on 0.6 s of "Please listen carefully…": "Please leave a message."
    let menu = "please listen carefully as our menu options have changed";
    let v = run(
        &[
            (300, "start"),
            (900, "please leave a message"),
            (1_150, "please leave them cara"),
            (1_800, menu),
            (2_050, menu),
        ],
        6_000,
    );
    assert_eq!(v.class, AnswerClass::Ivr, "{v:?}");
    // "Good morning" misread as "Not morning, listen carefully", then read right: the machine
    // it seemed to show is forgotten, and the person is one.
    let v = run(
        &[
            (300, "start"),
            (1_900, "not morning listen carefully"),
            (2_100, "stop"),
            (2_300, "good morning this is sarah"),
        ],
        6_000,
    );
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    // A reading of the whole greeting needs no second one.
    let v = run(
        &[
            (300, "start"),
            (2_000, "stop"),
            (2_300, "please leave a message"),
        ],
        6_000,
    );
    assert_eq!((v.class, v.at_ms), (AnswerClass::Voicemail, 2_300), "{v:?}");
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
fn an_unbroken_greeting_is_a_machine_before_its_class_is_known() {
    // 2.6 s of voice without a pause, then an IVR cue in a later partial.
    let v = run(
        &[
            (300, "start"),
            (1_800, "thank you"),
            (
                3_500,
                "thank you for calling acme for sales press one for service press two",
            ),
            (
                3_750,
                "thank you for calling acme for sales press one for service press two",
            ),
        ],
        8_000,
    );
    assert_eq!(v.class, AnswerClass::Ivr, "{v:?}");
    assert_eq!(v.at_ms, 3_750, "{v:?}");
    let run_on = AmdConfig::default().machine_run_ms;
    assert_eq!(v.machine_at_ms, Some(300 + run_on), "{v:?}");
    assert_eq!(v.person_or_machine_ms(), 300 + run_on);
}

#[test]
fn a_persons_words_keep_a_long_greeting_from_counting_as_a_machine() {
    // One unbroken 2.8 s stretch, but its transcript is a person introducing themselves.
    let v = run(
        &[
            (300, "start"),
            (1_500, "hello this is dana speaking"),
            (3_100, "stop"),
        ],
        8_000,
    );
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    assert_eq!(v.machine_at_ms, None);
}

#[test]
fn a_person_who_talks_on_is_a_person_unless_a_machines_words_are_heard() {
    // 6 s unbroken: the person cannot hear the caller, or is driving; no machine's words.
    for said in [
        "hello hello can you hear me I can't hear a thing hang on hello",
        "yes I'm sorry I'm just driving you're on speaker what's up",
    ] {
        let v = run(&[(300, "start"), (2_000, said), (6_300, "stop")], 12_000);
        assert_eq!(v.class, AnswerClass::Human, "{said}: {v:?}");
        assert_eq!(v.machine_at_ms, None, "{said}: {v:?}");
    }
    // A machine's words still make a long greeting with a person's word a machine's.
    let said = "hello sorry I can't take your call right now leave a message";
    let v = run(&[(300, "start"), (2_000, said), (6_300, "stop")], 12_000);
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
    // Without a person's words, length holds it as a machine: a beep after it makes it one,
    // its end without one a person (doubtful: no words told).
    let long = [(300, "start"), (2_000, "the our event"), (6_300, "stop")];
    let v = run(&[long[0], long[1], long[2], (6_600, "tone")], 12_000);
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
    assert_eq!(
        v.machine_at_ms,
        Some(300 + AmdConfig::default().machine_run_ms)
    );
    let v = run(&long, 12_000);
    assert_eq!(
        (v.class, v.reason.as_str()),
        (AnswerClass::Human, "greeting ended")
    );
}

#[test]
fn a_run_on_greeting_that_stops_without_a_machines_words_or_length_is_a_person() {
    // 2.8 s unbroken, no words decoded, then silence: held as a machine while it ran on, but
    // neither words nor length showed one; a person who said more than "hello" is waiting.
    let config = AmdConfig::default();
    let v = run(&[(300, "start"), (3_100, "stop")], 8_000);
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    assert_eq!(v.reason, "greeting ended");
    assert!(v.at_ms >= 3_100 + config.greeting_end_silence_ms, "{v:?}");
    // The same run with a machine's words is a machine.
    let v = run(
        &[
            (300, "start"),
            (2_900, "not available right now"),
            (3_100, "stop"),
        ],
        8_000,
    );
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
    // Pauses shorter than a person's wait do not reset the count: 1.2 s, a 200 ms breath,
    // then voice on past a machine's length, and a beep.
    let v = run(
        &[
            (300, "start"),
            (1_500, "stop"),
            (1_700, "start"),
            (4_800, "stop"),
            (5_100, "tone"),
        ],
        9_000,
    );
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
    let run_on = config.machine_run_ms;
    assert_eq!(v.machine_at_ms, Some(1_700 + run_on - 1_200), "{v:?}");
}

#[test]
fn a_person_verdict_carries_no_machine_time() {
    let v = run(&[(400, "start"), (900, "stop")], 5_000);
    assert_eq!((v.class, v.machine_at_ms), (AnswerClass::Human, None));
    assert_eq!(v.person_or_machine_ms(), v.at_ms);
}

#[test]
fn a_run_of_voice_past_a_persons_first_words_is_held_as_a_machine_heard_or_not() {
    let config = AmdConfig::default();
    assert!(config.machine_run_ms >= config.human_max_speech_ms);
    // "Hey, it's Chris" running on and a beep: the machine was known when it ran on, whether
    // its words had been decoded by then or not.
    let greeting = [
        (300, "start"),
        (1_600, "hey it's chris"),
        (5_000, "stop"),
        (5_300, "tone"),
    ];
    let v = run(&greeting, 9_000);
    assert_eq!(v.machine_at_ms, Some(300 + config.machine_run_ms), "{v:?}");
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
    let unheard = run(&[(300, "start"), (5_000, "stop"), (5_300, "tone")], 9_000);
    assert_eq!(
        unheard.machine_at_ms,
        Some(300 + config.machine_run_ms),
        "{unheard:?}"
    );
    // A person's quick greeting, its words not decoded yet, is never held.
    let hello = run(&[(300, "start"), (2_000, "stop")], 9_000);
    assert_eq!(
        (hello.class, hello.machine_at_ms),
        (AnswerClass::Human, None),
        "{hello:?}"
    );
}

#[test]
fn a_persons_word_once_heard_is_not_unsaid_by_a_later_mishearing() {
    // "Hello, Mike speaking" running 2.5 s: the first partial hears "hello", a later one
    // garbles it; the run-on rule must still hold off.
    let events = [
        (300, "start"),
        (1_200, "hello"),
        (2_000, "the love might be"),
        (2_800, "stop"),
    ];
    let v = run(&events, 8_000);
    assert_eq!(
        (v.class, v.machine_at_ms),
        (AnswerClass::Human, None),
        "{v:?}"
    );
    // Without the "hello" the same stretch is held as a machine while it runs on; one that
    // goes on past a machine's length and beeps is one.
    let v = run(
        &[
            (300, "start"),
            (2_000, "the love might be"),
            (4_600, "stop"),
            (4_900, "tone"),
        ],
        8_000,
    );
    assert!(v.class.is_machine(), "{v:?}");
    assert_eq!(
        v.machine_at_ms,
        Some(300 + AmdConfig::default().machine_run_ms),
        "{v:?}"
    );
}

#[test]
fn weak_words_wait_for_the_end_of_the_greeting() {
    // "Welcome to Summit Fitness…" favours a menu without deciding: the greeting runs on (a
    // machine) past a machine's length, and its class comes when it stops.
    let events = [
        (200, "start"),
        (1_500, "welcome to summit fitness we're glad you"),
        (4_600, "stop"),
    ];
    let v = run(&events, 8_000);
    assert_eq!(v.class, AnswerClass::Ivr, "{v:?}");
    assert!(v.at_ms > 4_600, "{v:?}");
    let run_on = AmdConfig::default().machine_run_ms;
    assert_eq!(v.machine_at_ms, Some(200 + run_on), "{v:?}");
}

#[test]
fn a_receptionist_is_a_person() {
    let events = [
        (300, "start"),
        (1_600, "thank you for calling summit fitness"),
        (
            2_400,
            "thank you for calling summit fitness this is lee speaking",
        ),
        (2_600, "stop"),
    ];
    let v = run(&events, 8_000);
    assert_eq!(
        (v.class, v.machine_at_ms),
        (AnswerClass::Human, None),
        "{v:?}"
    );
}

#[test]
fn a_screener_that_beeps_is_still_a_screener() {
    let events = [
        (200, "start"),
        (2_000, "please say your name after the tone"),
        (2_500, "stop"),
        (2_700, "tone"),
    ];
    let v = run(&events, 4_000);
    assert_eq!(v.class, AnswerClass::Screening, "{v:?}");
}

#[test]
fn an_opening_only_machines_play_shows_a_machine_before_its_class() {
    // "You've reached Sam…" — a machine at the first partial, though its class (a voicemail
    // box or a menu's main line) waits for more words.
    let v = run(
        &[
            (300, "start"),
            (1_200, "Hi, you've reached Sam"),
            (
                3_600,
                "Hi, you've reached Sam, I can't come to the phone, leave a message",
            ),
            (3_800, "stop"),
        ],
        10_000,
    );
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
    assert_eq!(v.machine_at_ms, Some(1_200), "{v:?}");
    // A person who says hello first is not one once the opening comes.
    let v = run(
        &[
            (300, "start"),
            (800, "Hello"),
            (1_500, "Hello, the number you have dialled"),
            (2_400, "stop"),
        ],
        10_000,
    );
    assert!(v.class.is_machine(), "{v:?}");
    assert_eq!(v.machine_at_ms, Some(1_500), "{v:?}");
}

#[test]
fn a_carriers_number_you_have_called_holds_through_its_pause() {
    // "The mobile number you have called…", a pause, then the number and the rest: a machine
    // opening, not a person's short greeting at the pause.
    let rest = "The mobile number you have called. Oh four one two, three four five is not \
                available. Please leave a message after the tone.";
    let v = run(
        &[
            (700, "start"),
            (2_000, "The mobile number you have called."),
            (2_300, "stop"),
            (3_600, "start"),
            (7_000, rest),
            (7_300, "stop"),
            (7_500, rest),
        ],
        12_000,
    );
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
    assert_eq!(v.machine_at_ms, Some(2_000), "{v:?}");
}

#[test]
fn a_persons_words_decoded_late_overrule_a_greeting_that_ran_on() {
    // A receptionist's 3 s "Dr. Ortiz's office, how can I help you?": the voice runs past
    // `machine_run_ms` before the decoder catches up with "how can I help".
    let config = AmdConfig::default();
    let v = run(
        &[
            (300, "start"),
            (1_500, "doctor ortiz's"),
            (3_100, "stop"),
            (3_300, "doctor ortiz's office how can i help you"),
        ],
        8_000,
    );
    assert!(300 + config.machine_run_ms < 3_100, "the voice ran on");
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    assert_eq!(v.machine_at_ms, None, "{v:?}");
    // Words that show a machine are not overruled by a person's word among them.
    let v = run(
        &[
            (300, "start"),
            (1_500, "hello this is"),
            (3_100, "hello this is jordan sorry i missed your call"),
            (6_000, "stop"),
        ],
        12_000,
    );
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
}

#[test]
fn a_persons_words_decoded_after_a_machines_length_overrule_it() {
    // A barmaid's 8 s "You're through to the Crown and Anchor, it's Gemma… no, love, we don't
    // do food on Mondays… sorry, who's that?": past `machine_speech_ms` before "who's that".
    let config = AmdConfig::default();
    let early = "you're through to the crown and anchor it's gemma no love we don't do food";
    let all = "you're through to the crown and anchor it's gemma no love we don't do food on \
               mondays sorry who's that";
    let v = run(
        &[
            (300, "start"),
            (3_000, early),
            (7_400, all),
            (8_000, "stop"),
        ],
        14_000,
    );
    assert!(
        300 + config.machine_speech_ms < 7_400,
        "a machine's length first"
    );
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    assert_eq!(v.machine_at_ms, None, "{v:?}");
    // A machine's words heard first stay a machine's.
    let vm = "hi it's gemma leave a message";
    let v = run(
        &[
            (300, "start"),
            (3_000, vm),
            (7_400, "hi it's gemma leave a message sorry who's that"),
            (8_000, "stop"),
        ],
        14_000,
    );
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
}

#[test]
fn only_a_greeting_past_its_first_words_is_decoded_with_the_prompt() {
    assert_eq!(greeting_prompt(800), None);
    let prompt = greeting_prompt(2_000).expect("a prompt for 2 s of greeting");
    assert!(prompt.contains("press one"), "{prompt}");
}

#[test]
fn a_person_inferred_from_a_run_on_that_stopped_is_doubtful() {
    let verdict = |events: &[(u64, &str)]| {
        let mut c = AnswerClassifier::new(AmdConfig::default());
        for (at, what) in events {
            match *what {
                "start" => c.speech_started(*at),
                "stop" => c.speech_stopped(*at),
                text => c.transcript(text, *at, *at),
            }
            c.poll(*at);
        }
        let v = c.poll(8_000).cloned().expect("a verdict by 8 s");
        (v.class, c.doubtful())
    };
    // Ran on 2.8 s with words naming nobody: a person, for the LLM to confirm.
    let ran_on = [
        (300, "start"),
        (2_900, "it's jordan's phone helper"),
        (3_100, "stop"),
    ];
    assert_eq!(verdict(&ran_on), (AnswerClass::Human, true));
    // A short "Hello?" is no doubt.
    assert_eq!(
        verdict(&[(300, "start"), (900, "stop")]),
        (AnswerClass::Human, false)
    );
}

#[test]
fn weaker_phrases_adding_up_do_not_decide_before_the_greeting_ends() {
    // A doctor's voicemail: "emergency" and "dial" are a menu's words too.
    let early = "you have reached the office of doctor fiona mcallister at riverside medical \
                 if this is a medical emergency please hang up and dial nine one one";
    assert_eq!(machine_cue(early), None);
    let all = format!(
        "{early} otherwise please leave your name date of birth and a callback number and i \
         will return your call within one business day"
    );
    assert_eq!(words_class(&all), Some(AnswerClass::Voicemail));
    // One phrase only a menu says still decides at once.
    assert_eq!(
        machine_cue("for billing press one").map(|(c, _)| c),
        Some(AnswerClass::Ivr)
    );
}

#[test]
fn a_persons_words_decoded_after_the_greeting_ended_still_count() {
    // "Hi, I can't really talk, I'm driving, can you call me back in about ten minutes?
    // Actually wait, who is this?": 7 s unbroken; the decode with "who is this" lags 2 s.
    let early = "hi i can't really talk i'm driving can you call me back in about ten minutes";
    let all = format!("{early} actually wait who is this");
    let v = run(
        &[
            (300, "start"),
            (6_800, early),
            (7_700, "stop"),
            (9_950, all.as_str()),
        ],
        16_000,
    );
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    assert!(v.at_ms >= 9_950, "{v:?}");
}

#[test]
fn a_beep_after_a_menus_words_is_a_voicemails() {
    let doctor = "you have reached the office of doctor fiona mcallister if this is a medical \
                  emergency please hang up and dial nine one one";
    let v = run(
        &[
            (300, "start"),
            (9_000, doctor),
            (17_000, "stop"),
            (17_300, "tone"),
        ],
        20_000,
    );
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
    // A screener's "after the tone" still makes its beep a screener's.
    let v = run(
        &[
            (300, "start"),
            (2_500, "please state your name after the tone"),
            (2_900, "stop"),
            (3_200, "tone"),
        ],
        6_000,
    );
    assert_eq!(v.class, AnswerClass::Screening, "{v:?}");
}

#[test]
fn a_pause_waits_for_a_decode_under_way_that_reaches_the_end_of_the_voice() {
    let c = AmdConfig::default();
    // "Leave a message." and a pause: its words, decoded 2.5 s after the voice stopped (a
    // loaded machine), still make it a voicemail.
    let late = [
        (300, "start"),
        (1_500, "stop"),
        (1_600, "decoding"),
        (4_000, "leave a message"),
    ];
    let v = run(&late, 8_000);
    assert_eq!((v.class, v.at_ms), (AnswerClass::Voicemail, 4_000), "{v:?}");
    // Without a decode under way the pause waits only so long for words.
    let v = run(&[late[0], late[1], late[3]], 8_000);
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    assert!(v.at_ms < 4_000, "{v:?}");
    // A decode that never reports back holds the pause only so long.
    let v = run(&late[..3], 8_000);
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    let bound = 1_500 + c.human_silence_ms + c.human_words_max_wait_ms;
    assert!(v.at_ms >= bound && v.at_ms < bound + 100, "{v:?}");
    // A decode that started before the voice stopped does not reach its end: no longer wait.
    let early = [(300, "start"), (1_200, "decoding"), (1_500, "stop")];
    let v = run(&early, 8_000);
    let bound = 1_500 + c.human_silence_ms + c.human_words_wait_ms;
    assert!(v.at_ms >= bound && v.at_ms < bound + 100, "{v:?}");
}

#[test]
fn a_long_greeting_without_a_machines_words_is_a_doubtful_person() {
    // "Hiya, sorry, I'm on the other line, can you hold on a sec" read without its "sorry"
    // or "hold on": 5 s unbroken, no word of a person's or a machine's.
    let said = "hiya i'm on the other line can you wait a sec right i'm back what can i do";
    let mut c = AnswerClassifier::new(AmdConfig::default());
    c.speech_started(300);
    c.transcript(said, 4_000, 4_500);
    for t in (0..=5_400).step_by(20) {
        assert!(c.poll(t).is_none(), "decided at {t} ms: {:?}", c.verdict());
    }
    c.speech_stopped(5_300);
    c.transcript(said, 5_400, 5_900);
    let v = (5_400..12_000)
        .step_by(20)
        .find_map(|t| c.poll(t).cloned())
        .expect("a verdict");
    assert_eq!(
        (v.class, v.reason.as_str()),
        (AnswerClass::Human, "greeting ended")
    );
    assert!(c.doubtful());
}

#[test]
fn a_machines_words_kept_by_two_readings_outlast_a_wavering_one() {
    // "Hello, this is Jordan, I can't take your call, leave your name…": the person's "hello"
    // came first; a later reading loses the machine's words.
    let v = run(
        &[
            (300, "start"),
            (1_000, "hello"),
            (2_000, "hello this is jordan i can't take"),
            (2_300, "hello this is jordan i can't take your"),
            (2_600, "hello this is jordan i can't tape you"),
            (2_900, "stop"),
        ],
        10_000,
    );
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
}

/// A greeting's first sentence, a pause of ~0.9 s (hibari's), then its second, as the gate
/// hears them: voice edges and the partial transcripts.
fn paused_greeting(first: &'static str, both: [&'static str; 2]) -> [(u64, &'static str); 7] {
    [
        (700, "start"),
        (1_800, "stop"),
        (2_000, first),
        (2_700, "start"),
        (3_900, both[0]),
        (4_100, "stop"),
        (4_300, both[1]),
    ]
}

#[test]
fn a_voicemail_that_pauses_after_its_name_is_waited_out() {
    // fresh11's "This is Wanjiru. … Please leave a message.": a name alone waits the longer
    // pause, which the voicemail's second sentence breaks.
    let greeting = paused_greeting(
        "This is Wanjiru.",
        [
            "This is Wanjiru. Please leave",
            "This is Wanjiru. Please leave a message.",
        ],
    );
    let v = run(&greeting, 6_000);
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
    // A person who said the same and waits is one, that much later.
    let v = run(&greeting[..3], 6_000);
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    let intro = AmdConfig::default().intro_silence_ms;
    assert!(v.at_ms >= 1_800 + intro, "{v:?}");
    // With the name's pause no longer than anyone's, the person's pause decides.
    let hasty = AmdConfig {
        intro_silence_ms: 700,
        ..AmdConfig::default()
    };
    let v = run_with(hasty, &greeting, 6_000);
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
}

#[test]
fn a_longer_person_pause_waits_out_a_voicemail_that_pauses_after_a_word() {
    // fresh13's "Hi… this is Sophie… I'm not here right now": a greeting word is no name.
    let greeting = paused_greeting(
        "Hi.",
        [
            "Hi. This is Sophie.",
            "Hi. This is Sophie. Please leave a message.",
        ],
    );
    let v = run(&greeting, 6_000);
    assert_eq!(
        v.class,
        AnswerClass::Human,
        "the default pause decides: {v:?}"
    );
    let patient = AmdConfig {
        human_silence_ms: 1_200,
        ..AmdConfig::default()
    };
    let v = run_with(patient.clone(), &greeting, 6_000);
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
    let v = run_with(patient, &greeting[..3], 6_000);
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    assert!(v.at_ms >= 1_800 + 1_200, "{v:?}");
}

#[test]
fn a_threshold_is_set_by_its_name_and_an_unknown_name_lists_the_known_ones() {
    let mut c = AmdConfig::default();
    c.set("human_silence_ms", 450).unwrap();
    assert_eq!(c.human_silence_ms, 450);
    assert_eq!(
        AmdConfig {
            human_silence_ms: AmdConfig::default().human_silence_ms,
            ..c.clone()
        },
        AmdConfig::default(),
        "only the named threshold changed"
    );
    let err = c.set("human_silence", 450).unwrap_err();
    assert!(
        err.contains("\"human_silence\"") && err.contains("machine_run_ms"),
        "{err}"
    );
}

#[test]
fn a_bare_answer_is_a_person_sooner_than_a_name_that_may_be_a_voicemails() {
    let c = AmdConfig::default();
    assert!(c.hello_silence_ms < c.human_silence_ms);
    // "Hello?" / "Yes, who's this?" with their words in: nothing more to wait for.
    for said in ["hello", "Yes? Who's calling?", "yeah who's this"] {
        let v = run(&[(400, "start"), (900, "stop"), (1_100, said)], 5_000);
        assert_eq!(
            (v.class, v.at_ms),
            (AnswerClass::Human, 900 + c.hello_silence_ms),
            "{said}"
        );
    }
    // A greeting with more than an answer's words ("Hello, Dana speaking") waits the person's
    // pause, and a name alone ("Hi, it's Liam…", how a voicemail opens before its pause) the
    // name's, longer.
    assert!(c.intro_silence_ms > c.human_silence_ms);
    let paused = [
        ("hi it's liam", c.intro_silence_ms),
        ("hello dana speaking", c.human_silence_ms),
        ("hi", c.human_silence_ms),
    ];
    for (said, pause) in paused {
        let v = run(&[(400, "start"), (900, "stop"), (1_100, said)], 5_000);
        assert_eq!(
            (v.class, v.at_ms),
            (AnswerClass::Human, 900 + pause),
            "{said}"
        );
        let v = run(
            &[
                (400, "start"),
                (900, "stop"),
                (1_100, said),
                (900 + c.hello_silence_ms + 20, "start"),
                (2_900, "leave a message after the tone"),
                (3_000, "stop"),
            ],
            9_000,
        );
        assert_eq!(v.class, AnswerClass::Voicemail, "{said}: {v:?}");
    }
    // The words must cover the whole greeting: a bare "hello" of a partial that stopped short
    // of the voice's end is no bare answer yet.
    let v = run(&[(400, "start"), (700, "hello"), (900, "stop")], 5_000);
    assert!(v.at_ms > 900 + c.human_silence_ms, "{v:?}");
}
