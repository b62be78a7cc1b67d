//! The retry policy: a pure function of what went wrong, the attempt, and the time left.

use std::time::Duration;

use crate::error::TransportErrorKind;
use crate::idempotency::IdempotencyKey;
use crate::time::UnixMillis;

/// Why a request might be sent again: it got no answer at all, or an answer that asks for
/// a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryCause {
    /// The transport got no answer.
    NoAnswer(TransportErrorKind),
    /// The server answered this status, with the wait it asked for in `Retry-After`.
    Status {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` wait, when the answer had one.
        retry_after: Option<Duration>,
    },
}

impl RetryCause {
    /// Whether this cause is ever retried: no answer at all ([`TransportErrorKind::is_retryable`]),
    /// `429`, or a `5xx` but `501` and `505` (which would fail the same way again). No other
    /// `4xx` is retried. The `500 errors/authentication_intent_error` that destroys an intent
    /// never gets here: the answer table ends the intent first.
    pub fn is_retryable(self) -> bool {
        match self {
            Self::NoAnswer(kind) => kind.is_retryable(),
            Self::Status { status, .. } => {
                status == 429 || ((500..600).contains(&status) && !matches!(status, 501 | 505))
            }
        }
    }
}

/// What is retried, how often, and after what wait: a pure function, so every driver
/// (blocking, async, a test) retries alike and only sleeps and sends.
///
/// Defaults: at most 4 attempts of a request (the first and 3 retries), waits of 250 ms,
/// 500 ms, 1 s… (never more than 8 s) with jitter drawn from the request's idempotency key
/// (the core has no randomness of its own), or the server's `Retry-After` when it is longer
/// (up to 60 s; a longer one is not waited for). Never past the deadline: a retry that could
/// not be sent before the intent's deadline is not made.
///
/// ```
/// use std::time::Duration;
/// use auth_core::{IdempotencyKey, RetryCause, RetryPolicy, TransportErrorKind, UnixMillis};
///
/// let policy = RetryPolicy::default();
/// let key = IdempotencyKey::from_random_bytes([3; 16]);
/// let now = UnixMillis::from_millis(10_000);
/// let deadline = UnixMillis::from_millis(300_000);
///
/// // A connection reset: retried after a short wait.
/// let reset = RetryCause::NoAnswer(TransportErrorKind::Io);
/// let at = policy.next_attempt(reset, 1, now, deadline, &key).unwrap();
/// assert!(at > now && at <= UnixMillis::from_millis(10_250));
///
/// // A 429 asking for 2 s: the server's wait is honoured…
/// let limited = RetryCause::Status { status: 429, retry_after: Some(Duration::from_secs(2)) };
/// assert_eq!(policy.next_attempt(limited, 1, now, deadline, &key), Some(UnixMillis::from_millis(12_000)));
/// // …but never past the deadline.
/// assert_eq!(policy.next_attempt(limited, 1, now, UnixMillis::from_millis(11_000), &key), None);
///
/// // A 400 is never retried, and neither is a fifth attempt.
/// assert_eq!(policy.next_attempt(RetryCause::Status { status: 400, retry_after: None }, 1, now, deadline, &key), None);
/// assert_eq!(policy.next_attempt(reset, 4, now, deadline, &key), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retry at all: every request is sent once.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the most attempts of one request, the first included (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first wait and the longest one; each retry waits twice as long as the one
    /// before, between these bounds, jittered down by up to half.
    #[must_use]
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }

    /// Sets the longest `Retry-After` waited for; an answer asking for more is not retried.
    #[must_use]
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// The most attempts of one request, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// When to send attempt `attempt + 1` of a request whose attempt `attempt` failed with
    /// `cause` at `now`, or `None` if it is not retried: the cause is not retryable, the
    /// attempts are used up, the server asked for a longer wait than the policy allows, or
    /// the retry would be sent at or after `deadline`.
    pub fn next_attempt(
        &self,
        cause: RetryCause,
        attempt: u32,
        now: UnixMillis,
        deadline: UnixMillis,
        key: &IdempotencyKey,
    ) -> Option<UnixMillis> {
        if !cause.is_retryable() || attempt >= self.max_attempts {
            return None;
        }
        let backoff = self.backoff(attempt, key);
        let wait = match cause {
            RetryCause::Status {
                retry_after: Some(asked),
                ..
            } if asked > self.max_retry_after => return None,
            RetryCause::Status {
                retry_after: Some(asked),
                ..
            } => asked.max(backoff),
            _ => backoff,
        };
        let at = now.saturating_add(wait);
        (at < deadline).then_some(at)
    }

    /// The wait before the retry that follows attempt `attempt`: `base × 2^(attempt-1)`,
    /// capped, then jittered down by up to half, by a hash of the key and the attempt.
    fn backoff(&self, attempt: u32, key: &IdempotencyKey) -> Duration {
        let doubling = 1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX);
        let full = self.base_delay.saturating_mul(doubling).min(self.max_delay);
        let full_ms = u64::try_from(full.as_millis()).unwrap_or(u64::MAX);
        let half = full_ms / 2;
        let jitter = fnv1a(key.as_str().as_bytes(), attempt) % (half + 1);
        Duration::from_millis(full_ms - jitter)
    }
}

/// FNV-1a of the bytes and the attempt: a deterministic spread, not a secret.
fn fnv1a(bytes: &[u8], attempt: u32) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes.iter().chain(attempt.to_le_bytes().iter()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The longest wait a `Retry-After` is read as (2^32 s, about 136 years): a longer one
/// says "not within this intent's life" just as well, and this one stays exact in the
/// whole milliseconds of a snapshot.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(1 << 32);

/// Reads a `Retry-After` value at `now`: delay-seconds (`120`) or an HTTP date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`, a moment at or before `now` being no wait), at most
/// [`MAX_RETRY_AFTER`]. Anything else is ignored.
pub(crate) fn parse_retry_after(value: &str, now: UnixMillis) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        value.parse::<u64>().map_or(MAX_RETRY_AFTER, Duration::from_secs)
    } else {
        let at = parse_http_date(value)?;
        UnixMillis::from_millis(at.saturating_mul(1000)).saturating_duration_since(now)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Seconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn parse_http_date(value: &str) -> Option<u64> {
    let mut parts = value.split_ascii_whitespace();
    let _weekday = parts.next()?.strip_suffix(',')?;
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: u64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':').map(|n| n.parse::<u64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if parts.next()? != "GMT" || parts.next().is_some() || clock.next().is_some() {
        return None;
    }
    // Four digits, as an IMF-fixdate has them: the arithmetic below cannot overflow.
    if !(1..=31).contains(&day) || !(1970..=9999).contains(&year) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// algorithm), for dates from 1970 on.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let year = if month <= 2 { year.checked_sub(1)? } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era).checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> IdempotencyKey {
        IdempotencyKey::from_random_bytes([9; 16])
    }

    #[test]
    fn a_retry_after_past_reason_is_read_as_the_longest_wait_or_ignored() {
        let now = UnixMillis::from_millis(1_000);
        for huge in ["99999999999999999999", "18446744073709551615", "4294967297"] {
            assert_eq!(parse_retry_after(huge, now), Some(MAX_RETRY_AFTER), "{huge}");
        }
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
            Some(MAX_RETRY_AFTER)
        );
        // A year of more than four digits is no IMF-fixdate (and no overflow).
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 999999999999 08:49:37 GMT", now),
            None
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 18446744073709551615 08:49:37 GMT", now),
            None
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = UnixMillis::from_millis(784_111_777_000 - 5_000);
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_retry_after(
                "Sun, 06 Nov 1994 08:49:37 GMT",
                UnixMillis::from_millis(900_000_000_000)
            ),
            Some(Duration::ZERO)
        );
        for junk in [
            "",
            "soon",
            "-1",
            "1.5",
            "Sun, 06 Nov 1994 08:49:37 CET",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(junk, now), None, "{junk:?}");
        }
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_half() {
        let policy = RetryPolicy::default().with_max_attempts(20);
        for attempt in 1..15 {
            let wait = policy.backoff(attempt, &key());
            let full = Duration::from_millis(250)
                .saturating_mul(1 << (attempt - 1))
                .min(Duration::from_secs(8));
            assert!(wait <= full && wait >= full / 2, "attempt {attempt}: {wait:?}");
        }
    }

    #[test]
    fn only_no_answer_429_and_5xx_are_retried() {
        for kind in [
            TransportErrorKind::Connect,
            TransportErrorKind::Timeout,
            TransportErrorKind::Io,
        ] {
            assert!(RetryCause::NoAnswer(kind).is_retryable());
        }
        for kind in [
            TransportErrorKind::Tls,
            TransportErrorKind::Redirect,
            TransportErrorKind::BodyTooLarge,
            TransportErrorKind::Refused,
            TransportErrorKind::Other,
        ] {
            assert!(!RetryCause::NoAnswer(kind).is_retryable());
        }
        let status = |status| RetryCause::Status {
            status,
            retry_after: None,
        };
        for code in [429, 500, 502, 503, 504, 599] {
            assert!(status(code).is_retryable(), "{code}");
        }
        for code in [400, 401, 403, 404, 408, 409, 501, 505] {
            assert!(!status(code).is_retryable(), "{code}");
        }
    }

    #[test]
    fn a_retry_after_longer_than_the_policy_allows_is_not_waited_for() {
        let policy = RetryPolicy::default();
        let cause = RetryCause::Status {
            status: 503,
            retry_after: Some(Duration::from_secs(61)),
        };
        let now = UnixMillis::from_millis(0);
        assert_eq!(
            policy.next_attempt(cause, 1, now, UnixMillis::from_millis(u64::MAX), &key()),
            None
        );
        assert_eq!(
            RetryPolicy::never().next_attempt(
                RetryCause::NoAnswer(TransportErrorKind::Io),
                1,
                now,
                UnixMillis::from_millis(u64::MAX),
                &key()
            ),
            None
        );
    }
}
