use super::*;
use inplay_wire::ws::opcode::{BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT};

/// A server frame (unmasked), as a server writes it.
fn server_frame(fin: bool, op: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = inplay_wire::ws::frame(op, payload);
    if !fin {
        f[0] &= 0x7f;
    }
    f
}

fn read_all(r: &mut Reader) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(m) = r.message().expect("valid frames") {
        out.push(match m {
            Message::Text(t) => format!("text {}", String::from_utf8_lossy(t)),
            other => format!("{other:?}"),
        });
    }
    out
}

#[test]
fn frames_split_anywhere_are_read_whole_and_in_order() {
    let mut bytes = server_frame(true, TEXT, b"first");
    bytes.extend(server_frame(true, PING, b"hb"));
    bytes.extend(server_frame(true, TEXT, &[b'x'; 300])); // 16-bit length
    bytes.extend(server_frame(true, TEXT, &[b'y'; 70_000])); // 64-bit length
    bytes.extend(server_frame(true, CLOSE, &1001u16.to_be_bytes()));
    for chunk in [1, 2, 3, 7, 4096, bytes.len()] {
        let mut r = Reader::default();
        let mut got = Vec::new();
        for piece in bytes.chunks(chunk) {
            let spare = r.spare(piece.len());
            spare[..piece.len()].copy_from_slice(piece);
            r.filled(piece.len());
            got.extend(read_all(&mut r));
        }
        assert_eq!(got.len(), 5, "chunks of {chunk}");
        assert_eq!(got[0], "text first");
        assert_eq!(got[1], "Ping([104, 98])");
        assert_eq!(got[2], format!("text {}", "x".repeat(300)));
        assert_eq!(got[3].len(), 5 + 70_000);
        assert_eq!(got[4], "Close(Some(1001))");
    }
}

#[test]
fn fragments_are_reassembled_around_control_frames() {
    let mut bytes = server_frame(false, TEXT, b"hel");
    bytes.extend(server_frame(true, PONG, b""));
    bytes.extend(server_frame(false, CONTINUATION, b"lo "));
    bytes.extend(server_frame(true, CONTINUATION, b"world"));
    bytes.extend(server_frame(true, TEXT, b"next"));
    let mut r = Reader::default();
    r.push(&bytes);
    assert_eq!(read_all(&mut r), ["Pong", "text hello world", "text next"]);
}

#[test]
fn a_masked_server_frame_is_unmasked() {
    let mut r = Reader::default();
    r.push(&client_frame(true, TEXT, b"masked anyway", [1, 2, 3, 4]));
    assert_eq!(read_all(&mut r), ["text masked anyway"]);
}

#[test]
fn protocol_violations_are_errors_not_panics() {
    let cases: Vec<Vec<u8>> = vec![
        vec![0xC1, 0x00],                           // reserved bit
        server_frame(true, CONTINUATION, b"x"),     // continuation first
        server_frame(false, PING, b""),             // fragmented control frame
        server_frame(true, 0x3, b""),               // unknown opcode
        vec![0x81, 127, 0xff, 0, 0, 0, 0, 0, 0, 0], // absurd length
        {
            let mut b = server_frame(false, TEXT, b"a");
            b.extend(server_frame(true, TEXT, b"b")); // new message inside a fragmented one
            b
        },
    ];
    for bytes in cases {
        let mut r = Reader::default();
        r.push(&bytes);
        let mut result = Ok(None);
        for _ in 0..3 {
            result = r.message().map(|m| m.map(|_| ()));
            if result.is_err() {
                break;
            }
        }
        assert!(result.is_err(), "{bytes:x?} should be refused");
    }
}

#[test]
fn client_frames_are_masked_with_the_right_length() {
    let f = client_frame(true, TEXT, b"abc", [9, 9, 9, 9]);
    assert_eq!(f[0], 0x81);
    assert_eq!(f[1], 0x80 | 3);
    assert_eq!(&f[2..6], &[9, 9, 9, 9]);
    assert_eq!(&f[6..], &[b'a' ^ 9, b'b' ^ 9, b'c' ^ 9]);
    assert_eq!(client_frame(true, TEXT, &[0; 200], [0; 4])[1], 0x80 | 126);
    assert_eq!(client_frame(false, BINARY, b"", [0; 4])[0], BINARY);
}

#[test]
fn the_upgrade_answer_is_checked() {
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    let mut with_frame = ok.as_bytes().to_vec();
    with_frame.extend_from_slice(&[0x81, 0x01, b'x']);
    assert_eq!(upgrade_answer(&with_frame, key), Ok(Some(ok.len())));
    assert_eq!(upgrade_answer(&ok.as_bytes()[..20], key), Ok(None));
    let refused = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
    assert!(upgrade_answer(refused.as_bytes(), key).is_err());
    let wrong = ok.replace("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "AAAA");
    assert!(upgrade_answer(wrong.as_bytes(), key).is_err());
    assert!(upgrade_answer(&[b'a'; MAX_HEAD + 1], key).is_err());
    let req = upgrade_request("127.0.0.1", 80, "/live/x", key);
    assert!(req.starts_with("GET /live/x HTTP/1.1\r\n") && req.ends_with("\r\n\r\n"));
}
