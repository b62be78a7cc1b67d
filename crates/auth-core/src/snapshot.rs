//! A flow's state as a public, versioned JSON format, to keep a pending intent between two
//! requests of a user and resume it in another process.
//!
//! The format is written out field by field below (not the serde shape of the machine's
//! private state), documented in `docs/state-machine.md`, and pinned by sample files of
//! every phase in `tests/snapshots/`. Files of the first edition (`"version": 1`) are read
//! and migrated by `v1::migrate`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::account::AccountId;
use crate::checkpoint::SolutionKind;
use crate::config::Config;
use crate::error::{ApiError, IntentDestroyed, IntentExpired};
use crate::flow::{Flow, Stage, Unsettled};
use crate::idempotency::IdempotencyKey;
use crate::intent::Intent;
use crate::request::RequestKind;
use crate::rules::Phase;
use crate::time::UnixMillis;

/// A flow's state as data: what [`Flow::snapshot`] gives and [`Flow::resume`] continues.
///
/// Versioned (`"version": 2`), tagged by phase, and without any secret: no password, no
/// code, no proxy password, no API key. A request that was out when it was taken is saved
/// as `unsettled`, with its idempotency key: resumed, the same command sends it again with
/// that key once the caller gives its secret again (or [`Input::Abandoned`](crate::Input::Abandoned)
/// forgets it). A snapshot of the first edition (`"version": 1`) is read too, migrated:
/// see [`Snapshot::migrated_from`].
///
/// ```
/// use auth_core::{Answer, Command, Config, Credentials, Flow, IdempotencyKey, Input, Phase, Snapshot, UnixMillis};
///
/// let mut flow = Flow::new(Config::new("secret-key"));
/// let connect = Command::Connect(Credentials::messenger("bob", "pw-b"));
/// flow.handle(UnixMillis::from_millis(0), Input::command(connect, IdempotencyKey::from_random_bytes([1; 16])));
/// let answer = Answer::new(202, r#"{"object":"Checkpoint","account_id":"a1","checkpoint":{"type":"OTP"}}"#);
/// flow.handle(UnixMillis::from_millis(100), Input::Answer(answer));
///
/// let saved = serde_json::to_string(&flow.snapshot()).unwrap();
/// assert!(saved.starts_with(r#"{"version":2,"phase":"awaiting_checkpoint","#));
/// assert!(!saved.contains("secret-key") && !saved.contains("pw-b"));
///
/// // Later, in another process:
/// let snapshot: Snapshot = serde_json::from_str(&saved).unwrap();
/// let flow = Flow::resume(Config::new("secret-key"), snapshot);
/// assert_eq!(flow.phase(), Phase::AwaitingCheckpoint);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    stage: Stage,
    unsettled: Option<Unsettled>,
    latest_now: UnixMillis,
    migrated_from: Option<u32>,
}

impl Snapshot {
    /// The format version this build writes (it reads this one and every earlier one).
    pub const VERSION: u32 = 2;

    pub(crate) fn new(stage: Stage, unsettled: Option<Unsettled>, latest_now: UnixMillis) -> Self {
        Self {
            stage,
            unsettled,
            latest_now,
            migrated_from: None,
        }
    }

    /// The phase the saved flow is in (a request that was out is saved as unsettled, so
    /// this is never an in-flight phase).
    pub fn phase(&self) -> Phase {
        self.stage.phase()
    }

    /// The saved live intent, if any.
    pub fn intent(&self) -> Option<&Intent> {
        match &self.stage {
            Stage::Pending(intent) => Some(intent),
            _ => None,
        }
    }

    /// The latest time the saved flow had been given.
    pub fn latest_now(&self) -> UnixMillis {
        self.latest_now
    }

    /// The idempotency key of the request whose answer was lost, if one was out when the
    /// snapshot was taken.
    pub fn unsettled_key(&self) -> Option<IdempotencyKey> {
        self.unsettled.as_ref().map(|u| u.key)
    }

    /// The snapshot of a flow whose connect (a reconnect of `reconnect`, if given) was first
    /// sent at `first_sent_at` under `key` and never answered, for a process that kept only
    /// those (say, in a file, before the request left). Resumed, the same connect goes again
    /// with that key, so a server that acted on it answers what it answered then (never a
    /// second intent), and the intent it started counts its deadline from `first_sent_at`,
    /// as the server's does.
    ///
    /// ```
    /// use auth_core::{Command, Config, Credentials, Flow, IdempotencyKey, Input, Output, Snapshot, UnixMillis};
    ///
    /// let key = IdempotencyKey::from_random_bytes([7; 16]);
    /// let saved = Snapshot::lost_connect(key, UnixMillis::from_millis(1_000), None);
    /// let mut flow = Flow::resume(Config::new("secret-key"), saved);
    /// let connect = Command::Connect(Credentials::messenger("bob", "pw-b"));
    /// let fresh = IdempotencyKey::from_random_bytes([8; 16]);
    /// let Output::Send(request) = flow.handle(UnixMillis::from_millis(60_000), Input::command(connect, fresh)) else {
    ///     unreachable!()
    /// };
    /// assert_eq!(request.idempotency_key, Some(key), "the lost connect's key, not the fresh one");
    /// ```
    pub fn lost_connect(
        key: IdempotencyKey,
        first_sent_at: UnixMillis,
        reconnect: Option<AccountId>,
    ) -> Self {
        let kind = if reconnect.is_some() {
            RequestKind::Reconnect
        } else {
            RequestKind::Connect
        };
        let lost = Unsettled {
            kind,
            solution: None,
            reconnect,
            key,
            first_sent_at,
        };
        Self::new(Stage::Idle, Some(lost), first_sent_at)
    }

    /// The version of the file this was read from, when it was an older one migrated on read.
    pub fn migrated_from(&self) -> Option<u32> {
        self.migrated_from
    }

    pub(crate) fn into_parts(self) -> (Stage, Option<Unsettled>, UnixMillis) {
        (self.stage, self.unsettled, self.latest_now)
    }
}

impl Flow {
    /// A machine that continues a saved [`Snapshot`], with the configuration (and so the
    /// API key) of the process that resumes it.
    pub fn resume(config: Config, snapshot: Snapshot) -> Self {
        let (stage, unsettled, latest_now) = snapshot.into_parts();
        Self::from_parts(config, stage, unsettled, latest_now)
    }
}

/// The JSON of version 2, field by field. (Unknown fields are ignored: serde cannot deny them
/// beside a flattened phase.)
#[derive(Serialize, Deserialize)]
struct SnapshotV2 {
    version: u32,
    #[serde(flatten)]
    stage: SavedStage,
    latest_now: UnixMillis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unsettled: Option<SavedUnsettled>,
}

/// Where the flow was: `"phase"` and the data of that phase.
#[derive(Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
enum SavedStage {
    Idle,
    AwaitingCheckpoint {
        intent: Intent,
    },
    Connected {
        account_id: AccountId,
        reconnected: bool,
    },
    Expired {
        expired: IntentExpired,
    },
    Destroyed {
        destroyed: IntentDestroyed,
    },
    Refused {
        account_id: Option<AccountId>,
        cause: ApiError,
    },
}

/// A request whose answer may have been lost.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedUnsettled {
    request: SavedRequestKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    solution: Option<SolutionKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reconnect: Option<AccountId>,
    idempotency_key: IdempotencyKey,
    first_sent_at: UnixMillis,
}

/// The POST calls a lost request can be.
#[derive(Serialize, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum SavedRequestKind {
    Connect,
    Reconnect,
    Solve,
    Resend,
}

impl From<Stage> for SavedStage {
    fn from(stage: Stage) -> Self {
        match stage {
            Stage::Idle => Self::Idle,
            Stage::Pending(intent) => Self::AwaitingCheckpoint { intent },
            Stage::Connected {
                account_id,
                reconnected,
            } => Self::Connected {
                account_id,
                reconnected,
            },
            Stage::Expired(expired) => Self::Expired { expired },
            Stage::Destroyed(destroyed) => Self::Destroyed {
                destroyed: *destroyed,
            },
            Stage::Refused { account_id, cause } => Self::Refused {
                account_id,
                cause: *cause,
            },
        }
    }
}

impl From<SavedStage> for Stage {
    fn from(stage: SavedStage) -> Self {
        match stage {
            SavedStage::Idle => Self::Idle,
            SavedStage::AwaitingCheckpoint { intent } => Self::Pending(intent),
            SavedStage::Connected {
                account_id,
                reconnected,
            } => Self::Connected {
                account_id,
                reconnected,
            },
            SavedStage::Expired { expired } => Self::Expired(expired),
            SavedStage::Destroyed { destroyed } => Self::Destroyed(Box::new(destroyed)),
            SavedStage::Refused { account_id, cause } => Self::Refused {
                account_id,
                cause: Box::new(cause),
            },
        }
    }
}

impl SavedUnsettled {
    fn from_unsettled(unsettled: &Unsettled) -> Option<Self> {
        let request = match unsettled.kind {
            RequestKind::Connect => SavedRequestKind::Connect,
            RequestKind::Reconnect => SavedRequestKind::Reconnect,
            RequestKind::Solve => SavedRequestKind::Solve,
            RequestKind::Resend => SavedRequestKind::Resend,
            RequestKind::AccountStatus => return None,
        };
        Some(Self {
            request,
            solution: unsettled.solution,
            reconnect: unsettled.reconnect.clone(),
            idempotency_key: unsettled.key,
            first_sent_at: unsettled.first_sent_at,
        })
    }

    fn into_unsettled(self) -> Unsettled {
        let kind = match self.request {
            SavedRequestKind::Connect => RequestKind::Connect,
            SavedRequestKind::Reconnect => RequestKind::Reconnect,
            SavedRequestKind::Solve => RequestKind::Solve,
            SavedRequestKind::Resend => RequestKind::Resend,
        };
        Unsettled {
            kind,
            solution: self.solution,
            reconnect: self.reconnect,
            key: self.idempotency_key,
            first_sent_at: self.first_sent_at,
        }
    }
}

impl Serialize for Snapshot {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SnapshotV2 {
            version: Self::VERSION,
            stage: self.stage.clone().into(),
            latest_now: self.latest_now,
            unsettled: self.unsettled.as_ref().and_then(SavedUnsettled::from_unsettled),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Snapshot {
    /// Reads version 2, or migrates version 1; refuses any other.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = Value::deserialize(deserializer)?;
        match value.get("version").and_then(Value::as_u64) {
            Some(2) => {
                let saved: SnapshotV2 = serde_json::from_value(value).map_err(D::Error::custom)?;
                Ok(Self::new(
                    saved.stage.into(),
                    saved.unsettled.map(SavedUnsettled::into_unsettled),
                    saved.latest_now,
                ))
            }
            Some(1) => {
                let saved: v1::SnapshotV1 = serde_json::from_value(value).map_err(D::Error::custom)?;
                Ok(v1::migrate(saved))
            }
            Some(other) => Err(D::Error::custom(UnsupportedSnapshotVersion(
                u32::try_from(other).unwrap_or(u32::MAX),
            ))),
            None => Err(D::Error::custom("a snapshot needs a numeric \"version\"")),
        }
    }
}

/// A snapshot in a format this build does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported snapshot version {0}: this build reads versions 1 to {VERSION}", VERSION = Snapshot::VERSION)]
pub struct UnsupportedSnapshotVersion(pub u32);

/// The first edition's format, read only to migrate it.
mod v1 {
    use serde::Deserialize;

    use super::Snapshot;
    use crate::account::{AccountId, Provider};
    use crate::checkpoint::Checkpoint;
    use crate::error::{ApiError, Detection, ErrorType, IntentDestroyed, IntentExpired, Problem};
    use crate::flow::Stage;
    use crate::intent::Intent;
    use crate::time::UnixMillis;

    /// `{"version":1,"state":{"phase":…},"latest_now":…}`.
    #[derive(Deserialize)]
    pub(super) struct SnapshotV1 {
        state: StateV1,
        latest_now: UnixMillis,
    }

    #[derive(Deserialize)]
    struct IntentV1 {
        account_id: AccountId,
        provider: Provider,
        checkpoint: Checkpoint,
        started_at: UnixMillis,
        deadline: UnixMillis,
        failed_attempts: u32,
        checkpoints_solved: u32,
        reconnect: bool,
    }

    #[derive(Deserialize)]
    struct ApiErrorV1 {
        status: u16,
        kind: Option<ErrorType>,
        title: Option<String>,
        detail: Option<String>,
        instance: Option<String>,
        excerpt: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(tag = "phase", rename_all = "snake_case")]
    enum StateV1 {
        Idle,
        Connecting {},
        AwaitingCheckpoint(IntentV1),
        Solving {
            intent: IntentV1,
        },
        Resending(IntentV1),
        Connected {
            account_id: AccountId,
            reconnected: bool,
        },
        Expired {
            account_id: AccountId,
            deadline: UnixMillis,
            detected_by: Detection,
        },
        Destroyed {
            account_id: AccountId,
            cause: ApiErrorV1,
        },
    }

    impl From<IntentV1> for Intent {
        fn from(v1: IntentV1) -> Self {
            Self {
                account_id: v1.account_id,
                provider: v1.provider,
                checkpoint: v1.checkpoint,
                started_at: v1.started_at,
                deadline: v1.deadline,
                failed_attempts: v1.failed_attempts,
                checkpoints_solved: v1.checkpoints_solved,
                reconnect: v1.reconnect,
            }
        }
    }

    /// Migrates a first-edition snapshot, step by step:
    ///
    /// - `idle`, `awaiting_checkpoint`, `connected`, `expired` keep their data;
    /// - `solving` and `resending` (a request was out, without any idempotency key: there
    ///   was none then) become `awaiting_checkpoint`, as the first edition resumed them;
    /// - `connecting` becomes `idle`: without a key, the lost connect cannot be replayed;
    /// - `destroyed` keeps its cause, whose `instance` becomes its `request_id`.
    pub(super) fn migrate(saved: SnapshotV1) -> Snapshot {
        let stage = match saved.state {
            StateV1::Idle | StateV1::Connecting {} => Stage::Idle,
            StateV1::AwaitingCheckpoint(intent)
            | StateV1::Solving { intent }
            | StateV1::Resending(intent) => Stage::Pending(intent.into()),
            StateV1::Connected {
                account_id,
                reconnected,
            } => Stage::Connected {
                account_id,
                reconnected,
            },
            StateV1::Expired {
                account_id,
                deadline,
                detected_by,
            } => Stage::Expired(IntentExpired {
                account_id,
                deadline,
                detected_by,
            }),
            StateV1::Destroyed { account_id, cause } => {
                let mut error = ApiError::bare(cause.status);
                error.kind = cause.kind;
                error.title = cause.title;
                error.detail = cause.detail;
                error.request_id = cause.instance;
                error.excerpt = cause.excerpt;
                error.problem = Problem::IntentEnded;
                Stage::Destroyed(Box::new(IntentDestroyed {
                    account_id,
                    cause: error,
                }))
            }
        };
        Snapshot {
            stage,
            unsettled: None,
            latest_now: saved.latest_now,
            migrated_from: Some(1),
        }
    }
}
