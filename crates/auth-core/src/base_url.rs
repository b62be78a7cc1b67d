//! Where requests go: a checked base URL, joined to each request's path.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The postpress API's base URL.
pub const POSTPRESS_BASE_URL: &str = "https://api.postpress.ai/v1";

/// A checked base URL: `https`, or plain `http` to a loopback host only (unless allowed);
/// a host; no user information; no fragment. A query is kept and sent with every request,
/// as postpress's `?port=` needs (where custom ports are blocked, the port goes in the query
/// on the standard origin).
///
/// Every client joins paths with [`BaseUrl::url_for`], so the rule lives here once.
///
/// ```
/// use auth_core::{BaseUrl, BaseUrlError};
///
/// let base = BaseUrl::parse("https://api.postpress.ai/v1/?port=12345")?;
/// assert_eq!(base.url_for("/accounts"), "https://api.postpress.ai/v1/accounts?port=12345");
///
/// let unipile = BaseUrl::unipile("api1.unipile.com:13111")?;
/// assert_eq!(unipile.url_for("/accounts/checkpoint"), "https://api1.unipile.com:13111/api/v1/accounts/checkpoint");
///
/// // The simulator on loopback may be plain http; anything else may not.
/// assert!(BaseUrl::parse("http://127.0.0.1:8080/v1").is_ok());
/// assert!(matches!(BaseUrl::parse("http://api.example.com/v1"), Err(BaseUrlError::InsecureHttp { .. })));
/// assert!(BaseUrl::parse("https://user:pw@api.postpress.ai/v1").is_err());
/// # Ok::<(), BaseUrlError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `scheme://authority/path`, without a trailing slash.
    prefix: String,
    /// The query, without its `?`.
    query: Option<String>,
    host: String,
    loopback: bool,
}

impl BaseUrl {
    /// Checks a base URL; plain `http` only to a loopback host.
    pub fn parse(url: &str) -> Result<Self, BaseUrlError> {
        Self::parse_with(url, false)
    }

    /// Checks a base URL, accepting plain `http` to any host when `allow_insecure_http`.
    pub fn parse_with(url: &str, allow_insecure_http: bool) -> Result<Self, BaseUrlError> {
        let raw = url.trim();
        let shown = strip_user_info(raw);
        let invalid = |reason: &'static str| BaseUrlError::Invalid {
            url: shown.clone(),
            reason,
        };
        if raw.is_empty() {
            return Err(invalid("it is empty"));
        }
        if raw
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || !b.is_ascii() || b == b'\\')
        {
            return Err(invalid(
                "it has spaces, control characters, backslashes or non-ASCII characters",
            ));
        }
        if raw.contains('#') {
            return Err(invalid("it has a fragment (#…); give the base URL only"));
        }
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| invalid("it has no scheme: start it with https://"))?;
        let scheme = scheme.to_ascii_lowercase();
        let (before_query, query) = match rest.split_once('?') {
            Some((before, query)) => (before, Some(query)),
            None => (rest, None),
        };
        let authority_end = before_query.find('/').unwrap_or(before_query.len());
        let (authority, path) = before_query.split_at(authority_end);
        if authority.contains('@') {
            return Err(invalid(
                "it has user information (user:password@); give the API key on its own instead",
            ));
        }
        let host = host_of(authority).ok_or_else(|| invalid("its host or port is not valid"))?;
        let loopback = is_loopback_host(host);
        match scheme.as_str() {
            "https" => {}
            "http" if loopback || allow_insecure_http => {}
            "http" => return Err(BaseUrlError::InsecureHttp { url: shown }),
            _ => return Err(invalid("its scheme must be https (or http to a loopback host)")),
        }
        if path.contains("/../") || path.ends_with("/..") || path.contains("/./") || path.ends_with("/.") {
            return Err(invalid("its path has a dot segment"));
        }
        let query = query.filter(|q| !q.is_empty()).map(str::to_owned);
        if query.as_deref().is_some_and(|q| q.contains('?')) {
            return Err(invalid("its query has a second `?`"));
        }
        Ok(Self {
            prefix: format!("{scheme}://{authority}{}", path.trim_end_matches('/')),
            query,
            host: host.to_owned(),
            loopback,
        })
    }

    /// The postpress API, `https://api.postpress.ai/v1`.
    pub fn postpress() -> Self {
        Self {
            prefix: POSTPRESS_BASE_URL.to_owned(),
            query: None,
            host: "api.postpress.ai".to_owned(),
            loopback: false,
        }
    }

    /// The Unipile API of a DSN, `https://{dsn}/api/v1`; `dsn` is `host:port` as Unipile's
    /// dashboard shows it (a leading `https://` is accepted too).
    pub fn unipile(dsn: &str) -> Result<Self, BaseUrlError> {
        Self::unipile_with(dsn, false)
    }

    /// [`BaseUrl::unipile`], accepting a plain `http://` DSN to any host when
    /// `allow_insecure_http`.
    pub fn unipile_with(dsn: &str, allow_insecure_http: bool) -> Result<Self, BaseUrlError> {
        let dsn = dsn.trim().trim_end_matches('/');
        if dsn.contains("://") {
            Self::parse_with(&format!("{dsn}/api/v1"), allow_insecure_http)
        } else {
            Self::parse_with(&format!("https://{dsn}/api/v1"), allow_insecure_http)
        }
    }

    /// The URL of a request's path (`/accounts`…): the base, the path, then the base's query.
    pub fn url_for(&self, path: &str) -> String {
        let query_len = self.query.as_ref().map_or(0, |q| q.len() + 1);
        let mut url = String::with_capacity(self.prefix.len() + path.len() + query_len);
        url.push_str(&self.prefix);
        url.push_str(path);
        if let Some(query) = &self.query {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// The host requests go to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the host is a loopback host (`localhost`, `127.0.0.0/8`, `::1`).
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// Whether requests go over TLS.
    pub fn is_https(&self) -> bool {
        self.prefix.starts_with("https://")
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({})", self.url_for(""))
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url_for(""))
    }
}

/// Why a base URL cannot be used. Any user information it had is not shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BaseUrlError {
    /// The URL cannot be used.
    #[error("invalid base URL {url:?}: {reason}")]
    Invalid {
        /// The URL as given (any user information in it removed).
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Plain `http://` to a host that is not loopback: the API key would cross the
    /// network in clear.
    #[error(
        "refusing plain http to {url:?}: plain http is only allowed to loopback hosts (localhost, \
         127.0.0.0/8, ::1) unless explicitly allowed, since the API key would cross the network \
         unencrypted; use https"
    )]
    InsecureHttp {
        /// The URL as given.
        url: String,
    },
}

/// The host of an authority (`host`, `host:port`, `[v6]`, `[v6]:port`), if it is well formed.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        inside.parse::<Ipv6Addr>().ok()?;
        let host = authority.get(..inside.len() + 2)?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':')?)),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if let Some(port) = port {
        let valid = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
        if !valid || port.parse::<u16>().ok()? == 0 {
            return None;
        }
    }
    let bracketed = host.starts_with('[');
    let valid_name = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    (bracketed || valid_name).then_some(host)
}

/// `localhost`, `127.0.0.0/8`, `::1` (with or without brackets).
fn is_loopback_host(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        || bare.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// The URL without any `user:password@`, for messages.
fn strip_user_info(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("<redacted>@{host}"),
        None => authority.to_owned(),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{authority}{tail}"),
        None => format!("{authority}{tail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(url: &str) -> Result<String, BaseUrlError> {
        BaseUrl::parse(url).map(|base| base.to_string())
    }

    #[test]
    fn https_urls_are_accepted_and_a_trailing_slash_is_dropped() {
        for (url, expected) in [
            ("https://api.postpress.ai/v1", "https://api.postpress.ai/v1"),
            ("https://api.postpress.ai/v1/", "https://api.postpress.ai/v1"),
            (
                " HTTPS://api1.unipile.com:13111/api/v1 ",
                "https://api1.unipile.com:13111/api/v1",
            ),
            ("https://example.com", "https://example.com"),
            (
                "https://api.postpress.ai/v1?port=12345",
                "https://api.postpress.ai/v1?port=12345",
            ),
        ] {
            assert_eq!(checked(url).as_deref(), Ok(expected), "{url}");
        }
    }

    #[test]
    fn the_query_goes_on_every_request() {
        let base = BaseUrl::parse("https://api.postpress.ai/v1?port=12345").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            base.url_for("/accounts/checkpoint/resend"),
            "https://api.postpress.ai/v1/accounts/checkpoint/resend?port=12345"
        );
    }

    #[test]
    fn plain_http_is_accepted_to_loopback_hosts_only() {
        for url in [
            "http://127.0.0.1:8080/v1",
            "http://127.1.2.3/v1",
            "http://localhost:1/v1",
            "http://LOCALHOST/v1",
            "http://[::1]:9000/api/v1",
        ] {
            assert!(checked(url).is_ok(), "{url}");
        }
        for url in [
            "http://api.postpress.ai/v1",
            "http://10.0.0.1/v1",
            "http://localhost.example.com/v1",
            "http://[::2]/v1",
            "http://0.0.0.0/v1",
            "http://2130706433/v1",
            "http://0x7f000001/v1",
            "http://[::ffff:127.0.0.1]/v1",
        ] {
            assert!(
                matches!(checked(url), Err(BaseUrlError::InsecureHttp { .. })),
                "{url}"
            );
            assert!(BaseUrl::parse_with(url, true).is_ok(), "{url} with the opt-out");
        }
    }

    #[test]
    fn unusable_urls_are_refused_with_a_reason() {
        for url in [
            "",
            "api.postpress.ai/v1",
            "ftp://api.postpress.ai/v1",
            "https://api.postpress.ai/v1#top",
            "https:///v1",
            "not a url",
            "https://api.postpress.ai:0/v1",
            "https://api.postpress.ai:99999/v1",
            "https://api.postpress.ai:/v1",
            "https://exa mple.com/v1",
            "https://api.postpress.ai/v1/../admin",
            "https://[::1/v1",
        ] {
            assert!(
                matches!(checked(url), Err(BaseUrlError::Invalid { .. })),
                "{url:?}"
            );
        }
    }

    #[test]
    fn user_information_is_refused_and_never_shown() {
        let error = checked("https://user:hunter2@api.postpress.ai/v1").unwrap_err();
        assert!(matches!(error, BaseUrlError::Invalid { .. }));
        let text = format!("{error} {error:?}");
        assert!(!text.contains("hunter2"), "{text}");
        let insecure = checked("http://user:hunter2@example.com/v1").unwrap_err();
        assert!(!format!("{insecure} {insecure:?}").contains("hunter2"));
    }

    #[test]
    fn unipile_takes_a_dsn_with_or_without_its_scheme() {
        let url = |dsn: &str| BaseUrl::unipile(dsn).map(|b| b.to_string());
        assert_eq!(
            url("api1.unipile.com:13111").as_deref(),
            Ok("https://api1.unipile.com:13111/api/v1")
        );
        assert_eq!(
            url("https://api1.unipile.com:13111/").as_deref(),
            Ok("https://api1.unipile.com:13111/api/v1")
        );
    }
}
