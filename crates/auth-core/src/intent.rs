//! A pending authentication intent: the checkpoint to solve and the time left to do it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::account::{AccountId, Provider};
use crate::checkpoint::Checkpoint;
use crate::error::{Detection, IntentExpired};
use crate::time::UnixMillis;

/// A pending authentication intent: the checkpoint to solve and the time left to do it.
///
/// It lasts [`Config::intent_ttl`](crate::Config::intent_ttl) in total, counted from the
/// moment the request that was answered by its first checkpoint was first sent (the server's
/// intent started no earlier, so this deadline is safe). Solving a checkpoint of a chain does
/// not extend it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Intent {
    /// The account being connected.
    pub account_id: AccountId,
    /// Its provider.
    pub provider: Provider,
    /// The checkpoint to solve now.
    pub checkpoint: Checkpoint,
    /// When the request that started the intent was first sent.
    pub started_at: UnixMillis,
    /// When the intent ends: at and after this moment nothing more is sent.
    pub deadline: UnixMillis,
    /// Wrong codes given for the current checkpoint.
    pub failed_attempts: u32,
    /// Checkpoints of the chain already solved.
    pub checkpoints_solved: u32,
    /// Whether the intent reconnects an existing account.
    pub reconnect: bool,
}

impl Intent {
    /// The time left at `now`, zero once the deadline has passed.
    pub fn remaining(&self, now: UnixMillis) -> Duration {
        self.deadline.saturating_duration_since(now)
    }

    /// Whether the intent has ended at `now` (at or after its deadline).
    pub fn is_expired_at(&self, now: UnixMillis) -> bool {
        now >= self.deadline
    }

    pub(crate) fn expired(&self, detected_by: Detection) -> IntentExpired {
        IntentExpired {
            account_id: self.account_id.clone(),
            deadline: self.deadline,
            detected_by,
        }
    }
}
