//! Bench (not a test): engine step latency p50/p99 over realistic survey and sales turns, and
//! the time to validate every shipped script. Run: `cargo bench -p switchboard-dialogue`.
#![allow(clippy::disallowed_types)] // std Instant: a pure crate bench has no tokio clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use switchboard_dialogue::{compile, load, Engine, Event};

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p) as usize]
}

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts");
    let files = load::script_files(&dir).expect("scripts dir");
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.display().to_string(), std::fs::read_to_string(f).unwrap()))
        .collect();

    // Validation of all shipped scripts (sources already in memory; then with file reads).
    let mut runs = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        for (name, src) in &sources {
            compile(name, src).expect("shipped script compiles");
        }
        runs.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let t = Instant::now();
    let (scripts, diags) = load::load_dir(&dir);
    let with_io = t.elapsed().as_secs_f64() * 1e3;
    assert!(diags.is_empty());
    println!(
        "validate all {} shipped scripts: p50 {:.2} ms, p99 {:.2} ms (in memory); {:.2} ms load_dir with reads",
        scripts.len(),
        pct(&mut runs.clone(), 0.5),
        pct(&mut runs, 0.99),
        with_io
    );

    // Engine steps.
    let t0 = chrono::DateTime::parse_from_rfc3339("2025-01-15T16:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let survey = Arc::new(load::load_file(&dir.join("survey.yaml")).unwrap());
    let sales = Arc::new(load::load_file(&dir.join("sales_gym_cold.yaml")).unwrap());
    let survey_turns = [
        "yeah it was",
        "I'd give it a four out of five",
        "the wait was a bit long but the agent was great",
        "absolutely",
    ];
    let sales_turns = [
        "sure go ahead",
        "how does that work",
        "too expensive I think",
        "sounds good",
        "send it over",
    ];
    let mut steps = Vec::new();
    let mut vars = BTreeMap::new();
    vars.insert("first_name".to_string(), serde_json::json!("Dana"));
    for i in 0..4000 {
        let (script, turns): (&Arc<_>, &[&str]) = if i % 2 == 0 {
            (&survey, &survey_turns)
        } else {
            (&sales, &sales_turns)
        };
        let (mut e, _) = Engine::new(script.clone(), &vars, t0);
        let t = Instant::now();
        e.step(Event::Answered { now: t0 });
        steps.push(t.elapsed().as_secs_f64() * 1e6);
        for line in turns {
            let t = Instant::now();
            let fx = e.step(Event::UserSaid {
                text: (*line).to_string(),
                confidence: 0.93,
                now: t0,
            });
            steps.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(fx);
        }
    }
    let n = steps.len();
    println!(
        "engine step ({} steps): p50 {:.1} us, p99 {:.1} us, max {:.1} us",
        n,
        pct(&mut steps.clone(), 0.5),
        pct(&mut steps.clone(), 0.99),
        pct(&mut steps, 1.0)
    );
    let st_json = {
        let (mut e, _) = Engine::new(survey.clone(), &vars, t0);
        e.step(Event::Answered { now: t0 });
        serde_json::to_string(e.state()).unwrap()
    };
    println!(
        "persisted state after answer: {} bytes of JSON",
        st_json.len()
    );
}
