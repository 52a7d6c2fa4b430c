//! Every value that goes into the rendered HAProxy configuration (or into a
//! runtime API command) is checked here first, so that none can add a line,
//! a directive, a quote or a sample fetch of its own: a newline in
//! `--servers` must not write a second `server` line, and a quote in a
//! policy path must not end an argument early.
//!
//! The rules, deliberately narrow (what a local test topology needs):
//! - a **name** (target label, server name): 1 to [`MAX_NAME_LEN`]
//!   characters of `[A-Za-z0-9_.-]`;
//! - an **address** (`--servers`, `add server`): `HOST:PORT`, where HOST is
//!   an IPv4 address, a bracketed IPv6 address (`[::1]:80`) or a DNS-safe
//!   host name (labels of letters, digits, `-` and `_`, not starting or
//!   ending with `-`), and PORT is 1–65535;
//! - a **resolver**: an IP address and a port (HAProxy's `nameserver` takes
//!   no name);
//! - a **path prefix** (`--prefix`): starts with `/`, `[A-Za-z0-9_.~/@:+-]`
//!   only (no `%`: `set-path` reads `%[...]` as a sample fetch), no empty,
//!   `.` or `..` segment, no trailing `/`;
//! - a **route path** (from the policy's rules and base path): the same
//!   characters as a prefix, plus `%` (a literal in an ACL pattern);
//! - a **file path** (`--weights-map`): `[A-Za-z0-9_.~/+-]` only (no `,`
//!   or `)`, which end a converter argument);
//! - the **runtime API socket** (`--socket`): an absolute file path of the
//!   same characters: a Unix socket. HAProxy reads `ipv4@…`, `ipv6@…` or
//!   `HOST:PORT` there as a TCP listener with admin level, i.e. anyone who
//!   reaches the port can change weights and servers; that is refused
//!   unless asked for explicitly (`--allow-tcp-runtime-api`), and even then
//!   only as `[ipv4@|ipv6@]IP:PORT`.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// Longest name (label or server name) accepted.
pub const MAX_NAME_LEN: usize = 64;
/// Longest host name accepted (DNS limit).
const MAX_HOST_LEN: usize = 253;
/// Longest DNS label accepted.
const MAX_HOST_LABEL_LEN: usize = 63;

/// A value refused before it reaches the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {value:?} is refused: {reason}")]
pub struct Invalid {
    /// Which value (`--servers ecs`, `--socket`, `path rule path-0`, …).
    pub what: String,
    /// The value as given.
    pub value: String,
    /// Why, and what is accepted.
    pub reason: String,
}

fn invalid(what: &str, value: &str, reason: impl Into<String>) -> Invalid {
    Invalid {
        what: what.to_owned(),
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// A target label or a server name.
pub fn name(what: &str, value: &str) -> Result<(), Invalid> {
    let ok = !value.is_empty()
        && value.len() <= MAX_NAME_LEN
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            what,
            value,
            format!("use 1 to {MAX_NAME_LEN} characters of letters, digits, '-', '_' or '.'"),
        ))
    }
}

/// `HOST:PORT` with an IP address or a DNS-safe host name.
pub fn address(what: &str, value: &str) -> Result<(), Invalid> {
    if value.parse::<SocketAddr>().is_ok() {
        return port_nonzero(what, value);
    }
    let reason = "expected HOST:PORT: an IPv4 address, [IPv6] or a host name of letters, digits, '-', '_' and '.', and a port 1-65535";
    let Some((host, port)) = value.rsplit_once(':') else {
        return Err(invalid(what, value, reason));
    };
    if !valid_port(port) || !valid_hostname(host) {
        return Err(invalid(what, value, reason));
    }
    Ok(())
}

fn port_nonzero(what: &str, value: &str) -> Result<(), Invalid> {
    match value.parse::<SocketAddr>() {
        Ok(a) if a.port() != 0 => Ok(()),
        _ => Err(invalid(what, value, "the port must be 1-65535")),
    }
}

fn valid_port(port: &str) -> bool {
    !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|p| p != 0)
}

fn valid_hostname(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    // All digits and dots would be an IP address, and it did not parse.
    !host.is_empty()
        && host.len() <= MAX_HOST_LEN
        && !host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= MAX_HOST_LABEL_LEN
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// `--resolver resolv.conf`: HAProxy reads the nameservers from
/// /etc/resolv.conf (`parse-resolv-conf`): Docker's 127.0.0.11, podman's
/// network gateway, whichever engine runs the router.
pub const RESOLV_CONF: &str = "resolv.conf";

/// A DNS server for `resolvers`: an IP address and a port, or
/// [`RESOLV_CONF`] (the container's own nameservers).
pub fn resolver(what: &str, value: &str) -> Result<(), Invalid> {
    if value == RESOLV_CONF {
        return Ok(());
    }
    match value.parse::<SocketAddr>() {
        Ok(_) => port_nonzero(what, value),
        Err(_) => Err(invalid(
            what,
            value,
            "expected IP:PORT (HAProxy's nameserver takes an address, e.g. 127.0.0.11:53) or resolv.conf",
        )),
    }
}

fn path_chars(value: &str, extra: &[char]) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.~/@:+-".contains(c) || extra.contains(&c))
}

fn segments_ok(value: &str) -> bool {
    !value.contains("//") && !value.split('/').any(|s| matches!(s, "." | ".."))
}

/// The prefix `set-path` prepends for a group.
pub fn path_prefix(what: &str, value: &str) -> Result<(), Invalid> {
    let ok = value.starts_with('/')
        && value.len() > 1
        && !value.ends_with('/')
        && path_chars(value, &[])
        && segments_ok(value);
    if ok {
        Ok(())
    } else {
        Err(invalid(
            what,
            value,
            "expected /SEGMENT[/SEGMENT...] of letters, digits and '_', '.', '~', '@', ':', '+', '-'; no empty, '.' or '..' segment, no trailing '/'",
        ))
    }
}

/// A path pattern of a listener rule, as the router's ACLs match it.
pub fn route_path(what: &str, value: &str) -> Result<(), Invalid> {
    if value.starts_with('/') && path_chars(value, &['%']) && segments_ok(value) {
        Ok(())
    } else {
        Err(invalid(
            what,
            value,
            "the router only writes paths of letters, digits and '_', '.', '~', '@', ':', '+', '-', '%', with no empty, '.' or '..' segment",
        ))
    }
}

fn file_path_str<'a>(what: &str, value: &'a Path) -> Result<&'a str, Invalid> {
    let shown = value.display().to_string();
    let s = value
        .to_str()
        .ok_or_else(|| invalid(what, &shown, "not valid UTF-8"))?;
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.~/+-".contains(c));
    if ok {
        Ok(s)
    } else {
        Err(invalid(
            what,
            s,
            "a file path of letters, digits and '_', '.', '~', '/', '+', '-' only",
        ))
    }
}

/// A file the configuration names (the weights map).
pub fn file_path(what: &str, value: &Path) -> Result<(), Invalid> {
    file_path_str(what, value).map(|_| ())
}

/// The runtime API socket: an absolute Unix socket path; a TCP listener
/// (`[ipv4@|ipv6@]IP:PORT`) only with `allow_tcp`.
pub fn runtime_socket(what: &str, value: &Path, allow_tcp: bool) -> Result<(), Invalid> {
    let shown = value.display().to_string();
    let s = value.to_str().unwrap_or(&shown);
    let tcp = s.contains('@') || s.contains(':') || !s.starts_with('/');
    if !tcp {
        return file_path(what, value);
    }
    if !allow_tcp {
        return Err(invalid(
            what,
            s,
            "the runtime API has admin level (weights, servers); it is only served on an absolute Unix socket path unless --allow-tcp-runtime-api is given",
        ));
    }
    let addr = s
        .strip_prefix("ipv4@")
        .or_else(|| s.strip_prefix("ipv6@"))
        .unwrap_or(s);
    match addr.parse::<SocketAddr>() {
        Ok(a) if a.port() != 0 => {
            let family_ok = !matches!(
                (s.split_once('@').map(|(f, _)| f), a.ip()),
                (Some("ipv4"), IpAddr::V6(_)) | (Some("ipv6"), IpAddr::V4(_))
            );
            if family_ok {
                Ok(())
            } else {
                Err(invalid(
                    what,
                    s,
                    "the address family does not match its prefix",
                ))
            }
        }
        _ => Err(invalid(
            what,
            s,
            "a TCP runtime API is [ipv4@|ipv6@]IP:PORT with a port 1-65535",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in [
            "127.0.0.1:3001",
            "[::1]:80",
            "ecs-1:3000",
            "lambda-emulator:9000",
            "my_service.local:65535",
            "example.com.:80",
        ] {
            address("a", ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            "127.0.0.1",
            "127.0.0.1:0",
            "127.0.0.1:65536",
            "127.0.0.1:+80",
            "ecs=127.0.0.1:3001",
            "127.0.0.1:3001 backup",
            "127.0.0.1:3001\n  server evil 10.0.0.1:80",
            "::1:80",
            "999.1.1.1:80",
            "-bad:80",
            "a..b:80",
            ":80",
            "host:",
            "h\u{e9}:80",
        ] {
            assert!(address("a", bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn sockets() {
        let p = |s: &str| Path::new(s).to_owned();
        runtime_socket("s", &p("/var/run/haproxy/admin.sock"), false).expect("unix");
        for tcp in ["ipv4@0.0.0.0:9999", "0.0.0.0:9999", "ipv6@[::1]:9999"] {
            let e = runtime_socket("s", &p(tcp), false).expect_err(tcp);
            assert!(e.reason.contains("--allow-tcp-runtime-api"), "{e}");
            runtime_socket("s", &p(tcp), true).unwrap_or_else(|e| panic!("{tcp}: {e}"));
        }
        for bad in [
            "admin.sock",
            "/run/a b.sock",
            "/run/a.sock\nlisten x",
            "unix@/run/a.sock",
            "abns@x",
            "ipv4@[::1]:9",
        ] {
            assert!(runtime_socket("s", &p(bad), true).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prefixes_and_paths() {
        path_prefix("p", "/lambda-url/_").expect("ok");
        for bad in [
            "", "/", "x", "/a/", "/a//b", "/a/../b", "/%[src]", "/a\"b", "/a b",
        ] {
            assert!(path_prefix("p", bad).is_err(), "{bad:?}");
        }
        route_path("r", "/dev/caf%C3%A9").expect("percent is literal in an ACL");
        for bad in ["/a\"b", "/a'b", "/a\\b", "/a\nb", "/a$b", "/a/../b"] {
            assert!(route_path("r", bad).is_err(), "{bad:?}");
        }
    }
}
