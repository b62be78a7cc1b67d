//! Arbitrary answers in every state that waits for one: no bytes a server can send make
//! the machine panic, every move it makes is in the table, and neither the API key nor the
//! secret of the request in flight (its password or code) reaches an error's text or an
//! event, even when the server echoes it back in its text. (A secret of an earlier request is
//! no longer held by the machine, so it cannot be recognised; and an `account_id` is the
//! server's identifier, kept verbatim, so the generator does not put secrets there: see
//! docs/security.md.)
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use auth_core::strategies::{answer, hostile_answer};
use auth_core::{Answer, Command, Event, Output, Phase, Solution, rule_for};
use proptest::prelude::*;
use serde_json::Value;
use support::*;

const CODE: &str = "code-55443322";

/// A harness waiting for the answer to one of each kind of request, and the secrets that
/// request carried.
fn in_flight(which: u8) -> (Harness, &'static [&'static str]) {
    match which % 5 {
        0 => {
            let mut harness = Harness::new(config());
            sent(harness.command(0, connect_messenger()));
            (harness, &[API_KEY, PASSWORD])
        }
        1 => {
            let (mut harness, _) = pending(0);
            sent(harness.command(1_000, solve(CODE)));
            (harness, &[API_KEY, CODE])
        }
        2 => {
            let (mut harness, _) = pending(0);
            sent(harness.command(1_000, Command::Solve(Solution::InAppValidation)));
            (harness, &[API_KEY])
        }
        3 => {
            let (mut harness, _) = pending(0);
            sent(harness.command(1_000, Command::Resend));
            (harness, &[API_KEY])
        }
        _ => {
            let mut harness = Harness::new(config());
            sent(harness.command(0, Command::AccountStatus("acc-1".into())));
            (harness, &[API_KEY])
        }
    }
}

/// JSON close to the contract's: its keys and names, the secrets, and noise.
fn json() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        Just("AccountCreated".to_owned()),
        Just("AccountReconnected".to_owned()),
        Just("Checkpoint".to_owned()),
        Just("CheckpointResend".to_owned()),
        Just("2FA".to_owned()),
        Just("CONTRACT_CHOOSER".to_owned()),
        Just("errors/invalid_checkpoint_solution".to_owned()),
        Just("errors/authentication_intent_error".to_owned()),
        Just(format!("echo {PASSWORD} {CODE} {API_KEY}")),
        Just(PASSWORD.to_owned()),
        Just(CODE.to_owned()),
        ".{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text.clone().prop_map(Value::String),
    ];
    let key = prop_oneof![
        Just("object".to_owned()),
        Just("account_id".to_owned()),
        Just("checkpoint".to_owned()),
        Just("type".to_owned()),
        Just("source".to_owned()),
        Just("contract_options".to_owned()),
        Just("title".to_owned()),
        Just("detail".to_owned()),
        Just("status".to_owned()),
        ".{0,6}",
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Replaces every `account_id` value: identifiers are the server's, not echoed secrets.
fn without_secret_ids(mut value: Value) -> Value {
    match &mut value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                *item = if key == "account_id" && item.is_string() {
                    Value::String("acc-from-server".to_owned())
                } else {
                    without_secret_ids(item.take())
                };
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| *item = without_secret_ids(item.take())),
        _ => {}
    }
    value
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let json = || json().prop_map(without_secret_ids);
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        json().prop_map(|value| value.to_string().into_bytes()),
        json().prop_map(|value| {
            // A valid prefix cut anywhere: truncated JSON.
            let text = value.to_string().into_bytes();
            let cut = text.len() / 2;
            text[..cut].to_vec()
        }),
    ]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        any::<u16>(),
        prop_oneof![
            Just(200u16),
            Just(201),
            Just(202),
            Just(400),
            Just(401),
            Just(408),
            Just(500),
            Just(503)
        ],
    ]
}

/// An answer of the contract's rows, a hostile one, or JSON close to the contract's.
fn any_answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        3 => answer(),
        2 => hostile_answer(format!("echo {PASSWORD} {CODE} {API_KEY}")),
        3 => (status(), body()).prop_map(|(status, body)| Answer::new(status, body)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4_096, ..ProptestConfig::default() })]

    #[test]
    fn any_answer_in_any_waiting_state_is_handled_without_panic_or_leak(
        which in any::<u8>(),
        answer in any_answer(),
        late in any::<bool>(),
    ) {
        let (mut harness, secrets) = in_flight(which);
        let before = harness.flow.phase();
        let now = if late { 400_000 } else { 2_000 };
        let success = matches!(answer.status, 200..=299)
            && serde_json::from_slice::<Value>(&answer.body).is_ok_and(|v| v["object"] == "AccountCreated" && v["account_id"].as_str().is_some_and(|id| !id.is_empty()));
        let output = harness.answer(now, answer);
        let after = harness.flow.phase();
        let rule = rule_for(before, auth_core::InputKind::Answer).unwrap();
        prop_assert!(rule.to.contains(&after), "{before:?} -> {after:?} is not in the table");
        let text = match &output {
            Output::Event(event) => format!("{event:?}"),
            Output::Error(error) => format!("{error} {error:?}"),
            Output::Retry(retry) => format!("{} {:?}", retry.cause, retry.cause),
            other => format!("{other:?}"),
        };
        for secret in secrets {
            prop_assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        // The server's word over the local clock: a success connects, even late.
        if success && matches!(before, Phase::Connecting | Phase::Solving) {
            prop_assert_eq!(after, Phase::Connected);
            let connected = matches!(output, Output::Event(Event::Connected { .. } | Event::Reconnected { .. }));
            prop_assert!(connected);
        }
    }
}
