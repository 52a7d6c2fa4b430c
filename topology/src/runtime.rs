//! HAProxy's runtime API, over its admin socket: change weights (`set map`),
//! add and enable servers, all without a reload or a dropped connection.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use weighbridge_policy::alb::ForwardTarget;

use crate::haproxy::{WEIGHTS_MAP_NAME, set_weights_commands};

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

    /// The weights the router holds now, read back from the map (`show
    /// map`) and un-cumulated in the draw's order (`order`: the weighted
    /// rule's labels, [`crate::haproxy::draw_order`]). A label missing from
    /// the map, or bounds that go down, are an error: the router is not
    /// one `topology` configured.
    pub fn weights(&self, order: &[String]) -> Result<Vec<ForwardTarget>, RuntimeError> {
        let answer = self.command(&format!("show map {}", self.weights_map.display()))?;
        // Lines: `0x55d1c0d2c0e0 cum_ecs 10`.
        let entries: Vec<(&str, u64)> = answer
            .lines()
            .filter_map(|l| {
                let mut cols = l.split_whitespace().skip(1);
                let key = cols.next()?;
                let value = cols.next()?.parse().ok()?;
                Some((key, value))
            })
            .collect();
        let bound = |key: &str| entries.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let mut out = Vec::new();
        let mut below = 0u64;
        for label in order {
            let cum = bound(&format!("cum_{label}")).ok_or_else(|| RuntimeError::Refused {
                command: "show map".to_owned(),
                answer: format!("no `cum_{label}` entry in {}", self.weights_map.display()),
            })?;
            let weight = cum
                .checked_sub(below)
                .ok_or_else(|| RuntimeError::Refused {
                    command: "show map".to_owned(),
                    answer: format!("`cum_{label}` {cum} is below the bound before it ({below})"),
                })?;
            out.push(ForwardTarget {
                target: label.clone(),
                weight: u32::try_from(weight).unwrap_or(u32::MAX),
            });
            below = cum;
        }
        if bound("total") != Some(below) {
            return Err(RuntimeError::Refused {
                command: "show map".to_owned(),
                answer: format!(
                    "`total` is {:?}, not the last bound {below}",
                    bound("total")
                ),
            });
        }
        Ok(out)
    }

    /// The runtime API at `socket`, with the weights map it has loaded
    /// (`show map` lists the maps; `topology` names it `weights.map`).
    pub fn discover(socket: PathBuf) -> Result<RuntimeApi, RuntimeError> {
        let probe = RuntimeApi {
            socket,
            weights_map: PathBuf::new(),
        };
        let answer = probe.command("show map")?;
        // Lines: `-1 (/tmp/x/weights.map) pattern loaded from file ...`.
        let map = answer
            .lines()
            .filter_map(|l| {
                let start = l.find('(')? + 1;
                let end = start + l[start..].find(')')?;
                Some(PathBuf::from(&l[start..end]))
            })
            .find(|p| p.file_name().is_some_and(|n| n == WEIGHTS_MAP_NAME))
            .ok_or_else(|| RuntimeError::Refused {
                command: "show map".to_owned(),
                answer: format!(
                    "no {WEIGHTS_MAP_NAME} among the maps loaded: this HAProxy was not configured by topology ({})",
                    answer.trim()
                ),
            })?;
        Ok(RuntimeApi {
            socket: probe.socket,
            weights_map: map,
        })
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
