//! SIP messages: parsing never panics; whatever parses serialises to something that parses
//! to the same start line and body; header values go through the URI and name-addr parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_fuzz::message::SipMessage;
use switchboard_fuzz::uri::{NameAddr, SipUri};

fuzz_target!(|data: &[u8]| {
    let Ok(m) = SipMessage::parse(data) else {
        return;
    };
    let again = SipMessage::parse(&m.to_bytes()).expect("serialised message parses");
    assert_eq!(again.start, m.start);
    assert_eq!(again.body, m.body);
    let _ = m.cseq();
    let _ = m.branch();
    for (_, v) in &m.headers {
        if let Some(n) = NameAddr::parse(v) {
            let _ = n.tag();
            let _ = n.sip_uri();
        }
        let _ = SipUri::parse(v);
    }
});
