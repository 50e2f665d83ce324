//! Script authoring commands: validate, chat, test, graph, schema. Thin wrappers: the logic
//! (compile, simulator, conversation runner, drawing, schema) lives in the `dialogue` crate.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use dialogue::{load, sim, testing};

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Script files or directories (test files `*.test.yaml` are skipped).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    /// The script to talk to.
    pub script: PathBuf,
    /// Job variables, `name=value` (repeatable). Values are JSON when they parse as JSON.
    #[arg(long = "var", value_name = "K=V")]
    pub vars: Vec<String>,
    /// Simulated clock at dial time (RFC 3339); default: now.
    #[arg(long)]
    pub start: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Conversation files (`*.test.yaml`) or directories holding them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    pub script: PathBuf,
    #[arg(long, value_enum, default_value = "mermaid")]
    pub format: GraphFormat,
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {}

fn expand(
    paths: &[PathBuf],
    lister: fn(&Path) -> std::io::Result<Vec<PathBuf>>,
) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            out.extend(lister(p).map_err(|e| format!("{}: {e}", p.display()))?);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// `switchboard validate`: every error of every file, then a non-zero exit if any.
pub fn validate(args: ValidateArgs) -> ExitCode {
    let files = match expand(&args.paths, load::script_files) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut errors = 0;
    for f in &files {
        match load::load_file(f) {
            Ok(s) => println!(
                "ok   {} ({} v{}, {} nodes)",
                f.display(),
                s.id,
                s.version,
                s.nodes.len()
            ),
            Err(diags) => {
                errors += diags.len();
                for d in diags {
                    eprintln!("{d}");
                }
            }
        }
    }
    if errors > 0 {
        eprintln!("{errors} error(s) in {} file(s)", files.len());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// `switchboard test`: runs conversation files, prints failures as diffs.
pub fn test(args: TestArgs) -> ExitCode {
    let files = match expand(&args.paths, load::test_files) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (mut passed, mut failed) = (0, 0);
    for f in &files {
        for r in testing::run_file(f) {
            match r.failure {
                None => {
                    passed += 1;
                    println!("pass {} › {}", r.file, r.case);
                }
                Some(msg) => {
                    failed += 1;
                    println!("FAIL {} › {}\n{}\n", r.file, r.case, indent(&msg));
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 || passed == 0 {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `switchboard graph`.
pub fn graph(args: GraphArgs) -> ExitCode {
    match load::load_file(&args.script) {
        Ok(s) => {
            let f = match args.format {
                GraphFormat::Mermaid => dialogue::graph::Format::Mermaid,
                GraphFormat::Dot => dialogue::graph::Format::Dot,
            };
            print!("{}", dialogue::graph::render(&s, f));
            ExitCode::SUCCESS
        }
        Err(diags) => {
            for d in diags {
                eprintln!("{d}");
            }
            ExitCode::FAILURE
        }
    }
}

/// `switchboard schema`.
pub fn schema(_args: SchemaArgs) -> ExitCode {
    match serde_json::to_string_pretty(&dialogue::json_schema()) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `switchboard chat`: a text REPL on stdin against a simulated call.
pub fn chat(args: ChatArgs) -> ExitCode {
    let script = match load::load_file(&args.script) {
        Ok(s) => Arc::new(s),
        Err(diags) => {
            for d in diags {
                eprintln!("{d}");
            }
            return ExitCode::FAILURE;
        }
    };
    let mut vars = BTreeMap::new();
    for kv in &args.vars {
        let Some((k, v)) = kv.split_once('=') else {
            eprintln!("error: --var wants name=value, got `{kv}`");
            return ExitCode::FAILURE;
        };
        let value =
            serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.to_string()));
        vars.insert(k.to_string(), value);
    }
    let start = match &args.start {
        Some(s) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.with_timezone(&chrono::Utc),
            Err(e) => {
                eprintln!("error: --start: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()),
    };
    println!("Chatting with {} (version {}). Type what the caller says; commands: /silence /dtmf 5 /wait 30s", script.id, script.version);
    println!("/human-joins /tool-ok {{json}} /tool-error msg /llm text | verdict /llm-error msg /sentiment -0.7 /voicemail /hangup /quit");
    let mut sim = sim::Sim::new(script, &vars, start);
    let effects = sim.answer();
    show(&sim, &effects);
    let stdin = std::io::stdin();
    let mut line = String::new();
    loop {
        if sim.engine.is_ended() {
            println!("(call ended)");
            return ExitCode::SUCCESS;
        }
        print!("caller> ");
        let _ = std::io::stdout().flush();
        line.clear();
        match stdin.lock().read_line(&mut line) {
            Ok(0) | Err(_) => return ExitCode::SUCCESS,
            Ok(_) => {}
        }
        let input = line.trim();
        if input.is_empty() {
            continue;
        }
        if input == "/quit" || input == "/exit" {
            return ExitCode::SUCCESS;
        }
        match sim.command(input) {
            Ok(effects) => show(&sim, &effects),
            Err(e) => println!("  ! {e}"),
        }
    }
}

fn show(sim: &sim::Sim, effects: &[dialogue::Effect]) {
    for e in effects {
        println!("{}", sim::describe(e));
    }
    let st = sim.engine.state();
    let answers: Vec<String> = st
        .answers
        .iter()
        .map(|(k, v)| format!("{k}={}", v.to_json()))
        .collect();
    let vars: Vec<String> = st
        .vars
        .iter()
        .filter(|(k, _)| !st.answers.contains_key(*k) && k.as_str() != "answers")
        .map(|(k, v)| format!("{k}={}", v.to_json()))
        .collect();
    println!(
        "  · node {} | clock +{}s | slots: {} | vars: {}",
        st.node.as_deref().unwrap_or("-"),
        (sim.now - sim.start).num_seconds(),
        if answers.is_empty() {
            "-".into()
        } else {
            answers.join(", ")
        },
        if vars.is_empty() {
            "-".into()
        } else {
            vars.join(", ")
        }
    );
}
