//! Sending again a connect whose answer was lost, from a snapshot that holds it.

use auth_core::{Command, Credentials, Error, Flow, RequestKind, UsageError};

/// The command that sends again the connect (or reconnect) `flow` holds as unsettled, with
/// `credentials`: both clients' `connect_again`. A usage error, with nothing sent, if the
/// flow holds no such connect.
pub fn connect_again_command(flow: &Flow, credentials: Credentials) -> Result<Command, Error> {
    match flow.unsettled() {
        Some(lost) if lost.kind == RequestKind::Connect => Ok(Command::Connect(credentials)),
        Some(lost) if lost.kind == RequestKind::Reconnect => match lost.reconnect {
            Some(account_id) => Ok(Command::Reconnect {
                account_id: account_id.clone(),
                credentials,
            }),
            None => Err(no_lost_connect()),
        },
        _ => Err(no_lost_connect()),
    }
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
        assert!(matches!(connect, Ok(Command::Connect(_))));
        let lost = Snapshot::lost_connect(key, at, Some("acc-1".into()));
        let reconnect = connect_again_command(&flow(lost), credentials());
        assert!(
            matches!(reconnect, Ok(Command::Reconnect { account_id, .. }) if account_id.as_str() == "acc-1")
        );
        let idle = Flow::new(Config::new("key"));
        assert!(matches!(
            connect_again_command(&idle, credentials()),
            Err(Error::Usage(_))
        ));
    }
}
