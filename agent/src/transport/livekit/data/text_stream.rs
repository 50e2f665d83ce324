//! LiveKit text data streams, the way current LiveKit clients receive transcriptions: a
//! `stream_header` packet (stream id, topic, MIME type, attributes, a text header), the UTF-8
//! text in `stream_chunk` packets numbered from 0, then a `stream_trailer` with an empty reason
//! (a normal end). Pure builders; the room actor sends the packets in order on the reliable
//! channel (the channel, not a packet field, tells LiveKit the kind).
//!
//! A transcript segment becomes one stream on the `lk.transcription` topic, with the
//! attributes LiveKit Agents sets and its frontends read: `lk.segment_id` (stable per
//! utterance: an interim update is a new stream with the same id and the whole text so far),
//! `lk.transcription_final` (`"true"`/`"false"`) and `lk.transcribed_track_id` (the audio
//! track the text transcribes). Like LiveKit Agents, the header is sent on behalf of the
//! speaker (its `participant_identity` is the speaker's): LiveKit keeps that identity on text
//! stream headers an agent sends, so a caller's line is shown as the caller's.

use std::collections::HashMap;

use livekit_protocol as proto;
use proto::data_packet::Value;
use proto::data_stream::{self as ds, header::ContentHeader};

use super::TranscriptSegment;

/// The topic LiveKit clients read transcriptions from.
pub const TOPIC_TRANSCRIPTION: &str = "lk.transcription";
/// Attribute: the transcribed audio track's sid.
pub const ATTR_TRANSCRIBED_TRACK_ID: &str = "lk.transcribed_track_id";
/// Attribute: the segment (utterance) id, shared by its interim and final versions.
pub const ATTR_SEGMENT_ID: &str = "lk.segment_id";
/// Attribute: `"true"` for the final version of a segment, `"false"` for an interim one.
pub const ATTR_TRANSCRIPTION_FINAL: &str = "lk.transcription_final";
/// The MIME type of text streams.
pub const TEXT_MIME_TYPE: &str = "text/plain";
/// Largest chunk content, in bytes (what LiveKit's own SDKs use; a chunk packet stays well
/// under the data channel's message size).
pub const MAX_CHUNK_BYTES: usize = 15_000;

/// One outgoing text stream, before its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextStream {
    /// Unique per stream.
    pub id: String,
    pub topic: String,
    /// Creation time, Unix ms.
    pub timestamp_ms: i64,
    pub attributes: HashMap<String, String>,
    /// Whom the stream is from (`participant_identity` of its packets).
    pub sender: String,
}

/// `text` split into chunks of at most `max` bytes, never inside a UTF-8 character (receivers
/// decode each chunk on its own). An empty text is one empty chunk.
///
/// # Panics
/// When `max` is smaller than 4 (one character might not fit).
pub fn utf8_chunks(text: &str, max: usize) -> Vec<&str> {
    assert!(max >= 4, "a chunk must hold any UTF-8 character");
    let mut chunks = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        chunks.push(head);
        rest = tail;
    }
    chunks.push(rest);
    chunks
}

fn reliable(sender: &str, value: Value) -> proto::DataPacket {
    proto::DataPacket {
        participant_identity: sender.to_string(),
        value: Some(value),
        ..Default::default()
    }
}

/// The packets of `stream` carrying `text`: header, chunks (indexes 0, 1, …), trailer.
pub fn text_stream_packets(stream: &TextStream, text: &str) -> Vec<proto::DataPacket> {
    let header = ds::Header {
        stream_id: stream.id.clone(),
        timestamp: stream.timestamp_ms,
        topic: stream.topic.clone(),
        mime_type: TEXT_MIME_TYPE.to_string(),
        total_length: Some(text.len() as u64),
        attributes: stream.attributes.clone(),
        content_header: Some(ContentHeader::TextHeader(ds::TextHeader {
            operation_type: ds::OperationType::Create as i32,
            ..Default::default()
        })),
        ..Default::default()
    };
    let mut packets = vec![reliable(&stream.sender, Value::StreamHeader(header))];
    for (index, chunk) in utf8_chunks(text, MAX_CHUNK_BYTES).into_iter().enumerate() {
        let chunk = ds::Chunk {
            stream_id: stream.id.clone(),
            chunk_index: index as u64,
            content: chunk.as_bytes().to_vec(),
            ..Default::default()
        };
        packets.push(reliable(&stream.sender, Value::StreamChunk(chunk)));
    }
    let trailer = ds::Trailer {
        stream_id: stream.id.clone(),
        reason: String::new(),
        attributes: HashMap::new(),
    };
    packets.push(reliable(&stream.sender, Value::StreamTrailer(trailer)));
    packets
}

/// The `lk.transcription` stream `stream_id` (created at `timestamp_ms`) carrying `segment`.
pub fn transcription_stream(
    segment: &TranscriptSegment,
    stream_id: String,
    timestamp_ms: i64,
) -> Vec<proto::DataPacket> {
    let mut attributes = HashMap::from([
        (ATTR_SEGMENT_ID.to_string(), segment.id.clone()),
        (
            ATTR_TRANSCRIPTION_FINAL.to_string(),
            segment.is_final.to_string(),
        ),
    ]);
    if !segment.track_sid.is_empty() {
        attributes.insert(
            ATTR_TRANSCRIBED_TRACK_ID.to_string(),
            segment.track_sid.clone(),
        );
    }
    let stream = TextStream {
        id: stream_id,
        topic: TOPIC_TRANSCRIPTION.to_string(),
        timestamp_ms,
        attributes,
        sender: segment.speaker_identity.clone(),
    };
    text_stream_packets(&stream, &segment.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(text: &str, is_final: bool) -> TranscriptSegment {
        TranscriptSegment {
            speaker_identity: "sip_+15550100".into(),
            track_sid: "TR_caller".into(),
            id: "call-7-3".into(),
            text: text.into(),
            is_final,
            start_ms: 100,
            end_ms: 1900,
        }
    }

    /// Reassembles a stream the way a receiver does, checking the order on the way.
    fn reassemble(packets: &[proto::DataPacket]) -> (ds::Header, String, ds::Trailer) {
        let Some(Value::StreamHeader(header)) = packets[0].value.clone() else {
            panic!("first packet is not a header: {:?}", packets[0])
        };
        let mut bytes = Vec::new();
        for (i, p) in packets[1..packets.len() - 1].iter().enumerate() {
            let Some(Value::StreamChunk(c)) = &p.value else {
                panic!("packet {} is not a chunk: {p:?}", i + 1)
            };
            assert_eq!(c.stream_id, header.stream_id);
            assert_eq!(c.chunk_index, i as u64, "chunks are numbered from 0");
            assert!(c.content.len() <= MAX_CHUNK_BYTES);
            std::str::from_utf8(&c.content).expect("each chunk is valid UTF-8 on its own");
            bytes.extend_from_slice(&c.content);
        }
        let Some(Value::StreamTrailer(trailer)) = packets.last().and_then(|p| p.value.clone())
        else {
            panic!("last packet is not a trailer")
        };
        assert_eq!(trailer.stream_id, header.stream_id);
        (header, String::from_utf8(bytes).unwrap(), trailer)
    }

    #[test]
    fn a_final_line_is_header_one_chunk_and_trailer_with_the_transcription_attributes() {
        let packets = transcription_stream(&segment("Yes, it was.", true), "S1".into(), 42);
        assert_eq!(packets.len(), 3);
        let (header, text, trailer) = reassemble(&packets);
        assert_eq!(text, "Yes, it was.");
        assert_eq!(header.stream_id, "S1");
        assert_eq!(header.timestamp, 42);
        assert_eq!(header.topic, "lk.transcription");
        assert_eq!(header.mime_type, "text/plain");
        assert_eq!(header.total_length, Some(12));
        assert!(matches!(
            header.content_header,
            Some(ContentHeader::TextHeader(ref t)) if t.operation_type == ds::OperationType::Create as i32
        ));
        let attr = |k: &str| header.attributes.get(k).map(String::as_str);
        assert_eq!(attr("lk.segment_id"), Some("call-7-3"));
        assert_eq!(attr("lk.transcription_final"), Some("true"));
        assert_eq!(attr("lk.transcribed_track_id"), Some("TR_caller"));
        assert!(trailer.reason.is_empty(), "an empty reason is a normal end");
        assert!(packets
            .iter()
            .all(|p| p.participant_identity == "sip_+15550100"));
    }

    #[test]
    fn an_interim_update_is_a_new_stream_of_the_same_segment() {
        let interim = transcription_stream(&segment("Yes it", false), "S1".into(), 1);
        let last = transcription_stream(&segment("Yes, it was.", true), "S2".into(), 2);
        let (h1, t1, _) = reassemble(&interim);
        let (h2, t2, _) = reassemble(&last);
        assert_ne!(h1.stream_id, h2.stream_id);
        assert_eq!(
            h1.attributes["lk.segment_id"],
            h2.attributes["lk.segment_id"]
        );
        assert_eq!(h1.attributes["lk.transcription_final"], "false");
        assert_eq!(h2.attributes["lk.transcription_final"], "true");
        assert_eq!((t1.as_str(), t2.as_str()), ("Yes it", "Yes, it was."));
    }

    #[test]
    fn long_text_is_chunked_on_character_boundaries_and_an_unknown_track_is_left_out() {
        // 3-byte characters with an odd offset, so 15 000 falls inside one.
        let text = format!("a{}", "€".repeat(12_000));
        let mut seg = segment(&text, true);
        seg.track_sid.clear();
        let packets = transcription_stream(&seg, "S9".into(), 0);
        let (header, back, _) = reassemble(&packets);
        assert_eq!(back, text);
        assert_eq!(packets.len(), 5, "36 001 bytes: 14 998 + 15 000 + 6 003");
        assert_eq!(header.total_length, Some(text.len() as u64));
        assert!(!header.attributes.contains_key("lk.transcribed_track_id"));
        assert_eq!(utf8_chunks("", 8), vec![""]);
        assert_eq!(utf8_chunks("abcdefgh", 4), vec!["abcd", "efgh"]);
        assert_eq!(utf8_chunks("aé€", 4), vec!["aé", "€"]);
    }
}
