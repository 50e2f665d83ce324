//! Every shipped script in `scripts/` compiles, has a conversation test file next to it, and
//! every conversation passes.

use std::path::PathBuf;

use switchboard_dialogue::{load, testing};

fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts")
}

#[test]
fn every_shipped_script_compiles_and_has_conversations() {
    let files = load::script_files(&scripts_dir()).expect("scripts/ is readable");
    assert!(
        files.len() >= 4,
        "expected the shipped scripts, found {files:?}"
    );
    for f in &files {
        if let Err(diags) = load::load_file(f) {
            let text: Vec<String> = diags.iter().map(ToString::to_string).collect();
            panic!("{} does not compile:\n{}", f.display(), text.join("\n"));
        }
        let test = f.with_file_name(format!(
            "{}.test.yaml",
            f.file_stem().unwrap().to_string_lossy()
        ));
        assert!(
            test.exists(),
            "{} has no conversation file {}",
            f.display(),
            test.display()
        );
    }
}

#[test]
fn every_shipped_conversation_passes() {
    let tests = load::test_files(&scripts_dir()).expect("scripts/ is readable");
    let mut failures = Vec::new();
    let mut cases = 0;
    for t in &tests {
        for r in testing::run_file(t) {
            cases += 1;
            if let Some(f) = r.failure {
                failures.push(format!("FAIL {} › {}\n{f}", r.file, r.case));
            }
        }
    }
    assert!(cases > 0, "no conversation cases found");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
