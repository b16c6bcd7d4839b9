use super::*;
use proptest::prelude::*;

/// A masked client frame.
fn client(fin: bool, op: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    client_frame(fin, op, payload, mask)
}

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

#[test]
fn headers_use_the_shortest_length_form() {
    assert_eq!(header(opcode::TEXT, 5).1, 2);
    assert_eq!(&header(opcode::TEXT, 5).0[..2], &[0x81, 5]);
    let (h, used) = header(opcode::TEXT, 300);
    assert_eq!((used, &h[..4]), (4, &[0x81, 126, 1, 44][..]));
    let (h, used) = header(opcode::BINARY, 70_000);
    assert_eq!(used, 10);
    assert_eq!(&h[..2], &[0x82, 127]);
    assert_eq!(u64::from_be_bytes(h[2..10].try_into().unwrap()), 70_000);
}

#[test]
fn close_frame_carries_code_and_a_cut_reason() {
    let f = close_frame(1008, "slow consumer");
    assert_eq!(&f[..4], &[0x88, 15, 0x03, 0xF0]);
    assert_eq!(&f[4..], b"slow consumer");
    let long = "é".repeat(100);
    let f = close_frame(1000, &long);
    assert!(f.len() - 2 <= 125);
    assert!(std::str::from_utf8(&f[4..]).is_ok());
}

#[test]
fn decodes_a_masked_text_frame_and_says_how_much_it_used() {
    let mut buf = client(true, opcode::TEXT, br#"{"type":"ping"}"#, MASK);
    buf.extend_from_slice(b"next");
    let mut d = Decoder::new(1024);
    let got = d.decode(&mut buf).unwrap();
    assert_eq!(
        got,
        Decoded::Message(21, Message::Text(r#"{"type":"ping"}"#.into()))
    );
}

#[test]
fn partial_frames_ask_for_more() {
    let full = client(true, opcode::TEXT, &[b'a'; 300], MASK);
    let mut d = Decoder::new(1024);
    assert_eq!(d.decode(&mut full[..1].to_vec()).unwrap(), Decoded::Need(2));
    assert_eq!(d.decode(&mut full[..3].to_vec()).unwrap(), Decoded::Need(4));
    assert_eq!(
        d.decode(&mut full[..10].to_vec()).unwrap(),
        Decoded::Need(308)
    );
    assert!(matches!(
        d.decode(&mut full.clone()).unwrap(),
        Decoded::Message(308, Message::Text(_))
    ));
}

#[test]
fn fragments_are_joined_and_control_frames_may_interleave() {
    let mut d = Decoder::new(1024);
    let mut a = client(false, opcode::TEXT, b"hel", MASK);
    let mut p = client(true, opcode::PING, b"x", MASK);
    let mut b = client(true, opcode::CONTINUATION, b"lo", MASK);
    assert_eq!(d.decode(&mut a).unwrap(), Decoded::Skip(a.len()));
    assert_eq!(
        d.decode(&mut p).unwrap(),
        Decoded::Message(p.len(), Message::Ping(b"x".to_vec()))
    );
    assert_eq!(
        d.decode(&mut b).unwrap(),
        Decoded::Message(b.len(), Message::Text("hello".into()))
    );
}

#[test]
fn refuses_what_a_client_may_not_send() {
    let cases: Vec<(Vec<u8>, Error)> = vec![
        // unmasked
        (vec![0x81, 0x01, b'a'], Error::Protocol("")),
        // reserved bit
        (
            {
                let mut f = client(true, opcode::TEXT, b"a", MASK);
                f[0] |= 0x40;
                f
            },
            Error::Protocol(""),
        ),
        // unknown opcode
        (client(true, 0x3, b"a", MASK), Error::Protocol("")),
        // fragmented ping
        (client(false, opcode::PING, b"a", MASK), Error::Protocol("")),
        // long ping
        (
            client(true, opcode::PING, &[0; 126], MASK),
            Error::Protocol(""),
        ),
        // continuation with nothing to continue
        (
            client(true, opcode::CONTINUATION, b"a", MASK),
            Error::Protocol(""),
        ),
        // text that is not UTF-8
        (
            client(true, opcode::TEXT, &[0xff, 0xfe], MASK),
            Error::InvalidUtf8,
        ),
        // close with one byte, or a reserved code
        (client(true, opcode::CLOSE, &[3], MASK), Error::Protocol("")),
        (
            client(true, opcode::CLOSE, &1005u16.to_be_bytes(), MASK),
            Error::Protocol(""),
        ),
        // over the limit, known from the header alone
        (
            client(true, opcode::TEXT, &[b'a'; 2000], MASK)[..8].to_vec(),
            Error::TooBig,
        ),
    ];
    for (mut bytes, want) in cases {
        let got = Decoder::new(1024).decode(&mut bytes).unwrap_err();
        assert_eq!(got.close_code(), want.close_code(), "{bytes:?}: {got}");
    }
}

#[test]
fn a_fragmented_message_over_the_limit_is_refused() {
    let mut d = Decoder::new(10);
    let mut a = client(false, opcode::TEXT, b"123456", MASK);
    let mut b = client(true, opcode::CONTINUATION, b"789012", MASK);
    assert!(matches!(d.decode(&mut a), Ok(Decoded::Skip(_))));
    assert_eq!(d.decode(&mut b), Err(Error::TooBig));
}

#[test]
fn new_message_inside_a_fragmented_one_is_refused() {
    let mut d = Decoder::new(100);
    let mut a = client(false, opcode::TEXT, b"12", MASK);
    let mut b = client(true, opcode::TEXT, b"34", MASK);
    assert!(matches!(d.decode(&mut a), Ok(Decoded::Skip(_))));
    assert!(matches!(d.decode(&mut b), Err(Error::Protocol(_))));
}

#[test]
fn close_codes_and_binary() {
    let mut d = Decoder::new(100);
    let mut c = client(true, opcode::CLOSE, &[0x03, 0xE8, b'b', b'y', b'e'], MASK);
    assert_eq!(
        d.decode(&mut c).unwrap(),
        Decoded::Message(c.len(), Message::Close(Some(1000)))
    );
    let mut e = client(true, opcode::CLOSE, &[], MASK);
    assert_eq!(
        d.decode(&mut e).unwrap(),
        Decoded::Message(e.len(), Message::Close(None))
    );
    let mut b = client(true, opcode::BINARY, &[1, 2, 3], MASK);
    assert_eq!(
        d.decode(&mut b).unwrap(),
        Decoded::Message(b.len(), Message::Binary)
    );
}

proptest! {
    /// Any bytes: a result, never a panic, and a `used` or `need` that is consistent.
    #[test]
    fn never_panics(mut bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut d = Decoder::new(128);
        let len = bytes.len();
        match d.decode(&mut bytes) {
            Ok(Decoded::Need(n)) => prop_assert!(n > len),
            Ok(Decoded::Skip(used)) | Ok(Decoded::Message(used, _)) => prop_assert!(used <= len),
            Err(_) => {}
        }
    }

    /// A text message split into any fragments, fed byte-chunk by byte-chunk, comes out whole.
    #[test]
    fn fragmented_text_round_trips(text in "\\PC{0,200}", cut in 0usize..200, mask in any::<[u8; 4]>()) {
        let bytes = text.as_bytes();
        let cut = cut.min(bytes.len());
        let mut stream = client(false, opcode::TEXT, &bytes[..cut], mask);
        stream.extend(client(true, opcode::CONTINUATION, &bytes[cut..], mask));
        let mut d = Decoder::new(1024);
        let mut at = 0;
        let mut got = None;
        while at < stream.len() {
            match d.decode(&mut stream[at..]).unwrap() {
                Decoded::Need(_) => unreachable!("whole frames are in the buffer"),
                Decoded::Skip(used) => at += used,
                Decoded::Message(used, m) => { at += used; got = Some(m); }
            }
        }
        prop_assert_eq!(got, Some(Message::Text(text)));
    }
}

#[test]
fn frame_headers_read_either_side() {
    // A server frame (unmasked): what the load generator's client reads.
    let mut server = frame(opcode::TEXT, &[b'x'; 300]);
    assert_eq!(FrameHeader::parse(&server[..1]), Ok(Head::Need(2)));
    assert_eq!(FrameHeader::parse(&server[..3]), Ok(Head::Need(4)));
    let Ok(Head::Header(h)) = FrameHeader::parse(&server) else {
        panic!("a header");
    };
    assert_eq!(
        (h.fin, h.opcode, h.masked, h.len, h.size),
        (true, opcode::TEXT, false, 300, 4)
    );
    assert_eq!(h.payload(&mut server[..303]), None, "one byte short");
    assert_eq!(h.payload(&mut server), Some(&[b'x'; 300][..]));
    // A client frame: the mask key is part of the header, the payload comes out unmasked.
    let mut client = client(true, opcode::PING, b"hi", MASK);
    let Ok(Head::Header(h)) = FrameHeader::parse(&client) else {
        panic!("a header");
    };
    assert_eq!((h.masked, h.len, h.size), (true, 2, 6));
    assert_eq!(h.payload(&mut client), Some(&b"hi"[..]));
    // 64-bit lengths, and the checks both sides make.
    let Ok(Head::Header(h)) = FrameHeader::parse(&frame(opcode::BINARY, &vec![0; 70_000])) else {
        panic!("a header");
    };
    assert_eq!((h.len, h.size), (70_000, 10));
    for bad in [
        vec![0xC1, 0x00],                              // reserved bit
        vec![0x83, 0x00],                              // unknown opcode
        vec![0x09, 0x00],                              // fragmented ping
        vec![0x89, 0x7E, 0x00, 0x7E],                  // ping of 126 bytes
        [vec![0x82, 0x7F, 0x80], vec![0; 7]].concat(), // length with its top bit set
    ] {
        assert!(
            matches!(FrameHeader::parse(&bad), Err(Error::Protocol(_))),
            "{bad:?}"
        );
    }
}
