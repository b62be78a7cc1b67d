//! The API keys the simulator knows and how a request presents one: `X-API-KEY: <key>` or
//! `Authorization: Bearer <key>` (quickstart, "Manually").

use std::collections::HashMap;

use hyper::header::{self, HeaderMap};

use crate::error_types as kinds;
use crate::fixture::{ApiKey, ApiKeyStatus};
use crate::reply::Reply;

/// Every declared key with its status. Without any valid key declared, any non-empty key
/// that is not declared expired or out of scope is accepted.
pub(crate) struct ApiKeys {
    keys: HashMap<Box<[u8]>, ApiKeyStatus>,
    open: bool,
}

impl ApiKeys {
    /// The set of `keys`; `Err` when one key is declared with two statuses (the message
    /// does not repeat the key).
    pub(crate) fn new<'a>(keys: impl IntoIterator<Item = &'a ApiKey>) -> Result<ApiKeys, String> {
        let mut table: HashMap<Box<[u8]>, ApiKeyStatus> = HashMap::new();
        for key in keys {
            let bytes: Box<[u8]> = key.key().as_bytes().into();
            if bytes.is_empty() {
                return Err("an API key must not be empty".to_owned());
            }
            match table.insert(bytes, key.status()) {
                Some(before) if before != key.status() => {
                    return Err(format!(
                        "an API key is declared both {} and {}",
                        before.as_str(),
                        key.status().as_str()
                    ));
                }
                _ => {}
            }
        }
        let open = !table.values().any(|s| *s == ApiKeyStatus::Valid);
        Ok(ApiKeys { keys: table, open })
    }

    /// The key a request presents, if it is accepted; otherwise the documented 401.
    pub(crate) fn authenticate<'h>(&self, headers: &'h HeaderMap) -> Result<&'h [u8], Reply> {
        let key = presented_key(headers)?;
        match self.keys.get(key) {
            Some(ApiKeyStatus::Valid) => Ok(key),
            Some(ApiKeyStatus::Expired) => Err(Reply::error(
                401,
                kinds::EXPIRED_CREDENTIALS,
                "the API key has expired; create a new one in the dashboard",
            )),
            Some(ApiKeyStatus::OutOfScope) => Err(Reply::error(
                401,
                kinds::INSUFFICIENT_PRIVILEGES,
                "the API key does not have the scope this request needs",
            )),
            None if self.open => Ok(key),
            None => Err(Reply::error(
                401,
                kinds::INVALID_CREDENTIALS,
                "the API key is not valid (it names no key of this workspace)",
            )),
        }
    }
}

/// `X-API-KEY` if present, else the token of `Authorization: Bearer`.
fn presented_key(headers: &HeaderMap) -> Result<&[u8], Reply> {
    let missing = |detail: &'static str| Reply::error(401, kinds::MISSING_CREDENTIALS, detail);
    if let Some(value) = headers.get("x-api-key") {
        let key = value.as_bytes();
        return if key.is_empty() {
            Err(missing("the X-API-KEY header is empty"))
        } else {
            Ok(key)
        };
    }
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(missing(
            "an API key is necessary: send it in X-API-KEY or as Authorization: Bearer <key>",
        ));
    };
    let value = value.as_bytes();
    let scheme_ok = value
        .get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case(b"bearer "));
    let token = value.get(7..).unwrap_or_default().trim_ascii();
    if !scheme_ok || token.is_empty() {
        return Err(missing("the Authorization header must read `Bearer <key>`"));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn kind(result: Result<&[u8], Reply>) -> String {
        result.unwrap_err().kind().unwrap_or_default().to_owned()
    }

    #[test]
    fn both_headers_and_every_documented_401() {
        let declared = [
            ApiKey::valid("good"),
            ApiKey::valid("other"),
            ApiKey::expired("old"),
            ApiKey::out_of_scope("narrow"),
        ];
        let keys = ApiKeys::new(&declared).unwrap();
        assert_eq!(
            keys.authenticate(&headers(&[("x-api-key", "good")])).unwrap(),
            b"good"
        );
        let bearer = headers(&[("authorization", "Bearer other")]);
        assert_eq!(keys.authenticate(&bearer).unwrap(), b"other");
        let lower = headers(&[("authorization", "bearer   good ")]);
        assert_eq!(keys.authenticate(&lower).unwrap(), b"good");
        assert_eq!(kind(keys.authenticate(&headers(&[]))), kinds::MISSING_CREDENTIALS);
        assert_eq!(
            kind(keys.authenticate(&headers(&[("x-api-key", "")]))),
            kinds::MISSING_CREDENTIALS
        );
        assert_eq!(
            kind(keys.authenticate(&headers(&[("authorization", "Basic Z29vZA==")]))),
            kinds::MISSING_CREDENTIALS
        );
        assert_eq!(
            kind(keys.authenticate(&headers(&[("x-api-key", "stranger")]))),
            kinds::INVALID_CREDENTIALS
        );
        assert_eq!(
            kind(keys.authenticate(&headers(&[("authorization", "Bearer old")]))),
            kinds::EXPIRED_CREDENTIALS
        );
        assert_eq!(
            kind(keys.authenticate(&headers(&[("x-api-key", "narrow")]))),
            kinds::INSUFFICIENT_PRIVILEGES
        );
    }

    #[test]
    fn without_a_valid_key_any_undeclared_key_is_accepted() {
        let declared = [ApiKey::expired("old")];
        let keys = ApiKeys::new(&declared).unwrap();
        assert!(keys.authenticate(&headers(&[("x-api-key", "anything")])).is_ok());
        assert!(keys.authenticate(&headers(&[("x-api-key", "old")])).is_err());
    }

    #[test]
    fn a_key_with_two_statuses_is_refused_without_showing_it() {
        let declared = [ApiKey::valid("sk-1"), ApiKey::expired("sk-1")];
        let err = ApiKeys::new(&declared).err().unwrap();
        assert!(!err.contains("sk-1"), "{err}");
        let twice = [ApiKey::valid("sk-1"), ApiKey::valid("sk-1")];
        assert!(ApiKeys::new(&twice).is_ok());
    }
}
