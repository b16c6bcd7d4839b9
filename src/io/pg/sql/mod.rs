//! Records → rows: the tables each [`Record`] goes to, and the statements that write them.
//!
//! A batch becomes one column array per table column, and each table gets one statement that
//! takes those arrays as parameters (`unnest($1::text[], ...)`). So a batch of any size costs one
//! round trip per table touched, every value is a bound parameter (no SQL is built from data),
//! and the statements are prepared once per connection.
//!
//! | record | rows |
//! |---|---|
//! | `Score` | appended to `live_scores` (original columns, plus `status` and `seq`) |
//! | `Market` | appended to `market_history`; and upserted into the original `markets`, one row per selection (below) |
//! | `Match` | upserted into `matches` |
//! | `ProviderEvent` | upserted into `provider_events` |
//! | `Settlement` | appended to `settlements` |
//! | `Bet` | inserted into `bet_records` and the original `bets` (see [`bets`]) |
//! | `BetGrade` | `bet_records.result` and `settled_at` updated |
//!
//! The original `markets` table has one row per selection: `id = md5(market_id || ':' ||
//! selection)::uuid` (stable, so the row is updated in place), `sport`, `event = "<record event>
//! <market type>[ <line>] <selection>"` (e.g. `Lakers vs Celtics spread -3.5 home`), `odds` = the
//! best price rounded to 2 decimals, `active` = the market is `active` and the selection has a
//! price, `updated_at`. A selection without a usable price (none, not finite, not in
//! `0 < p < 10^8`, which `DECIMAL(10,2)` could not hold) keeps its last odds and is only marked
//! inactive; if it has no row yet, none is created. Text longer than the original's `VARCHAR`
//! limits is cut to fit (`sport` 50, `event` 255, `period` 50), except `live_scores.match_id`
//! (100), which would be wrong if cut: such a record is rejected.
//!
//! History tables keep the batch's order (`WITH ORDINALITY ... ORDER BY`, so ids increase in
//! arrival order). Upserted tables get the last state of each key in the batch. Times are Unix
//! milliseconds converted by PostgreSQL; the original's `TIMESTAMP` columns are written in UTC.

use std::collections::BTreeMap;

use deadpool_postgres::Transaction;
use tokio_postgres::types::ToSql;

use crate::io::record::Record;

mod bets;
mod check;
mod statements;

pub(super) use check::check;
use statements::*;

/// The rows of a batch of records, as column arrays per table.
#[derive(Debug, Default)]
pub(super) struct Rows<'a> {
    scores: Scores<'a>,
    history: History<'a>,
    /// Original `markets` rows by key `market_id:selection` (last state wins).
    markets: BTreeMap<String, MarketRow<'a>>,
    matches: BTreeMap<&'a str, MatchRow<'a>>,
    /// `(provider, provider_event_id)` → `(match_id, at_ms)`.
    provider_events: BTreeMap<(&'a str, &'a str), (&'a str, i64)>,
    settlements: Settlements<'a>,
    bets: bets::BetRows<'a>,
}

#[derive(Debug, Default)]
struct Scores<'a> {
    match_id: Vec<&'a str>,
    home: Vec<i32>,
    away: Vec<i32>,
    period: Vec<&'a str>,
    status: Vec<&'a str>,
    seq: Vec<i64>,
    at: Vec<i64>,
}

#[derive(Debug, Default)]
struct History<'a> {
    match_id: Vec<&'a str>,
    market_id: Vec<&'a str>,
    market_type: Vec<&'a str>,
    line: Vec<Option<f64>>,
    status: Vec<&'a str>,
    /// JSON text.
    selections: Vec<String>,
    seq: Vec<i64>,
    at: Vec<i64>,
}

/// The latest state of one selection, for the original `markets` table.
#[derive(Debug, Clone, PartialEq)]
struct MarketRow<'a> {
    sport: &'a str,
    event: String,
    /// `None`: no usable price; the row is only marked inactive.
    odds: Option<f64>,
    active: bool,
    at: i64,
}

#[derive(Debug, Clone, PartialEq)]
struct MatchRow<'a> {
    sport: &'a str,
    league: &'a str,
    home: &'a str,
    away: &'a str,
    start: i64,
    status: &'a str,
    at: i64,
}

#[derive(Debug, Default)]
struct Settlements<'a> {
    match_id: Vec<&'a str>,
    market_id: Vec<&'a str>,
    /// JSON text: `{"home": "won", ...}`.
    results: Vec<String>,
    confidence: Vec<f64>,
    /// JSON text: `["draw", ...]`.
    conflicts: Vec<String>,
    seq: Vec<i64>,
    at: Vec<i64>,
}

// === impl Rows ===

impl<'a> Rows<'a> {
    /// Maps `records` (already passed through [`check`]) to rows, in order.
    pub fn build(records: &'a [Record]) -> Self {
        let mut rows = Self::default();
        for record in records {
            rows.add(record);
        }
        rows
    }

    fn add(&mut self, record: &'a Record) {
        match record {
            Record::Score {
                match_id,
                home,
                away,
                period,
                status,
                seq,
                at_ms,
            } => {
                let s = &mut self.scores;
                s.match_id.push(match_id);
                s.home.push(to_i32(*home));
                s.away.push(to_i32(*away));
                s.period.push(period);
                s.status.push(status);
                s.seq.push(to_i64(*seq));
                s.at.push(*at_ms);
            }
            Record::Market { .. } => self.add_market(record),
            Record::Match {
                id,
                sport,
                league,
                home,
                away,
                start_ms,
                status,
                at_ms,
            } => {
                let row = MatchRow {
                    sport,
                    league,
                    home,
                    away,
                    start: *start_ms,
                    status,
                    at: *at_ms,
                };
                self.matches.insert(id, row);
            }
            Record::ProviderEvent {
                provider,
                provider_event_id,
                match_id,
                at_ms,
            } => {
                let key = (provider.as_str(), provider_event_id.as_str());
                self.provider_events.insert(key, (match_id, *at_ms));
            }
            Record::Bet {
                bet_id,
                user_id,
                market_id,
                selection,
                odds,
                stake,
                placed_ms,
            } => self.bets.bet(
                bet_id, user_id, market_id, selection, *odds, *stake, *placed_ms,
            ),
            Record::BetGrade {
                bet_id,
                result,
                at_ms,
            } => self.bets.grade(bet_id, result, *at_ms),
            Record::Settlement {
                match_id,
                market_id,
                results,
                confidence,
                conflicts,
                seq,
                at_ms,
            } => {
                let results: serde_json::Map<String, serde_json::Value> = results
                    .iter()
                    .map(|(selection, result)| (selection.clone(), result.as_str().into()))
                    .collect();
                let s = &mut self.settlements;
                s.match_id.push(match_id);
                s.market_id.push(market_id);
                s.results
                    .push(serde_json::Value::Object(results).to_string());
                s.confidence.push(*confidence);
                s.conflicts.push(json_text(conflicts));
                s.seq.push(to_i64(*seq));
                s.at.push(*at_ms);
            }
        }
    }

    fn add_market(&mut self, record: &'a Record) {
        let Record::Market {
            match_id,
            market_id,
            sport,
            event,
            market_type,
            line,
            status,
            selections,
            seq,
            at_ms,
        } = record
        else {
            return;
        };
        let h = &mut self.history;
        h.match_id.push(match_id);
        h.market_id.push(market_id);
        h.market_type.push(market_type);
        h.line.push(*line);
        h.status.push(status);
        h.selections.push(json_text(selections));
        h.seq.push(to_i64(*seq));
        h.at.push(*at_ms);
        let line = line.map(|l| format!(" {l}")).unwrap_or_default();
        for selection in selections {
            let odds = selection
                .best
                .filter(|p| p.is_finite() && *p > 0.0 && *p < 1e8);
            let row = MarketRow {
                sport,
                event: format!("{event} {market_type}{line} {}", selection.selection),
                odds,
                active: status == "active" && odds.is_some(),
                at: *at_ms,
            };
            let key = format!("{market_id}:{}", selection.selection);
            self.markets.insert(key, row);
        }
    }

    /// Runs one statement per table that has rows, inside `tx`.
    ///
    /// # Errors
    /// The first statement PostgreSQL refused; the transaction is then unusable.
    pub async fn write(&self, tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        let s = &self.scores;
        if !s.match_id.is_empty() {
            let params: [&(dyn ToSql + Sync); 7] = [
                &s.match_id,
                &s.home,
                &s.away,
                &s.period,
                &s.status,
                &s.seq,
                &s.at,
            ];
            run(tx, INSERT_SCORES, &params).await?;
        }
        let h = &self.history;
        if !h.match_id.is_empty() {
            let params: [&(dyn ToSql + Sync); 8] = [
                &h.match_id,
                &h.market_id,
                &h.market_type,
                &h.line,
                &h.status,
                &h.selections,
                &h.seq,
                &h.at,
            ];
            run(tx, INSERT_HISTORY, &params).await?;
        }
        self.write_markets(tx).await?;
        self.write_matches(tx).await?;
        if !self.provider_events.is_empty() {
            let keys = self.provider_events.keys();
            let provider: Vec<&str> = keys.clone().map(|k| k.0).collect();
            let event_id: Vec<&str> = keys.map(|k| k.1).collect();
            let match_id: Vec<&str> = self.provider_events.values().map(|v| v.0).collect();
            let at: Vec<i64> = self.provider_events.values().map(|v| v.1).collect();
            run(
                tx,
                UPSERT_PROVIDER_EVENTS,
                &[&provider, &event_id, &match_id, &at],
            )
            .await?;
        }
        let s = &self.settlements;
        if !s.match_id.is_empty() {
            let params: [&(dyn ToSql + Sync); 7] = [
                &s.match_id,
                &s.market_id,
                &s.results,
                &s.confidence,
                &s.conflicts,
                &s.seq,
                &s.at,
            ];
            run(tx, INSERT_SETTLEMENTS, &params).await?;
        }
        // After the markets: the original `bets` rows point at them.
        self.bets.write(tx).await
    }

    async fn write_markets(&self, tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        let (priced, unpriced): (Vec<_>, Vec<_>) =
            self.markets.iter().partition(|(_, row)| row.odds.is_some());
        if !priced.is_empty() {
            let key: Vec<&str> = priced.iter().map(|(k, _)| k.as_str()).collect();
            let sport: Vec<&str> = priced.iter().map(|(_, r)| r.sport).collect();
            let event: Vec<&str> = priced.iter().map(|(_, r)| r.event.as_str()).collect();
            let odds: Vec<Option<f64>> = priced.iter().map(|(_, r)| r.odds).collect();
            let active: Vec<bool> = priced.iter().map(|(_, r)| r.active).collect();
            let at: Vec<i64> = priced.iter().map(|(_, r)| r.at).collect();
            run(
                tx,
                UPSERT_MARKETS,
                &[&key, &sport, &event, &odds, &active, &at],
            )
            .await?;
        }
        if !unpriced.is_empty() {
            let key: Vec<&str> = unpriced.iter().map(|(k, _)| k.as_str()).collect();
            let at: Vec<i64> = unpriced.iter().map(|(_, r)| r.at).collect();
            run(tx, DEACTIVATE_MARKETS, &[&key, &at]).await?;
        }
        Ok(())
    }

    async fn write_matches(&self, tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        if self.matches.is_empty() {
            return Ok(());
        }
        let rows = self.matches.values();
        let id: Vec<&str> = self.matches.keys().copied().collect();
        let sport: Vec<&str> = rows.clone().map(|r| r.sport).collect();
        let league: Vec<&str> = rows.clone().map(|r| r.league).collect();
        let home: Vec<&str> = rows.clone().map(|r| r.home).collect();
        let away: Vec<&str> = rows.clone().map(|r| r.away).collect();
        let start: Vec<i64> = rows.clone().map(|r| r.start).collect();
        let status: Vec<&str> = rows.clone().map(|r| r.status).collect();
        let at: Vec<i64> = rows.map(|r| r.at).collect();
        let params: [&(dyn ToSql + Sync); 8] =
            [&id, &sport, &league, &home, &away, &start, &status, &at];
        run(tx, UPSERT_MATCHES, &params).await
    }
}

/// Prepares (once per connection) and runs one statement.
async fn run(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<(), tokio_postgres::Error> {
    let statement = tx.prepare_cached(sql).await?;
    tx.execute(&statement, params).await.map(drop)
}

/// Values [`check`] has verified; saturating keeps this total anyway.
fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// JSON text of plain data (strings, numbers, options), which always serialises.
fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

#[cfg(test)]
mod tests;
