//! Registry rules that the integration test (`tests/script_reload.rs`) does not reach:
//! ids moving between files in one reload, duplicates released later, unreadable input.

use std::path::Path;

use dialogue::{DiagKind, SelectionKey};

use super::ScriptRegistry;
use crate::scratch::ScratchDir;

/// A scripts directory under the system temp dir, removed on drop (also when a test fails),
/// unless `SWITCHBOARD_KEEP_TMP` keeps it (see [`crate::scratch`]).
struct Dir(ScratchDir);

impl Dir {
    fn new() -> Self {
        Dir(ScratchDir::create("sb-scripts-unit").expect("create a scratch dir"))
    }
    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.0.join(name), text).expect("write script");
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
}

fn script(id: &str, line: &str, select: &str) -> String {
    format!(
        "version: 1\nid: {id}\n{select}nodes:\n  - id: hello\n    type: say\n    text: \"{line}\"\n    next: done\n  - id: done\n    type: end\n"
    )
}

fn ids(reg: &ScriptRegistry) -> Vec<String> {
    reg.all().iter().map(|s| s.id.clone()).collect()
}

#[test]
fn two_files_can_swap_ids_in_one_reload() {
    let dir = Dir::new();
    dir.write("a.yaml", &script("x", "from a", ""));
    dir.write("b.yaml", &script("y", "from b", ""));
    let (reg, first) = ScriptRegistry::load(dir.path());
    assert!(first.refused.is_empty(), "{first}");
    // Each file takes the id the other one gives up.
    dir.write("a.yaml", &script("y", "from a", ""));
    dir.write("b.yaml", &script("x", "from b", ""));
    let report = reg.reload();
    assert!(report.refused.is_empty(), "{report}");
    assert!(reg.get("x").unwrap().file.ends_with("b.yaml"));
    assert!(reg.get("y").unwrap().file.ends_with("a.yaml"));
    assert_eq!(report.updated.len(), 2, "{report}");
}

#[test]
fn a_file_takes_an_id_another_file_gave_up_even_if_listed_first() {
    let dir = Dir::new();
    dir.write("a.yaml", &script("a.old", "a", ""));
    dir.write("b.yaml", &script("shared", "b", ""));
    let (reg, _) = ScriptRegistry::load(dir.path());
    // a.yaml (scanned first) wants the id b.yaml releases in the same reload.
    dir.write("a.yaml", &script("shared", "a", ""));
    dir.write("b.yaml", &script("b.new", "b", ""));
    let report = reg.reload();
    assert!(report.refused.is_empty(), "{report}");
    assert_eq!(ids(&reg), ["shared", "b.new"]);
    assert_eq!(report.removed.len(), 1, "{report}");
    assert_eq!(report.removed[0].id, "a.old");
}

#[test]
fn a_duplicate_is_retried_and_loads_once_the_holder_is_gone() {
    let dir = Dir::new();
    dir.write("a.yaml", &script("same", "a", ""));
    dir.write("b.yaml", &script("same", "b", ""));
    let (reg, first) = ScriptRegistry::load(dir.path());
    let refusal = first.refusal("b.yaml").expect("b.yaml refused");
    assert_eq!(refusal.diagnostics[0].kind, DiagKind::DuplicateId);
    assert_eq!(refusal.diagnostics[0].line, 2, "points at the `id:` line");
    assert!(refusal.kept.is_none());
    assert!(reg.get("same").unwrap().file.ends_with("a.yaml"));

    // b.yaml is not touched; removing a.yaml frees the id.
    std::fs::remove_file(dir.path().join("a.yaml")).unwrap();
    let report = reg.reload();
    assert!(report.refused.is_empty(), "{report}");
    assert!(reg.get("same").unwrap().file.ends_with("b.yaml"));
    assert_eq!(report.updated.len(), 1, "same id, other content: {report}");
}

#[test]
fn non_utf8_content_is_refused_and_the_old_version_stays() {
    let dir = Dir::new();
    dir.write("a.yaml", &script("a", "hello", ""));
    let (reg, _) = ScriptRegistry::load(dir.path());
    let v1 = reg.get("a").unwrap().version.clone();
    std::fs::write(dir.path().join("a.yaml"), [0xff, 0xfe, b'x']).unwrap();
    let report = reg.reload();
    let refusal = report.refusal("a.yaml").expect("refused");
    assert_eq!(refusal.diagnostics[0].kind, DiagKind::Io);
    assert_eq!(refusal.kept.as_ref().unwrap().version, v1);
    assert_eq!(reg.get("a").unwrap().version, v1);
    assert_eq!(report.unchanged.len(), 1);
}

#[test]
fn a_missing_directory_changes_nothing() {
    let dir = Dir::new();
    dir.write("a.yaml", &script("a", "hello", ""));
    let (reg, _) = ScriptRegistry::load(dir.path());
    let moved = dir.path().with_extension("moved");
    std::fs::rename(dir.path(), &moved).unwrap();
    let report = reg.reload();
    std::fs::rename(&moved, dir.path()).unwrap();
    assert_eq!(report.refused.len(), 1, "{report}");
    assert_eq!(report.refused[0].diagnostics[0].kind, DiagKind::Io);
    assert!(!report.changed());
    assert!(reg.get("a").is_some());
}

#[test]
fn selection_sees_reloaded_rules() {
    let dir = Dir::new();
    let gym = "select:\n  - { priority: 5, business_type: gym }\n";
    let gym_hi = "select:\n  - { priority: 9, business_type: gym }\n";
    dir.write("a.yaml", &script("a", "a", gym));
    dir.write("b.yaml", &script("b", "b", ""));
    let (reg, _) = ScriptRegistry::load(dir.path());
    let key = SelectionKey {
        business_type: Some("gym".into()),
        ..SelectionKey::default()
    };
    assert_eq!(reg.select(&key).unwrap().id, "a");
    dir.write("b.yaml", &script("b", "b", gym_hi));
    reg.reload();
    assert_eq!(reg.select(&key).unwrap().id, "b");
    assert!(reg.select(&SelectionKey::default()).is_none());
}

#[test]
fn test_files_next_to_scripts_are_ignored() {
    let dir = Dir::new();
    dir.write("a.yaml", &script("a", "hello", ""));
    dir.write("a.test.yaml", "not: a script\n");
    let (reg, report) = ScriptRegistry::load(dir.path());
    assert!(report.refused.is_empty(), "{report}");
    assert_eq!(ids(&reg), ["a"]);
}

#[test]
fn a_script_that_loses_its_new_id_keeps_its_old_one_against_a_newcomer() {
    let dir = Dir::new();
    dir.write("i.yaml", &script("q", "i", ""));
    dir.write("r.yaml", &script("r", "r", ""));
    let (reg, _) = ScriptRegistry::load(dir.path());
    let old_i = reg.get("q").unwrap();
    // i.yaml tries to take r.yaml's id, and a new file (listed first) claims i.yaml's.
    dir.write("i.yaml", &script("r", "i2", ""));
    dir.write("a.yaml", &script("q", "a", ""));
    let report = reg.reload();
    let dup = |file: &str| {
        let r = report
            .refusal(file)
            .unwrap_or_else(|| panic!("{file}: {report}"));
        assert_eq!(r.diagnostics[0].kind, DiagKind::DuplicateId, "{report}");
        r.diagnostics[0].message.clone()
    };
    assert!(dup("i.yaml").contains("r.yaml"));
    assert!(dup("a.yaml").contains("i.yaml"));
    assert!(!report.changed(), "{report}");
    assert!(std::sync::Arc::ptr_eq(&reg.get("q").unwrap(), &old_i));
    assert!(reg.get("r").unwrap().file.ends_with("r.yaml"));
}

#[test]
fn an_unchanged_directory_reuses_the_compiled_scripts() {
    let dir = Dir::new();
    dir.write("a.yaml", &script("a", "hello", ""));
    dir.write(
        "b.yaml",
        &script("b", "oops", "").replace("next: done", "next: nowhere"),
    );
    let (reg, first) = ScriptRegistry::load(dir.path());
    let a = reg.get("a").unwrap();
    let again = reg.reload();
    assert!(!again.changed(), "{again}");
    assert_eq!(again.unchanged.len(), 1);
    assert_eq!(
        again.refused, first.refused,
        "a still-broken file is reported again"
    );
    assert!(
        std::sync::Arc::ptr_eq(&reg.get("a").unwrap(), &a),
        "not recompiled"
    );
}
