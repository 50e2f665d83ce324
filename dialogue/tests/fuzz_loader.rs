//! Fuzz-style properties: arbitrary bytes and YAML-ish strings never panic the loader or
//! validator, and a compiled script's engine never panics on arbitrary caller input.

use std::sync::Arc;

use proptest::prelude::*;
use switchboard_dialogue::{compile, Engine, Event};

const SURVEY: &str = include_str!("../../scripts/survey.yaml");

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let src = String::from_utf8_lossy(&bytes);
        let _ = compile("fuzz.yaml", &src);
    }

    #[test]
    fn yamlish_strings_never_panic(src in "[ -~\n]{0,600}") {
        let _ = compile("fuzz.yaml", &src);
    }

    #[test]
    fn mutated_real_script_never_panics(cut in 0usize..6000, insert in "[ -~\n]{0,40}") {
        let mut s = SURVEY.to_string();
        let at = cut.min(s.len());
        let at = (0..=at).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
        s.insert_str(at, &insert);
        let _ = compile("fuzz.yaml", &s);
    }

    #[test]
    fn engine_never_panics_on_caller_input(lines in proptest::collection::vec("[ -~]{0,80}", 1..12)) {
        let script = Arc::new(compile("survey.yaml", SURVEY).expect("survey compiles"));
        let t0 = chrono::DateTime::parse_from_rfc3339("2025-01-15T15:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let (mut e, _) = Engine::new(script, &Default::default(), t0);
        e.step(Event::Answered { now: t0 });
        for l in lines {
            e.step(Event::UserSaid { text: l, confidence: 0.9, now: t0 });
        }
    }
}
