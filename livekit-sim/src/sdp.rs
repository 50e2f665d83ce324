//! The little SDP reading the simulator needs: which media section carries which track.

use std::collections::HashMap;

/// Maps each media section's `a=mid` to the track id of its `a=msid:<stream> <track>` line
/// (sections without an msid, like `m=application`, are left out).
pub(crate) fn mid_to_track_id(sdp: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let mut mid: Option<String> = None;
    let mut track: Option<String> = None;
    let mut flush = |mid: &mut Option<String>, track: &mut Option<String>| {
        if let (Some(m), Some(t)) = (mid.take(), track.take()) {
            map.insert(m, t);
        }
    };
    for line in sdp.lines() {
        let line = line.trim_end();
        if line.starts_with("m=") {
            flush(&mut mid, &mut track);
            mid = None;
            track = None;
        } else if let Some(value) = line.strip_prefix("a=mid:") {
            mid = Some(value.to_owned());
        } else if let Some(value) = line.strip_prefix("a=msid:") {
            if let Some((_, t)) = value.split_once(' ') {
                track = Some(t.to_owned());
            }
        }
    }
    flush(&mut mid, &mut track);
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_audio_sections_and_skips_application() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=msid:PA_1|TR_1 TR_1\r\n\
                   m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\n\
                   m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=msid:PA_2|TR_2 TR_2\r\na=mid:2\r\n";
        let map = mid_to_track_id(sdp);
        assert_eq!(map.len(), 2);
        assert_eq!(map["0"], "TR_1");
        assert_eq!(map["2"], "TR_2");
    }
}
