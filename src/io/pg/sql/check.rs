//! Checks of a record before it is written: what would make PostgreSQL reject it, or store a
//! wrong value.

use crate::io::record::Record;

/// Why a record cannot be written at all (PostgreSQL would reject it, or its value would be
/// wrong). The writer logs, counts and skips such a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BadRecord {
    /// A number does not fit its column.
    #[error("{field} = {value} is out of range for its column ({column})")]
    OutOfRange {
        field: &'static str,
        value: u64,
        column: &'static str,
    },
    /// PostgreSQL text cannot hold the NUL character.
    #[error("a text field contains a NUL character")]
    Nul,
    /// `live_scores.match_id` is `VARCHAR(100)`; cutting the id would file the score under
    /// another match.
    #[error("match id of {0} characters is longer than live_scores.match_id allows (100)")]
    LongMatchId(usize),
}

/// Checks what would make PostgreSQL reject the record (or store a wrong value), before the
/// record can spoil a whole batch.
///
/// # Errors
/// [`BadRecord`] for a score above `i32::MAX`, a sequence number above `i64::MAX`, a NUL
/// character in any text, or a score's match id longer than 100 characters.
pub(crate) fn check(record: &Record) -> Result<(), BadRecord> {
    if texts(record).any(|text| text.contains('\0')) {
        return Err(BadRecord::Nul);
    }
    let int4 = |field, value: u32| match i32::try_from(value) {
        Ok(_) => Ok(()),
        Err(_) => Err(BadRecord::OutOfRange {
            field,
            value: value.into(),
            column: "integer",
        }),
    };
    let seq = match record {
        Record::Score {
            match_id,
            home,
            away,
            seq,
            ..
        } => {
            let chars = match_id.chars().count();
            if chars > 100 {
                return Err(BadRecord::LongMatchId(chars));
            }
            int4("home", *home)?;
            int4("away", *away)?;
            *seq
        }
        Record::Market { seq, .. } | Record::Settlement { seq, .. } => *seq,
        Record::Match { .. }
        | Record::ProviderEvent { .. }
        | Record::Bet { .. }
        | Record::BetGrade { .. } => 0,
    };
    match i64::try_from(seq) {
        Ok(_) => Ok(()),
        Err(_) => Err(BadRecord::OutOfRange {
            field: "seq",
            value: seq,
            column: "bigint",
        }),
    }
}

/// Every text field of a record.
fn texts(record: &Record) -> Box<dyn Iterator<Item = &str> + '_> {
    match record {
        Record::Match {
            id,
            sport,
            league,
            home,
            away,
            status,
            ..
        } => Box::new(
            [id, sport, league, home, away, status]
                .into_iter()
                .map(String::as_str),
        ),
        Record::ProviderEvent {
            provider,
            provider_event_id,
            match_id,
            ..
        } => Box::new(
            [provider, provider_event_id, match_id]
                .into_iter()
                .map(String::as_str),
        ),
        Record::Score {
            match_id,
            period,
            status,
            ..
        } => Box::new([match_id, period, status].into_iter().map(String::as_str)),
        Record::Market {
            match_id,
            market_id,
            sport,
            event,
            market_type,
            status,
            selections,
            ..
        } => {
            let fixed = [match_id, market_id, sport, event, market_type, status];
            let selections = selections.iter().flat_map(|s| {
                std::iter::once(s.selection.as_str()).chain(s.best_provider.as_deref())
            });
            Box::new(fixed.into_iter().map(String::as_str).chain(selections))
        }
        Record::Settlement {
            match_id,
            market_id,
            results,
            conflicts,
            ..
        } => {
            let pairs = results.iter().flat_map(|(a, b)| [a.as_str(), b.as_str()]);
            let ids = [match_id, market_id].into_iter().map(String::as_str);
            Box::new(ids.chain(pairs).chain(conflicts.iter().map(String::as_str)))
        }
        Record::Bet {
            bet_id,
            user_id,
            market_id,
            selection,
            ..
        } => Box::new(
            [bet_id, user_id, market_id, selection]
                .into_iter()
                .map(String::as_str),
        ),
        Record::BetGrade { bet_id, result, .. } => {
            Box::new([bet_id, result].into_iter().map(String::as_str))
        }
    }
}
