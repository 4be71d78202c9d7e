//! Errors of the host crate.

use std::path::PathBuf;

/// Something the host subsystem could not read, parse or write.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or `/proc/sys` entry could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The netlink socket failed or the kernel answered with an error.
    #[error("netlink {what}: {message}")]
    Netlink { what: &'static str, message: String },
    /// A file that could not be read (not a regular file, too large, not text).
    #[error(transparent)]
    Read(#[from] kube6_fs::ReadError),
    /// The sysctl file could not be written; nothing was changed at its path.
    #[error(transparent)]
    Write(#[from] kube6_fs::WriteError),
    /// A value given by the user (flag, plan) is not valid.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
