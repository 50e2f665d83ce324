//! SIP over TCP (RFC 3261 §18): [`serve`] runs one connection's reader (messages framed by
//! [`super::framing::Framer`] go to the endpoint actor) and writer (the actor's bounded
//! queue to the socket). The actor keeps one connection per peer address and reuses it for
//! every message to that peer, in both directions.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::endpoint::Command;
use super::framing::Framer;

/// Messages queued for one connection's writer.
pub const WRITE_QUEUE: usize = 64;

/// Runs one TCP connection until either side closes it or `cancel` fires: framed messages
/// go to the actor as [`Command::Stream`], `outgoing` is written in order. The actor hears
/// [`Command::StreamClosed`] at the end.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    mut outgoing: mpsc::Receiver<Vec<u8>>,
    actor: mpsc::Sender<Command>,
    cancel: CancellationToken,
) {
    let (mut rd, mut wr) = stream.into_split();
    let mut framer = Framer::default();
    let mut buf = vec![0u8; 8192];
    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            out = outgoing.recv() => match out {
                Some(bytes) => {
                    if let Err(e) = wr.write_all(&bytes).await {
                        tracing::debug!(error = %e, %peer, "SIP TCP write failed");
                        break;
                    }
                }
                None => break,
            },
            r = rd.read(&mut buf) => {
                let n = match r {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                framer.push(&buf[..n]);
                loop {
                    match framer.next_message() {
                        Ok(Some(message)) => {
                            if actor.send(Command::Stream { peer, message }).await.is_err() {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, %peer, "Closing SIP TCP connection");
                            let _ = actor.send(Command::StreamClosed { peer }).await;
                            return;
                        }
                    }
                }
            }
        }
    }
    let _ = wr.shutdown().await;
    let _ = actor.send(Command::StreamClosed { peer }).await;
}
