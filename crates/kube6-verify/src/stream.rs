//! Reading a large JSON dump without holding it in memory, on every core.
//!
//! The input is read in chunks; a scanner that knows only JSON's strings and brackets finds the
//! `items` array of each top-level object (several documents may follow one another, as `cat`
//! joins `kubectl get -o json` outputs) and cuts it into batches of whole items, and worker
//! threads parse the batches (as `[item, item, ...]`) into lean objects. Memory stays at a few
//! chunks plus the snapshot, whatever the size of the input.
//!
//! Anything the scanner does not expect (YAML, a top-level array, broken JSON) is left to the
//! whole-document parser, which also gives the exact line and column of an error.

use std::io::Read;
use std::sync::{Mutex, mpsc};

use crate::dump::{self, RawObject};
use crate::snapshot::Snapshot;

const CHUNK: usize = 4 << 20;
const BATCH: usize = 2 << 20;
const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// Why the streaming reader gave up (the caller then parses the whole document).
#[derive(Debug)]
pub(crate) enum StreamError {
    Io(std::io::Error),
    /// Not the shape the scanner handles, or not valid: parse the whole document instead.
    Fallback,
}

#[derive(PartialEq, Eq, Clone, Copy, Debug)]
enum Phase {
    /// Between top-level documents (or before the first).
    Between,
    /// Inside a top-level object, before its `items` array.
    Header,
    /// Inside the `items` array.
    Items,
    /// After the `items` array, inside the object.
    Suffix,
}

/// Scanner state that survives chunk boundaries.
struct Scanner {
    phase: Phase,
    depth: u32,
    in_string: bool,
    escape: bool,
    /// Where the current depth-1 string started (in the buffer), to compare with "items".
    string_start: usize,
    last_string_was_items: bool,
    colon_after_items: bool,
}

/// One top-level document, without its items: `{"apiVersion": ..., "items": [], "kind": ...}`,
/// or the whole object when it has no `items` array.
struct Document {
    outer: Vec<u8>,
    had_items: bool,
}

/// A batch of items to parse: document number, batch number within it, `[item, ...]`.
type Batch = (usize, usize, Vec<u8>);

/// Parsed batches: document and batch number, its objects, and the objects that lack a `kind`
/// or `apiVersion` and wait for their list's.
type Parsed = (usize, usize, Snapshot, Vec<RawObject>);

pub(crate) fn read<R: Read>(input: R) -> Result<Snapshot, StreamError> {
    read_sized(input, CHUNK, BATCH)
}

fn read_sized<R: Read>(mut input: R, chunk: usize, batch: usize) -> Result<Snapshot, StreamError> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let (tx, rx) = mpsc::sync_channel::<Batch>(workers * 2);
    let rx = Mutex::new(rx);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| scope.spawn(|| parse_batches(&rx)))
            .collect();
        let docs = scan(&mut input, &tx, chunk, batch);
        drop(tx);
        let mut parts = Vec::new();
        let mut ok = true;
        for handle in handles {
            match handle.join() {
                Ok(Some(p)) => parts.extend(p),
                _ => ok = false,
            }
        }
        let docs = docs?;
        if !ok || docs.is_empty() {
            return Err(StreamError::Fallback);
        }
        parts.sort_by_key(|p| (p.0, p.1));
        let mut parts = parts.into_iter().peekable();
        let mut snapshot = Snapshot::default();
        for (index, doc) in docs.into_iter().enumerate() {
            let raw: RawObject =
                serde_json::from_slice(&doc.outer).map_err(|_| StreamError::Fallback)?;
            if !doc.had_items {
                // A single object, or a document without items: as the whole parser takes it.
                dump::add_document(&mut snapshot, raw).map_err(|_| StreamError::Fallback)?;
                continue;
            }
            let item_kind = raw
                .kind
                .as_deref()
                .unwrap_or("")
                .strip_suffix("List")
                .unwrap_or("")
                .to_string();
            let api_version = raw.api_version.clone().unwrap_or_default();
            let mut pending = Vec::new();
            while let Some((_, _, part, waiting)) = parts.next_if(|p| p.0 == index) {
                snapshot.append(part);
                pending.extend(waiting);
            }
            for item in pending {
                dump::add(&mut snapshot, item, &item_kind, &api_version);
            }
        }
        Ok(snapshot)
    })
}

fn parse_batches(rx: &Mutex<mpsc::Receiver<Batch>>) -> Option<Vec<Parsed>> {
    let mut out = Vec::new();
    let mut failed = false;
    loop {
        let message = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return None,
        };
        let Ok((doc, index, bytes)) = message else {
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
                    if item.kind.is_some() && item.api_version.is_some() {
                        dump::add(&mut part, item, "", "");
                    } else {
                        waiting.push(item);
                    }
                }
                out.push((doc, index, part, waiting));
            }
            Err(_) => failed = true,
        }
    }
    (!failed).then_some(out)
}

/// Reads and scans the input, sending batches of items; returns the documents without them.
///
/// Two ways to find where items end. Indented output (kubectl's) puts every item's closing
/// brace on a line of its own at the indentation of its opening brace; strings cannot hold a
/// raw newline, so searching for that line (a fast substring search) finds item ends without
/// looking at every byte. Compact output is scanned byte by byte, keeping track of strings and
/// brackets. Either way a batch is only accepted when it parses as an array of whole objects,
/// so a cut in the wrong place cannot go unnoticed (the caller then parses the whole input).
fn scan<R: Read>(
    input: &mut R,
    tx: &mpsc::SyncSender<Batch>,
    chunk: usize,
    batch_size: usize,
) -> Result<Vec<Document>, StreamError> {
    let mut s = Scanner {
        phase: Phase::Between,
        depth: 0,
        in_string: false,
        escape: false,
        string_start: 0,
        last_string_was_items: false,
        colon_after_items: false,
    };
    let mut docs: Vec<Document> = Vec::new();
    // Set once the first item of a document shows that it is indented: "\n" + indentation + "}".
    let mut item_end_line: Option<Vec<u8>> = None;
    let mut undecided = false;
    // The current document's bytes outside its items.
    let mut outer = Vec::new();
    let mut buf: Vec<u8> = Vec::with_capacity(chunk * 2);
    // In `buf`: where the current document starts (Header), where the batch being built starts
    // (Items), where the suffix not yet moved to `outer` starts (Suffix).
    let mut doc_start = 0usize;
    let mut batch_start = 0usize;
    let mut suffix_start = 0usize;
    let mut batches = 0usize;
    let mut at_start = true;
    let send = |doc: usize, bytes: &[u8], batches: &mut usize| -> Result<(), StreamError> {
        let bytes = strip_comma(bytes);
        if bytes.trim_ascii().is_empty() {
            return Ok(());
        }
        let mut batch = Vec::with_capacity(bytes.len() + 2);
        batch.push(b'[');
        batch.extend_from_slice(bytes);
        batch.push(b']');
        tx.send((doc, *batches, batch))
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
        let eof = n == 0;
        'chunk: while pos < buf.len() {
            if s.phase == Phase::Between {
                if at_start {
                    // A UTF-8 byte-order mark (PowerShell's `Out-File -Encoding utf8`).
                    if buf.len() < UTF8_BOM.len() && !eof {
                        break 'chunk;
                    }
                    if buf.starts_with(UTF8_BOM) {
                        pos = UTF8_BOM.len();
                    }
                    at_start = false;
                    continue;
                }
                match buf[pos] {
                    b' ' | b'\n' | b'\r' | b'\t' => pos += 1,
                    b'{' => {
                        s.phase = Phase::Header;
                        s.depth = 1;
                        s.in_string = false;
                        s.escape = false;
                        s.last_string_was_items = false;
                        s.colon_after_items = false;
                        doc_start = pos;
                        batches = 0;
                        item_end_line = None;
                        undecided = false;
                        outer.clear();
                        pos += 1;
                    }
                    // YAML, a top-level array, or not JSON at all.
                    _ => return Err(StreamError::Fallback),
                }
                continue;
            }
            if s.phase == Phase::Items
                && let Some(line) = &item_end_line
            {
                // Indented: jump from one closing line to the next.
                let Some(k) = memchr::memmem::find(&buf[pos..], line) else {
                    // Search again from where a split pattern could start.
                    pos = buf.len().saturating_sub(line.len()).max(pos);
                    break 'chunk;
                };
                let close = pos + k + line.len() - 1;
                let Some(next) = buf[close + 1..]
                    .iter()
                    .position(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
                else {
                    // The next token is in the next chunk.
                    pos += k;
                    break 'chunk;
                };
                let next = close + 1 + next;
                match buf[next] {
                    b',' if close + 1 - batch_start >= batch_size => {
                        send(docs.len(), &buf[batch_start..=close], &mut batches)?;
                        batch_start = close + 1;
                    }
                    b']' => {
                        send(docs.len(), &buf[batch_start..=close], &mut batches)?;
                        // The `]` closes the items: back to the object's own level.
                        s.phase = Phase::Suffix;
                        s.depth = 1;
                        suffix_start = next;
                        pos = next + 1;
                        continue;
                    }
                    // Not an item's end after all (the parser will tell if it was).
                    _ => {}
                }
                pos = close + 1;
                continue;
            }
            if s.in_string {
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
                            if s.depth == 1 && s.phase == Phase::Header {
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
                        outer.extend_from_slice(&buf[doc_start..=pos]);
                        batch_start = pos + 1;
                        undecided = true;
                    } else if undecided && s.phase == Phase::Items && s.depth == 2 && b == b'{' {
                        undecided = false;
                        // An item on a line of its own: the output is indented.
                        let line_start = buf[..pos]
                            .iter()
                            .rposition(|c| *c == b'\n')
                            .filter(|&nl| nl >= batch_start.saturating_sub(1));
                        if let Some(nl) = line_start
                            && buf[nl + 1..pos].iter().all(|c| *c == b' ')
                        {
                            let mut line = vec![b'\n'];
                            line.extend_from_slice(&buf[nl + 1..pos]);
                            line.push(b'}');
                            item_end_line = Some(line);
                            pos += 1;
                            continue 'chunk;
                        }
                    }
                    s.depth += 1;
                    s.colon_after_items = false;
                    s.last_string_was_items = false;
                }
                b'}' | b']' => {
                    s.depth = s.depth.checked_sub(1).ok_or(StreamError::Fallback)?;
                    match s.phase {
                        Phase::Items => {
                            if s.depth == 2 && b == b'}' {
                                if pos + 1 - batch_start >= batch_size {
                                    send(docs.len(), &buf[batch_start..=pos], &mut batches)?;
                                    // The next batch starts with the separating comma.
                                    batch_start = pos + 1;
                                }
                            } else if s.depth == 1 {
                                if b != b']' {
                                    return Err(StreamError::Fallback);
                                }
                                send(docs.len(), &buf[batch_start..pos], &mut batches)?;
                                s.phase = Phase::Suffix;
                                // The suffix starts with this `]`.
                                suffix_start = pos;
                            }
                        }
                        Phase::Header if s.depth == 0 => {
                            if b != b'}' {
                                return Err(StreamError::Fallback);
                            }
                            // A document without an items array: kept whole.
                            docs.push(Document {
                                outer: buf[doc_start..=pos].to_vec(),
                                had_items: false,
                            });
                            s.phase = Phase::Between;
                        }
                        Phase::Suffix if s.depth == 0 => {
                            if b != b'}' {
                                return Err(StreamError::Fallback);
                            }
                            outer.extend_from_slice(&buf[suffix_start..=pos]);
                            docs.push(Document {
                                outer: std::mem::take(&mut outer),
                                had_items: true,
                            });
                            s.phase = Phase::Between;
                        }
                        _ => {}
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
        // Drop what has been dealt with: a document's header is kept whole until its items
        // start (it is small; a document without items stays here entirely), the unfinished
        // batch is kept, the suffix is moved out.
        let keep_from = match s.phase {
            Phase::Between => pos,
            Phase::Header => doc_start,
            Phase::Items => batch_start,
            Phase::Suffix => {
                outer.extend_from_slice(&buf[suffix_start..pos]);
                suffix_start = pos;
                pos
            }
        };
        if keep_from > 0 {
            buf.drain(..keep_from);
            pos -= keep_from;
            s.string_start = s.string_start.saturating_sub(keep_from);
            doc_start = doc_start.saturating_sub(keep_from);
            batch_start = batch_start.saturating_sub(keep_from);
            suffix_start = suffix_start.saturating_sub(keep_from);
        }
        // A header (or an object without items) or a suffix that never ends would grow without
        // bound: such a document is parsed the ordinary way (which has its own limit).
        let cap = 64 * chunk.max(CHUNK);
        if (s.phase == Phase::Header && buf.len() > cap) || outer.len() > cap {
            return Err(StreamError::Fallback);
        }
        if eof {
            break;
        }
    }
    if s.phase != Phase::Between {
        // The input ends inside a document.
        return Err(StreamError::Fallback);
    }
    Ok(docs)
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

    /// Streamed where the scanner can, whole where it cannot: always the whole parser's result.
    fn agrees(text: &str) {
        let streamed = match read_sized(text.as_bytes(), 7, 300) {
            Ok(s) => s,
            Err(_) => dump::parse(text.as_bytes()).unwrap(),
        };
        assert_eq!(streamed, dump::parse(text.as_bytes()).unwrap());
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
        let odd = r#"{"kind": "List", "note": "items [ { \" ] }", "items": [
            {"kind": "Pod", "metadata": {"name": "a]}\"{", "namespace": "x", "labels": {"items": "["}},
             "status": {"podIPs": [{"ip": "10.0.0.1"}]}},
            {"kind": "Deployment", "metadata": {"name": "d"}}
        ], "metadata": {"resourceVersion": ""}}"#;
        same(&odd.replace('\n', ""));
        // Indented, but items do not close on lines of their own: the whole parser decides.
        agrees(odd);
        // The API server: kind first, no kind on the items.
        let api = r#"{"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": [
            {"metadata": {"name": "n1"}}, {"metadata": {"name": "n2"}}]}"#;
        same(&api.replace('\n', ""));
        agrees(api);
        // kubectl's order: items before kind.
        same(
            r#"{"apiVersion": "v1", "items": [{"metadata": {"name": "n1"}}], "kind": "NodeList"}"#,
        );
        same(r#"{"kind": "List", "items": []}"#);
        same(r#"{"kind": "Pod", "metadata": {"name": "p", "namespace": "d"}}"#);
    }

    #[test]
    fn streams_documents_joined_one_after_the_other() {
        let shape = Shape::dual_ipv6_first();
        let items = shape.list()["items"].as_array().unwrap().clone();
        let (nodes, rest): (Vec<_>, Vec<_>) = items.into_iter().partition(|i| i["kind"] == "Node");
        // `kubectl get nodes -o json` (items without their own kind, as the API server sends
        // them), then `kubectl get pods,services,endpointslices -A -o json`.
        let nodes = serde_json::json!({"apiVersion": "v1", "kind": "NodeList", "metadata": {},
            "items": nodes.iter().map(|n| {
                let mut n = n.clone();
                n.as_object_mut().unwrap().remove("kind");
                n.as_object_mut().unwrap().remove("apiVersion");
                n
            }).collect::<Vec<_>>()});
        let rest = crate::synth::list(rest);
        let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap();
        for joined in [
            format!("{}\n{}\n", pretty(&nodes), pretty(&rest)),
            format!("{}{}", nodes, rest),
            format!("\u{feff}{}\n\n{}", pretty(&nodes), rest),
            format!(
                "{}\n{}\n{}",
                rest,
                r#"{"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "x", "namespace": "y"}}"#,
                pretty(&nodes)
            ),
        ] {
            same(&joined);
            let s = read(joined.as_bytes()).unwrap();
            assert_eq!(s.nodes.len(), 4);
            assert!(s.pods.len() >= 20);
        }
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
            r#"{"kind": "List", "items": []} ["#,
            r#"{"kind": "List", "items": []} {"kind": "Pod""#,
        ] {
            let (streamed, whole) = both(text);
            assert!(matches!(streamed, Err(StreamError::Fallback)), "{text}");
            assert!(whole.is_err(), "{text}");
        }
    }
}
