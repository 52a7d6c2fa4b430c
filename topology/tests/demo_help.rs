//! `scripts/demo --help` lists the flags it passes to `topology demo`, and
//! those of `scripts/demo rollout` to `topology rollout-demo`: the lists are
//! the same, so the script's help cannot drift from the
//! binary's. Its help installs and builds nothing (it runs before lib.sh).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Every `--long` flag at the start of a help line (and, on a line that
/// lists several flags `--a X, --b Y,`, each of them).
fn flags(help: &str) -> BTreeSet<String> {
    help.lines()
        .flat_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("-h, ").unwrap_or(l);
            if !l.starts_with("--") {
                return Vec::new();
            }
            let first = l.split([' ', '=', ',', '<']).next().unwrap_or(l).to_owned();
            if l.contains(", --") {
                l.split(", ")
                    .filter_map(|part| part.split_whitespace().next())
                    .filter(|f| f.starts_with("--"))
                    .map(|f| f.trim_end_matches(',').to_owned())
                    .collect()
            } else {
                vec![first]
            }
        })
        .collect()
}

/// The part of `scripts/demo --help` about `scripts/demo rollout`.
const ROLLOUT_SECTION: &str = "Flags of `scripts/demo rollout`";

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_demo_scripts_help_lists_exactly_the_flags_of_topology_demo() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root");
    let (code, script, err) = run(Command::new("bash")
        .arg(root.join("scripts/demo"))
        .arg("--help")
        // Nothing may be installed or built for --help: an empty cache
        // directory stays empty.
        .env("WEIGHBRIDGE_CACHE", "/nonexistent/weighbridge-cache"));
    assert_eq!(code, 0, "{err}");
    assert!(script.contains("Exit codes:"), "{script}");
    let (demo, rollout) = script
        .split_once(ROLLOUT_SECTION)
        .expect("a section for scripts/demo rollout");
    for (section, subcommand) in [(demo, "demo"), (rollout, "rollout-demo")] {
        let (code, binary, err) =
            run(Command::new(env!("CARGO_BIN_EXE_topology")).args([subcommand, "--help"]));
        assert_eq!(code, 0, "{err}");
        let (script_flags, binary_flags) = (flags(section), flags(&binary));
        assert!(binary_flags.len() >= 10, "{binary_flags:?}");
        assert_eq!(
            script_flags, binary_flags,
            "scripts/demo --help vs topology {subcommand} --help"
        );
    }
}

#[test]
fn a_bad_flag_is_a_usage_error_not_a_verdict() {
    let (code, _, err) =
        run(Command::new(env!("CARGO_BIN_EXE_topology")).args(["demo", "--no-such-flag"]));
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("--no-such-flag"), "{err}");
}
