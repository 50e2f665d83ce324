//! Script authoring commands: validate, chat, test, graph, schema.
//! (Owned by the dialogue work; placeholder signatures until it lands.)

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Script files or directories.
    pub paths: Vec<PathBuf>,
}
#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    pub script: PathBuf,
}
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    pub paths: Vec<PathBuf>,
}
#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    pub script: PathBuf,
}
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {}

pub fn validate(_args: ValidateArgs) -> ExitCode {
    ExitCode::FAILURE
}
pub fn chat(_args: ChatArgs) -> ExitCode {
    ExitCode::FAILURE
}
pub fn test(_args: TestArgs) -> ExitCode {
    ExitCode::FAILURE
}
pub fn graph(_args: GraphArgs) -> ExitCode {
    ExitCode::FAILURE
}
pub fn schema(_args: SchemaArgs) -> ExitCode {
    ExitCode::FAILURE
}
