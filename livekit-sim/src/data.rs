//! Routing `DataPacket`s between participants, as the SFU does.
//!
//! The sender's identity and sid are stamped on the packet (clients cannot spoof them), then it
//! goes to every other participant, or only to `destination_identities` when that is set.
//! As on LiveKit, an agent may send a text stream header on behalf of another participant (a
//! transcription of the caller): that header keeps its identity and is marked `generated`.
//! Every packet kind is forwarded (data streams, transcriptions, RPC, chat alike).
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
    /// Whether the sender is an agent (may send text streams on behalf of others).
    pub agent: bool,
}

/// Stamps the sender on `packet`: `identity` and `sid`, except on a text stream header an
/// agent sends on behalf of someone else, which keeps its identity and becomes `generated`.
// The deprecated fields are still what older clients read and write.
#[allow(deprecated)]
pub(crate) fn stamp_sender(packet: &mut proto::DataPacket, identity: &str, sid: &str, agent: bool) {
    use proto::data_packet::Value;
    use proto::data_stream::header::ContentHeader;
    let on_behalf =
        agent && !packet.participant_identity.is_empty() && packet.participant_identity != identity;
    if on_behalf {
        if let Some(Value::StreamHeader(header)) = packet.value.as_mut() {
            if let Some(ContentHeader::TextHeader(text)) = header.content_header.as_mut() {
                text.generated = true;
                return;
            }
        }
    }
    packet.participant_identity = identity.to_owned();
    packet.participant_sid = sid.to_owned();
    if let Some(Value::User(user)) = packet.value.as_mut() {
        user.participant_identity = identity.to_owned();
        user.participant_sid = sid.to_owned();
    }
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
        stamp_sender(&mut packet, &self.identity, &self.sid, self.agent);
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

#[cfg(test)]
mod tests {
    use super::*;
    use proto::data_packet::Value;
    use proto::data_stream::{header::ContentHeader, Header, TextHeader};

    fn header(from: &str, text: bool) -> proto::DataPacket {
        proto::DataPacket {
            participant_identity: from.to_owned(),
            value: Some(Value::StreamHeader(Header {
                stream_id: "S1".into(),
                content_header: text.then(|| ContentHeader::TextHeader(TextHeader::default())),
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    fn generated(p: &proto::DataPacket) -> bool {
        matches!(&p.value, Some(Value::StreamHeader(Header {
            content_header: Some(ContentHeader::TextHeader(t)), ..
        })) if t.generated)
    }

    #[test]
    fn only_an_agents_text_stream_header_keeps_the_identity_it_names() {
        let mut p = header("caller", true);
        stamp_sender(&mut p, "agent", "PA_a", true);
        assert_eq!(p.participant_identity, "caller");
        assert!(generated(&p));

        let mut p = header("caller", true);
        stamp_sender(&mut p, "browser", "PA_b", false);
        assert_eq!(
            p.participant_identity, "browser",
            "a non-agent cannot speak for others"
        );
        assert!(!generated(&p));

        let mut p = header("caller", false);
        stamp_sender(&mut p, "agent", "PA_a", true);
        assert_eq!(
            p.participant_identity, "agent",
            "byte streams are the sender's"
        );

        let mut p = header("", true);
        stamp_sender(&mut p, "agent", "PA_a", true);
        assert_eq!(p.participant_identity, "agent");
        assert!(!generated(&p));

        let mut chunk = proto::DataPacket {
            participant_identity: "caller".into(),
            value: Some(Value::StreamChunk(Default::default())),
            ..Default::default()
        };
        stamp_sender(&mut chunk, "agent", "PA_a", true);
        assert_eq!(chunk.participant_identity, "agent");
    }
}
