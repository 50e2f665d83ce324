//! The binary's error paths: bad input gets a clear message and a failing exit code.

mod support;

use std::process::Command;

use support::tmp::tmp;

fn switchboard(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .output()
        .expect("run switchboard");
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    (out.status.success(), text)
}

#[test]
fn a_caller_file_that_is_not_a_wav_is_refused_by_name() {
    let dir = tmp("sb-cli");
    let bogus = dir.join("caller.wav");
    std::fs::write(&bogus, b"this is not audio at all").unwrap();
    let (ok, text) = switchboard(&["call", "--local", "--caller", bogus.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        text.contains("caller.wav") && text.to_lowercase().contains("wav"),
        "{text}"
    );
}

#[test]
fn a_broken_script_is_reported_with_its_position() {
    let dir = tmp("sb-cli-script");
    let script = dir.join("broken.yaml");
    std::fs::write(&script, "version: 1\nid: broken\nnodes:\n  - id: start\n    say: \"Hi {{nobody}}\"\n    next: nowhere\n").unwrap();
    let (ok, text) = switchboard(&["validate", script.to_str().unwrap()]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("broken.yaml:4:"),
        "errors name file, line and column: {text}"
    );
}
