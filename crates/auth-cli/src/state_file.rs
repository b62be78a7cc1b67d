//! The state file: a pending intent saved by `connect --detach` for `solve` and `resend`.
//!
//! It holds the core's [`Snapshot`] (the intent: account id, checkpoint, deadline, and the
//! idempotency key of a request whose answer was lost; no password, no code, no API key),
//! the base URL it belongs to, and the username for messages. The snapshot is the core's
//! public format: this build writes version 2, and reads the first edition's version 1
//! through the core's migration, so a file saved by an older `postpress-auth` still resumes. It is written atomically (a temporary file in the same directory, then a
//! rename), readable by its owner only (mode 0600 on unix).

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use auth_core::Snapshot;
use serde::{Deserialize, Serialize};

use crate::outcome::Failure;

/// The `format` field of every state file.
const FORMAT: &str = "postpress-auth/state";

/// The version of the state file's own fields this build writes and reads.
const VERSION: u32 = 1;

/// The largest state file read: a snapshot is a few hundred bytes.
const MAX_BYTES: u64 = 1024 * 1024;

/// What a state file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SavedIntent {
    /// Always [`FORMAT`].
    format: String,
    /// Always [`VERSION`].
    version: u32,
    /// The base URL the intent lives on, as the client normalized it: `solve` refuses to
    /// send it elsewhere.
    pub(crate) base_url: String,
    /// The username being connected, for messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) username: Option<String>,
    /// The flow's state.
    pub(crate) snapshot: Snapshot,
}

impl SavedIntent {
    /// A state to save.
    pub(crate) fn new(base_url: &str, username: Option<String>, snapshot: Snapshot) -> Self {
        Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            base_url: base_url.to_owned(),
            username,
            snapshot,
        }
    }

    /// Checks that the intent belongs to `base_url`: the client's, as
    /// `ClientBuilder::build` normalized it (and as `connect` saved it).
    pub(crate) fn check_base_url(&self, base_url: &str, path: &Path) -> Result<(), Failure> {
        if self.base_url == base_url {
            return Ok(());
        }
        Err(Failure::configuration(format!(
            "{} holds an intent of {}, but this command would send to {}: pass --base-url {} \
             (or set POSTPRESS_BASE_URL)",
            path.display(),
            self.base_url,
            base_url,
            self.base_url
        )))
    }
}

/// Checks, before anything is sent, that a state file can be written at `path`.
pub(crate) fn check_writable(path: &Path) -> Result<(), Failure> {
    if path.file_name().is_none() {
        return Err(Failure::state_file(format!(
            "the state file {} is not a file name",
            path.display()
        )));
    }
    let dir = directory_of(path);
    if !dir.is_dir() {
        return Err(Failure::state_file(format!(
            "the state file's directory {} does not exist",
            dir.display()
        )));
    }
    Ok(())
}

/// Writes `saved` to `path` atomically, readable by its owner only.
pub(crate) fn save(path: &Path, saved: &SavedIntent) -> Result<(), Failure> {
    let fail = |what: &str, error: std::io::Error| {
        Failure::state_file(format!(
            "cannot {what} the state file {}: {error}",
            path.display()
        ))
    };
    let text = serde_json::to_string_pretty(saved)
        .map_err(|e| Failure::state_file(format!("cannot write the state: {e}")))?;
    let temp = temp_path(path);
    // A temporary file left over by a crashed process of the same id is stale.
    let _ = fs::remove_file(&temp);
    let written = (|| {
        let mut file = owner_only().open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(error) = written {
        let _ = fs::remove_file(&temp);
        return Err(fail("write", error));
    }
    Ok(())
}

/// Reads a state file written by [`save`].
pub(crate) fn load(path: &Path) -> Result<SavedIntent, Failure> {
    let fail = |error: String| {
        Failure::state_file(format!("cannot read the state file {}: {error}", path.display()))
    };
    let file = fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let mut text = String::new();
    file.take(MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| fail(e.to_string()))?;
    if u64::try_from(text.len()).unwrap_or(u64::MAX) > MAX_BYTES {
        return Err(fail(format!("it is larger than {MAX_BYTES} bytes")));
    }
    let saved: SavedIntent =
        serde_json::from_str(&text).map_err(|e| fail(format!("it is not a saved intent ({e})")))?;
    if saved.format != FORMAT || saved.version != VERSION {
        return Err(fail(format!(
            "it is {} version {}; this build reads {FORMAT} version {VERSION}",
            saved.format, saved.version
        )));
    }
    Ok(saved)
}

/// Removes a state file whose intent has ended; a file already gone is fine.
pub(crate) fn remove(path: &Path) -> Result<(), Failure> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(Failure::state_file(format!(
            "cannot remove the state file {}: {error}",
            path.display()
        ))),
    }
}

fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// `.NAME.PID.tmp` next to `path`, so that the rename stays on one file system.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    directory_of(path).join(format!(".{name}.{}.tmp", std::process::id()))
}

/// Options that create a new file readable and writable by its owner only.
fn owner_only() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::{Answer, Command, Config, Credentials, Flow, IdempotencyKey, Input, Phase, UnixMillis};

    fn pending_snapshot() -> Snapshot {
        let mut flow = Flow::new(Config::new("the-api-key"));
        let now = UnixMillis::from_millis(1_000);
        let connect = Command::Connect(Credentials::messenger("bob", "the-password"));
        flow.handle(
            now,
            Input::command(connect, IdempotencyKey::from_random_bytes([1; 16])),
        );
        let answer = Answer::new(
            202,
            r#"{"object":"Checkpoint","account_id":"a1","checkpoint":{"type":"2FA"}}"#,
        );
        flow.handle(now, Input::Answer(answer));
        assert!(flow.is_pending());
        flow.snapshot()
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("postpress-auth-unit-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_saved_intent_reads_back_without_secrets() {
        let dir = scratch_dir("roundtrip");
        let path = dir.join("state.json");
        let saved = SavedIntent::new(
            "http://127.0.0.1:1/v1",
            Some("bob".to_owned()),
            pending_snapshot(),
        );
        save(&path, &saved).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("the-api-key") && !text.contains("the-password"));
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.snapshot.phase(), Phase::AwaitingCheckpoint);
        assert_eq!(loaded.username.as_deref(), Some("bob"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        remove(&path).unwrap();
        remove(&path).unwrap();
        assert!(!path.exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_state_file_of_the_first_edition_is_read_through_the_cores_migration() {
        let dir = scratch_dir("v1");
        let path = dir.join("state.json");
        // As `connect --detach` of the first edition wrote it: its snapshot is version 1.
        let v1 = r#"{
  "format": "postpress-auth/state",
  "version": 1,
  "base_url": "http://127.0.0.1:1/v1",
  "username": "bob",
  "snapshot": {
    "version": 1,
    "state": {
      "phase": "awaiting_checkpoint",
      "account_id": "acc-1",
      "provider": "MESSENGER",
      "checkpoint": {"type": "2FA", "source": "SMS"},
      "started_at": 1700000000000,
      "deadline": 1700000300000,
      "failed_attempts": 1,
      "checkpoints_solved": 0,
      "reconnect": false
    },
    "latest_now": 1700000000250
  }
}"#;
        fs::write(&path, v1).unwrap();
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.snapshot.migrated_from(), Some(1));
        assert_eq!(loaded.snapshot.phase(), Phase::AwaitingCheckpoint);
        let intent = loaded.snapshot.intent().unwrap();
        assert_eq!((intent.account_id.as_str(), intent.failed_attempts), ("acc-1", 1));
        // Saved again, it is written in the core's current format.
        save(&path, &loaded).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#""version": 2"#), "{text}");
        assert_eq!(load(&path).unwrap().snapshot.migrated_from(), None);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn another_base_url_or_a_foreign_file_is_refused() {
        let dir = scratch_dir("refused");
        let path = dir.join("state.json");
        let saved = SavedIntent::new("http://127.0.0.1:1/v1", None, pending_snapshot());
        assert!(saved.check_base_url("http://127.0.0.1:1/v1", &path).is_ok());
        let refused = saved
            .check_base_url("https://api.postpress.ai/v1", &path)
            .unwrap_err();
        assert!(refused.message.contains("--base-url http://127.0.0.1:1/v1 "));
        fs::write(&path, r#"{"hello":"world"}"#).unwrap();
        assert!(load(&path).is_err());
        assert!(load(&dir.join("missing.json")).is_err());
        assert!(check_writable(&dir.join("nope").join("state.json")).is_err());
        assert!(check_writable(&path).is_ok());
        let _ = fs::remove_dir_all(&dir);
    }
}
