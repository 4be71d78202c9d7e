//! Temporary files next to their target, created relative to a directory descriptor.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{AtFlags, Mode, OFlags};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The prefix of every temporary name kube6 creates, so that leftovers are recognisable.
pub(crate) const PREFIX: &str = ".kube6-";

/// A fresh, unused name in `dir` with `purpose` in it ("tmp", "old").
fn candidate(purpose: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{PREFIX}{}-{}-{nanos:08x}.{purpose}",
        rustix::process::getpid().as_raw_nonzero(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Creates a new, empty file in `dir`, readable and writable by its owner only until its mode
/// is set. Never follows a symbolic link and never opens an existing file.
pub(crate) fn create(dir: impl AsFd) -> io::Result<(String, OwnedFd)> {
    for _ in 0..64 {
        let name = candidate("tmp");
        match rustix::fs::openat(
            &dir,
            name.as_str(),
            OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::from_raw_mode(0o600),
        ) {
            Ok(fd) => return Ok((name, fd)),
            Err(rustix::io::Errno::EXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no unused temporary file name",
    ))
}

/// A second name for the file `name` in `dir` (a hard link), to restore it from.
pub(crate) fn link_backup(dir: impl AsFd, name: &str) -> io::Result<String> {
    for _ in 0..64 {
        let backup = candidate("old");
        match rustix::fs::linkat(&dir, name, &dir, backup.as_str(), AtFlags::empty()) {
            Ok(()) => return Ok(backup),
            Err(rustix::io::Errno::EXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no unused backup file name",
    ))
}
