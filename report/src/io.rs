//! Reading and writing report files.
//!
//! Reading always validates: there is no public way to get a [`Report`] out
//! of a file without its invariants checked, so `verify` cannot judge a
//! broken report by accident. Writing is atomic (temp file in the same
//! directory, fsync, rename), so a reader never sees half a report, even if
//! loadgen is killed while writing.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::schema::Report;
use crate::validate::{ValidationError, check_schema};

/// A report text could not be turned into a valid [`Report`].
#[derive(Debug, Error)]
pub enum ParseError {
    /// Not JSON, or JSON that does not have the v1 shape (missing field,
    /// wrong type, negative count, bad timestamp).
    #[error("not a well-formed weighbridge.report/v1 document: {0}")]
    Json(#[from] serde_json::Error),
    /// Well-formed, but inconsistent or of an unsupported schema version.
    #[error("invalid report: {0}")]
    Invalid(#[from] ValidationError),
}

/// A report file could not be read or written. Every variant names the file.
#[derive(Debug, Error)]
pub enum ReportError {
    /// The file could not be read.
    #[error("cannot read report {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file was read but is not a valid report.
    #[error("report {}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: ParseError,
    },
    /// The path is not a place a report may be written: something other
    /// than a regular writable file is there (a symlink, a directory, a
    /// device, a read-only file), or its directory does not take new files.
    /// Nothing was written, and whatever is at the path is untouched.
    #[error("cannot write a report to {}: {reason}", path.display())]
    Destination {
        /// The path.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file could not be written.
    #[error("cannot write report {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// Just the `schema` field, read when a document does not parse as a report,
/// so a report of another major version is rejected as such, not with a
/// confusing "missing field" error about a field that version renamed.
#[derive(Deserialize)]
struct SchemaProbe {
    schema: Option<String>,
}

impl Report {
    /// Parses and validates a report.
    pub fn from_json(text: &str) -> Result<Self, ParseError> {
        match serde_json::from_str::<Self>(text) {
            Ok(report) => {
                // Checks the schema version first.
                report.validate()?;
                Ok(report)
            }
            // Only a document that is not a v1 report is parsed a second
            // time, for its `schema`: another major version is named as
            // such, not reported as a missing or renamed field.
            Err(e) => match serde_json::from_str::<SchemaProbe>(text) {
                Ok(SchemaProbe {
                    schema: Some(schema),
                }) => {
                    check_schema(&schema)?;
                    Err(e.into())
                }
                _ => Err(e.into()),
            },
        }
    }

    /// The report as pretty-printed JSON (keys sorted, so output is
    /// deterministic). Does not validate.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a Report always serializes")
    }

    /// Reads, parses and validates the report at `path`.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, ReportError> {
        let path = path.as_ref();
        let text = fs::read_to_string(path).map_err(|source| ReportError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&text).map_err(|source| ReportError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Writes the report to `path` atomically: into a temporary file in the
    /// same directory (a rename is only atomic within one file system),
    /// flushed and fsynced, then renamed over `path`, then the directory is
    /// fsynced so the rename itself survives a crash. On error the temporary
    /// file is removed and `path` is untouched.
    ///
    /// Does not validate: a report that fails validation is still worth
    /// keeping for diagnosis, and every reader validates anyway.
    ///
    /// Refuses ([`ReportError::Destination`]) a path that
    /// [`Report::check_destination`] refuses, so a symlink, a device or a
    /// read-only file is never replaced by a regular file.
    pub fn write_atomic(&self, path: impl AsRef<Path>) -> Result<(), ReportError> {
        let path = path.as_ref();
        Self::check_destination(path)?;
        self.write_atomic_inner(path)
            .map_err(|source| ReportError::Write {
                path: path.to_owned(),
                source,
            })
    }

    /// Whether a report can be written to `path`, checked without writing
    /// it (loadgen calls this before sending any load, so a run is not lost
    /// to a bad `--out`): the path is absent or a regular file with a write
    /// permission bit set (not a symlink, directory, device or read-only
    /// file, which a rename would replace), and its directory exists and
    /// takes a new file (a temporary file is created there and removed).
    pub fn check_destination(path: impl AsRef<Path>) -> Result<(), ReportError> {
        let path = path.as_ref();
        let refuse = |reason: String| ReportError::Destination {
            path: path.to_owned(),
            reason,
        };
        match fs::symlink_metadata(path) {
            Ok(meta) => {
                let kind = meta.file_type();
                if kind.is_symlink() {
                    return Err(refuse(
                        "it is a symbolic link (give its target instead)".into(),
                    ));
                }
                if kind.is_dir() {
                    return Err(refuse("it is a directory".into()));
                }
                if !kind.is_file() {
                    return Err(refuse(
                        "it is not a regular file (a device, a socket or a FIFO)".into(),
                    ));
                }
                if meta.permissions().readonly() {
                    return Err(refuse("it is a read-only file".into()));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(refuse(e.to_string())),
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        tempfile::Builder::new()
            .prefix(".report-")
            .suffix(".json.check")
            .tempfile_in(dir)
            .map(drop)
            .map_err(|e| {
                refuse(format!(
                    "its directory {} takes no new file: {e}",
                    dir.display()
                ))
            })
    }

    fn write_atomic_inner(&self, path: &Path) -> io::Result<()> {
        write_json_atomic(path, self)
    }
}

/// Writes `value` as pretty JSON to `path` atomically: a temporary file in
/// the same directory, fsync, rename, fsync of the directory. Shared by
/// every document weighbridge writes (the load report, the rollout report).
pub(crate) fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".report-").suffix(".json.tmp");
    // Temp files are created 0600; a report is an artifact others read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    let mut file = builder.tempfile_in(dir)?;
    {
        let mut out = BufWriter::new(file.as_file_mut());
        serde_json::to_writer_pretty(&mut out, value)?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}
