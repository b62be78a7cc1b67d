//! What both transports share: the bounds of a request's time budget, and how a redirect's
//! target is shown in a message.

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

/// Where a redirect points, for a message: the scheme and host (with its port) of the
/// `location`, never its path, query, fragment or user info, where a server may have put a
/// key or a token; "a path on the same host" for a relative one. At most 200 characters.
///
/// ```
/// use auth_client::redirect_target;
/// assert_eq!(redirect_target("https://u:p@evil.example:8443/x?key=k#f"), "https://evil.example:8443");
/// assert_eq!(redirect_target("//evil.example/x"), "//evil.example");
/// assert_eq!(redirect_target("/v1/accounts?key=k"), "a path on the same host");
/// ```
pub fn redirect_target(location: &str) -> String {
    let (scheme, rest) = match location.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => match location.strip_prefix("//") {
            Some(rest) => ("//".to_owned(), rest),
            None => return "a path on the same host".to_owned(),
        },
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    cut(&format!("{scheme}{host}"))
}

/// The first 200 characters of `text`, then `…` if it was longer.
fn cut(text: &str) -> String {
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
    fn a_redirect_target_is_its_origin_cut_on_a_character_boundary() {
        assert_eq!(
            redirect_target("http://127.0.0.1:9/v1/accounts"),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            redirect_target("https://evil.example?key=k"),
            "https://evil.example"
        );
        assert_eq!(
            redirect_target("https://k@evil.example#x"),
            "https://evil.example"
        );
        assert_eq!(redirect_target("accounts?key=k"), "a path on the same host");
        let long = format!("https://{}", "é".repeat(300));
        let shown = redirect_target(&long);
        assert!(shown.ends_with('…'));
        assert_eq!(shown.chars().count(), 201);
    }
}
