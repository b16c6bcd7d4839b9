//! The list cache: what a change invalidates, and the gzip form beside the JSON.

use std::{io::Read, rc::Rc, sync::Arc};

use inplay_core::{MatchId, MatchStatus, Timestamp};

use super::{ListKey, ViewStore};
use crate::view::render::{MarketPiece, MatchRender};

/// A match of `sport` whose one main market lists `entry` (repeated, so a list is long enough
/// to compress).
fn render(id: &str, sport: &str, entry: &str) -> Arc<MatchRender> {
    let entries: Vec<u8> = vec![entry; 200].join(",").into_bytes();
    Arc::new(MatchRender {
        id: MatchId::new(id),
        sport: sport.into(),
        league: "l".into(),
        status: MatchStatus::Live,
        start_time: Timestamp(0),
        score: b"{}".to_vec(),
        summary: format!(r#"{{"matchId":"{id}","entry":{entry}}}"#).into_bytes(),
        markets: vec![MarketPiece {
            id: format!("{id}:moneyline").into(),
            body: Arc::from(&b"{}"[..]),
            entries: Arc::from(entries.as_slice()),
            main: true,
        }],
        seq: 1,
        epoch: "e".into(),
    })
}

fn markets(sport: &str) -> ListKey {
    ListKey::Markets {
        sport: sport.into(),
        league: None,
        limit: 50,
    }
}

fn matches(sport: Option<&str>) -> ListKey {
    ListKey::Matches {
        sport: sport.map(Into::into),
        league: None,
        status: None,
    }
}

/// Builds (or reads) every list, then tells which are cache hits now.
fn hits(view: &ViewStore, keys: &[ListKey]) -> Vec<bool> {
    keys.iter()
        .map(|k| view.list(k.clone(), false).hit)
        .collect()
}

#[test]
fn a_change_invalidates_its_sports_lists_and_the_lists_over_every_sport() {
    let mut view = ViewStore::default();
    view.upsert(&render("a", "soccer", "1"));
    view.upsert(&render("b", "football", "2"));
    let keys = [
        markets("soccer"),
        markets("football"),
        matches(Some("soccer")),
        matches(Some("football")),
        matches(None),
    ];
    hits(&view, &keys);
    assert_eq!(hits(&view, &keys), [true; 5]);

    view.upsert(&render("a", "soccer", "3"));
    assert_eq!(hits(&view, &keys), [false, true, false, true, false]);
    assert!(String::from_utf8_lossy(&view.list(markets("soccer"), false).body).contains('3'));

    // A match moving to another sport changes both sports' lists.
    view.upsert(&render("a", "football", "4"));
    assert_eq!(hits(&view, &keys), [false, false, false, false, false]);
    assert_eq!(&*view.list(markets("soccer"), false).body, b"[]");

    // Removing one changes its sport's lists and the lists over every sport.
    hits(&view, &keys);
    view.remove(&MatchId::new("b"));
    assert_eq!(hits(&view, &keys), [true, false, true, false, false]);
}

#[test]
fn a_list_not_yet_seen_is_rebuilt_when_its_sport_first_appears() {
    let mut view = ViewStore::default();
    assert_eq!(&*view.list(matches(Some("tennis")), false).body, b"[]");
    assert!(view.list(matches(Some("tennis")), false).hit);
    view.upsert(&render("t", "tennis", "5"));
    let list = view.list(matches(Some("tennis")), false);
    assert!(!list.hit);
    assert!(String::from_utf8_lossy(&list.body).contains("\"t\""));
}

#[test]
fn the_gzip_form_is_made_once_per_rebuild_and_is_the_same_json() {
    let mut view = ViewStore::default();
    view.upsert(&render("a", "soccer", r#"{"odds":1.5}"#));
    let json = view.list(markets("soccer"), false);
    let gz = view.list(markets("soccer"), true);
    assert!(
        gz.gzip && !gz.hit,
        "compressed on the first request that accepts it"
    );
    let again = view.list(markets("soccer"), true);
    assert!(again.gzip && again.hit);
    assert!(
        Rc::ptr_eq(&gz.body, &again.body),
        "the cached bytes, not a new copy"
    );
    let mut back = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, &*json.body);

    view.upsert(&render("a", "soccer", r#"{"odds":1.6}"#));
    let fresh = view.list(markets("soccer"), true);
    assert!(fresh.gzip && !fresh.hit);
    let mut back = Vec::new();
    flate2::read::GzDecoder::new(&fresh.body[..])
        .read_to_end(&mut back)
        .unwrap();
    assert!(String::from_utf8_lossy(&back).contains("1.6"));

    // A short list goes as it is, even to a client that accepts gzip.
    let short = view.list(matches(Some("nosuchsport")), true);
    assert!(!short.gzip);
}
