//! The HTTP/1.1 request parser on arbitrary bytes, as a connection drives it: parse the front
//! of the buffer, drop what a complete request consumed, parse again (pipelining), and read the
//! query string and path the way the API does.
#![no_main]

use inplay_wire::request::{parse, percent_decode, query_pairs, Limits, Parse};
use libfuzzer_sys::fuzz_target;

/// Small limits, so the fuzzer reaches the refusals as often as the successes.
const LIMITS: Limits = Limits {
    max_header_bytes: 1024,
    max_body_bytes: 512,
    max_headers: 16,
};

fuzz_target!(|data: &[u8]| {
    let mut at = 0;
    // At most as many requests as there are bytes: each complete one consumes at least one.
    for _ in 0..=data.len() {
        match parse(&data[at..], LIMITS) {
            Parse::Complete(req, used) => {
                assert!(
                    used > 0 && at + used <= data.len(),
                    "consumed {used} at {at}"
                );
                assert!(req.body.len() <= LIMITS.max_body_bytes);
                assert!(used - req.body.len() <= LIMITS.max_header_bytes);
                for (k, v) in query_pairs(req.query) {
                    let _ = (k.len(), v.len());
                }
                let _ = percent_decode(req.path);
                at += used;
            }
            Parse::Partial | Parse::Invalid(..) => break,
        }
    }
});
