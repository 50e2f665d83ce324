//! Answer classification on a slice of the bench corpus, through the real signal path
//! (Silero VAD, beep detector, whisper partials): every class is recognised.
//! Needs the local models (`cargo run -p switchboard -- models fetch`) and espeak-ng
//! (`apt-get install espeak-ng`).

use speech::models::ModelStore;
use switchboard::bench::amd::{classify, corpus, Corpus};
use switchboard::local_models::LocalModels;
use switchboard::outcome::{AmdConfig, AnswerClass};

#[test]
fn each_answer_class_of_the_corpus_is_recognised() {
    let models = LocalModels::load(&ModelStore::from_env())
        .expect("local models (run `cargo run -p switchboard -- models fetch`)");
    let clips = corpus(Corpus::Tune, false, Some(2), &models.hibari)
        .expect("corpus (needs espeak-ng: `apt-get install espeak-ng`)");
    let config = AmdConfig::default();
    let mut recognised = std::collections::BTreeMap::new();
    let mut results = Vec::new();
    for clip in &clips {
        let v = classify(clip, &models.silero, &models.whisper, &config, None).expect("classified");
        results.push(format!("{} → {:?} ({})", clip.label, v.class, v.reason));
        if v.class == clip.class {
            *recognised.entry(clip.class).or_insert(0) += 1;
        }
        if clip.class == AnswerClass::Human {
            assert_eq!(
                v.class,
                AnswerClass::Human,
                "a person taken for a machine: {results:?}"
            );
        }
    }
    for class in AnswerClass::ALL {
        assert!(
            recognised.get(&class).copied().unwrap_or(0) >= 1,
            "{class:?} never recognised: {results:#?}"
        );
    }
}
