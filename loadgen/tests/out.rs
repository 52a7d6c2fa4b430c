//! `--out` is checked before any load: a path a report cannot go to (a
//! directory, a symlink, a device, a read-only file, a directory that takes
//! no file) is refused with exit 73, no request sent, and what is there is
//! left untouched. The URL is a 127.0.0.1 listener the test starts, which
//! counts the connections it is offered.

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

fn refused(out: &Path) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let output = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["--url", &url, "--rps", "50", "--duration", "3s", "--quiet"])
        .arg("--out")
        .arg(out)
        .output()
        .expect("run loadgen");
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(73), "{out:?}: {err}");
    assert!(err.contains(&out.display().to_string()), "{err}");
    assert!(err.contains("no request was sent"), "{err}");
    // Connections loadgen opened would be queued in the backlog.
    assert!(listener.accept().is_err(), "{out:?}: a request was sent");
}

#[test]
fn unwritable_out_is_refused_before_any_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let readonly = dir.path().join("readonly.json");
    fs::write(&readonly, "keep").expect("write");
    fs::set_permissions(&readonly, fs::Permissions::from_mode(0o444)).expect("chmod");
    let target = dir.path().join("target.json");
    fs::write(&target, "target").expect("write");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");

    refused(dir.path());
    refused(&link);
    refused(&readonly);
    refused(Path::new("/proc/version"));
    refused(Path::new("/proc/weighbridge.json"));
    refused(Path::new("/dev/full"));

    assert_eq!(fs::read_to_string(&readonly).expect("read"), "keep");
    assert!(
        fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(&target).expect("read"), "target");
    let mut names: Vec<_> = fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["link.json", "readonly.json", "target.json"]);
}

/// `--out` was fine at the start, but its directory is gone by the end: the
/// report goes to $TMPDIR/loadgen-<run id>.json, named on stderr, exit 74.
/// The directory is removed when the test's 127.0.0.1 listener gets the
/// first connection, so load has started.
#[test]
fn report_that_cannot_be_written_at_the_end_goes_to_a_fallback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tmp = tempfile::tempdir().expect("tmpdir");
    let gone = dir.path().join("gone");
    fs::create_dir(&gone).expect("mkdir");
    let out = gone.join("r.json");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let remove = gone.clone();
    std::thread::spawn(move || {
        let mut first = true;
        // Each connection is dropped at once: connect failures, counted.
        while let Ok(conn) = listener.accept() {
            drop(conn);
            if first {
                fs::remove_dir_all(&remove).expect("remove --out's directory");
                first = false;
            }
        }
    });
    let output = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["--url", &url, "--rps", "20", "--duration", "1s", "--quiet"])
        .args(["--timeout", "1s"])
        .arg("--out")
        .arg(&out)
        .env("TMPDIR", tmp.path())
        .output()
        .expect("run loadgen");
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(74), "{err}");
    let files: Vec<_> = fs::read_dir(tmp.path())
        .expect("tmpdir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(err.contains(&files[0].display().to_string()), "{err}");
    let r = weighbridge_report::Report::read(&files[0]).expect("the run is kept");
    let t = &r.totals;
    assert_eq!(t.scheduled, 20);
    assert_eq!(t.scheduled, t.ok + t.failed + t.dropped, "{t:?}");
}
