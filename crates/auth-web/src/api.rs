//! The form's one seam to the account-connection API: the async client of `auth-reqwest`,
//! with the `Idempotency-Key` the form chose and kept in its record.

use std::sync::Arc;
use std::time::SystemTime;

use auth_core::{AsyncClock, Credentials, Error, IdempotencyKey, Snapshot, UnixMillis};
use auth_reqwest::{Client, Connection, PendingIntent};

/// The clock of the form: wall-clock unix milliseconds. Tests move it by hand.
pub(crate) type ClockFn = Arc<dyn Fn() -> UnixMillis + Send + Sync>;

/// The system clock.
pub(crate) fn system_clock() -> ClockFn {
    Arc::new(|| UnixMillis::from_system_time(SystemTime::now()))
}

/// A [`ClockFn`] as the client's clock: the form and its client read one time.
pub(crate) struct FormClock(pub(crate) ClockFn);

impl AsyncClock for FormClock {
    fn now(&self) -> UnixMillis {
        (self.0)()
    }

    fn sleep_until(&self, at: UnixMillis) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(at.saturating_duration_since(self.now()))
    }
}

/// The API: an `auth_reqwest::Client` (one connection pool, the core's retries). Cheap to
/// clone.
#[derive(Clone, Debug)]
pub(crate) struct Api {
    client: Client,
}

impl Api {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    pub(crate) fn now(&self) -> UnixMillis {
        self.client.now()
    }

    /// `POST /accounts` with `key`.
    pub(crate) async fn connect(
        &self,
        credentials: Credentials,
        key: IdempotencyKey,
    ) -> Result<Connection, Error> {
        self.client.connect_with_key(credentials, key).await
    }

    /// Continues a saved intent at the client's `now`: nothing is sent.
    pub(crate) fn resume(&self, snapshot: Snapshot) -> Result<PendingIntent, Error> {
        self.client.resume(snapshot)
    }
}
