//! `demo`: a full 2FA connection against the simulator, started in-process, with every
//! request, answer and state of the machine shown. No network, no key, no input.
//!
//! It drives an [`auth_core::Flow`] by hand over the client's raw transport, so that each
//! step shows the three things the core separates: the request it built, the answer the
//! transport brought back, and the state it moved to.

use std::time::Instant;

use auth_core::{Command, Credentials, Event, Flow, Request, Solution};
use auth_sim::{Fixture, Simulator};
use auth_ureq::{Client, Error, UreqTransport};

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

fn walk() -> Result<(), Failure> {
    let off_script = |what: String| {
        Failure::cli(
            Exit::Failure,
            "cli/demo",
            format!("the demo went off script: {what}"),
        )
    };
    let sim = Simulator::builder()
        .api_key(DEMO_API_KEY)
        .fixture(Fixture::demo())
        .start()
        .map_err(|e| off_script(e.to_string()))?;
    let client = Client::builder()
        .base_url(sim.base_url())
        .api_key(DEMO_API_KEY)
        .build()
        .map_err(|e| off_script(e.to_string()))?;
    let mut demo = Demo {
        flow: Flow::new(client.config().clone()),
        transport: client.transport(),
        client,
        step: 0,
    };

    show("postpress-auth demo: connecting the Messenger account `bob`, which has a 2FA checkpoint, to");
    show(&format!(
        "the simulator started in this process at {} (loopback, nothing leaves this machine).",
        sim.base_url()
    ));
    show("Secrets (the password, the codes, the API key) are shown as <redacted>.");
    demo.show_state();

    let first = demo.step(
        "The user gives a username and a password: connect.",
        Command::Connect(Credentials::messenger("bob", "pw-b")),
    );
    if !matches!(first, Ok(Event::Checkpoint(_))) {
        return Err(off_script("connect did not answer with a checkpoint".to_owned()));
    }

    let wrong = demo.step(
        "The user mistypes the code: the API says so, and the intent stays pending.",
        Command::Solve(Solution::code("000000")),
    );
    if !matches!(&wrong, Err(Error::Api(api)) if api.is_wrong_code()) {
        return Err(off_script("a wrong code was not refused as such".to_owned()));
    }

    let solved = demo.step(
        "The user types the code received by SMS, within the same intent.",
        Command::Solve(Solution::code("123456")),
    );
    let Ok(Event::Connected { account_id }) = solved else {
        return Err(off_script(
            "the right code did not connect the account".to_owned(),
        ));
    };

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

/// The machine, its transport and the step counter.
struct Demo {
    flow: Flow,
    transport: UreqTransport,
    client: Client,
    step: u32,
}

impl Demo {
    /// One command: the request the machine builds, the answer, the event or error, the state.
    fn step(&mut self, title: &str, command: Command) -> Result<Event, Error> {
        self.step += 1;
        show("");
        show(&format!("── step {}: {title}", self.step));
        let request = match self.flow.begin(self.client.now(), command) {
            Ok(request) => request,
            Err(error) => {
                show(&format!("   refused   {}", output::redact(&error.to_string())));
                return Err(error);
            }
        };
        self.show_request(&request);
        let started = Instant::now();
        let result = match self.transport.execute(&request) {
            Ok(answer) => {
                show(&format!(
                    "   answer    {} after {} ms",
                    answer.status,
                    started.elapsed().as_millis()
                ));
                show(&format!("             body {}", shown_body(&answer.body)));
                self.flow.handle_answer(self.client.now(), &answer)
            }
            Err(failure) => {
                show(&format!("   no answer {}", output::redact(&failure.to_string())));
                Err(self.flow.handle_transport_error(self.client.now(), failure))
            }
        };
        match &result {
            Ok(event) => show(&format!("   event     {}", describe(event))),
            Err(error) => show(&format!("   error     {}", output::redact(&error.to_string()))),
        }
        self.show_state();
        result
    }

    fn show_request(&self, request: &Request) {
        show(&format!(
            "   request   {} {}{}",
            request.method,
            self.client.base_url(),
            request.path
        ));
        // A header's `Debug` is `name: value`, with a sensitive value redacted.
        let headers: Vec<String> = request
            .headers
            .iter()
            .map(|header| format!("{header:?}"))
            .collect();
        show(&format!("             headers {}", headers.join(", ")));
        show(&format!("             body {}", request.body.redacted()));
        show(&format!(
            "             time budget {:.1} s",
            request.timeout.as_secs_f64()
        ));
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

fn describe(event: &Event) -> String {
    match event {
        Event::Connected { account_id } => format!("Connected (account {account_id})"),
        Event::Reconnected { account_id } => format!("Reconnected (account {account_id})"),
        Event::Checkpoint(intent) => format!(
            "Checkpoint {}: {}; the five-minute intent starts",
            intent.checkpoint,
            intent.checkpoint.instructions()
        ),
        Event::CheckpointResent(intent) => format!("CheckpointResent ({})", intent.checkpoint),
        other => format!("{other:?}"),
    }
}

/// An answer's body as shown: JSON with any `password` or `code` field redacted.
fn shown_body(body: &[u8]) -> String {
    output::redact(&auth_core::redacted_json(body))
}

fn show(line: &str) {
    output::stdout_line(line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_bodies_are_shown_without_secret_fields() {
        let body = br#"{"object":"X","nested":[{"code":"123456"}],"password":"pw"}"#;
        let shown = shown_body(body);
        assert!(!shown.contains("123456") && !shown.contains("\"pw\""), "{shown}");
        assert_eq!(shown_body(b"<html>"), "<6 bytes>");
    }
}
