//! Reading a large dump without holding it in memory, on every core.
//!
//! The file is read in chunks; a scanner that knows only JSON's strings and brackets finds the
//! `items` array of the top-level object and cuts it into batches of whole items, and worker
//! threads parse the batches (as `[item, item, ...]`) into lean objects. Memory stays at a few
//! chunks plus the snapshot, whatever the size of the file.
//!
//! Anything the scanner does not expect (no top-level `items`, broken JSON) is left to the
//! whole-document parser, which also gives the exact line and column of an error.

use std::io::Read;
use std::sync::{Mutex, mpsc};

use crate::dump::{self, RawObject};
use crate::snapshot::Snapshot;

const CHUNK: usize = 4 << 20;
const BATCH: usize = 2 << 20;

/// Why the streaming reader gave up (the caller then parses the whole document).
#[derive(Debug)]
pub(crate) enum StreamError {
    Io(std::io::Error),
    /// Not the shape the scanner handles, or not valid: parse the whole document instead.
    Fallback,
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Phase {
    /// Inside the top-level object, before its `items` array.
    Header,
    /// Inside the `items` array.
    Items,
    /// After the `items` array.
    Suffix,
}

/// Scanner state that survives chunk boundaries.
struct Scanner {
    phase: Phase,
    depth: u32,
    in_string: bool,
    escape: bool,
    /// Where the current depth-1 string started (absolute, in the buffer), to compare with "items".
    string_start: usize,
    last_string_was_items: bool,
    colon_after_items: bool,
}

/// Parsed batches: the batch number and its objects; objects without a `kind` wait for the
/// list's.
type Parsed = (usize, Snapshot, Vec<RawObject>);

pub(crate) fn read<R: Read>(input: R) -> Result<Snapshot, StreamError> {
    read_sized(input, CHUNK, BATCH)
}

fn read_sized<R: Read>(mut input: R, chunk: usize, batch: usize) -> Result<Snapshot, StreamError> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let (tx, rx) = mpsc::sync_channel::<(usize, Vec<u8>)>(workers * 2);
    let rx = Mutex::new(rx);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| scope.spawn(|| parse_batches(&rx)))
            .collect();
        let outer = scan(&mut input, &tx, chunk, batch);
        drop(tx);
        let mut parts = Vec::new();
        let mut ok = true;
        for handle in handles {
            match handle.join() {
                Ok(Some(p)) => parts.extend(p),
                _ => ok = false,
            }
        }
        let outer = outer?;
        if !ok {
            return Err(StreamError::Fallback);
        }
        // The document around the items (`{"apiVersion": ..., "items": [], "kind": ...}`).
        let doc: RawObject = serde_json::from_slice(&outer).map_err(|_| StreamError::Fallback)?;
        if parts.is_empty() && doc.items.as_ref().is_none_or(|i| !i.is_empty()) {
            // A single object or a document without items: the ordinary parser handles it.
            return dump::parse(&outer).map_err(|_| StreamError::Fallback);
        }
        let list_kind = doc.kind.as_deref().unwrap_or("");
        let item_kind = list_kind.strip_suffix("List").unwrap_or("");
        parts.sort_by_key(|p| p.0);
        let mut snapshot = Snapshot::default();
        let mut pending = Vec::new();
        for (_, part, waiting) in parts {
            snapshot.nodes.extend(part.nodes);
            snapshot.pods.extend(part.pods);
            snapshot.services.extend(part.services);
            snapshot.endpoint_slices.extend(part.endpoint_slices);
            snapshot.ignored += part.ignored;
            pending.extend(waiting);
        }
        for item in pending {
            dump::add(&mut snapshot, item, item_kind);
        }
        Ok(snapshot)
    })
}

fn parse_batches(rx: &Mutex<mpsc::Receiver<(usize, Vec<u8>)>>) -> Option<Vec<Parsed>> {
    let mut out = Vec::new();
    let mut failed = false;
    loop {
        let message = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return None,
        };
        let Ok((index, bytes)) = message else {
            break;
        };
        if failed {
            // Keep draining so that the reader never blocks on a full channel.
            continue;
        }
        match serde_json::from_slice::<Vec<RawObject>>(&bytes) {
            Ok(items) => {
                let mut part = Snapshot::default();
                let mut waiting = Vec::new();
                for item in items {
                    if item.kind.is_some() {
                        dump::add(&mut part, item, "");
                    } else {
                        waiting.push(item);
                    }
                }
                out.push((index, part, waiting));
            }
            Err(_) => failed = true,
        }
    }
    (!failed).then_some(out)
}

/// Reads and scans the input, sending batches of items; returns the document without them.
fn scan<R: Read>(
    input: &mut R,
    tx: &mpsc::SyncSender<(usize, Vec<u8>)>,
    chunk: usize,
    batch_size: usize,
) -> Result<Vec<u8>, StreamError> {
    let mut s = Scanner {
        phase: Phase::Header,
        depth: 0,
        in_string: false,
        escape: false,
        string_start: 0,
        last_string_was_items: false,
        colon_after_items: false,
    };
    let mut outer = Vec::new();
    let mut buf: Vec<u8> = Vec::with_capacity(chunk * 2);
    // In `buf`: where the batch being built starts.
    let mut batch_start = 0usize;
    let mut batches = 0usize;
    let send = |bytes: &[u8], batches: &mut usize| -> Result<(), StreamError> {
        let bytes = strip_comma(bytes);
        if bytes.trim_ascii().is_empty() {
            return Ok(());
        }
        let mut batch = Vec::with_capacity(bytes.len() + 2);
        batch.push(b'[');
        batch.extend_from_slice(bytes);
        batch.push(b']');
        tx.send((*batches, batch))
            .map_err(|_| StreamError::Fallback)?;
        *batches += 1;
        Ok(())
    };
    let mut pos = 0usize;
    loop {
        let old = buf.len();
        buf.resize(old + chunk, 0);
        let n = loop {
            match input.read(&mut buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(StreamError::Io(e)),
            }
        };
        buf.truncate(old + n);
        if n == 0 {
            break;
        }
        while pos < buf.len() {
            if s.in_string {
                // Jump to the next quote or backslash.
                if s.escape {
                    s.escape = false;
                    pos += 1;
                    continue;
                }
                match memchr::memchr2(b'"', b'\\', &buf[pos..]) {
                    None => pos = buf.len(),
                    Some(k) => {
                        pos += k;
                        if buf[pos] == b'\\' {
                            s.escape = true;
                        } else {
                            s.in_string = false;
                            if s.depth == 1 {
                                s.last_string_was_items = &buf[s.string_start..pos] == b"items";
                            }
                        }
                        pos += 1;
                    }
                }
                continue;
            }
            let b = buf[pos];
            match b {
                b' ' | b'\n' | b'\r' | b'\t' => {}
                b'"' => {
                    s.in_string = true;
                    s.string_start = pos + 1;
                }
                b'{' | b'[' => {
                    if s.depth == 1 && b == b'[' && s.colon_after_items && s.phase == Phase::Header
                    {
                        s.phase = Phase::Items;
                        outer.extend_from_slice(&buf[..=pos]);
                        batch_start = pos + 1;
                    }
                    s.depth += 1;
                    s.colon_after_items = false;
                    s.last_string_was_items = false;
                }
                b'}' | b']' => {
                    s.depth = s.depth.checked_sub(1).ok_or(StreamError::Fallback)?;
                    if s.phase == Phase::Items {
                        if s.depth == 2 && b == b'}' {
                            if pos + 1 - batch_start >= batch_size {
                                send(&buf[batch_start..=pos], &mut batches)?;
                                // The next batch starts with the separating comma.
                                batch_start = pos + 1;
                            }
                        } else if s.depth == 1 {
                            if b != b']' {
                                return Err(StreamError::Fallback);
                            }
                            send(&buf[batch_start..pos], &mut batches)?;
                            s.phase = Phase::Suffix;
                            // The suffix starts with this `]`.
                            outer.extend_from_slice(&buf[pos..=pos]);
                            batch_start = pos + 1;
                        }
                    }
                    s.last_string_was_items = false;
                    s.colon_after_items = false;
                }
                b':' if s.depth == 1 => {
                    s.colon_after_items = s.last_string_was_items;
                    s.last_string_was_items = false;
                }
                _ => {
                    if s.depth == 1 {
                        s.last_string_was_items = false;
                        s.colon_after_items = false;
                    }
                }
            }
            pos += 1;
        }
        // Drop what has been dealt with, keeping the unfinished batch (items) or nothing else.
        let keep_from = match s.phase {
            Phase::Header => {
                // The header is kept whole in `buf` until the items start (it is small); a
                // document without items stays here entirely and goes to the ordinary parser.
                0
            }
            Phase::Items => batch_start,
            Phase::Suffix => {
                outer.extend_from_slice(&buf[batch_start..]);
                buf.len()
            }
        };
        if keep_from > 0 {
            buf.drain(..keep_from);
            pos -= keep_from;
            s.string_start = s.string_start.saturating_sub(keep_from);
            batch_start -= keep_from.min(batch_start);
        }
        // A header that never ends would grow without bound: a single huge object is parsed
        // the ordinary way.
        if s.phase == Phase::Header && buf.len() > 64 * chunk.max(CHUNK) {
            return Err(StreamError::Fallback);
        }
    }
    match s.phase {
        Phase::Header => Ok(buf),
        Phase::Items => Err(StreamError::Fallback),
        Phase::Suffix => Ok(outer),
    }
}

/// A batch cut after an item starts with `,` (the separator before the next item).
fn strip_comma(bytes: &[u8]) -> &[u8] {
    let trimmed = bytes.trim_ascii_start();
    trimmed.strip_prefix(b",").unwrap_or(trimmed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::dump::DumpError;
    use crate::synth::Shape;

    fn both(text: &str) -> (Result<Snapshot, StreamError>, Result<Snapshot, DumpError>) {
        let whole = dump::parse(text.as_bytes());
        let streamed = read_sized(text.as_bytes(), 7, 300);
        (streamed, whole)
    }

    fn same(text: &str) {
        let (streamed, whole) = both(text);
        assert_eq!(streamed.unwrap(), whole.unwrap(), "{text}");
        // And with the real sizes.
        assert_eq!(
            read(text.as_bytes()).unwrap(),
            dump::parse(text.as_bytes()).unwrap()
        );
    }

    #[test]
    fn streams_every_shape_like_the_whole_parser() {
        for shape in [Shape::ipv4(), Shape::dual_ipv6_first()] {
            same(&shape.list().to_string());
            same(&serde_json::to_string_pretty(&shape.list()).unwrap());
            let mut text = Vec::new();
            shape.write(&mut text).unwrap();
            same(std::str::from_utf8(&text).unwrap());
        }
    }

    #[test]
    fn strings_with_brackets_and_lists_without_kinds() {
        same(
            r#"{"kind": "List", "note": "items [ { \" ] }", "items": [
            {"kind": "Pod", "metadata": {"name": "a]}\"{", "namespace": "x", "labels": {"items": "["}},
             "status": {"podIPs": [{"ip": "10.0.0.1"}]}},
            {"kind": "Deployment", "metadata": {"name": "d"}}
        ], "metadata": {"resourceVersion": ""}}"#,
        );
        // The API server: kind first, no kind on the items.
        same(
            r#"{"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": [
            {"metadata": {"name": "n1"}}, {"metadata": {"name": "n2"}}]}"#,
        );
        // kubectl's order: items before kind.
        same(
            r#"{"apiVersion": "v1", "items": [{"metadata": {"name": "n1"}}], "kind": "NodeList"}"#,
        );
        same(r#"{"kind": "List", "items": []}"#);
        same(r#"{"kind": "Pod", "metadata": {"name": "p", "namespace": "d"}}"#);
    }

    #[test]
    fn leaves_broken_documents_to_the_whole_parser() {
        for text in [
            r#"{"kind": "List", "items": [{"kind": "Pod"}, 5]}"#,
            r#"{"kind": "List", "items": [{"kind": "Pod"}"#,
            r#"{"kind": "List", "items": [{"kind": "Pod"}]"#,
            r#"{"kind": "List", "items": [{"kind": "Pod"}]}}"#,
            r#"[1, 2]"#,
            "not json",
        ] {
            let (streamed, whole) = both(text);
            assert!(matches!(streamed, Err(StreamError::Fallback)), "{text}");
            assert!(whole.is_err(), "{text}");
        }
    }
}
