use super::compile;
use crate::diag::DiagKind;

const GOOD: &str = r#"
version: 1
id: t.good
variables:
  name: { type: string, default: "there" }
  ok: { type: bool }
nodes:
  - id: ask_ok
    type: ask
    prompt: "Hi {{name}}, ok?"
    slot: ok
    expect: yes_no
    next: check
  - id: check
    type: branch
    cases:
      - when: "ok == true"
        goto: done
    else: done
  - id: done
    type: end
"#;

fn kinds(src: &str) -> Vec<(DiagKind, u32, u32)> {
    match compile("t.yaml", src) {
        Ok(_) => Vec::new(),
        Err(d) => d.into_iter().map(|d| (d.kind, d.line, d.col)).collect(),
    }
}

#[test]
fn a_good_script_compiles_with_a_content_version() {
    let s = compile("t.yaml", GOOD).expect("compiles");
    assert_eq!(s.id, "t.good");
    assert_eq!(s.nodes.len(), 3);
    assert_eq!(s.version.len(), 16);
    let s2 = compile("t.yaml", &GOOD.replace("ok?", "okay?")).unwrap();
    assert_ne!(s.version, s2.version, "the version follows the content");
}

#[test]
fn every_error_is_reported_at_once_with_positions() {
    let bad = r#"
version: 1
id: t.bad
timezone: Mars/Olympus
max_duration: 5 minutes
variables:
  ok: { type: bool }
  n: { type: int }
nodes:
  - id: a
    type: ask
    prompt: "Hi {{nobody}}"
    slot: ok
    expect: rating
    next: nowhere
  - id: b
    type: branch
    cases:
      - when: "n > 'x'"
        goto: a
      - when: "n >"
        goto: a
      - when: "ghost == 1"
        goto: a
    else: a
  - id: a
    type: say
    text: hi
    colour: blue
    next: a
  - id: c
    type: ask
    prompt: p
    slot: ok
    expect: yes_no
    routes:
      - regex: "(unclosed"
        goto: a
    next: a
"#;
    let got = kinds(bad);
    let has = |k: DiagKind, line: u32| got.iter().any(|(kk, l, _)| *kk == k && *l == line);
    assert!(has(DiagKind::BadTimeZone, 4), "{got:?}");
    assert!(has(DiagKind::BadDuration, 5), "{got:?}");
    assert!(has(DiagKind::UndeclaredVariable, 12), "{got:?}");
    assert!(
        has(DiagKind::TypeMismatch, 13),
        "rating into a bool: {got:?}"
    );
    assert!(has(DiagKind::UnknownTarget, 15), "{got:?}");
    assert!(has(DiagKind::TypeMismatch, 19), "{got:?}");
    assert!(has(DiagKind::BadExpression, 21), "{got:?}");
    assert!(has(DiagKind::UndeclaredVariable, 23), "{got:?}");
    assert!(has(DiagKind::UnknownField, 29), "{got:?}");
    assert!(has(DiagKind::BadRegex, 37), "{got:?}");
    // The duplicate `a` is read (its fields fail) but never indexed twice.
    let dup = kinds(&GOOD.replace("id: check", "id: done"));
    assert!(
        dup.iter()
            .any(|(k, l, _)| *k == DiagKind::DuplicateId && *l == 20),
        "{dup:?}"
    );
}

#[test]
fn graph_errors_unreachable_and_no_end() {
    let unreachable = GOOD.to_string() + "  - id: orphan\n    type: end\n";
    assert!(
        kinds(&unreachable)
            .iter()
            .any(|(k, l, _)| *k == DiagKind::UnreachableNode && *l == 22),
        "{:?}",
        kinds(&unreachable)
    );
    let no_end = r#"
version: 1
id: t.loop
nodes:
  - id: a
    type: say
    text: hi
    next: b
  - id: b
    type: say
    text: again
    next: a
"#;
    assert!(
        kinds(no_end)
            .iter()
            .any(|(k, _, _)| *k == DiagKind::NoReachableEnd),
        "{:?}",
        kinds(no_end)
    );
}

#[test]
fn bad_yaml_and_versions() {
    let k = kinds("version: 1\nid: x\nnodes: [\n");
    assert_eq!(k.first().map(|x| x.0), Some(DiagKind::BadYaml));
    let k = kinds(&GOOD.replace("version: 1", "version: 2"));
    assert!(
        k.iter()
            .any(|(k, l, _)| *k == DiagKind::UnsupportedVersion && *l == 2),
        "{k:?}"
    );
    assert_eq!(
        kinds("- just\n- a list\n").first().map(|x| x.0),
        Some(DiagKind::BadYaml)
    );
}

#[test]
fn ivr_rules_compile_and_bad_ones_are_named() {
    let good = GOOD.replace(
        "nodes:",
        "ivr:\n  - phrases: [\"Operator\"]\n    dtmf: \"0\"\n  - phrases: [\"say the name\"]\n    say: \"front desk\"\nnodes:",
    );
    let s = compile("t.yaml", &good).expect("compiles");
    assert_eq!(s.ivr.len(), 2);
    assert!(s.ivr[0].matches("For the operator, press zero."));
    assert!(!s.ivr[0].matches("For sales press one."));
    assert_eq!(
        s.ivr[1].action,
        crate::script::IvrAction::Say("front desk".into())
    );

    let bad = GOOD.replace(
        "nodes:",
        "ivr:\n  - phrases: [operator]\n    dtmf: \"0x\"\n  - phrases: [agent]\n    dtmf: \"1\"\n    say: agent\n  - phrases: [desk]\nnodes:",
    );
    let found = kinds(&bad);
    assert_eq!(
        found
            .iter()
            .filter(|(k, ..)| *k == DiagKind::BadValue)
            .count(),
        3,
        "{found:?}"
    );
}

#[test]
fn a_person_pause_is_a_duration_in_range() {
    let with = |pause: &str| GOOD.replace("nodes:", &format!("person_pause: {pause}\nnodes:"));
    let s = compile("t.yaml", &with("1200ms")).expect("compiles");
    assert_eq!(s.person_pause, Some(std::time::Duration::from_millis(1200)));
    assert_eq!(compile("t.yaml", GOOD).unwrap().person_pause, None);
    // Out of range, and not a duration: each named at its line.
    assert_eq!(kinds(&with("10s")), [(DiagKind::BadValue, 7, 15)]);
    let err = compile("t.yaml", &with("10s")).unwrap_err();
    assert!(err[0].message.contains("300ms to 2s"), "{}", err[0].message);
    assert_eq!(kinds(&with("soon")), [(DiagKind::BadDuration, 7, 15)]);
}
