//! The system clock: what a [`Client`](crate::Client) reads and sleeps on unless told otherwise.

use std::time::SystemTime;

use auth_core::{Clock, UnixMillis};

/// The operating system's wall clock: [`Clock::now`] is `SystemTime::now()`, and
/// [`Clock::sleep_until`] puts the thread to sleep (for a retry's wait, at most a minute).
///
/// The default clock of [`ClientBuilder`](crate::ClientBuilder); a test gives
/// [`ClientBuilder::clock`](crate::ClientBuilder::clock) one of its own, whose `sleep_until`
/// moves its time instead of sleeping.
///
/// ```
/// use auth_core::Clock;
/// let clock = auth_ureq::SystemClock;
/// let now = clock.now();
/// clock.sleep_until(now); // a moment already come: returns at once
/// assert!(clock.now() >= now);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        UnixMillis::from_system_time(SystemTime::now())
    }

    fn sleep_until(&self, at: UnixMillis) {
        // Once: if the wall clock was set back meanwhile, the core answers the next tick with
        // another wait, and the drive loop sleeps again.
        let wait = at.saturating_duration_since(self.now());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }
}
