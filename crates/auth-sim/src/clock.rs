//! The intent clock: real time plus a manual offset, readable in milliseconds.
//!
//! The simulator's time is `elapsed real time (unless frozen) + offset`. With a manual
//! clock the real part is frozen at zero and only [`Clock::advance`] moves time; with a
//! real clock, `advance` still jumps ahead. Every waiter re-checks the time whenever the
//! offset changes, so advancing wakes held requests whose moment has come.

use std::time::{Duration, Instant};

use tokio::sync::watch;

pub(crate) struct Clock {
    /// `None`: frozen (manual clock).
    start: Option<Instant>,
    offset_ms: watch::Sender<u64>,
}

impl Clock {
    pub(crate) fn new(manual: bool) -> Clock {
        let (offset_ms, _) = watch::channel(0);
        Clock {
            start: (!manual).then(Instant::now),
            offset_ms,
        }
    }

    /// Milliseconds since the simulator started, on the simulator's clock.
    pub(crate) fn now_ms(&self) -> u64 {
        let real = self
            .start
            .map(|s| u64::try_from(s.elapsed().as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        real.saturating_add(*self.offset_ms.borrow())
    }

    pub(crate) fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.send_modify(|o| *o = o.saturating_add(ms));
    }

    /// Waits until the simulator's clock reads at least `target_ms`.
    pub(crate) async fn sleep_until(&self, target_ms: u64) {
        let mut offset = self.offset_ms.subscribe();
        loop {
            offset.borrow_and_update();
            let now = self.now_ms();
            if now >= target_ms {
                return;
            }
            match self.start {
                None => {
                    if offset.changed().await.is_err() {
                        return;
                    }
                }
                Some(_) => {
                    let wait = Duration::from_millis(target_ms - now);
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        changed = offset.changed() => {
                            if changed.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        }
    }
}
