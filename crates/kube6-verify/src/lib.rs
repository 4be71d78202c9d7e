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

use std::io::Read;
use std::path::{Path, PathBuf};

use kube6_fs::Limit;

pub use check::{Check, Finding, Report, Status, verify};
pub use dump::DumpError;
pub use expect::Expectations;
pub use snapshot::Snapshot;

/// How much of one dump kube6 reads unless told otherwise. A kubectl dump of a cluster at
/// Kubernetes' own limits (5,000 nodes, 150,000 pods) is one to two gigabytes; dumps are
/// streamed, so memory does not grow with this limit.
pub const DUMP_LIMIT: Limit = Limit {
    bytes: 4 << 30,
    what: "a dump",
    raise: Some("--max-dump-size SIZE or KUBE6_MAX_DUMP_SIZE"),
};

/// A dump file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not a regular file, too large, or an I/O error.
    #[error(transparent)]
    Input(#[from] kube6_fs::ReadError),
    #[error("cannot read {file} as a kubectl dump")]
    Dump {
        file: String,
        #[source]
        source: DumpError,
    },
}

/// Reads one dump file (`-`: standard input), at most `limit` bytes of it: streamed in chunks
/// and parsed on every core. What the streaming reader does not take (a single object, broken
/// JSON) is parsed as one document, reading on from where the streaming reader stopped, which
/// also places an error at its line and column; a file is read again from its start when items
/// were already consumed.
pub fn read_dump(path: &Path, limit: &Limit) -> Result<Snapshot, ReadError> {
    let input = kube6_fs::read::open(path)?;
    input.check_size(limit)?;
    let name = input.name().to_string();
    let stdin = kube6_fs::read::is_stdin(path);
    let mut reader = input.bounded(*limit);
    let dump_error = |source| ReadError::Dump {
        file: name.clone(),
        source,
    };
    // Standard input cannot be read twice: scan it exactly, so that a batch that does not
    // parse is broken input rather than a cut in the wrong place.
    match stream::read(&mut reader, stdin) {
        Ok(snapshot) => Ok(snapshot),
        Err(stream::StreamError::Io(e)) => Err(kube6_fs::ReadError::from_io(&name, e).into()),
        Err(stream::StreamError::Fallback(head)) => {
            let whole = std::io::Cursor::new(head).chain(&mut reader);
            let parsed = dump::parse_reader(whole);
            over_limit(&name, &reader, limit)?;
            parsed.map_err(dump_error)
        }
        Err(stream::StreamError::Consumed) if stdin => Err(dump_error(DumpError::Broken)),
        Err(stream::StreamError::Consumed) => read_dump_whole(path, limit),
    }
}

/// A reader that stopped at the limit makes the parser fail; say why.
fn over_limit<R: Read>(
    name: &str,
    reader: &kube6_fs::read::Bounded<R>,
    limit: &Limit,
) -> Result<(), ReadError> {
    if reader.count() > limit.bytes {
        return Err(kube6_fs::ReadError::TooLarge {
            name: name.to_string(),
            limit: *limit,
        }
        .into());
    }
    Ok(())
}

/// Reads one dump file as one document (at most `limit` bytes), without holding its bytes.
pub fn read_dump_whole(path: &Path, limit: &Limit) -> Result<Snapshot, ReadError> {
    let input = kube6_fs::read::open(path)?;
    input.check_size(limit)?;
    let name = input.name().to_string();
    let mut reader = input.bounded(*limit);
    let parsed = dump::parse_reader(&mut reader);
    over_limit(&name, &reader, limit)?;
    parsed.map_err(|source| ReadError::Dump { file: name, source })
}

/// Reads dump files (one cluster split over several files) into one snapshot.
pub fn read_dumps(paths: &[PathBuf], limit: &Limit) -> Result<Snapshot, ReadError> {
    let mut snapshot = Snapshot::default();
    for path in paths {
        snapshot.merge(read_dump(path, limit)?);
    }
    Ok(snapshot)
}
