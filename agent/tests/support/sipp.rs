//! SIPp (Debian `sip-tester`) as a scripted far end: a trunk / callee running one scenario
//! from `tests/fixtures/sip/`. Its exit status says whether it saw what the scenario expects.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::process::{Child, Command};
use tokio::time::{timeout, Duration};

pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sip")
        .join(name)
}

pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts SIPp running scenario `name` for one call on a free port; returns it and the port.
pub fn sipp(name: &str) -> (Child, u16) {
    sipp_with(name, &[])
}

/// [`sipp`] with more arguments.
pub fn sipp_with(name: &str, extra: &[&str]) -> (Child, u16) {
    let port = free_udp_port();
    let scenario = scenario(name);
    let port_arg = port.to_string();
    let mut args = vec!["-sf", scenario.to_str().unwrap(), "-p", &port_arg];
    args.extend_from_slice(extra);
    (spawn(&args), port)
}

/// Runs SIPp with `args` plus the common ones (loopback, one call unless `-m` is given,
/// RTP echo on a free media port, 30 s scenario timeout as an error).
pub fn spawn(args: &[&str]) -> Child {
    let found = std::process::Command::new("sh")
        .args(["-c", "command -v sipp"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(found, "sipp is needed: apt-get install sip-tester");
    let media = free_udp_port();
    let mut cmd = Command::new("sipp");
    cmd.args(args).args(["-i", "127.0.0.1", "-nostdin"]);
    if !args.contains(&"-m") {
        cmd.args(["-m", "1"]);
    }
    cmd.args(["-mi", "127.0.0.1", "-mp", &media.to_string(), "-rtp_echo"])
        .args(["-timeout", "30", "-timeout_error"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sipp starts")
}

/// Waits (at most `guard`) for SIPp to finish and asserts its scenario passed.
pub async fn sipp_succeeded(child: Child, guard: Duration) {
    let out = timeout(guard, child.wait_with_output())
        .await
        .expect("sipp exits")
        .expect("sipp ran");
    assert!(
        out.status.success(),
        "sipp's scenario failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
