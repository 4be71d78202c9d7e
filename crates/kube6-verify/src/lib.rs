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

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use kube6_fs::Limit;

pub use check::{Check, Finding, Report, Status, verify};
pub use dump::DumpError;
pub use expect::Expectations;
pub use snapshot::Snapshot;

/// How much of one dump kube6 reads unless told otherwise. A kubectl dump of a cluster at
/// Kubernetes' own limits (5,000 nodes, 150,000 pods) is one to two gigabytes; JSON lists are
/// streamed, so memory does not grow with this limit for them.
pub const DUMP_LIMIT: Limit = Limit {
    bytes: 4 << 30,
    what: "a dump",
    raise: Some("--max-dump-size SIZE or KUBE6_MAX_DUMP_SIZE"),
};

/// The largest dump read whole into memory (one the streaming reader cannot take: YAML, a
/// single object, broken JSON whose error must be placed, or standard input). kubectl Lists in
/// files stream, whatever their size.
pub const MAX_WHOLE_DUMP_BYTES: u64 = 4 << 30;

/// How much of standard input is looked at before the rest is read: enough to refuse what is
/// not a dump at all (`yes`, zeros, binary) before it costs memory.
const SNIFF_BYTES: usize = 64 << 10;

/// A dump file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not a regular file, larger than its limit, or an I/O error.
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
    TooLarge { file: String },
}

/// Reads one dump file (`-`: standard input), at most `limit` bytes of it. Anything but a
/// regular file is refused before it is opened.
pub fn read_dump(path: &Path, limit: &Limit) -> Result<Snapshot, ReadError> {
    let input = kube6_fs::read::open(path)?;
    input.check_size(limit)?;
    let name = input.name().to_string();
    if kube6_fs::read::is_stdin(path) {
        return read_stdin(&name, input.bounded(*limit));
    }
    read_dump_from(&name, input.bounded(*limit))
}

/// Standard input cannot be read twice, so it is read whole (as far as the limit allows), but
/// only after its first bytes show that it can be a dump: an endless stream of something else
/// is refused at once.
fn read_stdin<R: Read>(
    name: &str,
    mut input: kube6_fs::read::Bounded<R>,
) -> Result<Snapshot, ReadError> {
    let io = |e| ReadError::from(kube6_fs::ReadError::from_io(name, e));
    let mut bytes = Vec::new();
    (&mut input)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() == SNIFF_BYTES
        && let Some(reason) = dump::not_a_dump(&bytes)
    {
        return Err(ReadError::Dump {
            file: name.to_string(),
            source: reason,
        });
    }
    input
        .take(MAX_WHOLE_DUMP_BYTES + 1 - bytes.len() as u64)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_WHOLE_DUMP_BYTES {
        return Err(ReadError::TooLarge {
            file: name.to_string(),
        });
    }
    read_dump_bytes(name, &bytes)
}

/// Reads one dump from `input` (an open file), named `name` in errors: JSON Lists are streamed
/// in chunks and parsed on every core; anything else (YAML, a single object, broken JSON) is read
/// again from the start and parsed whole, which also places any error at its line and column.
pub fn read_dump_from<R: Read + Seek>(name: &str, mut input: R) -> Result<Snapshot, ReadError> {
    let io = |e| ReadError::from(kube6_fs::ReadError::from_io(name, e));
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
            file: name.to_string(),
        });
    }
    parse_named(name, &bytes)
}

/// Reads one dump already in memory (standard input, say), named `name` in errors.
pub fn read_dump_bytes(name: &str, bytes: &[u8]) -> Result<Snapshot, ReadError> {
    match stream::read(bytes) {
        Ok(snapshot) => Ok(snapshot),
        Err(_) => parse_named(name, bytes),
    }
}

fn parse_named(name: &str, bytes: &[u8]) -> Result<Snapshot, ReadError> {
    dump::parse(bytes).map_err(|source| ReadError::Dump {
        file: name.to_string(),
        source,
    })
}

/// Reads one dump file into memory (at most `limit` bytes) and parses it as one document.
pub fn read_dump_whole(path: &Path, limit: &Limit) -> Result<Snapshot, ReadError> {
    let (name, bytes) = kube6_fs::read::bytes(path, limit)?;
    parse_named(&name, &bytes)
}

/// Reads dump files (one cluster split over several files) into one snapshot.
pub fn read_dumps(paths: &[PathBuf], limit: &Limit) -> Result<Snapshot, ReadError> {
    let mut snapshot = Snapshot::default();
    for path in paths {
        snapshot.merge(read_dump(path, limit)?);
    }
    Ok(snapshot)
}
