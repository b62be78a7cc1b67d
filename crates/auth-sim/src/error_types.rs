//! The error `type`s the simulator answers: the contract's, plus the few HTTP-level ones
//! the contract leaves open (marked *simulator's own* in the crate README).

pub(crate) const INVALID_CREDENTIALS: &str = "errors/invalid_credentials";
pub(crate) const MISSING_CREDENTIALS: &str = "errors/missing_credentials";
pub(crate) const EXPIRED_CREDENTIALS: &str = "errors/expired_credentials";
pub(crate) const INSUFFICIENT_PRIVILEGES: &str = "errors/insufficient_privileges";
pub(crate) const INVALID_CHECKPOINT_SOLUTION: &str = "errors/invalid_checkpoint_solution";
pub(crate) const AUTHENTICATION_INTENT_ERROR: &str = "errors/authentication_intent_error";
pub(crate) const ACCOUNT_RESTRICTED: &str = "errors/account_restricted";
pub(crate) const INVALID_PARAMETERS: &str = "errors/invalid_parameters";
pub(crate) const MISSING_PARAMETERS: &str = "errors/missing_parameters";
pub(crate) const MALFORMED_REQUEST: &str = "errors/malformed_request";
pub(crate) const CONTENT_TOO_LARGE: &str = "errors/content_too_large";
pub(crate) const REQUEST_TIMEOUT: &str = "errors/request_timeout";
pub(crate) const RESOURCE_NOT_FOUND: &str = "errors/resource_not_found";
pub(crate) const METHOD_NOT_ALLOWED: &str = "errors/method_not_allowed";
pub(crate) const TOO_MANY_REQUESTS: &str = "errors/too_many_requests";
pub(crate) const IDEMPOTENCY_CONFLICT: &str = "errors/idempotency_conflict";
pub(crate) const UNEXPECTED_ERROR: &str = "errors/unexpected_error";
pub(crate) const SERVICE_UNAVAILABLE: &str = "errors/service_unavailable";
pub(crate) const BAD_GATEWAY: &str = "errors/bad_gateway";
pub(crate) const GATEWAY_TIMEOUT: &str = "errors/gateway_timeout";

/// The nine 400 types the endpoint pages list for a request refused as malformed: against
/// a live intent, the intent is still alive (contract, "Answers").
pub(crate) const VALIDATION_400: [&str; 9] = [
    INVALID_PARAMETERS,
    MISSING_PARAMETERS,
    "errors/invalid_request",
    MALFORMED_REQUEST,
    CONTENT_TOO_LARGE,
    "errors/too_many_characters",
    "errors/unescaped_characters",
    "errors/limit_too_high",
    "errors/invalid_url",
];

/// Whether a 400 of this type leaves a live intent alive (a validation refusal); any other
/// 400 against an intent is the intent that destroyed itself.
pub(crate) fn is_validation_400(kind: &str) -> bool {
    VALIDATION_400.contains(&kind)
}

/// The `code` of the quickstart envelope: the type without its `errors/` prefix.
pub(crate) fn code_of(kind: &str) -> &str {
    kind.strip_prefix("errors/").unwrap_or(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_drop_the_prefix_only() {
        assert_eq!(code_of(INVALID_PARAMETERS), "invalid_parameters");
        assert_eq!(code_of("key_missing"), "key_missing");
        assert_eq!(code_of("errors/errors/x"), "errors/x");
    }

    #[test]
    fn validation_types_are_the_documented_nine() {
        assert!(is_validation_400("errors/invalid_url"));
        assert!(!is_validation_400(AUTHENTICATION_INTENT_ERROR));
        assert!(!is_validation_400("invalid_parameters"));
    }
}
