//! `demo`: a full 2FA connection against the simulator, started in-process, with every
//! request, answer, event and phase of the machine shown. No network, no key, no input.
//!
//! It runs each command through the shared driver loop, [`auth_core::drive`], over the
//! client's transport and clock, as the client itself does: the client's observer prints
//! each attempt of each request and its answer, and after each command the demo prints the
//! event (or error) it led to and the phase the machine is in. The simulator loses the
//! answer to the first connect, so the core's retry (the same request, the same
//! `Idempotency-Key`) shows too.

use auth_core::{Command, Credentials, Error, Event, Flow, Solution};
use auth_sim::{Account, Checkpoint, Fault, Fixture, Simulator};
use auth_ureq::{BaseUrl, Client, Exchange, UreqTransport};

use crate::outcome::{Exit, Failure, Outcome};
use crate::output;
use crate::time_text;

/// The simulator's own API key: it exists only inside this process and is never shown.
const DEMO_API_KEY: &str = "demo-only-key";

/// Runs the demo; exit 0 when the account ends up connected.
pub(crate) fn run() -> Outcome {
    match walk() {
        Ok(()) => Outcome::DemoDone,
        Err(failure) => failure.into(),
    }
}

fn off_script(what: impl std::fmt::Display) -> Failure {
    Failure::cli(
        Exit::Failure,
        "cli/demo",
        format!("the demo went off script: {what}"),
    )
}

fn walk() -> Result<(), Failure> {
    // bob: a 2FA code sent by SMS; the answer to his first connect is lost on the way back.
    let fixture = Fixture::new().account(
        Account::new("bob", "pw-b")
            .fault(Fault::new().lose_answer().times(1))
            .checkpoint(Checkpoint::new("2FA", "123456").source("SMS")),
    );
    let sim = Simulator::builder()
        .api_key(DEMO_API_KEY)
        .fixture(fixture)
        .start()
        .map_err(off_script)?;
    let base_url = BaseUrl::parse(&sim.base_url()).map_err(off_script)?;
    let shown_url = base_url.clone();
    let client = Client::builder()
        .base_url(sim.base_url())
        .api_key(DEMO_API_KEY)
        .on_exchange(move |exchange| show_exchange(&shown_url, exchange))
        .build()
        .map_err(off_script)?;
    let mut demo = Demo {
        flow: Flow::new(client.config().clone()),
        transport: client.transport(),
        client,
        step: 0,
    };

    show("postpress-auth demo: connecting the Messenger account `bob`, which has a 2FA checkpoint, to");
    show(&format!(
        "the simulator started in this process at {base_url} (loopback, nothing leaves this machine)."
    ));
    show("Secrets (the password, the codes, the API key) are shown as <redacted>.");
    demo.show_state();

    let first = demo.run(
        "The user gives a username and a password: connect. The network loses the server's first \
         answer; the core sends the same request again, with the same Idempotency-Key.",
        Command::Connect(Credentials::messenger("bob", "pw-b")),
    )?;
    if !matches!(first, Ok(Event::Checkpoint(_))) {
        return Err(off_script("connect did not answer with a checkpoint"));
    }
    if sim.pending_intents() != 1 {
        return Err(off_script("the lost answer started a second intent"));
    }

    let wrong = demo.run(
        "The user mistypes the code: the API says so, and the intent stays pending.",
        Command::Solve(Solution::code("000000")),
    )?;
    if !matches!(&wrong, Err(error) if error.api_error().is_some_and(|api| api.is_wrong_code())) {
        return Err(off_script("a wrong code was not refused as such"));
    }

    let solved = demo.run(
        "The user types the code received by SMS, within the same intent.",
        Command::Solve(Solution::code("123456")),
    )?;
    let Ok(Event::Connected { account_id, .. }) = solved else {
        return Err(off_script("the right code did not connect the account"));
    };

    let status = demo.run(
        "Connected: the account may still be starting. Its status, from GET /accounts/{id}.",
        Command::AccountStatus(account_id.clone()),
    )?;
    if !matches!(status, Ok(Event::AccountStatus(_))) {
        return Err(off_script("the account's status could not be read"));
    }

    show("");
    show(&format!(
        "Connected: account {account_id}. The simulator received {} requests on {} connection(s) \
         and now lists {} connected account(s).",
        sim.requests().len(),
        sim.connections_accepted(),
        sim.connected_accounts().len()
    ));
    show("Try it for real: postpress-auth connect --username USER (with POSTPRESS_API_KEY set).");
    Ok(())
}

/// The machine, the client's transport and the step counter.
struct Demo {
    flow: Flow,
    transport: UreqTransport,
    client: Client,
    step: u32,
}

impl Demo {
    /// One command through the shared loop; the observer shows each attempt as it goes, then
    /// the event or error, and the state. An error of the command is the step's result; only
    /// a missing source of randomness fails the demo.
    fn run(&mut self, title: &str, command: Command) -> Result<Result<Event, Error>, Failure> {
        self.step += 1;
        show("");
        show(&format!("── step {}: {title}", self.step));
        let key = auth_ureq::new_idempotency_key().map_err(off_script)?;
        let result = auth_core::drive(
            &mut self.flow,
            &mut self.transport,
            self.client.clock(),
            command,
            key,
        );
        match &result {
            Ok(event) => show(&format!("   event     {}", describe(event))),
            Err(error) => show(&format!("   error     {error}")),
        }
        self.show_state();
        Ok(result)
    }

    fn show_state(&self) {
        let phase = self.flow.phase();
        match self.flow.intent() {
            Some(intent) => show(&format!(
                "   state     {phase:?}: checkpoint {} of account {}, intent ends at {} ({} left), \
                 {} wrong code(s), {} checkpoint(s) solved",
                intent.checkpoint,
                intent.account_id,
                time_text::rfc3339(intent.deadline),
                time_text::time_left(intent.remaining(self.client.now())),
                intent.failed_attempts,
                intent.checkpoints_solved
            )),
            None => show(&format!("   state     {phase:?}")),
        }
    }
}

/// The client's observer: one attempt of a request, and its answer or why there was none.
fn show_exchange(base_url: &BaseUrl, exchange: &Exchange<'_>) {
    let request = exchange.request;
    show(&format!(
        "   request   {} {} (attempt {})",
        request.method,
        base_url.url_for(&request.path),
        request.attempt
    ));
    // A header's `Debug` is `name: value`, with a sensitive value redacted.
    let headers: Vec<String> = request.headers().map(|header| format!("{header:?}")).collect();
    show(&format!("             headers {}", headers.join(", ")));
    if !request.body.is_empty() {
        show(&format!("             body {}", request.body.redacted()));
    }
    show(&format!(
        "             time budget {:.1} s",
        request.timeout.as_secs_f64()
    ));
    match exchange.outcome {
        Ok(answer) => {
            let replayed = match answer.header("idempotent-replayed") {
                Some("true") => ", replayed by the server for its Idempotency-Key",
                _ => "",
            };
            show(&format!(
                "   answer    {} after {} ms{replayed}",
                answer.status,
                exchange.elapsed.as_millis()
            ));
            show(&format!(
                "             body {}",
                auth_core::redacted_json(&answer.body)
            ));
        }
        Err(failure) => show(&format!(
            "   no answer {failure}: the server may have acted on it; the core decides whether to send it again"
        )),
    }
}

fn describe(event: &Event) -> String {
    let late = |after_deadline: bool| {
        if after_deadline {
            ", after the local deadline"
        } else {
            ""
        }
    };
    match event {
        Event::Connected {
            account_id,
            after_deadline,
        } => format!("Connected (account {account_id}{})", late(*after_deadline)),
        Event::Reconnected {
            account_id,
            after_deadline,
        } => format!("Reconnected (account {account_id}{})", late(*after_deadline)),
        Event::Checkpoint(intent) => format!(
            "Checkpoint {}: {}; the five-minute intent starts",
            intent.checkpoint,
            intent.checkpoint.instructions()
        ),
        Event::CheckpointResent(intent) => format!("CheckpointResent ({})", intent.checkpoint),
        Event::AccountStatus(account) => format!(
            "AccountStatus: account {} is {}",
            account.account_id,
            account.status()
        ),
        other => format!("{other:?}"),
    }
}

fn show(line: &str) {
    output::stdout_line(line);
}
