//! Cluster verification: checks whether a running cluster (or a kubectl dump of one) is the
//! cluster its plan describes.
//!
//! The flow is one way: a [`Snapshot`] of Nodes, Pods, Services, EndpointSlices and the CNI's
//! IPAM objects is read from dump files ([`read_dumps`], [`dump::parse`]) or a live cluster (the
//! `live` feature), the [`Expectations`] come from a plan ([`Expectations::from_analysis`]) or
//! from the cluster itself ([`Expectations::infer`]), and [`verify`] runs every check of the
//! [`catalog`] as a pure function over the two.
//!
//! ```
//! use kube6_verify::{Expectations, Status, dump, synth::Shape, verify};
//!
//! let text = Shape::dual_ipv6_first().list().to_string();
//! let snapshot = dump::parse(text.as_bytes()).unwrap();
//! let report = verify(&snapshot, &Expectations::infer(&snapshot, None));
//! assert_eq!(report.status, Status::Pass);
//! assert_eq!(report.summary.pods.dual, 20 - 4);
//! ```

pub mod catalog;
pub mod check;
mod distro;
pub mod dump;
pub mod encoding;
pub mod expect;
pub mod ipam;
#[cfg(feature = "live")]
pub mod live;
pub mod snapshot;
mod stream;
pub mod synth;

<<<<<<< HEAD
use std::io::Read;
=======
use std::io::{Read, Seek, SeekFrom};
>>>>>>> main
use std::path::{Path, PathBuf};

use kube6_fs::Limit;

pub use check::{Check, Finding, Report, Status, verify};
pub use dump::DumpError;
pub use expect::Expectations;
pub use snapshot::Snapshot;

<<<<<<< HEAD
/// How much of one dump kube6 reads unless told otherwise. A kubectl dump of a cluster at
/// Kubernetes' own limits (5,000 nodes, 150,000 pods) is one to two gigabytes; dumps are
/// streamed, so memory does not grow with this limit.
pub const DUMP_LIMIT: Limit = Limit {
    bytes: 4 << 30,
    what: "a dump",
    raise: Some("--max-dump-size SIZE or KUBE6_MAX_DUMP_SIZE"),
};
=======
/// The largest dump read whole into memory (one the streaming reader cannot take: YAML, a
/// single object, broken JSON whose error must be placed). kubectl Lists of any size stream.
pub const MAX_WHOLE_DUMP_BYTES: u64 = 4 << 30;
>>>>>>> main

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
    #[error(
        "cannot read {file}: larger than {} GiB, and not a JSON list kube6 can read in a stream",
        MAX_WHOLE_DUMP_BYTES >> 30
    )]
    TooLarge { file: PathBuf },
}

<<<<<<< HEAD
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
=======
/// Reads one dump file (`-`: standard input, read whole).
pub fn read_dump(path: &Path) -> Result<Snapshot, ReadError> {
    let io = |source| ReadError::Io {
        file: path.to_path_buf(),
        source,
    };
    if path == Path::new("-") {
        // Standard input (`kubectl get ... -o json | kube6 verify --dump -`) cannot be read
        // twice, so it is read whole.
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_WHOLE_DUMP_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_WHOLE_DUMP_BYTES {
            return Err(ReadError::TooLarge {
                file: path.to_path_buf(),
            });
        }
        return read_dump_bytes(path, &bytes);
    }
    let file = std::fs::File::open(path).map_err(io)?;
    read_dump_from(path, file)
}

/// Reads one dump from `input` (an open file), named `name` in errors: JSON Lists are streamed
/// in chunks and parsed on every core; anything else (YAML, a single object, broken JSON) is read
/// again from the start and parsed whole, which also places any error at its line and column.
pub fn read_dump_from<R: Read + Seek>(name: &Path, mut input: R) -> Result<Snapshot, ReadError> {
    let io = |source| ReadError::Io {
        file: name.to_path_buf(),
        source,
    };
    match stream::read(&mut input) {
        Ok(snapshot) => return Ok(snapshot),
        Err(stream::StreamError::Io(e)) => return Err(io(e)),
        Err(stream::StreamError::Fallback) => {}
    }
    input.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut bytes = Vec::new();
    input
        .take(MAX_WHOLE_DUMP_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_WHOLE_DUMP_BYTES {
        return Err(ReadError::TooLarge {
            file: name.to_path_buf(),
        });
    }
    parse_named(name, &bytes)
}

/// Reads one dump already in memory (standard input, say), named `name` in errors.
pub fn read_dump_bytes(name: &Path, bytes: &[u8]) -> Result<Snapshot, ReadError> {
    match stream::read(bytes) {
        Ok(snapshot) => Ok(snapshot),
        Err(_) => parse_named(name, bytes),
    }
}

fn parse_named(name: &Path, bytes: &[u8]) -> Result<Snapshot, ReadError> {
    dump::parse(bytes).map_err(|source| ReadError::Dump {
        file: name.to_path_buf(),
        source,
    })
}

/// Reads one dump file into memory and parses it as one document.
pub fn read_dump_whole(path: &Path) -> Result<Snapshot, ReadError> {
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    parse_named(path, &bytes)
>>>>>>> main
}

/// Reads dump files (one cluster split over several files) into one snapshot.
pub fn read_dumps(paths: &[PathBuf], limit: &Limit) -> Result<Snapshot, ReadError> {
    let mut snapshot = Snapshot::default();
    for path in paths {
        snapshot.merge(read_dump(path, limit)?);
    }
    Ok(snapshot)
}
