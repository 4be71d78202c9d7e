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
}

impl Failure {
    pub fn usage(err: impl Into<anyhow::Error>) -> Failure {
        Failure::Usage(err.into())
    }

    pub fn failed(err: impl Into<anyhow::Error>) -> Failure {
        Failure::Failed(err.into())
    }

    /// Prints the error as one line per cause and returns the exit code.
    pub fn report(self) -> ExitCode {
        let (err, code) = match self {
            Failure::Usage(err) => (err, 2),
            Failure::Failed(err) => (err, 1),
        };
        eprintln!("kube6: {}", Chain(&err));
        ExitCode::from(code)
    }
}

/// `outer: inner: innermost`, the way the causes read best on one line.
struct Chain<'a>(&'a anyhow::Error);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for cause in self.0.chain() {
            if !first {
                f.write_str(": ")?;
            }
            write!(f, "{cause}")?;
            first = false;
        }
        Ok(())
    }
}

pub type CommandResult = Result<Status, Failure>;
