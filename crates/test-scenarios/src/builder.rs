//! The client's builder: every setting checked once, before anything is sent, and reaching
//! the client (what each client's `builder.rs` unit tests checked, for both).

use std::time::Duration;

use auth_client::{BuildError, MAX_REQUEST_TIMEOUT};
use auth_core::{AuthScheme, BaseUrlError, RetryPolicy};

use crate::driver::{BuilderUnderTest, ClientUnderTest, Driver};

fn with_key<D: Driver>() -> D::Builder {
    D::builder().api_key("k")
}

/// The base URL is checked by the core: a query kept, plain http refused unless allowed,
/// a fragment and user information refused, the postpress URL by default.
pub fn the_base_url_is_checked_by_the_core<D: Driver>() {
    let build = |url: &str| with_key::<D>().base_url(url).build();
    let client = build("https://api.postpress.ai/v1/?port=12345").unwrap();
    assert_eq!(
        client.base_url().to_string(),
        "https://api.postpress.ai/v1?port=12345"
    );
    assert!(matches!(
        build("http://api.postpress.ai/v1"),
        Err(BuildError::BaseUrl(BaseUrlError::InsecureHttp { .. }))
    ));
    assert!(matches!(
        build("https://api.postpress.ai/v1#top"),
        Err(BuildError::BaseUrl(BaseUrlError::Invalid { .. }))
    ));
    assert!(matches!(
        build("https://user:pw@api.postpress.ai/v1"),
        Err(BuildError::BaseUrl(BaseUrlError::Invalid { .. }))
    ));
    let allowed = with_key::<D>()
        .base_url("http://api.postpress.ai/v1")
        .allow_insecure_http(true)
        .build()
        .unwrap();
    assert!(!allowed.base_url().is_https());
    assert_eq!(
        with_key::<D>().build().unwrap().base_url().to_string(),
        "https://api.postpress.ai/v1"
    );
}

/// Neither the builder's `Debug`, nor a build error, nor the client's `Debug` shows user
/// information or the API key.
pub fn user_information_and_the_api_key_are_never_shown<D: Driver>() {
    let builder = D::builder()
        .base_url("https://user:hunter2@api.postpress.ai/v1")
        .api_key("sk-very-secret");
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("sk-very-secret"),
        "{shown}"
    );
    let error = builder.build().unwrap_err();
    assert!(!format!("{error} {error:?}").contains("hunter2"));
    let client = D::builder().api_key("sk-very-secret").build().unwrap();
    assert!(!format!("{client:?}").contains("sk-very-secret"));
}

/// No API key, a blank one, or one that is no header value is refused.
pub fn a_missing_or_unusable_api_key_is_refused<D: Driver>() {
    assert_eq!(D::builder().build().err(), Some(BuildError::MissingApiKey));
    assert_eq!(
        D::builder().api_key("  ").build().err(),
        Some(BuildError::MissingApiKey)
    );
    assert!(matches!(
        D::builder().api_key("a\nb").build(),
        Err(BuildError::InvalidSetting {
            setting: "api_key",
            ..
        })
    ));
}

/// Timeouts and intent lifetimes are more than zero and at most seven days; an answer limit
/// of zero bytes is refused.
pub fn timeouts_and_intent_lifetimes_over_seven_days_are_refused<D: Driver>() {
    let too_long = MAX_REQUEST_TIMEOUT + Duration::from_millis(1);
    let refused = |result: Result<D::Client, BuildError>| match result {
        Err(BuildError::InvalidSetting { setting, reason }) => Some((setting, reason)),
        _ => None,
    };
    assert_eq!(
        refused(with_key::<D>().connect_timeout(too_long).build()),
        Some(("connect_timeout", "must be at most 7 days"))
    );
    assert_eq!(
        refused(with_key::<D>().request_timeout(Duration::MAX).build()),
        Some(("request_timeout", "must be at most 7 days"))
    );
    assert_eq!(
        refused(with_key::<D>().intent_ttl(too_long).build()),
        Some(("intent_ttl", "must be at most 7 days"))
    );
    assert_eq!(
        refused(with_key::<D>().request_timeout(Duration::ZERO).build()),
        Some(("request_timeout", "must be more than zero"))
    );
    assert_eq!(
        refused(with_key::<D>().max_answer_bytes(0).build()),
        Some(("max_answer_bytes", "must be more than zero"))
    );
    let longest = with_key::<D>()
        .connect_timeout(MAX_REQUEST_TIMEOUT)
        .request_timeout(MAX_REQUEST_TIMEOUT)
        .intent_ttl(MAX_REQUEST_TIMEOUT)
        .build();
    assert!(longest.is_ok());
}

/// A Unipile DSN is taken with or without its `https://`.
pub fn unipile_takes_a_dsn_with_or_without_its_scheme<D: Driver>() {
    let url = |dsn: &str| {
        with_key::<D>()
            .unipile(dsn)
            .build()
            .map(|client| client.base_url().to_string())
    };
    assert_eq!(
        url("api1.unipile.com:13111").as_deref(),
        Ok("https://api1.unipile.com:13111/api/v1")
    );
    assert_eq!(
        url("https://api1.unipile.com:13111/").as_deref(),
        Ok("https://api1.unipile.com:13111/api/v1")
    );
}

/// A Unipile DSN over plain http to a host that is not loopback is refused, unless the
/// caller allows insecure http, as for any base URL: one code path for both.
pub fn a_unipile_dsn_over_plain_http_needs_allow_insecure_http<D: Driver>() {
    let unipile = || with_key::<D>().unipile("http://api1.unipile.com:13111");
    assert!(matches!(
        unipile().build(),
        Err(BuildError::BaseUrl(BaseUrlError::InsecureHttp { .. }))
    ));
    let allowed = unipile().allow_insecure_http(true).build().unwrap();
    assert_eq!(
        allowed.base_url().to_string(),
        "http://api1.unipile.com:13111/api/v1"
    );
}

/// The scheme, the intent lifetime, the request timeout and the retry policy reach the
/// core's configuration.
pub fn the_settings_reach_the_core_s_configuration<D: Driver>() {
    let client = D::builder()
        .api_key("pp_test_1")
        .auth_scheme(AuthScheme::Bearer)
        .intent_ttl(Duration::from_secs(60))
        .request_timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let config = client.config();
    assert_eq!(config.auth_scheme(), AuthScheme::Bearer);
    assert_eq!(config.intent_ttl(), Duration::from_secs(60));
    assert_eq!(config.request_timeout(), Duration::from_secs(5));
    assert_eq!(config.retry_policy(), &RetryPolicy::never());
    assert!(client.is_sandbox());
}
