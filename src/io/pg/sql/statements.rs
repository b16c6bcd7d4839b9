//! The statements, one per table, each taking one array per column.
//!
//! `$n::int8` Unix milliseconds become times in SQL; `AT TIME ZONE 'UTC'` makes
//! the original's TIMESTAMP columns UTC whatever the session's time zone.

pub(super) const INSERT_SCORES: &str = "\
INSERT INTO live_scores (match_id, home_score, away_score, period, status, seq, \"timestamp\")
SELECT match_id, home, away, left(period, 50), status, seq,
       (timestamptz 'epoch' + at * interval '1 millisecond') AT TIME ZONE 'UTC'
FROM unnest($1::text[], $2::int4[], $3::int4[], $4::text[], $5::text[], $6::int8[], $7::int8[])
     WITH ORDINALITY AS r(match_id, home, away, period, status, seq, at, n)
ORDER BY n";

pub(super) const INSERT_HISTORY: &str = "\
INSERT INTO market_history (match_id, market_id, market_type, line, status, selections, seq, at)
SELECT match_id, market_id, market_type, line, status, selections::jsonb, seq,
       timestamptz 'epoch' + at * interval '1 millisecond'
FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::text[], $7::int8[],
            $8::int8[])
     WITH ORDINALITY AS r(match_id, market_id, market_type, line, status, selections, seq, at, n)
ORDER BY n";

pub(super) const UPSERT_MARKETS: &str = "\
INSERT INTO markets (id, sport, event, odds, active, updated_at)
SELECT md5(key)::uuid, left(sport, 50), left(event, 255), round(odds::numeric, 2), active,
       (timestamptz 'epoch' + at * interval '1 millisecond') AT TIME ZONE 'UTC'
FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::bool[], $6::int8[])
     AS r(key, sport, event, odds, active, at)
ON CONFLICT (id) DO UPDATE SET sport = EXCLUDED.sport, event = EXCLUDED.event,
    odds = EXCLUDED.odds, active = EXCLUDED.active, updated_at = EXCLUDED.updated_at";

pub(super) const DEACTIVATE_MARKETS: &str = "\
UPDATE markets AS m
SET active = false,
    updated_at = (timestamptz 'epoch' + r.at * interval '1 millisecond') AT TIME ZONE 'UTC'
FROM unnest($1::text[], $2::int8[]) AS r(key, at)
WHERE m.id = md5(r.key)::uuid";

pub(super) const UPSERT_MATCHES: &str = "\
INSERT INTO matches (id, sport, league, home, away, start_time, status, updated_at)
SELECT id, sport, league, home, away, timestamptz 'epoch' + start_ms * interval '1 millisecond',
       status, timestamptz 'epoch' + at * interval '1 millisecond'
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int8[], $7::text[],
            $8::int8[])
     AS r(id, sport, league, home, away, start_ms, status, at)
ON CONFLICT (id) DO UPDATE SET sport = EXCLUDED.sport, league = EXCLUDED.league,
    home = EXCLUDED.home, away = EXCLUDED.away, start_time = EXCLUDED.start_time,
    status = EXCLUDED.status, updated_at = EXCLUDED.updated_at";

pub(super) const UPSERT_PROVIDER_EVENTS: &str = "\
INSERT INTO provider_events (provider, provider_event_id, match_id, updated_at)
SELECT provider, event_id, match_id, timestamptz 'epoch' + at * interval '1 millisecond'
FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[]) AS r(provider, event_id, match_id, at)
ON CONFLICT (provider, provider_event_id) DO UPDATE SET match_id = EXCLUDED.match_id,
    updated_at = EXCLUDED.updated_at";

pub(super) const INSERT_SETTLEMENTS: &str = "\
INSERT INTO settlements (match_id, market_id, results, confidence, conflicts, seq, at)
SELECT match_id, market_id, results::jsonb, confidence, conflicts::jsonb, seq,
       timestamptz 'epoch' + at * interval '1 millisecond'
FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::int8[], $7::int8[])
     WITH ORDINALITY AS r(match_id, market_id, results, confidence, conflicts, seq, at, n)
ORDER BY n";
