//! Switchboard's SIP endpoint as the tests start it: dialling out through a trunk (a SIPp or
//! baresip peer), with inbound calls ignored.

use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard::transport::sip::{
    OutboundCall, Route, SipCall, SipCallHandler, SipConfig, SipEndpoint,
};
use tokio::time::Duration;
use tokio_util::sync::CancellationToken;

/// Inbound calls are not part of these tests: dropped at once.
pub struct NoInbound;

impl SipCallHandler for NoInbound {
    fn handle(&self, _call: SipCall) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

/// An endpoint on a free loopback port whose trunk is `trunk` (the `trunk` table of the SIP
/// configuration, as JSON); cancel the token to stop it.
pub async fn endpoint_with_trunk(trunk: serde_json::Value) -> (SipEndpoint, CancellationToken) {
    let config: SipConfig =
        serde_json::from_value(serde_json::json!({ "bind": "127.0.0.1:0", "trunk": trunk }))
            .expect("SIP test configuration");
    let cancel = CancellationToken::new();
    let ep = SipEndpoint::start(config, Arc::new(NoInbound), cancel.clone())
        .await
        .expect("endpoint starts");
    (ep, cancel)
}

/// A call to `number` for tenant `acme`'s survey.
pub fn call_to(number: &str, ring_timeout: Duration) -> OutboundCall {
    OutboundCall {
        to: number.into(),
        caller_id: None,
        ring_timeout,
        route: Route {
            tenant: "acme".into(),
            script: "survey".into(),
        },
    }
}
