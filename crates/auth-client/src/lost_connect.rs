//! Sending again a connect whose answer was lost, from a snapshot that holds it.

use auth_core::{Command, Credentials, Error, Flow, IdempotencyKey, RequestKind, UsageError};

/// The command that sends again the connect (or reconnect) `flow` holds as unsettled, with
/// `credentials`, and that connect's own key to give it, so that a 409 comes back to the
/// caller, who chooses its keys: both clients' `connect_again`. A usage error, with nothing
/// sent, if the flow holds no such connect.
pub fn connect_again_command(
    flow: &Flow,
    credentials: Credentials,
) -> Result<(Command, IdempotencyKey), Error> {
    let lost = flow.unsettled().ok_or_else(no_lost_connect)?;
    let command = match (lost.kind, lost.reconnect) {
        (RequestKind::Connect, _) => Command::Connect(credentials),
        (RequestKind::Reconnect, Some(account_id)) => Command::Reconnect {
            account_id: account_id.clone(),
            credentials,
        },
        _ => return Err(no_lost_connect()),
    };
    Ok((command, lost.key))
}

fn no_lost_connect() -> Error {
    UsageError::Invalid("the snapshot holds no connect whose answer was lost").into()
}

#[cfg(test)]
mod tests {
    use auth_core::{Config, IdempotencyKey, Snapshot, UnixMillis};

    use super::*;

    fn flow(saved: Snapshot) -> Flow {
        Flow::resume(Config::new("key"), saved)
    }

    #[test]
    fn the_command_is_the_lost_connect_or_reconnect_and_nothing_else() {
        let key = IdempotencyKey::from_random_bytes([1; 16]);
        let at = UnixMillis::from_millis(5);
        let credentials = || Credentials::messenger("bob", "pw");
        let connect = connect_again_command(&flow(Snapshot::lost_connect(key, at, None)), credentials());
        assert!(matches!(connect, Ok((Command::Connect(_), lost)) if lost == key));
        let lost = Snapshot::lost_connect(key, at, Some("acc-1".into()));
        let reconnect = connect_again_command(&flow(lost), credentials());
        assert!(
            matches!(reconnect, Ok((Command::Reconnect { account_id, .. }, _)) if account_id.as_str() == "acc-1")
        );
        let idle = Flow::new(Config::new("key"));
        assert!(matches!(
            connect_again_command(&idle, credentials()),
            Err(Error::Usage(_))
        ));
    }
}
