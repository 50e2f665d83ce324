//! SIP over TCP framing: any byte stream, cut anywhere, never panics and yields the same
//! messages as the whole stream at once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_fuzz::framing::Framer;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let drain = |f: &mut Framer, out: &mut Vec<Vec<u8>>| loop {
        match f.next_message() {
            Ok(Some(m)) => out.push(m),
            Ok(None) => return true,
            Err(_) => return false,
        }
    };
    let mut whole = Framer::default();
    whole.push(stream);
    let mut a = Vec::new();
    let ok_a = drain(&mut whole, &mut a);
    let mut pieces = Framer::default();
    let mut b = Vec::new();
    let mut ok_b = true;
    for chunk in stream.chunks(usize::from(cut).max(1)) {
        pieces.push(chunk);
        ok_b = drain(&mut pieces, &mut b);
        if !ok_b {
            break;
        }
    }
    if ok_a && ok_b {
        assert_eq!(a, b);
    }
});
