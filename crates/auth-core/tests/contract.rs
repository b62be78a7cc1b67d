//! One test per row of `shared/api-contract.md`, named after it.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::time::Duration;

use auth_core::{
    AccountId, Answer, Checkpoint, Command, Config, ContractOption, Credentials, Detection, Error, ErrorType,
    Event, Fault, Flow, Phase, Provider, RequestKind, Snapshot, Solution, TwoFactorSource, UnixMillis,
    UsageError,
};
use serde_json::{Value, json};
use support::*;

const FIVE_MINUTES: u64 = 5 * 60 * 1000;

fn body_json(request: &auth_core::Request) -> Value {
    serde_json::from_slice(request.body.as_bytes()).unwrap()
}

fn header<'r>(request: &'r auth_core::Request, name: &str) -> Option<&'r str> {
    request
        .headers
        .iter()
        .find(|h| h.name() == name)
        .map(|h| h.value())
}

// ## Where requests go, and the endpoints

#[test]
fn connect_posts_accounts_with_provider_username_and_password() {
    let mut flow = Flow::new(Config::new(API_KEY));
    let request = flow.begin(at(0), connect_messenger()).unwrap();
    assert_eq!((request.method.as_str(), &*request.path), ("POST", "/accounts"));
    assert_eq!(request.kind, RequestKind::Connect);
    assert_eq!(
        body_json(&request),
        json!({"provider":"MESSENGER","username":"bob","password":PASSWORD})
    );
    assert_eq!(header(&request, "X-API-KEY"), Some(API_KEY));
    assert_eq!(header(&request, "accept"), Some("application/json"));
    assert_eq!(header(&request, "content-type"), Some("application/json"));
    assert_eq!(request.timeout, Config::DEFAULT_REQUEST_TIMEOUT);
    assert_eq!(flow.phase(), Phase::Connecting);
}

#[test]
fn solve_posts_accounts_checkpoint_with_account_id_and_code() {
    let (mut flow, _) = pending_flow(0);
    let request = flow.begin(at(1_000), solve("123456")).unwrap();
    assert_eq!(request.path, "/accounts/checkpoint");
    assert_eq!(
        body_json(&request),
        json!({"provider":"MESSENGER","account_id":"acc-1","code":"123456"})
    );
    assert_eq!(header(&request, "X-API-KEY"), Some(API_KEY));
}

#[test]
fn resend_posts_accounts_checkpoint_resend() {
    let (mut flow, _) = pending_flow(0);
    let request = flow.begin(at(1_000), Command::Resend).unwrap();
    assert_eq!(request.path, "/accounts/checkpoint/resend");
    assert_eq!(
        body_json(&request),
        json!({"provider":"MESSENGER","account_id":"acc-1"})
    );
    let event = flow.handle_answer(at(1_100), &resent()).unwrap();
    assert!(matches!(event, Event::CheckpointResent(intent) if intent.account_id.as_str() == "acc-1"));
    assert!(flow.is_pending());
}

#[test]
fn reconnect_posts_accounts_account_id() {
    let mut flow = Flow::new(Config::new(API_KEY));
    let request = flow
        .begin(
            at(0),
            Command::Reconnect {
                account_id: AccountId::new("acc-9"),
                credentials: Credentials::messenger("bob", PASSWORD),
            },
        )
        .unwrap();
    assert_eq!(request.path, "/accounts/acc-9");
    assert_eq!(request.kind, RequestKind::Reconnect);
    assert_eq!(
        body_json(&request),
        json!({"provider":"MESSENGER","username":"bob","password":PASSWORD})
    );
}

#[test]
fn linkedin_instagram_and_twitter_share_the_flow() {
    for provider in [Provider::Linkedin, Provider::Instagram, Provider::Twitter] {
        let mut flow = Flow::new(Config::new(API_KEY));
        let request = flow
            .begin(at(0), Command::Connect(Credentials::new(provider, "u", "p")))
            .unwrap();
        assert_eq!(body_json(&request)["provider"], provider.as_str());
        flow.handle_answer(at(1), &two_factor("acc-1")).unwrap();
        let request = flow.begin(at(2), solve("1")).unwrap();
        assert_eq!(
            body_json(&request)["provider"],
            provider.as_str(),
            "solve keeps the provider"
        );
    }
}

// ## Answers

#[test]
fn answer_201_account_created_connects_from_connect() {
    let mut flow = Flow::new(Config::new(API_KEY));
    flow.begin(at(0), connect_messenger()).unwrap();
    let event = flow.handle_answer(at(10), &created("acc-1")).unwrap();
    assert_eq!(
        event,
        Event::Connected {
            account_id: AccountId::new("acc-1")
        }
    );
    assert_eq!(flow.connected_account(), Some(&AccountId::new("acc-1")));
    assert_eq!(flow.next_deadline(), None);
}

#[test]
fn answer_201_account_created_connects_from_the_last_solve() {
    let (mut flow, _) = pending_flow(0);
    flow.begin(at(1_000), solve("123456")).unwrap();
    let event = flow.handle_answer(at(1_100), &created("acc-1")).unwrap();
    assert_eq!(
        event,
        Event::Connected {
            account_id: AccountId::new("acc-1")
        }
    );
    assert!(flow.is_connected());
}

#[test]
fn answer_200_or_201_account_reconnected_reconnects() {
    for status in [200, 201] {
        let mut flow = Flow::new(Config::new(API_KEY));
        flow.begin(
            at(0),
            Command::Reconnect {
                account_id: "acc-9".into(),
                credentials: Credentials::messenger("bob", PASSWORD),
            },
        )
        .unwrap();
        let event = flow.handle_answer(at(10), &reconnected(status, "acc-9")).unwrap();
        assert_eq!(
            event,
            Event::Reconnected {
                account_id: "acc-9".into()
            }
        );
        assert!(flow.is_connected());
    }
}

#[test]
fn answer_202_checkpoint_starts_an_intent_counted_from_the_request_sent() {
    let (flow, intent) = pending_flow(1_000);
    assert_eq!(intent.checkpoint, Checkpoint::TwoFactor { source: None });
    assert_eq!(
        intent.started_at,
        at(1_000),
        "from the send, not the answer at 1_250"
    );
    assert_eq!(intent.deadline, at(1_000 + FIVE_MINUTES));
    assert_eq!(flow.next_deadline(), Some(at(1_000 + FIVE_MINUTES)));
    assert_eq!(
        flow.remaining(at(1_250)),
        Some(Duration::from_millis(FIVE_MINUTES - 250))
    );
}

#[test]
fn answer_201_checkpoint_resend_keeps_the_intent_and_its_deadline() {
    let (mut flow, intent) = pending_flow(0);
    flow.begin(at(5_000), Command::Resend).unwrap();
    let Event::CheckpointResent(after) = flow.handle_answer(at(5_100), &resent()).unwrap() else {
        panic!("not resent");
    };
    assert_eq!(after.deadline, intent.deadline);
}

#[test]
fn answer_401_invalid_credentials_is_typed_and_the_flow_can_start_again() {
    let mut flow = Flow::new(Config::new(API_KEY));
    flow.begin(at(0), connect_messenger()).unwrap();
    let error = flow
        .handle_answer(at(10), &error(401, "errors/invalid_credentials"))
        .unwrap_err();
    let api = error.api_error().unwrap();
    assert_eq!(
        (api.status, api.kind.clone()),
        (401, Some(ErrorType::InvalidCredentials))
    );
    assert_eq!(api.title.as_deref(), Some("Title of errors/invalid_credentials"));
    assert_eq!(
        api.detail.as_deref(),
        Some("Detail of errors/invalid_credentials")
    );
    assert_eq!(error.fault(), Fault::Server);
    assert_eq!(flow.phase(), Phase::Idle);
    assert!(
        flow.begin(at(20), connect_messenger()).is_ok(),
        "the flow can start again"
    );
}

#[test]
fn answer_401_missing_credentials_is_typed_and_the_flow_can_start_again() {
    let mut flow = Flow::new(Config::new("wrong-key"));
    flow.begin(at(0), connect_messenger()).unwrap();
    let error = flow
        .handle_answer(at(10), &error(401, "errors/missing_credentials"))
        .unwrap_err();
    assert_eq!(
        error.api_error().unwrap().kind,
        Some(ErrorType::MissingCredentials)
    );
    assert_eq!(flow.phase(), Phase::Idle);
}

#[test]
fn answer_401_invalid_checkpoint_solution_keeps_the_intent_and_counts_attempts() {
    let (mut flow, intent) = pending_flow(0);
    for attempt in 1..=3 {
        flow.begin(at(attempt * 1_000), solve("000000")).unwrap();
        let error = flow
            .handle_answer(
                at(attempt * 1_000 + 50),
                &error(401, "errors/invalid_checkpoint_solution"),
            )
            .unwrap_err();
        assert!(error.api_error().unwrap().is_wrong_code());
        assert!(flow.is_pending());
        assert_eq!(
            flow.intent().unwrap().failed_attempts,
            u32::try_from(attempt).unwrap()
        );
        assert_eq!(flow.intent().unwrap().deadline, intent.deadline);
    }
    flow.begin(at(10_000), solve("123456")).unwrap();
    assert!(
        flow.handle_answer(at(10_050), &created("acc-1")).is_ok(),
        "the right code still connects"
    );
}

#[test]
fn answer_408_is_the_first_request_against_an_old_intent_expired() {
    let (mut flow, intent) = pending_flow(0);
    flow.begin(at(1_000), solve("123456")).unwrap();
    let error = flow.handle_answer(at(1_050), &bare(408)).unwrap_err();
    let Error::IntentExpired(expired) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(expired.detected_by, Detection::Server);
    assert_eq!(expired.deadline, intent.deadline);
    assert_eq!(error.fault(), Fault::IntentEnded);
    assert_eq!(flow.phase(), Phase::Expired);
    assert_eq!(flow.next_deadline(), None);
}

#[test]
fn answer_400_after_expiry_means_the_intent_destroyed_itself() {
    // Another process saw the 408; this one resumes the intent and gets the 400.
    let (mut flow, _) = pending_flow(0);
    flow.begin(at(1_000), solve("123456")).unwrap();
    let error = flow
        .handle_answer(at(1_050), &error(400, "errors/invalid_request"))
        .unwrap_err();
    let Error::IntentDestroyed(destroyed) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(destroyed.cause.status, 400);
    assert_eq!(flow.phase(), Phase::Destroyed);
    // A 400 that is not JSON at all means the same.
    let (mut flow, _) = pending_flow(0);
    flow.begin(at(1_000), Command::Resend).unwrap();
    assert!(matches!(
        flow.handle_answer(at(1_050), &bare(400)),
        Err(Error::IntentDestroyed(_))
    ));
}

#[test]
fn answer_500_authentication_intent_error_destroys_the_intent() {
    let (mut flow, _) = pending_flow(0);
    flow.begin(at(1_000), solve("123456")).unwrap();
    let error = flow
        .handle_answer(at(1_050), &error(500, "errors/authentication_intent_error"))
        .unwrap_err();
    assert!(
        matches!(&error, Error::IntentDestroyed(d) if d.cause.kind == Some(ErrorType::AuthenticationIntentError))
    );
    assert_eq!(flow.phase(), Phase::Destroyed);
    assert!(
        matches!(flow.begin(at(2_000), solve("1")), Err(Error::IntentDestroyed(_))),
        "absorbing"
    );
}

#[test]
fn answer_400_malformed_request_types_keep_the_intent() {
    for kind in [
        "errors/invalid_parameters",
        "errors/missing_parameters",
        "errors/malformed_request",
    ] {
        let (mut flow, _) = pending_flow(0);
        flow.begin(at(1_000), solve("not-a-phone")).unwrap();
        let error = flow.handle_answer(at(1_050), &error(400, kind)).unwrap_err();
        assert!(error.api_error().unwrap().is_malformed_request(), "{kind}");
        assert!(flow.is_pending(), "{kind}");
    }
}

#[test]
fn error_bodies_may_miss_detail_and_instance_and_need_not_be_json() {
    let (mut flow, _) = pending_flow(0);
    flow.begin(at(1_000), solve("1")).unwrap();
    let answer = Answer::new(
        401,
        r#"{"status":401,"type":"errors/invalid_checkpoint_solution","title":"Wrong"}"#,
    );
    let error = flow.handle_answer(at(1_010), &answer).unwrap_err();
    let api = error.api_error().unwrap();
    assert_eq!((api.detail.as_ref(), api.instance.as_ref()), (None, None));

    flow.begin(at(2_000), solve("1")).unwrap();
    let mut answer = Answer::new(503, "<html><body>upstream unavailable</body></html>");
    answer
        .headers
        .push(("content-type".into(), "application/problem+json".into()));
    let error = flow.handle_answer(at(2_010), &answer).unwrap_err();
    let api = error.api_error().unwrap();
    assert_eq!((api.status, api.kind.as_ref()), (503, None));
    assert!(api.excerpt.as_deref().unwrap().contains("upstream unavailable"));
    assert!(
        flow.is_pending(),
        "a 5xx keeps the intent: the caller may try again"
    );
}

#[test]
fn other_documented_error_types_are_typed() {
    for (name, kind) in [
        ("errors/checkpoint_error", ErrorType::CheckpointError),
        ("errors/expired_credentials", ErrorType::ExpiredCredentials),
        ("errors/multiple_sessions", ErrorType::MultipleSessions),
        ("errors/disconnected_account", ErrorType::DisconnectedAccount),
        (
            "errors/insufficient_privileges",
            ErrorType::InsufficientPrivileges,
        ),
        ("errors/wrong_account", ErrorType::WrongAccount),
    ] {
        let mut flow = Flow::new(Config::new(API_KEY));
        flow.begin(at(0), connect_messenger()).unwrap();
        let error = flow.handle_answer(at(1), &error(403, name)).unwrap_err();
        assert_eq!(error.api_error().unwrap().kind, Some(kind));
    }
}

#[test]
fn unknown_answers_are_typed_as_malformed_and_the_flow_can_start_again() {
    let mut flow = Flow::new(Config::new(API_KEY));
    flow.begin(at(0), connect_messenger()).unwrap();
    let error = flow
        .handle_answer(at(1), &Answer::new(200, "surprise"))
        .unwrap_err();
    assert!(matches!(&error, Error::Malformed(m) if m.status == 200 && m.excerpt == "surprise"));
    assert_eq!(error.fault(), Fault::Protocol);
    assert_eq!(flow.phase(), Phase::Idle);
    let (mut flow, _) = pending_flow(0);
    flow.begin(at(1_000), solve("1")).unwrap();
    assert!(matches!(
        flow.handle_answer(at(1_001), &Answer::new(302, "")),
        Err(Error::Malformed(_))
    ));
    assert!(flow.is_pending(), "a malformed answer loses no intent");
}

// ## Checkpoint types

#[test]
fn every_checkpoint_type_is_typed_with_its_extra_fields() {
    let cases = [
        (
            r#"{"type":"2FA","source":"SMS"}"#,
            Checkpoint::TwoFactor {
                source: Some(TwoFactorSource::Sms),
            },
        ),
        (
            r#"{"type":"2FA","source":"APP"}"#,
            Checkpoint::TwoFactor {
                source: Some(TwoFactorSource::App),
            },
        ),
        (r#"{"type":"OTP"}"#, Checkpoint::Otp),
        (r#"{"type":"IN_APP_VALIDATION"}"#, Checkpoint::InAppValidation),
        (r#"{"type":"PHONE_REGISTER"}"#, Checkpoint::PhoneRegister),
        (
            r#"{"type":"CAPTCHA","public_key":"pk","data":"d"}"#,
            Checkpoint::Captcha {
                public_key: Some("pk".into()),
                data: Some("d".into()),
            },
        ),
        (
            r#"{"type":"QRCODE","qrcode":"qr"}"#,
            Checkpoint::QrCode {
                qrcode: Some("qr".into()),
            },
        ),
        (
            r#"{"type":"CONTRACT_CHOOSER","contract_options":[{"id":"c1","name":"Pro"}]}"#,
            Checkpoint::ContractChooser {
                options: vec![ContractOption {
                    id: "c1".into(),
                    name: "Pro".into(),
                }],
            },
        ),
    ];
    for (json, expected) in cases {
        let mut flow = Flow::new(Config::new(API_KEY));
        flow.begin(at(0), connect_messenger()).unwrap();
        let Event::Checkpoint(intent) = flow.handle_answer(at(1), &checkpoint("acc-1", json)).unwrap() else {
            panic!("{json}");
        };
        assert_eq!(intent.checkpoint, expected, "{json}");
    }
}

#[test]
fn an_unknown_checkpoint_type_is_kept_by_name_and_solvable_by_code() {
    let mut flow = Flow::new(Config::new(API_KEY));
    flow.begin(at(0), connect_messenger()).unwrap();
    let answer = checkpoint("acc-1", r#"{"type":"FACE_SCAN","hint":"smile"}"#);
    let Event::Checkpoint(intent) = flow.handle_answer(at(1), &answer).unwrap() else {
        panic!()
    };
    assert_eq!(intent.checkpoint.kind(), "FACE_SCAN");
    assert!(intent.checkpoint.to_string().contains("FACE_SCAN"));
    let request = flow.begin(at(2), solve("smiled")).unwrap();
    assert_eq!(body_json(&request)["code"], "smiled");
    assert!(flow.handle_answer(at(3), &created("acc-1")).is_ok());
}

// ## Special codes

#[test]
fn in_app_validation_may_take_the_intents_whole_remaining_time() {
    let (mut flow, intent) = pending_flow(0);
    let request = flow
        .begin(at(60_000), Command::Solve(Solution::InAppValidation))
        .unwrap();
    assert_eq!(body_json(&request)["code"], "in_app_validation");
    assert_eq!(request.timeout, intent.remaining(at(60_000)));
    assert!(request.timeout > Config::DEFAULT_REQUEST_TIMEOUT);
    // A held request that outlives the intent ends it: nothing may arrive after the deadline.
    let error = flow
        .handle_answer(intent.deadline, &created("acc-1"))
        .unwrap_err();
    assert!(matches!(error, Error::IntentExpired(e) if e.detected_by == Detection::Deadline));
}

#[test]
fn ordinary_requests_never_outlive_the_intent() {
    let (mut flow, intent) = pending_flow(0);
    let near_the_end = intent.deadline.as_millis() - 2_000;
    let request = flow.begin(at(near_the_end), solve("123456")).unwrap();
    assert_eq!(request.timeout, Duration::from_millis(2_000));
}

#[test]
fn try_another_way_is_answered_by_a_new_checkpoint_with_the_same_deadline() {
    let (mut flow, intent) = pending_flow(0);
    let request = flow.begin(at(1_000), solve("TRY_ANOTHER_WAY")).unwrap();
    assert_eq!(body_json(&request)["code"], "TRY_ANOTHER_WAY");
    let Event::Checkpoint(next) = flow
        .handle_answer(at(1_100), &checkpoint("acc-1", r#"{"type":"OTP"}"#))
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(next.checkpoint, Checkpoint::Otp);
    assert_eq!(next.deadline, intent.deadline);
    assert_eq!(next.checkpoints_solved, 0, "another way solves nothing");
}

// ## The authentication intent

#[test]
fn chained_checkpoints_keep_the_first_deadline() {
    let (mut flow, intent) = pending_flow(0);
    flow.begin(at(100_000), solve("111111")).unwrap();
    let Event::Checkpoint(otp) = flow
        .handle_answer(at(100_100), &checkpoint("acc-1", r#"{"type":"OTP"}"#))
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(otp.deadline, intent.deadline, "solving one does not extend it");
    assert_eq!(otp.checkpoints_solved, 1);
    flow.begin(at(200_000), solve("222222")).unwrap();
    assert!(flow.handle_answer(at(200_100), &created("acc-1")).is_ok());
}

#[test]
fn a_solve_at_the_deadline_sends_nothing_and_expires() {
    let (mut flow, intent) = pending_flow(0);
    let error = flow.begin(intent.deadline, solve("123456")).unwrap_err();
    let Error::IntentExpired(expired) = error else {
        panic!()
    };
    assert_eq!(expired.detected_by, Detection::Deadline);
    assert_eq!(flow.phase(), Phase::Expired);
    // One millisecond earlier, it is sent.
    let (mut flow, intent) = pending_flow(0);
    assert!(
        flow.begin(at(intent.deadline.as_millis() - 1), solve("123456"))
            .is_ok()
    );
}

#[test]
fn handle_timeout_expires_exactly_at_the_deadline_and_extra_calls_are_harmless() {
    let (mut flow, intent) = pending_flow(0);
    assert_eq!(flow.handle_timeout(at(intent.deadline.as_millis() - 1)), None);
    assert!(flow.is_pending());
    let expired = flow.handle_timeout(intent.deadline).unwrap();
    assert_eq!(expired.deadline, intent.deadline);
    assert_eq!(flow.handle_timeout(at(intent.deadline.as_millis() + 1)), None);
    assert_eq!(flow.phase(), Phase::Expired);
}

#[test]
fn a_clock_that_goes_backwards_revives_nothing() {
    let (mut flow, intent) = pending_flow(10_000);
    flow.handle_timeout(intent.deadline);
    assert!(matches!(
        flow.begin(at(0), solve("1")),
        Err(Error::IntentExpired(_))
    ));
    assert_eq!(flow.phase(), Phase::Expired);
    // Nor gives a pending intent more time than the latest clock reading left it.
    let (mut flow, intent) = pending_flow(10_000);
    let late = intent.deadline.as_millis() - 1_000;
    flow.handle_timeout(at(late));
    assert_eq!(flow.remaining(at(0)), Some(Duration::from_millis(1_000)));
    let request = flow.begin(at(0), solve("1")).unwrap();
    assert_eq!(request.timeout, Duration::from_millis(1_000));
}

#[test]
fn a_new_intent_starts_after_expired_or_destroyed_with_the_same_configuration() {
    let config = Config::new(API_KEY).with_intent_ttl(Duration::from_secs(60));
    let mut flow = Flow::new(config);
    flow.begin(at(0), connect_messenger()).unwrap();
    flow.handle_answer(at(10), &two_factor("acc-1")).unwrap();
    flow.handle_timeout(at(60_000));
    assert_eq!(flow.phase(), Phase::Expired);
    flow.begin(at(70_000), connect_messenger()).unwrap();
    let Event::Checkpoint(intent) = flow.handle_answer(at(70_010), &two_factor("acc-2")).unwrap() else {
        panic!()
    };
    assert_eq!(
        intent.deadline,
        at(130_000),
        "the configured lifetime still applies"
    );
    flow.begin(at(71_000), solve("1")).unwrap();
    flow.handle_answer(at(71_010), &error(500, "errors/authentication_intent_error"))
        .unwrap_err();
    assert_eq!(flow.phase(), Phase::Destroyed);
    flow.begin(at(72_000), connect_messenger()).unwrap();
    assert!(flow.handle_answer(at(72_010), &created("acc-3")).is_ok());
}

#[test]
fn a_202_answered_after_the_deadline_expires_at_once() {
    let mut flow = Flow::new(Config::new(API_KEY).with_intent_ttl(Duration::from_secs(1)));
    flow.begin(at(0), connect_messenger()).unwrap();
    assert!(matches!(
        flow.handle_answer(at(1_000), &two_factor("acc-1")),
        Err(Error::IntentExpired(_))
    ));
}

#[test]
fn a_transport_error_keeps_a_pending_intent_pending() {
    let (mut flow, _) = pending_flow(0);
    flow.begin(at(1_000), solve("1")).unwrap();
    let error = flow.handle_transport_error(
        at(2_000),
        auth_core::TransportError::new(auth_core::TransportErrorKind::Timeout, "timed out"),
    );
    assert_eq!(error.fault(), Fault::Network);
    assert!(flow.is_pending());
    assert!(flow.begin(at(3_000), solve("1")).is_ok(), "and solvable again");
}

// ## Misuse by the caller

#[test]
fn misuse_is_a_caller_error_that_changes_nothing() {
    let mut flow = Flow::new(Config::new(API_KEY));
    assert!(matches!(
        flow.begin(at(0), solve("1")),
        Err(Error::Usage(UsageError::NoPendingIntent))
    ));
    assert!(matches!(
        flow.begin(at(0), Command::Resend),
        Err(Error::Usage(UsageError::NoPendingIntent))
    ));
    assert!(matches!(
        flow.handle_answer(at(0), &created("acc-1")),
        Err(Error::Usage(UsageError::NoRequestInFlight))
    ));
    flow.begin(at(0), connect_messenger()).unwrap();
    let second = flow.begin(at(1), connect_messenger()).unwrap_err();
    assert!(matches!(second, Error::Usage(UsageError::RequestInFlight)));
    assert_eq!(second.fault(), Fault::Caller);
    assert_eq!(flow.phase(), Phase::Connecting);
    assert!(matches!(
        flow.begin(at(0), Command::Connect(Credentials::messenger("", "p"))),
        Err(Error::Usage(UsageError::RequestInFlight))
    ));
    let mut idle = Flow::new(Config::new(API_KEY));
    assert!(matches!(
        idle.begin(at(0), Command::Connect(Credentials::messenger("", "p"))),
        Err(Error::Usage(UsageError::Empty("username")))
    ));
    assert_eq!(idle.phase(), Phase::Idle);
}

// ## Saved state

#[test]
fn a_pending_intent_is_saved_without_secrets_and_resumed_elsewhere() {
    let (mut flow, intent) = pending_flow(0);
    flow.begin(at(1_000), solve("654321")).unwrap();
    flow.handle_answer(at(1_100), &error(401, "errors/invalid_checkpoint_solution"))
        .unwrap_err();
    let saved = serde_json::to_string(&flow.snapshot()).unwrap();
    for secret in [API_KEY, PASSWORD, "654321"] {
        assert!(!saved.contains(secret), "{secret} in {saved}");
    }
    let value: Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(value["version"], 1);
    assert_eq!(value["state"]["phase"], "awaiting_checkpoint");

    let snapshot: Snapshot = serde_json::from_str(&saved).unwrap();
    let mut expected = intent.clone();
    expected.failed_attempts = 1;
    assert_eq!(snapshot.intent(), Some(&expected));
    let mut resumed = Flow::resume(Config::new(API_KEY), snapshot);
    let request = resumed.begin(at(2_000), solve("123456")).unwrap();
    assert_eq!(body_json(&request)["account_id"], "acc-1");
    assert!(resumed.handle_answer(at(2_100), &created("acc-1")).is_ok());
}

#[test]
fn a_snapshot_of_another_version_is_refused() {
    let (flow, _) = pending_flow(0);
    let mut value = serde_json::to_value(flow.snapshot()).unwrap();
    value["version"] = json!(2);
    let error = serde_json::from_value::<Snapshot>(value).unwrap_err();
    assert!(
        error.to_string().contains("unsupported snapshot version 2"),
        "{error}"
    );
}

#[test]
fn secrets_never_reach_debug_output() {
    let mut flow = Flow::new(Config::new(API_KEY));
    let request = flow.begin(at(0), connect_messenger()).unwrap();
    let printed = format!(
        "{request:?} {flow:?} {:?}",
        Credentials::messenger("bob", PASSWORD)
    );
    assert!(
        !printed.contains(API_KEY) && !printed.contains(PASSWORD),
        "{printed}"
    );
    let _ = UnixMillis::EPOCH;
}
