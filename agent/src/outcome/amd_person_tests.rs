//! What shows a person in a greeting's words: their mentions of a machine, their questions and
//! offers, a speaker's name.

use super::tests::run;
use super::*;

#[test]
fn a_person_who_took_the_call_for_a_machine_says_so() {
    // As the decoder heard them: a mention of a voicemail, not a voicemail's words.
    for person in [
        "So sorry, I thought you were the voice mail for a second.",
        "Sorry, I thought it was a voicemail.",
        "I thought this was the answering machine. Hello?",
        "Sorry, I nearly let that go to voicemail, I was in the shower. Hello?",
        "Sorry, I nearly let that go to voice mail.",
        "Oh, sorry, mate. I thought you'd go to voicemail. I'm just out on the boat.",
        "Hello? Oh, sorry, I thought it would go to voicemail, I'm out on the tractor.",
        "Sorry, it almost went to the voice mail there.",
    ] {
        assert_eq!(words_class(person), None, "{person}");
    }
    let v = run(
        &[
            (300, "start"),
            (2_400, "stop"),
            (2_500, "Oh, sorry, I thought you were the voice mail."),
        ],
        6_000,
    );
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    // The words after the mention still count.
    assert_eq!(
        words_class("I thought it was you. Leave a message after the tone."),
        Some(AnswerClass::Voicemail)
    );
}

#[test]
fn a_greeting_that_ends_on_a_persons_question_is_a_persons() {
    for person in [
        "Leave a message after the beep. Ha, just kidding, it's me, what's up?",
        "Please leave a message after the beat. Sorry, who is this?",
        // A mention blanked out is no machine phrase to look past.
        "Sorry, I thought it was the voicemail. Who is this?",
    ] {
        assert!(person_after_all(person), "{person}");
    }
    for machine in [
        "Hello? Hello? Ha, gotcha, I'm not actually here. Leave a message.",
        "Hi, you've reached Sam. Who's this? Just kidding, leave a message after the tone.",
        "Thanks for calling, leave a message.",
        // The question is the voicemail's own ("… what this is about").
        "Hi, it's Dee. Tell me who's calling and what this is about after the beep.",
    ] {
        assert!(!person_after_all(machine), "{machine}");
    }
}

#[test]
fn an_offer_to_the_caller_is_a_persons() {
    let child = "Hello? This is Mia. My mommy's not here right now. Do you want to talk to my \
                 grandma?";
    assert_eq!(words_class(child), None);
    // Not against a voicemail's own business.
    let greeting = "Not here right now, do you want to leave a message? Wait for the tone.";
    assert_eq!(words_class(greeting), Some(AnswerClass::Voicemail));
    // An offer alone is not one of a person's words.
    assert!(!human_words(&normalise(
        "Hi, this is Emma and Jack's house. Do you want"
    )));
    assert!(person_after_all(&normalise(child)));
}

#[test]
fn a_person_who_names_themselves_is_no_machine_opening() {
    // A business line's "you're through to accounts", heard as a voicemail's opening.
    let person = "I will only you've reached a count, Jenny speaking.";
    let machine = "I will only you've reached a count, Jenny.";
    let events = |text| [(600, "start"), (3_260, "stop"), (3_600, text)];
    let v = run(&events(person), 10_000);
    assert_eq!(v.class, AnswerClass::Human, "{v:?}");
    let v = run(&events(machine), 10_000);
    assert!(v.class.is_machine(), "{v:?}");
    assert!(cues::machine_opening(
        "you're speaking to the voicemail of jenny you've reached"
    ));
}

#[test]
fn a_name_alone_is_an_introduction() {
    let cases = [
        ("hi this is grace", true),
        ("declan here", true),
        ("sarah kelly here", true),
        ("g'day you've got bruce", true),
        ("mate it's shane", true),
        ("hi there this is sam", true),
        ("this is rick from northside roofing", true),
        // As the decoder may hear them: a lost "it's", a greeting said twice.
        ("hey is connor", true),
        ("hi this is wayling hi this is wayling", true),
        ("hi this is wayling hi this is", true),
        // An answer to someone, a question, more than a name, or no name.
        ("yes this is dana", false),
        ("yes hello rajesh here", false),
        ("hello is this a recording", false),
        ("hello is anyone there", false),
        ("hey it's jordan eh what's up", false),
        ("hey it's marcus go ahead", false),
        ("this is she", false),
        ("hello this is grace who's calling", false),
        ("it's fine", false),
        ("hello", false),
        ("here", false),
        ("this is", false),
        ("is connor", false),
        ("hi this is grace i can't take your call", false),
        // A name said alone, with where its speaker works, or as the decoder started it over.
        ("tom o'kifer", true),
        ("nomsa", true),
        (
            "hello this is father michael doyle at st brendan's parish",
            true,
        ),
        (
            "this is marisol from bright smiles pediatric dentistry",
            true,
        ),
        ("hide this is sophie", true),
        ("hi it's kirsty hi you it's kirsty", true),
        ("hello non dua here hello", true),
        // Not a name: holding the caller, thanks, an answer in other words.
        ("hang on", false),
        ("one sec", false),
        ("thank you", false),
        ("kia ora hello", false),
    ];
    for (said, introduces) in cases {
        assert_eq!(short::self_introduction(said), introduces, "{said}");
    }
}

#[test]
fn speaking_with_a_receptionist_is_no_persons_word() {
    assert!(human_words(&normalise("Hello, Fatima speaking.")));
    assert!(human_words(&normalise("Haan ji, who is speaking?")));
    assert!(human_words(&normalise(
        "Good morning, Debbie speaking, how can I help?"
    )));
    let receptionist = "Stay, thanks for calling sunshine co-studio. You're speaking with me, \
                        the clinic's eye receptionist.";
    assert!(!human_words(&normalise(receptionist)));
    // A partial reading that stops at "speaking" is no name either.
    let partial = "Thanks for calling from Tranco's visit you. You were speaking.";
    assert!(!human_words(&normalise(partial)));
    assert_eq!(words_class(receptionist), Some(AnswerClass::Screening));
}
