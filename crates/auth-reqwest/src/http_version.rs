//! Which HTTP version the client speaks.

/// Which HTTP version the client speaks ([`ClientBuilder::http_version`]).
///
/// HTTP/1.1 carries one request at a time per connection, so a backend holding many
/// in-app validations at once holds as many connections (each with its own buffers, about
/// 30 KiB of client memory per held flow in `docs/performance.md`). HTTP/2 carries them all
/// on one connection, at a fraction of the memory, where the server allows as many streams.
///
/// [`ClientBuilder::http_version`]: crate::ClientBuilder::http_version
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HttpVersion {
    /// HTTP/1.1 only, on https and plain http alike (the default: what the API's
    /// reference pages show, and what every server speaks).
    #[default]
    Http1Only,
    /// HTTP/2 where the server offers it in the TLS handshake (ALPN), HTTP/1.1 otherwise;
    /// plain http stays HTTP/1.1.
    PreferHttp2,
    /// HTTP/2 only, with prior knowledge: on plain http too (cleartext HTTP/2, as the
    /// simulator speaks it), with no fallback to HTTP/1.1. A server that does not speak
    /// HTTP/2 gives a transport error.
    Http2Only,
}

impl HttpVersion {
    /// Applies the version to reqwest's builder.
    pub(crate) fn apply(self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        match self {
            Self::Http1Only => builder.http1_only(),
            Self::PreferHttp2 => builder,
            Self::Http2Only => builder.http2_prior_knowledge(),
        }
    }
}
