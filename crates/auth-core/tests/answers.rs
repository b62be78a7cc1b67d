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

use auth_core::{Answer, Command, Config, Flow, Phase, Solution, TRANSITIONS};
use proptest::prelude::*;
use serde_json::Value;
use support::*;

const CODE: &str = "code-55443322";

/// A flow waiting for the answer to one of each kind of request, and the secrets that
/// request carried.
fn in_flight(which: u8) -> (Flow, &'static [&'static str]) {
    match which % 4 {
        0 => {
            let mut flow = Flow::new(Config::new(API_KEY));
            flow.begin(at(0), connect_messenger()).unwrap();
            (flow, &[API_KEY, PASSWORD])
        }
        1 => {
            let (mut flow, _) = pending_flow(0);
            flow.begin(at(1_000), solve(CODE)).unwrap();
            (flow, &[API_KEY, CODE])
        }
        2 => {
            let (mut flow, _) = pending_flow(0);
            flow.begin(at(1_000), Command::Solve(Solution::InAppValidation))
                .unwrap();
            (flow, &[API_KEY])
        }
        _ => {
            let (mut flow, _) = pending_flow(0);
            flow.begin(at(1_000), Command::Resend).unwrap();
            (flow, &[API_KEY])
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 4_096, ..ProptestConfig::default() })]

    #[test]
    fn any_answer_in_any_waiting_state_is_handled_without_panic_or_leak(
        which in any::<u8>(),
        status in status(),
        body in body(),
        late in any::<bool>(),
    ) {
        let (mut flow, secrets) = in_flight(which);
        let before = flow.phase();
        let now = if late { at(400_000) } else { at(2_000) };
        let result = flow.handle_answer(now, &Answer::new(status, body));
        let after = flow.phase();
        prop_assert!(
            TRANSITIONS.iter().any(|t| t.from == before && t.to == after),
            "{before:?} -> {after:?} is not in the table"
        );
        let text = match &result {
            Ok(event) => format!("{event:?}"),
            Err(error) => format!("{error} {error:?}"),
        };
        for secret in secrets {
            prop_assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        if after == Phase::Connected {
            prop_assert!(!late, "connected by an answer after the deadline");
        }
    }
}
