//! Runs a simulator until Ctrl-C and prints its URL and tokens for a few identities
//! (`cargo run -p livekit-sim --example serve -- <room> <identity>...`): handy to poke it with
//! `tests/livekit/client.py` or any LiveKit client.

use livekit_sim::{SimConfig, Simulator};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let mut args = std::env::args().skip(1);
    let room = args.next().unwrap_or_else(|| "demo".to_owned());
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    println!("url {}", sim.ws_url());
    for identity in args {
        println!("token {identity} {}", sim.token(&room, &identity));
    }
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
}
