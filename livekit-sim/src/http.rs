//! The simulator's one port: WebSocket upgrades (`/rtc`, `/agent`) and plain HTTP (`/twirp`,
//! `/rtc/validate`), told apart by peeking at the request head.
//!
//! Lifecycle: the accept loop runs until shutdown; each connection is one task that serves
//! one request (HTTP) or one WebSocket session.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::simulator::Shared;

/// Largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// A parsed request head.
pub(crate) struct Head {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HashMap<String, String>,
    pub len: usize,
}

impl Head {
    /// The bearer token from `Authorization`, or the `access_token` query parameter.
    pub fn token(&self) -> Option<String> {
        if let Some(value) = self.headers.get("authorization") {
            let value = value.trim();
            return Some(
                value
                    .strip_prefix("Bearer ")
                    .unwrap_or(value)
                    .trim()
                    .to_owned(),
            );
        }
        self.query.get("access_token").cloned()
    }
}

/// Accepts connections until `stop` fires.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection(stream, shared.clone()));
                }
                Err(e) => tracing::warn!(%e, "accept failed"),
            }
        }
    }
}

async fn connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let Some(head) = peek_head(&stream).await else {
        return;
    };
    let upgrade = head
        .headers
        .get("upgrade")
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    match (
        head.method.as_str(),
        head.path.trim_end_matches('/'),
        upgrade,
    ) {
        ("GET", "/rtc", true) => match shared.verify(head.token().as_deref()) {
            Ok(claims) if claims.video.room_join && !claims.video.room.is_empty() => {
                if let Ok(ws) = tokio_tungstenite::accept_async(stream).await {
                    crate::join::serve(shared, ws, head.query, claims).await;
                }
            }
            Ok(_) => respond(&mut stream, &head, 401, "token has no room join grant").await,
            Err(e) => respond(&mut stream, &head, 401, &e).await,
        },
        ("GET", "/agent", true) => match shared.verify(head.token().as_deref()) {
            Ok(claims) if claims.video.agent => {
                if let Ok(ws) = tokio_tungstenite::accept_async(stream).await {
                    crate::worker::serve(shared, ws).await;
                }
            }
            Ok(_) => respond(&mut stream, &head, 401, "token has no agent grant").await,
            Err(e) => respond(&mut stream, &head, 401, &e).await,
        },
        ("GET", "/rtc/validate", _) => match shared.verify(head.token().as_deref()) {
            Ok(_) => respond(&mut stream, &head, 200, "success").await,
            Err(e) => respond(&mut stream, &head, 401, &e).await,
        },
        ("POST", path, false) if path.starts_with("/twirp/") => {
            let body = read_body(&mut stream, &head).await;
            let reply = crate::twirp::handle(&shared, &head, path, &body).await;
            write_response(&mut stream, reply.status, &reply.content_type, &reply.body).await;
        }
        // `/rtc/v1` (single PeerConnection) is absent, as on servers before it: clients fall
        // back to `/rtc`.
        _ => respond(&mut stream, &head, 404, "not found").await,
    }
}

/// Reads the request head without consuming it (the WebSocket handshake re-reads it).
async fn peek_head(stream: &TcpStream) -> Option<Head> {
    let mut buf = vec![0u8; MAX_HEAD];
    loop {
        let n = stream.peek(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        if let Some(end) = find(&buf[..n], b"\r\n\r\n") {
            return parse_head(&buf[..end], end + 4);
        }
        if n == MAX_HEAD {
            return None;
        }
        // Only part of the head is here yet: wait for more.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(raw: &[u8], len: usize) -> Option<Head> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut lines = text.split("\r\n");
    let mut request = lines.next()?.split(' ');
    let method = request.next()?.to_owned();
    let target = request.next()?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Head {
        method,
        path: path.to_owned(),
        query: parse_query(query),
        headers,
        len,
    })
}

/// Parses `a=b&c=d` with percent and `+` decoding.
pub(crate) fn parse_query(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Consumes the head and reads a `Content-Length` body.
async fn read_body(stream: &mut TcpStream, head: &Head) -> Vec<u8> {
    let mut skip = vec![0u8; head.len];
    if stream.read_exact(&mut skip).await.is_err() {
        return Vec::new();
    }
    let length = head
        .headers
        .get("content-length")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(0)
        .min(16 * 1024 * 1024);
    let mut body = vec![0u8; length];
    if stream.read_exact(&mut body).await.is_err() {
        return Vec::new();
    }
    body
}

async fn respond(stream: &mut TcpStream, head: &Head, status: u16, text: &str) {
    let _ = read_body(stream, head).await;
    write_response(stream, status, "text/plain", text.as_bytes()).await;
}

/// Writes a complete HTTP/1.1 response and closes.
pub(crate) async fn write_response(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_percent_decoded() {
        let q = parse_query("sdk=rust&os_version=6.1%20x&auto_subscribe=1&x");
        assert_eq!(q["os_version"], "6.1 x");
        assert_eq!(q["auto_subscribe"], "1");
        assert_eq!(q["x"], "");
    }
}
