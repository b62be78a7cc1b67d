//! The state file: a pending intent saved by `connect --detach` for `solve` and `resend`, kept
//! as a store that several processes may share.
//!
//! **What it holds.** The core's [`Snapshot`] (the intent: account id, checkpoint, deadline,
//! and the idempotency key of a request whose answer was lost; no password, no code, no API
//! key), the base URL it belongs to, the username for messages, and a `revision` that every
//! write increments. The snapshot is the core's public format: this build writes version 2,
//! and reads the first edition's version 1 through the core's migration. The file is compact
//! JSON, at most [`MAX_BYTES`]: a write that would be larger, or that would not read back
//! (a checkpoint nested deeper than the JSON reader's limit once saved), is refused before
//! anything is written, so whatever is written can be read back.
//!
//! **Two processes, one file.** Every request sent for a saved intent is sent under a lock,
//! and its result is saved under the same lock:
//!
//! 1. the lock is *tried* ([`std::fs::File::try_lock`] on a sidecar file `<state>.lock`): if
//!    another process holds it, this one sends nothing and says "busy" (it never waits: an
//!    approval in the app can hold a request for minutes);
//! 2. under the lock, the file must still hold the bytes this process read (or last wrote):
//!    a compare-and-swap. If another process went on with the intent, replaced it with
//!    another one, or removed it, this process sends nothing and says so;
//! 3. the intent is saved with the request's idempotency key and kind (revision + 1: the
//!    key of the same kind of request the file already held without its result, if any;
//!    while it holds one of another kind, other than a resend, nothing is sent: only that
//!    request, sent again under its key, gets the answer the server may have acted on);
//! 4. the request is sent, and its result saved (revision + 1) or, once the intent has
//!    ended, the file removed; then the lock is released (the sidecar file removed while
//!    still locked, see [`Lock`]). A process killed mid-request, or whose save of the
//!    result failed, leaves the key for the same request to go with again.
//!
//! `connect --detach` takes the lock before the password leaves and keeps it until its
//! intent is saved. Before its connect leaves, it saves the connect's idempotency key (and
//! provider, user, reconnected account: no secret) in the file, beside what the file held,
//! if anything (an intent, the key of a request sent for it whose result was lost, and its
//! username, all kept as they were); the connect's own intent replaces them once answered,
//! and a connect answered without one (connected at once, refused) puts them back. A run
//! whose connect the server may have acted on without the run knowing (no answer, a 5xx or
//! 429 after the retries, an unreadable answer), or that was killed mid-request, leaves the
//! key: the same command run again sends the connect with it, and the server answers what
//! it answered then (never a second login); `solve` on a file with only that key says so.
//!
//! So two processes never both send for one saved state, a file whose intent ended is
//! never written again, and a file holding another intent is never overwritten or removed
//! by a process that read an older one.
//!
//! **Paths.** Before anything is sent, the state path must be a regular file of this user
//! (an empty one, or a state file), or not exist yet, and a temporary file must be creatable
//! in its directory (tried: created, then removed). A directory, a symbolic link, a FIFO, a
//! socket or a device is refused, from its metadata alone (no open that could block, no
//! link followed). The command only ever replaces or removes a regular file of its user, by
//! a rename in the same directory or an unlink, and only temporary files and lock files it
//! created itself.

use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use auth_core::{IdempotencyKey, Intent, Snapshot, UnixMillis};
use auth_ureq::new_idempotency_key;
use serde::{Deserialize, Serialize};

use crate::outcome::{Conflict, ConflictReason, Failure, Outcome};

/// The `format` field of every state file.
const FORMAT: &str = "postpress-auth/state";

/// The version of the state file's own fields this build writes and reads. (`revision` came
/// later, with a default of 0: older builds ignore it, this one reads their files.)
const VERSION: u32 = 1;

/// The largest state file written and read: twice the largest answer the client reads (a
/// checkpoint's fields come from one answer), so that a checkpoint of any size the client
/// accepts is saved and read back.
pub(crate) const MAX_BYTES: u64 = 2 * 1024 * 1024;

/// How many times a temporary name is tried before giving up.
const TEMP_ATTEMPTS: u32 = 64;

/// How many times the lock file is opened again when it was removed under this process.
const LOCK_ATTEMPTS: u32 = 16;

/// What a state file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SavedIntent {
    /// Always [`FORMAT`].
    format: String,
    /// Always [`VERSION`].
    version: u32,
    /// Incremented by every write: two writes never leave the same bytes.
    #[serde(default)]
    pub(crate) revision: u64,
    /// The base URL the intent lives on, as the client normalized it: `solve` refuses to
    /// send it elsewhere.
    pub(crate) base_url: String,
    /// The username of the intent, for messages; with no intent, the unanswered connect's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) username: Option<String>,
    /// The flow's state, once the connect was answered with a checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) snapshot: Option<Snapshot>,
    /// The connect sent and not answered yet (written before it is sent, replaced by its
    /// intent once answered): `connect --detach` run again sends it again with the same key,
    /// so a server that acted on it answers what it answered then. An intent the file held
    /// before stays beside it (`snapshot`), for `solve` and `resend`, until the connect's
    /// own intent replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) connect: Option<SavedConnect>,
    /// The request sent for the intent whose result is not saved yet (written with the
    /// intent before it leaves, cleared with its result): the same action run again goes
    /// with its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sent: Option<SentRequest>,
}

/// A request sent for a saved intent whose result was not saved (yet): its key, and which
/// action it was, so that only the same action reuses the key. No secret: a code's kind,
/// never the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SentRequest {
    /// The request's `Idempotency-Key`.
    pub(crate) key: IdempotencyKey,
    /// What it asked.
    pub(crate) action: SentAction,
}

/// What a request sent for a saved intent asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SentAction {
    /// A typed code (2FA, OTP, phone number…).
    Code,
    /// Approval in the app.
    InAppValidation,
    /// Another way to solve the checkpoint.
    TryAnotherWay,
    /// The checkpoint sent again.
    Resend,
}

impl SentAction {
    /// The action, in words.
    fn words(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::InAppValidation => "approval in the app",
            Self::TryAnotherWay => "request for another way",
            Self::Resend => "resend",
        }
    }

    /// The command that sends this action again for the intent saved at `path`.
    fn command(self, path: &Path) -> String {
        let path = path.display();
        match self {
            Self::Code => format!("run `postpress-auth solve --state-file {path}` with the same code"),
            Self::InAppValidation => format!("run `postpress-auth solve --state-file {path} --in-app`"),
            Self::TryAnotherWay => {
                format!("run `postpress-auth solve --state-file {path} --code TRY_ANOTHER_WAY`")
            }
            Self::Resend => format!("run `postpress-auth resend --state-file {path}`"),
        }
    }
}

/// A connect (or reconnect) sent for a state file and not answered yet: its key, and what
/// it was, so that only the same call reuses the key. No secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SavedConnect {
    /// The request's `Idempotency-Key`.
    pub(crate) key: IdempotencyKey,
    /// The provider connected.
    pub(crate) provider: String,
    /// The account reconnected, for a reconnect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reconnect: Option<String>,
    /// The user connected. Files of earlier builds have none: there, the file's `username`
    /// is the connect's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) username: Option<String>,
    /// When it was first sent, by the client's clock: sent again, the intent the server
    /// started then counts its deadline from there. Files of earlier builds have none
    /// (the intent then counts from the send again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) first_sent_at: Option<UnixMillis>,
}

/// What `connect --detach` found in the file: an intent, the request sent for it whose result
/// was not saved, and its username. Kept in the file beside the connect's record, and put
/// back as it was if that connect is answered without an intent of its own.
#[derive(Debug)]
struct Previous {
    snapshot: Snapshot,
    sent: Option<SentRequest>,
    username: Option<String>,
}

impl SavedIntent {
    /// A pending intent to save.
    #[cfg(test)]
    pub(crate) fn new(base_url: &str, username: Option<String>, snapshot: Snapshot, revision: u64) -> Self {
        Self::with(base_url, username, Some(snapshot), None, None, revision)
    }

    fn with(
        base_url: &str,
        username: Option<String>,
        snapshot: Option<Snapshot>,
        connect: Option<SavedConnect>,
        sent: Option<SentRequest>,
        revision: u64,
    ) -> Self {
        Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            revision,
            base_url: base_url.to_owned(),
            username,
            snapshot,
            connect,
            sent,
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

    /// The saved intent, if the file holds one.
    fn intent(&self) -> Option<&Intent> {
        self.snapshot.as_ref().and_then(Snapshot::intent)
    }

    /// The account of the saved intent, if it holds one.
    fn account_id(&self) -> Option<&str> {
        self.intent().map(|intent| intent.account_id.as_str())
    }

    /// Whether two saved states are of the same intent (the same account, started at the
    /// same moment): one may be a later revision of the other.
    fn same_intent(&self, other: &Self) -> bool {
        match (self.intent(), other.intent()) {
            (Some(mine), Some(theirs)) => {
                mine.account_id == theirs.account_id && mine.started_at == theirs.started_at
            }
            _ => false,
        }
    }
}

/// The key a request goes with: the one kept for it, or a new one.
fn kept_or_new(kept: Option<IdempotencyKey>) -> Result<IdempotencyKey, Failure> {
    match kept {
        Some(key) => Ok(key),
        None => new_idempotency_key().map_err(|e| Failure::state_file(e.to_string())),
    }
}

/// The bytes of `saved` as written: compact JSON and a newline, refused past [`MAX_BYTES`]
/// and refused when they do not read back: the file nests the checkpoint two levels deeper
/// than the answer it came in, so a checkpoint the client read may be past the reader's
/// nesting limit once saved.
pub(crate) fn encode(saved: &SavedIntent) -> Result<Vec<u8>, Failure> {
    let mut bytes =
        serde_json::to_vec(saved).map_err(|e| Failure::state_file(format!("cannot write the state: {e}")))?;
    bytes.push(b'\n');
    if len_u64(bytes.len()) > MAX_BYTES {
        return Err(Failure::state_file(format!(
            "the intent's state takes {} bytes, more than the {MAX_BYTES} a state file may hold \
             (its checkpoint is that large)",
            bytes.len()
        )));
    }
    if let Err(error) = decode(&bytes) {
        return Err(Failure::state_file(format!(
            "the intent's state is not written: its state file could not be read back ({error}); \
             its checkpoint nests too deep"
        )));
    }
    Ok(bytes)
}

fn decode(bytes: &[u8]) -> Result<SavedIntent, String> {
    let saved: SavedIntent =
        serde_json::from_slice(bytes).map_err(|e| format!("it is not a saved intent ({e})"))?;
    if saved.format != FORMAT || saved.version != VERSION {
        return Err(format!(
            "it is {} version {}; this build reads {FORMAT} version {VERSION}",
            saved.format, saved.version
        ));
    }
    if saved.snapshot.is_none() && saved.connect.is_none() {
        return Err("it holds neither an intent nor an unanswered connect".to_owned());
    }
    Ok(saved)
}

/// A state file as this process read it.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// What it holds.
    pub(crate) saved: SavedIntent,
    /// Its bytes, to compare with before anything is sent for it.
    bytes: Vec<u8>,
}

/// Reads the state file of `solve` and `resend`, and checks, before anything is sent, that
/// it can be written again: a regular file of this user, in a directory where files can be
/// created.
pub(crate) fn load(path: &Path) -> Result<Loaded, Failure> {
    let fail = |error: String| {
        Failure::state_file(format!("cannot read the state file {}: {error}", path.display()))
    };
    let bytes = read_regular(path)?.ok_or_else(|| fail("it does not exist".to_owned()))?;
    let saved = decode(&bytes).map_err(fail)?;
    probe_directory(path)?;
    Ok(Loaded { saved, bytes })
}

/// Checks, before anything is sent, that `connect --detach` may save its intent at `path`:
/// the path names a file, which is a regular file of this user holding a state file or
/// nothing, or does not exist; and a file can be created in its directory (tried).
/// Returns the state file found there, if any.
pub(crate) fn check_new(path: &Path) -> Result<Option<SavedIntent>, Failure> {
    check_names_a_file(path)?;
    let found = match read_regular(path)? {
        None => None,
        Some(bytes) if bytes.is_empty() => None,
        Some(bytes) => match decode(&bytes) {
            Ok(saved) => Some(saved),
            Err(_) => {
                return Err(Failure::state_file(format!(
                    "{} exists and is not a postpress-auth state file: refusing to replace it \
                     (remove it, or pass another --state-file)",
                    path.display()
                )));
            }
        },
    };
    probe_directory(path)?;
    Ok(found)
}

/// A path that ends with `/`, `/.` or `/..` (or is `.`, `..`) names a directory, even when
/// nothing is there yet.
fn check_names_a_file(path: &Path) -> Result<(), Failure> {
    let text = path.as_os_str().as_encoded_bytes();
    let directory_like = text.is_empty()
        || text.ends_with(b"/")
        || text.ends_with(b"/.")
        || text.ends_with(b"/..")
        || text == b"."
        || text == b".."
        || path.file_name().is_none();
    if directory_like {
        return Err(Failure::state_file(format!(
            "the state file {} names a directory, not a file: pass a file name",
            path.display()
        )));
    }
    Ok(())
}

/// A state file this process works on: where it is, and what this process expects it to
/// hold (the bytes it read or last wrote), for the compare-and-swap before each send.
#[derive(Debug)]
pub(crate) struct StateFile {
    path: PathBuf,
    base_url: String,
    /// The username written in the file: its intent's.
    username: Option<String>,
    /// The user `connect --detach` connects: in its connect record, and the username of its
    /// intent once answered.
    connect_username: Option<String>,
    /// The bytes this process read or last wrote; `None` once it removed the file.
    expected: Option<Vec<u8>>,
    /// The revision of those bytes.
    revision: u64,
    /// The last save failed: the file holds an older state of the intent.
    save_failed: Option<Failure>,
    /// The unanswered connect of the same call that `connect --detach` found there.
    found_connect: Option<SavedConnect>,
    /// What the file held when `connect --detach` found it: kept beside its connect record,
    /// and put back if that connect is answered without an intent of its own.
    previous: Option<Previous>,
    /// The unanswered connect the file holds, carried in every write until it is answered.
    connect: Option<SavedConnect>,
    /// The request sent whose result is not saved yet, as the file holds it.
    sent: Option<SentRequest>,
}

impl StateFile {
    /// The file `solve` or `resend` loaded.
    pub(crate) fn loaded(path: &Path, base_url: &str, loaded: Loaded) -> Self {
        Self {
            path: path.to_owned(),
            base_url: base_url.to_owned(),
            username: loaded.saved.username.clone(),
            connect_username: None,
            expected: Some(loaded.bytes),
            revision: loaded.saved.revision,
            save_failed: None,
            found_connect: None,
            previous: None,
            connect: loaded.saved.connect.clone(),
            sent: loaded.saved.sent,
        }
    }

    /// `connect --detach`: takes the lock before the password leaves, and checks the path
    /// again under it (it may have changed while the password was typed). The lock is kept
    /// until the intent is saved.
    pub(crate) fn for_connect(path: &Path, base_url: &str, username: &str) -> Result<(Self, Lock), Outcome> {
        let lock = try_lock(path, None)?;
        let found = check_new(path)?;
        let revision = found.as_ref().map_or(0, |saved| saved.revision);
        let (previous, found_connect) = match found {
            Some(saved) => {
                // An unanswered connect of the same user to the same API, kept by an earlier run.
                let connect_username = saved
                    .connect
                    .as_ref()
                    .and_then(|connect| connect.username.as_deref())
                    .or(saved.username.as_deref());
                let same_call = saved.base_url == base_url && connect_username == Some(username);
                let found_connect = saved.connect.filter(|_| same_call);
                let previous = saved.snapshot.map(|snapshot| Previous {
                    snapshot,
                    sent: saved.sent,
                    username: saved.username,
                });
                (previous, found_connect)
            }
            None => (None, None),
        };
        let username = Some(username.to_owned());
        let file = Self {
            path: path.to_owned(),
            base_url: base_url.to_owned(),
            username: match &previous {
                Some(previous) => previous.username.clone(),
                None => username.clone(),
            },
            connect_username: username,
            expected: None,
            revision,
            save_failed: None,
            found_connect,
            previous,
            connect: None,
            sent: None,
        };
        Ok((file, lock))
    }

    /// `connect --detach`, under its lock, before the password leaves: the key of the
    /// connect, saved in the file (beside what it held, if anything) before it is sent.
    /// The key of the unanswered connect an earlier run left there when this is the same
    /// call (same API, user, provider and reconnected account) and was first sent less than
    /// `intent_ttl` ago, so the server answers what it answered then; a new one otherwise,
    /// or when `fresh`, first sent `now`. With the key,
    /// when it is the earlier one, the time it was first sent (`now` if the file does not
    /// say). Nothing is sent when this fails.
    pub(crate) fn begin_connect(
        &mut self,
        lock: &Lock,
        provider: &str,
        reconnect: Option<&str>,
        fresh: bool,
        now: UnixMillis,
        intent_ttl: Duration,
    ) -> Result<(IdempotencyKey, Option<UnixMillis>), Failure> {
        // An earlier connect first sent an intent's life ago or more is forgotten: any
        // intent it started has ended, and one the server never got must not be counted
        // from then.
        let earlier = self.found_connect.take().filter(|found| {
            !fresh
                && found.provider == provider
                && found.reconnect.as_deref() == reconnect
                && found
                    .first_sent_at
                    .is_none_or(|at| now < at.saturating_add(intent_ttl))
        });
        let first_sent_at = match &earlier {
            Some(found) => found.first_sent_at,
            None => Some(now),
        };
        let again = earlier.as_ref().map(|found| found.first_sent_at.unwrap_or(now));
        let key = kept_or_new(earlier.map(|found| found.key))?;
        self.connect = Some(SavedConnect {
            key,
            provider: provider.to_owned(),
            reconnect: reconnect.map(str::to_owned),
            username: self.connect_username.clone(),
            first_sent_at,
        });
        let (snapshot, sent) = match &self.previous {
            Some(previous) => (Some(previous.snapshot.clone()), previous.sent),
            None => (None, None),
        };
        let result = self.write_saved(lock, snapshot, sent);
        self.saved(result)?;
        Ok((key, again))
    }

    /// The connect was answered with an intent of its own: the next write saves that
    /// intent alone, with the connect's username (what the file held before is superseded).
    pub(crate) fn connect_answered(&mut self) {
        self.connect = None;
        self.previous = None;
        self.username.clone_from(&self.connect_username);
    }

    /// The connect was answered without an intent to save (connected at once, or
    /// refused): its record is removed, and what the file held before put back as it was.
    pub(crate) fn forget_connect(&mut self, lock: &Lock) -> Result<(), Failure> {
        self.connect = None;
        let result = match self.previous.take() {
            Some(previous) => {
                self.username = previous.username;
                let result = self.write_saved(lock, Some(previous.snapshot), previous.sent);
                if result.is_ok() {
                    self.sent = previous.sent;
                }
                result
            }
            None => self.remove(lock),
        };
        self.saved(result)
    }

    /// Before a request for the intent leaves, under `lock`: the key it goes with, saved
    /// with the intent's `snapshot`. The key of the request the file holds as sent without
    /// its result when it is the same `action` (this process, or one that died or lost its
    /// save, sent it: a server that acted on it answers the same again), a new one
    /// otherwise. `Ok(true)` with the key when it is that earlier one. Nothing is sent when
    /// this fails, and the file is as it was.
    ///
    /// Another action than the one the file holds as sent is refused, unless that one was a
    /// resend or an approval in the app: a code or a request for another way may have moved
    /// the intent on (a 2FA code accepted, the intent at its OTP), and only the same request
    /// under the same key gets that answer again; a new key for it would be judged against
    /// the intent as it is now. A resend moves nothing on, and an approval the user gave up
    /// waiting for (to type a code instead) either never came or connected the account,
    /// which the next answer shows (the intent ended: `solve` then asks the account's
    /// status): their records may be dropped.
    pub(crate) fn begin_request(
        &mut self,
        lock: &Lock,
        snapshot: Snapshot,
        action: SentAction,
        fresh: bool,
    ) -> Result<(IdempotencyKey, bool), Failure> {
        if let Some(sent) = self.sent
            && sent.action != action
            && !matches!(sent.action, SentAction::Resend | SentAction::InAppValidation)
        {
            return Err(Failure::state_file(format!(
                "the answer to the {} sent last for the intent in {} was lost, and the server may \
                 have acted on it: {} first, so that it answers again under the same \
                 Idempotency-Key (or start over with `postpress-auth connect`). This {} would lose \
                 that key: nothing was sent",
                sent.action.words(),
                self.path.display(),
                sent.action.command(&self.path),
                action.words()
            )));
        }
        let earlier = self.sent.filter(|sent| !fresh && sent.action == action);
        let key = kept_or_new(earlier.map(|sent| sent.key))?;
        let sent = SentRequest { key, action };
        let result = self.write_saved(lock, Some(snapshot), Some(sent));
        self.saved(result)?;
        self.sent = Some(sent);
        Ok((key, earlier.is_some()))
    }

    /// Where the file is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The username saved with the intent.
    pub(crate) fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The failure of the last save, if it failed.
    pub(crate) fn save_failed(&self) -> Option<&Failure> {
        self.save_failed.as_ref()
    }

    /// Takes the lock and checks that the file still holds what this process expects:
    /// then, and only then, may it send a request for the intent of `account_id`. Nothing
    /// is sent when this fails.
    pub(crate) fn lock_unchanged(&self, account_id: &str) -> Result<Lock, Outcome> {
        let lock = try_lock(&self.path, Some(account_id))?;
        let found = read_regular(&self.path)?;
        if found == self.expected {
            return Ok(lock);
        }
        Err(self.changed(account_id, found.as_deref()).into())
    }

    /// Saves `snapshot` (revision + 1) while the intent is pending, or removes the file once
    /// it has ended (`None`), under `lock` (taken by [`StateFile::lock_unchanged`] or
    /// [`StateFile::for_connect`]).
    pub(crate) fn commit(&mut self, lock: &Lock, snapshot: Option<Snapshot>) -> Result<(), Failure> {
        // The request is answered: its key is not for the next one, even if this save fails.
        self.sent = None;
        let result = match snapshot {
            Some(snapshot) => self.write_saved(lock, Some(snapshot), None),
            // An unanswered connect beside the intent that ended stays, the file's username
            // its own again.
            None if self.connect.is_some() => {
                if let Some(username) = self.connect.as_ref().and_then(|connect| connect.username.clone()) {
                    self.username = Some(username);
                }
                self.write_saved(lock, None, None)
            }
            None => self.remove(lock),
        };
        self.saved(result)
    }

    /// Records how a save went ([`StateFile::save_failed`]), and passes it on.
    fn saved(&mut self, result: Result<(), Failure>) -> Result<(), Failure> {
        self.save_failed = result.as_ref().err().cloned();
        result
    }

    /// Writes `snapshot`, the request `sent` for it, and the unanswered connect the file
    /// holds (revision + 1).
    fn write_saved(
        &mut self,
        lock: &Lock,
        snapshot: Option<Snapshot>,
        sent: Option<SentRequest>,
    ) -> Result<(), Failure> {
        let revision = self.revision.saturating_add(1);
        let saved = SavedIntent::with(
            &self.base_url,
            self.username.clone(),
            snapshot,
            self.connect.clone(),
            sent,
            revision,
        );
        let bytes = encode(&saved)?;
        lock.write(&bytes)?;
        self.expected = Some(bytes);
        self.revision = revision;
        Ok(())
    }

    fn remove(&mut self, lock: &Lock) -> Result<(), Failure> {
        if self.expected.is_none() {
            // Nothing was written by this process (connect), or it was removed already.
            return Ok(());
        }
        lock.remove()?;
        self.expected = None;
        self.sent = None;
        Ok(())
    }

    /// Removes the file of an intent that ended without a request (its deadline passed, or
    /// it was saved ended), if it still holds what this process read and no other process
    /// holds the lock. Otherwise it is left as it is, and `Err` says why.
    pub(crate) fn remove_if_unchanged(&mut self, account_id: &str) -> Result<(), Outcome> {
        if self.expected.is_none() {
            return Ok(());
        }
        let lock = self.lock_unchanged(account_id)?;
        self.commit(&lock, None)?;
        Ok(())
    }

    /// Why the file no longer holds what this process expects.
    fn changed(&self, account_id: &str, found: Option<&[u8]>) -> Conflict {
        let path = self.path.display();
        let mine = self.expected.as_deref().and_then(|bytes| decode(bytes).ok());
        let (reason, what) = match (found, &mine) {
            (None, _) => (
                ConflictReason::Removed,
                format!(
                    "the state file {path} was removed by another process after this one read it \
                     (the intent of account {account_id} ended there: connected, expired or refused)"
                ),
            ),
            (Some(bytes), Some(mine)) => match decode(bytes) {
                Ok(theirs) if theirs.same_intent(mine) => (
                    ConflictReason::Changed,
                    format!(
                        "another process went on with the intent of account {account_id} in {path} \
                         (revision {}, this process read revision {})",
                        theirs.revision, mine.revision
                    ),
                ),
                Ok(theirs) => (
                    ConflictReason::Changed,
                    format!(
                        "{path} now holds another intent (account {}), saved after this process read \
                         the intent of account {account_id}",
                        theirs.account_id().unwrap_or("none")
                    ),
                ),
                Err(_) => (
                    ConflictReason::Changed,
                    format!("{path} was replaced by something else after this process read it"),
                ),
            },
            (Some(_), None) => (
                ConflictReason::Changed,
                format!("{path} was written by another process after this one removed it"),
            ),
        };
        Conflict {
            reason,
            state_file: self.path.clone(),
            account_id: Some(account_id.to_owned()),
            message: format!(
                "{what}: nothing was sent, and the file is left as it is; run `postpress-auth solve \
                 --state-file {path}` again to go on with what it holds now"
            ),
        }
    }
}

/// The lock of a state file: an exclusive [`File::try_lock`] on the sidecar file
/// `<state>.lock`, in the same directory.
///
/// A lock on the state file itself would not do: saving replaces the state file by a rename,
/// and a lock held on the old file would not exclude a process that opens the new one. The
/// sidecar file is created when the lock is taken and removed when it is released, while
/// still locked; a process that opened it just before then finds, once it holds the lock,
/// that the path no longer leads to the file it locked, and opens the new one. A lock file
/// left by a process that died is not locked (the system releases the locks of a dead
/// process): the next process takes it, and removes it when done.
#[derive(Debug)]
pub(crate) struct Lock {
    file: File,
    path: PathBuf,
    state: PathBuf,
}

/// Takes the lock of the state file at `state`, or says that another process holds it
/// (about the intent of `account_id`, if this process loaded one).
fn try_lock(state: &Path, account_id: Option<&str>) -> Result<Lock, Outcome> {
    let path = sibling(state, "", ".lock");
    let fail = |error: String| {
        Failure::state_file(format!(
            "cannot take the lock {} of the state file: {error}",
            path.display()
        ))
    };
    for _ in 0..LOCK_ATTEMPTS {
        let file = sys::open_lock(&path).map_err(|e| fail(e.to_string()))?;
        let metadata = file.metadata().map_err(|e| fail(e.to_string()))?;
        // Only an empty regular file of this user is a lock file this command may take (and
        // remove when done): never another user's file, never a file with something in it.
        if !metadata.is_file() {
            return Err(fail("it is not a regular file".to_owned()).into());
        }
        if !sys::is_owned_by_us(&metadata) {
            return Err(fail("it belongs to another user".to_owned()).into());
        }
        if metadata.len() != 0 {
            return Err(fail("it is not empty, so it is not a lock file of this command".to_owned()).into());
        }
        let locked = match file.try_lock() {
            Ok(()) => true,
            Err(fs::TryLockError::WouldBlock) => false,
            Err(fs::TryLockError::Error(error)) => return Err(fail(error.to_string()).into()),
        };
        if !leads_to(&path, &metadata) {
            // Released and removed by its holder after this process opened it: again.
            continue;
        }
        if !locked {
            let about = account_id
                .map(|id| format!(" for the intent of account {id}"))
                .unwrap_or_default();
            return Err(Conflict {
                reason: ConflictReason::Busy,
                state_file: state.to_owned(),
                account_id: account_id.map(str::to_owned),
                message: format!(
                    "another postpress-auth process is sending a request{about} saved in {} right \
                     now (it holds {}): nothing was sent; run the command again once it has finished",
                    state.display(),
                    path.display()
                ),
            }
            .into());
        }
        held_lock(Some(HeldLock {
            path: path.clone(),
            identity: sys::identity(&metadata),
        }));
        return Ok(Lock {
            file,
            path,
            state: state.to_owned(),
        });
    }
    Err(fail("it keeps being removed and created again by other processes".to_owned()).into())
}

impl Lock {
    /// Writes `bytes` over the state file atomically: a temporary file in the same directory,
    /// written and synced, then renamed over the state path, which must not exist or be a
    /// regular file of this user.
    fn write(&self, bytes: &[u8]) -> Result<(), Failure> {
        let fail = |error: io::Error| {
            Failure::state_file(format!(
                "cannot write the state file {}: {error}",
                self.state.display()
            ))
        };
        let _writing = writing();
        let (temp, mut file) = create_temp(&self.state).map_err(fail)?;
        let written = (|| {
            file.write_all(bytes)?;
            file.sync_all()?;
            drop(file);
            check_replaceable(&self.state)?;
            fs::rename(&temp, &self.state)
        })();
        if let Err(error) = written {
            let _ = fs::remove_file(&temp);
            return Err(fail(error));
        }
        sys::sync_directory(&directory_of(&self.state));
        Ok(())
    }

    /// Removes the state file, a regular file of this user.
    fn remove(&self) -> Result<(), Failure> {
        let _writing = writing();
        let removed = check_replaceable(&self.state).and_then(|()| fs::remove_file(&self.state));
        match removed {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(Failure::state_file(format!(
                "cannot remove the state file {}: {error}",
                self.state.display()
            ))),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        held_lock(None);
        // Removed while still locked (the lock goes with `self.file`, closed after this).
        if let Ok(metadata) = self.file.metadata()
            && leads_to(&self.path, &metadata)
        {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// The lock file this process holds, for [`on_signal`].
#[derive(Debug)]
struct HeldLock {
    path: PathBuf,
    identity: sys::Identity,
}

static HELD_LOCK: Mutex<Option<HeldLock>> = Mutex::new(None);

/// Held while a temporary file exists or the state file is being replaced or removed.
static WRITING: Mutex<()> = Mutex::new(());

fn held_lock(held: Option<HeldLock>) {
    *HELD_LOCK.lock().unwrap_or_else(PoisonError::into_inner) = held;
}

fn writing() -> MutexGuard<'static, ()> {
    WRITING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// For the signal thread, before the process dies of a signal: waits for a write in progress
/// to end (so that no temporary file is left, and the state file is whole: the old one or the
/// new one), then removes the lock file this process holds. The guard returned keeps any
/// other write from starting; hold it until the process is gone.
pub(crate) fn on_signal() -> MutexGuard<'static, ()> {
    let guard = writing();
    let held = HELD_LOCK.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(held) = held
        && fs::symlink_metadata(&held.path).is_ok_and(|m| sys::identity(&m) == held.identity)
    {
        let _ = fs::remove_file(&held.path);
    }
    guard
}

/// Reads the file at `path` if it is a regular file of this user (`None`: nothing is
/// there), at most [`MAX_BYTES`]. Anything else is refused from its metadata, before it is
/// opened; the open neither follows a link nor blocks (a FIFO put there meanwhile).
fn read_regular(path: &Path) -> Result<Option<Vec<u8>>, Failure> {
    let fail = |error: String| {
        Failure::state_file(format!("cannot read the state file {}: {error}", path.display()))
    };
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(path_failure(path, &error)),
    };
    refuse_special(path, &metadata)?;
    let file = sys::open_read(path).map_err(|e| fail(e.to_string()))?;
    let opened = file.metadata().map_err(|e| fail(e.to_string()))?;
    if !opened.is_file() || sys::identity(&opened) != sys::identity(&metadata) {
        return Err(fail("it was replaced while being opened".to_owned()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if len_u64(bytes.len()) > MAX_BYTES {
        return Err(fail(format!(
            "it is larger than {MAX_BYTES} bytes: not a state file this command wrote"
        )));
    }
    Ok(Some(bytes))
}

/// Refuses anything at the state path but a regular file of this user: a directory, a
/// symbolic link (never followed, never replaced), a FIFO, a socket, a device.
fn refuse_special(path: &Path, metadata: &Metadata) -> Result<(), Failure> {
    let shown = path.display();
    if metadata.is_symlink() {
        let target = fs::read_link(path)
            .map(|target| format!(" (to {})", target.display()))
            .unwrap_or_default();
        return Err(Failure::state_file(format!(
            "the state file {shown} is a symbolic link{target}: the command neither writes \
             through nor replaces a link; pass the path of the file itself"
        )));
    }
    if !metadata.is_file() {
        return Err(Failure::state_file(format!(
            "the state file {shown} is {}, not a regular file: pass the path of a file",
            sys::kind(metadata)
        )));
    }
    if !sys::is_owned_by_us(metadata) {
        return Err(Failure::state_file(format!(
            "the state file {shown} belongs to another user: the command only replaces or \
             removes its own user's files"
        )));
    }
    Ok(())
}

/// Under the lock, just before a rename or an unlink: the state path holds nothing, or a
/// regular file of this user.
fn check_replaceable(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(metadata) => refuse_special(path, &metadata)
            .map_err(|failure| io::Error::new(io::ErrorKind::InvalidInput, failure.message)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error),
    }
}

/// Tries what a save needs of the directory: creates a temporary file there (mode 0600),
/// then removes it.
fn probe_directory(path: &Path) -> Result<(), Failure> {
    let dir = directory_of(path);
    let _writing = writing();
    match create_temp(path) {
        Ok((temp, file)) => {
            drop(file);
            let _ = fs::remove_file(temp);
            Ok(())
        }
        Err(error) => Err(match error.kind() {
            io::ErrorKind::NotFound => Failure::state_file(format!(
                "the state file's directory {} does not exist",
                dir.display()
            )),
            io::ErrorKind::NotADirectory => Failure::state_file(format!(
                "the state file's directory {} is not a directory",
                dir.display()
            )),
            _ => Failure::state_file(format!(
                "the state file {} cannot be saved: creating a file in {} failed ({error})",
                path.display(),
                dir.display()
            )),
        }),
    }
}

/// A failure to look at the state path (other than "nothing there").
fn path_failure(path: &Path, error: &io::Error) -> Failure {
    if error.kind() == io::ErrorKind::NotADirectory {
        return Failure::state_file(format!(
            "the state file {} cannot exist: a part of its directory {} is not a directory",
            path.display(),
            directory_of(path).display()
        ));
    }
    Failure::state_file(format!(
        "cannot look at the state file {}: {error}",
        path.display()
    ))
}

/// A new file `.<name>.<pid>-<n>.tmp` beside `path` (so that the rename stays on one file
/// system), created exclusively (never an existing file, never through a link), mode 0600.
fn create_temp(path: &Path) -> io::Result<(PathBuf, File)> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let mut last = io::Error::new(io::ErrorKind::AlreadyExists, "no free temporary name");
    for _ in 0..TEMP_ATTEMPTS {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let temp = sibling(path, ".", &format!(".{}-{n}.tmp", std::process::id()));
        match owner_only().open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last = error,
            Err(error) => return Err(error),
        }
    }
    Err(last)
}

/// `<prefix><name><suffix>` in the directory of `path`.
fn sibling(path: &Path, prefix: &str, suffix: &str) -> PathBuf {
    let mut name = OsString::from(prefix);
    name.push(path.file_name().unwrap_or_default());
    name.push(suffix);
    directory_of(path).join(name)
}

fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Whether `path` leads (without following a link) to the file whose metadata is `opened`.
fn leads_to(path: &Path, opened: &Metadata) -> bool {
    fs::symlink_metadata(path).is_ok_and(|now| sys::identity(&now) == sys::identity(opened))
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

fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// What the paths need of the system.
#[cfg(unix)]
mod sys {
    use std::fs::{File, Metadata};
    use std::io;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    use std::path::Path;

    use rustix::fs::{Mode, OFlags};

    /// A file's device and inode: which file a path leads to.
    pub(super) type Identity = (u64, u64);

    pub(super) fn identity(metadata: &Metadata) -> Identity {
        (metadata.dev(), metadata.ino())
    }

    /// Opens for reading without following a link and without blocking (on a FIFO).
    pub(super) fn open_read(path: &Path) -> io::Result<File> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        Ok(File::from(rustix::fs::open(path, flags, Mode::empty())?))
    }

    /// Opens (creating it, mode 0600) the lock file, without following a link and without
    /// blocking.
    pub(super) fn open_lock(path: &Path) -> io::Result<File> {
        let flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        Ok(File::from(rustix::fs::open(
            path,
            flags,
            Mode::RUSR | Mode::WUSR,
        )?))
    }

    /// Syncs a directory after a rename in it, so that the new name survives a crash.
    pub(super) fn sync_directory(dir: &Path) {
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }

    /// Whether the file belongs to the user this process runs as.
    pub(super) fn is_owned_by_us(metadata: &Metadata) -> bool {
        metadata.uid() == rustix::process::geteuid().as_raw()
    }

    /// What a file that is not a regular one is, in words.
    pub(super) fn kind(metadata: &Metadata) -> &'static str {
        let kind = metadata.file_type();
        if kind.is_dir() {
            "a directory"
        } else if kind.is_fifo() {
            "a FIFO (named pipe)"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else {
            "not a regular file"
        }
    }
}

/// What the paths need of the system, where there are no inodes to compare, no FIFOs and no
/// owners to check (compiled, not tested: the command is tested on unix).
#[cfg(not(unix))]
mod sys {
    use std::fs::{File, Metadata};
    use std::io;
    use std::path::Path;

    pub(super) type Identity = ();

    pub(super) fn identity(_metadata: &Metadata) -> Identity {}

    pub(super) fn open_read(path: &Path) -> io::Result<File> {
        File::open(path)
    }

    pub(super) fn open_lock(path: &Path) -> io::Result<File> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
    }

    pub(super) fn sync_directory(_dir: &Path) {}

    pub(super) fn is_owned_by_us(_metadata: &Metadata) -> bool {
        true
    }

    pub(super) fn kind(metadata: &Metadata) -> &'static str {
        if metadata.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::{Answer, Command, Config, Credentials, Flow, IdempotencyKey, Input, Phase, UnixMillis};

    /// The intent's life the tests' connects are kept for.
    const TTL: Duration = Duration::from_secs(300);

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

    fn saved(revision: u64) -> SavedIntent {
        SavedIntent::new(
            "http://127.0.0.1:1/v1",
            Some("bob".to_owned()),
            pending_snapshot(),
            revision,
        )
    }

    /// Writes `saved` at `path` as `connect --detach` does: under the lock.
    fn save_new(path: &Path, saved: &SavedIntent) {
        let (mut file, lock) = StateFile::for_connect(path, &saved.base_url, "bob").unwrap();
        file.commit(&lock, Some(saved.snapshot.clone().unwrap())).unwrap();
    }

    #[test]
    fn a_saved_intent_reads_back_compact_without_secrets_and_leaves_no_other_file() {
        let dir = scratch_dir("roundtrip");
        let path = dir.join("state.json");
        save_new(&path, &saved(0));
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("the-api-key") && !text.contains("the-password"));
        assert_eq!(text.lines().count(), 1, "compact: {text}");
        assert!(text.contains(r#""revision":1,"#), "{text}");
        let loaded = load(&path).unwrap();
        assert_eq!(
            loaded.saved.snapshot.as_ref().unwrap().phase(),
            Phase::AwaitingCheckpoint
        );
        assert_eq!(loaded.saved.username.as_deref(), Some("bob"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No temporary file, no lock file is left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
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
        assert_eq!(loaded.saved.snapshot.as_ref().unwrap().migrated_from(), Some(1));
        assert_eq!(loaded.saved.revision, 0);
        assert_eq!(
            loaded.saved.snapshot.as_ref().unwrap().phase(),
            Phase::AwaitingCheckpoint
        );
        let intent = loaded.saved.snapshot.as_ref().unwrap().intent().unwrap();
        assert_eq!((intent.account_id.as_str(), intent.failed_attempts), ("acc-1", 1));
        // Saved again, it is written in the core's current format, one revision later.
        let snapshot = loaded.saved.snapshot.clone().unwrap();
        let mut file = StateFile::loaded(&path, "http://127.0.0.1:1/v1", loaded);
        let lock = file.lock_unchanged("acc-1").unwrap();
        file.commit(&lock, Some(snapshot)).unwrap();
        drop(lock);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#""snapshot":{"version":2"#), "{text}");
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.saved.snapshot.as_ref().unwrap().migrated_from(), None);
        assert_eq!(loaded.saved.revision, 1);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_connect_record_of_an_earlier_build_is_read_with_the_files_username_as_its_user() {
        let dir = scratch_dir("old-connect");
        let path = dir.join("state.json");
        let key = IdempotencyKey::from_random_bytes([7; 16]);
        // As earlier builds wrote it: the connect's user in the file's `username`, beside the
        // intent the file held, and no username in the connect record.
        let old = serde_json::json!({
            "format": FORMAT,
            "version": VERSION,
            "revision": 3,
            "base_url": "http://127.0.0.1:1/v1",
            "username": "carol",
            "snapshot": pending_snapshot(),
            "connect": {"key": key, "provider": "MESSENGER"},
        });
        fs::write(&path, old.to_string()).unwrap();
        assert!(load(&path).unwrap().saved.connect.unwrap().username.is_none());

        // Another user's connect gets a key of its own.
        let (mut file, lock) = StateFile::for_connect(&path, "http://127.0.0.1:1/v1", "dave").unwrap();
        let now = UnixMillis::from_millis(5_000);
        let (other, again) = file
            .begin_connect(&lock, "MESSENGER", None, false, now, TTL)
            .unwrap();
        assert!(again.is_none() && other != key);
        drop((file, lock));

        fs::write(&path, old.to_string()).unwrap();
        let (mut file, lock) = StateFile::for_connect(&path, "http://127.0.0.1:1/v1", "carol").unwrap();
        assert_eq!(
            file.begin_connect(&lock, "MESSENGER", None, false, now, TTL)
                .unwrap(),
            (key, Some(now)),
            "an earlier build's connect: sent again from now"
        );
        drop((file, lock));
        let saved = load(&path).unwrap().saved;
        assert_eq!(saved.connect.unwrap().username.as_deref(), Some("carol"));
        assert!(saved.snapshot.is_some(), "the intent is kept beside it");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_kept_connect_first_sent_an_intents_life_ago_gets_a_new_key() {
        let dir = scratch_dir("stale-connect");
        let path = dir.join("state.json");
        let key = IdempotencyKey::from_random_bytes([9; 16]);
        let first = UnixMillis::from_millis(1_000);
        let kept = serde_json::json!({
            "format": FORMAT,
            "version": VERSION,
            "revision": 1,
            "base_url": "http://127.0.0.1:1/v1",
            "username": "carol",
            "connect": {"key": key, "provider": "MESSENGER", "username": "carol", "first_sent_at": first},
        });
        for (now, kept_then) in [(299_999, true), (301_000, false)] {
            fs::write(&path, kept.to_string()).unwrap();
            let now = first.saturating_add(Duration::from_millis(now));
            let (mut file, lock) = StateFile::for_connect(&path, "http://127.0.0.1:1/v1", "carol").unwrap();
            let (sent, again) = file
                .begin_connect(&lock, "MESSENGER", None, false, now, TTL)
                .unwrap();
            assert_eq!(sent == key, kept_then, "at {now:?}");
            assert_eq!(again, kept_then.then_some(first));
            drop((file, lock));
            let saved = load(&path).unwrap().saved.connect.unwrap();
            assert_eq!(saved.first_sent_at, Some(if kept_then { first } else { now }));
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn another_action_than_an_unanswered_one_is_refused_unless_that_one_was_a_resend_or_an_approval() {
        use SentAction::{Code, InAppValidation, Resend, TryAnotherWay};
        let dir = scratch_dir("actions");
        let path = dir.join("state.json");
        let base_url = "http://127.0.0.1:1/v1";
        let actions = [Code, InAppValidation, TryAnotherWay, Resend];
        for kept in actions {
            for next in actions {
                let _ = fs::remove_file(&path);
                save_new(&path, &saved(0));
                // A run that sent `kept`, and died before its answer.
                let mut first = StateFile::loaded(&path, base_url, load(&path).unwrap());
                let lock = first.lock_unchanged("a1").unwrap();
                let (key, _) = first
                    .begin_request(&lock, pending_snapshot(), kept, false)
                    .unwrap();
                drop((first, lock));
                let before = fs::read(&path).unwrap();

                let mut second = StateFile::loaded(&path, base_url, load(&path).unwrap());
                let lock = second.lock_unchanged("a1").unwrap();
                let result = second.begin_request(&lock, pending_snapshot(), next, false);
                if kept == next {
                    assert_eq!(result.unwrap(), (key, true), "{kept:?}: the kept key");
                } else if matches!(kept, Resend | InAppValidation) {
                    let (fresh, again) = result.unwrap();
                    assert!(
                        fresh != key && !again,
                        "{next:?} after {kept:?}: a key of its own"
                    );
                } else {
                    let failure = result.unwrap_err();
                    assert_eq!(failure.kind.as_deref(), Some("cli/state_file"));
                    assert!(
                        failure.message.contains(kept.words()) && failure.message.contains(next.words()),
                        "{}",
                        failure.message
                    );
                    assert_eq!(fs::read(&path).unwrap(), before, "{next:?} after {kept:?}");
                }
            }
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn another_base_url_or_a_foreign_file_is_refused() {
        let dir = scratch_dir("refused");
        let path = dir.join("state.json");
        let saved = saved(0);
        assert!(saved.check_base_url("http://127.0.0.1:1/v1", &path).is_ok());
        let refused = saved
            .check_base_url("https://api.postpress.ai/v1", &path)
            .unwrap_err();
        assert!(refused.message.contains("--base-url http://127.0.0.1:1/v1 "));
        fs::write(&path, r#"{"hello":"world"}"#).unwrap();
        assert!(load(&path).is_err());
        assert!(
            check_new(&path)
                .unwrap_err()
                .message
                .contains("refusing to replace it")
        );
        assert!(load(&dir.join("missing.json")).is_err());
        assert!(check_new(&dir.join("nope").join("state.json")).is_err());
        assert!(check_new(&dir.join("new.json")).is_ok());
        // An empty file (made by `mktemp`) may be written over.
        fs::write(&path, "").unwrap();
        assert!(check_new(&path).unwrap().is_none());
        for directory in ["", ".", "..", "a/", "a/.", "a/.."] {
            let failure = check_names_a_file(Path::new(directory)).unwrap_err();
            assert!(failure.message.contains("names a directory"), "{directory:?}");
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_state_larger_than_a_state_file_may_be_is_refused_before_it_is_written() {
        let fits = encode(&saved(3)).unwrap();
        assert!(len_u64(fits.len()) < MAX_BYTES);
        // A checkpoint whose fields make the state larger than MAX_BYTES.
        let padding = "x".repeat(usize::try_from(MAX_BYTES).unwrap());
        let body = serde_json::json!({
            "object": "Checkpoint",
            "account_id": "a1",
            "checkpoint": {"type": "FACE_SCAN", "padding": padding},
        });
        let mut flow = Flow::new(Config::new("the-api-key"));
        let now = UnixMillis::from_millis(1_000);
        let connect = Command::Connect(Credentials::messenger("bob", "the-password"));
        flow.handle(
            now,
            Input::command(connect, IdempotencyKey::from_random_bytes([1; 16])),
        );
        flow.handle(now, Input::Answer(Answer::new(202, body.to_string())));
        assert!(flow.is_pending());
        let large = SavedIntent::new("http://127.0.0.1:1/v1", None, flow.snapshot(), 1);
        let failure = encode(&large).unwrap_err();
        assert!(
            failure.message.contains("more than the 2097152"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn a_second_lock_is_refused_while_the_first_is_held_and_released_with_its_file() {
        let dir = scratch_dir("lock");
        let path = dir.join("state.json");
        let first = try_lock(&path, Some("a1")).unwrap();
        let Err(Outcome::Conflict(busy)) = try_lock(&path, Some("a1")) else {
            panic!("a second lock is refused");
        };
        assert_eq!(busy.reason, ConflictReason::Busy);
        assert!(dir.join("state.json.lock").exists());
        drop(first);
        assert!(!dir.join("state.json.lock").exists(), "removed on release");
        let again = try_lock(&path, Some("a1")).unwrap();
        drop(again);
        // A lock file left by a dead process is not locked: it is taken, then removed.
        fs::write(dir.join("state.json.lock"), "").unwrap();
        drop(try_lock(&path, None).unwrap());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        // A file with something in it is not one: it is neither taken nor removed.
        fs::write(dir.join("state.json.lock"), "my notes").unwrap();
        assert!(matches!(try_lock(&path, None), Err(Outcome::Failed(_))));
        assert_eq!(
            fs::read_to_string(dir.join("state.json.lock")).unwrap(),
            "my notes"
        );
        fs::remove_file(dir.join("state.json.lock")).unwrap();
        // Nor is a link, which is not followed.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.join("elsewhere"), dir.join("state.json.lock")).unwrap();
            assert!(matches!(try_lock(&path, None), Err(Outcome::Failed(_))));
            assert!(
                !dir.join("elsewhere").exists(),
                "nothing created through the link"
            );
            fs::remove_file(dir.join("state.json.lock")).unwrap();
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_compare_and_swap_refuses_a_file_changed_or_removed_since_it_was_read() {
        let dir = scratch_dir("cas");
        let path = dir.join("state.json");
        save_new(&path, &saved(0));
        let mine = StateFile::loaded(&path, "http://127.0.0.1:1/v1", load(&path).unwrap());
        let mut theirs = StateFile::loaded(&path, "http://127.0.0.1:1/v1", load(&path).unwrap());
        // Another process goes on with the same intent.
        let lock = theirs.lock_unchanged("a1").unwrap();
        theirs.commit(&lock, Some(pending_snapshot())).unwrap();
        drop(lock);
        let Err(Outcome::Conflict(changed)) = mine.lock_unchanged("a1") else {
            panic!("the file changed");
        };
        assert_eq!(changed.reason, ConflictReason::Changed);
        assert!(changed.message.contains("revision 2"), "{}", changed.message);
        // …and removes it.
        let lock = theirs.lock_unchanged("a1").unwrap();
        theirs.commit(&lock, None).unwrap();
        drop(lock);
        let Err(Outcome::Conflict(removed)) = mine.lock_unchanged("a1") else {
            panic!("the file is gone");
        };
        assert_eq!(removed.reason, ConflictReason::Removed);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        let _ = fs::remove_dir_all(&dir);
    }
}
