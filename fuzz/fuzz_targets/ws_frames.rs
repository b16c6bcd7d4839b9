//! The WebSocket frame decoder on arbitrary bytes, as a session drives it: decode the front of
//! the buffer, drop what a frame used, decode again, until it needs more bytes or refuses.
#![no_main]

use inplay_wire::ws::{Decoded, Decoder};
use libfuzzer_sys::fuzz_target;

/// A small limit, so the fuzzer reaches the refusals as often as the messages.
const MAX_MESSAGE: usize = 256;

fuzz_target!(|data: &[u8]| {
    let mut buf = data.to_vec();
    let mut decoder = Decoder::new(MAX_MESSAGE);
    let mut at = 0;
    // Each decoded frame uses at least two bytes, so this bounds the loop.
    for _ in 0..=buf.len() {
        match decoder.decode(&mut buf[at..]) {
            Ok(Decoded::Need(n)) => {
                assert!(n > buf.len() - at, "asked for {n} with {} held", buf.len() - at);
                break;
            }
            Ok(Decoded::Skip(used) | Decoded::Message(used, _)) => {
                assert!(used >= 2 && at + used <= buf.len(), "used {used} at {at}");
                at += used;
            }
            Err(e) => {
                let _ = (e.close_code(), e.reason());
                break;
            }
        }
    }
});
