//! The throwaway PostgreSQL harness and the migration files, checked with psql.
//!
//! The writer itself (batching, journal, outages) is tested inside the server crate
//! (`src/io/pg/tests.rs`), which starts its servers through the same harness.

mod common;

use common::pg::Pg;

const MIGRATIONS: [&str; 3] = [
    include_str!("../migrations/0001_original.sql"),
    include_str!("../migrations/0002_inplay.sql"),
    include_str!("../migrations/0003_bets.sql"),
];

#[test]
fn throwaway_server_starts_stops_and_keeps_its_data() {
    let mut pg = Pg::start();
    assert_ne!(pg.port(), 5432, "never the machine's own server");
    pg.query("CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2)");
    pg.stop();
    pg.start_again();
    assert_eq!(pg.count("SELECT sum(n) FROM t"), 3);
    let dir = pg.dir().to_owned();
    drop(pg);
    assert!(!dir.exists(), "drop removes {}", dir.display());
}

#[test]
fn migrations_apply_twice_and_keep_the_original_columns() {
    let pg = Pg::start();
    for _ in 0..2 {
        for sql in MIGRATIONS {
            pg.query(sql);
        }
    }
    let columns = |table: &str| {
        pg.query(&format!(
            "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) \
             FROM information_schema.columns WHERE table_name = '{table}'"
        ))
    };
    assert_eq!(
        columns("markets"),
        "id uuid, sport character varying, event character varying, odds numeric, \
         active boolean, updated_at timestamp without time zone"
    );
    assert_eq!(
        columns("live_scores"),
        "id uuid, match_id character varying, home_score integer, away_score integer, \
         period character varying, timestamp timestamp without time zone, status text, seq bigint"
    );
    assert_eq!(
        columns("bets"),
        "id uuid, user_id character varying, market_id uuid, amount numeric, \
         created_at timestamp without time zone"
    );
    // The original service's own inserts still work.
    pg.query(
        "INSERT INTO markets (sport, event, odds) VALUES ('nfl', 'A vs B', 1.91); \
         INSERT INTO live_scores (match_id, home_score, away_score, period) \
         VALUES ('m1', 1, 0, 'Q1'); \
         INSERT INTO bets (user_id, market_id, amount) SELECT 'u1', id, 10 FROM markets",
    );
    assert_eq!(pg.count("SELECT count(*) FROM bets"), 1);
    for table in [
        "matches",
        "provider_events",
        "market_history",
        "settlements",
    ] {
        assert_eq!(pg.count(&format!("SELECT count(*) FROM {table}")), 0);
    }
}
