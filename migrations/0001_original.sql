-- The original service's schema, column for column (see ORIGINAL.md), so that its queries keep
-- working against a database inplay writes to. IF NOT EXISTS: a database the original service
-- already created is adopted as it is.
-- gen_random_uuid() is built in from PostgreSQL 13 on.

CREATE TABLE IF NOT EXISTS markets (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  sport VARCHAR(50) NOT NULL,
  event VARCHAR(255) NOT NULL,
  odds DECIMAL(10,2) NOT NULL,
  active BOOLEAN DEFAULT true,
  updated_at TIMESTAMP DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS idx_markets_sport ON markets(sport);
CREATE INDEX IF NOT EXISTS idx_markets_active ON markets(active);

CREATE TABLE IF NOT EXISTS live_scores (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  match_id VARCHAR(100) NOT NULL,
  home_score INTEGER DEFAULT 0,
  away_score INTEGER DEFAULT 0,
  period VARCHAR(50),
  timestamp TIMESTAMP DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS idx_live_scores_match_id ON live_scores(match_id);
CREATE INDEX IF NOT EXISTS idx_live_scores_timestamp ON live_scores(timestamp DESC);

CREATE TABLE IF NOT EXISTS bets (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id VARCHAR(100) NOT NULL,
  market_id UUID REFERENCES markets(id),
  amount DECIMAL(10,2) NOT NULL,
  created_at TIMESTAMP DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS idx_bets_user_id ON bets(user_id);
