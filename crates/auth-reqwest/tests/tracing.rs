//! Tracing without secrets: a subscriber that records everything it receives (every span
//! with its fields and later records, every event with its fields and message, at every
//! level, from every target) watches whole flows made with random secrets (API key,
//! passwords, codes), including a wrong code, a resend, a retried 503, an in-app approval,
//! a failed connection and an account status; none of the secrets appears, while what a
//! reader needs (calls, account ids, checkpoint types, statuses, retries, the URL of a
//! failed connection) does.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_reqwest::{Client, Connection, RetryPolicy, Solved, new_idempotency_key};
use auth_sim::{Account, Checkpoint as SimCheckpoint, Fault as SimFault, FaultTarget, Fixture, Simulator};
use support::{Style, wait_until};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Everything a subscriber received, as text: one line per span, record and event.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<String>>);

impl Captured {
    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }

    fn push(&self, line: String) {
        let mut text = self.0.lock().unwrap();
        text.push_str(&line);
        text.push('\n');
    }
}

/// A span's or an event's place: level, target, name.
fn place(metadata: &tracing::Metadata<'_>) -> String {
    format!("{} {} {}", metadata.level(), metadata.target(), metadata.name())
}

/// Writes every field, whatever its type, by its `Debug` (which is what `record_str`,
/// `record_u64`… fall back to).
struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let _ = write!(self.0, " {}={value} ({value:?})", field.name());
    }
}

impl<S: Subscriber> Layer<S> for Captured {
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = Fields(String::new());
        attributes.record(&mut fields);
        self.push(format!(
            "span {id:?} {}:{}",
            place(attributes.metadata()),
            fields.0
        ));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut fields = Fields(String::new());
        values.record(&mut fields);
        self.push(format!("record {id:?}:{}", fields.0));
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.push(format!("event {}:{}", place(event.metadata()), fields.0));
    }
}

/// A random secret of `len` hex digits, different on every run.
fn random_secret(prefix: &str) -> String {
    let key = new_idempotency_key().unwrap();
    format!("{prefix}{}", key.as_str().replace('-', ""))
}

#[tokio::test(flavor = "current_thread")]
async fn a_whole_flow_traces_every_step_and_no_secret() {
    let api_key = random_secret("sk-");
    let password = random_secret("pw-");
    let code = random_secret("").get(..8).unwrap().to_owned();
    let wrong_code = random_secret("").get(..8).unwrap().to_owned();
    let in_app_password = random_secret("pw-");
    let secrets = [&api_key, &password, &code, &wrong_code, &in_app_password];

    let checkpoint = SimCheckpoint::new("2FA", code.clone())
        .fault(SimFault::new().force_status(503).on(FaultTarget::Solve).times(1));
    let sim = Simulator::builder()
        .api_key(api_key.clone())
        .fixture(
            Fixture::new()
                .account(Account::new("tracy", password.clone()).checkpoint(checkpoint))
                .account(
                    Account::new("ines", in_app_password.clone())
                        .checkpoint(SimCheckpoint::in_app("2FA", Duration::from_millis(10))),
                ),
        )
        .manual_clock()
        .start()
        .unwrap();
    let client = Client::builder()
        .base_url(Style::Unipile.base_url(&sim))
        .api_key(api_key.clone())
        .clock(support::ManualClock::new())
        .build()
        .unwrap();

    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(captured.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    // A checkpoint, a wrong code, a resend, a 503 retried, the right code.
    let Connection::Pending(mut intent) = client.connect_messenger("tracy", password.clone()).await.unwrap()
    else {
        panic!("expected a checkpoint");
    };
    let account_id = intent.account_id().as_str().to_owned();
    assert!(intent.solve_code_checkpoint(wrong_code.clone()).await.is_err());
    intent.resend_checkpoint().await.unwrap();
    assert!(matches!(
        intent.solve_code_checkpoint(code.clone()).await.unwrap(),
        Solved::Connected { .. }
    ));
    client.account_status(account_id.clone()).await.unwrap();

    // An in-app approval.
    let Connection::Pending(mut in_app) = client
        .connect_messenger("ines", in_app_password.clone())
        .await
        .unwrap()
    else {
        panic!("expected a checkpoint");
    };
    let solving = async { in_app.solve_in_app().await };
    let approve = async {
        wait_until("the in-app solve held", || sim.held_requests() == 1).await;
        sim.advance(Duration::from_millis(10));
    };
    let (solved, ()) = tokio::join!(solving, approve);
    assert!(matches!(solved.unwrap(), Solved::Connected { .. }));

    // A connection nobody answers, once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .api_key(api_key.clone())
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    assert!(
        nowhere
            .connect_messenger("tracy", password.clone())
            .await
            .is_err()
    );

    let text = captured.text();
    // What a reader needs is there…
    for expected in [
        "command=connect",
        "command=solve ",
        "command=resend",
        "command=solve_in_app",
        "command=account_status",
        "provider=MESSENGER",
        &format!("account_id={account_id}"),
        "checkpoint=2FA",
        "status=401",
        "status=503",
        "status=201",
        "retrying",
        "request_id=",
        "no answer from the server",
        &format!("url=http://127.0.0.1:{port}/v1/accounts"),
        "DEBUG",
        "INFO",
        "WARN",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    // …and no secret, anywhere.
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret ({} chars) leaked into:\n{text}",
            secret.len()
        );
    }
    // Nor the start of one (a truncated value would still leak it).
    assert!(!text.contains(api_key.get(..12).unwrap()));
}
