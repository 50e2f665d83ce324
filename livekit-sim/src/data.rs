//! Routing `DataPacket`s between participants, as the SFU does.
//!
//! The sender's identity and sid are stamped on the packet (clients cannot spoof them), then it
//! goes to every other participant, or only to `destination_identities` when that is set.
//! Remote participants receive it on their subscriber PC's `_reliable` channel (`_lossy` for
//! lossy packets); simulated participants record it.

use std::sync::Arc;

use livekit_protocol as proto;
use prost::Message;

use crate::state::{Endpoint, Rooms};

/// Where data from one participant comes from.
#[derive(Clone)]
pub(crate) struct DataRoute {
    pub rooms: Arc<Rooms>,
    pub room: String,
    pub identity: String,
    pub sid: String,
}

impl DataRoute {
    /// Decodes one packet from the wire and routes it (undecodable bytes are dropped).
    pub async fn route(&self, bytes: &[u8]) {
        match proto::DataPacket::decode(bytes) {
            Ok(packet) => self.route_packet(packet).await,
            Err(e) => tracing::debug!(%e, "undecodable data packet dropped"),
        }
    }

    /// Stamps the sender on `packet` and delivers it.
    // The deprecated fields are still what older clients read and write.
    #[allow(deprecated)]
    pub async fn route_packet(&self, mut packet: proto::DataPacket) {
        packet.participant_identity = self.identity.clone();
        packet.participant_sid = self.sid.clone();
        if let Some(proto::data_packet::Value::User(user)) = packet.value.as_mut() {
            user.participant_identity = self.identity.clone();
            user.participant_sid = self.sid.clone();
        }
        let mut to = packet.destination_identities.clone();
        if let Some(proto::data_packet::Value::User(user)) = packet.value.as_ref() {
            to.extend(user.destination_identities.iter().cloned());
        }
        let targets = self.rooms.data_targets(&self.room, &self.identity, &to);
        let reliable = packet.kind != proto::data_packet::Kind::Lossy as i32;
        let bytes = packet.encode_to_vec();
        tracing::debug!(from = %self.identity, targets = targets.len(), "data packet");
        for target in targets {
            match target {
                Endpoint::Remote(remote) => remote.subscriber.send_data(&bytes, reliable).await,
                Endpoint::Sim(inbox) => inbox.push_data(packet.clone()),
            }
        }
    }
}
