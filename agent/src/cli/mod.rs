//! Command-line surface of the `switchboard` binary. Each subcommand lives in its own module;
//! this file only parses and dispatches.

pub mod authoring;
pub mod bench;
pub mod llm_args;
pub mod local_call;
pub mod models;
pub mod run;

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
    /// Fetch or check the local models.
    Models(models::ModelsArgs),
    /// Run one call on this machine: a WAV file is the caller.
    Call(local_call::CallArgs),
    /// Run a whole spoken call offline: a simulated caller talks to the agent.
    Demo(local_call::DemoArgs),
    /// Measure the turn engine's speed and memory on this machine.
    Bench(bench::BenchArgs),
    /// Run the runtime: control HTTP port, job queue worker, webhooks, scripts hot reload.
    Run(run::RunArgs),
    /// Create API keys and register webhook endpoints.
    Keys(run::KeysArgs),
}

/// Runs one parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let otlp = init_tracing();
    let code = match cli.command {
        Command::Models(args) => models::run(args),
        Command::Call(args) => local_call::call(args),
        Command::Demo(args) => local_call::demo(args),
        Command::Bench(args) => bench::run(args),
        Command::Validate(args) => authoring::validate(args),
        Command::Chat(args) => authoring::chat(args),
        Command::Test(args) => authoring::test(args),
        Command::Graph(args) => authoring::graph(args),
        Command::Schema(args) => authoring::schema(args),
        Command::Run(args) => run::run(args),
        Command::Keys(args) => run::keys(args),
    };
    if let Some(otlp) = otlp {
        otlp.shutdown();
    }
    code
}

/// Logs to stderr (JSON lines with `SWITCHBOARD_JSON_LOGS`, carrying the call id of the current
/// span); `RUST_LOG` overrides the default (warnings, and the runtime's own info). With
/// `OTEL_EXPORTER_OTLP_ENDPOINT`, the runtime's spans are exported over OTLP as well.
fn init_tracing() -> Option<crate::otlp::Otlp> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer};

    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,whisper_rs=error"));
    let fmt = if std::env::var_os("SWITCHBOARD_JSON_LOGS").is_some() {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed()
    };
    let otlp = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .and_then(|endpoint| match crate::otlp::Otlp::new(&endpoint) {
            Ok(o) => Some(o),
            Err(e) => {
                eprintln!("switchboard: no trace export to {endpoint}: {e}");
                None
            }
        });
    let traces = otlp
        .as_ref()
        .map(|o| o.layer().with_filter(EnvFilter::new("switchboard=info")));
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(traces)
        .try_init();
    otlp
}
