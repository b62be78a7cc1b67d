//! The Redis store: several instances of the form behind a load balancer.

use std::sync::LazyLock;
use std::time::Duration;

use auth_core::UnixMillis;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

use super::{IntentStore, Record, StoreError, StoreFuture, Versioned};
use crate::ids::SessionId;

/// Records in Redis, one hash per record (`rev`, `data`) under `auth-web:record:<id>`,
/// expiring at [`Record::expires_at`] (`PEXPIREAT`), which the form sets ten minutes past
/// the intent's deadline (so the page can still say "Expired"), or 30 minutes past the last
/// connect attempt of a browser that has no intent yet.
///
/// Every write is one Lua script, so Redis runs the compare and the swap as one step: of two
/// instances writing the same revision, one wins. The connection manager reconnects by
/// itself when Redis restarts; a request that meets Redis down gets
/// [`StoreError::Unavailable`] (a clear page), never a hang: every command has a time limit.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Creates the record if no record has that key, or only one expired by the form's clock
/// (ARGV[3]; its `exp` field) that Redis's own clock has not expired yet.
const CREATE: &str = r"
local exp = redis.call('HGET', KEYS[1], 'exp')
if redis.call('EXISTS', KEYS[1]) == 1 and (not exp or tonumber(exp) > tonumber(ARGV[3])) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'rev', '1', 'data', ARGV[1], 'exp', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
";

/// Replaces the record if its revision is still ARGV[1].
const REPLACE: &str = r"
local rev = redis.call('HGET', KEYS[1], 'rev')
if rev ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'rev', tostring(tonumber(rev) + 1), 'data', ARGV[2], 'exp', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
";

/// Deletes the record if its revision is still ARGV[1].
const REMOVE: &str = r"
if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
";

/// The scripts, hashed once (Redis runs them by `EVALSHA`, loading them on first use).
static CREATE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(CREATE));
static REPLACE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(REPLACE));
static REMOVE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(REMOVE));

fn unavailable(error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

impl RedisStore {
    /// How long one command may take before the page says the store is unavailable.
    pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

    /// Connects to `redis://HOST:PORT/DB`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| StoreError::InvalidUrl(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Self::COMMAND_TIMEOUT))
            .set_response_timeout(Some(Self::COMMAND_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(unavailable)?;
        Ok(Self {
            connection,
            prefix: "auth-web:record:".to_owned(),
        })
    }

    fn key(&self, id: &SessionId) -> String {
        format!("{}{}", self.prefix, id.as_str())
    }
}

impl IntentStore for RedisStore {
    fn create<'a>(&'a self, id: &'a SessionId, record: &'a Record, now: UnixMillis) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let json = record.to_json()?;
            let mut connection = self.connection.clone();
            let created: i64 = CREATE_SCRIPT
                .key(self.key(id))
                .arg(json)
                .arg(record.expires_at.as_millis())
                .arg(now.as_millis())
                .invoke_async(&mut connection)
                .await
                .map_err(unavailable)?;
            if created == 1 {
                Ok(())
            } else {
                Err(StoreError::Conflict)
            }
        })
    }

    fn load<'a>(&'a self, id: &'a SessionId, now: UnixMillis) -> StoreFuture<'a, Option<Versioned>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let (revision, json): (Option<u64>, Option<String>) = redis::cmd("HMGET")
                .arg(self.key(id))
                .arg("rev")
                .arg("data")
                .query_async(&mut connection)
                .await
                .map_err(unavailable)?;
            let (Some(revision), Some(json)) = (revision, json) else {
                return Ok(None);
            };
            let record = Record::from_json(&json)?;
            // Redis expires the key itself; a clock a little apart must not revive it.
            Ok((record.expires_at > now).then_some(Versioned { revision, record }))
        })
    }

    fn replace<'a>(&'a self, id: &'a SessionId, expected: u64, record: &'a Record) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let json = record.to_json()?;
            let mut connection = self.connection.clone();
            let replaced: i64 = REPLACE_SCRIPT
                .key(self.key(id))
                .arg(expected.to_string())
                .arg(json)
                .arg(record.expires_at.as_millis())
                .invoke_async(&mut connection)
                .await
                .map_err(unavailable)?;
            Ok(replaced == 1)
        })
    }

    fn remove<'a>(&'a self, id: &'a SessionId, expected: u64) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let removed: i64 = REMOVE_SCRIPT
                .key(self.key(id))
                .arg(expected.to_string())
                .invoke_async(&mut connection)
                .await
                .map_err(unavailable)?;
            Ok(removed == 1)
        })
    }

    fn dump(&self) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let mut keys: Vec<String> = Vec::new();
            let mut cursor: u64 = 0;
            loop {
                let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(format!("{}*", self.prefix))
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut connection)
                    .await
                    .map_err(unavailable)?;
                keys.extend(batch);
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            let mut records = Vec::with_capacity(keys.len());
            for key in keys {
                let data: Option<String> = connection.hget(&key, "data").await.map_err(unavailable)?;
                records.extend(data);
            }
            Ok(records)
        })
    }
}
