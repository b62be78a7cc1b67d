//! The SQLite store: one file that survives restarts, the default of `postpress-web`.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use auth_core::UnixMillis;
use rusqlite::{Connection, OptionalExtension, params};

use super::{IntentStore, Record, StoreError, StoreFuture, Versioned};
use crate::ids::SessionId;

/// Records in one SQLite file, in write-ahead-log mode.
///
/// rusqlite is blocking, so every call runs on tokio's blocking pool (`spawn_blocking`) and
/// never on the threads that serve pages. One connection, behind a mutex: a record is a few
/// hundred bytes and a write takes tens of microseconds, so the form's load never queues on
/// it for long, and there is no pool to size. Several processes may share the file (SQLite
/// locks it; a writer waits up to five seconds for another). `synchronous=NORMAL` in WAL mode
/// survives a crash of the process; a power cut may lose the last writes, which only costs
/// a user their running five-minute attempt.
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    writes: Arc<AtomicU64>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

/// How many creations between two sweeps of expired records.
const SWEEP_EVERY: u64 = 512;

fn unavailable(error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

fn sql_millis(at: UnixMillis) -> i64 {
    i64::try_from(at.as_millis()).unwrap_or(i64::MAX)
}

impl SqliteStore {
    /// Opens (or creates) the file at `path`, with its table.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        let connection = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            let connection = Connection::open(&path).map_err(unavailable)?;
            connection
                .busy_timeout(Duration::from_secs(5))
                .map_err(unavailable)?;
            connection
                .execute_batch(
                    "PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     CREATE TABLE IF NOT EXISTS auth_web_records (
                         id TEXT PRIMARY KEY NOT NULL,
                         revision INTEGER NOT NULL,
                         expires_at INTEGER NOT NULL,
                         record TEXT NOT NULL
                     ) WITHOUT ROWID;
                     CREATE INDEX IF NOT EXISTS auth_web_records_expiry ON auth_web_records (expires_at);",
                )
                .map_err(unavailable)?;
            Ok(connection)
        })
        .await
        .map_err(unavailable)??;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            writes: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Runs `work` on the connection, on the blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&connection)
        })
        .await
        .map_err(unavailable)?
    }

    /// Counts a creation, and every [`SWEEP_EVERY`] creations deletes the records expired at
    /// `now` (the form's clock).
    fn maybe_sweep(&self, connection: &Connection, now: i64) {
        if self
            .writes
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SWEEP_EVERY)
        {
            let swept = connection.execute(
                "DELETE FROM auth_web_records WHERE expires_at <= ?1",
                params![now],
            );
            if let Err(error) = swept {
                tracing::warn!(%error, "sweeping expired records failed");
            }
        }
    }

    /// Deletes the records that expired at `now`; returns how many.
    pub async fn sweep(&self, now: UnixMillis) -> Result<usize, StoreError> {
        self.with(move |c| {
            c.execute(
                "DELETE FROM auth_web_records WHERE expires_at <= ?1",
                params![sql_millis(now)],
            )
            .map_err(unavailable)
        })
        .await
    }
}

impl IntentStore for SqliteStore {
    fn create<'a>(&'a self, id: &'a SessionId, record: &'a Record, now: UnixMillis) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let json = record.to_json()?;
            let id = id.as_str().to_owned();
            let expires_at = sql_millis(record.expires_at);
            let now = sql_millis(now);
            let this = self.clone();
            self.with(move |c| {
                this.maybe_sweep(c, now);
                // An expired record with the same id (a stale cookie's) is replaced.
                c.execute(
                    "DELETE FROM auth_web_records WHERE id = ?1 AND expires_at <= ?2",
                    params![id, now],
                )
                .map_err(unavailable)?;
                let inserted = c
                    .execute(
                        "INSERT OR IGNORE INTO auth_web_records (id, revision, expires_at, record)
                         VALUES (?1, 1, ?2, ?3)",
                        params![id, expires_at, json],
                    )
                    .map_err(unavailable)?;
                if inserted == 1 {
                    Ok(())
                } else {
                    Err(StoreError::Conflict)
                }
            })
            .await
        })
    }

    fn load<'a>(&'a self, id: &'a SessionId, now: UnixMillis) -> StoreFuture<'a, Option<Versioned>> {
        Box::pin(async move {
            let id = id.as_str().to_owned();
            let found = self
                .with(move |c| {
                    c.query_row(
                        "SELECT revision, record FROM auth_web_records WHERE id = ?1 AND expires_at > ?2",
                        params![id, sql_millis(now)],
                        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)),
                    )
                    .optional()
                    .map_err(unavailable)
                })
                .await?;
            found
                .map(|(revision, json)| {
                    Ok(Versioned {
                        revision: u64::try_from(revision).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        record: Record::from_json(&json)?,
                    })
                })
                .transpose()
        })
    }

    fn replace<'a>(&'a self, id: &'a SessionId, expected: u64, record: &'a Record) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let json = record.to_json()?;
            let id = id.as_str().to_owned();
            let expires_at = sql_millis(record.expires_at);
            let expected = i64::try_from(expected).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            self.with(move |c| {
                let changed = c
                    .execute(
                        "UPDATE auth_web_records SET revision = revision + 1, expires_at = ?3, record = ?4
                         WHERE id = ?1 AND revision = ?2",
                        params![id, expected, expires_at, json],
                    )
                    .map_err(unavailable)?;
                Ok(changed == 1)
            })
            .await
        })
    }

    fn remove<'a>(&'a self, id: &'a SessionId, expected: u64) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let id = id.as_str().to_owned();
            let expected = i64::try_from(expected).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            self.with(move |c| {
                let removed = c
                    .execute(
                        "DELETE FROM auth_web_records WHERE id = ?1 AND revision = ?2",
                        params![id, expected],
                    )
                    .map_err(unavailable)?;
                Ok(removed == 1)
            })
            .await
        })
    }

    fn dump(&self) -> StoreFuture<'_, Vec<String>> {
        Box::pin(self.with(|c| {
            let mut statement = c
                .prepare("SELECT record FROM auth_web_records")
                .map_err(unavailable)?;
            let rows = statement
                .query_map([], |row| row.get::<_, String>(0))
                .map_err(unavailable)?;
            rows.map(|row| row.map_err(unavailable)).collect()
        }))
    }
}
