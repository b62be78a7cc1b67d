//! # auth-test-scenarios
//!
//! Dev-only (`publish = false`): the test scenarios every client of this workspace runs,
//! written once. A scenario is a function generic over a [`Driver`](driver::Driver), the
//! client under test seen as blocking calls through three small traits
//! ([`driver::BuilderUnderTest`], [`driver::ClientUnderTest`],
//! [`driver::IntentUnderTest`]) that mirror the clients' public API, name for name. The
//! blocking client (`auth-ureq`) implements them with its calls as they are; the async one
//! (`auth-reqwest`) blocks on each future, on a runtime of each scenario's own
//! ([`Driver::run_scenario`](driver::Driver::run_scenario)), and lets it run while a
//! scenario waits for a server ([`Driver::wait`](driver::Driver::wait)).
//!
//! Each client's test crate lists every scenario for its driver with [`scenarios!`]: one
//! `#[test]` per scenario and client, so that a failure names both
//! (`auth-reqwest … contract::solve_with_the_right_code_201_connects`). What only one
//! client has (the async client's cancellation and `Send + 'static` futures, its tracing,
//! the blocking client's load test) stays in that client's tests, which may use
//! [`support`] too.
//!
//! The scenarios run against `auth-sim` on loopback and the raw servers of
//! `auth-test-servers`, never a mock of an HTTP client.
//!
//! [`bench`] holds what the clients' loopback benchmarks share: the simulator, the CPU
//! clock, the hand-written raw flows' common part, and their two comparisons (the client
//! against its raw HTTP library, against the official Node SDK) written once.
#![forbid(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test scenarios fail loudly"
)]

pub mod bench;
pub mod driver;
pub mod support;

pub mod answer_headers;
pub mod answers;
pub mod builder;
pub mod contract;
pub mod faults;
pub mod flows;
pub mod hostile;
pub mod transport_security;
pub mod with_key;

/// One `#[test]` per scenario for a client's driver, in one module per group
/// (`contract::solve_with_the_right_code_201_connects`…): `scenarios!(Ureq);` at the root of
/// the client's test crate, where `Ureq` is its [`Driver`](driver::Driver).
///
/// Every scenario of this crate is listed here (a test of this crate checks that none is
/// left out), so each client runs them all.
#[macro_export]
macro_rules! scenarios {
    ($driver:ident) => {
        $crate::__scenario_tests!($driver, builder: [
            the_base_url_is_checked_by_the_core,
            user_information_and_the_api_key_are_never_shown,
            a_missing_or_unusable_api_key_is_refused,
            timeouts_and_intent_lifetimes_over_seven_days_are_refused,
            unipile_takes_a_dsn_with_or_without_its_scheme,
            a_unipile_dsn_over_plain_http_needs_allow_insecure_http,
            the_settings_reach_the_core_s_configuration,
        ]);
        $crate::__scenario_tests!($driver, contract: [
            every_request_carries_the_api_key_accept_content_type_user_agent_and_an_idempotency_key,
            connect_201_account_created_is_connected,
            connect_202_checkpoint_is_a_pending_intent_with_its_checkpoint_and_deadline,
            solve_with_the_right_code_201_connects,
            resend_200_checkpoint_resend_success_true_keeps_the_intent_pending,
            resend_200_success_false_is_refused_and_keeps_the_intent_pending,
            get_account_200_gives_its_status_connecting_then_ok,
            reconnect_200_or_201_account_reconnected_is_reconnected,
            reconnect_with_a_checkpoint_is_solved_to_reconnected,
            connect_401_invalid_credentials_is_an_api_error,
            a_connect_with_an_unknown_api_key_is_401_invalid_credentials_and_says_both,
            an_expired_or_out_of_scope_api_key_is_the_configurations_fault,
            the_api_key_may_go_as_a_bearer_token,
            solve_401_invalid_checkpoint_solution_keeps_the_intent_then_the_right_code_connects,
            solve_408_after_five_minutes_is_expired_found_by_the_server_then_a_stale_copy_is_destroyed,
            a_400_after_the_intent_ended_is_destroyed,
            solve_500_authentication_intent_error_destroys_the_intent,
            a_400_malformed_request_is_an_api_error_that_leaves_the_intent_alive,
            solve_403_account_restricted_refuses_the_account_and_nothing_more_is_sent,
            an_error_answer_keeps_its_request_id_in_either_envelope_and_shows_it,
            a_port_query_on_the_base_url_goes_on_every_request,
            chained_checkpoints_2fa_then_otp_share_one_intent,
            try_another_way_answers_a_new_checkpoint_in_the_same_intent,
            other_providers_and_unknown_checkpoint_types_go_through_the_same_calls,
        ]);
        $crate::__scenario_tests!($driver, faults: [
            a_delay_past_the_request_timeout_is_sent_again_with_the_same_key_and_answered,
            without_retries_a_timeout_is_an_error_and_the_intent_stays_resumable,
            forced_5xx_statuses_are_retried_then_api_errors_with_their_status,
            a_body_that_is_not_json_is_a_typed_error,
            a_connection_closed_mid_answer_is_sent_again_and_the_replay_is_read,
            a_connect_whose_202_was_lost_is_sent_again_and_finds_the_same_intent,
            a_solve_whose_201_was_lost_is_sent_again_and_connects,
            a_429_with_retry_after_is_waited_for_inside_the_deadline_and_not_past_it,
            a_connection_closed_without_an_answer_is_sent_again_with_the_same_key,
            an_answer_over_the_limit_is_body_too_large_and_one_at_the_limit_is_read,
            a_redirect_is_refused_and_the_api_key_never_reaches_the_other_host,
            a_refused_connection_is_a_connect_error,
            plain_http_to_a_host_that_is_not_loopback_is_refused_when_the_client_is_built,
            build_errors_name_the_problem_without_a_secret,
            an_unknown_error_type_is_kept_by_name,
        ]);
        $crate::__scenario_tests!($driver, answers: [
            a_connect_whose_answer_was_lost_is_sent_again_with_the_same_key,
            a_solve_whose_201_was_lost_is_sent_again_with_its_key_and_connects,
            a_429_is_sent_again_after_its_retry_after_on_the_clients_clock,
            a_429_whose_wait_ends_past_the_deadline_is_not_sent_again,
            a_request_whose_answers_were_all_lost_resumes_unsettled_and_is_sent_again_with_its_key,
            both_error_envelopes_are_read_with_their_request_id,
            a_resend_answered_success_false_is_refused_and_the_intent_stays_pending,
            an_accounts_status_is_a_get_without_body_or_key,
            a_bearer_scheme_sends_the_key_in_authorization_only,
            an_api_key_problem_is_the_configurations_fault_never_the_password,
        ]);
        $crate::__scenario_tests!($driver, flows: [
            in_app_validation_is_held_until_approved_then_connects,
            in_app_validation_with_the_real_clock_connects_after_the_approval,
            in_app_validation_held_past_the_deadline_ends_expired,
            a_solve_at_the_deadline_is_expired_at_once_and_sends_nothing,
            a_solve_just_before_the_deadline_is_sent_with_only_the_time_left,
            a_saved_intent_resumes_in_a_new_client_and_connects,
            resume_refuses_an_intent_that_is_no_longer_pending_and_sends_nothing,
            a_whole_flow_uses_one_kept_alive_connection,
            the_observer_sees_every_exchange_without_secrets,
            the_raw_transport_drives_a_flow_through_the_shared_loop,
            a_request_with_any_time_budget_is_sent_without_panicking,
            a_success_that_comes_after_the_local_deadline_connects,
            tick_expires_the_intent_by_the_clients_clock_and_sends_nothing,
            clients_and_intents_can_move_between_threads,
        ]);
        $crate::__scenario_tests!($driver, hostile: [
            an_answer_trickled_past_the_timeout_is_a_timeout_and_the_intent_stays_pending,
            a_declared_length_then_a_close_is_an_io_error_and_the_intent_stays_pending,
            a_64_mib_body_is_refused_at_the_limit_and_never_read_whole,
            invalid_utf8_is_a_typed_error_and_the_intent_stays_pending,
            a_body_that_is_not_json_under_a_json_content_type_is_a_typed_error,
            broken_chunked_encoding_is_an_io_error_and_the_intent_stays_pending,
            an_http_1_0_answer_without_a_length_is_read_to_the_close_and_bounded,
            a_redirect_to_another_port_is_refused_and_the_api_key_never_reaches_it,
            a_connection_reset_before_any_byte_is_an_io_error_and_the_intent_stays_pending,
        ]);
        $crate::__scenario_tests!($driver, answer_headers: [
            the_observer_sees_every_answers_headers,
            the_raw_transport_fills_the_answers_headers,
        ]);
        $crate::__scenario_tests!($driver, transport_security: [
            https_speaks_tls_before_the_request_and_a_server_that_does_not_is_a_tls_error,
            https_names_the_configured_host_in_its_hello,
            plain_http_is_refused_for_every_host_that_only_looks_like_loopback,
            a_certificate_no_trusted_root_vouches_for_is_refused_before_the_request_is_sent,
        ]);
        $crate::__scenario_tests!($driver, with_key: [
            connect_with_key_sends_that_key_and_the_same_key_finds_the_same_intent,
            connect_again_sends_the_kept_key_and_keeps_the_first_deadline,
            reconnect_with_key_sends_that_key_and_the_same_key_gets_the_first_answer,
            solve_with_key_from_a_resumed_intent_replays_a_lost_answer,
            resend_with_key_sends_that_key,
        ]);
    };
}

/// The `#[test]`s of one group of scenarios, for [`scenarios!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __scenario_tests {
    ($driver:ident, $group:ident: [$($name:ident),* $(,)?]) => {
        mod $group {
            $(
                #[test]
                fn $name() {
                    <super::$driver as $crate::driver::Driver>::run_scenario(
                        $crate::$group::$name::<super::$driver>,
                    );
                }
            )*
        }
    };
}

/// What the macros of this crate name in the crate that expands them: not an API.
#[doc(hidden)]
pub mod __private {
    pub use auth_client::{BuildError, Exchange};
    pub use auth_core::{
        AccountId, ApiKey, AuthScheme, BaseUrl, Checkpoint, Config, Error, Intent, Phase, RetryPolicy,
        Snapshot, UnixMillis,
    };
}

#[cfg(test)]
mod tests {
    /// Every scenario (every `pub fn` of a scenario module) is in [`scenarios!`]'s list.
    #[test]
    fn every_scenario_is_listed_in_the_macro() {
        let lib = include_str!("lib.rs");
        let list = lib
            .split("macro_rules! scenarios")
            .nth(1)
            .and_then(|rest| rest.split("macro_rules! __scenario_tests").next())
            .unwrap();
        for (group, source) in [
            ("builder", include_str!("builder.rs")),
            ("contract", include_str!("contract.rs")),
            ("faults", include_str!("faults.rs")),
            ("answers", include_str!("answers.rs")),
            ("flows", include_str!("flows.rs")),
            ("hostile", include_str!("hostile.rs")),
            ("answer_headers", include_str!("answer_headers.rs")),
            ("transport_security", include_str!("transport_security.rs")),
            ("with_key", include_str!("with_key.rs")),
        ] {
            // Every public function of a scenario module is a scenario.
            let names = source.lines().filter_map(|line| {
                let rest = line.strip_prefix("pub fn ")?;
                rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .next()
            });
            let mut count = 0;
            for name in names {
                count += 1;
                assert!(
                    list.contains(&format!("{group}: [")) && list.contains(&format!(" {name},\n")),
                    "{group}::{name} is not in scenarios!"
                );
            }
            assert!(count > 0, "no scenario found in {group}");
        }
    }
}
