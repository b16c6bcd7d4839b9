-- Bets the betting platform recorded (POST /api/bets) and their grades. The server's own
-- durable copy is its bet journal (fdatasync'd before the 201); this table is the queryable
-- copy, written from the I/O thread like the rest of the history. Each bet is also inserted into
-- the original `bets` table (amount = stake; market_id = the original `markets` row of the
-- selection when it exists).
CREATE TABLE IF NOT EXISTS bet_records (
  bet_id     TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  market_id  TEXT NOT NULL,
  selection  TEXT NOT NULL,
  odds       DOUBLE PRECISION NOT NULL,
  stake      DOUBLE PRECISION NOT NULL,
  placed_at  TIMESTAMPTZ NOT NULL,
  result     TEXT,
  settled_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS idx_bet_records_market_id ON bet_records(market_id);
CREATE INDEX IF NOT EXISTS idx_bet_records_user_id ON bet_records(user_id);
