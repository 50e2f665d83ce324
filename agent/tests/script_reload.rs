//! Hot reload of dialogue scripts (issue 3, "Tools for authors"): new calls get the new
//! version, running calls keep theirs, an invalid edit is refused with its errors and the old
//! version stays live. Real files in a temp directory; the watcher runs on the real clock and
//! the tests wait for its effect with bounded polling loops (no duration is asserted).

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use dialogue::{DiagKind, Effect, Engine, Event};
use support::tmp::{tmp, ScratchDir};
use switchboard::scripts::{watch, ScriptRegistry};
use tokio_util::sync::CancellationToken;

/// A scripts directory under the system temp dir, removed on drop (`support/tmp.rs`).
struct Dir(ScratchDir);

impl Dir {
    fn new() -> Self {
        Dir(tmp("sb-script-reload"))
    }
    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.0.join(name), text).expect("write script");
    }
    fn remove(&self, name: &str) {
        std::fs::remove_file(self.0.join(name)).expect("remove script");
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
}

/// A two-node script that says `line` and hangs up.
fn script(id: &str, line: &str) -> String {
    format!(
        "version: 1\nid: {id}\nnodes:\n  - id: hello\n    type: say\n    text: \"{line}\"\n    next: done\n  - id: done\n    type: end\n"
    )
}

/// What a call on `script` says first.
fn first_line(script: Arc<dialogue::Script>) -> String {
    let now = chrono::Utc::now();
    let (mut engine, _) = Engine::new(script, &Default::default(), now);
    let effects = engine.step(Event::Answered { now });
    effects
        .into_iter()
        .find_map(|e| match e {
            Effect::Say { text, .. } => Some(text),
            _ => None,
        })
        .expect("the script says something")
}

#[test]
fn a_valid_edit_serves_new_calls_while_a_running_call_keeps_its_version() {
    let dir = Dir::new();
    dir.write("greet.yaml", &script("greet", "Hello there."));
    let (reg, first) = ScriptRegistry::load(dir.path());
    assert!(first.refused.is_empty(), "{first}");
    assert_eq!(first.loaded.len(), 1, "{first}");

    // A call starts: it takes its script once.
    let running = reg.get("greet").expect("loaded");
    let v1 = running.version.clone();

    dir.write("greet.yaml", &script("greet", "Good morning."));
    let report = reg.reload();
    assert!(report.refused.is_empty(), "{report}");
    assert_eq!(report.updated.len(), 1, "{report}");
    let update = &report.updated[0];
    assert_eq!(
        (update.id.as_str(), update.from.as_str()),
        ("greet", v1.as_str())
    );

    let fresh = reg.get("greet").expect("still loaded");
    assert_eq!(fresh.version, update.to);
    assert_ne!(fresh.version, v1);
    // The running call still has, and runs, what it started with.
    assert_eq!(running.version, v1);
    assert_eq!(first_line(running), "Hello there.");
    assert_eq!(first_line(fresh), "Good morning.");
}

#[test]
fn an_invalid_edit_is_refused_with_positions_and_the_old_version_stays() {
    let dir = Dir::new();
    dir.write("greet.yaml", &script("greet", "Hello there."));
    let (reg, _) = ScriptRegistry::load(dir.path());
    let v1 = reg.get("greet").unwrap().version.clone();

    // Line 7 points at a node that does not exist.
    dir.write(
        "greet.yaml",
        &script("greet", "Hello again.").replace("next: done", "next: nowhere"),
    );
    let report = reg.reload();
    let refusal = report.refusal("greet.yaml").expect("refused");
    let d = refusal
        .diagnostics
        .iter()
        .find(|d| d.kind == DiagKind::UnknownTarget)
        .unwrap_or_else(|| panic!("unknown-node diagnostic in {report}"));
    assert!(d.file.ends_with("greet.yaml"));
    assert_eq!(d.line, 7, "{d}");
    assert!(d.col > 1, "{d}");
    assert!(
        d.to_string().contains(&format!("greet.yaml:7:{}", d.col)),
        "{d}"
    );
    assert_eq!(
        refusal.kept.as_ref().map(|k| k.version.as_str()),
        Some(v1.as_str())
    );
    assert!(report.to_string().contains("greet.yaml:7:"), "{report}");

    assert!(!report.changed(), "{report}");
    assert_eq!(report.live_version("greet"), Some(v1.as_str()));
    let live = reg.get("greet").expect("old version still live");
    assert_eq!(live.version, v1);
    assert_eq!(first_line(live), "Hello there.");

    // Fixing the file loads it.
    dir.write("greet.yaml", &script("greet", "Hello again."));
    let fixed = reg.reload();
    assert!(fixed.refused.is_empty(), "{fixed}");
    assert_eq!(fixed.updated.len(), 1, "{fixed}");
    assert_eq!(first_line(reg.get("greet").unwrap()), "Hello again.");
}

#[test]
fn a_new_file_appears_and_a_removed_file_disappears() {
    let dir = Dir::new();
    dir.write("a.yaml", &script("a", "A."));
    let (reg, _) = ScriptRegistry::load(dir.path());
    assert!(reg.get("b").is_none());

    dir.write("b.yaml", &script("b", "B."));
    let report = reg.reload();
    assert_eq!(report.loaded.len(), 1, "{report}");
    assert_eq!(report.loaded[0].id, "b");
    assert_eq!(report.unchanged.len(), 1, "{report}");
    assert_eq!(first_line(reg.get("b").expect("new file loaded")), "B.");
    assert_eq!(reg.all().len(), 2);

    let held = reg.get("a").unwrap();
    dir.remove("a.yaml");
    let report = reg.reload();
    assert_eq!(report.removed.len(), 1, "{report}");
    assert_eq!(report.removed[0].id, "a");
    assert_eq!(report.removed[0].version, held.version);
    assert!(reg.get("a").is_none());
    assert_eq!(reg.all().len(), 1);
    // A call that took it before keeps running it.
    assert_eq!(first_line(held), "A.");
}

#[test]
fn duplicate_ids_across_files_are_refused() {
    let dir = Dir::new();
    dir.write("a.yaml", &script("same", "From a."));
    let (reg, _) = ScriptRegistry::load(dir.path());
    let v_a = reg.get("same").unwrap().version.clone();

    dir.write("b.yaml", &script("same", "From b."));
    let report = reg.reload();
    let refusal = report.refusal("b.yaml").expect("b.yaml refused");
    let d = &refusal.diagnostics[0];
    assert_eq!(d.kind, DiagKind::DuplicateId);
    assert!(
        d.message.contains("same") && d.message.contains("a.yaml"),
        "{d}"
    );
    assert!(refusal.kept.is_none(), "b.yaml never had a live version");
    assert!(!report.changed(), "{report}");
    assert_eq!(reg.get("same").unwrap().version, v_a);
    assert_eq!(reg.all().len(), 1);

    // Editing the incumbent still works while the duplicate stays refused.
    dir.write("a.yaml", &script("same", "From a, edited."));
    let report = reg.reload();
    assert_eq!(report.updated.len(), 1, "{report}");
    assert!(report.refusal("b.yaml").is_some(), "{report}");
    assert_eq!(first_line(reg.get("same").unwrap()), "From a, edited.");
}

/// Polls `cond` up to `tries` times, `every` apart; false if it never held.
async fn eventually(tries: u32, every: Duration, mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..tries {
        if cond() {
            return true;
        }
        tokio::time::sleep(every).await;
    }
    cond()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_picks_up_changes_and_stops_when_cancelled() {
    let dir = Dir::new();
    dir.write("greet.yaml", &script("greet", "Hello there."));
    let (reg, _) = ScriptRegistry::load(dir.path());
    let reg = Arc::new(reg);
    let v1 = reg.get("greet").unwrap().version.clone();

    let cancel = CancellationToken::new();
    let task = tokio::spawn(watch(
        Arc::clone(&reg),
        Duration::from_millis(10),
        cancel.clone(),
    ));
    let tick = Duration::from_millis(10);

    dir.write("greet.yaml", &script("greet", "Good morning."));
    let updated = eventually(3000, tick, || reg.get("greet").unwrap().version != v1).await;
    assert!(updated, "the watcher never reloaded the edited script");
    let v2 = reg.get("greet").unwrap().version.clone();

    dir.write("extra.yaml", &script("extra", "Extra."));
    assert!(
        eventually(3000, tick, || reg.get("extra").is_some()).await,
        "the watcher never loaded the new file"
    );

    // An invalid edit never replaces the live version.
    dir.write("greet.yaml", "version: 1\nid: greet\nnodes: [\n");
    dir.remove("extra.yaml");
    assert!(
        eventually(3000, tick, || reg.get("extra").is_none()).await,
        "the watcher never dropped the removed file"
    );
    assert_eq!(reg.get("greet").unwrap().version, v2);

    cancel.cancel();
    let stopped = eventually(3000, tick, || task.is_finished()).await;
    assert!(stopped, "the watcher did not stop after cancellation");
    let stats = task.await.expect("the watcher did not panic");
    assert!(stats.reloads >= 3, "{stats:?}");
    assert!(stats.polls >= stats.reloads, "{stats:?}");
}
