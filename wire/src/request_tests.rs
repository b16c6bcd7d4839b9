//! Tests of the request parser: examples, then properties.

use super::*;

mod examples {
    use super::*;

    const LIMITS: Limits = Limits {
        max_header_bytes: 1024,
        max_body_bytes: 16,
        max_headers: 4,
    };

    #[test]
    fn parses_get_with_query() {
        let buf = b"GET /api/markets/football?league=nfl HTTP/1.1\r\nHost: x\r\n\r\n";
        match parse(buf, LIMITS) {
            Parse::Complete(r, n) => {
                assert_eq!(
                    (r.path, r.query, n),
                    ("/api/markets/football", "league=nfl", buf.len())
                );
                assert!(r.keep_alive);
                assert!(!r.accept_gzip);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_accept_encoding_over_several_lines() {
        let gzip =
            |head: &[u8]| matches!(parse(head, LIMITS), Parse::Complete(r, _) if r.accept_gzip);
        assert!(gzip(
            b"GET / HTTP/1.1\r\nAccept-Encoding: br\r\naccept-encoding: gzip\r\n\r\n"
        ));
        assert!(!gzip(
            b"GET / HTTP/1.1\r\nAccept-Encoding: gzip;q=0, br\r\n\r\n"
        ));
    }

    #[test]
    fn connection_close_wins_over_keep_alive() {
        for req in [
            &b"GET / HTTP/1.1\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
            b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
        ] {
            assert!(matches!(parse(req, LIMITS), Parse::Complete(r, _) if !r.keep_alive));
        }
        let ka = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
        assert!(matches!(parse(ka, LIMITS), Parse::Complete(r, _) if r.keep_alive));
    }

    #[test]
    fn waits_for_body_then_completes() {
        let head = b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nab";
        assert!(matches!(parse(head, LIMITS), Parse::Partial));
        let full = b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde";
        assert!(matches!(parse(full, LIMITS), Parse::Complete(r, _) if r.body == b"abcde"));
    }

    #[test]
    fn refuses_over_limits_and_smuggling() {
        let big = b"POST /x HTTP/1.1\r\nContent-Length: 17\r\n\r\n";
        assert!(matches!(
            parse(big, LIMITS),
            Parse::Invalid(Status::PAYLOAD_TOO_LARGE, _)
        ));
        let dup = b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert!(matches!(
            parse(dup, LIMITS),
            Parse::Invalid(Status::BAD_REQUEST, _)
        ));
        for odd in ["+5", "-0", "5 5", "0x5", "", "5,5"] {
            let req = format!("POST /x HTTP/1.1\r\nContent-Length: {odd}\r\n\r\nabcde");
            assert!(
                matches!(
                    parse(req.as_bytes(), LIMITS),
                    Parse::Invalid(Status::BAD_REQUEST, _)
                ),
                "Content-Length: {odd:?}"
            );
        }
        let te = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(matches!(
            parse(te, LIMITS),
            Parse::Invalid(Status::NOT_IMPLEMENTED, _)
        ));
        let long = [b'a'; 2000];
        assert!(matches!(parse(&long, LIMITS), Parse::Invalid(_, _)));
        let many = b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\ne: 5\r\n\r\n";
        assert!(matches!(
            parse(many, LIMITS),
            Parse::Invalid(Status::HEADERS_TOO_LARGE, _)
        ));
        let garbage = b"\x00\x01\x02 nonsense\r\n\r\n";
        assert!(matches!(
            parse(garbage, LIMITS),
            Parse::Invalid(Status::BAD_REQUEST, _)
        ));
    }

    #[test]
    fn http10_and_connection_close() {
        let r10 = b"GET / HTTP/1.0\r\n\r\n";
        assert!(matches!(parse(r10, LIMITS), Parse::Complete(r, _) if !r.keep_alive));
        let ka10 = b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
        assert!(matches!(parse(ka10, LIMITS), Parse::Complete(r, _) if r.keep_alive && r.http10));
        let close = b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
        assert!(
            matches!(parse(close, LIMITS), Parse::Complete(r, _) if !r.keep_alive && !r.http10)
        );
    }

    #[test]
    fn connection_upgrade_is_a_token_of_any_connection_line() {
        let lines = b"GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: Upgrade\r\n\r\n";
        assert!(matches!(parse(lines, LIMITS), Parse::Complete(r, _) if r.connection_upgrade));
        let list = b"GET / HTTP/1.1\r\nConnection: keep-alive, upgrade\r\n\r\n";
        assert!(matches!(parse(list, LIMITS), Parse::Complete(r, _) if r.connection_upgrade));
        let none = b"GET / HTTP/1.1\r\nConnection: upgraded\r\nUpgrade: websocket\r\n\r\n";
        assert!(matches!(parse(none, LIMITS), Parse::Complete(r, _) if !r.connection_upgrade));
    }

    #[test]
    fn decodes_query() {
        let pairs: Vec<_> = query_pairs("league=premier%2Dleague&x=a+b&bad=%zz&e").collect();
        assert_eq!(pairs[0], ("league".into(), "premier-league".into()));
        assert_eq!(pairs[1].1, "a b");
        assert_eq!(pairs[2].1, "%zz");
        assert_eq!(pairs[3], ("e".into(), String::new()));
        // Only two hex digits make an escape: a sign is not one.
        assert_eq!(percent_decode("%+1x%-1%4a"), "% 1x%-1J");
    }
}

mod props {
    use proptest::prelude::*;

    use super::*;

    const LIMITS: Limits = Limits {
        max_header_bytes: 8192,
        max_body_bytes: 4096,
        max_headers: 64,
    };

    proptest! {
        /// Any bytes at all: a verdict, never a panic, never consuming more than was given.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            if let Parse::Complete(_, used) = parse(&bytes, LIMITS) {
                prop_assert!(used <= bytes.len());
            }
        }

        /// A valid request arriving in two pieces is Partial until whole, then parses the same.
        #[test]
        fn split_requests_reassemble(
            path in "/[a-z0-9/_-]{0,40}",
            body in "[ -~]{0,200}",
            cut in 0usize..400,
        ) {
            let req = format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let bytes = req.as_bytes();
            let cut = cut.min(bytes.len());
            if cut < bytes.len() {
                prop_assert!(matches!(parse(&bytes[..cut], LIMITS), Parse::Partial));
            }
            match parse(bytes, LIMITS) {
                Parse::Complete(r, used) => {
                    prop_assert_eq!(used, bytes.len());
                    prop_assert_eq!(r.path, path.as_str());
                    prop_assert_eq!(r.body, body.as_bytes());
                }
                other => prop_assert!(false, "{:?}", other),
            }
        }

        /// Pipelined requests parse one after another, each consuming exactly its own bytes.
        #[test]
        fn pipelined_requests_parse_in_order(n in 1usize..10) {
            let mut all = Vec::new();
            for i in 0..n {
                all.extend_from_slice(format!("GET /r/{i} HTTP/1.1\r\n\r\n").as_bytes());
            }
            let mut at = 0;
            for i in 0..n {
                match parse(&all[at..], LIMITS) {
                    Parse::Complete(r, used) => {
                        let want = format!("/r/{i}");
                        prop_assert_eq!(r.path, want.as_str());
                        at += used;
                    }
                    other => prop_assert!(false, "{:?}", other),
                }
            }
            prop_assert_eq!(at, all.len());
        }
    }
}
