//! `Accept-Encoding` (RFC 9110 §12.5.3), as far as the server needs it: may this response be
//! sent gzip-compressed?
//!
//! A client accepts gzip when it names `gzip` (or the old alias `x-gzip`) with a non-zero
//! weight, or names `*` with a non-zero weight and does not name gzip at all. A weight of zero
//! (`gzip;q=0`) refuses it; so does a weight that is not a valid `qvalue`, since a server must
//! not guess. The header may come in several lines: they form one list.

/// What a request's `Accept-Encoding` lines say about gzip, accumulated line by line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AcceptEncoding {
    /// `gzip`/`x-gzip` was named: with a non-zero weight (`true`) or not.
    gzip: Option<bool>,
    /// `*` was named: with a non-zero weight or not.
    any: Option<bool>,
}

impl AcceptEncoding {
    /// Adds one header line's value.
    pub fn add(&mut self, value: &[u8]) {
        for item in value.split(|&b| b == b',') {
            let mut parts = item.split(|&b| b == b';');
            let coding = parts.next().unwrap_or_default().trim_ascii();
            let slot =
                if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip") {
                    &mut self.gzip
                } else if coding == b"*" {
                    &mut self.any
                } else {
                    continue;
                };
            let accepted = parts
                .map(<[u8]>::trim_ascii)
                .find_map(|p| match p {
                    [b'q' | b'Q', b'=', q @ ..] => Some(q),
                    _ => None,
                })
                .is_none_or(non_zero_qvalue);
            // Named twice: a non-zero weight anywhere wins (the list is read as a whole).
            *slot = Some(slot.unwrap_or(false) || accepted);
        }
    }

    /// Whether a gzip-compressed body is acceptable.
    pub fn gzip(self) -> bool {
        self.gzip.or(self.any).unwrap_or(false)
    }
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`: true if valid and above 0.
fn non_zero_qvalue(q: &[u8]) -> bool {
    let (int, frac) = match q.iter().position(|&b| b == b'.') {
        Some(i) => (&q[..i], &q[i + 1..]),
        None => (q, &b""[..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return false;
    }
    match int {
        b"1" => frac.iter().all(|&d| d == b'0'),
        b"0" => frac.iter().any(|&d| d != b'0'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(lines: &[&str]) -> bool {
        let mut a = AcceptEncoding::default();
        for line in lines {
            a.add(line.as_bytes());
        }
        a.gzip()
    }

    #[test]
    fn named_gzip_is_accepted_in_any_case_and_place() {
        assert!(gzip(&["gzip"]));
        assert!(gzip(&["gzip, deflate, br, zstd"]));
        assert!(gzip(&["br;q=1.0, GZIP;q=0.5"]));
        assert!(gzip(&["deflate", " x-gzip "]));
        assert!(gzip(&["gzip;q=1", "identity"]));
        assert!(gzip(&["gzip ; Q=0.001"]));
    }

    #[test]
    fn absent_refused_or_invalid_weight_is_not_accepted() {
        assert!(!gzip(&[]));
        assert!(!gzip(&[""]));
        assert!(!gzip(&["identity"]));
        assert!(!gzip(&["deflate, br"]));
        assert!(!gzip(&["gzip;q=0"]));
        assert!(!gzip(&["gzip;q=0.000"]));
        assert!(!gzip(&["gzip;q=abc"]));
        assert!(!gzip(&["gzip;q=2"]));
        assert!(!gzip(&["gzip;q=1.5"]));
        assert!(!gzip(&["gzip;q=0.0001"]));
        assert!(!gzip(&["gzipx", "xgzip"]));
    }

    #[test]
    fn star_stands_for_gzip_only_when_gzip_is_not_named() {
        assert!(gzip(&["*"]));
        assert!(gzip(&["br, *;q=0.1"]));
        assert!(!gzip(&["*;q=0"]));
        assert!(!gzip(&["gzip;q=0, *"]));
        assert!(gzip(&["gzip, *;q=0"]));
    }

    #[test]
    fn lines_form_one_list() {
        assert!(gzip(&["br", "gzip"]));
        assert!(!gzip(&["br", "gzip;q=0"]));
        assert!(gzip(&["gzip;q=0", "gzip"]));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        for v in [
            &b";;;,,,"[..],
            b"q=",
            b"gzip;q=",
            b"gzip;q=.",
            b"*;q=0.",
            b"\xff\xfe;q=1",
        ] {
            let mut a = AcceptEncoding::default();
            a.add(v);
            let _ = a.gzip();
        }
        assert!(gzip(&["gzip;q=1."]));
        assert!(!gzip(&["gzip;q=."]));
    }
}
