//! The two sides every benchmark of the core compares: one complete 2FA flow (connect
//! request built, 202 read, solve request built, 201 read) through the machine, and the
//! work a hand-written client following the docs would do: the same bodies with typed
//! serde_json structs, and the same headers (`accept`, `content-type`, `X-API-KEY`, and an
//! `Idempotency-Key` written from 16 random bytes) for each request.

use std::hint::black_box;

use auth_core::{
    AccountId, Answer, Command, Config, Credentials, Flow, IdempotencyKey, Input, Output, Solution,
    UnixMillis,
};
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

/// The random bytes of each request's key (the same on both sides: a driver's entropy).
pub(crate) const ENTROPY: [u8; 16] = [0x5a; 16];

/// A UUID v4 written from 16 bytes, as a hand-written client would.
fn uuid(bytes: [u8; 16]) -> String {
    let mut text = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        let byte = match index {
            6 => (byte & 0x0f) | 0x40,
            8 => (byte & 0x3f) | 0x80,
            _ => *byte,
        };
        text.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        text.push(char::from(b"0123456789abcdef"[usize::from(byte & 0x0f)]));
    }
    text
}

/// The headers of a POST, as a hand-written client builds them.
fn headers<'a>(api_key: &'a str, key: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("accept", "application/json"),
        ("content-type", "application/json"),
        ("Idempotency-Key", key),
        ("X-API-KEY", api_key),
    ]
}

/// The bare serde_json work of one flow, with the same headers, on the answers a transport
/// handed over.
pub(crate) fn baseline(answers: Answers) -> String {
    let api_key = "bench-api-key";
    let connect = ConnectBody {
        provider: "MESSENGER",
        username: &answers.username,
        password: &answers.password,
    };
    let key = uuid(ENTROPY);
    black_box(&headers(api_key, &key));
    black_box(&serde_json::to_vec(&connect).unwrap());
    let checkpoint: Reply = serde_json::from_slice(&answers.checkpoint.body).unwrap();
    assert_eq!(checkpoint.object, "Checkpoint");
    assert_eq!(checkpoint.checkpoint.map(|c| c.kind).as_deref(), Some("2FA"));
    let solve = SolveBody {
        provider: "MESSENGER",
        account_id: &checkpoint.account_id,
        code: &answers.code,
    };
    let key = uuid(ENTROPY);
    black_box(&headers(api_key, &key));
    black_box(&serde_json::to_vec(&solve).unwrap());
    let created: Reply = serde_json::from_slice(&answers.created.body).unwrap();
    assert_eq!(created.object, "AccountCreated");
    created.account_id
}

/// What either side is handed: the answers a transport read into buffers, and the user's
/// input (username, password, code) as a form or a prompt gives it, owned strings.
pub(crate) struct Answers {
    checkpoint: Answer,
    created: Answer,
    username: String,
    password: String,
    code: String,
}

impl Answers {
    pub(crate) fn new() -> Self {
        Self {
            checkpoint: Answer::new(202, CHECKPOINT),
            created: Answer::new(201, CREATED),
            username: "bob".to_owned(),
            password: "pw-b".to_owned(),
            code: "123456".to_owned(),
        }
    }
}

/// The same flow through the machine, through its one door. Like the baseline, it hands
/// back the connected account's id.
pub(crate) fn machine(config: &Config, answers: Answers) -> AccountId {
    let mut flow = Flow::new(config.clone());
    let at = UnixMillis::from_millis;
    let key = || IdempotencyKey::from_random_bytes(ENTROPY);
    let credentials = Credentials::messenger(answers.username, answers.password);
    let sent = flow.handle(at(1_000), Input::command(Command::Connect(credentials), key()));
    assert!(matches!(black_box(&sent), Output::Send(_)));
    let checkpoint = flow.handle(at(1_200), Input::Answer(answers.checkpoint));
    assert!(matches!(black_box(&checkpoint), Output::Event(_)));
    let sent = flow.handle(
        at(5_000),
        Input::command(Command::Solve(Solution::code(answers.code)), key()),
    );
    assert!(matches!(black_box(&sent), Output::Send(_)));
    let created = flow.handle(at(5_200), Input::Answer(answers.created));
    let connected = black_box(created).into_result().unwrap().unwrap();
    connected.connected_account().cloned().unwrap()
}
