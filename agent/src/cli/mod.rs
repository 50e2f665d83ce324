//! Command-line surface of the `switchboard` binary. Each subcommand lives in its own module;
//! this file only parses and dispatches.

pub mod authoring;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Switchboard: a real-time voice agent runtime.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check dialogue scripts and report every error with file, line and column.
    Validate(authoring::ValidateArgs),
    /// Talk to a dialogue script in text in the terminal.
    Chat(authoring::ChatArgs),
    /// Run the conversation test files next to scripts.
    Test(authoring::TestArgs),
    /// Draw a script's graph as Mermaid or Graphviz dot.
    Graph(authoring::GraphArgs),
    /// Print the JSON Schema of the dialogue language.
    Schema(authoring::SchemaArgs),
}

/// Runs one parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Validate(args) => authoring::validate(args),
        Command::Chat(args) => authoring::chat(args),
        Command::Test(args) => authoring::test(args),
        Command::Graph(args) => authoring::graph(args),
        Command::Schema(args) => authoring::schema(args),
    }
}
