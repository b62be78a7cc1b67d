//! `Idempotency-Key` records: per API key, the answer given to a POST, replayed to a retry.
//!
//! quickstart: "All POST and PATCH endpoints accept an Idempotency-Key header. Replays with
//! the same key return the original response, so retries are safe." What the docs leave
//! open is *inferred* here, in one place: a key is kept for the intent's lifetime plus the
//! forget grace from its answer, then forgotten; the same key with another request answers
//! 409 `errors/idempotency_conflict`; a retry that arrives while the first request is still
//! being answered (held for an in-app approval, delayed by a fault) waits for that answer
//! and gets it too; at most `capacity` records are kept, the oldest forgotten first.
//!
//! A record costs its key (16 bytes, a 128-bit keyed hash of the API key and the
//! `Idempotency-Key`, never the keys themselves), a 64-bit fingerprint of the request, the
//! answer's status, request id and `Retry-After`, and its body (exact size).

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Mutex;

use bytes::Bytes;
use tokio::sync::Notify;

use crate::request_id::RequestId;

/// The longest `Idempotency-Key` accepted (an *inferred* limit: longer keys answer 400).
pub(crate) const MAX_KEY_BYTES: usize = 255;

/// Which record: a keyed 128-bit hash of (API key, `Idempotency-Key`).
type RecordKey = (u64, u64);

/// An answer as it was given, replayed byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    pub(crate) status: u16,
    pub(crate) request_id: RequestId,
    pub(crate) retry_after: Option<u32>,
    pub(crate) body: Box<[u8]>,
}

impl Stored {
    pub(crate) fn body_bytes(&self) -> Bytes {
        Bytes::copy_from_slice(&self.body)
    }
}

#[derive(Debug)]
struct Record {
    fingerprint: u64,
    expires_at_ms: u64,
    stored: Stored,
}

#[derive(Debug)]
enum Entry {
    /// Being answered now by the request holding the claim numbered `claim`.
    Running {
        fingerprint: u64,
        claim: u64,
    },
    Done(Record),
}

/// What to do with a request that carries an `Idempotency-Key`.
pub(crate) enum Begin<'a> {
    /// Seen before with the same request: answer this again, do nothing else.
    Replay(Stored),
    /// Seen before with another request: 409.
    Conflict,
    /// The same request is being answered right now: wait (on [`Records::changed`]) and
    /// ask again.
    Wait,
    /// New: act on it, then [`Claim::finish`] with the answer to keep.
    Run(Claim<'a>),
}

struct Store {
    entries: HashMap<RecordKey, Entry>,
    /// Done records in the order they expire (the clock never goes back).
    order: VecDeque<(RecordKey, u64)>,
    next_claim: u64,
    last_expiry_ms: u64,
}

/// Every record of one simulator.
pub(crate) struct Records {
    store: Mutex<Store>,
    finished: Notify,
    lifetime_ms: u64,
    capacity: usize,
    key_a: RandomState,
    key_b: RandomState,
    fingerprints: RandomState,
}

impl Records {
    /// Records kept `lifetime_ms` after their answer, at most `capacity` of them.
    pub(crate) fn new(lifetime_ms: u64, capacity: usize) -> Records {
        Records {
            store: Mutex::new(Store {
                entries: HashMap::new(),
                order: VecDeque::new(),
                next_claim: 0,
                last_expiry_ms: 0,
            }),
            finished: Notify::new(),
            lifetime_ms,
            capacity,
            key_a: RandomState::new(),
            key_b: RandomState::new(),
            fingerprints: RandomState::new(),
        }
    }

    /// The record key of an `Idempotency-Key` sent with an API key. Both are hashed with
    /// their lengths (as a tuple of slices), so that no two pairs share a key because
    /// their bytes run together the same way.
    pub(crate) fn key(&self, api_key: &[u8], idempotency_key: &[u8]) -> RecordKey {
        let pair = (api_key, idempotency_key);
        (self.key_a.hash_one(pair), self.key_b.hash_one(pair))
    }

    /// The fingerprint of a request: which endpoint (whatever the path style) and its body,
    /// hashed with their lengths.
    pub(crate) fn fingerprint(&self, endpoint: &[u8], body: &[u8]) -> u64 {
        self.fingerprints.hash_one((endpoint, body))
    }

    /// Notified whenever a claim ends: a waiting retry asks [`Records::begin`] again.
    pub(crate) fn changed(&self) -> &Notify {
        &self.finished
    }

    /// What to do with a request under `key` whose fingerprint is `fingerprint`.
    pub(crate) fn begin(&self, key: RecordKey, fingerprint: u64, now_ms: u64) -> Begin<'_> {
        let mut store = crate::lock(&self.store);
        match store.entries.get(&key) {
            Some(Entry::Done(record)) if now_ms < record.expires_at_ms => {
                return if record.fingerprint == fingerprint {
                    Begin::Replay(record.stored.clone())
                } else {
                    Begin::Conflict
                };
            }
            Some(Entry::Running {
                fingerprint: running, ..
            }) => {
                return if *running == fingerprint {
                    Begin::Wait
                } else {
                    Begin::Conflict
                };
            }
            // Absent, or expired and not yet swept: new.
            Some(Entry::Done(_)) | None => {}
        }
        store.next_claim = store.next_claim.wrapping_add(1);
        let claim = store.next_claim;
        store.entries.insert(key, Entry::Running { fingerprint, claim });
        Begin::Run(Claim {
            records: self,
            key,
            claim,
            finished: false,
        })
    }

    /// Forgets the records whose time has come.
    pub(crate) fn sweep(&self, now_ms: u64) {
        let mut store = crate::lock(&self.store);
        while let Some(&(key, expires)) = store.order.front() {
            if expires > now_ms {
                break;
            }
            store.order.pop_front();
            store.forget(key, expires);
        }
    }

    /// Records kept (answered; not counting requests being answered now).
    pub(crate) fn len(&self) -> usize {
        let store = crate::lock(&self.store);
        store
            .entries
            .values()
            .filter(|e| matches!(e, Entry::Done(_)))
            .count()
    }
}

impl Store {
    /// Removes `key`'s record if it is the one that expires at `expires` (not a newer one).
    fn forget(&mut self, key: RecordKey, expires: u64) {
        if let Some(Entry::Done(record)) = self.entries.get(&key)
            && record.expires_at_ms == expires
        {
            self.entries.remove(&key);
        }
    }
}

/// The right to answer a request under a new key. Dropped without [`Claim::finish`] (the
/// client went away during a hold, or the answer was never computed), the key is free
/// again, and a waiting retry is answered as a new request.
pub(crate) struct Claim<'a> {
    records: &'a Records,
    key: RecordKey,
    claim: u64,
    finished: bool,
}

impl Claim<'_> {
    /// Keeps `stored` as the key's answer (or, with `None`, frees the key: the answer was
    /// not one to replay), and wakes the retries waiting for it.
    pub(crate) fn finish(mut self, stored: Option<Stored>, now_ms: u64) {
        self.finished = true;
        let records = self.records;
        {
            let mut store = crate::lock(&records.store);
            let ours = matches!(
                store.entries.get(&self.key),
                Some(Entry::Running { claim, .. }) if *claim == self.claim
            );
            if ours {
                match stored {
                    Some(stored) => {
                        let fingerprint = match store.entries.get(&self.key) {
                            Some(Entry::Running { fingerprint, .. }) => *fingerprint,
                            _ => 0,
                        };
                        let expires = now_ms
                            .saturating_add(records.lifetime_ms)
                            .max(store.last_expiry_ms);
                        store.last_expiry_ms = expires;
                        while store.order.len() >= records.capacity.max(1) {
                            match store.order.pop_front() {
                                Some((old, at)) => store.forget(old, at),
                                None => break,
                            }
                        }
                        store.entries.insert(
                            self.key,
                            Entry::Done(Record {
                                fingerprint,
                                expires_at_ms: expires,
                                stored,
                            }),
                        );
                        store.order.push_back((self.key, expires));
                    }
                    None => {
                        store.entries.remove(&self.key);
                    }
                }
            }
        }
        records.finished.notify_waiters();
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        {
            let mut store = crate::lock(&self.records.store);
            let ours = matches!(
                store.entries.get(&self.key),
                Some(Entry::Running { claim, .. }) if *claim == self.claim
            );
            if ours {
                store.entries.remove(&self.key);
            }
        }
        self.records.finished.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::request_id::RequestIds;

    fn stored(status: u16, body: &str) -> Stored {
        Stored {
            status,
            request_id: RequestIds::new().next_id(),
            retry_after: None,
            body: body.as_bytes().into(),
        }
    }

    fn run(begin: Begin<'_>) -> Claim<'_> {
        match begin {
            Begin::Run(claim) => claim,
            _ => panic!("expected a new request"),
        }
    }

    #[test]
    fn replay_conflict_and_keys_per_api_key() {
        let records = Records::new(1000, 10);
        let key = records.key(b"api-1", b"idem");
        let body = records.fingerprint(b"connect", b"{}");
        let other = records.fingerprint(b"connect", b"{\"x\":1}");
        run(records.begin(key, body, 0)).finish(Some(stored(202, "{\"a\":1}")), 0);
        match records.begin(key, body, 10) {
            Begin::Replay(s) => assert_eq!((s.status, &*s.body), (202, &b"{\"a\":1}"[..])),
            _ => panic!("expected a replay"),
        }
        assert!(matches!(records.begin(key, other, 10), Begin::Conflict));
        // The same Idempotency-Key under another API key is another record.
        let elsewhere = records.key(b"api-2", b"idem");
        assert_ne!(elsewhere, key);
        assert!(matches!(records.begin(elsewhere, other, 10), Begin::Run(_)));
        assert_eq!(records.len(), 1);
    }

    #[test]
    fn record_keys_tell_where_the_api_key_ends() {
        let records = Records::new(1000, 10);
        assert_ne!(records.key(b"key\xff", b"x"), records.key(b"key", b"\xffx"));
        assert_ne!(records.key(b"ab", b"c"), records.key(b"a", b"bc"));
        assert_ne!(
            records.fingerprint(b"POST /accounts", b"\xff{}"),
            records.fingerprint(b"POST /accounts\xff", b"{}")
        );
    }

    #[test]
    fn running_requests_make_retries_wait_and_free_the_key_when_dropped() {
        let records = Records::new(1000, 10);
        let key = records.key(b"api", b"idem");
        let claim = run(records.begin(key, 1, 0));
        assert!(matches!(records.begin(key, 1, 0), Begin::Wait));
        assert!(matches!(records.begin(key, 2, 0), Begin::Conflict));
        drop(claim);
        let claim = run(records.begin(key, 1, 0));
        // An answer not worth keeping (a 503) frees the key as well.
        claim.finish(None, 0);
        assert!(matches!(records.begin(key, 1, 0), Begin::Run(_)));
        assert_eq!(records.len(), 0);
    }

    #[test]
    fn records_expire_after_their_lifetime_and_the_count_is_capped() {
        let records = Records::new(1000, 3);
        for i in 0..5u8 {
            let key = records.key(b"api", &[i]);
            run(records.begin(key, 0, u64::from(i))).finish(Some(stored(201, "{}")), u64::from(i));
        }
        assert_eq!(records.len(), 3, "the oldest two were forgotten");
        assert!(matches!(
            records.begin(records.key(b"api", &[0]), 0, 5),
            Begin::Run(_)
        ));
        let newest = records.key(b"api", &[4]);
        assert!(matches!(records.begin(newest, 0, 1003), Begin::Replay(_)));
        records.sweep(1004);
        assert!(matches!(records.begin(newest, 0, 1004), Begin::Run(_)));
        assert_eq!(records.len(), 0);
    }

    #[test]
    fn a_record_stays_small() {
        // The table's entry: key, tag and record (the body is its own allocation).
        let entry = std::mem::size_of::<(RecordKey, Entry)>();
        assert!(entry <= 88, "{entry}");
    }
}
