//! gzip response bodies (`Content-Encoding: gzip`), for the large cached lists.
//!
//! A list body is compressed once per rebuild, on the first request that accepts gzip, and the
//! compressed bytes are cached beside the JSON (see `view::store`): every other such request
//! is a lookup, like the uncompressed one. Level 1 (fastest): the markets list of the demo feed,
//! 153 KB of JSON, becomes 16 KB in about 0.3 ms; level 6 would save another 6 KB for four
//! times the cpu, paid again after every change.

use std::io::Write;

use flate2::{write::GzEncoder, Compression};

/// Bodies shorter than this go out as they are: below about one packet, compressing saves
/// nothing a client would notice.
const MIN_BYTES: usize = 1024;

/// `body` gzip-compressed, or `None` if it is too short to be worth it.
pub(crate) fn compress(body: &[u8]) -> Option<Vec<u8>> {
    if body.len() < MIN_BYTES {
        return None;
    }
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 8), Compression::fast());
    // Writing to a Vec cannot fail; if it ever did, the body goes out uncompressed.
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::*;

    #[test]
    fn short_bodies_are_left_alone() {
        assert_eq!(compress(b"[]"), None);
        assert_eq!(compress(&[b'x'; MIN_BYTES - 1]), None);
    }

    #[test]
    fn long_bodies_round_trip_and_shrink() {
        let body: Vec<u8> = (0..2000)
            .flat_map(|i| format!(r#"{{"id":"m{i}","odds":1.{}}},"#, i % 97).into_bytes())
            .collect();
        let gz = compress(&body).expect("compressed");
        assert!(gz.len() * 4 < body.len(), "{} of {}", gz.len(), body.len());
        assert_eq!(&gz[..2], b"\x1f\x8b", "a gzip member");
        let mut back = Vec::new();
        GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, body);
    }
}
