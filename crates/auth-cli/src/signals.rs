//! Ctrl-C, Ctrl-\ (SIGQUIT), SIGTERM and SIGHUP: the terminal put back as it was, the state
//! file left whole, then the process dies of the signal, as it would have by default.
//!
//! On unix a thread of our own waits for the signals (signal-hook: the signal handler only
//! wakes the thread, and everything else runs on the thread, outside the handler). When one
//! comes it waits for a write of the state file in progress to end (no temporary file left,
//! the old state or the new one in place), removes the lock file this process holds, puts
//! the terminal's attributes back if a prompt had turned echo off, ends a countdown's line,
//! and then dies of the same signal (`emulate_default_handler`), so that a shell sees what it
//! would have seen without any of this (exit status 130 for Ctrl-C).

/// Starts handling the signals, for the rest of the process.
#[cfg(unix)]
pub(crate) fn install() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    use signal_hook::iterator::Signals;

    let Ok(mut signals) = Signals::new([SIGINT, SIGQUIT, SIGTERM, SIGHUP]) else {
        // The defaults stay: a signal still ends the process, without the cleanup.
        return;
    };
    let _ = std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let _no_more_writes = crate::state_file::on_signal();
                crate::terminal::restore_on_signal();
                crate::countdown::end_line_on_signal();
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128_i32.saturating_add(signal));
            }
        });
}

/// Starts handling the signals (elsewhere than unix: the defaults stay).
#[cfg(not(unix))]
pub(crate) fn install() {}
