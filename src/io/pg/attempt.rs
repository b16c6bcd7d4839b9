//! One attempt at PostgreSQL: connect and migrate, or write one batch.
//!
//! A batch is written in one transaction. If PostgreSQL refuses it for a reason that lies in the
//! data (SQLSTATE class 21 cardinality, 22 data exception, 23 integrity constraint), retrying it
//! would fail forever, so the batch is written again one record per transaction: the records
//! PostgreSQL refuses are logged, counted as rejected and skipped; the others go in, in order.
//! Any other error (connection lost, server shutting down, timeout, ...) is transient: the
//! attempt stops where it is and the writer retries the rest later. A batch whose COMMIT was
//! interrupted may be written twice (at-least-once): its fate is unknown to the client.

use std::{
    sync::{atomic::Ordering::Relaxed, Arc},
    time::Duration,
};

use deadpool_postgres::{Client, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tracing::{error, warn};

use super::{
    backlog::Batch, migrate::migrate, sql::Rows, stats::PgStats, writer::Done, PgSettings,
};
use crate::io::record::Record;

/// How long migrations may take before the attempt is abandoned (and retried).
const MIGRATE_TIMEOUT: Duration = Duration::from_secs(600);

/// Why an attempt failed. Every kind is retried.
#[derive(Debug, thiserror::Error)]
pub(super) enum Failure {
    /// No connection could be had from the pool (connect refused, timed out, auth, ...).
    #[error("connect: {}", chain(.0))]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A statement failed.
    #[error("{}", chain(.0))]
    Db(#[from] tokio_postgres::Error),
    /// The database did not answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The pool could not be built from the settings.
    #[error("pool: {0}")]
    Build(String),
}

/// A pool of up to `pool_size` connections (made lazily), with `io_timeout` on connecting,
/// waiting and recycling.
///
/// # Errors
/// [`Failure::Build`] if deadpool refuses the settings.
pub(super) fn build_pool(settings: &PgSettings) -> Result<Pool, Failure> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&settings.host)
        .port(settings.port)
        .dbname(&settings.dbname)
        .user(&settings.user)
        .password(&settings.password)
        .application_name("inplay")
        .connect_timeout(settings.io_timeout)
        .keepalives_idle(Duration::from_secs(30));
    let manager = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = Manager::from_config(config, NoTls, manager);
    Pool::builder(manager)
        .max_size(settings.pool_size.max(1))
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(settings.io_timeout))
        .wait_timeout(Some(settings.io_timeout))
        .recycle_timeout(Some(settings.io_timeout))
        .build()
        .map_err(|e| Failure::Build(e.to_string()))
}

/// Gets a connection (bounded by the pool's `io_timeout`) and applies the migrations.
pub(super) async fn connect(pool: Pool) -> Done {
    let attempt = async {
        let mut client = pool.get().await?;
        match tokio::time::timeout(MIGRATE_TIMEOUT, migrate(&mut client)).await {
            Ok(Ok(applied)) => Ok(applied),
            Ok(Err(e)) => Err(discard_after(client, e.into())),
            Err(_) => Err(discard_after(client, Failure::Timeout(MIGRATE_TIMEOUT))),
        }
    };
    Done::Ready(attempt.await)
}

/// Writes the rest of `batch` (from `batch.done`).
pub(super) async fn write(
    pool: Pool,
    mut batch: Batch,
    stats: Arc<PgStats>,
    timeout: Duration,
) -> Done {
    let result = write_batch(&pool, &mut batch, &stats, timeout).await;
    Done::Wrote(batch, result)
}

async fn write_batch(
    pool: &Pool,
    batch: &mut Batch,
    stats: &PgStats,
    timeout: Duration,
) -> Result<(), Failure> {
    let mut client = pool.get().await?;
    let rest = &batch.records[batch.done..];
    match commit(&mut client, rest, timeout).await {
        Ok(()) => {
            PgStats::add(&stats.written, rest.len() as u64);
            batch.done = batch.records.len();
            return Ok(());
        }
        Err(Failure::Db(e)) if is_permanent(&e) => {
            warn!(error = %chain(&e), records = rest.len(), "PostgreSQL refused a batch; writing it record by record");
        }
        Err(e) => return Err(discard_after(client, e)),
    }
    while let Some(record) = batch.records.get(batch.done) {
        match commit(&mut client, std::slice::from_ref(record), timeout).await {
            Ok(()) => PgStats::add(&stats.written, 1),
            Err(Failure::Db(e)) if is_permanent(&e) => reject(stats, record, &chain(&e)),
            Err(e) => return Err(discard_after(client, e)),
        }
        batch.done += 1;
    }
    Ok(())
}

/// Writes `records` in one transaction.
async fn commit(client: &mut Client, records: &[Record], timeout: Duration) -> Result<(), Failure> {
    let rows = Rows::build(records);
    let attempt = async {
        let tx = client.transaction().await?;
        rows.write(&tx).await?;
        tx.commit().await
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(Failure::Timeout(timeout)),
    }
}

/// Counts and logs a record that can never be written; it is skipped.
pub(super) fn reject(stats: &PgStats, record: &Record, error: &dyn std::fmt::Display) {
    PgStats::add(&stats.rejected, 1);
    stats.set_error(format!("record rejected: {error}"));
    error!(
        %error,
        ?record,
        rejected_total = stats.rejected.load(Relaxed),
        "PostgreSQL history record rejected; skipped"
    );
}

/// Whether PostgreSQL refused the data itself, so that retrying cannot help: SQLSTATE class 21
/// (cardinality violation), 22 (data exception) or 23 (integrity constraint violation).
fn is_permanent(e: &tokio_postgres::Error) -> bool {
    e.code()
        .is_some_and(|state| matches!(state.code().get(..2), Some("21" | "22" | "23")))
}

/// Closes the connection a statement failed on instead of returning it to the pool: it may be
/// broken, still busy with a timed-out statement, or hold prepared statements that no longer
/// match the schema. The retry gets a fresh connection.
fn discard_after(client: Client, failure: Failure) -> Failure {
    discard(client);
    failure
}

fn discard(client: Client) {
    drop(Object::take(client));
}

/// An error and its sources, `outer: inner: ...`: tokio-postgres and deadpool keep the useful
/// part (the server's message, the OS error) in `source()`.
pub(super) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}
