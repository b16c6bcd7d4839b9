//! Schema migrations: the numbered files in `migrations/`, compiled in, applied at start-up.
//!
//! Each migration runs in its own transaction, together with the row that records it in
//! `schema_migrations`, so it is applied completely or not at all. Every transaction first takes
//! a transaction-scoped advisory lock, so several inplay nodes starting together against one
//! database apply each migration exactly once: the others wait, then see it recorded and skip
//! it. The lock is released by the commit (or rollback, or a dropped connection), never left
//! behind. Applying is idempotent: a second start applies nothing.

use deadpool_postgres::Client;

/// One migration file.
#[derive(Debug, Clone, Copy)]
pub(super) struct Migration {
    /// Its number, the file's prefix; applied in increasing order.
    pub version: i32,
    /// The rest of the file name, for humans.
    pub name: &'static str,
    /// The SQL, run as one batch.
    pub sql: &'static str,
}

/// Every migration, in order. Append new files here; never edit an applied one.
pub(super) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "original",
        sql: include_str!("../../../migrations/0001_original.sql"),
    },
    Migration {
        version: 2,
        name: "inplay",
        sql: include_str!("../../../migrations/0002_inplay.sql"),
    },
    Migration {
        version: 3,
        name: "bets",
        sql: include_str!("../../../migrations/0003_bets.sql"),
    },
];

/// Key of the advisory lock that serialises migrations across nodes ("inplay" in ASCII).
const LOCK_KEY: i64 = 0x696e_706c_6179;

const CREATE_TABLE: &str = "\
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

/// Applies the migrations `client`'s database does not have yet; returns their versions.
///
/// # Errors
/// The first failing statement; the migration it belonged to is rolled back, earlier ones stay.
pub(super) async fn migrate(client: &mut Client) -> Result<Vec<i32>, tokio_postgres::Error> {
    let mut applied = Vec::new();
    for migration in MIGRATIONS {
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
            .await?;
        tx.batch_execute(CREATE_TABLE).await?;
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[&migration.version],
            )
            .await?
            .is_some();
        if !done {
            tx.batch_execute(migration.sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&migration.version, &migration.name],
            )
            .await?;
            applied.push(migration.version);
        }
        tx.commit().await?;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_and_files_are_embedded() {
        let versions: Vec<i32> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
        assert!(MIGRATIONS[0]
            .sql
            .contains("CREATE TABLE IF NOT EXISTS markets"));
        assert!(MIGRATIONS[1]
            .sql
            .contains("CREATE TABLE IF NOT EXISTS market_history"));
    }
}
