//! Twirp services: RoomService, SIP, AgentDispatch.

use crate::http::Head;
use crate::simulator::Shared;

/// An HTTP reply.
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Serves one twirp call.
pub(crate) async fn handle(_shared: &Shared, _head: &Head, _path: &str, _body: &[u8]) -> Reply {
    Reply {
        status: 404,
        content_type: "application/json".to_owned(),
        body: br#"{"code":"bad_route","msg":"not implemented"}"#.to_vec(),
    }
}
