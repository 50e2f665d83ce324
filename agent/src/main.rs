//! The `switchboard` binary: parses the command line and hands over to `switchboard::cli`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = switchboard::cli::Cli::parse();
    switchboard::cli::run(args)
}
