//! One scenario per row of `shared/api-contract.md`, through the client, against the
//! simulator on a real loopback socket, in both path styles (postpress `/v1`, Unipile
//! `/api/v1`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::{
    AuthScheme, Checkpoint, Connection, Credentials, Detection, Error, ErrorType, Fault, IdempotencyKey,
    Phase, Problem, Provider, Resend, Solved, SourceStatus,
};
use auth_sim::{
    Account, Checkpoint as SimCheckpoint, ErrorEnvelope, Fault as SimFault, Fixture, Provider as SimProvider,
    Simulator, SourceStatus as SimSourceStatus,
};

use crate::driver::{BuilderUnderTest, ClientUnderTest, Driver, IntentUnderTest};
use crate::support::*;

/// A fixture of `erin` (password `pw-secret`) whose 2FA (code 123456) solve meets `fault`.
fn erin_whose_solve_meets(fault: SimFault) -> Fixture {
    let checkpoint = SimCheckpoint::new("2FA", "123456").fault(fault);
    Fixture::new().account(Account::new("erin", "pw-secret").checkpoint(checkpoint))
}

/// erin's pending intent on a simulator of `fixture`, after her right code was answered
/// with an error (the fixture's fault): the simulator, the intent and that error.
fn erin_solves<D: Driver>(fixture: &Fixture, style: Style) -> (auth_sim::Simulator, D::Intent, Error) {
    let sim = start_sim(fixture.clone());
    let client = client::<D>(&sim, style);
    let mut intent = pending::<D>(&client, "erin", "pw-secret");
    let error = expect_err(intent.solve_code_checkpoint("123456"));
    (sim, intent, error)
}

fn connected_id<I: std::fmt::Debug>(connection: Connection<I>) -> String {
    match connection {
        Connection::Connected { account_id } => account_id.as_str().to_owned(),
        other => panic!("expected connected, got {other:?}"),
    }
}

/// Every request carries the API key, `accept`, `content-type`, the client's `user-agent`
/// and an `Idempotency-Key`.
pub fn every_request_carries_the_api_key_accept_content_type_user_agent_and_an_idempotency_key<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = client::<D>(&sim, style);
        connected_id(client.connect_messenger("alice", "pw-a").unwrap());
        let requests = sim.requests();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, style.path("/accounts"));
        assert_eq!(request.header("x-api-key"), Some(API_KEY));
        assert_eq!(request.header("accept"), Some("application/json"));
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("user-agent"), Some(D::USER_AGENT));
        assert!(
            D::USER_AGENT.starts_with(&format!("{}/", D::NAME)),
            "{}",
            D::USER_AGENT
        );
        // 16 random bytes, written as a UUID v4.
        let key = request.header("idempotency-key").expect("an Idempotency-Key");
        assert_eq!(IdempotencyKey::parse(key).map(|k| k.as_str().len()), Ok(36));
        assert_eq!(key.as_bytes()[14], b'4', "{key}");
        assert_eq!(
            request.body_json().unwrap(),
            serde_json::json!({"provider": "MESSENGER", "username": "alice", "password": "pw-a"})
        );
    }
}

/// Connect, 201 `AccountCreated`: connected.
pub fn connect_201_account_created_is_connected<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = client::<D>(&sim, style);
        let account_id = connected_id(client.connect_messenger("alice", "pw-a").unwrap());
        assert!(!account_id.is_empty());
        let connected = sim.connected_accounts();
        assert_eq!(connected.len(), 1);
        assert_eq!(connected[0].account_id, account_id);
        assert_eq!(connected[0].username, "alice");
    }
}

/// Connect, 202 `Checkpoint`: a pending intent with its checkpoint and deadline.
pub fn connect_202_checkpoint_is_a_pending_intent_with_its_checkpoint_and_deadline<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let clock = ManualClock::new();
        let client = builder::<D>(&sim, style).clock(clock.clone()).build().unwrap();
        let intent = pending::<D>(&client, "bob", "pw-b");
        assert!(matches!(intent.checkpoint(), Checkpoint::TwoFactor { .. }));
        assert_eq!(intent.checkpoint().kind(), "2FA");
        assert!(!intent.account_id().as_str().is_empty());
        assert!(intent.is_pending());
        // The deadline counts from when the connect request was sent: five minutes.
        assert_eq!(intent.intent().started_at, clock.now());
        assert_eq!(
            intent.deadline(),
            clock.now().saturating_add(Duration::from_secs(300))
        );
        assert_eq!(intent.remaining(), Duration::from_secs(300));
        clock.advance(Duration::from_secs(100));
        assert_eq!(intent.remaining(), Duration::from_secs(200));
        assert_eq!(sim.pending_intents(), 1);
    }
}

/// Solve with the right code, 201: connected.
pub fn solve_with_the_right_code_201_connects<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = client::<D>(&sim, style);
        let mut intent = pending::<D>(&client, "bob", "pw-b");
        let account_id = intent.account_id().clone();
        let solved = intent.solve_code_checkpoint("123456").unwrap();
        assert_eq!(solved, Solved::Connected { account_id });
        assert!(!intent.is_pending());
        let requests = sim.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].path, style.path("/accounts/checkpoint"));
        assert_eq!(
            requests[1].body_json().unwrap(),
            serde_json::json!({"provider": "MESSENGER", "account_id": intent.account_id().as_str(), "code": "123456"})
        );
        assert_eq!(sim.connected_accounts().len(), 1);
    }
}

/// Resend, 200 `CheckpointResend` with `success: true`: the intent stays pending.
pub fn resend_200_checkpoint_resend_success_true_keeps_the_intent_pending<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = client::<D>(&sim, style);
        let mut intent = pending::<D>(&client, "bob", "pw-b");
        let deadline = intent.deadline();
        assert_eq!(intent.resend_checkpoint().unwrap(), Resend::Sent);
        assert!(intent.is_pending());
        assert_eq!(intent.deadline(), deadline, "a resend does not extend the intent");
        let requests = sim.requests();
        assert_eq!(requests[1].path, style.path("/accounts/checkpoint/resend"));
        assert_eq!(
            requests[1].body_json().unwrap(),
            serde_json::json!({"provider": "MESSENGER", "account_id": intent.account_id().as_str()})
        );
        assert!(matches!(
            intent.solve_code_checkpoint("123456").unwrap(),
            Solved::Connected { .. }
        ));
    }
}

/// Resend, 200 with `success: false`: refused, and the intent stays pending.
pub fn resend_200_success_false_is_refused_and_keeps_the_intent_pending<D: Driver>() {
    let fixture = Fixture::new().account(
        Account::new("erin", "pw-secret").checkpoint(SimCheckpoint::new("2FA", "123456").resend_refused()),
    );
    for style in Style::ALL {
        let sim = start_sim(fixture.clone());
        let client = client::<D>(&sim, style);
        let mut intent = pending::<D>(&client, "erin", "pw-secret");
        assert_eq!(intent.resend_checkpoint().unwrap(), Resend::Refused);
        assert!(
            intent.is_pending(),
            "nothing reached the user, the intent is alive"
        );
        assert!(matches!(
            intent.solve_code_checkpoint("123456").unwrap(),
            Solved::Connected { .. }
        ));
    }
}

/// `GET /accounts/{id}`, 200: its status, `CONNECTING` then `OK`.
pub fn get_account_200_gives_its_status_connecting_then_ok<D: Driver>() {
    let fixture = Fixture::new()
        .account(Account::new("alice", "pw-a"))
        .account(Account::new("dora", "pw-secret").source_status(SimSourceStatus::Credentials));
    for style in Style::ALL {
        let sim = start_sim(fixture.clone());
        let client = client::<D>(&sim, style);
        let alice = connected_id(client.connect_messenger("alice", "pw-a").unwrap());
        let dora = connected_id(client.connect_messenger("dora", "pw-secret").unwrap());
        let status = client.account_status(alice.as_str()).unwrap();
        assert_eq!(status.account_id.as_str(), alice);
        assert_eq!(status.status(), SourceStatus::Connecting);
        sim.advance(Duration::from_millis(200));
        assert!(client.account_status(alice.as_str()).unwrap().is_ok());
        assert_eq!(
            client.account_status(dora.as_str()).unwrap().status(),
            SourceStatus::Credentials
        );
        let error = expect_err(client.account_status("acc-unknown"));
        assert_eq!(error.api_error().unwrap().problem, Problem::NotFound);
        let gets: Vec<_> = sim.requests().into_iter().filter(|r| r.method == "GET").collect();
        assert_eq!(gets.len(), 4);
        assert_eq!(gets[0].path, style.path(&format!("/accounts/{alice}")));
        assert!(
            gets.iter()
                .all(|r| r.header("idempotency-key").is_none() && r.body.is_empty())
        );
    }
}

/// Reconnect, 200 or 201 `AccountReconnected`: reconnected.
pub fn reconnect_200_or_201_account_reconnected_is_reconnected<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = client::<D>(&sim, style);
        let account_id = connected_id(client.connect_messenger("alice", "pw-a").unwrap());
        let again = client
            .reconnect_account(account_id.as_str(), Credentials::messenger("alice", "pw-a"))
            .unwrap();
        match again {
            Connection::Reconnected { account_id: id } => assert_eq!(id.as_str(), account_id),
            other => panic!("expected reconnected, got {other:?}"),
        }
        assert_eq!(
            sim.requests()[1].path,
            style.path(&format!("/accounts/{account_id}"))
        );
    }
}

/// A reconnect with a checkpoint is solved to reconnected.
pub fn reconnect_with_a_checkpoint_is_solved_to_reconnected<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = client::<D>(&sim, style);
        let mut first = pending::<D>(&client, "bob", "pw-b");
        let Solved::Connected { account_id } = first.solve_code_checkpoint("123456").unwrap() else {
            panic!("bob connects with his code");
        };
        let Connection::Pending(mut intent) = client
            .reconnect_account(account_id.clone(), Credentials::messenger("bob", "pw-b"))
            .unwrap()
        else {
            panic!("bob's reconnect asks for his 2FA");
        };
        assert!(intent.intent().reconnect);
        assert_eq!(
            intent.solve_code_checkpoint("123456").unwrap(),
            Solved::Reconnected { account_id }
        );
    }
}

/// Connect, 401 `invalid_credentials`: an API error, the user's fault.
pub fn connect_401_invalid_credentials_is_an_api_error<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = client::<D>(&sim, style);
        let error = expect_err(client.connect_messenger("alice", "pw-wrong-secret"));
        let api = error.api_error().expect("an API error");
        assert_eq!(api.status, 401);
        assert_eq!(api.kind, Some(ErrorType::InvalidCredentials));
        assert_eq!(api.problem, Problem::WrongCredentials);
        assert_eq!(error.fault(), Fault::User);
        assert!(api.title.is_some());
        assert!(matches!(error, Error::Api(_)));
        // The type is also used for a refused API key: the text says both.
        assert!(error.to_string().contains("API key"), "{error}");
        assert!(!format!("{error} {error:?}").contains("pw-wrong-secret"));
    }
}

/// A connect with an unknown API key: 401 `invalid_credentials`, whose text names both the
/// password and the key.
pub fn a_connect_with_an_unknown_api_key_is_401_invalid_credentials_and_says_both<D: Driver>() {
    // The docs use `invalid_credentials` for a refused password and for an unknown API key:
    // on a connect, the error says both.
    for style in Style::ALL {
        let sim = demo_sim();
        let client = D::builder()
            .base_url(style.base_url(&sim))
            .api_key("sk-wrong-key-secret")
            .build()
            .unwrap();
        let error = expect_err(client.connect_messenger("alice", "pw-a"));
        let api = error.api_error().unwrap();
        assert_eq!(
            (api.status, api.kind.clone(), api.problem),
            (
                401,
                Some(ErrorType::InvalidCredentials),
                Problem::WrongCredentials
            )
        );
        assert!(error.to_string().contains("check the API key"), "{error}");
        assert!(!format!("{error} {error:?}").contains("sk-wrong-key-secret"));
        assert!(sim.connected_accounts().is_empty());
    }
}

/// An expired or out-of-scope API key is the configuration's fault, never the password's.
pub fn an_expired_or_out_of_scope_api_key_is_the_configurations_fault<D: Driver>() {
    let sim = Simulator::builder()
        .api_key(API_KEY)
        .expired_api_key("sk-expired-key-secret")
        .api_key_without_scope("sk-narrow-key-secret")
        .fixture(Fixture::demo())
        .manual_clock()
        .start()
        .unwrap();
    for (key, kind) in [
        ("sk-expired-key-secret", ErrorType::ExpiredCredentials),
        ("sk-narrow-key-secret", ErrorType::InsufficientPrivileges),
    ] {
        let client = D::builder()
            .base_url(sim.base_url())
            .api_key(key)
            .build()
            .unwrap();
        let error = expect_err(client.connect_messenger("alice", "pw-a"));
        let api = error.api_error().unwrap();
        assert_eq!(
            (api.status, api.kind.clone(), api.problem),
            (401, Some(kind), Problem::ApiKey)
        );
        // The configuration's fault, never the account's password.
        assert_eq!(error.fault(), Fault::Configuration);
        assert!(
            error.to_string().contains("not with the account's password"),
            "{error}"
        );
        assert!(!format!("{error} {error:?}").contains(key));
    }
    assert!(sim.connected_accounts().is_empty());
}

/// The API key may go as a bearer token.
pub fn the_api_key_may_go_as_a_bearer_token<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = builder::<D>(&sim, style)
            .auth_scheme(AuthScheme::Bearer)
            .clock(ManualClock::new())
            .build()
            .unwrap();
        connected_id(client.connect_messenger("alice", "pw-a").unwrap());
        let request = &sim.requests()[0];
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {API_KEY}").as_str())
        );
        assert_eq!(request.header("x-api-key"), None);
    }
}

/// Solve, 401 `invalid_checkpoint_solution`: the intent stays, then the right code connects.
pub fn solve_401_invalid_checkpoint_solution_keeps_the_intent_then_the_right_code_connects<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = client::<D>(&sim, style);
        let mut intent = pending::<D>(&client, "bob", "pw-b");
        let error = expect_err(intent.solve_code_checkpoint("999999"));
        let api = error.api_error().unwrap();
        assert_eq!(api.status, 401);
        assert!(api.is_wrong_code());
        assert!(error.is_retryable_by_user());
        assert!(intent.is_pending(), "a wrong code leaves the intent alive");
        assert_eq!(intent.intent().failed_attempts, 1);
        let error = expect_err(intent.solve_code_checkpoint("999999"));
        assert!(error.api_error().unwrap().is_wrong_code());
        assert_eq!(intent.intent().failed_attempts, 2);
        assert!(matches!(
            intent.solve_code_checkpoint("123456").unwrap(),
            Solved::Connected { .. }
        ));
        assert_eq!(sim.requests().len(), 4);
    }
}

/// Solve after five minutes, 408: expired, found by the server; then a stale copy is
/// destroyed (400).
pub fn solve_408_after_five_minutes_is_expired_found_by_the_server_then_a_stale_copy_is_destroyed<
    D: Driver,
>() {
    for style in Style::ALL {
        let sim = demo_sim();
        // The client's clock does not move while the server's does: the request is sent.
        let clock = ManualClock::new();
        let client = builder::<D>(&sim, style).clock(clock.clone()).build().unwrap();
        let mut intent = pending::<D>(&client, "bob", "pw-b");
        let saved = serde_json::to_string(&intent.save()).unwrap();
        sim.advance(Duration::from_secs(301));

        let error = expect_err(intent.solve_code_checkpoint("123456"));
        let Error::IntentExpired(expired) = &error else {
            panic!("expected expired, got {error:?}");
        };
        assert_eq!(expired.detected_by, Detection::Server);
        assert_eq!(&expired.account_id, intent.account_id());
        assert!(!intent.is_pending());
        // Over: nothing more is sent through this intent.
        assert!(matches!(
            expect_err(intent.solve_code_checkpoint("123456")),
            Error::IntentExpired(_)
        ));
        assert_eq!(sim.requests().len(), 2);

        // The same intent, saved before, resumed by another client: the server now says 400
        // `errors/authentication_intent_error`, "it has destroyed itself" (a 400 typed as no
        // malformed request is).
        let other = builder::<D>(&sim, style).clock(clock.clone()).build().unwrap();
        let mut resumed = other.resume(serde_json::from_str(&saved).unwrap()).unwrap();
        let error = expect_err(resumed.solve_code_checkpoint("123456"));
        let Error::IntentDestroyed(destroyed) = &error else {
            panic!("expected destroyed, got {error:?}");
        };
        assert_eq!(destroyed.cause.status, 400);
        assert_eq!(destroyed.cause.kind, Some(ErrorType::AuthenticationIntentError));
        assert_eq!(&destroyed.account_id, intent.account_id());
        assert!(!resumed.is_pending());
        assert_eq!(sim.requests().len(), 3);
        // Over: the resumed copy sends nothing more either.
        assert!(matches!(
            expect_err(resumed.solve_code_checkpoint("123456")),
            Error::IntentDestroyed(_)
        ));
        assert_eq!(sim.requests().len(), 3);
        assert!(sim.connected_accounts().is_empty());
    }
}

/// A 400 `authentication_intent_error`: the intent destroyed itself, and nothing more is sent.
pub fn a_400_after_the_intent_ended_is_destroyed<D: Driver>() {
    // The server's 400 for an intent that destroyed itself, typed as no malformed request is.
    let fixture = erin_whose_solve_meets(
        SimFault::new()
            .force_status(400)
            .force_type("errors/authentication_intent_error"),
    );
    for style in Style::ALL {
        let (sim, mut intent, error) = erin_solves::<D>(&fixture, style);
        let Error::IntentDestroyed(destroyed) = &error else {
            panic!("expected destroyed, got {error:?}");
        };
        assert_eq!(destroyed.cause.status, 400);
        assert_eq!(&destroyed.account_id, intent.account_id());
        assert!(!intent.is_pending());
        assert!(matches!(
            expect_err(intent.resend_checkpoint()),
            Error::IntentDestroyed(_)
        ));
        assert_eq!(
            sim.requests().len(),
            2,
            "nothing sent after the intent was destroyed"
        );
    }
}

/// Solve, 500 `authentication_intent_error`: the intent is destroyed.
pub fn solve_500_authentication_intent_error_destroys_the_intent<D: Driver>() {
    let fixture = erin_whose_solve_meets(SimFault::new().force_status(500).times(1));
    for style in Style::ALL {
        let (sim, mut intent, error) = erin_solves::<D>(&fixture, style);
        let Error::IntentDestroyed(destroyed) = &error else {
            panic!("expected destroyed, got {error:?}");
        };
        assert_eq!(destroyed.cause.status, 500);
        assert_eq!(destroyed.cause.kind, Some(ErrorType::AuthenticationIntentError));
        // Over: a new solve sends nothing and says so again.
        let again = expect_err(intent.solve_code_checkpoint("123456"));
        assert!(matches!(again, Error::IntentDestroyed(_)));
        assert_eq!(sim.requests().len(), 2);
    }
}

/// A 400 `invalid_parameters` is an API error that leaves the intent alive.
pub fn a_400_malformed_request_is_an_api_error_that_leaves_the_intent_alive<D: Driver>() {
    let fixture = erin_whose_solve_meets(
        SimFault::new()
            .force_status(400)
            .force_type("errors/invalid_parameters")
            .times(1),
    );
    for style in Style::ALL {
        let (_sim, mut intent, error) = erin_solves::<D>(&fixture, style);
        let api = error.api_error().unwrap();
        assert_eq!(
            (api.status, api.kind.clone()),
            (400, Some(ErrorType::InvalidParameters))
        );
        assert!(matches!(error, Error::Api(_)));
        assert_eq!(api.problem, Problem::InvalidRequest);
        assert!(error.is_retryable_by_user(), "the user may give the code again");
        assert!(intent.is_pending());
        assert!(matches!(
            intent.solve_code_checkpoint("123456").unwrap(),
            Solved::Connected { .. }
        ));
    }
}

/// Solve, 403 `account_restricted`: the account is refused and nothing more is sent.
pub fn solve_403_account_restricted_refuses_the_account_and_nothing_more_is_sent<D: Driver>() {
    let fixture = erin_whose_solve_meets(
        SimFault::new()
            .force_status(403)
            .force_type("errors/account_restricted"),
    );
    for style in Style::ALL {
        let (sim, mut intent, error) = erin_solves::<D>(&fixture, style);
        let api = error.api_error().unwrap();
        assert_eq!(
            (api.status, api.kind.clone(), api.problem),
            (403, Some(ErrorType::AccountRestricted), Problem::AccountRefused)
        );
        assert_eq!(error.fault(), Fault::Account);
        assert!(!error.is_retryable_by_user(), "no code will help");
        assert!(!intent.is_pending());
        assert_eq!(intent.phase(), Phase::Refused);
        // Over: the refusal again, nothing sent.
        let again = expect_err(intent.solve_code_checkpoint("123456"));
        assert_eq!(
            again.api_error().map(|api| api.problem),
            Some(Problem::AccountRefused)
        );
        assert_eq!(sim.requests().len(), 2);
    }
}

/// An error answer keeps its request id in either envelope and shows it.
pub fn an_error_answer_keeps_its_request_id_in_either_envelope_and_shows_it<D: Driver>() {
    // The id a user gives support: in the body (`instance`, or the quickstart envelope's
    // `request_id`) and in the `x-request-id` header.
    for (style, envelope) in [
        (Style::Postpress, ErrorEnvelope::Endpoint),
        (Style::Unipile, ErrorEnvelope::Quickstart),
    ] {
        let sim = Simulator::builder()
            .api_key(API_KEY)
            .fixture(Fixture::demo())
            .error_envelope(envelope)
            .manual_clock()
            .start()
            .unwrap();
        let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
        let log = Arc::clone(&seen);
        let client = builder::<D>(&sim, style)
            .clock(ManualClock::new())
            .on_exchange(move |exchange| {
                let id = exchange
                    .outcome
                    .ok()
                    .and_then(|answer| answer.header("x-request-id"));
                log.lock().unwrap().push(id.map(str::to_owned));
            })
            .build()
            .unwrap();
        let mut intent = pending::<D>(&client, "bob", "pw-b");
        let error = expect_err(intent.solve_code_checkpoint("999999"));
        assert!(error.is_retryable_by_user(), "{envelope:?}: {error:?}");
        assert_eq!(
            error.api_error().unwrap().kind,
            Some(ErrorType::InvalidCheckpointSolution)
        );
        let header = seen.lock().unwrap()[1].clone().expect("an x-request-id");
        assert_eq!(error.request_id(), Some(header.as_str()), "{envelope:?}");
        assert!(
            error.to_string().ends_with(&format!("[request id: {header}]")),
            "{error}"
        );
        assert!(intent.is_pending());
    }
}

/// A `?port=` query on the base URL goes on every request.
pub fn a_port_query_on_the_base_url_goes_on_every_request<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = builder::<D>(&sim, style)
            .clock(ManualClock::new())
            .build()
            .unwrap();
        let with_port = builder::<D>(&sim, style)
            .base_url(format!("{}/?port=12345", style.base_url(&sim)))
            .clock(ManualClock::new())
            .build()
            .unwrap();
        assert_eq!(
            with_port.base_url().to_string(),
            format!("{}?port=12345", client.base_url())
        );
        let mut intent = pending::<D>(&with_port, "bob", "pw-b");
        intent.resend_checkpoint().unwrap();
        intent.solve_code_checkpoint("123456").unwrap();
        let requests = sim.requests();
        assert_eq!(requests.len(), 3);
        for request in &requests {
            assert_eq!(request.query.as_deref(), Some("port=12345"), "{request:?}");
        }
        assert_eq!(requests[0].path, style.path("/accounts"));
        assert_eq!(requests[2].path, style.path("/accounts/checkpoint"));
    }
}

/// Chained checkpoints, 2FA then OTP, share one intent.
pub fn chained_checkpoints_2fa_then_otp_share_one_intent<D: Driver>() {
    for style in Style::ALL {
        let sim = demo_sim();
        let client = client::<D>(&sim, style);
        let mut intent = pending::<D>(&client, "dave", "pw-d");
        assert_eq!(intent.checkpoint().kind(), "2FA");
        let deadline = intent.deadline();
        assert_eq!(
            intent.solve_code_checkpoint("111111").unwrap(),
            Solved::NextCheckpoint
        );
        assert_eq!(intent.checkpoint(), &Checkpoint::Otp);
        assert_eq!(intent.intent().checkpoints_solved, 1);
        assert_eq!(
            intent.deadline(),
            deadline,
            "solving one checkpoint does not extend the intent"
        );
        // The first code does not solve the second checkpoint.
        let error = expect_err(intent.solve_code_checkpoint("111111"));
        assert!(error.api_error().unwrap().is_wrong_code());
        assert!(matches!(
            intent.solve_code_checkpoint("222222").unwrap(),
            Solved::Connected { .. }
        ));
        assert_eq!(sim.requests().len(), 4);
    }
}

/// `TRY_ANOTHER_WAY` answers a new checkpoint in the same intent.
pub fn try_another_way_answers_a_new_checkpoint_in_the_same_intent<D: Driver>() {
    let fixture = Fixture::new().account(
        Account::new("erin", "pw-secret").checkpoint(
            SimCheckpoint::new("2FA", "123456")
                .source("APP")
                .another_way(SimCheckpoint::new("OTP", "999999")),
        ),
    );
    for style in Style::ALL {
        let sim = start_sim(fixture.clone());
        let client = client::<D>(&sim, style);
        let mut intent = pending::<D>(&client, "erin", "pw-secret");
        assert_eq!(intent.try_another_way().unwrap(), Solved::NextCheckpoint);
        assert_eq!(intent.checkpoint(), &Checkpoint::Otp);
        assert_eq!(
            sim.requests()[1].body_json().unwrap()["code"],
            serde_json::json!("TRY_ANOTHER_WAY")
        );
        assert!(matches!(
            intent.solve_code_checkpoint("999999").unwrap(),
            Solved::Connected { .. }
        ));
    }
}

/// Other providers and unknown checkpoint types go through the same calls.
pub fn other_providers_and_unknown_checkpoint_types_go_through_the_same_calls<D: Driver>() {
    let fixture = Fixture::new()
        .account(
            Account::new("lin", "pw-secret")
                .provider(SimProvider::Linkedin)
                .checkpoint(
                    SimCheckpoint::new("FACE_SCAN", "999999").extra("hint", serde_json::json!("smile")),
                ),
        )
        .account(Account::new("insta", "pw-secret").provider(SimProvider::Instagram));
    for style in Style::ALL {
        let sim = start_sim(fixture.clone());
        let client = client::<D>(&sim, style);
        let Connection::Pending(mut intent) = client
            .connect(Credentials::new(Provider::Linkedin, "lin", "pw-secret"))
            .unwrap()
        else {
            panic!("lin has a checkpoint");
        };
        assert_eq!(intent.checkpoint().kind(), "FACE_SCAN");
        assert_eq!(intent.intent().provider, Provider::Linkedin);
        assert!(matches!(
            intent.solve_code_checkpoint("999999").unwrap(),
            Solved::Connected { .. }
        ));
        assert_eq!(
            sim.requests()[1].body_json().unwrap()["provider"],
            serde_json::json!("LINKEDIN")
        );
        connected_id(
            client
                .connect(Credentials::new(Provider::Instagram, "insta", "pw-secret"))
                .unwrap(),
        );
        // The provider is part of the account: the wrong one is refused.
        let error = expect_err(client.connect(Credentials::new(Provider::Twitter, "insta", "pw-secret")));
        assert_eq!(error.api_error().unwrap().status, 401);
    }
}
