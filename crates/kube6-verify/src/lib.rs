//! Cluster verification: checks whether a running cluster (or a kubectl dump of one) is the
//! cluster its plan describes.
//!
//! The flow is one way: a [`Snapshot`] of Nodes, Pods, Services and EndpointSlices is read from
//! dump files ([`read_dumps`], [`dump::parse`]) or a live cluster (the `live` feature), the
//! [`Expectations`] come from a plan ([`Expectations::from_plan`]) or from the cluster itself
//! ([`Expectations::infer`]), and [`verify`] runs every check as a pure function over the two.
//!
//! ```
//! use kube6_verify::{Expectations, Status, dump, synth::Shape, verify};
//!
//! let text = Shape::dual_ipv6_first().list().to_string();
//! let snapshot = dump::parse(text.as_bytes()).unwrap();
//! let report = verify(&snapshot, &Expectations::infer(&snapshot));
//! assert_eq!(report.status, Status::Pass);
//! assert_eq!(report.summary.pods.dual, 20 - 4);
//! ```

pub mod check;
pub mod dump;
pub mod expect;
#[cfg(feature = "live")]
pub mod live;
pub mod snapshot;
mod stream;
pub mod synth;

use std::path::{Path, PathBuf};

pub use check::{Check, Finding, Report, Status, verify};
pub use dump::DumpError;
pub use expect::Expectations;
pub use snapshot::Snapshot;

/// A dump file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {file}")]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {file} as a kubectl dump")]
    Dump {
        file: PathBuf,
        #[source]
        source: DumpError,
    },
}

/// Reads one dump file (`-`: standard input): streamed in chunks and parsed on every core; a file the streaming
/// reader does not take (a single object, broken JSON) is parsed whole, which also places any
/// error at its line and column.
pub fn read_dump(path: &Path) -> Result<Snapshot, ReadError> {
    let io = |source| ReadError::Io {
        file: path.to_path_buf(),
        source,
    };
    if path == Path::new("-") {
        // Standard input (`kubectl get ... -o json | kube6 verify --dump -`) cannot be read
        // twice, so it is read whole.
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes).map_err(io)?;
        return dump::parse(&bytes).map_err(|source| ReadError::Dump {
            file: path.to_path_buf(),
            source,
        });
    }
    let file = std::fs::File::open(path).map_err(io)?;
    match stream::read(file) {
        Ok(snapshot) => return Ok(snapshot),
        Err(stream::StreamError::Io(e)) => return Err(io(e)),
        Err(stream::StreamError::Fallback) => {}
    }
    read_dump_whole(path)
}

/// Reads one dump file into memory and parses it as one document.
pub fn read_dump_whole(path: &Path) -> Result<Snapshot, ReadError> {
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    dump::parse(&bytes).map_err(|source| ReadError::Dump {
        file: path.to_path_buf(),
        source,
    })
}

/// Reads dump files (one cluster split over several files) into one snapshot.
pub fn read_dumps(paths: &[PathBuf]) -> Result<Snapshot, ReadError> {
    let mut snapshot = Snapshot::default();
    for path in paths {
        snapshot.merge(read_dump(path)?);
    }
    Ok(snapshot)
}
