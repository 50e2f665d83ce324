//! The signal link: one WebSocket to the server's `/rtc` (or `/agent`) endpoint carrying
//! protobuf messages in binary frames. [`SignalLink`] is owned by one actor (the room or
//! the worker), which sends requests and reads responses in its own `select!` loop; the
//! link keeps no tasks. Keep-alive bookkeeping is the pure [`Keepalive`].

use futures::{SinkExt, StreamExt};
use livekit_protocol as proto;
use prost::Message;
use tokio::net::TcpStream;
use tokio::time::{timeout, Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::LiveKitError;

/// Signal protocol version we speak (≥ 13 so `LeaveRequest.action` is set).
pub const PROTOCOL_VERSION: u32 = 16;
/// How long the server gets to send its first response.
pub const FIRST_RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// How a `/rtc` connection starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectMode {
    /// A fresh join.
    Join,
    /// Resume the session of participant `sid` after a network drop.
    Resume { sid: String },
}

/// `ws(s)://host[/prefix]` from any of ws, wss, http, https URLs.
///
/// # Errors
/// [`LiveKitError::InvalidUrl`] for another scheme.
pub fn ws_base(url: &str) -> Result<String, LiveKitError> {
    let url = url.trim().trim_end_matches('/');
    let rest = |p: &str| url.strip_prefix(p).map(str::to_string);
    if let Some(r) = rest("https://").or_else(|| rest("wss://")) {
        return Ok(format!("wss://{r}"));
    }
    if let Some(r) = rest("http://").or_else(|| rest("ws://")) {
        return Ok(format!("ws://{r}"));
    }
    Err(LiveKitError::InvalidUrl(url.to_string()))
}

/// The `/rtc` URL for a join or resume.
///
/// # Errors
/// [`LiveKitError::InvalidUrl`] for a bad base URL.
pub fn rtc_url(url: &str, mode: &ConnectMode) -> Result<String, LiveKitError> {
    let mut u = format!(
        "{}/rtc?sdk=rust&version={}&protocol={PROTOCOL_VERSION}&auto_subscribe=1&adaptive_stream=0",
        ws_base(url)?,
        env!("CARGO_PKG_VERSION"),
    );
    if let ConnectMode::Resume { sid } = mode {
        u.push_str("&reconnect=1&sid=");
        u.push_str(sid);
    }
    Ok(u)
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One open WebSocket speaking protobuf.
pub struct SignalLink {
    ws: Ws,
}

impl std::fmt::Debug for SignalLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalLink").finish_non_exhaustive()
    }
}

impl SignalLink {
    /// Opens `url` with `Authorization: Bearer <token>`.
    ///
    /// # Errors
    /// [`LiveKitError::Connect`] when the connection or the upgrade fails (an HTTP status in
    /// the reason for a refused token).
    pub async fn open(url: &str, token: &str) -> Result<Self, LiveKitError> {
        let connect_err = |reason: String| LiveKitError::Connect {
            url: url.split('?').next().unwrap_or(url).to_string(),
            reason,
        };
        let mut req = url
            .into_client_request()
            .map_err(|e| connect_err(e.to_string()))?;
        let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| connect_err("token has invalid characters".into()))?;
        req.headers_mut().insert("Authorization", bearer);
        let (ws, _) = timeout(
            FIRST_RESPONSE_TIMEOUT,
            tokio_tungstenite::connect_async(req),
        )
        .await
        .map_err(|_| connect_err("timed out".into()))?
        .map_err(|e| connect_err(e.to_string()))?;
        Ok(Self { ws })
    }

    /// Sends one protobuf message.
    ///
    /// # Errors
    /// [`LiveKitError::Closed`] when the socket fails.
    pub async fn send<M: Message>(&mut self, msg: &M) -> Result<(), LiveKitError> {
        self.ws
            .send(WsMessage::Binary(msg.encode_to_vec().into()))
            .await
            .map_err(|e| LiveKitError::Closed(e.to_string()))
    }

    /// Receives the next protobuf message (text and control frames are skipped).
    ///
    /// # Errors
    /// [`LiveKitError::Closed`] at the end of the stream or on a socket error;
    /// [`LiveKitError::Decode`] for a frame that is not an `M`.
    ///
    /// # Cancel safety
    /// Cancel safe: a frame is consumed only when this returns it.
    pub async fn recv<M: Message + Default>(&mut self) -> Result<M, LiveKitError> {
        loop {
            match self.ws.next().await {
                Some(Ok(WsMessage::Binary(b))) => return Ok(M::decode(b.as_ref())?),
                Some(Ok(WsMessage::Close(frame))) => {
                    return Err(LiveKitError::Closed(format!("closed by server: {frame:?}")))
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(LiveKitError::Closed(e.to_string())),
                None => return Err(LiveKitError::Closed("end of stream".into())),
            }
        }
    }

    /// Closes the socket politely (errors ignored: the peer may be gone already).
    pub async fn close(&mut self) {
        let _ = timeout(Duration::from_secs(1), self.ws.close(None)).await;
    }
}

/// Opens `/rtc` and waits for the first response: `Join` for a join, `Reconnect` for a
/// resume. Messages that arrive before it are returned too, in order.
///
/// # Errors
/// Connection errors, [`LiveKitError::NoResponse`], or [`LiveKitError::Left`] when the
/// server refuses the resume with a `LeaveRequest`.
pub async fn connect_rtc(
    url: &str,
    token: &str,
    mode: &ConnectMode,
) -> Result<(SignalLink, proto::signal_response::Message), LiveKitError> {
    use proto::signal_response::Message as R;
    let mut link = SignalLink::open(&rtc_url(url, mode)?, token).await?;
    let what = match mode {
        ConnectMode::Join => "JoinResponse",
        ConnectMode::Resume { .. } => "ReconnectResponse",
    };
    let first = timeout(FIRST_RESPONSE_TIMEOUT, async {
        loop {
            let resp: proto::SignalResponse = link.recv().await?;
            match resp.message {
                Some(m @ R::Join(_)) if *mode == ConnectMode::Join => return Ok(m),
                Some(m @ R::Reconnect(_)) if *mode != ConnectMode::Join => return Ok(m),
                Some(R::Leave(l)) => {
                    return Err(LiveKitError::Left(super::room::reason_name(l.reason)))
                }
                other => tracing::debug!(?other, "Signal message before the first response."),
            }
        }
    })
    .await
    .map_err(|_| LiveKitError::NoResponse(what))??;
    Ok((link, first))
}

/// Ping/pong bookkeeping: a ping every `interval`; no pong (or any message) within
/// `timeout` of the last one means the link is dead.
#[derive(Debug, Clone, Copy)]
pub struct Keepalive {
    pub interval: Duration,
    pub timeout: Duration,
    last_heard: Instant,
    /// Round trip of the last ping, ms.
    pub rtt_ms: i64,
}

impl Keepalive {
    /// From the JoinResponse's seconds (defaults 5 s / 15 s when the server sends 0).
    pub fn new(interval_s: i32, timeout_s: i32, now: Instant) -> Self {
        let secs = |s: i32, d: u64| Duration::from_secs(if s > 0 { s as u64 } else { d });
        Self {
            interval: secs(interval_s, 5),
            timeout: secs(timeout_s, 15),
            last_heard: now,
            rtt_ms: 0,
        }
    }

    /// Something arrived from the server.
    pub fn heard(&mut self, now: Instant) {
        self.last_heard = now;
    }

    /// A pong for a ping sent at `sent_ms` (wall clock ms) arrived at `now_ms`.
    pub fn pong(&mut self, sent_ms: i64, now_ms: i64, now: Instant) {
        self.rtt_ms = (now_ms - sent_ms).max(0);
        self.last_heard = now;
    }

    /// Whether the server has been silent for longer than the timeout.
    pub fn is_dead(&self, now: Instant) -> bool {
        now.duration_since(self.last_heard) > self.timeout
    }

    /// The ping to send now.
    pub fn ping(&self, now_ms: i64) -> proto::signal_request::Message {
        proto::signal_request::Message::PingReq(proto::Ping {
            timestamp: now_ms,
            rtt: self.rtt_ms,
        })
    }
}

/// Wall-clock milliseconds, for ping timestamps.
pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_for_join_and_resume() {
        let j = rtc_url("http://127.0.0.1:7880/", &ConnectMode::Join).unwrap();
        assert!(j.starts_with("ws://127.0.0.1:7880/rtc?"), "{j}");
        assert!(j.contains("auto_subscribe=1") && !j.contains("reconnect"));
        let r = rtc_url(
            "wss://lk.example.com",
            &ConnectMode::Resume { sid: "PA_x".into() },
        )
        .unwrap();
        assert!(r.starts_with("wss://lk.example.com/rtc?"));
        assert!(r.ends_with("&reconnect=1&sid=PA_x"), "{r}");
        assert!(matches!(
            rtc_url("ftp://x", &ConnectMode::Join),
            Err(LiveKitError::InvalidUrl(_))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn keepalive_declares_a_silent_server_dead() {
        let t0 = Instant::now();
        let mut k = Keepalive::new(0, 3, t0);
        assert_eq!(k.interval, Duration::from_secs(5));
        tokio::time::advance(Duration::from_secs(2)).await;
        k.pong(100, 140, Instant::now());
        assert_eq!(k.rtt_ms, 40);
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(!k.is_dead(Instant::now()));
        tokio::time::advance(Duration::from_millis(1500)).await;
        assert!(k.is_dead(Instant::now()));
    }
}
