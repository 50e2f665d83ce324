use super::*;

fn s(text: &str) -> f32 {
    score_text(text).score
}

#[test]
fn negation_flips_the_sign_of_the_word_it_governs() {
    assert!(s("that's bad") < -0.2, "{}", s("that's bad"));
    assert!(s("that's not bad") > 0.0, "{}", s("that's not bad"));
    assert!(s("I'm happy with it") > 0.3);
    assert!(
        s("I'm not happy with it") < -0.2,
        "{}",
        s("I'm not happy with it")
    );
    assert!(s("this is helpful") > 0.2);
    assert!(s("this isn't helpful at all") < 0.0);
    assert!(s("I don't hate it") > 0.0, "{}", s("I don't hate it"));
}

#[test]
fn negated_praise_is_worse_than_negated_criticism_is_good() {
    // "not great" is a complaint; "not terrible" is faint praise.
    assert!(s("not great").abs() > s("not terrible").abs() * 0.9);
    assert!(s("not terrible") < s("great"));
}

#[test]
fn intensifiers_strengthen_and_downtoners_weaken() {
    assert!(s("this is very good") > s("this is good"));
    assert!(s("I am extremely frustrated") < s("I am frustrated"));
    assert!(s("really ridiculous") < s("ridiculous"));
    assert!(s("a little annoyed") > s("annoyed"));
}

#[test]
fn the_clause_after_but_outweighs_the_one_before() {
    assert!(s("the price is good but the service is terrible") < 0.0);
    assert!(s("the service was terrible but you fixed it, thank you") > 0.0);
}

#[test]
fn call_centre_vocabulary_is_scored() {
    assert!(s("this is ridiculous, I want to cancel") < -0.5);
    assert!(s("stop calling me, this is a waste of my time") < -0.5);
    assert!(s("perfect, thank you so much") > 0.5);
    assert!(s("that sounds good") > 0.3);
    assert!(s("I want to speak to a manager") < 0.0);
}

#[test]
fn neutral_speech_has_no_confidence() {
    let n = score_text("my zip code is nine four one oh seven");
    assert_eq!(n.score, 0.0);
    assert_eq!(n.confidence, 0.0);
    let strong = score_text("this is absolutely ridiculous and unacceptable");
    let weak = score_text("fine");
    assert!(strong.confidence > weak.confidence);
    assert!(strong.confidence <= 1.0 && weak.confidence > 0.0);
}

#[test]
fn a_lone_absolutely_is_positive() {
    assert!(s("Absolutely!") > 0.2);
}

#[test]
fn call_sentiment_follows_the_latest_mood() {
    let happy_then_angry = aggregate(
        [
            "great, thanks",
            "sure",
            "this is ridiculous",
            "I'm very frustrated",
        ]
        .iter()
        .map(|t| score_text(t)),
    );
    let angry_then_happy = aggregate(
        [
            "this is ridiculous",
            "I'm very frustrated",
            "great, thanks",
            "perfect",
        ]
        .iter()
        .map(|t| score_text(t)),
    );
    assert!(happy_then_angry.score < 0.0, "{happy_then_angry:?}");
    assert!(angry_then_happy.score > 0.0, "{angry_then_happy:?}");
    assert!(happy_then_angry.confidence > 0.5);
}

#[test]
fn neutral_lines_hardly_move_the_call_score() {
    let mut call = CallSentiment::new();
    call.push(score_text("this is terrible"));
    let before = call.current().score;
    call.push(score_text("my number is five five five"));
    assert!((call.current().score - before).abs() < 1e-6);
    assert_eq!(call.utterances(), 2);
    assert_eq!(aggregate([]), Sentiment::NEUTRAL);
}
