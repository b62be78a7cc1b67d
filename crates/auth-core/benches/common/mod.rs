//! The two sides every benchmark of the core compares: one complete 2FA flow (connect
//! request built, 202 read, solve request built, 201 read) through the machine, and the
//! bare serde_json work on the same bodies with the typed structs a hand-written client
//! would use.

use std::hint::black_box;

use auth_core::{Answer, Command, Config, Credentials, Flow, Solution, UnixMillis};
use serde::{Deserialize, Serialize};

pub(crate) const CHECKPOINT: &[u8] =
    br#"{"object":"Checkpoint","account_id":"098dez89d","checkpoint":{"type":"2FA"}}"#;
pub(crate) const CREATED: &[u8] = br#"{"object":"AccountCreated","account_id":"098dez89d"}"#;

#[derive(Serialize)]
struct ConnectBody<'a> {
    provider: &'a str,
    username: &'a str,
    password: &'a str,
}

#[derive(Serialize)]
struct SolveBody<'a> {
    provider: &'a str,
    account_id: &'a str,
    code: &'a str,
}

#[derive(Deserialize)]
struct Checkpoint {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Reply {
    object: String,
    account_id: String,
    checkpoint: Option<Checkpoint>,
}

/// The bare serde_json work of one flow.
pub(crate) fn baseline() -> String {
    let connect = ConnectBody {
        provider: "MESSENGER",
        username: "bob",
        password: "pw-b",
    };
    black_box(serde_json::to_vec(&connect).unwrap());
    let checkpoint: Reply = serde_json::from_slice(CHECKPOINT).unwrap();
    assert_eq!(checkpoint.object, "Checkpoint");
    assert_eq!(checkpoint.checkpoint.map(|c| c.kind).as_deref(), Some("2FA"));
    let solve = SolveBody {
        provider: "MESSENGER",
        account_id: &checkpoint.account_id,
        code: "123456",
    };
    black_box(serde_json::to_vec(&solve).unwrap());
    let created: Reply = serde_json::from_slice(CREATED).unwrap();
    assert_eq!(created.object, "AccountCreated");
    created.account_id
}

/// The answers a transport hands over, built once: the baseline reads the same bytes in place.
pub(crate) struct Answers {
    checkpoint: Answer,
    created: Answer,
}

impl Answers {
    pub(crate) fn new() -> Self {
        Self {
            checkpoint: Answer::new(202, CHECKPOINT),
            created: Answer::new(201, CREATED),
        }
    }
}

/// The same flow through the machine.
pub(crate) fn machine(config: &Config, answers: &Answers) -> Flow {
    let mut flow = Flow::new(config.clone());
    let at = UnixMillis::from_millis;
    let credentials = Credentials::messenger("bob", "pw-b");
    black_box(flow.begin(at(1_000), Command::Connect(credentials)).unwrap());
    black_box(flow.handle_answer(at(1_200), &answers.checkpoint).unwrap());
    black_box(
        flow.begin(at(5_000), Command::Solve(Solution::code("123456")))
            .unwrap(),
    );
    black_box(flow.handle_answer(at(5_200), &answers.created).unwrap());
    flow
}
