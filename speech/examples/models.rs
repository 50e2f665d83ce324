//! Model store tool for development: `cargo run -p switchboard-speech --example models -- fetch
//! [--with whisper-base] [--force]` or `... -- check [--with whisper-base]`. The shipped CLI is
//! `switchboard models fetch|check`, which calls the same functions.

use std::process::ExitCode;

use switchboard_speech::models::{check, fetch, FetchOptions, ModelStore};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut with = Vec::new();
    let mut force = false;
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--with" => with.extend(it.next().cloned()),
            "--force" => force = true,
            other => {
                eprintln!("unknown argument {other}");
                return ExitCode::from(2);
            }
        }
    }
    let store = ModelStore::from_env();
    println!("Model store: {}", store.root.display());
    match args.first().map(String::as_str) {
        Some("fetch") => {
            let opts = FetchOptions {
                with,
                force,
                ..FetchOptions::default()
            };
            match fetch(&store, &opts, &mut |e| println!("{e}")) {
                Ok(report) => {
                    println!(
                        "Done: {} fetched, {} already up to date.",
                        report.fetched.len(),
                        report.up_to_date.len()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("check") => {
            let with: Vec<&str> = with.iter().map(String::as_str).collect();
            match check(&store, &with) {
                Ok(()) => {
                    println!("All models present.");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("usage: models fetch|check [--with <model-id>] [--force]");
            ExitCode::from(2)
        }
    }
}
