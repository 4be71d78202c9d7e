//! Bounded reads of regular files and standard input.
//!
//! A path is checked before it is opened: anything but a regular file (after following
//! symbolic links, which users make on purpose) is refused, so a FIFO cannot block the reader
//! and a device cannot feed it forever; opening a device node can itself have effects (a
//! watchdog starts counting), so it is never opened. The file is then opened with `O_NONBLOCK`
//! and `O_NOCTTY` and checked again through its descriptor: if the path was swapped between the
//! check and the open, the second check sees it. Standard input (`-`) is whatever the caller
//! piped in, so only the byte limit applies to it.
//!
//! Every read stops at the limit plus one byte: the extra byte tells a file of exactly the limit
//! from a longer one without reading the rest.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use rustix::fs::{Mode, OFlags};

use crate::FileKind;
use crate::size::human;

/// How much of one kind of input kube6 reads, and how to read more where that makes sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The most bytes read.
    pub bytes: u64,
    /// What is read, for the message: "a configuration file", "a dump".
    pub what: &'static str,
    /// How to raise the limit ("--max-dump-size SIZE or KUBE6_MAX_DUMP_SIZE"), where it can be.
    pub raise: Option<&'static str>,
}

impl Limit {
    /// The same limit with another number of bytes (from a flag or the environment).
    pub fn with_bytes(self, bytes: u64) -> Limit {
        Limit { bytes, ..self }
    }
}

/// An input that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {name}")]
    Io {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("{name} is {}{kind}; kube6 reads regular files (or standard input, as -)",
            if *.via_link { "a symbolic link to " } else { "" })]
    NotRegular {
        name: String,
        kind: FileKind,
        /// The path is a symbolic link to it.
        via_link: bool,
    },
    #[error("{name} was replaced while it was being opened; nothing was read")]
    Replaced { name: String },
    #[error("{name} is larger than {}, the most kube6 reads of {}{}", human(.limit.bytes), .limit.what,
            .limit.raise.map(|r| format!(" (raise it with {r})")).unwrap_or_default())]
    TooLarge { name: String, limit: Limit },
    #[error("{name} is not text: {reason}")]
    NotText { name: String, reason: String },
}

impl ReadError {
    /// The input's name as shown to people.
    pub fn name(&self) -> &str {
        match self {
            ReadError::Io { name, .. }
            | ReadError::NotRegular { name, .. }
            | ReadError::Replaced { name }
            | ReadError::TooLarge { name, .. }
            | ReadError::NotText { name, .. } => name,
        }
    }

    /// An I/O error while reading `name`; a [`Bounded`] reader's limit becomes [`ReadError::TooLarge`].
    pub fn from_io(name: &str, err: io::Error) -> ReadError {
        if let Some(exceeded) = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<LimitExceeded>())
        {
            return ReadError::TooLarge {
                name: name.to_string(),
                limit: exceeded.0,
            };
        }
        ReadError::Io {
            name: name.to_string(),
            source: err,
        }
    }
}

/// How a path is shown: `-` is standard input.
pub fn display_name(path: &Path) -> String {
    if is_stdin(path) {
        "standard input".to_string()
    } else {
        path.display().to_string()
    }
}

/// True for `-`, the conventional name of standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// An open input: a regular file or standard input.
#[derive(Debug)]
pub struct Input {
    name: String,
    source: Source,
    /// The file's size when it is a regular file.
    size: Option<u64>,
}

#[derive(Debug)]
enum Source {
    File(File),
    Stdin(io::Stdin),
}

impl Input {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The size on disk, for regular files (0 for files such as those in /proc that have none).
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Refuses a regular file whose size is already over `limit`, without reading it.
    pub fn check_size(&self, limit: &Limit) -> Result<(), ReadError> {
        match self.size {
            Some(size) if size > limit.bytes => Err(ReadError::TooLarge {
                name: self.name.clone(),
                limit: *limit,
            }),
            _ => Ok(()),
        }
    }

    /// This input, reading at most `limit` bytes.
    pub fn bounded(self, limit: Limit) -> Bounded<Input> {
        Bounded::new(self, limit)
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.source {
            Source::File(f) => f.read(buf),
            Source::Stdin(s) => s.read(buf),
        }
    }
}

impl io::Seek for Input {
    /// Regular files seek; standard input cannot.
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        match &mut self.source {
            Source::File(f) => f.seek(pos),
            Source::Stdin(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "standard input cannot be read twice",
            )),
        }
    }
}

/// Opens `path` for reading (`-`: standard input), refusing anything but a regular file.
pub fn open(path: &Path) -> Result<Input, ReadError> {
    let name = display_name(path);
    if is_stdin(path) {
        return Ok(Input {
            name,
            source: Source::Stdin(io::stdin()),
            size: None,
        });
    }
    let io_error = |source| ReadError::Io {
        name: name.clone(),
        source,
    };
    // Follows symbolic links: a link to a configuration file is what its owner meant.
    let before = std::fs::metadata(path).map_err(io_error)?;
    let kind = FileKind::of_metadata(&before);
    if kind != FileKind::Regular {
        let via_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        return Err(ReadError::NotRegular {
            name,
            kind,
            via_link,
        });
    }
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| io_error(e.into()))?;
    let file = File::from(fd);
    let after = file.metadata().map_err(io_error)?;
    let kind = FileKind::of_metadata(&after);
    if kind != FileKind::Regular {
        return Err(ReadError::Replaced { name });
    }
    use std::os::unix::fs::MetadataExt;
    if (before.dev(), before.ino()) != (after.dev(), after.ino()) {
        return Err(ReadError::Replaced { name });
    }
    Ok(Input {
        name,
        size: Some(after.len()),
        source: Source::File(file),
    })
}

/// Reads all of `path` (`-`: standard input), at most `limit` bytes.
pub fn bytes(path: &Path, limit: &Limit) -> Result<(String, Vec<u8>), ReadError> {
    let input = open(path)?;
    input.check_size(limit)?;
    let name = input.name.clone();
    let capacity = input.size.unwrap_or(0).min(limit.bytes) as usize;
    let mut buf = Vec::with_capacity(capacity);
    input
        .take(limit.bytes.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| ReadError::from_io(&name, e))?;
    if buf.len() as u64 > limit.bytes {
        return Err(ReadError::TooLarge {
            name,
            limit: *limit,
        });
    }
    Ok((name, buf))
}

/// A text input: its name as shown to people and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub name: String,
    pub text: String,
}

/// Reads `path` (`-`: standard input) as text, at most `limit` bytes; see [`decode`].
pub fn text(path: &Path, limit: &Limit) -> Result<Text, ReadError> {
    let (name, bytes) = bytes(path, limit)?;
    let text = decode(&bytes).map_err(|reason| ReadError::NotText {
        name: name.clone(),
        reason,
    })?;
    Ok(Text { name, text })
}

/// Text as YAML readers take it: UTF-8, with or without a byte-order mark (dropped), or UTF-16
/// with one (YAML 1.2 §5.2, which Go's yaml readers and kube-rs follow). Binary data and UTF-8
/// errors are refused with the offset (and line) where they start.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    match bytes {
        [0x00, 0x00, 0xFE, 0xFF, ..] | [0xFF, 0xFE, 0x00, 0x00, ..] => {
            Err("UTF-32, which kube6 does not read; save the file as UTF-8".to_string())
        }
        [0xEF, 0xBB, 0xBF, rest @ ..] => utf8(rest, 3),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => utf8(bytes, 0),
    }
}

fn utf8(bytes: &[u8], skipped: usize) -> Result<String, String> {
    if let Some(nul) = bytes.iter().position(|b| *b == 0) {
        let utf16_hint = if looks_like_utf16(bytes) {
            " (UTF-16 without a byte-order mark? save it as UTF-8)"
        } else {
            ""
        };
        return Err(format!(
            "binary data (a NUL byte at offset {}, line {}){utf16_hint}",
            nul + skipped,
            line_at(bytes, nul)
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => Err(format!(
            "not UTF-8 (an invalid byte at offset {}, line {})",
            e.valid_up_to() + skipped,
            line_at(bytes, e.valid_up_to())
        )),
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, String> {
    if !bytes.len().is_multiple_of(2) {
        return Err("UTF-16 with an odd number of bytes (the file is cut off)".to_string());
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let text: String = char::decode_utf16(units)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            format!(
                "invalid UTF-16 (an unpaired surrogate {:#06x})",
                e.unpaired_surrogate()
            )
        })?;
    if let Some(nul) = text.find('\0') {
        return Err(format!(
            "binary data (a NUL character at line {})",
            line_at(text.as_bytes(), nul)
        ));
    }
    Ok(text)
}

/// ASCII text saved as UTF-16 has a zero in every other byte.
fn looks_like_utf16(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(64) & !1];
    sample.len() >= 4
        && (sample.chunks_exact(2).all(|c| c[1] == 0 && c[0] != 0)
            || sample.chunks_exact(2).all(|c| c[0] == 0 && c[1] != 0))
}

fn line_at(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset].iter().filter(|b| **b == b'\n').count() + 1
}

/// A reader that fails once more than the limit has been read, with an error
/// [`ReadError::from_io`] turns into [`ReadError::TooLarge`].
#[derive(Debug)]
pub struct Bounded<R> {
    inner: R,
    limit: Limit,
    read: u64,
}

impl<R: io::Seek> io::Seek for Bounded<R> {
    /// Moves in the input; the limit counts from the new position (reading a file again from
    /// its start may read it whole again).
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let at = self.inner.seek(pos)?;
        self.read = at;
        Ok(at)
    }
}

/// The error a [`Bounded`] reader returns past its limit.
#[derive(Debug)]
struct LimitExceeded(Limit);

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "more than {} of {}", human(self.0.bytes), self.0.what)
    }
}

impl std::error::Error for LimitExceeded {}

impl<R: Read> Bounded<R> {
    pub fn new(inner: R, limit: Limit) -> Bounded<R> {
        Bounded {
            inner,
            limit,
            read: 0,
        }
    }

    /// Bytes read so far.
    pub fn count(&self) -> u64 {
        self.read
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // One byte more than the limit may be asked for: reading it proves the input is longer.
        let room = (self.limit.bytes + 1).saturating_sub(self.read);
        if room == 0 {
            return Err(io::Error::other(LimitExceeded(self.limit)));
        }
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        // The byte past the limit is handed over; the next read fails.
        let n = self.inner.read(&mut buf[..want])?;
        self.read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SMALL: Limit = Limit {
        bytes: 16,
        what: "a test file",
        raise: None,
    };

    #[test]
    fn regular_files_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, "0123456789abcdef").unwrap();
        let text = text(&path, &SMALL).unwrap();
        assert_eq!(text.text, "0123456789abcdef");
        std::fs::write(&path, "0123456789abcdefg").unwrap();
        let err = bytes(&path, &SMALL).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!(
                "{} is larger than 16 bytes, the most kube6 reads of a test file",
                path.display()
            )
        );
    }

    #[test]
    fn files_that_grow_are_cut_at_the_limit() {
        // /proc files report size 0; the limit is enforced on the bytes read.
        let limit = Limit { bytes: 8, ..SMALL };
        let err = bytes(Path::new("/proc/self/status"), &limit).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn non_regular_files_are_refused_without_opening_them() {
        let dir = tempfile::tempdir().unwrap();
        let err = bytes(dir.path(), &SMALL).unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::NotRegular {
                    kind: FileKind::Directory,
                    ..
                }
            ),
            "{err}"
        );
        let err = bytes(Path::new("/dev/zero"), &SMALL).unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::NotRegular {
                    kind: FileKind::CharacterDevice,
                    ..
                }
            ),
            "{err}"
        );
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let err = bytes(&link, &SMALL).unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::NotRegular {
                    kind: FileKind::CharacterDevice,
                    ..
                }
            ),
            "{err}"
        );
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let err = bytes(&fifo, &SMALL).unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::NotRegular {
                    kind: FileKind::Fifo,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().ends_with(
            "is a named pipe (FIFO); kube6 reads regular files (or standard input, as -)"
        ));
        let err = bytes(&dir.path().join("missing"), &SMALL).unwrap_err();
        assert!(matches!(err, ReadError::Io { .. }), "{err}");
    }

    #[test]
    fn decoding() {
        assert_eq!(decode(b"a: 1\n").unwrap(), "a: 1\n");
        assert_eq!(decode(b"\xEF\xBB\xBFa: 1\n").unwrap(), "a: 1\n");
        let utf16le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a: 1\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16le).unwrap(), "a: 1\n");
        let utf16be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("a: é\n".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&utf16be).unwrap(), "a: é\n");
        let bare: Vec<u8> = "apiVersion: v1\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let err = decode(&bare).unwrap_err();
        assert!(err.contains("UTF-16 without a byte-order mark"), "{err}");
        let err = decode(b"a: 1\nb: \xFF\n").unwrap_err();
        assert_eq!(err, "not UTF-8 (an invalid byte at offset 8, line 2)");
        let err = decode(b"\x7fELF\x02\x01\x01\x00").unwrap_err();
        assert!(
            err.starts_with("binary data (a NUL byte at offset 7, line 1)"),
            "{err}"
        );
        assert!(decode(&[0xFF, 0xFE, 0x00, 0x00]).is_err());
        assert!(decode(&[0xFF, 0xFE, 0x41]).is_err());
    }

    #[test]
    fn bounded_readers_stop_one_byte_past_the_limit() {
        let endless = std::io::repeat(b'y');
        let mut reader = Bounded::new(endless, SMALL);
        let mut sink = Vec::new();
        let err = reader.read_to_end(&mut sink).unwrap_err();
        assert_eq!(sink.len(), 17);
        assert!(matches!(
            ReadError::from_io("-", err),
            ReadError::TooLarge { .. }
        ));
        let mut exact = Bounded::new(&b"0123456789abcdef"[..], SMALL);
        let mut sink = Vec::new();
        exact.read_to_end(&mut sink).unwrap();
        assert_eq!(exact.count(), 16);
    }
}
