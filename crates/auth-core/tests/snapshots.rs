//! The snapshot is a public format: a sample file of every phase is kept in
//! `tests/snapshots/v2/`, and the machine must write exactly that and read it back; the
//! first edition's files (`tests/snapshots/v1/`, written by the first edition's code) are
//! read and migrated. Renaming a field fails here, not in a user's saved state.
//!
//! `UPDATE_SNAPSHOTS=1 cargo test -p auth-core --test snapshots` rewrites the v2 samples
//! after a deliberate change of the format (which then needs a new version and a migration).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod support;

use std::path::{Path, PathBuf};

use auth_core::{Command, Detection, Flow, Phase, Problem, Snapshot};
use support::*;

const T0: u64 = 1_700_000_000_000;

fn samples(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(version)
}

/// A flow in every phase a snapshot can hold, built the same way every time.
fn flows() -> Vec<(&'static str, Flow, Phase)> {
    let mut out = Vec::new();
    out.push(("idle", Harness::new(config()).flow, Phase::Idle));

    let mut lost_connect = Harness::new(config());
    sent(lost_connect.command(T0, connect_messenger()));
    out.push(("idle_with_a_lost_connect", lost_connect.flow, Phase::Idle));

    let (pending_flow, _) = pending(T0);
    out.push((
        "awaiting_checkpoint",
        pending_flow.flow,
        Phase::AwaitingCheckpoint,
    ));

    let (mut solving, _) = pending(T0);
    sent(solving.command(T0 + 10_000, solve("123456")));
    out.push((
        "awaiting_checkpoint_with_a_lost_solve",
        solving.flow,
        Phase::AwaitingCheckpoint,
    ));

    let mut connected = Harness::new(config());
    sent(connected.command(T0, connect_messenger()));
    event(connected.answer(T0 + 250, created("acc-1")));
    out.push(("connected", connected.flow, Phase::Connected));

    let (mut expired, intent) = pending(T0);
    failure(expired.tick(intent.deadline.as_millis()));
    out.push(("expired", expired.flow, Phase::Expired));

    let (mut destroyed, _) = pending(T0);
    sent(destroyed.command(T0 + 10_000, solve("999999")));
    failure(destroyed.answer(T0 + 10_100, error(400, "errors/authentication_intent_error")));
    out.push(("destroyed", destroyed.flow, Phase::Destroyed));

    let (mut refused, _) = pending(T0);
    sent(refused.command(T0 + 10_000, Command::Resend));
    failure(refused.answer(T0 + 10_100, quickstart_error(403, "account_restricted")));
    out.push(("refused", refused.flow, Phase::Refused));
    out
}

#[test]
fn every_phase_writes_its_sample_byte_for_byte_and_reads_it_back() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    for (name, flow, phase) in flows() {
        let path = samples("v2").join(format!("{name}.json"));
        let written = serde_json::to_string_pretty(&flow.snapshot()).unwrap() + "\n";
        if update {
            std::fs::write(&path, &written).unwrap();
        }
        let kept = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            written, kept,
            "{name}: the format changed; a new version and a migration are owed"
        );
        let read: Snapshot = serde_json::from_str(&kept).unwrap();
        assert_eq!(read, flow.snapshot(), "{name}");
        assert_eq!(read.phase(), phase, "{name}");
        assert_eq!(Flow::resume(config(), read).phase(), phase, "{name}");
    }
}

#[test]
fn no_sample_holds_a_secret() {
    for version in ["v1", "v2"] {
        for entry in std::fs::read_dir(samples(version)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for secret in [API_KEY, PASSWORD, "123456", "999999", "pw-b", "test-key-v1"] {
                assert!(!text.contains(secret), "{secret} in a {version} sample");
            }
        }
    }
}

#[test]
fn the_first_editions_files_are_migrated_step_by_step() {
    let expected = [
        ("idle", Phase::Idle),
        ("connecting", Phase::Idle),
        ("awaiting_checkpoint", Phase::AwaitingCheckpoint),
        ("solving", Phase::AwaitingCheckpoint),
        ("resending", Phase::AwaitingCheckpoint),
        ("connected", Phase::Connected),
        ("expired", Phase::Expired),
        ("destroyed", Phase::Destroyed),
    ];
    for (name, phase) in expected {
        let text = std::fs::read_to_string(samples("v1").join(format!("{name}.json"))).unwrap();
        let snapshot: Snapshot = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(snapshot.migrated_from(), Some(1), "{name}");
        assert_eq!(snapshot.phase(), phase, "{name}");
        assert_eq!(
            snapshot.unsettled_key(),
            None,
            "{name}: the first edition had no keys"
        );
        let flow = Flow::resume(config(), snapshot);
        match name {
            "awaiting_checkpoint" | "solving" | "resending" => {
                let intent = flow.intent().unwrap();
                assert_eq!(
                    (intent.account_id.as_str(), intent.deadline.as_millis()),
                    ("acc-1", T0 + 300_000)
                );
                assert_eq!(intent.checkpoint.kind(), "2FA");
            }
            "expired" => assert_eq!(flow.expired().unwrap().detected_by, Detection::Deadline),
            "destroyed" => {
                let cause = &flow.destroyed().unwrap().cause;
                assert_eq!(
                    cause.request_id.as_deref(),
                    Some("/v1/accounts/checkpoint"),
                    "instance became request_id"
                );
                assert_eq!(cause.problem, Problem::IntentEnded);
            }
            "connected" => assert_eq!(flow.connected_account().unwrap().as_str(), "acc-1"),
            _ => {}
        }
        // Written again, a migrated snapshot is a version 2 file.
        let again = serde_json::to_string(&flow.snapshot()).unwrap();
        assert!(again.starts_with(r#"{"version":2,"#), "{again}");
    }
}

#[test]
fn a_snapshot_of_an_unknown_version_or_shape_is_refused() {
    for text in [
        r#"{"version":3,"phase":"idle","latest_now":0}"#,
        r#"{"phase":"idle","latest_now":0}"#,
        r#"{"version":"2","phase":"idle","latest_now":0}"#,
        r#"{"version":2,"phase":"dancing","latest_now":0}"#,
        r#"{"version":2,"phase":"awaiting_checkpoint","latest_now":0}"#,
        r#"{"version":2,"phase":"idle","latest_now":0,"unsettled":{"request":"status","idempotency_key":"k","first_sent_at":0}}"#,
        r#"[2]"#,
    ] {
        assert!(serde_json::from_str::<Snapshot>(text).is_err(), "{text}");
    }
    let error = serde_json::from_str::<Snapshot>(r#"{"version":3}"#).unwrap_err();
    assert!(
        error.to_string().contains("unsupported snapshot version 3"),
        "{error}"
    );
}
