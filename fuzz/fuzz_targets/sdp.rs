//! SDP offers: parsing and negotiation never panic, and an answer we write parses back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_fuzz::sdp::{answer, AudioOffer};

fuzz_target!(|data: &[u8]| {
    let Ok(offer) = AudioOffer::parse(data) else {
        return;
    };
    if let Ok(n) = offer.negotiate() {
        let ours = answer(&n, &offer, [127, 0, 0, 1].into(), 4000, 1);
        let back = AudioOffer::parse(&ours).expect("our answer parses");
        assert_eq!(back.negotiate().expect("our answer negotiates").law, n.law);
    }
});
