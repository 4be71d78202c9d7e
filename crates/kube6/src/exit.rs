//! Exit statuses of the command-line contract and the error type that carries them.
//!
//! 0: fine (warnings allowed); 1: the input or the system is not valid, or a check failed;
//! 2: usage error, unreadable file, unparsable document.

use std::fmt;
use std::process::ExitCode;

/// The outcome of a command that ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything is fine; warnings are allowed.
    Ok,
    /// The input or the system is not valid, or a check failed.
    Invalid,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        match status {
            Status::Ok => ExitCode::SUCCESS,
            Status::Invalid => ExitCode::from(1),
        }
    }
}

/// A command that could not run to the end.
#[derive(Debug)]
pub enum Failure {
    /// Bad usage, an unreadable file or an unparsable document: exit 2.
    Usage(anyhow::Error),
    /// The system refused something the command needed (e.g. a check could not be done): exit 1.
    Failed(anyhow::Error),
    /// Already reported through the daemon's log (`ndp-proxy --log-format json`, where every
    /// line on stderr is a JSON record): only the exit status is left to give.
    Logged(u8),
}

impl Failure {
    pub fn usage(err: impl Into<anyhow::Error>) -> Failure {
        Failure::Usage(err.into())
    }

    pub fn failed(err: impl Into<anyhow::Error>) -> Failure {
        Failure::Failed(err.into())
    }

    /// The error, whatever its exit status.
    pub fn into_error(self) -> anyhow::Error {
        match self {
            Failure::Usage(err) | Failure::Failed(err) => err,
            Failure::Logged(_) => anyhow::anyhow!("the error was written to the log"),
        }
    }

    /// The exit status it ends the command with.
    pub fn code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Failed(_) => 1,
            Failure::Logged(code) => *code,
        }
    }

    /// Prints the error on one line (`kube6: what failed: why: why`) and returns the exit code.
    pub fn report(self) -> ExitCode {
        let code = self.code();
        match self {
            Failure::Usage(err) | Failure::Failed(err) => crate::output::error(&*err),
            Failure::Logged(_) => {}
        }
        ExitCode::from(code)
    }
}

/// `outer: inner: innermost`, the way the causes read best on one line.
///
/// The workspace's rule is that a message says what failed and its `#[source]` says why, so that
/// each cause is printed once, here. Errors of other crates do not all follow it (kube-rs writes
/// `failed to read kubeconfig from ...: {0}` and also returns `{0}` as the source): a cause whose
/// text the line already holds is not repeated. A cause written over several lines (serde-saphyr
/// adds a snippet of the input under its message) contributes its first line: the error stays
/// one line.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = String::new();
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self.0);
        while let Some(err) = cause {
            let full = err.to_string();
            let text = full.lines().next().unwrap_or_default().trim_end();
            if line.is_empty() {
                line = text.to_string();
            } else if !text.is_empty() && !line.contains(text) {
                line.push_str(": ");
                line.push_str(text);
            }
            cause = err.source();
        }
        f.write_str(&line)
    }
}

pub type CommandResult = Result<Status, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        /// Follows the rule: what failed, the source says why.
        #[error("cannot read missing.json")]
        Read(#[source] std::io::Error),
        /// Breaks it, as some other crates' errors do.
        #[error("failed to read kubeconfig: {0}")]
        Repeats(#[source] std::io::Error),
        #[error("error: line 3 column 11: unclosed bracket\n --> <input>:3:11\n  |")]
        Snippet,
    }

    fn not_found() -> std::io::Error {
        std::io::Error::from_raw_os_error(2)
    }

    #[test]
    fn each_cause_once() {
        let err = anyhow::Error::new(Outer::Read(not_found()));
        assert_eq!(
            Chain(&*err).to_string(),
            "cannot read missing.json: No such file or directory (os error 2)"
        );
        let err = anyhow::Error::new(Outer::Repeats(not_found())).context("cannot use ctx");
        assert_eq!(
            Chain(&*err).to_string(),
            "cannot use ctx: failed to read kubeconfig: No such file or directory (os error 2)"
        );
        let err = anyhow::Error::new(Outer::Snippet).context("cannot read the kubeconfig k");
        assert_eq!(
            Chain(&*err).to_string(),
            "cannot read the kubeconfig k: error: line 3 column 11: unclosed bracket"
        );
    }
}
