//! The tests' scratch directories (`support/tmp.rs`) leave nothing in the system temp dir:
//! removed with their contents when dropped, also while a failing test unwinds, unless
//! `SWITCHBOARD_KEEP_TMP` keeps them for a post-mortem.

mod support;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::Mutex;

use support::tmp::{keeps, TempDir};

#[test]
fn a_scratch_dir_is_removed_with_everything_in_it() {
    let dir = TempDir::with_keep("sb-scratch-test", false);
    let path = dir.path().to_owned();
    assert!(path.is_dir());
    assert!(
        path.starts_with(std::env::temp_dir()),
        "{} is not under the system temp dir",
        path.display()
    );
    std::fs::create_dir_all(dir.join("a/b")).unwrap();
    std::fs::write(dir.join("a/b/file.wav"), b"RIFF").unwrap();
    std::fs::write(dir.join("top.db"), b"rows").unwrap();
    drop(dir);
    assert!(!path.exists(), "{} was left behind", path.display());
}

#[test]
fn a_failing_test_removes_its_scratch_dir_while_unwinding() {
    let seen: Mutex<Option<PathBuf>> = Mutex::new(None);
    let outcome = std::panic::catch_unwind(|| {
        let dir = TempDir::with_keep("sb-scratch-test-panic", false);
        std::fs::write(dir.join("half-written"), b"x").unwrap();
        *seen.lock().unwrap() = Some(dir.path().to_owned());
        panic!("an assertion failed in the middle of the test");
    });
    assert!(outcome.is_err(), "the closure panicked");
    let path = seen.into_inner().unwrap().expect("the dir was created");
    assert!(!path.exists(), "{} survived the panic", path.display());
}

#[test]
fn a_kept_scratch_dir_stays_for_a_post_mortem() {
    let dir = TempDir::with_keep("sb-scratch-test-kept", true);
    std::fs::write(dir.join("server.log"), b"what happened").unwrap();
    let path = dir.path().to_owned();
    drop(dir);
    let kept = std::fs::read(path.join("server.log"));
    // This test's own clean-up, before asserting.
    std::fs::remove_dir_all(&path).unwrap();
    assert_eq!(kept.unwrap(), b"what happened");
}

#[test]
fn scratch_dirs_with_one_prefix_are_distinct() {
    let (a, b) = (
        TempDir::with_keep("sb-scratch-test-twice", false),
        TempDir::with_keep("sb-scratch-test-twice", false),
    );
    assert_ne!(a.path(), b.path());
    std::fs::write(a.join("f"), b"a").unwrap();
    drop(b);
    assert!(a.join("f").is_file(), "dropping one removed the other");
}

#[test]
fn keep_is_asked_for_by_any_value_but_empty_or_zero() {
    assert!(!keeps(None));
    assert!(!keeps(Some(OsStr::new(""))));
    assert!(!keeps(Some(OsStr::new("0"))));
    assert!(keeps(Some(OsStr::new("1"))));
    assert!(keeps(Some(OsStr::new("yes"))));
}
