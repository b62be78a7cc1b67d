//! Secret hygiene, with random secrets: no password, proxy password, code or API key
//! appears in the `Debug` of any public type, in any error's text, or in the saved state,
//! along whole flows whose server echoes the secret of each request back in its answers, in
//! either error envelope or in bodies that are not JSON.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use auth_core::{
    Answer, AuthScheme, Command, Config, ConnectOptions, Credentials, Flow, IdempotencyKey, Input, Output,
    Proxy, RetryPolicy, Solution, TransportError, TransportErrorKind, UnixMillis,
};
use proptest::prelude::*;

/// A secret: printable ASCII including JSON's special characters, long enough not to
/// occur in our own text by chance.
fn secret() -> impl Strategy<Value = String> {
    "[ -~]{8,24}"
}

/// An answer that echoes `echo` in every free-text place of an error envelope, or in a body
/// that is not JSON at all.
fn echoing(status: u16, kind: &str, echo: &str, shape: u8) -> Answer {
    match shape % 3 {
        0 => {
            let body = serde_json::json!({"status": status, "type": kind, "title": echo, "detail": format!("got {echo}"), "instance": echo});
            Answer::new(status, body.to_string())
        }
        1 => {
            let body = serde_json::json!({"error": {"code": kind.trim_start_matches("errors/"), "message": echo, "request_id": echo}});
            Answer::new(status, body.to_string()).with_header("x-request-id", echo)
        }
        _ => Answer::new(status, format!("<html>{echo}</html>")).with_header("x-request-id", echo),
    }
}

/// Everything an output shows a person or a log.
fn shown(output: &Output) -> String {
    match output {
        Output::Send(request) => format!("{request:?} {}", request.body.redacted()),
        Output::Retry(retry) => format!("{} | {:?}", retry.cause, retry.cause),
        Output::Wait(until) => format!("{until:?}"),
        Output::Event(event) => format!("{event:?}"),
        Output::Error(error) => format!("{error} | {error:?} | {:?}", error.api_error()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_secret_in_any_output_of_a_whole_flow(
        api_key in secret(),
        password in secret(),
        proxy_password in secret(),
        code in secret(),
        shape in any::<u8>(),
        bearer in any::<bool>(),
    ) {
        let mut printed = Vec::new();
        let scheme = if bearer { AuthScheme::Bearer } else { AuthScheme::ApiKeyHeader };
        let config = Config::new(api_key.as_str()).with_auth_scheme(scheme).with_retry_policy(RetryPolicy::never());
        printed.push(format!("{config:?}"));
        let credentials = Credentials::messenger("bob", password.as_str())
            .with_options(ConnectOptions::new().proxy(Proxy::new("proxy", 8080).auth("u", proxy_password.as_str())));
        printed.push(format!("{credentials:?}"));
        let solution = Solution::code(code.as_str());
        printed.push(format!("{solution:?}"));
        let mut flow = Flow::new(config);
        let mut n = 0u8;
        let step = |flow: &mut Flow, at: u64, input: Input| {
            let output = flow.handle(UnixMillis::from_millis(at), input);
            shown(&output)
        };
        let mut command = |command: Command| {
            n = n.wrapping_add(1);
            Input::command(command, IdempotencyKey::from_random_bytes([n; 16]))
        };

        // Wrong credentials, echoing the password and the proxy's.
        printed.push(step(&mut flow, 0, command(Command::Connect(credentials.clone()))));
        let answer = echoing(401, "errors/invalid_credentials", &format!("{password} {proxy_password}"), shape);
        printed.push(step(&mut flow, 1, Input::Answer(answer)));

        // A checkpoint, then a wrong code echoing the code and a 5xx echoing the key.
        printed.push(step(&mut flow, 2, command(Command::Connect(credentials.clone()))));
        let checkpoint = Answer::new(202, r#"{"object":"Checkpoint","account_id":"a1","checkpoint":{"type":"2FA"}}"#);
        printed.push(step(&mut flow, 3, Input::Answer(checkpoint)));
        printed.push(step(&mut flow, 4, command(Command::Solve(solution.clone()))));
        printed.push(step(&mut flow, 5, Input::Answer(echoing(401, "errors/invalid_checkpoint_solution", &code, shape))));
        printed.push(step(&mut flow, 6, command(Command::Solve(solution.clone()))));
        printed.push(step(&mut flow, 7, Input::Answer(echoing(503, "errors/unavailable", &api_key, shape))));
        // A malformed success echoing the code, and a transport failure.
        printed.push(step(&mut flow, 8, command(Command::Solve(solution.clone()))));
        printed.push(step(&mut flow, 9, Input::Answer(Answer::new(200, code.clone()))));
        printed.push(step(&mut flow, 10, command(Command::Solve(solution.clone()))));
        let failure = TransportError::new(TransportErrorKind::Timeout, "timed out");
        printed.push(step(&mut flow, 11, Input::Failed(failure)));
        printed.push(format!("{flow:?}"));
        printed.push(serde_json::to_string(&flow.snapshot()).unwrap());

        // The intent destroyed, echoing the code; then the same error again.
        printed.push(step(&mut flow, 12, command(Command::Solve(solution.clone()))));
        printed.push(step(&mut flow, 13, Input::Answer(echoing(500, "errors/authentication_intent_error", &code, shape))));
        printed.push(step(&mut flow, 14, command(Command::Solve(solution))));
        printed.push(format!("{flow:?}"));
        printed.push(serde_json::to_string(&flow.snapshot()).unwrap());

        let all = printed.join("\n");
        for secret in [&api_key, &password, &proxy_password, &code] {
            prop_assert!(!all.contains(secret.as_str()), "{secret:?} leaked in:\n{all}");
        }
    }
}
