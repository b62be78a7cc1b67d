//! Secret hygiene, with random secrets: no password, code or API key appears in the
//! `Debug` or `Display` of any public type, in any error's text, or in the saved state,
//! along whole flows whose server echoes the secret of each request back in its answers.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use auth_core::{
    Answer, Command, Config, Credentials, Error, Event, Flow, Request, Solution, TransportError,
    TransportErrorKind, UnixMillis,
};
use proptest::prelude::*;

/// A secret: printable ASCII including JSON's special characters, long enough not to
/// occur in our own text by chance.
fn secret() -> impl Strategy<Value = String> {
    "[ -~]{8,24}"
}

/// An answer that echoes `echo` in every free-text place of the contract's error shape,
/// or in a body that is not JSON at all.
fn echoing(status: u16, kind: &str, echo: &str, json: bool) -> Answer {
    if json {
        let body = serde_json::json!({"status": status, "type": kind, "title": echo, "detail": format!("got {echo}"), "instance": echo});
        Answer::new(status, body.to_string())
    } else {
        Answer::new(status, format!("<html>{echo}</html>"))
    }
}

fn texts_of_result<T: std::fmt::Debug>(result: &Result<T, Error>) -> String {
    match result {
        Ok(value) => format!("{value:?}"),
        Err(error) => format!("{error} | {error:?} | {:?}", error.api_error()),
    }
}

fn request_text(request: &Request) -> String {
    format!("{request:?} {}", request.body.redacted())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_secret_in_any_output_of_a_whole_flow(
        api_key in secret(),
        password in secret(),
        code in secret(),
        json_errors in any::<bool>(),
    ) {
        let mut printed = Vec::new();
        let config = Config::new(api_key.as_str());
        printed.push(format!("{config:?}"));
        let credentials = Credentials::messenger("bob", password.as_str());
        printed.push(format!("{credentials:?}"));
        let solution = Solution::code(code.as_str());
        printed.push(format!("{solution:?}"));
        let mut flow = Flow::new(config);
        let at = UnixMillis::from_millis;

        // Wrong credentials, echoing the password.
        let request = flow.begin(at(0), Command::Connect(credentials.clone())).unwrap();
        printed.push(request_text(&request));
        let answer = echoing(401, "errors/invalid_credentials", &password, json_errors);
        printed.push(texts_of_result(&flow.handle_answer(at(1), &answer)));

        // A checkpoint, then a wrong code echoing the code and a 5xx echoing the key.
        flow.begin(at(2), Command::Connect(credentials.clone())).unwrap();
        let checkpoint = Answer::new(202, r#"{"object":"Checkpoint","account_id":"a1","checkpoint":{"type":"2FA"}}"#);
        printed.push(texts_of_result(&flow.handle_answer(at(3), &checkpoint)));
        let request = flow.begin(at(4), Command::Solve(solution.clone())).unwrap();
        printed.push(request_text(&request));
        let answer = echoing(401, "errors/invalid_checkpoint_solution", &code, json_errors);
        printed.push(texts_of_result(&flow.handle_answer(at(5), &answer)));
        flow.begin(at(6), Command::Solve(solution.clone())).unwrap();
        let answer = echoing(503, "errors/unavailable", &api_key, json_errors);
        printed.push(texts_of_result(&flow.handle_answer(at(7), &answer)));
        // A malformed success echoing the code, and a transport failure.
        flow.begin(at(8), Command::Solve(solution.clone())).unwrap();
        printed.push(texts_of_result(&flow.handle_answer(at(9), &Answer::new(200, code.clone()))));
        flow.begin(at(10), Command::Solve(solution.clone())).unwrap();
        let failure = TransportError::new(TransportErrorKind::Timeout, "timed out");
        printed.push(format!("{}", flow.handle_transport_error(at(11), failure)));
        printed.push(format!("{flow:?}"));
        printed.push(serde_json::to_string(&flow.snapshot()).unwrap());

        // The intent destroyed, echoing the code; then expired.
        flow.begin(at(12), Command::Solve(solution.clone())).unwrap();
        let answer = echoing(500, "errors/authentication_intent_error", &code, json_errors);
        printed.push(texts_of_result(&flow.handle_answer(at(13), &answer)));
        printed.push(texts_of_result(&flow.begin(at(14), Command::Solve(solution))));
        printed.push(format!("{flow:?}"));
        printed.push(serde_json::to_string(&flow.snapshot()).unwrap());
        let _: Option<Event> = None;

        let all = printed.join("\n");
        for secret in [&api_key, &password, &code] {
            prop_assert!(!all.contains(secret.as_str()), "{secret:?} leaked in:\n{all}");
        }
    }
}
