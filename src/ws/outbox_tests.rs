//! The outbox on a real loopback connection, inside a glommio executor.

use std::{future::poll_fn, io::Read, time::Duration};

use bytes::Bytes;
use glommio::{
    net::{TcpListener, TcpStream},
    LocalExecutorBuilder,
};
use inplay_core::MatchId;

use super::{Offer, Outbox};
use crate::http::Stream;

/// Runs `test` with an outbox (at most `frames` changes queued) on the server side of a
/// loopback connection and the client side as a blocking std socket.
fn with_outbox(
    frames: usize,
    test: impl FnOnce(Outbox, Stream, std::net::TcpStream) + Send + 'static,
) {
    LocalExecutorBuilder::default()
        .spawn(move || async move {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let client = std::net::TcpStream::connect(addr).unwrap();
            let server: TcpStream = listener.accept().await.unwrap();
            let stream = Stream::Plain(server);
            let out = Outbox::new(&stream, frames, 1 << 20);
            test(out, stream, client);
        })
        .unwrap()
        .join()
        .unwrap();
}

/// The epoch every change in these tests counts in.
fn epoch() -> std::sync::Arc<str> {
    "e".into()
}

fn read_exactly(client: &mut std::net::TcpStream, n: usize) -> Vec<u8> {
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = vec![0; n];
    client.read_exact(&mut buf).unwrap();
    buf
}

#[test]
fn an_idle_outbox_writes_straight_to_the_socket() {
    with_outbox(4, |out, _stream, mut client| {
        let m = MatchId::new("m");
        assert_eq!(
            out.offer(&Bytes::from_static(b"one"), &m, &epoch(), 1),
            Offer::Taken
        );
        assert_eq!(out.queued(), 0, "nothing queued: written at once");
        assert_eq!(read_exactly(&mut client, 3), b"one");
    });
}

#[test]
fn while_held_changes_queue_behind_the_replies_and_count_against_the_bound() {
    with_outbox(2, |out, mut stream, mut client| {
        let m = MatchId::new("m");
        out.push(Bytes::from_static(b"[pong]"));
        out.hold();
        assert_eq!(
            out.offer(&Bytes::from_static(b"<c1>"), &m, &epoch(), 1),
            Offer::Taken
        );
        assert_eq!(
            out.offer(&Bytes::from_static(b"<c2>"), &m, &epoch(), 2),
            Offer::Taken
        );
        assert_eq!(
            out.offer(&Bytes::from_static(b"<c3>"), &m, &epoch(), 3),
            Offer::Overflow,
            "two changes is the bound; the session's own frames do not count"
        );
        // The snapshot covered change 1: it is skipped when written.
        out.filter.borrow_mut().advance(&m, &epoch(), 1);
        out.release([Bytes::from_static(b"[snap]"), Bytes::from_static(b"[ok]")].into_iter());
        let flushed = futures_lite::future::block_on(poll_fn(|cx| out.poll_write(cx, &mut stream)));
        assert!(flushed.is_ok());
        assert_eq!(out.queued(), 0);
        assert_eq!(read_exactly(&mut client, 20), b"[pong][snap][ok]<c2>");
    });
}

#[test]
fn discard_drops_the_backlog_and_end_stops_writes() {
    with_outbox(8, |out, _stream, _client| {
        let m = MatchId::new("m");
        out.hold();
        for seq in 1..=3 {
            assert_eq!(
                out.offer(&Bytes::from_static(b"x"), &m, &epoch(), seq),
                Offer::Taken
            );
        }
        out.set_overflowed();
        assert!(out.overflowed());
        assert_eq!(
            out.offer(&Bytes::from_static(b"y"), &m, &epoch(), 4),
            Offer::Taken,
            "coalescing: dropped"
        );
        out.discard();
        assert_eq!((out.queued(), out.overflowed()), (0, false));
        out.end();
        assert!(out.closed());
        assert_eq!(
            out.offer(&Bytes::from_static(b"z"), &m, &epoch(), 5),
            Offer::Taken
        );
        assert_eq!(out.queued(), 0, "an ended outbox takes nothing");
    });
}

#[test]
fn a_resync_drops_changes_and_an_earlier_resync_but_keeps_what_the_client_is_owed() {
    with_outbox(8, |out, mut stream, mut client| {
        let m = MatchId::new("m");
        out.hold(); // queue everything, as while a subscribe is answered
        assert_eq!(
            out.offer(&Bytes::from_static(b"<c1>"), &m, &epoch(), 1),
            Offer::Taken
        );
        out.release([Bytes::from_static(b"[ack]")].into_iter());
        out.push_resync([Bytes::from_static(b"[old-resync]")].into_iter());
        out.push(Bytes::from_static(b"[pong]"));
        assert_eq!(
            out.offer(&Bytes::from_static(b"<c2>"), &m, &epoch(), 2),
            Offer::Taken
        );
        out.set_overflowed();
        out.discard();
        out.push_resync(
            [
                Bytes::from_static(b"[resync]"),
                Bytes::from_static(b"[snap]"),
            ]
            .into_iter(),
        );
        let flushed = futures_lite::future::block_on(poll_fn(|cx| out.poll_write(cx, &mut stream)));
        assert!(flushed.is_ok());
        let want = b"[ack][pong][resync][snap]";
        assert_eq!(
            read_exactly(&mut client, want.len()),
            want,
            "the answers owed, then the latest state; no change, no stale resync"
        );
    });
}

#[test]
fn a_claimed_frame_is_not_claimed_again_until_sent() {
    with_outbox(4, |out, _stream, mut client| {
        let m = MatchId::new("m");
        let (ext, two) = (Bytes::from_static(b"ext"), Bytes::from_static(b"two"));
        // An external publish (seq 0, nothing to filter on) reaching one session through two
        // subscriptions in one batch.
        let Offer::Write(fd) = out.claim(&ext, &m, &epoch(), 0) else {
            panic!("an idle outbox hands the write to the caller");
        };
        assert_eq!(
            out.claim(&ext, &m, &epoch(), 0),
            Offer::Taken,
            "already on its way: the socket is written once"
        );
        out.sent(&ext, super::super::send_ring::send(fd, &ext));
        assert_eq!(out.queued(), 0);
        // Reported: the next frame on the idle outbox is the caller's to write again.
        let Offer::Write(fd) = out.claim(&two, &m, &epoch(), 0) else {
            panic!("idle again after sent");
        };
        out.sent(&two, super::super::send_ring::send(fd, &two));
        assert_eq!(read_exactly(&mut client, 6), b"exttwo");
    });
}

#[test]
fn a_refused_direct_write_is_queued_and_later_frames_go_behind_it() {
    with_outbox(4, |out, _stream, _client| {
        let m = MatchId::new("m");
        let (one, two) = (Bytes::from_static(b"one"), Bytes::from_static(b"two"));
        assert!(matches!(out.claim(&one, &m, &epoch(), 0), Offer::Write(_)));
        out.sent(&one, Ok(1)); // a short write: the rest waits for the session
        assert_eq!(out.queued(), 1);
        assert_eq!(
            out.claim(&two, &m, &epoch(), 0),
            Offer::Taken,
            "queued, not written ahead"
        );
        assert_eq!(out.queued(), 2);
    });
}
