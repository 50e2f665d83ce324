//! RTP packets and RFC 4733 events: parsing never panics; a parsed packet re-serialises to
//! a packet with the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_fuzz::rtp::{DtmfTracker, RtpPacket, TelephoneEvent};

fuzz_target!(|data: &[u8]| {
    if let Some(p) = RtpPacket::parse(data) {
        assert_eq!(RtpPacket::parse(&p.to_bytes()), Some(p.clone()));
        let _ = TelephoneEvent::parse(&p.payload).map(|e| e.digit());
        let _ = DtmfTracker::default().push(p.timestamp, &p.payload);
    }
});
