//! The one atomic file writer: every report, metrics textfile and systemd unit the tool
//! writes goes through [`write_atomic`].
//!
//! A leaf with no crate imports. `app` (report files), `metrics` (node_exporter's
//! textfile) and the binary's `install-timer` command use it, so a reader (a person, a
//! scrape, systemd) sees either the previous file or the new one, never half of one.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary files of concurrent writers in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The step of an atomic write that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStep {
    /// The path has no file name (e.g. `/` or `..`).
    Name,
    /// Creating the temporary file next to the target.
    CreateTemp,
    /// Writing the bytes to the temporary file.
    Write,
    /// Flushing the temporary file to disk.
    Sync,
    /// Renaming the temporary file over the target.
    Rename,
    /// Creating a missing directory (see [`prepare_dir`]).
    CreateDir,
    /// The path exists but is not a directory (see [`prepare_dir`]).
    NotADirectory,
}

impl std::fmt::Display for WriteStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WriteStep::Name => "not a file name (a directory?)",
            WriteStep::CreateTemp => "creating a temporary file",
            WriteStep::Write => "writing",
            WriteStep::Sync => "flushing to disk",
            WriteStep::Rename => "renaming into place",
            WriteStep::CreateDir => "creating the directory",
            WriteStep::NotADirectory => "not a directory",
        })
    }
}

/// An atomic write that failed; the target is unchanged and no temporary file is left.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {step}: {source}", path.display())]
pub struct WriteError {
    /// The file that was to be written.
    pub path: PathBuf,
    /// The step that failed.
    pub step: WriteStep,
    /// The operating system's error.
    #[source]
    pub source: io::Error,
}

impl WriteError {
    /// The kind of the underlying I/O error.
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }
}

/// Writes `bytes` to `path` atomically.
///
/// The bytes go to a hidden temporary file in the same directory (`.NAME.PID.N.tmp`,
/// ignored by node_exporter's collector and by systemd), are flushed to disk, and the
/// file is then renamed over `path`. On failure the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_atomic_mode(path, bytes, 0o666)
}

/// [`write_atomic`] with the file created with permission bits `mode` (before the
/// process umask), e.g. `0o600` for files only the owner may read: the temporary file has
/// the mode from its creation, so the bytes are never readable by others.
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |step: WriteStep, source: io::Error| WriteError { path: path.to_path_buf(), step, source };
    let Some(name) = path.file_name() else {
        return Err(fail(WriteStep::Name, io::Error::from(io::ErrorKind::InvalidInput)));
    };
    let dir = parent_dir(path);
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!(".{}.{}.{n}.tmp", name.to_string_lossy(), std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temp)
        .map_err(|e| fail(WriteStep::CreateTemp, e))?;
    let written = file
        .write_all(bytes)
        .map_err(|e| (WriteStep::Write, e))
        .and_then(|()| file.sync_all().map_err(|e| (WriteStep::Sync, e)))
        .and_then(|()| std::fs::rename(&temp, path).map_err(|e| (WriteStep::Rename, e)));
    if let Err((step, e)) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(fail(step, e));
    }
    // Persist the rename itself; a failure here loses nothing a reader could see.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The directory `path` is written in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Proves that this process may create files in `dir`, as [`write_atomic`] will: creates
/// a hidden temporary file there and removes it again.
fn probe_create(dir: &Path) -> io::Result<()> {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let probe = dir.join(format!(".nettriage-probe.{}.{n}.tmp", std::process::id()));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// What [`prepare_dir`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirState {
    /// The directory was there.
    Existed,
    /// The directory was missing and has been created (with its parents).
    Created,
}

/// Makes sure files can be written into `dir` before any work is done: creates it (and
/// its parents) when missing, refuses a path that is not a directory, and proves that
/// this process may create files there by creating and removing a hidden temporary file,
/// the way [`write_atomic`] will. Used to check an output directory up front (a survey's
/// textfile directory), so a bad path is an error before the first run, not after it.
pub fn prepare_dir(dir: &Path) -> Result<DirState, WriteError> {
    let fail = |step: WriteStep, source: io::Error| WriteError { path: dir.to_path_buf(), step, source };
    let state = match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => DirState::Existed,
        Ok(_) => return Err(fail(WriteStep::NotADirectory, io::Error::from(io::ErrorKind::NotADirectory))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| fail(WriteStep::CreateDir, e))?;
            DirState::Created
        }
        Err(e) => return Err(fail(WriteStep::CreateDir, e)),
    };
    probe_create(dir).map_err(|e| fail(WriteStep::CreateTemp, e))?;
    Ok(state)
}

/// Checks, before any work, that [`write_atomic`] can later write `path`: it names a
/// file (not a directory, not a path ending in `/`) in an existing directory where this
/// process may create files (proved by creating and removing a hidden temporary file).
/// Nothing is left behind; an existing file at `path` is not touched.
pub fn check_file_target(path: &Path) -> Result<(), WriteError> {
    let fail = |step: WriteStep, source: io::Error| WriteError { path: path.to_path_buf(), step, source };
    let names_a_dir = path.as_os_str().to_string_lossy().ends_with('/') || path.is_dir();
    if names_a_dir || path.file_name().is_none() {
        return Err(fail(WriteStep::Name, io::Error::from(io::ErrorKind::IsADirectory)));
    }
    let dir = parent_dir(path);
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(fail(WriteStep::CreateTemp, io::Error::from(io::ErrorKind::NotADirectory))),
        Err(e) => return Err(fail(WriteStep::CreateTemp, e)),
    }
    probe_create(dir).map_err(|e| fail(WriteStep::CreateTemp, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<std::ffi::OsString> {
        let mut names: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_the_file_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, "old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["report.json"]);
    }

    #[test]
    fn failures_name_the_step_and_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_atomic(&dir.path().join("missing").join("x.json"), b"x").unwrap_err();
        assert_eq!((e.step, e.kind()), (WriteStep::CreateTemp, io::ErrorKind::NotFound));
        assert!(e.path.ends_with("missing/x.json"));
        // Renaming a file over a directory fails after the temporary file was written.
        std::fs::create_dir(dir.path().join("taken")).unwrap();
        std::fs::write(dir.path().join("taken").join("inside"), "x").unwrap();
        let e = write_atomic(&dir.path().join("taken"), b"x").unwrap_err();
        assert_eq!(e.step, WriteStep::Rename);
        assert_eq!(names(dir.path()), ["taken"]);
        let e = write_atomic(Path::new("/"), b"x").unwrap_err();
        assert_eq!(e.step, WriteStep::Name);
    }

    #[test]
    fn prepare_dir_creates_refuses_files_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a").join("b");
        assert_eq!(prepare_dir(&nested).unwrap(), DirState::Created);
        assert_eq!(prepare_dir(&nested).unwrap(), DirState::Existed);
        assert!(names(&nested).is_empty(), "the probe file is removed");
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(prepare_dir(&file).unwrap_err().step, WriteStep::NotADirectory);
        assert_eq!(prepare_dir(&file.join("below")).unwrap_err().step, WriteStep::CreateDir);
    }

    #[test]
    fn a_file_target_is_checked_without_a_trace() {
        let dir = tempfile::tempdir().unwrap();
        check_file_target(&dir.path().join("report.html")).unwrap();
        assert!(names(dir.path()).is_empty(), "nothing created");
        assert_eq!(check_file_target(dir.path()).unwrap_err().step, WriteStep::Name);
        let slash = PathBuf::from(format!("{}/", dir.path().join("new").display()));
        assert_eq!(check_file_target(&slash).unwrap_err().step, WriteStep::Name);
        let e = check_file_target(&dir.path().join("missing").join("r.html")).unwrap_err();
        assert_eq!((e.step, e.kind()), (WriteStep::CreateTemp, io::ErrorKind::NotFound));
    }
}
