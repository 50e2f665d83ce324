//! The classifier's reading of words: cues per class, openings machines share, privacy
//! managers' key requests, decoder loops.

use super::tests::run;
use super::*;

#[test]
fn transcript_cues_name_the_machine() {
    let cases = [
        (
            "Hi, you've reached Sam, please leave a message",
            AnswerClass::Voicemail,
        ),
        (
            "Hello, this is Father Michael Doyle. I'm unable to come to the phone.",
            AnswerClass::Voicemail,
        ),
        (
            "The person you're calling is using a screening service",
            AnswerClass::Screening,
        ),
        (
            "Thank you for calling Acme. For sales, press one. For service, press two",
            AnswerClass::Ivr,
        ),
    ];
    for (text, class) in cases {
        // Kept by the next reading, 250 ms on.
        let v = run(&[(200, "start"), (1_500, text), (1_750, text)], 3_000);
        assert_eq!(v.class, class, "{text}: {v:?}");
        assert_eq!(v.at_ms, 1_750);
    }
}

#[test]
fn cues_ignore_case_and_punctuation() {
    assert_eq!(
        machine_cue("PLEASE LEAVE A MESSAGE AFTER THE TONE.").map(|c| c.0),
        Some(AnswerClass::Voicemail)
    );
    assert_eq!(machine_cue("Yeah, who's this?"), None);
}

#[test]
fn openings_that_machines_share_do_not_decide_the_class() {
    // Each starts like another class; the rest of the greeting decides.
    let cases = [
        (
            "the person you're calling",
            "the person you're calling is not available, please record your message",
            AnswerClass::Voicemail,
        ),
        (
            "the person you're calling",
            "the person you're calling uses a service that screens calls, please say your name",
            AnswerClass::Screening,
        ),
        (
            "you have reached",
            "you have reached the main line, please select from the following options",
            AnswerClass::Ivr,
        ),
        (
            "you've reached Kim",
            "you've reached Kim, sorry I missed your call",
            AnswerClass::Voicemail,
        ),
    ];
    for (opening, text, class) in cases {
        assert_eq!(machine_cue(opening), None, "{opening}");
        let v = run(
            &[
                (200, "start"),
                (1_500, opening),
                (3_000, text),
                (3_250, text),
            ],
            4_000,
        );
        assert_eq!((v.class, v.at_ms), (class, 3_250), "{text}: {v:?}");
    }
}

#[test]
fn a_privacy_managers_key_request_is_screening_and_names_the_key() {
    let privacy = [
        ("Please press 2 to be connected to your party.", '2'),
        ("To prove you are not a robot, press the number seven.", '7'),
        (
            "Calls from unknown numbers are held. Press pound to connect.",
            '#',
        ),
        ("If you are a human caller, please press nine now.", '9'),
        (
            "Hello, this is an automated call filter. To reach this person, please press five now.",
            '5',
        ),
        ("So, it connects the clean press one.", '1'),
        (
            "This number uses call blocking. If you're a person, press the pound key to continue.",
            '#',
        ),
        (
            "This is a screened line. Press 5 to confirm you are not an automated caller.",
            '5',
        ),
        // The decoder saying the request twice: still one key.
        (
            "To reach the person you're calling, please press one and press one.",
            '1',
        ),
    ];
    // Screening as soon as the request is heard, before its key.
    assert!(asks_for_key("To be connected, please press"));
    assert_eq!(connect_key("To be connected, please press"), None);
    let asks = "To be connected, please press";
    let v = run(&[(200, "start"), (1_500, asks), (1_750, asks)], 3_000);
    assert_eq!(v.class, AnswerClass::Screening, "{v:?}");
    for (text, key) in privacy {
        assert_eq!(connect_key(text), Some(key), "{text}");
        let v = run(&[(200, "start"), (1_500, text), (1_750, text)], 3_000);
        assert_eq!(v.class, AnswerClass::Screening, "{text}: {v:?}");
    }
    // A menu offers keys for choices, connecting or not; a voicemail's key is for its own
    // options.
    let not_privacy = [
        "For billing press one. To be connected to an agent press two.",
        "To speak to the front desk, press zero.",
        "Please leave a message after the tone, or press one for more options.",
        "Leave your name and number; if it's urgent, press zero to reach my assistant.",
        "To speak to a person, press zero.",
        // Where a menu connects the caller: a place, not the person called.
        "For reservations, press one. To be connected to a guest room",
        "If this is an emergency, press one to be connected to the on-call vet.",
        // Where it connects to is not heard yet; a choice ("for reservations") says it will be.
        "Press one to be connected to",
        "Thank you for calling the hotel. For reservations, press one to be connected.",
    ];
    for text in not_privacy {
        assert_eq!(connect_key(text), None, "{text}");
    }
    for menu in &not_privacy[..2] {
        let v = run(
            &[
                (200, "start"),
                (1_400, "stop"),
                (1_500, menu),
                (1_750, menu),
            ],
            3_000,
        );
        assert_eq!(v.class, AnswerClass::Ivr, "{menu}: {v:?}");
    }
}

#[test]
fn whole_greetings_lean_to_their_class() {
    // Each as the decoder heard it on the sixth corpus; none is decisive alone at its start.
    let cases = [
        (
            "Hi, I'm the Bluewave Mobile virtual assistant. How can I help you today?",
            AnswerClass::Ivr,
        ),
        (
            "Hi there, I'm a virtual assistant answering on behalf of Tom. Can you tell me who \
             you are and what you're calling about?",
            AnswerClass::Screening,
        ),
        (
            "The number you have called has called screen them turned on. Please announce \
             yourself after the beep.",
            AnswerClass::Screening,
        ),
        (
            "Our offices are open Monday to Friday from 8.30 am to 5 pm. Please call back \
             during these hours.",
            AnswerClass::Ivr,
        ),
        (
            "Do the unusually high-call values wait times longer than usual.",
            AnswerClass::Ivr,
        ),
        ("Privacy Manager.", AnswerClass::Screening),
        ("This is a screen line.", AnswerClass::Screening),
        (
            "Sorry, the mail box you are trying to reach as well.",
            AnswerClass::Voicemail,
        ),
        (
            "Thank you for calling Ridgeline Accounting. Our office is currently closed. Our \
             hours are Monday to Friday. Please leave a message and we'll return your call.",
            AnswerClass::Voicemail,
        ),
    ];
    for (text, class) in cases
        .into_iter()
        .chain(SEVENTH_CORPUS)
        .chain(EIGHTH_CORPUS)
        .chain(NINTH_CORPUS)
        .chain(TENTH_CORPUS)
    {
        assert_eq!(words_class(text), Some(class), "{text}");
    }
}

/// Whole greetings of the seventh corpus as the decoder heard them.
const SEVENTH_CORPUS: [(&str, AnswerClass); 6] = [
    (
        "This number is protected by call of screenroom. Please enter your attended phone \
         number, followed by the pound key.",
        AnswerClass::Screening,
    ),
    (
        "Sorry, this phone doesn't take calls from numbers it doesn't know.",
        AnswerClass::Screening,
    ),
    (
        "Hi, I'm Max, the virtual assistant for Northwind Telecom. How can I help you today?",
        AnswerClass::Ivr,
    ),
    (
        "Thank you for holding. Your estimated wait time is twelve minutes.",
        AnswerClass::Ivr,
    ),
    (
        "This is the automated attendant for Lakeside High School.",
        AnswerClass::Ivr,
    ),
    // A clinic's "screening" is no screener's notice: its keys stay a menu's.
    (
        "For cancer screening, press three. For appointments, press one.",
        AnswerClass::Ivr,
    ),
];

/// Whole greetings of the eighth corpus as the decoder heard them.
const EIGHTH_CORPUS: [(&str, AnswerClass); 12] = [
    (
        "Margaret speaking, well, not really, this is the answer phone.",
        AnswerClass::Voicemail,
    ),
    (
        "Yo, it's Dece-Hon, you know what to do.",
        AnswerClass::Voicemail,
    ),
    (
        "Hang on, I'm the virtual assistant for this line. Could you tell me a bit about why \
         you're calling today?",
        AnswerClass::Screening,
    ),
    (
        "Story, unknown colors are put straight through.",
        AnswerClass::Screening,
    ),
    ("Who may I say is calling?", AnswerClass::Screening),
    (
        "Hello, this phone has spam protection turned on.",
        AnswerClass::Screening,
    ),
    (
        "Hi, I'm Sam, a digital receptionist for Harbor Lane Accounting. Are you calling about \
         an existing appointment or is this something new?",
        AnswerClass::Screening,
    ),
    ("Are you a real person? Are you", AnswerClass::Screening),
    (
        "Thanks for coming, heartfelt life career. If you are coming about delivery, please \
         have your 12-bit tracking number ready.",
        AnswerClass::Ivr,
    ),
    // A voicemail's one key is its way past the greeting, not a menu's choice...
    (
        "Good afternoon, you have reached the desk of Jennifer Wu, senior account manager at \
         Cobalt Logistics. I'm currently in meetings. If your matter is urgent, press zero to \
         reach reception. Otherwise, please leave a detailed message.",
        AnswerClass::Voicemail,
    ),
    (
        "Please record your message. When you have finished recording, you may hang up or \
         press the pound key for more options.",
        AnswerClass::Voicemail,
    ),
    // ... and a menu's key to the message is the menu's.
    (
        "Good morning, you've reached Bright Smiles Dental. Our reception team is assisting \
         other patients. Press 1 to leave a message, or stay on the line to be connected.",
        AnswerClass::Ivr,
    ),
];

/// Whole greetings of the ninth corpus as the decoder heard them.
const NINTH_CORPUS: [(&str, AnswerClass); 8] = [
    ("It's Tom, leave one. It's Tom,", AnswerClass::Voicemail),
    // "Say who you are" is a voicemail's too, after the beep.
    (
        "Hello, you've got Margaret and Ron. We're probably out in the garden, so say who you \
         are after the beep and we'll get back to you.",
        AnswerClass::Voicemail,
    ),
    ("If Sam, please leave one.", AnswerClass::Voicemail),
    (
        "Hi, you've reached Dr. Annand, Raul, I'm on leave until the 14th. For anything \
         urgent, please email reception at rayoplinic.com.",
        AnswerClass::Voicemail,
    ),
    (
        "This is an automated screener. This is an automated screen",
        AnswerClass::Screening,
    ),
    ("Please identify yourself.", AnswerClass::Screening),
    (
        "Please identify yourself. This subscriber only accepts calls from contact or from \
         colors who state their name and purpose.",
        AnswerClass::Screening,
    ),
    (
        "You've reached a protected line. If you have the person's access code, enter it now.",
        AnswerClass::Screening,
    ),
];

#[test]
fn a_screeners_demand_said_before_a_pause_is_no_persons() {
    // "Identify yourself" weighs less than a screener's own business (a suspicious person says
    // it too), yet enough to hold the call as a machine's through the pause that follows it.
    let v = run(
        &[
            (300, "start"),
            (1_800, "stop"),
            (1_900, "Please identify yourself."),
        ],
        10_000,
    );
    assert_eq!(v.class, AnswerClass::Screening, "{v:?}");
}

#[test]
fn a_persons_question_outweighs_words_people_say_too() {
    let people = [
        "Thank you for calling Maple Leaf Plumbing, this is Jen, how may I help you today?",
        "Oh hey, sorry, I was literally just about to call you back... wait, who is this?",
        "Hi there, you've reached the front desk at the Westgate Inn, this is Marcus, how can I \
         help?",
        "If this is about my car's extended warranty, I'm hanging up right now.",
        "She's not available right now. This is her husband. Can I take a message?",
        "Sorry, you've reached me at a bad time. I'm just pulling into the car park. Who is it?",
        "Who is this? Identify yourself.",
    ];
    for person in people {
        assert_eq!(words_class(person), None, "{person}");
        assert!(human_words(&normalise(person)), "{person}");
    }
    // Not a machine's own business: "leave a message" is never a person's.
    let machine = "Hi, it's Sam, who is this? Just kidding, leave a message.";
    assert_eq!(words_class(machine), Some(AnswerClass::Voicemail));
    // Held as a machine on "call you back", read twice, until the question is heard.
    let opening = "Oh hey, sorry, I was literally just about to call you back.";
    let events = [
        (300, "start"),
        (2_500, opening),
        (2_750, opening),
        (4_000, "stop"),
        (4_300, people[1]),
    ];
    let v = run(&events, 10_000);
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
}

#[test]
fn a_lone_press_still_playing_waits_for_what_it_is_for() {
    // Read twice, "press one" alone would be a menu's; what follows makes it a privacy
    // manager's way through.
    let opening = "Thank you for calling. Press one.";
    let heard = "Thank you for calling. Press one to be connected.";
    let v = run(
        &[
            (200, "start"),
            (2_000, opening),
            (2_250, opening),
            (2_500, "Thank you for calling. Press one to be"),
            (2_750, heard),
            (3_000, heard),
        ],
        4_000,
    );
    assert_eq!(v.class, AnswerClass::Screening, "{v:?}");
    // A menu's choice is its own once its purpose is said, while the menu plays on.
    let menu = "For the company directory, press nine, or stay on the line for the operator.";
    let v = run(&[(200, "start"), (3_000, menu), (3_250, menu)], 4_000);
    assert_eq!(v.class, AnswerClass::Ivr, "{v:?}");
    assert_eq!(v.at_ms, 3_250, "{v:?}");
    // Read three times and still open, it waits.
    let mut c = AnswerClassifier::new(AmdConfig::default());
    c.speech_started(200);
    for at in [1_500, 1_750, 2_000] {
        c.transcript(opening, at, at);
        assert_eq!(c.poll(at + 100), None, "{opening} at {at} ms");
    }
}

/// Whole greetings of the tenth corpus as the decoder heard them.
const TENTH_CORPUS: [(&str, AnswerClass); 4] = [
    (
        "Before your call goes through, please say who I am. Unknown colors will be sent to \
         voicemail.",
        AnswerClass::Screening,
    ),
    (
        "No recall a lesbian screen. Speak your name clearly, then stay on the line.",
        AnswerClass::Screening,
    ),
    ("Thanks for your patients. Thanks for", AnswerClass::Ivr),
    (
        "Good morning. Please say the name of the person or department you require.",
        AnswerClass::Ivr,
    ),
];

#[test]
fn a_carriers_mobile_notice_is_a_machines_opening() {
    // "Sorry" opens it, as a person's answer may: the notice still holds the call as a
    // machine's through the pause, and its end finds a voicemail.
    let v = run(
        &[
            (300, "start"),
            (2_600, "stop"),
            (
                2_700,
                "Sorry, the mobile you have called is under availability.",
            ),
        ],
        8_000,
    );
    assert_eq!(v.class, AnswerClass::Voicemail, "{v:?}");
}

#[test]
fn a_press_that_names_no_key_is_no_menu() {
    // A person repeating what they heard, as the decoder heard them.
    for person in [
        "Press what?",
        "Press W.",
        "Press what? Oh, hi, sorry. I thought it was one.",
    ] {
        assert_eq!(words_class(person), None, "{person}");
    }
    let v = run(
        &[(300, "start"), (1_000, "stop"), (1_100, "Press what?")],
        4_000,
    );
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    // A menu's key may come after a word or two, or be said as a choice.
    for menu in [
        "Thank you for calling. Please press or say one.",
        "To repeat these options, press the star key.",
        "For billing, press 2.",
    ] {
        assert_eq!(words_class(menu), Some(AnswerClass::Ivr), "{menu}");
    }
}

#[test]
fn a_decoder_loop_is_no_reading() {
    // A menu's "Please listen carefully" that the prompted decoder twice turns into a loop of
    // a voicemail's words: not a voicemail kept by two readings.
    let looped = "Please leave your name and please leave your name and please leave your name.";
    let menu = "Please listen carefully, as our menu options have changed. For sales, press one.";
    let v = run(
        &[
            (700, "start"),
            (2_300, looped),
            (2_560, &format!("{looped} Please leave your name and")),
            (4_800, menu),
            (5_000, "stop"),
            (5_200, menu),
        ],
        12_000,
    );
    assert_eq!(v.class, AnswerClass::Ivr, "{v:?}");
    assert!(looping(&normalise(looped)));
    // People repeat a word, and a greeting a phrase once; neither is a loop.
    assert!(!looping("hello hello hello hello"));
    assert!(!looping(&normalise(
        "Please leave a message, laissez un message, merci, please leave a message"
    )));
}

#[test]
fn a_loop_that_reads_the_greeting_again_keeps_its_first_round() {
    // hibari's "Hello, the person you've rung uses call screening.", paused on before "Please
    // say who you are …": read to its end, then over and over.
    let looped = "Hello, the person you've run used is called screening. Hello, the person \
                  you've run used is called screening. Hello, the person you've run used is";
    let v = run(
        &[
            (256, "start"),
            (2_600, "Hello, the person you've runged uses call screen."),
            (2_860, looped),
            (2_880, "stop"),
            (3_120, looped),
            (3_220, looped),
        ],
        8_000,
    );
    assert_eq!(v.class, AnswerClass::Screening, "{v:?}");
    assert_eq!(
        reading(normalise(looped), "hello the person you've runged"),
        "hello the person you've run used is called screening"
    );
    // A loop that does not start with the last reading's words is no reading.
    assert_eq!(reading(normalise(looped), "hello this is"), "");
    assert_eq!(reading(normalise(looped), ""), "");
}

#[test]
fn a_voicemails_way_to_someone_else_is_no_menu() {
    let voicemail =
        "Hi, you've reached Anjali Rao in accounts. I'm out of the office until Monday the \
         fourteenth. For anything urgent, please contact my colleague Ben Carter on extension \
         two two four.";
    assert_eq!(words_class(voicemail), Some(AnswerClass::Voicemail));
    let menu = "If you know your party's extension, please enter it now.";
    assert_eq!(words_class(menu), Some(AnswerClass::Ivr));
    let menu = "Welcome to the council. To reach planning on extension four, press four.";
    assert_eq!(words_class(menu), Some(AnswerClass::Ivr));
}

#[test]
fn an_assistant_asking_for_the_callers_name_is_a_screener() {
    let screener =
        "Thanks for calling. Just so I can let them know who it is, may I have your name?";
    assert_eq!(words_class(screener), Some(AnswerClass::Screening));
}

#[test]
fn an_owner_who_screens_their_calls_is_a_voicemail() {
    for greeting in [
        "Hi, you've reached the Hendersons. We're either screening your call or out having fun. \
         Everyone else, you know what to do.",
        "Hi, it's Tom. I'm screening my calls, so leave a message.",
    ] {
        assert_eq!(
            words_class(greeting),
            Some(AnswerClass::Voicemail),
            "{greeting}"
        );
    }
    // Nothing decided on the way there.
    for reading in [
        "Hi, you've reached the Henderson's. We are either screening your call or...",
        "Hi, you've reached the Henderson. Were either screening your call or out having",
    ] {
        assert_eq!(machine_cue(reading), None, "{reading}");
    }
    // An assistant screens for someone.
    let screener = "Hiya, I'm screening calls for Callum at the moment.";
    assert_eq!(words_class(screener), Some(AnswerClass::Screening));
}

#[test]
fn where_the_owner_is_tips_a_greeting_to_a_voicemail() {
    // A menu's "you've reached" and a voicemail's weigh the same; "I'm currently" is an absent
    // owner's.
    let greeting = "Hello, you've reached limb weightling. I'm currently overseas, so please \
                    send me lots of messages to call my office on 655-1344.";
    let leading = Evidence::of(&normalise(greeting)).leading().map(|l| l.0);
    assert_eq!(leading, Some(AnswerClass::Voicemail));
}

#[test]
fn an_ai_receptionist_misheard_is_a_screener() {
    let greeting = "Thanks for calling, they site physio. I'm Ava, the clinics I receptionist.";
    assert_eq!(
        machine_cue(greeting),
        Some((AnswerClass::Screening, "i receptionist"))
    );
}

#[test]
fn a_virtual_assistant_is_a_menu_only_once_its_greeting_is_heard_out() {
    // Both open alike; the screener then asks for a name, the menu how it can help.
    let opening = "Hi, thanks for calling Lone Star Roofing, I'm Ava, the virtual assistant.";
    let screener = format!(
        "{opening} Before I connect you, can I get your name and what the call's regarding?"
    );
    let menu = format!("{opening} How can I help you today?");
    for (whole, class) in [(screener, AnswerClass::Screening), (menu, AnswerClass::Ivr)] {
        // The assistant pauses after its name, read in full there.
        let events = [
            (300, "start"),
            (3_500, opening),
            (3_750, "stop"),
            (4_000, opening),
            (4_200, "start"),
            (6_000, "stop"),
            (6_300, whole.as_str()),
        ];
        let v = run(&events, 12_000);
        assert_eq!(v.class, class, "{whole}: {v:?}");
        assert!(
            v.at_ms >= 6_300,
            "decided before the greeting was heard out: {v:?}"
        );
    }
}

#[test]
fn a_speech_menu_asking_for_the_reason_in_a_few_words_is_a_menu() {
    for menu in [
        "Welcome to Reef Telecom. Using a few words, tell me the reason for your call today.",
        "Thank you for calling Metro Gas. Please tell me, in a few words, the reason for your \
         call.",
    ] {
        assert_eq!(words_class(menu), Some(AnswerClass::Ivr), "{menu}");
    }
    // A screener asks for the reason too, with the caller's name.
    let screener = "Please say your name and the reason for your call.";
    assert_eq!(words_class(screener), Some(AnswerClass::Screening));
}

#[test]
fn a_notice_that_the_offices_are_closed_is_a_machines() {
    // "Aloha" heard as "Hello": the notice still shows a machine.
    let greeting = "Hello, hot and thank you for calling Windward Family Health Center. Please \
                    note our offices will be closed.";
    assert_eq!(words_class(greeting), Some(AnswerClass::Ivr));
}

#[test]
fn please_hold_is_a_menu_only_once_its_greeting_is_heard_out() {
    let opening = "Hello, thank you for calling. Please hold on.";
    let whole = format!(
        "{opening} This number uses call screening. Kindly say your name and why you are calling."
    );
    let events = [
        (300, "start"),
        (2_500, opening),
        (2_750, opening),
        (2_800, "stop"),
        (3_300, "start"),
        (7_000, "stop"),
        (7_300, whole.as_str()),
    ];
    let v = run(&events, 12_000);
    assert_eq!(v.class, AnswerClass::Screening, "{v:?}");
    // The queue's "please hold" is still a menu's, known when the greeting ends.
    let queue = "Thank you for calling. Please hold.";
    let v = run(
        &[
            (300, "start"),
            (2_000, queue),
            (2_200, "stop"),
            (2_500, queue),
        ],
        12_000,
    );
    assert_eq!(v.class, AnswerClass::Ivr, "{v:?}");
}
