//! SIGTERM and SIGINT for the binaries that stop gracefully: the backend's
//! server (drain) and worker, loadgen (interrupted report) and the local
//! topology (stop every process).
//!
//! The handlers are installed when [`Signals::register`] returns, not when a
//! future is first polled. That matters: axum polls its graceful-shutdown
//! future on a task of its own, which may run after the first request has
//! been answered, and a SIGTERM that comes before the handler exists kills
//! the process with the default action, skipping the drain or the report.

use tokio::signal::unix::{Signal, SignalKind, signal};

/// SIGTERM and SIGINT, caught from registration on.
#[derive(Debug)]
pub struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    /// Installs the handlers. Needs a Tokio runtime with signals enabled.
    pub fn register() -> std::io::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Resolves at the first SIGTERM or SIGINT since registration, and says
    /// which.
    pub async fn recv(mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use nix::sys::signal::{Signal as Sig, raise};

    use super::Signals;

    /// A signal raised after registration but before anything waits for it
    /// is kept (the process would die of it otherwise) and named.
    #[tokio::test]
    async fn a_signal_before_the_first_poll_is_not_lost() {
        let signals = Signals::register().expect("register");
        raise(Sig::SIGINT).expect("raise");
        let which = tokio::time::timeout(Duration::from_secs(10), signals.recv())
            .await
            .expect("the signal was delivered");
        assert_eq!(which, "SIGINT");
    }
}
