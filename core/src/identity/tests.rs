//! Identity tests: real provider spellings meeting (or not) on one match id, the id format,
//! ownership, and proptests that ownership agrees and nothing panics.

use proptest::prelude::*;

use super::*;
use crate::model::{ProviderId, Timestamp};

const WINDOW_MS: i64 = 90 * 60 * 1000;
const MIN: i64 = 60 * 1000;
/// 2024-11-10T15:00:00Z.
const KICK_OFF: i64 = 1_731_250_800_000;

fn event(id: &str, league: &str, home: &str, away: &str, start_ms: i64) -> EventRef {
    EventRef {
        provider_event_id: id.to_owned(),
        sport: "soccer".to_owned(),
        league: league.to_owned(),
        home: home.to_owned(),
        away: away.to_owned(),
        start_time: Timestamp(start_ms),
    }
}

fn epl(id: &str, home: &str, away: &str, start_ms: i64) -> EventRef {
    event(id, "premier-league", home, away, start_ms)
}

fn resolve(reg: &mut Registry, provider: &str, ev: &EventRef) -> (MatchId, bool) {
    match reg.resolve(&ProviderId::new(provider), ev, &AliasTable::builtin()) {
        Resolution::Existing(id) => (id, false),
        Resolution::Created(info) => (info.id, true),
    }
}

#[test]
fn providers_meet_through_normalisation_and_aliases() {
    let mut reg = Registry::new(WINDOW_MS);
    let (id, created) = resolve(
        &mut reg,
        "odds-api",
        &epl("a1", "Manchester United", "Tottenham Hotspur", KICK_OFF),
    );
    assert!(created);
    let same = [
        (
            "espn",
            epl("e1", "Man Utd", "Tottenham", KICK_OFF + 2 * MIN),
        ),
        (
            "api-football",
            epl("f1", "Manchester United FC", "Spurs", KICK_OFF - 5 * MIN),
        ),
        (
            "bookie",
            epl(
                "b1",
                "MANCHESTER UTD",
                "Tottenham Hotspur FC",
                KICK_OFF + 60 * MIN,
            ),
        ),
    ];
    for (provider, ev) in &same {
        assert_eq!(
            resolve(&mut reg, provider, ev),
            (id.clone(), false),
            "{provider}"
        );
    }
    assert_eq!(reg.len(), 1);
    assert!(reg.near_misses().is_empty());
}

#[test]
fn accents_and_ampersands_meet() {
    let mut reg = Registry::new(WINDOW_MS);
    let laliga = |id, home, away| event(id, "la-liga", home, away, KICK_OFF);
    let (a, _) = resolve(
        &mut reg,
        "odds-api",
        &laliga("1", "Atlético Madrid", "Athletic Bilbao"),
    );
    let (b, created) = resolve(
        &mut reg,
        "espn",
        &laliga("2", "Atletico Madrid", "Athletic Club"),
    );
    assert_eq!((a, created), (b, false));
    let (c, _) = resolve(
        &mut reg,
        "odds-api",
        &epl("3", "Brighton and Hove Albion", "Everton", 0),
    );
    let (d, created) = resolve(
        &mut reg,
        "espn",
        &epl("4", "Brighton & Hove Albion", "Everton", 0),
    );
    assert_eq!((c, created), (d, false));
}

#[test]
fn fast_path_routes_by_provider_event_id() {
    let mut reg = Registry::new(WINDOW_MS);
    let (id, _) = resolve(
        &mut reg,
        "espn",
        &epl("401", "Arsenal", "Chelsea", KICK_OFF),
    );
    // Later observations may carry a corrected kick-off or a renamed team: the id map wins.
    let moved = epl("401", "Arsenal FC", "Chelsea London", KICK_OFF + 600 * MIN);
    assert_eq!(resolve(&mut reg, "espn", &moved), (id.clone(), false));
    // The same event id from another provider means nothing.
    let (other, created) = resolve(&mut reg, "odds-api", &moved);
    assert!(created && other != id);
    // An empty event id is never used as a shortcut.
    let (x, _) = resolve(&mut reg, "bad", &epl("", "Leeds", "Burnley", KICK_OFF));
    let (y, created) = resolve(&mut reg, "bad", &epl("", "Fulham", "Wolves", KICK_OFF));
    assert!(created && x != y);
}

#[test]
fn match_id_format_and_owner() {
    let mut reg = Registry::new(WINDOW_MS);
    let ev = epl("1", "Liverpool", "Everton", KICK_OFF);
    let (id, _) = resolve(&mut reg, "p", &ev);
    let key = IdentityKey::of(&ev, &AliasTable::builtin());
    assert_eq!(id.as_str(), format!("{:08x}-20241110", key.hash32()));
    for n in 1..=16 {
        assert_eq!(
            owner_of_match_id(&id, n),
            Some(owner_shard(key.hash64(), n))
        );
    }
    assert_eq!(owner_of_match_id(&MatchId::new("nfl-3fa2c19b-1"), 4), None);
    assert_eq!(
        owner_of_match_id(&MatchId::new("+1234567-20240101"), 4),
        None
    );
    assert_eq!(owner_of_match_id(&MatchId::new("0000000a"), 4), Some(2));
    assert_eq!(owner_shard(7, 0), 0);
}

#[test]
fn hash_is_stable_and_field_separated() {
    let key = |home: &str, away: &str| IdentityKey {
        sport: "soccer".into(),
        home: home.into(),
        away: away.into(),
    };
    // Pinned: ids must be reproducible across runs, builds and platforms.
    assert_eq!(
        key("arsenal", "chelsea").hash64(),
        key("arsenal", "chelsea").hash64()
    );
    assert_eq!(
        format!("{:016x}", key("arsenal", "chelsea").hash64()),
        PINNED_HASH
    );
    assert_ne!(key("ab", "c").hash64(), key("a", "bc").hash64());
    assert_ne!(
        key("arsenal", "chelsea").hash64(),
        key("chelsea", "arsenal").hash64()
    );
}

/// `hash64` of (soccer, arsenal, chelsea); changing it changes every match id.
const PINNED_HASH: &str = "2f79e38511173b77";

#[test]
fn repeat_fixture_a_week_later_is_a_new_match() {
    let mut reg = Registry::new(WINDOW_MS);
    let (first, _) = resolve(&mut reg, "p", &epl("1", "Arsenal", "Chelsea", KICK_OFF));
    let week = 7 * 24 * 60 * MIN;
    let (second, created) = resolve(
        &mut reg,
        "p",
        &epl("2", "Arsenal", "Chelsea", KICK_OFF + week),
    );
    assert!(created);
    assert_ne!(first, second);
    assert_eq!(
        &first.as_str()[..8],
        &second.as_str()[..8],
        "same pairing, same owner"
    );
    assert!(second.as_str().ends_with("-20241117"));
}

#[test]
fn doubleheader_gets_a_suffix_and_each_game_its_own_events() {
    let mut reg = Registry::new(WINDOW_MS);
    let game = |id: &str, start| {
        let mut ev = event(id, "mlb", "NY Yankees", "Boston Red Sox", start);
        ev.sport = "baseball".into();
        ev
    };
    let (g1, _) = resolve(&mut reg, "espn", &game("g1", KICK_OFF));
    let (g2, created) = resolve(&mut reg, "espn", &game("g2", KICK_OFF + 240 * MIN));
    assert!(created);
    assert_eq!(g2.as_str(), format!("{g1}-2"));
    // Another provider's start times, a few minutes off, land on the right game each.
    let mut other = game("x2", KICK_OFF + 243 * MIN);
    other.home = "New York Yankees".into();
    assert_eq!(resolve(&mut reg, "odds-api", &other), (g2.clone(), false));
    assert_eq!(
        resolve(&mut reg, "odds-api", &game("x1", KICK_OFF - 4 * MIN)),
        (g1, false)
    );
}

#[test]
fn reserve_sides_and_other_leagues_stay_apart() {
    let mut reg = Registry::new(WINDOW_MS);
    let laliga = |id, home| event(id, "la-liga", home, "Sevilla", KICK_OFF);
    let (first, _) = resolve(&mut reg, "p", &laliga("1", "Barcelona"));
    let (b_side, created) = resolve(&mut reg, "p", &laliga("2", "Barcelona B"));
    assert!(created && b_side != first);
    // Same pairing, same time, different competition: not merged.
    let cup = event("3", "copa-del-rey", "Barcelona", "Sevilla", KICK_OFF);
    let (cup_id, created) = resolve(&mut reg, "p", &cup);
    assert!(created && cup_id != first);
}

#[test]
fn near_misses_are_reported_not_merged() {
    let mut reg = Registry::new(WINDOW_MS);
    let (id, _) = resolve(
        &mut reg,
        "odds-api",
        &epl("1", "Manchester United", "Fulham", KICK_OFF),
    );
    let (typo, created) = resolve(
        &mut reg,
        "odd",
        &epl("2", "Manchstr United", "Fulham", KICK_OFF),
    );
    assert!(created && typo != id);
    let (swapped, created) = resolve(
        &mut reg,
        "odd",
        &epl("3", "Fulham", "Manchester United", KICK_OFF),
    );
    assert!(created && swapped != id);
    let misses = reg.near_misses();
    assert_eq!(misses.len(), 2);
    assert_eq!(misses[0].closest, id);
    assert!(misses[0].reason.contains("fulham"), "{}", misses[0].reason);
    assert!(misses[1].reason.contains("swapped"), "{}", misses[1].reason);
    // Far apart in time: not a near miss.
    resolve(
        &mut reg,
        "odd",
        &epl("4", "Manchester United", "Leeds", KICK_OFF + 600 * MIN),
    );
    assert_eq!(reg.near_misses().len(), 2);
}

#[test]
fn near_misses_are_bounded() {
    let mut reg = Registry::new(WINDOW_MS);
    resolve(&mut reg, "p", &epl("0", "Arsenal", "Chelsea", KICK_OFF));
    for i in 0..150 {
        resolve(
            &mut reg,
            "p",
            &epl(&format!("x{i}"), "Arsenal", &format!("Team {i}"), KICK_OFF),
        );
    }
    assert_eq!(reg.near_misses().len(), 100);
    assert_eq!(reg.near_misses()[99].event.away, "Team 149");
}

#[test]
fn forget_evicts_and_keeps_ids_unique() {
    let mut reg = Registry::new(WINDOW_MS);
    let (g1, _) = resolve(&mut reg, "p", &epl("1", "Arsenal", "Chelsea", KICK_OFF));
    reg.forget(&g1);
    assert!(reg.is_empty());
    reg.forget(&g1); // twice is harmless
                     // A different fixture the same day does not inherit the forgotten id...
    let (g2, created) = resolve(
        &mut reg,
        "p",
        &epl("2", "Arsenal", "Chelsea", KICK_OFF + 300 * MIN),
    );
    assert!(created);
    assert_eq!(g2.as_str(), format!("{g1}-2"));
    // ...but the forgotten fixture itself, reported again, gets its old id back.
    let (again, created) = resolve(&mut reg, "p", &epl("1", "Arsenal", "Chelsea", KICK_OFF));
    assert_eq!((again, created), (g1, true));
    assert_eq!(reg.len(), 2);
}

fn any_event() -> impl Strategy<Value = EventRef> {
    let name = prop_oneof![
        ".{0,20}",
        "(FC |AS )?(Arsenal|Chelsea|Man Utd|Manchester United)( B)?"
    ];
    (
        ".{0,6}",
        prop_oneof![".{0,8}", Just("soccer".to_owned())],
        ".{0,8}",
        name.clone(),
        name,
        any::<i64>(),
    )
        .prop_map(|(id, sport, league, home, away, start)| EventRef {
            provider_event_id: id,
            sport,
            league,
            home,
            away,
            start_time: Timestamp(start),
        })
}

proptest! {
    #[test]
    fn owner_of_match_id_agrees_with_owner_shard(
        sport in ".{0,10}", home in ".{0,30}", away in ".{0,30}", nr_shards in 1_usize..64,
    ) {
        let key = IdentityKey { sport, home, away };
        let id = MatchId::new(format!("{:08x}-20240101-3", key.hash32()));
        prop_assert_eq!(owner_of_match_id(&id, nr_shards), Some(owner_shard(key.hash64(), nr_shards)));
    }

    #[test]
    fn resolve_never_panics_and_created_ids_route_home(
        events in prop::collection::vec((0_u8..3, any_event()), 1..40),
        forget_every in 2_usize..7,
    ) {
        let aliases = AliasTable::builtin();
        let mut reg = Registry::new(WINDOW_MS);
        for (i, (provider, ev)) in events.iter().enumerate() {
            let provider = ProviderId::new(format!("p{provider}"));
            let id = match reg.resolve(&provider, ev, &aliases) {
                Resolution::Existing(id) => id,
                Resolution::Created(info) => {
                    let key = IdentityKey::of(ev, &aliases);
                    prop_assert_eq!(owner_of_match_id(&info.id, 7), Some(owner_shard(key.hash64(), 7)));
                    info.id
                }
            };
            if i % forget_every == 0 {
                reg.forget(&id);
            }
        }
        prop_assert!(reg.near_misses().len() <= 100);
    }

    #[test]
    fn normalise_never_panics_and_is_idempotent(s in ".{0,40}") {
        let once = normalise_team(&s);
        prop_assert_eq!(normalise_team(&once), once.clone());
        prop_assert!(!once.contains("  ") && once.trim() == once);
    }
}
