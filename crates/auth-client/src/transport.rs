//! What both transports share: the bounds of a request's time budget, and how a text the
//! server sent is quoted in a message.

use std::time::Duration;

/// The longest time budget a request is given: seven days.
///
/// [`Request`](auth_core::Request) is public data that any driver of an
/// [`auth_core::Flow`] may fill, so its [`Request::timeout`](auth_core::Request::timeout)
/// may be anything up to [`Duration::MAX`]; timers add it to the current
/// [`std::time::Instant`], which overflows (and panics, in ureq) for huge budgets. Both
/// transports clamp each request's budget with [`clamped_timeout`], and
/// [`ClientSettings::check`](crate::ClientSettings::check) refuses longer timeouts and
/// intent lifetimes.
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);

/// The shortest time budget a request is given: a zero budget would mean no limit to some
/// timers.
pub const MIN_REQUEST_TIMEOUT: Duration = Duration::from_millis(1);

/// A request's time budget as a transport applies it: between [`MIN_REQUEST_TIMEOUT`] and
/// [`MAX_REQUEST_TIMEOUT`], so that the deadline arithmetic of its timers cannot overflow.
///
/// ```
/// use std::time::Duration;
/// use auth_client::{MAX_REQUEST_TIMEOUT, clamped_timeout};
/// assert_eq!(clamped_timeout(Duration::ZERO), Duration::from_millis(1));
/// assert_eq!(clamped_timeout(Duration::MAX), MAX_REQUEST_TIMEOUT);
/// ```
pub fn clamped_timeout(timeout: Duration) -> Duration {
    timeout.clamp(MIN_REQUEST_TIMEOUT, MAX_REQUEST_TIMEOUT)
}

/// The start of a text the server sent (a redirect's `location`…), for a message: its first
/// 200 characters, then `…` if it was longer.
pub fn excerpt(text: &str) -> String {
    const LIMIT: usize = 200;
    match text.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or_default()),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_budgets_are_clamped_to_a_millisecond_and_seven_days() {
        assert_eq!(clamped_timeout(Duration::ZERO), Duration::from_millis(1));
        assert_eq!(clamped_timeout(Duration::from_secs(30)), Duration::from_secs(30));
        assert_eq!(clamped_timeout(MAX_REQUEST_TIMEOUT), MAX_REQUEST_TIMEOUT);
        assert_eq!(clamped_timeout(Duration::MAX), MAX_REQUEST_TIMEOUT);
        // The clamped budget added to now is what the transports' timers compute: it must
        // not overflow.
        assert!(
            std::time::Instant::now()
                .checked_add(clamped_timeout(Duration::MAX))
                .is_some()
        );
    }

    #[test]
    fn an_excerpt_is_cut_on_a_character_boundary() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(300);
        let cut = excerpt(&long);
        assert!(cut.ends_with('…'));
        assert_eq!(cut.chars().count(), 201);
    }
}
