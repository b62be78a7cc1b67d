//! The intent clock: real time plus a manual offset, readable in milliseconds.
//!
//! The simulator's time is `elapsed real time (unless frozen) + offset`. With a manual
//! clock the real part is frozen at zero and only [`Clock::advance`] moves time; with a
//! real clock, `advance` still jumps ahead. Every waiter re-checks the time whenever the
//! offset changes, so advancing wakes held requests whose moment has come.
//!
//! Dates shown to clients (an account's `created_at`) are the Unix time at which the
//! simulator's clock read 0, plus the clock's reading.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

pub(crate) struct Clock {
    /// `None`: frozen (manual clock).
    start: Option<Instant>,
    offset_ms: watch::Sender<u64>,
    /// Unix time in ms when the clock read 0.
    epoch_unix_ms: u64,
}

impl Clock {
    pub(crate) fn new(manual: bool) -> Clock {
        let (offset_ms, _) = watch::channel(0);
        let epoch_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Clock {
            start: (!manual).then(Instant::now),
            offset_ms,
            epoch_unix_ms,
        }
    }

    /// Unix time in milliseconds at which the simulator's clock read 0.
    pub(crate) fn epoch_unix_ms(&self) -> u64 {
        self.epoch_unix_ms
    }

    /// Milliseconds since the simulator started, on the simulator's clock.
    pub(crate) fn now_ms(&self) -> u64 {
        let real = self
            .start
            .map(|s| u64::try_from(s.elapsed().as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        real.saturating_add(*self.offset_ms.borrow())
    }

    pub(crate) fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.send_modify(|o| *o = o.saturating_add(ms));
    }

    /// Waits until the simulator's clock reads at least `target_ms`.
    pub(crate) async fn sleep_until(&self, target_ms: u64) {
        let mut offset = self.offset_ms.subscribe();
        loop {
            offset.borrow_and_update();
            let now = self.now_ms();
            if now >= target_ms {
                return;
            }
            match self.start {
                None => {
                    if offset.changed().await.is_err() {
                        return;
                    }
                }
                Some(_) => {
                    let wait = Duration::from_millis(target_ms - now);
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        changed = offset.changed() => {
                            if changed.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS.sssZ` for a Unix time in milliseconds (the format of the docs'
/// `created_at`, and what JavaScript's `Date.prototype.toISOString` writes).
pub(crate) fn iso8601_ms(unix_ms: u64) -> String {
    let days = unix_ms / 86_400_000;
    let in_day = unix_ms % 86_400_000;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// The proleptic Gregorian date of a count of days since 1970-01-01 (H. Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_javascript_does() {
        assert_eq!(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601_ms(1_767_225_599_999), "2025-12-31T23:59:59.999Z");
        assert_eq!(iso8601_ms(1_709_210_096_789), "2024-02-29T12:34:56.789Z");
        assert_eq!(iso8601_ms(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
    }
}
