//! The clock a client reads before every input to the core, and sleeps on for a retry.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use auth_core::{AsyncClock, UnixMillis};

/// The operating system's wall clock, and tokio's timer: [`AsyncClock::now`] is
/// `SystemTime::now()`, [`AsyncClock::sleep_until`] is [`tokio::time::sleep`] (for a retry's
/// wait, at most a minute by the default policy).
///
/// The default clock of [`ClientBuilder`](crate::ClientBuilder); a test gives
/// [`ClientBuilder::clock`](crate::ClientBuilder::clock) one of its own, whose
/// `sleep_until` moves its time instead of sleeping.
///
/// ```
/// use auth_core::AsyncClock;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let clock = auth_reqwest::SystemClock;
/// let now = clock.now();
/// clock.sleep_until(now).await; // a moment already come: at once
/// assert!(clock.now() >= now);
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl AsyncClock for SystemClock {
    fn now(&self) -> UnixMillis {
        UnixMillis::from_system_time(SystemTime::now())
    }

    fn sleep_until(&self, at: UnixMillis) -> impl Future<Output = ()> + Send {
        // Once: if the wall clock was set back meanwhile, the core answers the next tick with
        // another wait, and the drive loop sleeps again.
        let wait = at.saturating_duration_since(AsyncClock::now(self));
        async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// [`AsyncClock`] as an object: its `sleep_until` future boxed (one box per retry's wait).
trait DynClock: Send + Sync {
    fn now(&self) -> UnixMillis;
    fn sleep_until(&self, at: UnixMillis) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

impl<C: AsyncClock + Send + Sync> DynClock for C {
    fn now(&self) -> UnixMillis {
        AsyncClock::now(self)
    }

    fn sleep_until(&self, at: UnixMillis) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(AsyncClock::sleep_until(self, at))
    }
}

/// The clock of a [`Client`](crate::Client), shared by its clones: the one given to
/// [`ClientBuilder::clock`](crate::ClientBuilder::clock), or [`SystemClock`]. What
/// [`Client::clock`](crate::Client::clock) gives to drive an [`auth_core::Flow`] by hand.
#[derive(Clone)]
pub struct ClientClock(Arc<dyn DynClock>);

impl ClientClock {
    pub(crate) fn new(clock: impl AsyncClock + Send + 'static) -> Self {
        Self(Arc::new(clock))
    }
}

impl fmt::Debug for ClientClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientClock")
            .field(&DynClock::now(&*self.0))
            .finish()
    }
}

impl AsyncClock for ClientClock {
    fn now(&self) -> UnixMillis {
        DynClock::now(&*self.0)
    }

    fn sleep_until(&self, at: UnixMillis) -> impl Future<Output = ()> + Send {
        DynClock::sleep_until(&*self.0, at)
    }
}
