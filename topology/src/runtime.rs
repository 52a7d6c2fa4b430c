//! HAProxy's runtime API, over its admin socket: change weights (`set map`),
//! add and enable servers, all without a reload or a dropped connection.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use weighbridge_policy::alb::ForwardTarget;

use crate::haproxy::set_weights_commands;

#[derive(Debug, Clone)]
pub struct RuntimeApi {
    pub socket: PathBuf,
    pub weights_map: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("HAProxy runtime API at {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("HAProxy refused `{command}`: {answer}")]
    Refused { command: String, answer: String },
    #[error(transparent)]
    Invalid(#[from] crate::validate::Invalid),
}

impl RuntimeApi {
    /// Sends one command; returns HAProxy's answer.
    pub fn command(&self, command: &str) -> Result<String, RuntimeError> {
        let io = |e| RuntimeError::Io(self.socket.clone(), e);
        let mut s = UnixStream::connect(&self.socket).map_err(io)?;
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(io)?;
        s.write_all(format!("{command}\n").as_bytes()).map_err(io)?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).map_err(io)?;
        let trimmed = answer.trim();
        // HAProxy says what went wrong on the first line. A `show` answer
        // is data, its header line starting with `#` (`show stat` has
        // columns named `*_errors`).
        let first = trimmed.lines().next().unwrap_or_default();
        let failed = !first.starts_with('#')
            && [
                "Unknown",
                "No such",
                "not found",
                "Require",
                "invalid",
                "error",
                "cannot",
            ]
            .iter()
            .any(|w| first.contains(w));
        if failed {
            return Err(RuntimeError::Refused {
                command: command.to_owned(),
                answer: trimmed.to_owned(),
            });
        }
        Ok(answer)
    }

    /// Changes the weighted rule's weights in place.
    pub fn set_weights(&self, weights: &[ForwardTarget]) -> Result<(), RuntimeError> {
        for c in set_weights_commands(&self.weights_map, weights) {
            self.command(&c)?;
        }
        Ok(())
    }

    /// Adds a server to a target group and puts it in rotation (after its
    /// health check passes, as a newly registered ALB target).
    pub fn add_server(&self, label: &str, name: &str, address: &str) -> Result<(), RuntimeError> {
        // One line per command: nothing here may carry a second one.
        crate::validate::name("add server: label", label)?;
        crate::validate::name("add server: server name", name)?;
        crate::validate::address("add server: address", address)?;
        self.command(&format!("add server tg_{label}/{name} {address} check"))?;
        self.command(&format!("enable health tg_{label}/{name}"))?;
        self.command(&format!("enable server tg_{label}/{name}"))?;
        Ok(())
    }

    /// `show servers state` for one group: the servers and their states.
    pub fn servers(&self, label: &str) -> Result<String, RuntimeError> {
        crate::validate::name("show servers state: label", label)?;
        self.command(&format!("show servers state tg_{label}"))
    }
}
