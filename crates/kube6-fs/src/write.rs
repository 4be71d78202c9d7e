//! One file, written atomically: a temporary file in the target's directory is written, given
//! its mode and synced, then renamed over the target, and the directory is synced. Readers see
//! the old content or the new, never a part. The target is replaced only when it is a regular
//! file (and only when asked); a symbolic link, device, FIFO, socket or directory in its place
//! is refused, never written through or replaced.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags};

use crate::{FileKind, temp};

/// Whether an existing target may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Fail if the target exists.
    No,
    /// Replace the target if it is a regular file; refuse anything else.
    RegularFile,
}

/// A file that could not be written; nothing was changed at its path.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{} already exists; nothing was written", .path.display())]
    Exists { path: PathBuf },
    #[error("{} is {kind}; kube6 writes and replaces only regular files, nothing was written", .path.display())]
    NotRegular { path: PathBuf, kind: FileKind },
    #[error("{} names no file to write", .path.display())]
    NoFileName { path: PathBuf },
    #[error("cannot {action} {}; nothing was written", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl WriteError {
    fn io(action: &'static str, path: &Path, source: impl Into<io::Error>) -> WriteError {
        WriteError::Io {
            action,
            path: path.to_path_buf(),
            source: source.into(),
        }
    }
}

/// What is at `name` in `dir`, without following a symbolic link; None when nothing is.
pub(crate) fn entry_kind(dir: impl AsFd, name: &str) -> io::Result<Option<FileKind>> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(stat) => Ok(Some(FileKind::of_stat(&stat))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Writes `content` into the new file `fd`, sets `mode` and syncs it to disk.
pub(crate) fn fill(fd: OwnedFd, content: &[u8], mode: u32) -> io::Result<()> {
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode as _))?;
    let mut file = File::from(fd);
    file.write_all(content)?;
    file.sync_all()
}

/// Opens a directory for `*at` calls.
pub(crate) fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    Ok(rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// Creates `dir` and its missing ancestors; returns the ones it created, deepest first, so that
/// a write that fails afterwards can remove them again ([`remove_created`]).
pub(crate) fn create_dirs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let missing: Vec<PathBuf> = dir
        .ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .take_while(|a| {
            matches!(std::fs::symlink_metadata(a), Err(e) if e.kind() == io::ErrorKind::NotFound)
        })
        .map(Path::to_path_buf)
        .collect();
    std::fs::create_dir_all(dir)?;
    Ok(missing)
}

/// Removes directories [`create_dirs`] created (they are empty again after a failed write).
pub(crate) fn remove_created(created: &[PathBuf]) {
    for dir in created {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Renames `from` to `to` in `dir`, failing if `to` exists. Filesystems without
/// `RENAME_NOREPLACE` get a hard link (which never replaces) and an unlink instead.
pub(crate) fn rename_noreplace(dir: impl AsFd, from: &str, to: &str) -> io::Result<()> {
    match rustix::fs::renameat_with(&dir, from, &dir, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {
            rustix::fs::linkat(&dir, from, &dir, to, AtFlags::empty())?;
            rustix::fs::unlinkat(&dir, from, AtFlags::empty())?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Writes `path` atomically with `mode`. Its directory is created if missing (with the usual
/// permissions); the path up to that directory is the caller's and is followed as given.
pub fn write_atomic(
    path: &Path,
    content: &[u8],
    mode: u32,
    replace: Replace,
) -> Result<(), WriteError> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Err(WriteError::NoFileName {
            path: path.to_path_buf(),
        });
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let created = create_dirs(parent).map_err(|e| WriteError::io("create", parent, e))?;
    // On any failure below, the directories made for this file go again.
    let result = write_in(parent, name, path, content, mode, replace);
    if result.is_err() {
        remove_created(&created);
    }
    result
}

fn write_in(
    parent: &Path,
    name: &str,
    path: &Path,
    content: &[u8],
    mode: u32,
    replace: Replace,
) -> Result<(), WriteError> {
    let dir = open_dir(parent).map_err(|e| WriteError::io("open", parent, e))?;
    check_target(&dir, name, path, replace)?;
    let (tmp, fd) =
        temp::create(&dir).map_err(|e| WriteError::io("create a temporary file in", parent, e))?;
    let remove_tmp = || {
        let _ = rustix::fs::unlinkat(&dir, tmp.as_str(), AtFlags::empty());
    };
    if let Err(e) = fill(fd, content, mode) {
        remove_tmp();
        return Err(WriteError::io("write", path, e));
    }
    let renamed = match replace {
        Replace::No => rename_noreplace(&dir, &tmp, name).map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                WriteError::Exists {
                    path: path.to_path_buf(),
                }
            } else {
                WriteError::io("write", path, e)
            }
        }),
        Replace::RegularFile => check_target(&dir, name, path, replace).and_then(|()| {
            rustix::fs::renameat(&dir, tmp.as_str(), &dir, name)
                .map_err(|e| WriteError::io("write", path, e))
        }),
    };
    if let Err(e) = renamed {
        remove_tmp();
        return Err(e);
    }
    // The rename is durable once the directory is; a failure here leaves the new file in place.
    let _ = rustix::fs::fsync(&dir);
    Ok(())
}

/// Writes `content` into the existing regular file `path` in place (a kernel parameter under
/// /proc/sys, which cannot be replaced by a rename): never creates a file, never follows a
/// symbolic link at `path`, never writes to a device or FIFO.
pub fn overwrite_existing(path: &Path, content: &[u8]) -> Result<(), WriteError> {
    let fd = rustix::fs::open(
        path,
        OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        rustix::io::Errno::LOOP => WriteError::NotRegular {
            path: path.to_path_buf(),
            kind: FileKind::Symlink,
        },
        e => WriteError::io("open", path, e),
    })?;
    let stat = rustix::fs::fstat(&fd).map_err(|e| WriteError::io("inspect", path, e))?;
    let kind = FileKind::of_stat(&stat);
    if kind != FileKind::Regular {
        return Err(WriteError::NotRegular {
            path: path.to_path_buf(),
            kind,
        });
    }
    File::from(fd)
        .write_all(content)
        .map_err(|e| WriteError::io("write", path, e))
}

fn check_target(
    dir: impl AsFd,
    name: &str,
    path: &Path,
    replace: Replace,
) -> Result<(), WriteError> {
    match entry_kind(dir, name).map_err(|e| WriteError::io("inspect", path, e))? {
        None => Ok(()),
        Some(FileKind::Regular) if replace == Replace::RegularFile => Ok(()),
        Some(FileKind::Regular) => Err(WriteError::Exists {
            path: path.to_path_buf(),
        }),
        Some(kind) => Err(WriteError::NotRegular {
            path: path.to_path_buf(),
            kind,
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(temp::PREFIX))
            .collect()
    }

    #[test]
    fn writes_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/a.conf");
        write_atomic(&path, b"a = 1\n", 0o640, Replace::No).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a = 1\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let err = write_atomic(&path, b"a = 2\n", 0o644, Replace::No).unwrap_err();
        assert!(matches!(err, WriteError::Exists { .. }), "{err}");
        write_atomic(&path, b"a = 2\n", 0o644, Replace::RegularFile).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a = 2\n");
        assert!(leftovers(&dir.path().join("sub")).is_empty());
    }

    #[test]
    fn in_place_writes_go_to_existing_regular_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("forwarding");
        std::fs::write(&file, "0\n").unwrap();
        overwrite_existing(&file, b"1\n").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "1\n");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(matches!(
            overwrite_existing(&link, b"2\n"),
            Err(WriteError::NotRegular {
                kind: FileKind::Symlink,
                ..
            })
        ));
        assert!(overwrite_existing(&dir.path().join("missing"), b"1\n").is_err());
        assert!(!dir.path().join("missing").exists());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "1\n");
    }

    #[test]
    fn a_failed_write_removes_the_directories_it_made() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/null", dir.path().join("x")).unwrap();
        // The directories a/b are made, then the target refuses: they go again.
        let path = dir.path().join("a/b/c");
        std::fs::create_dir_all(&path).unwrap();
        let err = write_atomic(&path, b"x", 0o644, Replace::RegularFile).unwrap_err();
        assert!(matches!(err, WriteError::NotRegular { .. }), "{err}");
        std::fs::remove_dir_all(dir.path().join("a")).unwrap();
        let deep = dir.path().join("new/deeper/file\0bad");
        assert!(write_atomic(&deep, b"x", 0o644, Replace::No).is_err());
        assert!(!dir.path().join("new").exists());
    }

    #[test]
    fn never_replaces_links_devices_or_fifos() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let null = dir.path().join("null");
        std::os::unix::fs::symlink("/dev/null", &null).unwrap();
        for (target, kind) in [
            (&link, FileKind::Symlink),
            (&fifo, FileKind::Fifo),
            (&null, FileKind::Symlink),
        ] {
            for replace in [Replace::No, Replace::RegularFile] {
                let err = write_atomic(target, b"x", 0o644, replace).unwrap_err();
                assert!(
                    matches!(&err, WriteError::NotRegular { kind: k, .. } if *k == kind),
                    "{err}"
                );
            }
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        let err =
            write_atomic(Path::new("/dev/null"), b"x", 0o644, Replace::RegularFile).unwrap_err();
        assert!(
            matches!(
                err,
                WriteError::NotRegular {
                    kind: FileKind::CharacterDevice,
                    ..
                }
            ),
            "{err}"
        );
        assert!(leftovers(dir.path()).is_empty());
    }
}
