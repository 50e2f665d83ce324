//! G2P against the real hibari data files: normalisation, lexicon, OOV network, punctuation.

use std::path::PathBuf;
use std::sync::OnceLock;

use switchboard_speech::tts::g2p::G2p;

fn hibari_dir() -> PathBuf {
    let root = std::env::var_os("SWITCHBOARD_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/data"));
    let dir = root.join("hibari");
    assert!(
        dir.join("lexicon_us_gold.json.gz").is_file(),
        "hibari data missing in {}: run `cargo run -p switchboard -- models fetch`",
        dir.display()
    );
    dir
}

fn g2p() -> &'static G2p {
    static G: OnceLock<G2p> = OnceLock::new();
    G.get_or_init(|| G2p::load(&hibari_dir()).expect("load G2P"))
}

fn reference() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tts/g2p_reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

#[test]
fn agrees_with_the_reference_pipeline_on_most_words() {
    let cases = reference();
    let (mut same, mut total) = (0usize, 0usize);
    for case in cases["cases"].as_array().expect("cases") {
        let text = case["text"].as_str().expect("text");
        let want: Vec<&str> = case["phonemes"]
            .as_str()
            .expect("phonemes")
            .split(' ')
            .collect();
        let got_s = g2p().phonemize(text);
        let got: Vec<&str> = got_s.split(' ').collect();
        let agree = want.iter().zip(&got).filter(|(a, b)| a == b).count();
        if agree != want.len() || got.len() != want.len() {
            println!("{text:?}\n  want {want:?}\n  got  {got:?}");
        }
        same += agree;
        total += want.len().max(got.len());
    }
    let ratio = same as f32 / total as f32;
    assert!(
        ratio > 0.85,
        "only {same}/{total} words agree with the reference G2P"
    );
}

#[test]
fn numbers_are_read_as_words() {
    let g = g2p();
    assert_eq!(
        g.normalize("I have 3 cats and 21 dogs."),
        "I have three cats and twenty one dogs."
    );
    assert_eq!(
        g.normalize("It costs 1,250 dollars."),
        "It costs one thousand two hundred fifty dollars."
    );
    assert_eq!(
        g.normalize("Born in 1999, 45% of 3.5"),
        "Born in nineteen ninety nine, forty five percent of three point five"
    );
    assert_eq!(
        g.normalize("the 3rd and 22nd"),
        "the third and twenty second"
    );
    assert_eq!(
        g.normalize("Pay $9.99 or $5 or $0.50"),
        "Pay nine dollars and ninety nine cents or five dollars or fifty cents"
    );
    assert_eq!(
        g.normalize("at 7:30 pm, at 10:05"),
        "at seven thirty P.M, at ten oh five"
    );
    assert_eq!(
        g.normalize("on 2024-05-17"),
        "on May seventeenth, twenty twenty four"
    );
    assert_eq!(
        g.normalize("Call 555-1234."),
        "Call five five five, one two three four."
    );
    assert_eq!(g.normalize("It is -5 degrees"), "It is minus five degrees");
    assert_eq!(g.normalize("from 3-5 km"), "from three to five kilometers");
    assert_eq!(
        g.normalize("$2.5 million"),
        "two point five million dollars"
    );
    let ps = g.phonemize("I have 3 cats.");
    assert!(ps.contains("θɹˈi"), "{ps}");
}

#[test]
fn abbreviations_and_titles_are_expanded() {
    let g = g2p();
    assert_eq!(
        g.normalize("Dr. Smith lives on Main St."),
        "Dr Smith lives on Main Street."
    );
    assert_eq!(
        g.normalize("St. Paul vs. Prof. X"),
        "Saint Paul versus Professor X"
    );
    assert!(
        g.phonemize("Dr. Smith").starts_with("dˈɑktəɹ"),
        "{}",
        g.phonemize("Dr. Smith")
    );
    // Initialisms are spelled letter by letter.
    assert_eq!(g.phonemize("IBM"), "ˌIbˌiˈɛm");
}

#[test]
fn out_of_vocabulary_words_get_phonemes_from_the_oov_network() {
    let g = g2p();
    let ps = g.phonemize("zorblats");
    assert!(!ps.is_empty());
    assert!(ps.starts_with('z') && ps.contains('ˈ'), "{ps}");
    // Not merely spelled out: the letter-name reading of z is "zˈi".
    assert!(!ps.starts_with("zˈi"), "{ps}");
    let ps = g.phonemize("Grubbington");
    assert!(
        ps.chars()
            .filter(|c| "aeiouæɑəɛɪʊʌɔIAOWY".contains(*c))
            .count()
            >= 3,
        "{ps}"
    );
}

#[test]
fn punctuation_survives_as_pauses_and_intonation() {
    let g = g2p();
    let ps = g.phonemize("Well, is it ready? Yes! (Mostly.)");
    assert_eq!(ps.matches(',').count(), 1, "{ps}");
    assert!(
        ps.contains('?') && ps.contains('!') && ps.contains('(') && ps.contains(')'),
        "{ps}"
    );
    assert!(ps.ends_with(".)"), "{ps}");
    // Symbols that are not speech vanish instead of being read as garbage.
    assert_eq!(g.phonemize("~~~"), g.phonemize("about about about"));
    assert_eq!(g.phonemize("hello * * world"), g.phonemize("hello world"));
}

#[test]
fn function_words_depend_on_the_next_sound() {
    let g = g2p();
    assert!(
        g.phonemize("the apple").starts_with("ði "),
        "{}",
        g.phonemize("the apple")
    );
    assert!(
        g.phonemize("the car").starts_with("ðə "),
        "{}",
        g.phonemize("the car")
    );
    assert!(
        g.phonemize("a car").starts_with("ɐ "),
        "{}",
        g.phonemize("a car")
    );
}
