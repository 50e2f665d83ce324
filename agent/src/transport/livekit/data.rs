//! Data packets: what arrives on the room's data channels and what the agent publishes.
//! Pure protobuf codecs. Incoming `sip_dtmf` packets become key presses for the call; each
//! live transcript segment goes out twice: as a legacy `Transcription` packet (what older
//! LiveKit clients and UI components show as captions) and as an `lk.transcription` text
//! stream (what current clients and LiveKit Agents frontends read; [`text_stream`]). The
//! agent's state is the `lk.agent.state` participant attribute (`listening` / `thinking` /
//! `speaking`, as LiveKit's agent UIs read it).

use livekit_protocol as proto;
use prost::Message;
use proto::data_packet::Value;

pub mod text_stream;

/// The participant attribute LiveKit agent UIs read the agent's state from.
pub const AGENT_STATE_ATTRIBUTE: &str = "lk.agent.state";

/// What the agent is doing, for UIs in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentState {
    Initializing,
    Listening,
    Thinking,
    Speaking,
}

impl AgentState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initializing => "initializing",
            Self::Listening => "listening",
            Self::Thinking => "thinking",
            Self::Speaking => "speaking",
        }
    }
}

/// A data packet received from the room, reduced to what Switchboard uses.
#[derive(Debug, Clone, PartialEq)]
pub enum DataMessage {
    /// A key press relayed by LiveKit SIP (`sip_dtmf`).
    Dtmf { from: String, digit: char },
    /// An application packet.
    User {
        from: String,
        topic: Option<String>,
        payload: Vec<u8>,
    },
    /// Anything else (chat, RPC, streams, transcriptions of others): ignored by the agent.
    Other { from: String },
}

/// The key a `SipDtmf` stands for: its `digit` text, else its event code (RFC 4733 numbering).
fn dtmf_char(d: &proto::SipDtmf) -> Option<char> {
    if let Some(c) = d.digit.chars().next() {
        return Some(c.to_ascii_uppercase()).filter(|c| "0123456789*#ABCD".contains(*c));
    }
    match d.code {
        0..=9 => char::from_digit(d.code, 10),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + (d.code - 12) as u8) as char),
        _ => None,
    }
}

/// Decodes one data channel message.
///
/// # Errors
/// [`prost::DecodeError`] when the bytes are not a `DataPacket`.
pub fn decode(bytes: &[u8]) -> Result<DataMessage, prost::DecodeError> {
    let packet = proto::DataPacket::decode(bytes)?;
    let from = packet.participant_identity.clone();
    Ok(match packet.value {
        Some(Value::SipDtmf(d)) => match dtmf_char(&d) {
            Some(digit) => DataMessage::Dtmf { from, digit },
            None => DataMessage::Other { from },
        },
        Some(Value::User(u)) => DataMessage::User {
            from,
            topic: u.topic,
            payload: u.payload,
        },
        _ => DataMessage::Other { from },
    })
}

fn packet(identity: &str, destinations: Vec<String>, value: Value) -> Vec<u8> {
    proto::DataPacket {
        participant_identity: identity.to_string(),
        destination_identities: destinations,
        value: Some(value),
        ..Default::default()
    }
    .encode_to_vec()
}

/// One transcript segment for a room's captions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptSegment {
    /// Whose speech this is (the caller's identity, or the agent's own).
    pub speaker_identity: String,
    /// The speaker's audio track sid, when known.
    pub track_sid: String,
    /// Stable per utterance: interim and final versions share it.
    pub id: String,
    pub text: String,
    pub is_final: bool,
    /// Call time of the segment, ms.
    pub start_ms: u64,
    pub end_ms: u64,
}

/// A `Transcription` packet from `sender` carrying `segment`.
pub fn transcript_packet(sender: &str, segment: &TranscriptSegment) -> Vec<u8> {
    packet(
        sender,
        Vec::new(),
        Value::Transcription(proto::Transcription {
            transcribed_participant_identity: segment.speaker_identity.clone(),
            track_id: segment.track_sid.clone(),
            segments: vec![proto::TranscriptionSegment {
                id: segment.id.clone(),
                text: segment.text.clone(),
                start_time: segment.start_ms,
                end_time: segment.end_ms,
                r#final: segment.is_final,
                language: String::new(),
            }],
        }),
    )
}

/// Every packet publishing `segment`, in sending order: the legacy `Transcription` packet,
/// then a new `lk.transcription` text stream (header, chunks, trailer) stamped now.
pub fn transcript_packets(sender: &str, segment: &TranscriptSegment) -> Vec<Vec<u8>> {
    let stream_id = uuid::Uuid::new_v4().to_string();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let mut packets = vec![transcript_packet(sender, segment)];
    packets.extend(
        text_stream::transcription_stream(segment, stream_id, now_ms)
            .iter()
            .map(Message::encode_to_vec),
    );
    packets
}

/// A `sip_dtmf` packet sending `digit` to `destination` (a SIP participant's identity).
pub fn dtmf_packet(sender: &str, destination: &str, digit: char) -> Vec<u8> {
    let code = match digit {
        '0'..='9' => digit as u32 - '0' as u32,
        '*' => 10,
        '#' => 11,
        'A'..='D' => 12 + (digit as u32 - 'A' as u32),
        _ => 0,
    };
    packet(
        sender,
        vec![destination.to_string()],
        Value::SipDtmf(proto::SipDtmf {
            code,
            digit: digit.to_string(),
        }),
    )
}

/// A `user` packet on `topic`.
pub fn user_packet(sender: &str, topic: &str, payload: Vec<u8>) -> Vec<u8> {
    packet(
        sender,
        Vec::new(),
        Value::User(proto::UserPacket {
            payload,
            topic: Some(topic.to_string()),
            ..Default::default()
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_dtmf_decodes_by_digit_or_code() {
        let bytes = dtmf_packet("sip_caller", "agent", '#');
        let m = decode(&bytes).unwrap();
        assert_eq!(
            m,
            DataMessage::Dtmf {
                from: "sip_caller".into(),
                digit: '#'
            }
        );
        let by_code = proto::DataPacket {
            participant_identity: "p".into(),
            value: Some(Value::SipDtmf(proto::SipDtmf {
                code: 7,
                digit: String::new(),
            })),
            ..Default::default()
        };
        assert!(matches!(
            decode(&by_code.encode_to_vec()).unwrap(),
            DataMessage::Dtmf { digit: '7', .. }
        ));
    }

    #[test]
    fn transcript_round_trips_and_garbage_fails() {
        let seg = TranscriptSegment {
            speaker_identity: "agent".into(),
            track_sid: "TR_a".into(),
            id: "u1".into(),
            text: "hello there".into(),
            is_final: true,
            start_ms: 10,
            end_ms: 900,
        };
        let bytes = transcript_packet("agent", &seg);
        let p = proto::DataPacket::decode(bytes.as_slice()).unwrap();
        let Some(Value::Transcription(t)) = p.value else {
            panic!("not a transcription: {p:?}")
        };
        assert_eq!(t.segments[0].text, "hello there");
        assert!(t.segments[0].r#final);
        assert!(decode(&[0xff, 0xff, 0xff]).is_err());
        let user = decode(&user_packet("a", "switchboard.transcript", b"x".to_vec())).unwrap();
        assert!(
            matches!(user, DataMessage::User { topic: Some(t), .. } if t == "switchboard.transcript")
        );
    }

    #[test]
    fn a_segment_goes_out_as_legacy_packet_then_a_text_stream_with_a_fresh_id() {
        let seg = TranscriptSegment {
            speaker_identity: "agent".into(),
            track_sid: "TR_a".into(),
            id: "u1".into(),
            text: "How can I help?".into(),
            is_final: true,
            start_ms: 0,
            end_ms: 800,
        };
        let kinds = |bytes: &[Vec<u8>]| -> Vec<proto::DataPacket> {
            bytes
                .iter()
                .map(|b| proto::DataPacket::decode(b.as_slice()).unwrap())
                .collect()
        };
        let first = kinds(&transcript_packets("agent", &seg));
        assert_eq!(first.len(), 4);
        assert!(matches!(first[0].value, Some(Value::Transcription(_))));
        let Some(Value::StreamHeader(h1)) = &first[1].value else {
            panic!("no stream header: {first:?}")
        };
        assert!(
            matches!(&first[2].value, Some(Value::StreamChunk(c)) if c.content == b"How can I help?" && c.stream_id == h1.stream_id)
        );
        assert!(
            matches!(&first[3].value, Some(Value::StreamTrailer(t)) if t.stream_id == h1.stream_id)
        );
        assert!(
            h1.timestamp > 1_600_000_000_000,
            "Unix ms: {}",
            h1.timestamp
        );
        let again = kinds(&transcript_packets("agent", &seg));
        let Some(Value::StreamHeader(h2)) = &again[1].value else {
            panic!("no stream header")
        };
        assert_ne!(
            h1.stream_id, h2.stream_id,
            "every publication is a new stream"
        );
        assert_eq!(h1.attributes, h2.attributes);
    }
}
