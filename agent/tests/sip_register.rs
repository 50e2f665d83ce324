//! REGISTER to a trunk and OPTIONS keep-alives, against SIPp (Debian `sip-tester`) playing
//! a registrar: the first REGISTER is challenged (401), the second must carry a valid
//! digest, the registration is refreshed before the granted 4 s run out, and an OPTIONS
//! keep-alive follows. SIPp's exit status says whether all of that happened.

mod support;

use tokio::time::Duration;

const PASSWORD_ENV: &str = "SWITCHBOARD_TEST_REGISTRAR_PASSWORD";

#[tokio::test]
async fn we_register_with_digest_refresh_before_expiry_and_keep_alive() {
    std::env::set_var(PASSWORD_ENV, "s3cret");
    let (sipp, port) = support::sipp::sipp("uas_register.xml");
    // SIPp needs a moment to listen; our REGISTER is retransmitted until it does.
    let (ep, cancel) = support::sip::endpoint_with_trunk(serde_json::json!({
        "host": format!("127.0.0.1:{port}"),
        "user": "trunkuser",
        "password_env": PASSWORD_ENV,
        "caller_id": "+15550199",
        "register": true,
        "register_expires_secs": 60,
        "keepalive_secs": 3,
    }))
    .await;
    support::sipp::sipp_succeeded(sipp, Duration::from_secs(60)).await;
    cancel.cancel();
    ep.stopped().await;
}
