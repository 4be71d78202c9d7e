//! Errors of the host crate.

use std::path::PathBuf;

/// Something the host subsystem could not read, parse or write.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or `/proc/sys` entry could not be read or written.
    #[error("cannot {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The netlink socket failed, or the kernel answered a request with an error.
    #[error("cannot read the {what} over netlink")]
    Netlink {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
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

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// What failed in the message, why in the source: each printed once by the caller's chain.
    #[test]
    fn messages_leave_the_cause_to_the_source() {
        let err = Error::io(
            "read",
            "/proc/sys/net/ipv6/conf/all/forwarding",
            std::io::Error::from_raw_os_error(13),
        );
        assert_eq!(
            err.to_string(),
            "cannot read /proc/sys/net/ipv6/conf/all/forwarding"
        );
        assert_eq!(
            err.source().map(|s| s.to_string()).as_deref(),
            Some("Permission denied (os error 13)")
        );
        let err = Error::Netlink {
            what: "routes",
            source: std::io::Error::from_raw_os_error(105),
        };
        assert_eq!(err.to_string(), "cannot read the routes over netlink");
        assert_eq!(
            err.source().map(|s| s.to_string()).as_deref(),
            Some("No buffer space available (os error 105)")
        );
    }
}
