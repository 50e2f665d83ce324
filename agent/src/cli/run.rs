//! `switchboard run`: the long-running runtime — control port, job worker, webhook sender,
//! scripts with hot reload — on Postgres (`DATABASE_URL`) or, by default, an embedded SQLite
//! file. `switchboard keys create` makes the API keys it accepts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono_tz::Tz;

use super::llm_args::LlmArgs;
use super::local_call::{block_on, exit};
use crate::local_models::LocalModels;
use crate::runtime::boot::{boot, BootOptions};
use crate::runtime::compliance::Policy;
use crate::runtime::dial::Dialer;
use crate::runtime::livekit::{spawn_worker, LiveKitConfig, LiveKitDialer, LiveKitSetup};
use crate::runtime::RuntimeConfig;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// Postgres URL (postgres://user:pass@host/db). Without it: an embedded SQLite file in
    /// the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Local state: the SQLite file (by default) and the durable write spool.
    #[arg(long, env = "SWITCHBOARD_DATA", default_value = "var")]
    pub data_dir: PathBuf,
}

impl StoreArgs {
    /// The store for one-off admin commands. They write directly, and must not replay (and
    /// rewrite) the spool a running `switchboard run` is appending to: they get their own.
    async fn open_admin(&self) -> anyhow::Result<Store> {
        Ok(Store::open(&self.url(), &self.data_dir.join("spool-admin")).await?)
    }

    fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join("switchboard.db").display()
            )
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Control port address.
    #[arg(long, env = "SWITCHBOARD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory of dialogue scripts (reloaded when files change).
    #[arg(long, env = "SWITCHBOARD_SCRIPTS", default_value = "scripts")]
    pub scripts: PathBuf,
    /// Write each call's stereo recording here (`<dir>/<tenant>/<call id>.wav`).
    #[arg(long, env = "SWITCHBOARD_RECORDINGS")]
    pub recordings: Option<PathBuf>,
    /// SIP trunk endpoint settings (TOML: bind, routes, allow_from, trunk…); no SIP without.
    #[arg(long, env = "SWITCHBOARD_SIP_CONFIG")]
    pub sip_config: Option<PathBuf>,
    /// LiveKit settings (TOML: url, agent_name, routes, outbound_trunk…): take dispatched
    /// rooms as calls and dial jobs with transport `livekit` through LiveKit SIP. Needs
    /// LIVEKIT_API_KEY and LIVEKIT_API_SECRET.
    #[arg(long, env = "SWITCHBOARD_LIVEKIT_CONFIG")]
    pub livekit_config: Option<PathBuf>,
    /// Calls this process runs at once.
    #[arg(long, env = "SWITCHBOARD_MAX_CALLS", default_value_t = 16)]
    pub max_calls: usize,
    /// Claim no new jobs while the 1-minute load average per core is above this.
    #[arg(long, env = "SWITCHBOARD_MAX_LOAD_PER_CORE")]
    pub max_load_per_core: Option<f64>,
    /// Refuse outbound jobs to numbers without a consent record.
    #[arg(long, env = "SWITCHBOARD_REQUIRE_CONSENT", default_value_t = true, action = clap::ArgAction::Set)]
    pub require_consent: bool,
    /// Callee time zone when a job names none (IANA).
    #[arg(long, env = "SWITCHBOARD_DEFAULT_TIME_ZONE", default_value = "UTC")]
    pub default_time_zone: String,
    #[command(flatten)]
    pub llm: LlmArgs,
}

pub fn run(args: RunArgs) -> ExitCode {
    exit(block_on(async move {
        let tz: Tz = args
            .default_time_zone
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown time zone {:?}", args.default_time_zone))?;
        let models = tokio::task::spawn_blocking(|| {
            LocalModels::load(&speech::models::ModelStore::from_env())
        })
        .await??;
        let livekit = match (
            std::env::var("LIVEKIT_API_KEY").ok(),
            std::env::var("LIVEKIT_API_SECRET").ok(),
        ) {
            (Some(k), Some(s)) => Some((k, s)),
            _ => None,
        };
        let sip = match &args.sip_config {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                Some(
                    toml::from_str(&text)
                        .with_context(|| format!("SIP configuration {}", path.display()))?,
                )
            }
        };
        let livekit_agent = match &args.livekit_config {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let config: LiveKitConfig = toml::from_str(&text)
                    .with_context(|| format!("LiveKit configuration {}", path.display()))?;
                let Some((api_key, api_secret)) = livekit.clone() else {
                    anyhow::bail!("--livekit-config needs LIVEKIT_API_KEY and LIVEKIT_API_SECRET");
                };
                Some(LiveKitSetup {
                    config,
                    api_key,
                    api_secret,
                })
            }
        };
        let mut dialers: HashMap<String, Arc<dyn Dialer>> = HashMap::new();
        if let Some(setup) = &livekit_agent {
            let dialer = LiveKitDialer {
                setup: setup.clone(),
            };
            dialers.insert("livekit".into(), Arc::new(dialer));
        }
        let running = boot(
            models,
            BootOptions {
                database_url: args.store.url(),
                data_dir: args.store.data_dir.clone(),
                scripts_dir: args.scripts.clone(),
                listen: args.listen,
                config: RuntimeConfig {
                    max_calls: args.max_calls,
                    max_load_per_core: args.max_load_per_core,
                    recordings_dir: args.recordings.clone(),
                    policy: Policy {
                        require_consent: args.require_consent,
                        default_time_zone: tz,
                        ..Policy::default()
                    },
                    ..RuntimeConfig::default()
                },
                llm: args.llm.build()?,
                livekit,
                dialers,
                sip,
            },
        )
        .await?;
        eprintln!(
            "switchboard: control port on http://{} (store: {:?}); Ctrl-C to stop",
            running.addr,
            running.rt.store.backend()
        );
        if let Some(addr) = running.sip_addr {
            eprintln!("switchboard: SIP on udp://{addr}");
        }
        if let Some(setup) = livekit_agent {
            let url = setup.config.url.clone();
            spawn_worker(running.rt.clone(), setup).context("starting the LiveKit worker")?;
            eprintln!("switchboard: LiveKit agent worker on {url}");
        }
        shutdown_signal().await;
        eprintln!("switchboard: stopping (ending calls, flushing writes)");
        running.shutdown().await;
        Ok(())
    }))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create an API key for a tenant; the key is printed once.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value = "default")]
        name: String,
        /// Requests a minute.
        #[arg(long, default_value_t = 600)]
        rate_per_min: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Register a webhook endpoint for a tenant's events.
    Webhook {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        url: String,
        /// Signing secret (read from the environment only).
        #[arg(skip = std::env::var("SWITCHBOARD_WEBHOOK_SECRET").ok())]
        secret: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn keys(args: KeysArgs) -> ExitCode {
    exit(block_on(async move {
        match args.command {
            KeysCommand::Create {
                tenant,
                name,
                rate_per_min,
                store,
            } => {
                let store = store.open_admin().await?;
                let (key, secret) = store.create_api_key(&tenant, &name, rate_per_min).await?;
                eprintln!(
                    "created key {} for tenant {} ({} requests/min)",
                    key.id, key.tenant, key.rate_per_min
                );
                println!("{secret}");
            }
            KeysCommand::Webhook {
                tenant,
                url,
                secret,
                store,
            } => {
                let secret =
                    secret.context("set SWITCHBOARD_WEBHOOK_SECRET to the signing secret")?;
                let store = store.open_admin().await?;
                let id = store.add_webhook(&tenant, &url, &secret).await?;
                println!("{id}");
            }
        }
        Ok(())
    }))
}
