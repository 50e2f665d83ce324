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

#[test]
fn dump() {
    for s in [
        "Hello, thanks for taking my call.",
        "The meeting is on Tuesday.",
        "Dr. Smith paid $9.99 at 7:30 pm on the 3rd of March 2024.",
        "I read the book yesterday, and I will read it again.",
        "It costs 45% more, about 1,250 dollars.",
        "Call 555-1234 now!",
        "Xylophonic zorblats are here.",
        "I have 3 cats and 21 dogs.",
        "The year 1999 was the 21st century? No.",
        "He said \"hi\" (quietly).",
        "It is 3.5 meters long.",
        "I can't do that, it's John's car.",
        "The apple is an orange.",
    ] {
        println!(
            "{s:?} -> {:?}  [{}]",
            g2p().phonemize(s),
            g2p().normalize(s)
        );
    }
}
