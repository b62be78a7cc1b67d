//! Wall-clock time as the machine sees it: unix milliseconds passed in by the caller.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// A moment on the wall clock, in milliseconds since the unix epoch.
///
/// The core never reads a clock: every input carries the `now` its driver read.
/// All arithmetic saturates, so no `now` a caller passes can make the machine panic.
///
/// ```
/// use std::time::Duration;
/// use auth_core::UnixMillis;
///
/// let sent = UnixMillis::from_millis(1_000);
/// let deadline = sent.saturating_add(Duration::from_secs(300));
/// assert_eq!(deadline.as_millis(), 301_000);
/// assert_eq!(deadline.saturating_duration_since(sent), Duration::from_secs(300));
/// // Time that goes backwards gives a zero duration, not a panic.
/// assert_eq!(sent.saturating_duration_since(deadline), Duration::ZERO);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMillis(u64);

impl UnixMillis {
    /// The unix epoch itself.
    pub const EPOCH: Self = Self(0);

    /// A moment `millis` milliseconds after the unix epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Converts a [`SystemTime`] the caller read; moments before the epoch become the epoch.
    ///
    /// This reads no clock: drivers call `UnixMillis::from_system_time(SystemTime::now())`.
    pub fn from_system_time(time: SystemTime) -> Self {
        let since_epoch = time.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        Self(duration_millis(since_epoch))
    }

    /// Milliseconds since the unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `self + duration`, saturating at the end of time.
    #[must_use]
    pub fn saturating_add(self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration_millis(duration)))
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl std::fmt::Display for UnixMillis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ms since the unix epoch", self.0)
    }
}

/// Whole milliseconds of a duration, saturating at `u64::MAX`.
fn duration_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
