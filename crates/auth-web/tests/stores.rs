//! One contract, three stores: memory, SQLite (a file) and Redis (a real `redis-server`).
//! Every write is a compare-and-swap on the revision; expired records are gone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_core::UnixMillis;
use auth_web::{IntentStore, MemoryStore, Notice, Record, RedisStore, SessionId, SqliteStore, StoreError};
use support::Redis;

fn now() -> UnixMillis {
    UnixMillis::from_system_time(SystemTime::now())
}

fn record(note: &str, expires_in: Duration) -> Record {
    let mut record = Record::new(
        "0123456789abcdef0123456789abcdef".into(),
        Some(note.into()),
        now().saturating_add(expires_in),
    );
    record.notice = Some(Notice::Error {
        message: note.into(),
        request_id: None,
    });
    record
}

async fn the_contract(store: Arc<dyn IntentStore>) {
    let id = SessionId::random().unwrap();
    let first = record("first", Duration::from_secs(60));
    assert_eq!(store.load(&id, now()).await.unwrap(), None);
    store.create(&id, &first, now()).await.unwrap();
    assert_eq!(store.create(&id, &first, now()).await, Err(StoreError::Conflict));
    let loaded = store.load(&id, now()).await.unwrap().unwrap();
    assert_eq!((loaded.revision, &loaded.record), (1, &first));

    // Compare-and-swap: the revision read, or nothing written.
    let second = record("second", Duration::from_secs(60));
    assert!(!store.replace(&id, 7, &second).await.unwrap());
    assert!(store.replace(&id, 1, &second).await.unwrap());
    assert!(
        !store.replace(&id, 1, &first).await.unwrap(),
        "a stale revision loses"
    );
    let loaded = store.load(&id, now()).await.unwrap().unwrap();
    assert_eq!((loaded.revision, &loaded.record), (2, &second));

    // Sixteen writers read revision 2 at once: exactly one wins. They run on a
    // multi-threaded runtime and start together, so a compare and a swap that were two steps
    // would let several through.
    let mut writers = Vec::new();
    let start = Arc::new(tokio::sync::Barrier::new(16));
    for n in 0..16 {
        let store = Arc::clone(&store);
        let id = id.clone();
        let start = Arc::clone(&start);
        writers.push(tokio::spawn(async move {
            start.wait().await;
            store
                .replace(&id, 2, &record(&format!("writer {n}"), Duration::from_secs(60)))
                .await
                .unwrap()
        }));
    }
    let mut wins = 0;
    for writer in writers {
        wins += usize::from(writer.await.unwrap());
    }
    assert_eq!(wins, 1);
    assert_eq!(store.load(&id, now()).await.unwrap().unwrap().revision, 3);

    // Remove is a compare-and-swap too.
    assert!(!store.remove(&id, 2).await.unwrap());
    assert!(store.remove(&id, 3).await.unwrap());
    assert_eq!(store.load(&id, now()).await.unwrap(), None);
    assert!(
        !store.replace(&id, 3, &first).await.unwrap(),
        "a removed record is not written back"
    );

    // An expired record is gone.
    let short = SessionId::random().unwrap();
    store
        .create(&short, &record("short", Duration::from_millis(300)), now())
        .await
        .unwrap();
    assert!(store.load(&short, now()).await.unwrap().is_some());
    assert_eq!(
        store
            .load(&short, now().saturating_add(Duration::from_secs(1)))
            .await
            .unwrap(),
        None
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(store.load(&short, now()).await.unwrap(), None);

    // Expiry is by the form's clock, the `now` it gives, not the store's: a record past its
    // time by that clock does not stand in the way of a new one with its id (Redis, whose
    // own clock has not expired the key yet, included).
    let ahead = SessionId::random().unwrap();
    store
        .create(&ahead, &record("old", Duration::from_secs(60)), now())
        .await
        .unwrap();
    let later = now().saturating_add(Duration::from_secs(120));
    store
        .create(&ahead, &record("new", Duration::from_secs(600)), later)
        .await
        .unwrap();
    let loaded = store.load(&ahead, later).await.unwrap().unwrap();
    assert_eq!(
        (loaded.revision, loaded.record.context.as_deref()),
        (1, Some("new"))
    );

    // The dump shows what is kept.
    let kept = SessionId::random().unwrap();
    store
        .create(&kept, &record("kept-in-dump", Duration::from_secs(60)), now())
        .await
        .unwrap();
    assert!(
        store
            .dump()
            .await
            .unwrap()
            .iter()
            .any(|json| json.contains("kept-in-dump"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store() {
    the_contract(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_store_and_a_restart() {
    let dir = support::temp_dir("sqlite");
    let path = dir.join("records.sqlite3");
    the_contract(Arc::new(SqliteStore::open(&path).await.unwrap())).await;
    let id = SessionId::random().unwrap();
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store
            .create(&id, &record("survives", Duration::from_secs(60)), now())
            .await
            .unwrap();
    }
    let reopened = SqliteStore::open(&path).await.unwrap();
    let loaded = reopened.load(&id, now()).await.unwrap().unwrap();
    assert_eq!(loaded.record.context.as_deref(), Some("survives"));
    // Two handles on one file (two processes) see each other's writes, and CAS between them.
    let other = SqliteStore::open(&path).await.unwrap();
    assert!(
        other
            .replace(&id, 1, &record("from the other", Duration::from_secs(60)))
            .await
            .unwrap()
    );
    assert!(
        !reopened
            .replace(&id, 1, &record("late", Duration::from_secs(60)))
            .await
            .unwrap()
    );
    assert!(
        reopened
            .sweep(now().saturating_add(Duration::from_secs(120)))
            .await
            .unwrap()
            >= 1
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_store_expires_with_the_intent() {
    let redis = Redis::start();
    let store = Arc::new(RedisStore::connect(&redis.url()).await.unwrap());
    the_contract(store.clone()).await;
    let id = SessionId::random().unwrap();
    store
        .create(&id, &record("ttl", Duration::from_secs(90)), now())
        .await
        .unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("auth-web:record:{}", id.as_str()))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(
        (80_000..=90_000).contains(&ttl),
        "Redis forgets it with its intent: {ttl} ms"
    );
}

#[tokio::test]
async fn a_store_that_is_down_says_so_and_comes_back() {
    let mut redis = Redis::start_persistent();
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let id = SessionId::random().unwrap();
    store
        .create(&id, &record("before", Duration::from_secs(60)), now())
        .await
        .unwrap();
    redis.stop();
    let down = store.load(&id, now()).await;
    assert!(matches!(down, Err(StoreError::Unavailable(_))), "{down:?}");
    redis.resume();
    support::eventually("the store reconnects", Duration::from_secs(30), || async {
        store.load(&id, now()).await.is_ok_and(|found| found.is_some())
    })
    .await;
}

#[tokio::test]
async fn store_urls() {
    assert!(matches!(
        auth_web::AnyStore::open("memory").await,
        Ok(auth_web::AnyStore::Memory(_))
    ));
    assert!(matches!(
        auth_web::AnyStore::open("postgres://x").await,
        Err(StoreError::InvalidUrl(_))
    ));
    assert!(matches!(
        auth_web::AnyStore::open("sqlite:").await,
        Err(StoreError::InvalidUrl(_))
    ));
    let dir = support::temp_dir("url");
    let url = format!("sqlite:{}", dir.join("f.sqlite3").display());
    assert!(matches!(
        auth_web::AnyStore::open(&url).await,
        Ok(auth_web::AnyStore::Sqlite(_))
    ));
}
