//! The hub telling sessions about changes that never reached their shard, over real loopback
//! connections inside a glommio executor.

use std::{
    rc::Rc,
    sync::{atomic::AtomicUsize, Arc},
};

use glommio::{
    net::{TcpListener, TcpStream},
    LocalExecutorBuilder,
};
use inplay_core::MatchId;

use super::{Hub, Topic};
use crate::{
    http::Stream,
    ws::{outbox::Outbox, queue::SlowConsumer, Missed},
};

fn sport(sport: &str, league: Option<&str>) -> Topic {
    Topic::Sport {
        sport: sport.into(),
        league: league.map(Into::into),
    }
}

fn missed(id: &str, league: &str, market: bool) -> Missed {
    Missed {
        match_id: MatchId::new(id),
        sport: "soccer".into(),
        league: league.into(),
        market,
    }
}

/// Runs `test` with a hub under `policy` and one session per topic, each on its own loopback
/// connection (kept open for the test).
fn with_sessions(
    policy: SlowConsumer,
    topics: Vec<Topic>,
    test: impl FnOnce(&Hub, &[Rc<Outbox>]) + Send + 'static,
) {
    LocalExecutorBuilder::default()
        .spawn(move || async move {
            let hub = Hub::new(0, Arc::from([AtomicUsize::new(0)]), policy);
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let mut keep = Vec::new();
            let mut outs = Vec::new();
            for topic in &topics {
                let client = std::net::TcpStream::connect(addr).unwrap();
                let server: TcpStream = listener.accept().await.unwrap();
                let stream = Stream::Plain(server);
                let out = Rc::new(Outbox::new(&stream, 8, 1 << 20));
                hub.join(topic, out.clone());
                outs.push(out);
                keep.push((stream, client));
            }
            test(&hub, &outs);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn missed_changes_resync_every_session_that_would_have_had_them() {
    let topics = vec![
        Topic::Match(MatchId::new("a")),
        Topic::Match(MatchId::new("b")),
        sport("soccer", None),
        sport("soccer", Some("premier")),
        sport("soccer", Some("liga")),
        sport("tennis", None),
    ];
    with_sessions(SlowConsumer::Coalesce, topics, |hub, outs| {
        // A market change of `a` (premier) and a score change of `b` (liga) were dropped.
        let gaps = [missed("a", "premier", true), missed("b", "liga", false)];
        hub.missed(&gaps);
        let told: Vec<bool> = outs.iter().map(|o| o.overflowed() && o.lagged()).collect();
        assert_eq!(
            told,
            [true, true, true, true, false, false],
            "a, b, all of soccer (a's market), premier; not liga (b's was no market change), \
             not tennis"
        );
        assert!(
            outs.iter().all(|o| !o.closed()),
            "coalesce resyncs, never closes"
        );
        assert_eq!(hub.lagged.get(), 4);
        hub.missed(&gaps);
        assert_eq!(
            hub.lagged.get(),
            4,
            "a session already resyncing is told once"
        );
        outs[0].discard();
        assert!(
            !outs[0].lagged() && !outs[0].overflowed(),
            "the resync clears it"
        );
    });
}

#[test]
fn missed_changes_close_sessions_under_disconnect() {
    let topics = vec![
        Topic::Match(MatchId::new("a")),
        Topic::Match(MatchId::new("b")),
    ];
    with_sessions(SlowConsumer::Disconnect, topics, |hub, outs| {
        hub.missed(&[missed("a", "premier", false)]);
        assert!(
            outs[0].closed() && outs[0].lagged(),
            "closed with 1013, not as slow"
        );
        assert!(!outs[1].closed() && !outs[1].lagged());
        assert_eq!(hub.lagged.get(), 1);
        hub.missed(&[missed("a", "premier", false)]);
        assert_eq!(hub.lagged.get(), 1, "closing already");
    });
}
