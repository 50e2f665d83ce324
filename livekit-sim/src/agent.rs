//! `/agent`: the agent-worker protocol (registration, availability, assignment, status).

use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;

use crate::simulator::Shared;

/// Serves one worker's socket.
pub(crate) async fn serve(_shared: Arc<Shared>, mut ws: WebSocketStream<TcpStream>) {
    let _ = ws.close(None).await;
}
