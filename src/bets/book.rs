//! The bets a shard holds: those on markets of the matches it owns, so grading happens where the
//! settlement is decided, without a hop.
//!
//! Every bet is durable before it is acknowledged: appended as a JSON line to the shard's
//! journal `<data_dir>/bets/shard-<n>.jsonl` and `fdatasync`ed (through io_uring, the shard is
//! never blocked). Grades are appended the same way when a market settles. At start-up each
//! shard reads every shard's journal and keeps the bets whose match it owns under the current
//! shard count, so changing `server.shards` between runs loses nothing, and a bet id stays
//! unique across restarts (idempotency survives a crash). A torn last line (a crash mid-write)
//! is skipped with a warning; everything before it is kept.

use std::{
    cell::Cell,
    collections::HashMap,
    path::{Path, PathBuf},
};

use glommio::io::{BufferedFile, OpenOptions};
use inplay_core::{identity::owner_of_match_id, MatchId, Settlement};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tracing::{info, warn};

use super::check::payout;

/// One recorded bet, as the platform sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Bet {
    pub bet_id: String,
    pub user_id: String,
    pub market_id: String,
    pub selection: String,
    pub odds: f64,
    pub stake: f64,
    /// When inplay recorded it (ISO 8601).
    pub placed_at: String,
}

impl Bet {
    /// Whether `other` is the same bet (the platform retrying), ignoring when it was recorded.
    pub fn same_as(&self, other: &Bet) -> bool {
        self.user_id == other.user_id
            && self.market_id == other.market_id
            && self.selection == other.selection
            && self.odds == other.odds
            && self.stake == other.stake
    }

    /// The match the bet's market belongs to (`<matchId>:<type>[:<line>]`).
    pub fn match_id(&self) -> &str {
        self.market_id
            .split_once(':')
            .map_or(self.market_id.as_str(), |(m, _)| m)
    }
}

/// A journal line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Line {
    Bet(Bet),
    Graded {
        bet_id: String,
        result: Settlement,
        at: String,
    },
}

/// A bet with its grade, if its market has settled.
#[derive(Debug, Clone)]
struct Entry {
    bet: Bet,
    grade: Option<(Settlement, String)>,
}

/// One shard's bets.
#[derive(Debug, Default)]
pub(crate) struct BetBook {
    bets: HashMap<String, Entry>,
    by_market: HashMap<String, Vec<String>>,
}

impl BetBook {
    /// Loads every journal in `dir`, keeping the bets `shard` owns among `nr_shards`.
    pub fn load(dir: &Path, shard: usize, nr_shards: usize) -> Self {
        let mut book = Self::default();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return book;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.sort();
        for path in files {
            let Ok(text) = std::fs::read_to_string(&path) else {
                warn!(path = %path.display(), "Bet journal unreadable; skipped");
                continue;
            };
            for (n, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                match serde_json::from_str::<Line>(line) {
                    Ok(Line::Bet(bet)) => {
                        let owner = owner_of_match_id(&MatchId::new(bet.match_id()), nr_shards);
                        if owner.unwrap_or(0) == shard {
                            book.insert(bet);
                        }
                    }
                    Ok(Line::Graded { bet_id, result, at }) => {
                        if let Some(e) = book.bets.get_mut(&bet_id) {
                            e.grade = Some((result, at));
                        }
                    }
                    Err(e) => warn!(path = %path.display(), line = n + 1, error = %e,
                        "Bet journal line unreadable (torn by a crash?); skipped"),
                }
            }
        }
        if !book.bets.is_empty() {
            info!(
                shard,
                bets = book.bets.len(),
                "Bets loaded from the journal"
            );
        }
        book
    }

    /// A recorded bet.
    pub fn get(&self, bet_id: &str) -> Option<&Bet> {
        self.bets.get(bet_id).map(|e| &e.bet)
    }

    /// Records a bet (after it is durable).
    pub fn insert(&mut self, bet: Bet) {
        self.by_market
            .entry(bet.market_id.clone())
            .or_default()
            .push(bet.bet_id.clone());
        let id = bet.bet_id.clone();
        self.bets.insert(id, Entry { bet, grade: None });
    }

    /// Bets on `market_id` whose grade would change to `result_of(selection)`.
    pub fn regrade(
        &self,
        market_id: &str,
        result_of: impl Fn(&str) -> Option<Settlement>,
    ) -> Vec<(String, Settlement)> {
        let Some(ids) = self.by_market.get(market_id) else {
            return Vec::new();
        };
        ids.iter()
            .filter_map(|id| self.bets.get(id))
            .filter_map(|e| {
                let result = result_of(&e.bet.selection)?;
                let changed = e.grade.as_ref().is_none_or(|(g, _)| *g != result);
                changed.then(|| (e.bet.bet_id.clone(), result))
            })
            .collect()
    }

    /// Notes a grade (after it is durable).
    pub fn set_grade(&mut self, bet_id: &str, result: Settlement, at: String) {
        if let Some(e) = self.bets.get_mut(bet_id) {
            e.grade = Some((result, at));
        }
    }

    /// `GET /api/bets/:betId/settlement`, if this shard holds the bet.
    pub fn settlement_json(&self, bet_id: &str) -> Option<Value> {
        let e = self.bets.get(bet_id)?;
        let b = &e.bet;
        Some(match &e.grade {
            Some((result, at)) => json!({
                "betId": b.bet_id, "marketId": b.market_id, "selection": b.selection,
                "odds": b.odds, "stake": b.stake, "status": "settled",
                "result": result.as_str(), "payout": payout(*result, b.odds, b.stake),
                "settledAt": at,
            }),
            None => json!({
                "betId": b.bet_id, "marketId": b.market_id, "selection": b.selection,
                "odds": b.odds, "stake": b.stake, "status": "pending",
                "result": null, "payout": null, "settledAt": null,
            }),
        })
    }

    /// Bets held.
    pub fn len(&self) -> usize {
        self.bets.len()
    }
}

/// glommio's errors are not `Sync`: keep their text.
fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// The shard's append-only journal file.
pub(crate) struct BetJournal {
    file: BufferedFile,
    end: Cell<u64>,
    /// One append at a time: each goes at the end the previous one left.
    lock: glommio::sync::Semaphore,
}

impl BetJournal {
    /// Opens (creating) `<dir>/shard-<n>.jsonl` for appending.
    pub async fn open(dir: &Path, shard: usize) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("shard-{shard}.jsonl"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .buffered_open(&path)
            .await
            .map_err(io_err)?;
        let end = file.file_size().await.map_err(io_err)?;
        // After a torn write the file may not end in a newline: start the next line cleanly.
        let torn = end > 0
            && file
                .read_at(end - 1, 1)
                .await
                .map(|b| b.first() != Some(&b'\n'))
                .unwrap_or(false);
        let journal = Self {
            file,
            end: Cell::new(end),
            lock: glommio::sync::Semaphore::new(1),
        };
        if torn {
            journal.append_raw(b"\n".to_vec()).await?;
        }
        Ok(journal)
    }

    async fn append_raw(&self, bytes: Vec<u8>) -> std::io::Result<()> {
        let _permit = self.lock.acquire_permit(1).await.map_err(io_err)?;
        let pos = self.end.get();
        let len = bytes.len() as u64;
        let written = self.file.write_at(bytes, pos).await.map_err(io_err)?;
        if written as u64 != len {
            return Err(std::io::Error::other("short write to the bet journal"));
        }
        self.file.fdatasync().await.map_err(io_err)?;
        self.end.set(pos + len);
        Ok(())
    }

    /// Appends a bet and waits until it is on disk.
    pub async fn append_bet(&self, bet: &Bet) -> std::io::Result<()> {
        self.append(&Line::Bet(bet.clone())).await
    }

    /// Appends a grade and waits until it is on disk.
    pub async fn append_grade(
        &self,
        bet_id: &str,
        result: Settlement,
        at: &str,
    ) -> std::io::Result<()> {
        self.append(&Line::Graded {
            bet_id: bet_id.to_owned(),
            result,
            at: at.to_owned(),
        })
        .await
    }

    async fn append(&self, line: &Line) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec(line).map_err(io_err)?;
        bytes.push(b'\n');
        self.append_raw(bytes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bet(id: &str, market: &str) -> Bet {
        Bet {
            bet_id: id.into(),
            user_id: "u1".into(),
            market_id: market.into(),
            selection: "home".into(),
            odds: 2.0,
            stake: 10.0,
            placed_at: "2026-01-01T00:00:00.000Z".into(),
        }
    }

    #[test]
    fn load_keeps_owned_bets_and_grades_and_skips_torn_lines() {
        let dir = std::env::temp_dir().join(format!("inplay-bets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let b1 = bet("b1", "0000000a-x:moneyline"); // owner 2 of 4 (see identity tests)
        let lines = [
            serde_json::to_string(&Line::Bet(b1.clone())).unwrap(),
            serde_json::to_string(&Line::Graded {
                bet_id: "b1".into(),
                result: Settlement::Won,
                at: "t".into(),
            })
            .unwrap(),
            r#"{"t":"bet","betId":"b2","#.to_owned(), // torn
        ];
        std::fs::write(dir.join("shard-0.jsonl"), lines.join("\n")).unwrap();
        let book = BetBook::load(&dir, 2, 4);
        assert_eq!(book.len(), 1);
        let s = book.settlement_json("b1").unwrap();
        assert_eq!(s["result"], "won");
        assert_eq!(s["payout"], 20.0);
        assert_eq!(BetBook::load(&dir, 1, 4).len(), 0, "other shards skip it");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn regrade_only_reports_changes() {
        let mut book = BetBook::default();
        book.insert(bet("b1", "m:moneyline"));
        let won = |_: &str| Some(Settlement::Won);
        assert_eq!(
            book.regrade("m:moneyline", won),
            [("b1".to_owned(), Settlement::Won)]
        );
        book.set_grade("b1", Settlement::Won, "t".into());
        assert!(book.regrade("m:moneyline", won).is_empty());
        assert!(book.regrade("other", won).is_empty());
        assert!(bet("x", "m:moneyline").same_as(&bet("y", "m:moneyline")));
        assert_eq!(bet("x", "m1:total:2.5").match_id(), "m1");
    }
}
