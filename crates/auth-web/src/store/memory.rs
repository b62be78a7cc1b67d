//! The memory store: one process, for tests and single-instance demos.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use auth_core::UnixMillis;

use super::{IntentStore, Record, StoreError, StoreFuture, Versioned};
use crate::ids::SessionId;

/// Records in this process's memory, as JSON (the same text the other stores keep, so a
/// test reading [`IntentStore::dump`] sees what they would). Lost when the process stops.
/// Expired records (by the form's clock, the `now` it creates with) are swept every 1,024
/// creations.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<SessionId, (u64, String, UnixMillis)>>,
    creations: AtomicU64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn records(&self) -> MutexGuard<'_, HashMap<SessionId, (u64, String, UnixMillis)>> {
        // A panic while the lock was held cannot leave a half-written entry: every write is
        // one `insert` or `remove`.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets the records that expired at `now`.
    pub fn sweep(&self, now: UnixMillis) {
        self.records().retain(|_, (_, _, expires_at)| *expires_at > now);
    }
}

impl IntentStore for MemoryStore {
    fn create<'a>(&'a self, id: &'a SessionId, record: &'a Record, now: UnixMillis) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let json = record.to_json()?;
            if self
                .creations
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(1024)
            {
                self.sweep(now);
            }
            let mut records = self.records();
            if records
                .get(id)
                .is_some_and(|(_, _, expires_at)| *expires_at > now)
            {
                return Err(StoreError::Conflict);
            }
            records.insert(id.clone(), (1, json, record.expires_at));
            Ok(())
        })
    }

    fn load<'a>(&'a self, id: &'a SessionId, now: UnixMillis) -> StoreFuture<'a, Option<Versioned>> {
        Box::pin(async move {
            let found = self
                .records()
                .get(id)
                .filter(|(_, _, expires_at)| *expires_at > now)
                .map(|(revision, json, _)| (*revision, json.clone()));
            found
                .map(|(revision, json)| {
                    Ok(Versioned {
                        revision,
                        record: Record::from_json(&json)?,
                    })
                })
                .transpose()
        })
    }

    fn replace<'a>(&'a self, id: &'a SessionId, expected: u64, record: &'a Record) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let json = record.to_json()?;
            let mut records = self.records();
            match records.get_mut(id) {
                Some(entry) if entry.0 == expected => {
                    *entry = (expected.saturating_add(1), json, record.expires_at);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
    }

    fn remove<'a>(&'a self, id: &'a SessionId, expected: u64) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut records = self.records();
            match records.get(id) {
                Some((revision, _, _)) if *revision == expected => {
                    records.remove(id);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
    }

    fn dump(&self) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move { Ok(self.records().values().map(|(_, json, _)| json.clone()).collect()) })
    }
}
