//! Bet records → rows: `bet_records` (inplay's table, graded in place) and the original `bets`.

use std::collections::BTreeMap;

use deadpool_postgres::Transaction;
use tokio_postgres::types::ToSql;

use super::run;

const INSERT_BETS: &str = "\
INSERT INTO bet_records (bet_id, user_id, market_id, selection, odds, stake, placed_at)
SELECT bet_id, user_id, market_id, selection, odds, stake,
       timestamptz 'epoch' + at * interval '1 millisecond'
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::int8[])
     AS r(bet_id, user_id, market_id, selection, odds, stake, at)
ON CONFLICT (bet_id) DO NOTHING";

const INSERT_ORIGINAL_BETS: &str = "\
INSERT INTO bets (id, user_id, market_id, amount, created_at)
SELECT md5('bet:' || r.bet_id)::uuid, left(r.user_id, 100), m.id, round(r.stake::numeric, 2),
       (timestamptz 'epoch' + r.at * interval '1 millisecond') AT TIME ZONE 'UTC'
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::int8[])
     AS r(bet_id, user_id, market_id, selection, stake, at)
LEFT JOIN markets m ON m.id = md5(r.market_id || ':' || r.selection)::uuid
WHERE r.stake < 1e8
ON CONFLICT (id) DO NOTHING";

const GRADE_BETS: &str = "\
UPDATE bet_records AS b
SET result = r.result, settled_at = timestamptz 'epoch' + r.at * interval '1 millisecond'
FROM unnest($1::text[], $2::text[], $3::int8[]) AS r(bet_id, result, at)
WHERE b.bet_id = r.bet_id";

/// The bets and grades of a batch.
#[derive(Debug, Default)]
pub(super) struct BetRows<'a> {
    bet_id: Vec<&'a str>,
    user_id: Vec<&'a str>,
    market_id: Vec<&'a str>,
    selection: Vec<&'a str>,
    odds: Vec<f64>,
    stake: Vec<f64>,
    at: Vec<i64>,
    /// bet id → (result, at): the last grade in the batch wins.
    grades: BTreeMap<&'a str, (&'a str, i64)>,
}

impl<'a> BetRows<'a> {
    #[allow(clippy::too_many_arguments)] // one per column
    pub fn bet(
        &mut self,
        bet_id: &'a str,
        user_id: &'a str,
        market_id: &'a str,
        selection: &'a str,
        odds: f64,
        stake: f64,
        at: i64,
    ) {
        self.bet_id.push(bet_id);
        self.user_id.push(user_id);
        self.market_id.push(market_id);
        self.selection.push(selection);
        self.odds.push(odds);
        self.stake.push(stake);
        self.at.push(at);
    }

    pub fn grade(&mut self, bet_id: &'a str, result: &'a str, at: i64) {
        self.grades.insert(bet_id, (result, at));
    }

    /// Inserts the bets, then applies the grades (a bet and its grade may share a batch).
    pub async fn write(&self, tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        if !self.bet_id.is_empty() {
            let params: [&(dyn ToSql + Sync); 7] = [
                &self.bet_id,
                &self.user_id,
                &self.market_id,
                &self.selection,
                &self.odds,
                &self.stake,
                &self.at,
            ];
            run(tx, INSERT_BETS, &params).await?;
            let params: [&(dyn ToSql + Sync); 6] = [
                &self.bet_id,
                &self.user_id,
                &self.market_id,
                &self.selection,
                &self.stake,
                &self.at,
            ];
            run(tx, INSERT_ORIGINAL_BETS, &params).await?;
        }
        if !self.grades.is_empty() {
            let ids: Vec<&str> = self.grades.keys().copied().collect();
            let results: Vec<&str> = self.grades.values().map(|g| g.0).collect();
            let at: Vec<i64> = self.grades.values().map(|g| g.1).collect();
            run(tx, GRADE_BETS, &[&ids, &results, &at]).await?;
        }
        Ok(())
    }
}
