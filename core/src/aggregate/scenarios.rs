//! Scenarios through [`MatchState::apply`]: markets, suspensions, lines, settlement, score.

use super::{
    testkit::*,
    view::{Change, ChangeKind, SelectionView},
    MatchState,
};
use crate::model::{MarketKey, MarketStatus, MatchStatus, Selection, Settlement, Timestamp};
use MarketStatus::{Active, Suspended};
use Selection::{Away, Home};

fn kinds(changes: &[Change]) -> Vec<ChangeKind> {
    changes.iter().map(|c| c.kind.clone()).collect()
}

fn sel<'a>(s: &'a MatchState, key: &MarketKey, sel: Selection) -> &'a SelectionView {
    let m = s.market(key).expect("market exists");
    m.selections
        .iter()
        .find(|v| v.selection == sel)
        .expect("selection exists")
}

#[test]
fn repeat_and_late_packets_return_nothing() {
    let (mut s, w) = (state(), weights());
    assert_eq!(
        kinds(&s.apply(&ml("a", 10, 2.0, 1.9), &w, Timestamp(10))),
        vec![ChangeKind::Odds(moneyline())]
    );
    assert!(s
        .apply(&ml("a", 11, 2.0, 1.9), &w, Timestamp(11))
        .is_empty());
    assert!(s.apply(&ml("a", 5, 3.0, 1.5), &w, Timestamp(12)).is_empty());
    assert_eq!(sel(&s, &moneyline(), Home).best.unwrap().decimal(), 2.0);
    assert_eq!(s.seq(), 1);
    assert!(s.apply(&score("a", 1, 0, 0), &w, Timestamp(13)).len() == 1);
    assert!(s.apply(&score("a", 1, 0, 0), &w, Timestamp(14)).is_empty());
}

#[test]
fn average_is_the_true_mean_and_best_the_highest() {
    let (mut s, w) = (state(), weights());
    s.apply(&ml("a", 1, 2.0, 1.8), &w, Timestamp(1));
    s.apply(&ml("b", 1, 2.2, 1.7), &w, Timestamp(1));
    let home = sel(&s, &moneyline(), Home);
    assert!((home.average.unwrap().decimal() - 2.1).abs() < 1e-12);
    assert_eq!(home.best.unwrap().decimal(), 2.2);
    assert_eq!(home.best_provider.as_ref().unwrap().as_str(), "b");
    // Listed by weight: a (3) before b (1).
    assert_eq!(home.prices[0].provider.as_str(), "a");
    // confidence = (4/4) × (1 − (2.2 − 2.0)/2.1)
    assert!((home.confidence - (1.0 - 0.2 / 2.1)).abs() < 1e-12);
}

#[test]
fn suspended_price_is_never_best_and_flips_are_reported() {
    let (mut s, w) = (state(), weights());
    s.apply(&ml("a", 1, 2.0, 1.8), &w, Timestamp(1));
    s.apply(&ml("b", 1, 2.2, 1.7), &w, Timestamp(1));
    let q = [(Home, 2.2), (Away, 1.7)];
    s.apply(
        &prices("b", 2, moneyline(), &q, Suspended),
        &w,
        Timestamp(2),
    );
    assert_eq!(sel(&s, &moneyline(), Home).best.unwrap().decimal(), 2.0);
    assert_eq!(s.market(&moneyline()).unwrap().status, Active);

    let q = [(Home, 2.0), (Away, 1.8)];
    let c = s.apply(
        &prices("a", 3, moneyline(), &q, Suspended),
        &w,
        Timestamp(3),
    );
    assert_eq!(
        kinds(&c),
        vec![
            ChangeKind::Odds(moneyline()),
            ChangeKind::MarketSuspended(moneyline())
        ]
    );
    assert_eq!(sel(&s, &moneyline(), Home).best, None);
    assert_eq!(s.market(&moneyline()).unwrap().best_overround, None);

    let c = s.apply(&ml("a", 4, 2.0, 1.8), &w, Timestamp(4));
    assert_eq!(
        kinds(&c),
        vec![
            ChangeKind::Odds(moneyline()),
            ChangeKind::MarketResumed(moneyline())
        ]
    );
    assert!(c[0].seq < c[1].seq);
}

#[test]
fn line_is_part_of_the_market_key() {
    let (mut s, w) = (state(), weights());
    let q = [(Home, 1.9), (Away, 1.9)];
    s.apply(&prices("a", 1, spread(-3.5), &q, Active), &w, Timestamp(1));
    s.apply(&prices("b", 1, spread(-4.0), &q, Active), &w, Timestamp(1));
    s.apply(
        &prices("b", 1, spread(-3.5), &[(Home, 2.0), (Away, 1.8)], Active),
        &w,
        Timestamp(1),
    );
    s.apply(
        &prices("a", 1, total(44.5), &[(Selection::Over, 1.9)], Active),
        &w,
        Timestamp(1),
    );
    s.apply(&ml("a", 1, 2.0, 1.8), &w, Timestamp(1));
    let keys: Vec<_> = s.markets().map(|m| m.key.suffix()).collect();
    assert_eq!(
        keys,
        ["moneyline", "spread:-4", "spread:-3.5", "total:44.5"]
    );
    assert_eq!(sel(&s, &spread(-3.5), Home).prices.len(), 2);
    assert_eq!(sel(&s, &spread(-4.0), Home).prices.len(), 1);
}

#[test]
fn missing_selection_is_dropped_for_that_provider() {
    let (mut s, w) = (state(), weights());
    let q = [(Home, 2.0), (Selection::Draw, 3.0), (Away, 4.0)];
    s.apply(&prices("a", 1, moneyline(), &q, Active), &w, Timestamp(1));
    s.apply(&ml("a", 2, 2.0, 4.0), &w, Timestamp(2));
    let names: Vec<_> = s
        .market(&moneyline())
        .unwrap()
        .selections
        .iter()
        .map(|v| v.selection.clone())
        .collect();
    assert_eq!(names, [Home, Away]);
}

#[test]
fn overround_and_arbitrage() {
    let (mut s, w) = (state(), weights());
    s.apply(&ml("a", 1, 2.1, 1.8), &w, Timestamp(1));
    s.apply(&ml("b", 1, 1.8, 2.1), &w, Timestamp(1));
    let m = s.market(&moneyline()).unwrap();
    assert!(m.arbitrage);
    assert!((m.best_overround.unwrap() - (2.0 / 2.1 - 1.0)).abs() < 1e-12);
    assert_eq!(m.provider_overround.len(), 2);
}

#[test]
fn settlement_closes_the_market_for_prices() {
    let (mut s, w) = (state(), weights());
    s.apply(&ml("a", 1, 2.0, 1.8), &w, Timestamp(1));
    let r = [(Home, Settlement::Won), (Away, Settlement::Lost)];
    let c = s.apply(&settled("a", 2, moneyline(), &r), &w, Timestamp(2));
    assert_eq!(kinds(&c), vec![ChangeKind::Settled(moneyline())]);
    assert_eq!(
        s.market(&moneyline()).unwrap().status,
        MarketStatus::Settled
    );
    assert!(s.apply(&ml("a", 3, 2.5, 1.5), &w, Timestamp(3)).is_empty());
    assert!(s
        .apply(&settled("a", 4, moneyline(), &r), &w, Timestamp(4))
        .is_empty());
    let c = s.apply(
        &settled("b", 4, moneyline(), &[(Home, Settlement::Lost)]),
        &w,
        Timestamp(4),
    );
    assert_eq!(kinds(&c), vec![ChangeKind::Settled(moneyline())]);
    assert_eq!(
        s.market(&moneyline())
            .unwrap()
            .settlement
            .as_ref()
            .unwrap()
            .conflicts,
        [Home]
    );
}

#[test]
fn new_quoting_provider_refreshes_other_markets_confidence() {
    let (mut s, w) = (state(), weights());
    s.apply(&ml("a", 1, 2.0, 1.8), &w, Timestamp(1));
    assert_eq!(sel(&s, &moneyline(), Home).confidence, 1.0);
    let c = s.apply(
        &prices("b", 2, total(40.0), &[(Selection::Over, 1.9)], Active),
        &w,
        Timestamp(2),
    );
    assert_eq!(
        kinds(&c),
        vec![ChangeKind::Odds(moneyline()), ChangeKind::Odds(total(40.0))]
    );
    assert_eq!(sel(&s, &moneyline(), Home).confidence, 0.75);
}

#[test]
fn score_and_status_through_the_state() {
    let (mut s, w) = (state(), weights());
    assert_eq!(s.status(), MatchStatus::Scheduled);
    let c = s.apply(&score("a", 1, 7, 0), &w, Timestamp(5));
    assert_eq!((kinds(&c), c[0].seq), (vec![ChangeKind::Score], 1));
    assert_eq!(s.status(), MatchStatus::Live);
    assert_eq!(s.updated_at(), Timestamp(5));
    assert_eq!(s.score().unwrap().home, 7);
}

#[test]
fn best_tie_goes_to_the_heavier_provider() {
    let (mut s, w) = (state(), weights());
    s.apply(&ml("b", 1, 2.0, 1.8), &w, Timestamp(1));
    s.apply(&ml("a", 2, 2.0, 1.7), &w, Timestamp(2));
    let home = sel(&s, &moneyline(), Home);
    assert_eq!(home.best_provider.as_ref().unwrap().as_str(), "a");
}

#[test]
fn empty_book_for_a_new_market_publishes_it_suspended() {
    let (mut s, w) = (state(), weights());
    let c = s.apply(&prices("a", 1, total(40.0), &[], Active), &w, Timestamp(1));
    assert_eq!(kinds(&c), vec![ChangeKind::Odds(total(40.0))]);
    let m = s.market(&total(40.0)).unwrap();
    assert_eq!((m.status, m.selections.len()), (Suspended, 0));
}
