//! The terminal: the password prompt that does not echo, and the terminal's attributes put
//! back as they were however the prompt ends: Enter, an error, or a signal (Ctrl-C, SIGTERM,
//! SIGHUP: see `signals.rs`, which calls [`restore_on_signal`]).
//!
//! On unix the prompt is our own, on the controlling terminal (`/dev/tty`), through rustix's
//! safe `tcgetattr`/`tcsetattr`: it turns `ECHO` off and nothing else (the terminal keeps its
//! line editing, and Ctrl-C still sends SIGINT), and it reads the line in chunks of 256
//! bytes, stopping once it is past the password's limit (the rest of the line is discarded
//! unread). The attributes it found are kept in one place before they are changed, so
//! that the signal thread can put them back. Elsewhere the prompt is rpassword's.

use crate::outcome::Failure;

/// Prompts on the terminal for a line that is not echoed (a password) of at most `limit`
/// bytes, and puts the terminal back as it was.
#[cfg(unix)]
pub(crate) fn read_hidden(prompt: &str, limit: usize) -> Result<String, Failure> {
    let fail = |error: std::io::Error| {
        Failure::usage(format!("cannot read the password from the terminal: {error}"))
    };
    let line = unix::read_hidden(prompt, limit).map_err(fail)?;
    let Some(bytes) = line else {
        return Err(Failure::usage(format!(
            "the password is longer than {limit} bytes: the rest of the line was discarded, nothing was sent"
        )));
    };
    String::from_utf8(bytes)
        .map_err(|_| Failure::usage("the password typed is not valid UTF-8: nothing was sent"))
}

/// Prompts on the terminal for a line that is not echoed (a password) of at most `limit`
/// bytes.
#[cfg(not(unix))]
pub(crate) fn read_hidden(prompt: &str, limit: usize) -> Result<String, Failure> {
    let password = rpassword::prompt_password(prompt)
        .map_err(|e| Failure::usage(format!("cannot read the password from the terminal: {e}")))?;
    if password.len() > limit {
        return Err(Failure::usage(format!(
            "the password is longer than {limit} bytes: nothing was sent"
        )));
    }
    Ok(password)
}

/// For the signal thread, before the process dies of a signal: if a prompt has turned echo
/// off, turns it back on (the attributes as they were before the prompt) and ends the
/// prompt's line.
pub(crate) fn restore_on_signal() {
    #[cfg(unix)]
    unix::restore_on_signal();
}

#[cfg(unix)]
mod unix {
    use std::fs::{File, OpenOptions};
    use std::io::{self, Read, Write};
    use std::sync::{Mutex, PoisonError};

    use rustix::termios::{LocalModes, OptionalActions, Termios, tcgetattr, tcsetattr};

    /// The terminal whose echo a prompt turned off, and its attributes before.
    struct Saved {
        tty: File,
        attributes: Termios,
    }

    static SAVED: Mutex<Option<Saved>> = Mutex::new(None);

    /// Puts the attributes back (when the prompt ends, however it ends): `how` is
    /// [`OptionalActions::Flush`] to also discard what was typed and not read (the rest of
    /// a line past the limit).
    fn restore(how: OptionalActions) {
        let saved = SAVED.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(saved) = saved {
            let _ = tcsetattr(&saved.tty, how, &saved.attributes);
        }
    }

    pub(super) fn restore_on_signal() {
        let saved = SAVED.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(mut saved) = saved {
            let _ = tcsetattr(&saved.tty, OptionalActions::Flush, &saved.attributes);
            // The user's line never got its newline.
            let _ = saved.tty.write_all(b"\n");
        }
    }

    /// Restores the attributes when dropped.
    struct Restore;

    impl Drop for Restore {
        fn drop(&mut self) {
            restore(OptionalActions::Now);
        }
    }

    /// The line typed without echo, without its line ending; `None` when it is longer than
    /// `limit` bytes (what was typed past it is discarded, not read).
    pub(super) fn read_hidden(prompt: &str, limit: usize) -> io::Result<Option<Vec<u8>>> {
        let mut tty = OpenOptions::new().read(true).write(true).open("/dev/tty")?;
        let attributes = tcgetattr(&tty)?;
        let mut quiet = attributes.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        // Enter still moves to the next line.
        quiet.local_modes.insert(LocalModes::ECHONL);
        // Kept before the change, so that a signal from now on puts them back.
        *SAVED.lock().unwrap_or_else(PoisonError::into_inner) = Some(Saved {
            tty: tty.try_clone()?,
            attributes,
        });
        let _restore = Restore;
        tcsetattr(&tty, OptionalActions::Now, &quiet)?;
        tty.write_all(prompt.as_bytes())?;
        tty.flush()?;
        let mut line = Vec::new();
        let mut chunk = [0_u8; 256];
        loop {
            let read = match tty.read(&mut chunk) {
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            let Some(bytes) = chunk.get(..read) else {
                return Ok(Some(line));
            };
            if bytes.is_empty() {
                // End of input (Ctrl-D): what was typed so far.
                let _ = tty.write_all(b"\n");
                break;
            }
            match bytes.iter().position(|&byte| byte == b'\n') {
                Some(end) => {
                    line.extend_from_slice(bytes.get(..end).unwrap_or_default());
                    break;
                }
                None => line.extend_from_slice(bytes),
            }
            // The line and a `\r`: one byte more is past the limit.
            if line.len() > limit.saturating_add(1) {
                restore(OptionalActions::Flush);
                let _ = tty.write_all(b"\n");
                return Ok(None);
            }
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.len() > limit {
            return Ok(None);
        }
        Ok(Some(line))
    }
}
