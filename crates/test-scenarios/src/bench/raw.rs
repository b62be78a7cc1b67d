//! What both clients' hand-written raw flows share: the same flow as the client's, written
//! on the client's HTTP library as the docs describe it. Each client's bench sends the
//! requests its own way (headers with a fresh `Idempotency-Key` of 16 random bytes per
//! request, the client's library settings, the per-request time budget and answer limit);
//! this module has the request bodies, the random bytes of a key, and the least reading
//! of the answers a careful caller does: the status, then `object`, `account_id` and the
//! checkpoint's type with serde into borrowed fields. A raw flow retries nothing (no fault
//! is injected).

use std::time::Duration;

use serde::Deserialize;

use super::{BenchResult, CODE, PASSWORD, USERNAME};

/// The client's per-request time budget (the builders' default), set on each raw request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
struct Reply<'a> {
    object: &'a str,
    account_id: &'a str,
    #[serde(borrow)]
    checkpoint: Option<CheckpointReply<'a>>,
}

#[derive(Deserialize)]
struct CheckpointReply<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
}

/// The connect's body: the demo account's credentials.
pub fn connect_body() -> String {
    format!(r#"{{"provider":"MESSENGER","username":"{USERNAME}","password":"{PASSWORD}"}}"#)
}

/// The connect's answer, `status` and `body`, read: a 202 `Checkpoint` of type `2FA`; its
/// account id.
pub fn checkpoint_account_id(status: u16, body: &[u8]) -> BenchResult<&str> {
    let reply: Reply<'_> = serde_json::from_slice(body)?;
    let kind = reply.checkpoint.as_ref().map(|c| c.kind);
    if status != 202 || reply.object != "Checkpoint" || kind != Some("2FA") {
        return Err(format!("the connect answered {status}, not a 2FA checkpoint").into());
    }
    Ok(reply.account_id)
}

/// The solve's body: the code, for the intent of `account_id`.
pub fn solve_body(account_id: &str) -> String {
    format!(r#"{{"provider":"MESSENGER","account_id":"{account_id}","code":"{CODE}"}}"#)
}

/// The solve's answer, `status` and `body`, read: a 201 `AccountCreated` with an account id.
pub fn account_created(status: u16, body: &[u8]) -> BenchResult {
    let reply: Reply<'_> = serde_json::from_slice(body)?;
    if status != 201 || reply.object != "AccountCreated" || reply.account_id.is_empty() {
        return Err(format!("the solve answered {status}, not AccountCreated").into());
    }
    Ok(())
}

/// The 16 random bytes of an `Idempotency-Key`, a UUID v4's: from the operating system,
/// with the version (4) and variant bits set. Each client's raw flow writes them out.
pub fn uuid_v4_bytes() -> BenchResult<[u8; 16]> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    if let Some(byte) = bytes.get_mut(6) {
        *byte = (*byte & 0x0f) | 0x40;
    }
    if let Some(byte) = bytes.get_mut(8) {
        *byte = (*byte & 0x3f) | 0x80;
    }
    Ok(bytes)
}

/// An `Idempotency-Key`: a UUID v4 from 16 random bytes, written by hand as a client
/// following the docs would (what the `uuid` crate's `new_v4` does: one allocation, no
/// formatting machinery). Both hand-written sides use it, so they pay the same.
pub fn idempotency_key() -> BenchResult<String> {
    let bytes = uuid_v4_bytes()?;
    let mut key = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            key.push('-');
        }
        for nibble in [byte >> 4, byte & 0x0f] {
            key.extend(char::from_digit(u32::from(nibble), 16));
        }
    }
    Ok(key)
}
