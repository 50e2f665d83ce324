//! RTCP datagrams: parsing never panics; parsed reports feed the reception statistics and
//! re-serialise to a report with the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_fuzz::rtcp::{compound_report, parse_compound, Reception, ReportBlock, RtcpPacket};

fuzz_target!(|data: &[u8]| {
    let Ok(packets) = parse_compound(data) else {
        return;
    };
    let mut reception = Reception::default();
    for p in packets {
        if let RtcpPacket::SenderReport { ssrc, info, blocks } = p {
            let back = compound_report(ssrc, Some(info), blocks.first(), "fuzz");
            let again = parse_compound(&back).expect("our own report parses");
            let RtcpPacket::SenderReport {
                info: info2,
                blocks: b2,
                ..
            } = &again[0]
            else {
                panic!("SR came back as {again:?}");
            };
            assert_eq!(*info2, info);
            if let Some(b) = blocks.first() {
                assert_eq!(b2[0], *b);
                reception.on_packet(b.ssrc, b.highest_seq as u16, b.jitter, b.last_sr);
                let _ = ReportBlock::between(&Reception::default(), &reception, None);
            }
        }
    }
});
