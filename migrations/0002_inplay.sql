-- inplay's own tables: matches, the provider id map, market history and settlements.
-- Times are timestamptz here (the original's tables keep their TIMESTAMP columns, written in UTC).
-- No foreign keys between these tables: history rows are appended in arrival order and must never
-- be rejected because a related row was written in another batch (or dropped).

CREATE TABLE IF NOT EXISTS matches (
  id TEXT PRIMARY KEY,
  sport TEXT NOT NULL,
  league TEXT NOT NULL,
  home TEXT NOT NULL,
  away TEXT NOT NULL,
  start_time TIMESTAMPTZ NOT NULL,
  status TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_matches_sport_league ON matches(sport, league);
CREATE INDEX IF NOT EXISTS idx_matches_start_time ON matches(start_time);
CREATE INDEX IF NOT EXISTS idx_matches_status ON matches(status);

-- Which inplay match a provider's own event id belongs to.
CREATE TABLE IF NOT EXISTS provider_events (
  provider TEXT NOT NULL,
  provider_event_id TEXT NOT NULL,
  match_id TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (provider, provider_event_id)
);
CREATE INDEX IF NOT EXISTS idx_provider_events_match_id ON provider_events(match_id);

-- Every market change (prices, suspension, resumption), in order; `seq` is the match's sequence
-- number, `selections` a JSON array of {selection, best, best_provider}.
CREATE TABLE IF NOT EXISTS market_history (
  id BIGSERIAL PRIMARY KEY,
  match_id TEXT NOT NULL,
  market_id TEXT NOT NULL,
  market_type TEXT NOT NULL,
  line DOUBLE PRECISION,
  status TEXT NOT NULL,
  selections JSONB NOT NULL,
  seq BIGINT NOT NULL,
  at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_market_history_match_id ON market_history(match_id, at);
CREATE INDEX IF NOT EXISTS idx_market_history_market_id ON market_history(market_id, at);

-- Every settlement a market got, in order; `results` is a JSON object selection -> won | lost |
-- void | push, `conflicts` a JSON array of the selections the providers disagree on.
CREATE TABLE IF NOT EXISTS settlements (
  id BIGSERIAL PRIMARY KEY,
  match_id TEXT NOT NULL,
  market_id TEXT NOT NULL,
  results JSONB NOT NULL,
  confidence DOUBLE PRECISION NOT NULL,
  conflicts JSONB NOT NULL,
  seq BIGINT NOT NULL,
  at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_settlements_market_id ON settlements(market_id, at);
CREATE INDEX IF NOT EXISTS idx_settlements_match_id ON settlements(match_id);

-- The original's live_scores, extended only with nullable columns: its own queries and rows are
-- unaffected. `status` is the match status with the score, `seq` the match's sequence number.
ALTER TABLE live_scores ADD COLUMN IF NOT EXISTS status TEXT;
ALTER TABLE live_scores ADD COLUMN IF NOT EXISTS seq BIGINT;
