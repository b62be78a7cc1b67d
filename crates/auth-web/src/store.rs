//! Where a connection attempt lives between two HTTP requests: one [`Record`] per browser,
//! keyed by an unguessable [`SessionId`], changed only by compare-and-swap on its revision.
//!
//! Three stores implement [`IntentStore`]: [`SqliteStore`] (one file, the default),
//! [`RedisStore`] (several instances behind a load balancer) and [`MemoryStore`] (tests, one
//! process). A record holds the core's [`Snapshot`] (public JSON, no secret), the CSRF token,
//! the embedding app's context, the lease of the request in flight and its
//! `Idempotency-Key`; never a password, a code or the API key.

use std::future::Future;
use std::pin::Pin;

use auth_core::{AccountId, IdempotencyKey, Snapshot, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::ids::SessionId;

mod memory;
mod redis_store;
mod sqlite;

pub use memory::MemoryStore;
pub use redis_store::RedisStore;
pub use sqlite::SqliteStore;

/// The future a store method returns: boxed, so that [`IntentStore`] can be used as
/// `dyn IntentStore` (one allocation per store call, beside a network or disk round trip).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The server-side state of the form, shared by every instance that serves it.
///
/// Every write is a compare-and-swap: [`IntentStore::replace`] writes only if the record
/// still has the revision the caller read, so of two instances (or two tabs, or a double
/// click) acting on the same record, exactly one wins and the other reads again.
///
/// A store forgets a record at its [`Record::expires_at`] by the form's clock, the `now` the
/// form gives `create` and `load` (one clock for the form, its client and its store: a test
/// moves it by hand): every store by not returning it any more nor letting it stand in the
/// way of a `create`, SQLite and memory by sweeping expired records as they create, Redis by
/// also expiring the key on its own clock.
pub trait IntentStore: Send + Sync + 'static {
    /// Writes a new record with revision 1. Fails with [`StoreError::Conflict`] if a record
    /// with that id exists and has not expired at `now` (two connects of one start page, a
    /// double click: the second loses).
    fn create<'a>(&'a self, id: &'a SessionId, record: &'a Record, now: UnixMillis) -> StoreFuture<'a, ()>;

    /// The record of `id` with its revision, if it exists and has not expired at `now`.
    fn load<'a>(&'a self, id: &'a SessionId, now: UnixMillis) -> StoreFuture<'a, Option<Versioned>>;

    /// Writes `record` as revision `expected + 1` if the stored record still has revision
    /// `expected`; `Ok(false)` (and nothing written) if it has another, or is gone.
    fn replace<'a>(&'a self, id: &'a SessionId, expected: u64, record: &'a Record) -> StoreFuture<'a, bool>;

    /// Deletes the record if it still has revision `expected`; `Ok(false)` otherwise.
    fn remove<'a>(&'a self, id: &'a SessionId, expected: u64) -> StoreFuture<'a, bool>;

    /// Every record kept, as the stored JSON text (tests read it for secrets).
    fn dump(&self) -> StoreFuture<'_, Vec<String>>;
}

impl<S: IntentStore> IntentStore for std::sync::Arc<S> {
    fn create<'a>(&'a self, id: &'a SessionId, record: &'a Record, now: UnixMillis) -> StoreFuture<'a, ()> {
        (**self).create(id, record, now)
    }
    fn load<'a>(&'a self, id: &'a SessionId, now: UnixMillis) -> StoreFuture<'a, Option<Versioned>> {
        (**self).load(id, now)
    }
    fn replace<'a>(&'a self, id: &'a SessionId, expected: u64, record: &'a Record) -> StoreFuture<'a, bool> {
        (**self).replace(id, expected, record)
    }
    fn remove<'a>(&'a self, id: &'a SessionId, expected: u64) -> StoreFuture<'a, bool> {
        (**self).remove(id, expected)
    }
    fn dump(&self) -> StoreFuture<'_, Vec<String>> {
        (**self).dump()
    }
}

/// A record and the revision it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The revision to give [`IntentStore::replace`].
    pub revision: u64,
    /// The record.
    pub record: Record,
}

/// One browser's connection attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// The CSRF token every form of this browser carries (also in its cookie).
    pub csrf: String,
    /// The embedding app's context for this browser, given back with the connected account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Where the attempt is.
    pub stage: Stage,
    /// The request in flight, and who holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
    /// The key of an action whose answer was lost (its instance died): the same action again
    /// reuses it, so a server that acted on it replays its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost: Option<KeyedAction>,
    /// What the next page tells the user (a wrong code, an error with its request id…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Notice>,
    /// Connect attempts made with this record (bounded per session).
    #[serde(default)]
    pub connect_attempts: u32,
    /// When a store may forget the record.
    pub expires_at: UnixMillis,
}

impl Record {
    /// A record of a browser that has not connected yet.
    pub fn new(csrf: String, context: Option<String>, expires_at: UnixMillis) -> Self {
        Self {
            csrf,
            context,
            stage: Stage::Start,
            lease: None,
            lost: None,
            notice: None,
            connect_attempts: 0,
            expires_at,
        }
    }

    /// The lease, if it is held at `now`.
    pub fn live_lease(&self, now: UnixMillis) -> Option<&Lease> {
        self.lease.as_ref().filter(|lease| lease.until > now)
    }

    /// The record as the JSON a store keeps.
    pub fn to_json(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// A record from the JSON a store keeps.
    pub fn from_json(json: &str) -> Result<Self, StoreError> {
        serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// Where a connection attempt is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "a record is read once per request and written whole: a box would only add an allocation"
)]
pub enum Stage {
    /// Nothing sent yet, or the last connect was refused: the start page.
    Start,
    /// A checkpoint to solve: the core's snapshot of the pending intent.
    Pending {
        /// The intent as the core saved it (no secret).
        snapshot: Snapshot,
    },
    /// The account is connected.
    Connected {
        /// The connected account.
        account_id: AccountId,
        /// Whether the embedding app's callback has been called for it.
        notified: bool,
    },
    /// The intent expired or was destroyed: start again.
    Ended,
}

/// A request in flight: which instance sends it, until when it may, and with which key.
///
/// While it is held (`until` in the future) no other request acts on the record. The holder
/// renews it while a long request (an in-app approval) is held by the API; if the holder
/// dies, it runs out and another instance may send the same action again with the same key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The instance that holds it.
    pub holder: String,
    /// When it runs out.
    pub until: UnixMillis,
    /// What is being sent, and its `Idempotency-Key`.
    pub action: KeyedAction,
}

/// An action and the `Idempotency-Key` it is sent with. Never the code or the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyedAction {
    /// What is being sent.
    pub action: Action,
    /// Its key: the same on every send of this action.
    pub key: IdempotencyKey,
    /// When it was first sent: the intent a connect starts counts its deadline from there,
    /// also when the answer comes, replayed, to a later send of it. Absent from records
    /// written before it was kept (such a connect counts from its latest send).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sent_at: Option<UnixMillis>,
}

/// What a request in flight does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Connect with a username and password (the password is never stored).
    Connect,
    /// Solve with a typed code (the code is never stored).
    SolveCode,
    /// Approve in the app: no secret, so another instance may send it again by itself.
    ApproveInApp,
    /// Ask for another way to solve the checkpoint.
    TryAnotherWay,
    /// Ask for the code again.
    Resend,
    /// Call the embedding app's callback for the connected account.
    Notify,
}

impl Action {
    /// Whether another instance can send this action again without asking the user: it
    /// carries no secret and the user is waiting for it on a page that polls.
    pub fn resumes_by_itself(self) -> bool {
        matches!(self, Self::ApproveInApp | Self::Notify)
    }
}

/// What the next page tells the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Notice {
    /// The code was wrong (`role=alert`).
    WrongCode,
    /// The code was sent again (`role=status`), or the provider refused to.
    Resent {
        /// Whether the provider sent it.
        sent: bool,
    },
    /// The instance that was checking the last code or password stopped before its
    /// answer came: type it again (it is sent with the same key).
    TypeAgain,
    /// An error with the API's message and request id (`role=alert`).
    Error {
        /// The message, as the API gave it (escaped when shown).
        message: String,
        /// The API's request id, for support.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
}

/// Why a store could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store is unreachable or failed (Redis down, disk full…).
    #[error("the intent store is unavailable: {0}")]
    Unavailable(String),
    /// A record with that id already exists.
    #[error("a record with this id already exists")]
    Conflict,
    /// A stored record cannot be read.
    #[error("a stored record cannot be read: {0}")]
    Corrupt(String),
    /// The store's URL cannot be used.
    #[error("invalid store URL: {0}")]
    InvalidUrl(String),
}

/// The store a `--store` URL names: `sqlite:PATH`, `redis://HOST:PORT/DB`, or `memory`.
pub enum AnyStore {
    /// `sqlite:PATH`.
    Sqlite(SqliteStore),
    /// `redis://…`.
    Redis(RedisStore),
    /// `memory`.
    Memory(MemoryStore),
}

impl AnyStore {
    /// Opens the store a URL names (creating the SQLite file, connecting to Redis).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if url == "memory" {
            Ok(Self::Memory(MemoryStore::new()))
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(StoreError::InvalidUrl("sqlite:PATH needs a path".into()));
            }
            Ok(Self::Sqlite(SqliteStore::open(path).await?))
        } else if url.starts_with("redis://") || url.starts_with("rediss://") {
            Ok(Self::Redis(RedisStore::connect(url).await?))
        } else {
            Err(StoreError::InvalidUrl(
                "expected sqlite:PATH, redis://HOST:PORT/DB or memory".into(),
            ))
        }
    }

    fn inner(&self) -> &dyn IntentStore {
        match self {
            Self::Sqlite(store) => store,
            Self::Redis(store) => store,
            Self::Memory(store) => store,
        }
    }
}

impl IntentStore for AnyStore {
    fn create<'a>(&'a self, id: &'a SessionId, record: &'a Record, now: UnixMillis) -> StoreFuture<'a, ()> {
        self.inner().create(id, record, now)
    }
    fn load<'a>(&'a self, id: &'a SessionId, now: UnixMillis) -> StoreFuture<'a, Option<Versioned>> {
        self.inner().load(id, now)
    }
    fn replace<'a>(&'a self, id: &'a SessionId, expected: u64, record: &'a Record) -> StoreFuture<'a, bool> {
        self.inner().replace(id, expected, record)
    }
    fn remove<'a>(&'a self, id: &'a SessionId, expected: u64) -> StoreFuture<'a, bool> {
        self.inner().remove(id, expected)
    }
    fn dump(&self) -> StoreFuture<'_, Vec<String>> {
        self.inner().dump()
    }
}
